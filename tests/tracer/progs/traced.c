/*
 * traced.c — the program the lifecycle tests trace: one mode per promise of the shim
 * (see preload/src/lifecycle.c), each creating an exact, known set of contexts.
 *
 *   tracer_traced fork                  fork() 4 times while 2 threads create contexts
 *   tracer_traced exit-thread           exit(7) from a thread while others run
 *   tracer_traced return                return 5 from main
 *   tracer_traced signals               create 50 contexts, print "ready PID", wait for a
 *                                       signal (default actions)
 *   tracer_traced signals-app           the same with the program's own SIGTERM handler,
 *                                       which makes main exit(9)
 *   tracer_traced signal-early          print "ready PID" first thing, then wait for a signal
 *   tracer_traced sigkill               100 contexts, "ready PID", then churn forever
 *   tracer_traced exec HOW TARGET       2 contexts, then exec TARGET through HOW (execv,
 *                                       execve, execl, execle, execvp)
 *   tracer_traced env                   1 context; print LD_PRELOAD
 *   tracer_traced exit N                1 context; exit(N)
 *   tracer_traced abort                 1 context; abort()
 *   tracer_traced chdir                 chdir("/"), then 3 contexts
 *
 * Every context is created on a line marked "@site:NAME": the tests find the line by
 * that marker. Nothing here sleeps to synchronize: barriers, semaphores and pipes.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctxtrace/ctx.h>

extern char **environ;

static const char key; /* the value key: compared by address */

/* Contexts deliberately left live at exit are kept here: reachable, as a long-lived
 * object's would be (LeakSanitizer stays quiet in the ASan build). */
static ctx_t *kept[128];
static int nkept;

static ctx_t *keep(ctx_t *c)
{
    if (nkept < (int)(sizeof kept / sizeof *kept))
        kept[nkept++] = c;
    return c;
}
#define HOUR (3600 * CTX_SECOND)

static ctx_t *must(ctx_t *c)
{
    if (c == NULL) {
        perror("tracer_traced: creating a context");
        exit(99);
    }
    return c;
}

static _Noreturn void wait_forever(void)
{
    for (;;)
        pause();
}

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg); /* @site:thread-create */
    if (rc != 0) {
        fprintf(stderr, "tracer_traced: pthread_create: %s\n", strerror(rc));
        exit(99);
    }
}

/* ---- fork ----------------------------------------------------------------------------- */

enum { FORK_THREADS = 2, FORK_CHURN = 20000, FORKS = 4, FORK_BEFORE = 3, FORK_AFTER = 2 };

static ctx_t *fork_shared;
static pthread_barrier_t fork_started;

static void *fork_churn(void *arg)
{
    (void)arg;
    for (int i = 0; i < FORK_CHURN; i++) {
        ctx_t *c = must(ctx_with_cancel(fork_shared)); /* @site:fork-churn */
        if (i == 0)
            pthread_barrier_wait(&fork_started);
        ctx_release(c);
    }
    return NULL;
}

/* In the child: contexts of its own only, derived from the root (the inherited ones
 * belong to the parent's trace). */
static int fork_child(int k)
{
    int n = 5 + k;
    for (int j = 0; j < n; j++) {
        ctx_t *c = must(ctx_with_timeout(ctx_background(), HOUR)); /* @site:fork-child */
        ctx_release(c);
    }
    printf("child %d %d: %d contexts\n", k, (int)getpid(), n);
    return 0;
}

static int mode_fork(void)
{
    fork_shared = must(ctx_with_cancel(ctx_background())); /* @site:fork-shared */
    ctx_t *before[FORK_BEFORE];
    for (int i = 0; i < FORK_BEFORE; i++)
        before[i] = must(ctx_with_value(fork_shared, &key, NULL, NULL)); /* @site:fork-before */

    pthread_barrier_init(&fork_started, NULL, FORK_THREADS + 1);
    pthread_t threads[FORK_THREADS];
    for (int i = 0; i < FORK_THREADS; i++)
        start(&threads[i], fork_churn, NULL);
    pthread_barrier_wait(&fork_started); /* both threads are creating contexts now */

    pid_t kids[FORKS];
    for (int k = 0; k < FORKS; k++) {
        fflush(stdout);
        kids[k] = fork();
        if (kids[k] < 0) {
            perror("fork");
            return 1;
        }
        if (kids[k] == 0)
            exit(fork_child(k));
        printf("forked %d %d\n", k, (int)kids[k]);
    }
    int bad = 0;
    for (int k = 0; k < FORKS; k++) {
        int status;
        if (waitpid(kids[k], &status, 0) != kids[k] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            printf("child %d ended badly (status %#x)\n", k, status);
            bad = 1;
        }
    }
    for (int i = 0; i < FORK_AFTER; i++) {
        ctx_t *c = must(ctx_with_cancel(fork_shared)); /* @site:fork-after */
        ctx_release(c);
    }
    for (int i = 0; i < FORK_THREADS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < FORK_BEFORE; i++)
        ctx_unref(before[i]);
    ctx_release(fork_shared);
    printf("parent %d: done\n", (int)getpid());
    return bad;
}

/* ---- exit() from a thread -------------------------------------------------------------- */

enum { EXIT_WAITERS = 3, EXIT_PER_WAITER = 2, EXIT_CHURN_MIN = 1000 };

static ctx_t *exit_parent;
static pthread_barrier_t exit_ready;
static atomic_long churned;
static sem_t churn_going;

static void *exit_waiter(void *arg)
{
    (void)arg;
    ctx_t *mine[EXIT_PER_WAITER];
    for (int i = 0; i < EXIT_PER_WAITER; i++)
        mine[i] = must(ctx_with_cancel(exit_parent)); /* @site:exit-waiter */
    pthread_barrier_wait(&exit_ready);
    ctx_wait(mine[0], -1); /* nobody cancels it: blocked until the process ends */
    return NULL;
}

static void *exit_churn(void *arg)
{
    (void)arg;
    for (;;) {
        ctx_t *c = must(ctx_with_timeout(ctx_background(), HOUR)); /* @site:exit-churn */
        ctx_release(c);
        if (atomic_fetch_add(&churned, 1) + 1 == EXIT_CHURN_MIN)
            sem_post(&churn_going);
    }
    return NULL;
}

static void *exit_exiter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&exit_ready); /* every waiter has created its contexts */
    while (sem_wait(&churn_going) != 0 && errno == EINTR) {
    }
    ctx_t *a = keep(must(ctx_with_cancel(exit_parent))); /* @site:exit-exiter */
    keep(must(ctx_with_value(a, &key, NULL, NULL))); /* @site:exit-exiter-value */
    long n = atomic_load(&churned); /* all of these were created before the exit */
    printf("exiting from a thread; churned at least %ld\n", n);
    fflush(stdout);
    exit(7);
}

static int mode_exit_thread(void)
{
    exit_parent = must(ctx_with_cancel(ctx_background())); /* @site:exit-parent */
    sem_init(&churn_going, 0, 0);
    pthread_barrier_init(&exit_ready, NULL, EXIT_WAITERS + 1);
    pthread_t t;
    for (int i = 0; i < EXIT_WAITERS; i++)
        start(&t, exit_waiter, NULL);
    start(&t, exit_churn, NULL);
    pthread_t exiter;
    start(&exiter, exit_exiter, NULL);
    pthread_join(exiter, NULL); /* never returns: the exiter ends the process */
    return 1;
}

/* ---- return from main ------------------------------------------------------------------- */

static void *ret_worker(void *arg)
{
    ctx_t *parent = arg;
    for (int i = 0; i < 3; i++) {
        ctx_t *c = must(ctx_with_deadline(parent, ctx_now() + HOUR)); /* @site:ret-worker */
        ctx_release(c);
    }
    return NULL;
}

static int mode_return(void)
{
    ctx_t *a = keep(must(ctx_with_cancel(ctx_background()))); /* @site:ret-a */
    ctx_t *t = keep(must(ctx_with_timeout(a, HOUR))); /* @site:ret-timeout */
    ctx_t *v = keep(must(ctx_with_value(t, &key, strdup("value"), free))); /* @site:ret-value */
    ctx_t *w = must(ctx_without_cancel(v)); /* @site:ret-without */
    ctx_unref(w);
    pthread_t workers[2];
    for (int i = 0; i < 2; i++)
        start(&workers[i], ret_worker, a);
    for (int i = 0; i < 2; i++)
        pthread_join(workers[i], NULL);
    printf("returning 5 from main with a, t and v live\n");
    return 5; /* a, t (timer armed) and v are still live */
}

/* ---- signals ----------------------------------------------------------------------------- */

enum { SIG_THREADS = 2, SIG_PER_THREAD = 10, SIG_MAIN_EACH = 10 };

static pthread_barrier_t sig_ready;
static int sig_pipe[2];

static void *sig_thread(void *arg)
{
    (void)arg;
    ctx_t *mine[SIG_PER_THREAD];
    for (int i = 0; i < SIG_PER_THREAD; i++)
        mine[i] = must(ctx_with_cancel(ctx_background())); /* @site:sig-thread */
    pthread_barrier_wait(&sig_ready);
    ctx_wait(mine[0], -1);
    return NULL;
}

static void on_term(int sig)
{
    char c = (char)sig;
    if (write(sig_pipe[1], &c, 1) != 1)
        _exit(98);
}

static int mode_signals(bool own_handler)
{
    if (own_handler) {
        if (pipe(sig_pipe) != 0)
            return 99;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_term;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
    }
    pthread_barrier_init(&sig_ready, NULL, SIG_THREADS + 1);
    pthread_t t;
    for (int i = 0; i < SIG_THREADS; i++)
        start(&t, sig_thread, NULL);
    for (int i = 0; i < SIG_MAIN_EACH; i++) {
        ctx_t *c = must(ctx_with_cancel(ctx_background())); /* @site:sig-main-cancel */
        ctx_release(c);
        keep(must(ctx_with_timeout(ctx_background(), HOUR))); /* @site:sig-main-timeout */
        keep(must(ctx_with_value(ctx_background(), &key, NULL, NULL))); /* @site:sig-main-value */
    }
    pthread_barrier_wait(&sig_ready);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    if (own_handler) {
        char c;
        while (read(sig_pipe[0], &c, 1) != 1) {
        }
        printf("got signal %d; exiting 9\n", c);
        exit(9);
    }
    wait_forever();
}

/* ---- SIGKILL ---------------------------------------------------------------------------- */

static void *kill_churn(void *arg)
{
    (void)arg;
    for (;;) {
        ctx_t *c = must(ctx_with_timeout(ctx_background(), HOUR)); /* @site:kill-churn */
        ctx_release(c);
    }
    return NULL;
}

static int mode_sigkill(void)
{
    for (int i = 0; i < 100; i++)
        keep(must(ctx_with_cancel(ctx_background()))); /* @site:kill-batch */
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    pthread_t t;
    start(&t, kill_churn, NULL); /* keeps the writer committing until the kill */
    wait_forever();
}

/* ---- exec -------------------------------------------------------------------------------- */

static int mode_exec(const char *how, const char *target)
{
    ctx_t *a = keep(must(ctx_with_cancel(ctx_background()))); /* @site:exec-a */
    ctx_t *b = must(ctx_with_timeout(a, HOUR)); /* @site:exec-b */
    ctx_release(b); /* a stays live across the exec */
    printf("exec %d %s\n", (int)getpid(), how);
    fflush(stdout);
    char *argv[] = {"tracer_exec_target", "4", NULL};
    if (strcmp(how, "execv") == 0)
        execv(target, argv);
    else if (strcmp(how, "execve") == 0)
        execve(target, argv, environ);
    else if (strcmp(how, "execl") == 0)
        execl(target, "tracer_exec_target", "4", (char *)NULL);
    else if (strcmp(how, "execle") == 0)
        execle(target, "tracer_exec_target", "4", (char *)NULL, environ);
    else if (strcmp(how, "execvp") == 0) {
        char *copy = strdup(target);
        execvp(basename(copy), argv); /* found on PATH */
    } else {
        fprintf(stderr, "unknown exec function %s\n", how);
        return 2;
    }
    perror("exec");
    return 120;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "fork") == 0)
        return mode_fork();
    if (strcmp(mode, "exit-thread") == 0)
        return mode_exit_thread();
    if (strcmp(mode, "return") == 0)
        return mode_return();
    if (strcmp(mode, "signals") == 0)
        return mode_signals(false);
    if (strcmp(mode, "signals-app") == 0)
        return mode_signals(true);
    if (strcmp(mode, "sigkill") == 0)
        return mode_sigkill();
    if (strcmp(mode, "exec") == 0 && argc == 4)
        return mode_exec(argv[2], argv[3]);
    if (strcmp(mode, "signal-early") == 0) {
        /* Ready at once: a signal this early may find the shim just started. */
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        wait_forever();
    }
    if (strcmp(mode, "env") == 0) {
        ctx_release(must(ctx_with_cancel(ctx_background()))); /* @site:env */
        const char *p = getenv("LD_PRELOAD");
        printf("LD_PRELOAD=%s\n", p ? p : "(unset)");
        return 0;
    }
    if (strcmp(mode, "exit") == 0 && argc == 3) {
        ctx_release(must(ctx_with_cancel(ctx_background()))); /* @site:exit-code */
        printf("exiting with %d\n", atoi(argv[2]));
        exit(atoi(argv[2]));
    }
    if (strcmp(mode, "abort") == 0) {
        ctx_release(must(ctx_with_cancel(ctx_background()))); /* @site:abort */
        fflush(stdout);
        abort();
    }
    if (strcmp(mode, "chdir") == 0) {
        if (chdir("/") != 0)
            return 98;
        for (int i = 0; i < 3; i++)
            ctx_release(must(ctx_with_cancel(ctx_background()))); /* @site:chdir */
        printf("created 3 contexts in /\n");
        return 0;
    }
    fprintf(stderr, "usage: tracer_traced MODE (see traced.c)\n");
    return 2;
}
