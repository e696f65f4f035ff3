/*
 * jobs_fixed.c — every job's context released on every path (sample_job_processor_fixed).
 *
 * Scenario: one job of the worker pool in processor.c (see there for the story and
 * main()): its own JOB_TIMEOUT context derived from the root, a validation step that
 * can fail, then the work, which the shutdown may cut short.
 *
 * The fix: CTX_AUTO, Go's `defer cancel()`, releases the job's context however run_job()
 * returns — including the early return for a job whose input is missing — so its timer
 * is stopped and it is detached from the root when the job ends. Under `ctxtrace run`
 * this variant has no findings.
 *
 * Look at: line 23, the CTX_AUTO declaration, and the validation error path at line 29
 * in run_job(); compare jobs_leaky.c.
 */
#include <errno.h>
#include <stddef.h>

#include "jobs.h"

void run_job(ctx_t *root, const struct job *job, struct job_result *out)
{
    CTX_AUTO ctx_t *ctx = ctx_with_timeout(root, JOB_TIMEOUT);
    if (ctx == NULL) {
        out->err = errno;
        return;
    }
    int err = validate_job(ctx, job);
    if (err != 0) {
        out->err = err;
        return; /* CTX_AUTO releases ctx here as well */
    }

    out->err = do_work(ctx, job);
}
