/*
 * jobs_leaky.c — a job context lost on the error path (sample_job_processor_leaky).
 *
 * Scenario: one job of the worker pool in processor.c (see there for the story and
 * main()), with the context managed by hand.
 *
 * The leak: when validation fails, run_job() only drops its reference (ctx_unref) and
 * returns. ctx_unref() never cancels: the failed job's context stays attached to the
 * root, its 10 s timer armed, until the shutdown cancels the root — in a long-running
 * processor, one more per failed job, forever (go vet's lostcancel: "this return
 * statement may be reached without using the cancel var"). The output is the same as
 * the fixed variant's and the program exits 0. ctxtrace reports lost-cancel and
 * orphaned-timer, 2 contexts each (invoice-17 and invoice-19), at the ctx_with_timeout
 * in run_job() (this file).
 *
 * Look at: line 27, the ctx_with_timeout (the site ctxtrace reports), and line 34, the
 * ctx_unref on the validation error path. The fix is ctx_release(ctx) on every path,
 * i.e. CTX_AUTO; see jobs_fixed.c.
 */
#include <errno.h>
#include <stddef.h>

#include "jobs.h"

void run_job(ctx_t *root, const struct job *job, struct job_result *out)
{
    ctx_t *ctx = ctx_with_timeout(root, JOB_TIMEOUT);
    if (ctx == NULL) {
        out->err = errno;
        return;
    }
    int err = validate_job(ctx, job);
    if (err != 0) {
        ctx_unref(ctx); /* BUG, the lost cancel: should be ctx_release(ctx) */
        out->err = err;
        return;
    }

    out->err = do_work(ctx, job);
    ctx_release(ctx);
}
