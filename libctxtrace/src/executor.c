/*
 * executor.c — the threads that run ctx_after_func callbacks.
 *
 * Go runs each AfterFunc in its own goroutine, so one slow callback never delays
 * another. The C equivalent without a thread per callback: a pool that hands each job
 * to an idle worker and starts a new worker when none is idle. Idle workers exit after
 * a few seconds, so a quiet process keeps no extra threads.
 */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

enum { IDLE_EXIT_SECONDS = 2 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static struct ctx_job *head, *tail; /* FIFO of jobs not yet taken */
static unsigned idle;               /* workers waiting that nobody has claimed */
static unsigned claimed;            /* wake-ups promised to idle workers */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void atfork_prepare(void)
{
    pthread_mutex_lock(&mu);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&mu);
}

/* The child has none of our workers: forget them. Queued jobs are run by new ones. */
static void atfork_child(void)
{
    idle = claimed = 0;
    pthread_mutex_unlock(&mu);
}

static void init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void *worker_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (head == NULL) {
            idle++;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += IDLE_EXIT_SECONDS;
            int rc = 0;
            while (claimed == 0 && rc == 0)
                rc = pthread_cond_timedwait(&cv, &mu, &until);
            if (claimed > 0) {
                claimed--; /* the submitter already took us off `idle` */
            } else {
                idle--;
                pthread_mutex_unlock(&mu);
                return NULL; /* idle for long enough */
            }
        }
        struct ctx_job *job = head;
        head = job->next;
        if (head == NULL)
            tail = NULL;
        pthread_mutex_unlock(&mu);
        job->run(job);
        pthread_mutex_lock(&mu);
    }
}

void ctx__executor_submit(struct ctx_job *job)
{
    pthread_once(&init_once, init);
    job->next = NULL;
    pthread_mutex_lock(&mu);
    if (tail != NULL)
        tail->next = job;
    else
        head = job;
    tail = job;
    if (idle > 0) {
        /* Claim one idle worker for this job so a second job submitted before it wakes
         * does not count on the same worker. */
        idle--;
        claimed++;
        pthread_cond_signal(&cv);
    } else {
        if (ctx__spawn_detached(worker_main) != 0)
            abort(); /* a callback that silently never runs would be worse */
    }
    pthread_mutex_unlock(&mu);
}
