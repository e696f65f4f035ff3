/*
 * processor.c — a job processor with graceful shutdown: the queue, the workers, main().
 *
 * Scenario: the worker-pool shutdown pattern of the Go literature (e.g. "Go Concurrency
 * Patterns: Context", and the graceful-shutdown recipes built on signal.NotifyContext):
 * one root context for the process; N workers pull jobs from a queue and run each under
 * its own timeout derived from the root; shutdown is a single cancel of the root, after
 * which every worker abandons its current job, takes no new one, and returns, and main
 * waits for all of them. Go's
 *     ctx, cancel := context.WithTimeout(root, jobTimeout)
 *     defer cancel()
 * in the job function is what keeps the finished jobs from piling up under the root.
 *
 * Here: main() derives `root` (ctx_with_cancel of ctx_background()), starts NWORKERS
 * threads and waits until every job in the queue has been taken — the last three are
 * long (a minute each), so at that point each worker is busy with one of them and every
 * quick job is finished. Then it shuts down: ctx_cancel(root), joins the workers and
 * prints how each job ended. Idle workers wait for work on a condition variable, which
 * the shutdown broadcasts after cancelling the root. run_job() is the part that differs
 * between jobs_fixed.c and jobs_leaky.c.
 *
 * Look at: the shutdown in main() — the one ctx_cancel(root) at line 139 — the worker
 * loop in worker(), and run_job() in the variant files: its error path for a job whose
 * input is missing. Determinism: every job is taken before the shutdown, so every run
 * creates the same contexts, and the same jobs finish, fail and are abandoned.
 *
 * Exit status: 0 when the quick jobs finished, the invalid ones failed validation and
 * the long ones were abandoned at shutdown with "context canceled"; 1 otherwise.
 *
 * `--forever`: the long-running processor a soak test watches (`ctxtrace soak`): the
 * workers cycle through the quick jobs (NQUICK, invalid ones included) until the process
 * is stopped by a signal. The leaky variant then leaks two job contexts, with their
 * timers, every cycle; the fixed one keeps a steady handful live.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err_text.h"
#include "jobs.h"

#define NWORKERS 3
#define QUICK (1 * CTX_MILLISECOND)
#define LONG (60 * CTX_SECOND)

static const struct job jobs[] = {
    {"thumbnail-1", "img/1.png", QUICK},  {"thumbnail-2", "img/2.png", QUICK},
    {"invoice-17", NULL, QUICK},          {"thumbnail-3", "img/3.png", QUICK},
    {"invoice-18", "inv/18.json", QUICK}, {"email-digest", "users.csv", QUICK},
    {"invoice-19", NULL, QUICK},          {"thumbnail-4", "img/4.png", QUICK},
    {"sitemap", "pages.db", QUICK},       {"reindex-products", "products.db", LONG},
    {"reindex-orders", "orders.db", LONG}, {"backup", "everything", LONG},
};
#define NJOBS (sizeof jobs / sizeof jobs[0])
#define NQUICK 9 /* the quick jobs come first: what --forever cycles through */

#define STORAGE_LATENCY (100 * CTX_MICROSECOND)

static struct job_result results[NJOBS];

/* The queue: jobs are taken in order. */
static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cv = PTHREAD_COND_INITIALIZER; /* work, or shutdown */
static pthread_cond_t taken_cv = PTHREAD_COND_INITIALIZER; /* every job taken */
static size_t next_job;
static bool forever;

int validate_job(ctx_t *ctx, const struct job *job)
{
    if (ctx_wait(ctx, STORAGE_LATENCY) != ETIMEDOUT)
        return ctx_err(ctx);
    return job->input != NULL ? 0 : ENOENT;
}

int do_work(ctx_t *ctx, const struct job *job)
{
    /* ctx_wait() gives ETIMEDOUT when the work's time passed first: the job is done. */
    return ctx_wait(ctx, job->work) == ETIMEDOUT ? 0 : ctx_err(ctx);
}

static void *worker(void *arg)
{
    ctx_t *root = arg;
    for (;;) {
        pthread_mutex_lock(&queue_mu);
        while (next_job == NJOBS && !ctx_is_done(root))
            pthread_cond_wait(&queue_cv, &queue_mu);
        if (ctx_is_done(root)) { /* shutting down: take no new job */
            pthread_mutex_unlock(&queue_mu);
            return NULL;
        }
        size_t i = next_job++;
        if (forever)
            next_job %= NQUICK; /* never reaches NJOBS: there is always work */
        else if (next_job == NJOBS)
            pthread_cond_signal(&taken_cv);
        pthread_mutex_unlock(&queue_mu);

        run_job(root, &jobs[i], &results[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--forever") != 0)) {
        fprintf(stderr, "usage: %s [--forever]\n", argv[0]);
        return 2;
    }
    forever = argc == 2;
    ctx_t *root = ctx_with_cancel(ctx_background());
    if (root == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }

    pthread_t threads[NWORKERS];
    for (int w = 0; w < NWORKERS; w++) {
        int rc = pthread_create(&threads[w], NULL, worker, root);
        if (rc != 0) {
            fprintf(stderr, "pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }

    while (forever) /* until a signal ends the process */
        pause();

    pthread_mutex_lock(&queue_mu);
    while (next_job < NJOBS)
        pthread_cond_wait(&taken_cv, &queue_mu);
    pthread_mutex_unlock(&queue_mu);
    printf("processor: all %zu jobs taken by %d workers; shutting down\n", NJOBS,
           NWORKERS);

    ctx_cancel(root); /* the one cancel: every job context below the root is now done */
    pthread_mutex_lock(&queue_mu);
    pthread_cond_broadcast(&queue_cv); /* and idle workers wake up to see it */
    pthread_mutex_unlock(&queue_mu);
    for (int w = 0; w < NWORKERS; w++)
        pthread_join(threads[w], NULL);

    int done = 0, failed = 0, abandoned = 0;
    bool ok = true;
    for (size_t i = 0; i < NJOBS; i++) {
        const struct job_result *r = &results[i];
        if (r->err == 0) {
            printf("  %-17s done\n", jobs[i].name);
            done++;
        } else if (r->err == CTX_CANCELED) {
            printf("  %-17s abandoned at shutdown: %s\n", jobs[i].name, err_text(r->err));
            abandoned++;
        } else {
            printf("  %-17s failed: %s\n", jobs[i].name, err_text(r->err));
            failed++;
        }
        bool expected = jobs[i].input == NULL ? r->err == ENOENT
                        : jobs[i].work == LONG ? r->err == CTX_CANCELED
                                               : r->err == 0;
        ok = ok && expected;
    }
    printf("processor: %d done, %d failed, %d abandoned at shutdown; "
           "all %d workers stopped\n",
           done, failed, abandoned, NWORKERS);
    ctx_release(root);
    return ok ? 0 : 1;
}
