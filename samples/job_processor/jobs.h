/*
 * jobs.h — the jobs of the job_processor sample.
 *
 * processor.c is the same in both variants: a queue of NJOBS jobs, NWORKERS worker
 * threads, and a graceful shutdown. What differs is run_job(), the code that owns each
 * job's context: it lives in jobs_fixed.c and jobs_leaky.c, so
 * `diff jobs_fixed.c jobs_leaky.c` shows the bug.
 */
#ifndef JOB_PROCESSOR_JOBS_H
#define JOB_PROCESSOR_JOBS_H

#include <stdint.h>

#include <ctxtrace/ctx.h>

/* Every job gets this long (never reached: quick jobs take a millisecond, and long ones
 * are abandoned at shutdown first). */
#define JOB_TIMEOUT (10 * CTX_SECOND)

struct job {
    const char *name;
    const char *input; /* NULL: the input is missing, the job fails validation */
    int64_t work;      /* how long the job takes once validated */
};

struct job_result {
    int err; /* 0 = done; else why it failed (validation) or stopped (ctx_err) */
};

/* Run `job` under its own JOB_TIMEOUT derived from `root`: defined by jobs_fixed.c or
 * jobs_leaky.c. Fills *out. */
void run_job(ctx_t *root, const struct job *job, struct job_result *out);

/* Check the job's input exists in storage (a simulated lookup under `ctx`): 0, ENOENT,
 * or ctx_err(ctx). */
int validate_job(ctx_t *ctx, const struct job *job);

/* Do the job's work: simulated I/O of job->work that `ctx` may cut short. 0 when the
 * work was done, else ctx_err(ctx). */
int do_work(ctx_t *ctx, const struct job *job);

#endif /* JOB_PROCESSOR_JOBS_H */
