/*
 * tracer_lifecycle.c — the shim's lifecycle promises (preload/src/lifecycle.c) and the
 * `ctxtrace run` contract, each checked on real programs with exact expectations.
 *
 *   tracer_lifecycle TEST --workdir DIR --ctxtrace PATH --shim PATH --traced PATH ...
 *
 * TEST is one of the functions in `tests[]` at the bottom; the programs it runs are in
 * progs/ (traced.c has one mode per promise). Contexts are identified by their site:
 * the line of the source marked "@site:NAME", found by reading the source.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracetest.h"

static struct {
    const char *workdir, *ctxtrace, *shim, *traced, *traced_src, *exec_target,
        *exec_target_src, *plain, *plain_static, *dlopen, *dlopen_src, *runtime, *marker,
        *stress, *early_signal;
} E;

/* ---- helpers ---------------------------------------------------------------------------- */

/* The site key of "@site:NAME" in `source`. */
static char *site_in(const char *source, const char *name)
{
    char *needle = tt_fmt("@site:%s */", name);
    char *key = tt_site_key(source, needle);
    free(needle);
    return key ? key : strdup("(site not found)");
}

static char *site(const char *name)
{
    return site_in(E.traced_src, name);
}

static int64_t count_at(sqlite3 *db, const char *key)
{
    return tt_q_int(db, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q", key);
}

/* Exactly n contexts at site `name` (of traced.c), all of `kind`. */
static void expect_at(sqlite3 *db, const char *source, const char *name, const char *kind,
                      int64_t n)
{
    char *key = site_in(source, name);
    TT_Q_EQ(db, n, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q", key);
    TT_Q_EQ(db, n, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND kind = %Q",
            key, kind);
    free(key);
}

/* Every context is at one of the sites named (NULL-terminated) in `source`. */
static void expect_only_sites(sqlite3 *db, const char *source, const char *const *names)
{
    char *list = strdup("");
    for (int i = 0; names[i] != NULL; i++) {
        char *key = site_in(source, names[i]);
        char *next = sqlite3_mprintf("%s%s%Q", list, i ? "," : "", key);
        free(list);
        list = strdup(next);
        sqlite3_free(next);
        free(key);
    }
    char *detail = tt_fmt("SELECT site(create_stack), kind, count(*) FROM contexts WHERE id > 2 "
                          "AND (site(create_stack) IS NULL OR site(create_stack) NOT IN (%s)) "
                          "GROUP BY 1, 2",
                          list);
    TT_Q_ZERO(db, detail,
              "SELECT count(*) FROM contexts WHERE id > 2 AND (site(create_stack) IS NULL OR "
              "site(create_stack) NOT IN (%s))",
              list);
    free(detail);
    free(list);
}

static char *path_in(const char *name)
{
    return tt_fmt("%s/%s", E.workdir, name);
}

/* argv for `ctxtrace run -o TRACE -- PROGRAM ARGS...` (static storage, one at a time). */
static const char **run_argv(const char *trace, const char *program, const char *const *args)
{
    static const char *v[64];
    int n = 0;
    v[n++] = E.ctxtrace;
    v[n++] = "run";
    if (trace != NULL) {
        v[n++] = "-o";
        v[n++] = trace;
    }
    v[n++] = "--";
    v[n++] = program;
    for (int i = 0; args != NULL && args[i] != NULL; i++)
        v[n++] = args[i];
    v[n] = NULL;
    return v;
}

/* Run the command to completion in the work directory, output into files there. */
static int run(const char *const *argv, const char *const *env, struct tt_output *o,
               const char *what)
{
    static int seq;
    seq++;
    char *out = tt_fmt("%s/io/%d.out", E.workdir, seq), *err = tt_fmt("%s/io/%d.err", E.workdir, seq);
    struct tt_cmd cmd = {.argv = argv, .env = env, .cwd = E.workdir, .out_path = out,
                         .err_path = err};
    int status = tt_run(&cmd, 90, o, what);
    free(out);
    free(err);
    return status;
}

/* Start the command with its stdout on a pipe (for "ready" lines). */
static bool spawn_piped(const char *const *argv, const char *const *env, struct tt_proc *p)
{
    char *err = tt_fmt("%s/io/spawned.err", E.workdir);
    struct tt_cmd cmd = {.argv = argv, .env = env, .cwd = E.workdir, .err_path = err,
                         .out_pipe = true};
    bool ok = tt_spawn(&cmd, p);
    free(err);
    return ok;
}

static char *spawned_stderr(void)
{
    char *path = tt_fmt("%s/io/spawned.err", E.workdir);
    char *s = tt_slurp(path, NULL);
    free(path);
    printf("---- stderr of the spawned command:\n%s----\n", s ? s : "");
    return s ? s : strdup("");
}

/* The .db files in the work directory, as "a.db b.db". */
static char *db_files(int *n)
{
    return tt_list_dir(E.workdir, ".db", n);
}

static int parse_pid(const char *line, const char *prefix)
{
    if (line == NULL || strncmp(line, prefix, strlen(prefix)) != 0)
        return -1;
    return atoi(line + strlen(prefix));
}

/* ---- (a) fork --------------------------------------------------------------------------- */

static void test_fork(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"fork", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), NULL, &o, "ctxtrace run tracer_traced fork");
    TT_EQ(0, tt_exit_code(status), "exit status (no deadlock; every child exited 0)");

    /* The parent's pid and its children's, from the program's output. */
    int parent = -1, kids[4] = {-1, -1, -1, -1};
    for (char *line = o.out; line != NULL && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        int k, pid;
        if (sscanf(line, "forked %d %d", &k, &pid) == 2 && k >= 0 && k < 4)
            kids[k] = pid;
        if (sscanf(line, "parent %d: done", &pid) == 1)
            parent = pid;
    }
    TT_CHECK(parent > 0, "the parent reported its pid (%d)", parent);

    /* One file per process: the parent's, and "<stem>.<childpid>.db" beside it. */
    char expected_files[1024] = "";
    char *names[5];
    int nnames = 0;
    names[nnames++] = strdup("t.db");
    for (int k = 0; k < 4; k++) {
        TT_CHECK(kids[k] > 0, "child %d reported (pid %d)", k, kids[k]);
        names[nnames++] = tt_fmt("t.%d.db", kids[k]);
    }
    /* sorted like tt_list_dir */
    for (int i = 0; i < nnames; i++)
        for (int j = i + 1; j < nnames; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (int i = 0; i < nnames; i++) {
        strcat(expected_files, i ? " " : "");
        strcat(expected_files, names[i]);
    }
    TT_STREQ(expected_files, db_files(NULL), "trace files");

    /* The parent's file: its own contexts, none of the children's. */
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    TT_Q_EQ(db, parent, "SELECT value FROM meta WHERE key = 'pid'");
    expect_at(db, E.traced_src, "fork-shared", "cancel", 1);
    expect_at(db, E.traced_src, "fork-before", "value", 3);
    expect_at(db, E.traced_src, "fork-churn", "cancel", 2 * 20000);
    expect_at(db, E.traced_src, "fork-after", "cancel", 2);
    expect_at(db, E.traced_src, "fork-child", "deadline", 0);
    TT_Q_EQ(db, 1 + 3 + 40000 + 2, "SELECT count(*) FROM contexts WHERE id > 2");
    TT_Q_ZERO(db, NULL,
              "SELECT count(*) FROM contexts WHERE id > 2 AND kind = 'cancel' AND "
              "(canceled_ns IS NULL OR freed_ns IS NULL)");
    /* main + the 2 churn threads (the parent arms no timer: no runtime timer thread) */
    TT_Q_EQ(db, 3, "SELECT count(*) FROM threads");
    TT_Q_EQ(db, 2,
            "SELECT count(*) FROM threads WHERE parent_thread = 1 AND site(create_stack) = %Q",
            site("thread-create"));
    tt_db_close(db);

    /* Each child's file: exactly its own 5 + k contexts, from its only thread. */
    for (int k = 0; k < 4; k++) {
        if (kids[k] <= 0)
            continue;
        char *child_trace = tt_fmt("%s/t.%d.db", E.workdir, kids[k]);
        printf("-- child %d (pid %d): %s\n", k, kids[k], child_trace);
        db = tt_db_open(child_trace, true);
        tt_check_invariants(db, true);
        tt_check_complete(db, "exit");
        TT_Q_EQ(db, kids[k], "SELECT value FROM meta WHERE key = 'pid'");
        TT_Q_EQ(db, parent, "SELECT value FROM meta WHERE key = 'ppid'");
        TT_Q_EQ(db, 5 + k, "SELECT count(*) FROM contexts WHERE id > 2");
        expect_at(db, E.traced_src, "fork-child", "deadline", 5 + k);
        TT_Q_EQ(db, 5 + k,
                "SELECT count(*) FROM contexts WHERE parent_id = 1 AND cancel_why = 'explicit' "
                "AND timer_armed_ns IS NOT NULL AND timer_stopped_ns IS NOT NULL AND "
                "released_live = 0 AND freed_ns IS NOT NULL");
        /* The forking thread is the child's thread 1 (its runtime's timer thread, started
         * by the child's first timeout, may be there too). */
        TT_Q_EQ(db, 1, "SELECT count(*) FROM threads WHERE id = 1 AND parent_thread IS NULL");
        TT_Q_EQ(db, 5 + k, "SELECT count(*) FROM contexts WHERE create_thread = 1");
        tt_db_close(db);
        free(child_trace);
    }
    tt_output_free(&o);
}

/* ---- (b) exit() from a thread -------------------------------------------------------------- */

static void test_exit_from_thread(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"exit-thread", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), NULL, &o, "ctxtrace run tracer_traced exit-thread");
    TT_EQ(7, tt_exit_code(status), "exit status (the thread's exit(7))");
    long churned = -1;
    char *at = strstr(o.out, "churned at least ");
    if (at != NULL)
        churned = atol(at + strlen("churned at least "));
    TT_CHECK(churned >= 1000, "the program reported its churn (%ld)", churned);

    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    expect_at(db, E.traced_src, "exit-parent", "cancel", 1);
    expect_at(db, E.traced_src, "exit-waiter", "cancel", 6);
    expect_at(db, E.traced_src, "exit-exiter", "cancel", 1);
    expect_at(db, E.traced_src, "exit-exiter-value", "value", 1);
    char *churn = site("exit-churn");
    int64_t n = count_at(db, churn);
    TT_CHECK(n >= churned, "every churn context created before the exit is there (%" PRId64
             " rows, at least %ld created)", n, churned);
    TT_Q_EQ(db, n, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND kind = 'deadline'", churn);
    const char *const sites[] = {"exit-parent", "exit-waiter", "exit-exiter", "exit-exiter-value",
                                 "exit-churn", NULL};
    expect_only_sites(db, E.traced_src, sites);
    /* The exit check ran from the exiting thread while the churn thread kept creating
     * contexts (inside malloc as often as not): every other thread stopped, with a stack,
     * and the reachability scan finished. */
    TT_Q_TEXT(db, "done", "SELECT value FROM meta WHERE key = 'exit_check'");
    TT_Q_TEXT(db, "done", "SELECT value FROM meta WHERE key = 'exit_check_reach'");
    int64_t stopped = tt_q_int(db, "SELECT count(*) FROM exit_threads WHERE stopped = 1 AND "
                                   "thread IS NOT NULL");
    TT_CHECK(stopped >= 5, "the main thread, 3 waiters and the churn thread were stopped "
             "(%" PRId64 ")", stopped);
    /* A thread stopped inside the shim (the churn thread, recording) is left without a
     * stack rather than unwound through the shim's own unwinding; the blocked ones have
     * theirs. */
    int64_t blocked = tt_q_int(db, "SELECT count(*) FROM exit_threads WHERE stopped = 1 AND "
                                   "state = 'blocked' AND stack IS NOT NULL");
    TT_CHECK(blocked >= 4, "main and the 3 waiters were stopped blocked, with their stacks "
             "(%" PRId64 ")", blocked);
    /* The waiters are still blocked: live, never released, their waits never woken. */
    TT_Q_EQ(db, 0,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
            "(canceled_ns IS NOT NULL OR freed_ns IS NOT NULL OR released_ns IS NOT NULL)",
            site("exit-waiter"));
    tt_db_close(db);
    free(churn);
    tt_output_free(&o);
}

/* ---- (c) return from main ----------------------------------------------------------------- */

static void test_return_from_main(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"return", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), NULL, &o, "ctxtrace run tracer_traced return");
    TT_EQ(5, tt_exit_code(status), "exit status (main returned 5)");
    TT_CONTAINS(o.err, tt_fmt("ctxtrace: trace written to %s (10 contexts)\n", trace),
                "ctxtrace's stderr");

    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    TT_Q_EQ(db, 10, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.traced_src, "ret-a", "cancel", 1);
    expect_at(db, E.traced_src, "ret-timeout", "deadline", 1);
    expect_at(db, E.traced_src, "ret-value", "value", 1);
    expect_at(db, E.traced_src, "ret-without", "without_cancel", 1);
    expect_at(db, E.traced_src, "ret-worker", "deadline", 6);
    char *a = site("ret-a"), *t = site("ret-timeout"), *v = site("ret-value"),
         *w = site("ret-without"), *wk = site("ret-worker");
    /* Left live at the return: a, t (its timer armed, never stopped or fired) and v. */
    TT_Q_EQ(db, 3,
            "SELECT count(*) FROM contexts WHERE site(create_stack) IN (%Q, %Q, %Q) AND "
            "canceled_ns IS NULL AND released_ns IS NULL AND freed_ns IS NULL",
            a, t, v);
    TT_Q_EQ(db, 1,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
            "timer_armed_ns IS NOT NULL AND timer_stopped_ns IS NULL AND timer_fired_ns IS NULL",
            t);
    /* The without_cancel child was dropped (not live: nothing can cancel it) and freed. */
    TT_Q_EQ(db, 1,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND released_live = 0 "
            "AND freed_ns IS NOT NULL",
            w);
    /* Parents: t under a, v under t, w under v, the workers' under a. */
    TT_Q_EQ(db, 9,
            "SELECT count(*) FROM contexts c JOIN contexts p ON p.id = c.parent_id WHERE "
            "(site(c.create_stack) = %Q AND site(p.create_stack) = %Q) OR "
            "(site(c.create_stack) = %Q AND site(p.create_stack) = %Q) OR "
            "(site(c.create_stack) = %Q AND site(p.create_stack) = %Q) OR "
            "(site(c.create_stack) = %Q AND site(p.create_stack) = %Q)",
            t, a, v, t, w, v, wk, a);
    TT_Q_EQ(db, 6,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
            "cancel_why = 'explicit' AND timer_stopped_ns IS NOT NULL AND freed_ns IS NOT NULL",
            wk);
    /* main, and the two joined workers whose exits are recorded. (The runtime's timer
     * thread, started by the first timeout, is a pthread_create'd thread too.) */
    TT_Q_EQ(db, 1, "SELECT count(*) FROM threads WHERE id = 1 AND exit_ns IS NULL");
    TT_Q_EQ(db, 2,
            "SELECT count(*) FROM threads WHERE site(create_stack) = %Q AND "
            "parent_thread = 1 AND exit_ns IS NOT NULL",
            site("thread-create"));
    TT_Q_EQ(db, 6,
            "SELECT count(*) FROM contexts c JOIN threads t ON t.id = c.create_thread "
            "WHERE site(c.create_stack) = %Q AND site(t.create_stack) = %Q",
            wk, site("thread-create"));
    tt_db_close(db);
    tt_output_free(&o);
}

/* ---- (d) signals --------------------------------------------------------------------------- */

/* The file of tracer_traced signals/signals-app: its 50 contexts, all there. */
static void check_signals_trace(const char *trace, const char *exit_reason)
{
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, exit_reason);
    /* The exit check runs at the signal flush too. */
    TT_Q_TEXT(db, "done", "SELECT value FROM meta WHERE key = 'exit_check'");
    TT_Q_EQ(db, 50, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.traced_src, "sig-thread", "cancel", 20);
    expect_at(db, E.traced_src, "sig-main-cancel", "cancel", 10);
    expect_at(db, E.traced_src, "sig-main-timeout", "deadline", 10);
    expect_at(db, E.traced_src, "sig-main-value", "value", 10);
    TT_Q_EQ(db, 10,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
            "cancel_why = 'explicit' AND freed_ns IS NOT NULL",
            site("sig-main-cancel"));
    TT_Q_EQ(db, 10,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
            "timer_armed_ns IS NOT NULL AND canceled_ns IS NULL",
            site("sig-main-timeout"));
    tt_db_close(db);
}

/* Run `tracer_traced MODE` under ctxtrace (or a bare LD_PRELOAD), wait for "ready PID",
 * send `sig` to the program (or to ctxtrace), and return the wait status. */
static int signal_run(const char *mode, const char *trace, bool bare, bool to_ctxtrace, int sig,
                      char **err_out)
{
    const char *args[] = {mode, NULL};
    const char *bare_argv[] = {E.traced, mode, NULL};
    char *preload = tt_fmt("LD_PRELOAD=%s", E.shim), *output = tt_fmt("CTXTRACE_OUTPUT=%s", trace);
    const char *bare_env[] = {preload, output, NULL};
    struct tt_proc p;
    if (!spawn_piped(bare ? bare_argv : run_argv(trace, E.traced, args), bare ? bare_env : NULL, &p))
        return -1;
    char *line = tt_read_line(&p, 30, "the program's ready line");
    int pid = parse_pid(line, "ready ");
    TT_CHECK(pid > 0, "the program is ready (%s)", line ? line : "no line");
    if (pid > 0) {
        pid_t target = to_ctxtrace ? p.pid : pid;
        printf("sending signal %d to %s %d\n", sig, to_ctxtrace ? "ctxtrace" : "the program",
               (int)target);
        TT_EQ(0, kill(target, sig), "kill(%d, %d)", (int)target, sig);
    } else {
        kill(-p.pid, SIGKILL);
    }
    int status = tt_wait(&p, 30, "the signalled program");
    printf("status: %s\n", tt_status_text(status));
    *err_out = spawned_stderr();
    free(line);
    free(preload);
    free(output);
    return status;
}

static void test_sigterm(void)
{
    char *trace = path_in("t.db"), *err;
    int status = signal_run("signals", trace, false, false, SIGTERM, &err);
    TT_EQ(128 + SIGTERM, tt_exit_code(status), "ctxtrace run's exit status");
    TT_CONTAINS(err, "was killed by signal 15", "ctxtrace's stderr");
    TT_CONTAINS(err, tt_fmt("trace written to %s (50 contexts)", trace), "ctxtrace's stderr");
    check_signals_trace(trace, "signal SIGTERM");
}

static void test_sigterm_bare_preload(void)
{
    char *trace = path_in("t.db"), *err;
    int status = signal_run("signals", trace, true, false, SIGTERM, &err);
    TT_CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "the program died of SIGTERM, as without the shim (%s)", tt_status_text(status));
    check_signals_trace(trace, "signal SIGTERM");
}

static void test_sigterm_forwarded(void)
{
    char *trace = path_in("t.db"), *err;
    int status = signal_run("signals", trace, false, true, SIGTERM, &err);
    TT_EQ(128 + SIGTERM, tt_exit_code(status), "ctxtrace run's exit status");
    TT_CONTAINS(err, "was killed by signal 15", "ctxtrace's stderr");
    check_signals_trace(trace, "signal SIGTERM");
}

/* Contexts in flight at the cut are not presumed lost. tracer_traced signals holds 30
 * cancellable contexts, never cancelled, in threads and main when SIGTERM comes; without
 * the exit check (CTXTRACE_EXIT_CHECK=0) nothing says whether they were reachable, and a
 * server stopped by SIGTERM was at work: the report must not call them lost-cancel (it
 * called all 30 lost before). */
static void test_sigterm_in_flight(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"signals", NULL};
    const char *env[] = {"CTXTRACE_EXIT_CHECK=0", NULL};
    struct tt_proc p;
    if (!spawn_piped(run_argv(trace, E.traced, args), env, &p))
        return;
    char *line = tt_read_line(&p, 30, "the program's ready line");
    int pid = parse_pid(line, "ready ");
    TT_CHECK(pid > 0, "the program is ready (%s)", line ? line : "no line");
    TT_EQ(0, pid > 0 ? kill(pid, SIGTERM) : kill(-p.pid, SIGKILL), "kill");
    int status = tt_wait(&p, 30, "the signalled program");
    TT_EQ(128 + SIGTERM, tt_exit_code(status), "ctxtrace run's exit status");
    free(spawned_stderr());
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_complete(db, "signal SIGTERM");
    TT_Q_TEXT(db, "off", "SELECT value FROM meta WHERE key = 'exit_check'");
    TT_Q_EQ(db, 30, "SELECT count(*) FROM contexts WHERE id > 2 AND kind IN ('cancel', "
                    "'deadline') AND canceled_ns IS NULL AND released_ns IS NULL");
    tt_db_close(db);
    const char *report[] = {E.ctxtrace, "report", trace, NULL};
    struct tt_output o;
    status = run(report, NULL, &o, "ctxtrace report");
    TT_EQ(0, tt_exit_code(status), "ctxtrace report's exit status (no findings)");
    TT_CONTAINS(o.out, "ctxtrace: no findings in 50 contexts", "the report");
    tt_output_free(&o);
    free(line);
}

static void test_sigint(void)
{
    char *trace = path_in("t.db"), *err;
    int status = signal_run("signals", trace, false, false, SIGINT, &err);
    TT_EQ(128 + SIGINT, tt_exit_code(status), "ctxtrace run's exit status");
    TT_CONTAINS(err, "was killed by signal 2", "ctxtrace's stderr");
    check_signals_trace(trace, "signal SIGINT");
}

static void test_sigterm_app_handler(void)
{
    char *trace = path_in("t.db"), *err;
    int status = signal_run("signals-app", trace, false, false, SIGTERM, &err);
    TT_EQ(9, tt_exit_code(status), "exit status (the program's handler made it exit 9)");
    check_signals_trace(trace, "exit");
}

/* SIGTERM pending from the start (progs/early_signal.c), 100 runs on one CPU: every
 * run must die of SIGTERM with a complete trace holding its 1 context. */
static void test_sigterm_early(void)
{
    enum { RUNS = 100 };
    int incomplete = 0, wrong_status = 0, wrong_count = 0;
    char *source = tt_fmt("%s", E.early_signal);
    for (int i = 0; i < RUNS; i++) {
        char *trace = tt_fmt("%s/t%d.db", E.workdir, i);
        char *preload = tt_fmt("LD_PRELOAD=%s", E.shim), *output = tt_fmt("CTXTRACE_OUTPUT=%s", trace);
        const char *env[] = {preload, output, NULL};
        const char *argv[] = {E.early_signal, NULL};
        char *err = tt_fmt("%s/io/%d.err", E.workdir, i), *out = tt_fmt("%s/io/%d.out", E.workdir, i);
        struct tt_cmd cmd = {.argv = argv, .env = env, .cwd = E.workdir, .out_path = out,
                             .err_path = err, .one_cpu = true};
        struct tt_proc p;
        if (!tt_spawn(&cmd, &p))
            break;
        double t0 = tt_now();
        int status = tt_wait(&p, 30, "tracer_early_signal");
        double took = tt_now() - t0;
        bool died = status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
        sqlite3 *db = NULL;
        int64_t complete = TT_NULL, n = TT_NULL;
        if (tt_exists(trace) && sqlite3_open_v2(trace, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
            complete = tt_q_int(db, "SELECT value FROM meta WHERE key = 'complete'");
            n = tt_q_int(db, "SELECT count(*) FROM contexts WHERE id > 2");
        }
        sqlite3_close(db);
        if (!died || complete != 1 || n != 1)
            printf("run %d: %s after %.3f s; meta.complete %lld, %lld contexts\n", i,
                   tt_status_text(status), took, (long long)complete, (long long)n);
        wrong_status += !died;
        incomplete += complete != 1;
        wrong_count += n != 1;
        if (complete == 1 && n == 1 && died)
            unlink(trace);
        if (incomplete + wrong_status >= 3) {
            printf("stopping after run %d: enough evidence\n", i);
            free(trace);
            free(preload);
            free(output);
            free(err);
            free(out);
            break;
        }
        free(trace);
        free(preload);
        free(output);
        free(err);
        free(out);
    }
    TT_EQ(0, wrong_status, "runs of %d that did not die of SIGTERM", RUNS);
    TT_EQ(0, incomplete, "runs of %d whose trace is not complete (meta.complete != 1)", RUNS);
    TT_EQ(0, wrong_count, "runs of %d whose trace does not hold the 1 context", RUNS);
    /* One kept run, checked in full. */
    char *trace = path_in("full.db");
    char *preload = tt_fmt("LD_PRELOAD=%s", E.shim), *output = tt_fmt("CTXTRACE_OUTPUT=%s", trace);
    const char *env[] = {preload, output, NULL};
    const char *argv[] = {E.early_signal, NULL};
    struct tt_output o;
    int status = run(argv, env, &o, "tracer_early_signal (checked in full)");
    TT_CHECK(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "it died of SIGTERM (%s)", tt_status_text(status));
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "signal SIGTERM");
    TT_Q_EQ(db, 1, "SELECT count(*) FROM contexts WHERE id > 2 AND kind = 'cancel' AND "
                   "cancel_why = 'explicit' AND freed_ns IS NOT NULL");
    tt_db_close(db);
    free(source);
    tt_output_free(&o);
}

/* ---- (e) SIGKILL ---------------------------------------------------------------------------- */

static void test_sigkill(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"sigkill", NULL};
    struct tt_proc p;
    if (!spawn_piped(run_argv(trace, E.traced, args), NULL, &p))
        return;
    char *line = tt_read_line(&p, 30, "the program's ready line");
    int pid = parse_pid(line, "ready ");
    TT_CHECK(pid > 0, "the program is ready (%s)", line ? line : "no line");

    /* Let the writer commit: poll the file (WAL: readable while written) until the 100
     * contexts are there, the churn thread's batches are flowing and the stacks have come
     * (the writer symbolizes from a quarter second on: rows committed before then name
     * stacks not yet written; docs/trace-file.md). */
    int64_t batch = -1, churn_seen = -1, stacks = -1;
    char *kb = site("kill-batch"), *kc = site("kill-churn");
    double deadline = tt_now() + 30;
    while (pid > 0 && tt_now() < deadline) {
        sqlite3 *db = NULL;
        if (tt_exists(trace) &&
            sqlite3_open_v2(trace, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
            sqlite3_busy_timeout(db, 1000);
            sqlite3_stmt *st;
            if (sqlite3_prepare_v2(db,
                                   "SELECT (SELECT count(*) FROM contexts WHERE kind = 'cancel'), "
                                   "(SELECT count(*) FROM contexts WHERE kind = 'deadline'), "
                                   "(SELECT count(*) FROM stacks)",
                                   -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW) {
                batch = sqlite3_column_int64(st, 0);
                churn_seen = sqlite3_column_int64(st, 1);
                stacks = sqlite3_column_int64(st, 2);
            }
            sqlite3_finalize(st);
        }
        sqlite3_close(db);
        if (batch >= 100 && churn_seen >= 1000 && stacks > 0)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    TT_EQ(100, batch, "the 100 contexts committed while the program runs");
    TT_CHECK(churn_seen >= 1000, "the churn is being committed (%" PRId64 " rows seen)", churn_seen);
    if (pid > 0) {
        printf("SIGKILL to %d\n", pid);
        TT_EQ(0, kill(pid, SIGKILL), "kill(%d, SIGKILL)", pid);
    } else {
        kill(-p.pid, SIGKILL);
    }
    int status = tt_wait(&p, 30, "ctxtrace run tracer_traced sigkill");
    TT_EQ(128 + SIGKILL, tt_exit_code(status), "ctxtrace run's exit status");
    char *err = spawned_stderr();
    TT_CONTAINS(err, "was killed by signal 9", "ctxtrace's stderr");

    /* Opened as the sqlite3 shell does (read-write: recovers the WAL). */
    sqlite3 *db = tt_db_open(trace, false);
    tt_check_invariants(db, false);
    TT_Q_EQ(db, 0, "SELECT value FROM meta WHERE key = 'complete'");
    TT_Q_EQ(db, 0, "SELECT count(*) FROM meta WHERE key = 'exit_reason'");
    TT_Q_EQ(db, 100, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q", kb);
    TT_Q_EQ(db, 100,
            "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND kind = 'cancel' AND "
            "parent_id = 1 AND canceled_ns IS NULL AND freed_ns IS NULL",
            kb);
    int64_t churn = count_at(db, kc);
    TT_CHECK(churn >= churn_seen,
             "every churn row committed before the kill survived it (%" PRId64 " >= %" PRId64 ")",
             churn, churn_seen);
    const char *const sites[] = {"kill-batch", "kill-churn", NULL};
    expect_only_sites(db, E.traced_src, sites);
    tt_db_close(db);
    free(line);
}

/* ---- (f) exec ---------------------------------------------------------------------------------- */

static void test_exec_how(const char *how)
{
    char *trace = path_in("t.db");
    const char *args[] = {"exec", how, E.exec_target, NULL};
    /* execvp finds the target on PATH. */
    char *dir = strdup(E.exec_target);
    *strrchr(dir, '/') = '\0';
    char *path = tt_fmt("PATH=%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    const char *env[] = {path, NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), env, &o, "ctxtrace run tracer_traced exec");
    TT_EQ(6, tt_exit_code(status), "exit status (the exec'd program's 6)");
    int pid = -1, tpid = -1;
    char *at = strstr(o.out, "exec ");
    if (at != NULL)
        pid = atoi(at + 5);
    at = strstr(o.out, "target ");
    if (at != NULL)
        tpid = atoi(at + 7);
    TT_CHECK(pid > 0, "the program reported its pid (%d)", pid);
    TT_EQ(pid, tpid, "the exec'd program runs in the same process");
    TT_CONTAINS(o.out, "LD_PRELOAD=", "the target's output");
    TT_CHECK(strstr(o.out, "libctxtrace_preload.so") != NULL,
             "the shim stayed in LD_PRELOAD across exec");

    char *second = tt_fmt("t.%d.db", pid);
    TT_STREQ(tt_fmt("%s t.db", second), db_files(NULL), "two trace files, the second t.<pid>.db");

    /* The first image's file: its 2 contexts, completed at the exec. */
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exec");
    TT_Q_TEXT(db, tt_canonical(E.traced), "SELECT value FROM meta WHERE key = 'program'");
    TT_Q_EQ(db, pid, "SELECT value FROM meta WHERE key = 'pid'");
    TT_Q_EQ(db, 2, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.traced_src, "exec-a", "cancel", 1);
    expect_at(db, E.traced_src, "exec-b", "deadline", 1);
    tt_db_close(db);

    /* The new image's file: its own 5 contexts, complete at its exit. */
    char *second_path = path_in(second);
    db = tt_db_open(second_path, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    TT_Q_TEXT(db, tt_canonical(E.exec_target), "SELECT value FROM meta WHERE key = 'program'");
    TT_Q_TEXT(db, "[\"tracer_exec_target\",\"4\"]", "SELECT value FROM meta WHERE key = 'argv'");
    TT_Q_EQ(db, pid, "SELECT value FROM meta WHERE key = 'pid'");
    TT_Q_EQ(db, 5, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.exec_target_src, "target-root", "cancel", 1);
    expect_at(db, E.exec_target_src, "target-value", "value", 4);
    tt_db_close(db);
    tt_output_free(&o);
}

static void test_exec_no_follow(void)
{
    char *trace = path_in("t.db");
    const char *args[] = {"exec", "execv", E.exec_target, NULL};
    const char *env[] = {"CTXTRACE_FOLLOW_EXEC=0", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), env, &o, "ctxtrace run tracer_traced exec");
    TT_EQ(6, tt_exit_code(status), "exit status (the exec'd program's 6)");
    TT_CONTAINS(o.out, "target ", "the exec'd program ran");
    TT_CHECK(strstr(o.out, "libctxtrace_preload.so") == NULL,
             "the shim was removed from the exec'd program's LD_PRELOAD");
    TT_STREQ("t.db", db_files(NULL), "one trace file only");
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exec");
    TT_Q_EQ(db, 2, "SELECT count(*) FROM contexts WHERE id > 2");
    tt_db_close(db);
    tt_output_free(&o);
}

static void test_exec_execv(void) { test_exec_how("execv"); }
static void test_exec_execve(void) { test_exec_how("execve"); }
static void test_exec_execl(void) { test_exec_how("execl"); }
static void test_exec_execle(void) { test_exec_how("execle"); }
static void test_exec_execvp(void) { test_exec_how("execvp"); }

/* ---- (g) no runtime; dlopen ---------------------------------------------------------------- */

static void test_no_runtime(void)
{
    const char *direct[] = {E.plain, "alpha", "beta gamma", NULL};
    struct tt_output bare, traced;
    int s1 = run(direct, NULL, &bare, "tracer_plain, directly");
    char *trace = path_in("t.db");
    const char *args[] = {"alpha", "beta gamma", NULL};
    int s2 = run(run_argv(trace, E.plain, args), NULL, &traced, "ctxtrace run tracer_plain");
    TT_EQ(4, tt_exit_code(s1), "exit status without ctxtrace");
    TT_EQ(4, tt_exit_code(s2), "exit status under ctxtrace run");
    TT_STREQ(bare.out, traced.out, "stdout under ctxtrace run (same as without)");
    TT_CONTAINS(traced.out, "1 thread(s)", "the program's own thread count (no shim thread)");
    TT_CONTAINS(traced.err, "plain: a line on stderr\n", "the program's stderr");
    TT_CONTAINS(traced.err,
                tt_fmt("ctxtrace: no trace: %s never loaded libctxtrace.so", E.plain),
                "ctxtrace says so");
    int n;
    char *files = db_files(&n);
    TT_STREQ("", files, "no trace file");
    tt_output_free(&bare);
    tt_output_free(&traced);
}

static void test_dlopen(const char *mode)
{
    char *trace = path_in("t.db");
    const char *args[] = {E.runtime, mode, NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.dlopen, args), NULL, &o, "ctxtrace run tracer_dlopen");
    TT_EQ(0, tt_exit_code(status), "exit status");
    TT_CONTAINS(o.out, "3 contexts", "the program's output");
    TT_STREQ("t.db", db_files(NULL), "the runtime loaded by dlopen is traced: one trace file");
    if (!tt_exists(trace))
        return;
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    TT_Q_EQ(db, 3, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.dlopen_src, "dlopen-root", "cancel", 1);
    expect_at(db, E.dlopen_src, "dlopen-child", "cancel", 2);
    tt_db_close(db);
    tt_output_free(&o);
}

static void test_dlopen_global(void) { test_dlopen("global"); }
static void test_dlopen_local(void) { test_dlopen("local"); }

/* ---- (h) static -------------------------------------------------------------------------------- */

static void test_static_binary(void)
{
    char *trace = path_in("t.db");
    struct tt_output o;
    int status = run(run_argv(trace, E.plain_static, NULL), NULL, &o, "ctxtrace run tracer_plain_static");
    TT_EQ(2, tt_exit_code(status), "ctxtrace run refuses: exit status");
    TT_CONTAINS(o.err, tt_fmt("ctxtrace: run: %s is statically linked", E.plain_static),
                "ctxtrace's message");
    TT_CONTAINS(o.err, "LD_PRELOAD cannot trace it", "ctxtrace's message");
    TT_STREQ("", o.out, "the program did not run (no output)");
    TT_STREQ("", db_files(NULL), "no trace file");
    /* It does run on its own (the refusal is about tracing, not the program). */
    const char *direct[] = {E.plain_static, NULL};
    struct tt_output d;
    TT_EQ(4, tt_exit_code(run(direct, NULL, &d, "tracer_plain_static, directly")),
          "the static program's own exit status");
    tt_output_free(&o);
    tt_output_free(&d);
}

/* ---- (i) LD_PRELOAD kept --------------------------------------------------------------------- */

static void test_ld_preload_kept(void)
{
    char *trace = path_in("t.db");
    char *preload = tt_fmt("LD_PRELOAD=%s", E.marker);
    const char *env[] = {preload, NULL};
    const char *args[] = {"env", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), env, &o, "ctxtrace run tracer_traced env");
    TT_EQ(0, tt_exit_code(status), "exit status");
    TT_EQ(1, tt_count(o.out, "marker: loaded into tracer_traced\n"),
          "the user's preload library was loaded into the program once");
    char *shim = tt_canonical(E.shim);
    TT_CONTAINS(o.out, tt_fmt("LD_PRELOAD=%s:%s\n", shim, E.marker),
                "the program's LD_PRELOAD: the shim, then the user's");
    sqlite3 *db = tt_db_open(trace, true);
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    TT_Q_EQ(db, 1, "SELECT count(*) FROM contexts WHERE id > 2");
    expect_at(db, E.traced_src, "env", "cancel", 1);
    tt_db_close(db);
    tt_output_free(&o);
}

/* ---- (j) exit status, usage ------------------------------------------------------------------ */

static void test_exit_status(void)
{
    static const int codes[] = {0, 3, 42, 255};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        char *name = tt_fmt("exit%d.db", codes[i]);
        char *trace = path_in(name);
        char *code = tt_fmt("%d", codes[i]);
        const char *args[] = {"exit", code, NULL};
        struct tt_output o;
        int status = run(run_argv(trace, E.traced, args), NULL, &o, "ctxtrace run tracer_traced exit N");
        TT_EQ(codes[i], tt_exit_code(status), "ctxtrace run's exit status for exit(%d)", codes[i]);
        TT_CHECK(status >= 0 && WIFEXITED(status), "ctxtrace exited normally");
        TT_CONTAINS(o.err, tt_fmt("trace written to %s (1 contexts)", trace), "ctxtrace's stderr");
        sqlite3 *db = tt_db_open(trace, true);
        tt_check_complete(db, "exit");
        expect_at(db, E.traced_src, "exit-code", "cancel", 1);
        tt_db_close(db);
        tt_output_free(&o);
    }
    /* Death by a signal the shim does not handle: 128 + 6. The file is still valid. */
    char *trace = path_in("abort.db");
    const char *args[] = {"abort", NULL};
    struct tt_output o;
    int status = run(run_argv(trace, E.traced, args), NULL, &o, "ctxtrace run tracer_traced abort");
    TT_EQ(128 + SIGABRT, tt_exit_code(status), "ctxtrace run's exit status for abort()");
    TT_CONTAINS(o.err, "was killed by signal 6", "ctxtrace's stderr");
    sqlite3 *db = tt_db_open(trace, false);
    tt_check_invariants(db, false);
    TT_Q_EQ(db, 0, "SELECT value FROM meta WHERE key = 'complete'");
    tt_db_close(db);
    tt_output_free(&o);
}

static void usage_case(const char *what, const char *const *argv, const char *message)
{
    struct tt_output o;
    int status = run(argv, NULL, &o, what);
    TT_EQ(2, tt_exit_code(status), "%s: exit status", what);
    TT_CONTAINS(o.err, message, "%s: ctxtrace's stderr", what);
    TT_STREQ("", o.out, "%s: nothing ran (no output on stdout)", what);
    tt_output_free(&o);
}

static void test_usage_errors(void)
{
    char *trace = path_in("t.db");
    const char *none[] = {E.ctxtrace, NULL};
    usage_case("ctxtrace (no command)", none, "ctxtrace: no command given");
    const char *bogus[] = {E.ctxtrace, "frobnicate", NULL};
    usage_case("ctxtrace frobnicate", bogus, "ctxtrace: unknown command 'frobnicate'");
    const char *no_prog[] = {E.ctxtrace, "run", NULL};
    usage_case("ctxtrace run", no_prog, "ctxtrace: run: no program given");
    const char *no_prog2[] = {E.ctxtrace, "run", "-o", trace, "--", NULL};
    usage_case("ctxtrace run -o T --", no_prog2, "ctxtrace: run: no program given");
    const char *bad_opt[] = {E.ctxtrace, "run", "-x", "--", E.traced, "env", NULL};
    usage_case("ctxtrace run -x", bad_opt, "ctxtrace: run: unknown option '-x'");
    const char *o_alone[] = {E.ctxtrace, "run", "-o", NULL};
    usage_case("ctxtrace run -o", o_alone, "ctxtrace: run:");
    char *missing = path_in("no-such-program");
    const char *nonexist[] = {E.ctxtrace, "run", "-o", trace, "--", missing, NULL};
    usage_case("ctxtrace run -- missing", nonexist,
               tt_fmt("ctxtrace: run: %s: no such executable", missing));
    const char *not_exec[] = {E.ctxtrace, "run", "-o", trace, "--", E.traced_src, NULL};
    usage_case("ctxtrace run -- not-executable", not_exec,
               tt_fmt("ctxtrace: run: %s is not executable", E.traced_src));
    TT_STREQ("", db_files(NULL), "no trace file was written");
    /* --help is not an error. */
    const char *help[] = {E.ctxtrace, "--help", NULL};
    struct tt_output o;
    TT_EQ(0, tt_exit_code(run(help, NULL, &o, "ctxtrace --help")), "ctxtrace --help: exit status");
    TT_CONTAINS(o.out, "Usage: ctxtrace run [OPTIONS] [--] PROGRAM", "ctxtrace --help");
    tt_output_free(&o);
}

/* ---- output names --------------------------------------------------------------------------- */

static void test_output_names(void)
{
    /* Without -o: ctxtrace.<program>.<pid>.db in the directory it runs in. */
    const char *args[] = {"env", NULL};
    struct tt_output o;
    int status = run(run_argv(NULL, E.traced, args), NULL, &o, "ctxtrace run (no -o)");
    TT_EQ(0, tt_exit_code(status), "exit status");
    int n;
    char *files = db_files(&n);
    TT_EQ(1, n, "one trace file (%s)", files);
    int pid = -1;
    TT_CHECK(sscanf(files, "ctxtrace.tracer_traced.%d.db", &pid) == 1 && pid > 0,
             "named ctxtrace.tracer_traced.<pid>.db (%s)", files);
    TT_CONTAINS(o.err, tt_fmt("ctxtrace: trace written to %s (1 contexts)", files),
                "ctxtrace's stderr names it");
    char *path = path_in(files);
    sqlite3 *db = tt_db_open(path, true);
    TT_Q_EQ(db, pid, "SELECT value FROM meta WHERE key = 'pid'");
    tt_check_complete(db, "exit");
    tt_db_close(db);
    unlink(path);
    tt_output_free(&o);

    /* A relative -o names a file in ctxtrace's directory, even if the program chdirs. */
    const char *chdir_args[] = {"chdir", NULL};
    status = run(run_argv("rel.db", E.traced, chdir_args), NULL, &o, "ctxtrace run -o rel.db (chdir)");
    TT_EQ(0, tt_exit_code(status), "exit status");
    TT_STREQ("rel.db", db_files(NULL), "the trace file is where -o said");
    char *rel = path_in("rel.db");
    TT_CONTAINS(o.err, tt_fmt("trace written to %s (3 contexts)", rel), "ctxtrace's stderr");
    db = tt_db_open(rel, true);
    tt_check_complete(db, "exit");
    expect_at(db, E.traced_src, "chdir", "cancel", 3);
    tt_db_close(db);
    tt_output_free(&o);

    /* An existing trace is kept unless --force is given: the program does not run. */
    status = run(run_argv("rel.db", E.traced, chdir_args), NULL, &o, "ctxtrace run -o rel.db again");
    TT_EQ(2, tt_exit_code(status), "exit status");
    TT_CONTAINS(o.err, "ctxtrace: run: rel.db is an existing trace; --force replaces it",
                "ctxtrace's stderr");
    TT_STREQ("rel.db", db_files(NULL), "still one trace file");
    tt_output_free(&o);

    /* With --force it is replaced, not appended to nor moved aside. */
    const char *forced[] = {E.ctxtrace, "run", "--force", "-o", "rel.db", "--", E.traced, "chdir",
                            NULL};
    status = run(forced, NULL, &o, "ctxtrace run --force -o rel.db");
    TT_EQ(0, tt_exit_code(status), "exit status");
    TT_STREQ("rel.db", db_files(NULL), "still one trace file");
    db = tt_db_open(rel, true);
    TT_Q_EQ(db, 3, "SELECT count(*) FROM contexts WHERE id > 2");
    tt_db_close(db);
    tt_output_free(&o);
}

/* ---- stress ------------------------------------------------------------------------------------ */

static void test_stress(void)
{
    char *trace = path_in("stress.db");
    struct tt_output o;
    double t0 = tt_now();
    char *out = tt_fmt("%s/io/stress.out", E.workdir), *err = tt_fmt("%s/io/stress.err", E.workdir);
    struct tt_cmd cmd = {.argv = run_argv(trace, E.stress, NULL), .cwd = E.workdir,
                         .out_path = out, .err_path = err};
    int status = tt_run(&cmd, 590, &o, "ctxtrace run tracer_stress_prog");
    double wall = tt_now() - t0;
    TT_EQ(0, tt_exit_code(status), "exit status");
    TT_CONTAINS(o.err, tt_fmt("trace written to %s (10000000 contexts)", trace), "ctxtrace's stderr");

    double t1 = tt_now();
    sqlite3 *db = tt_db_open(trace, true);
    TT_Q_EQ(db, 10000002, "SELECT count(*) FROM contexts");
    TT_Q_EQ(db, 0,
            "SELECT count(*) FROM contexts WHERE id > 2 AND (kind IS NULL OR created_ns IS NULL "
            "OR freed_ns IS NULL OR create_stack IS NULL OR parent_id IS NULL OR "
            "released_ns IS NULL)");
    TT_Q_EQ(db, 0, "SELECT value FROM meta WHERE key = 'events_dropped'");
    TT_Q_EQ(db, 1, "SELECT value FROM meta WHERE key = 'complete'");
    TT_Q_TEXT(db, "exit", "SELECT value FROM meta WHERE key = 'exit_reason'");
    TT_Q_EQ(db, 2500001, "SELECT count(*) FROM contexts WHERE kind = 'cancel'");
    TT_Q_EQ(db, 4999998, "SELECT count(*) FROM contexts WHERE kind = 'deadline'");
    TT_Q_EQ(db, 2500001, "SELECT count(*) FROM contexts WHERE kind = 'value'");
    /* P (the only cancel child of background) and V (P's only value child). */
    int64_t p = tt_q_int(db, "SELECT id FROM contexts WHERE kind = 'cancel' AND parent_id = 1");
    int64_t v = tt_q_int(db, "SELECT id FROM contexts WHERE kind = 'value' AND parent_id = %lld",
                         (long long)p);
    TT_Q_EQ(db, 2500001, "SELECT count(*) FROM contexts WHERE parent_id = %lld", (long long)p);
    TT_Q_EQ(db, 4999998, "SELECT count(*) FROM contexts WHERE parent_id = %lld", (long long)v);
    TT_Q_EQ(db, 2500001, "SELECT count(*) FROM contexts WHERE parent_id = 1");
    TT_Q_EQ(db, 7499999,
            "SELECT count(*) FROM contexts WHERE kind IN ('cancel','deadline') AND "
            "cancel_why = 'explicit' AND released_live = 0");
    TT_Q_EQ(db, 4999998,
            "SELECT count(*) FROM contexts WHERE timer_armed_ns IS NOT NULL AND "
            "timer_stopped_ns IS NOT NULL AND timer_fired_ns IS NULL");
    TT_Q_EQ(db, 2500001, "SELECT count(*) FROM contexts WHERE released_live = 1");
    /* The two churn threads, started by main and exited (besides main and the
     * runtime's timer thread). */
    TT_Q_EQ(db, 2, "SELECT count(*) FROM threads WHERE parent_thread = 1 AND exit_ns IS NOT NULL");
    int64_t stalls = tt_q_int(db, "SELECT value FROM meta WHERE key = 'ring_stalls'");
    int64_t events = tt_q_int(db, "SELECT value FROM meta WHERE key = 'events'");
    tt_db_close(db);
    double check = tt_now() - t1;
    printf("stress: wall time of `ctxtrace run` %.1f s (%.2f us per context); "
           "meta.events %" PRId64 ", meta.ring_stalls %" PRId64 "; checking took %.1f s\n",
           wall, wall * 1e6 / 10000000, events, stalls, check);
    if (tt_failures == 0) {
        /* 10 million rows: do not leave them in the build tree. */
        unlink(trace);
        printf("stress: removed %s (passed)\n", trace);
    }
    tt_output_free(&o);
}

/* ---- main ---------------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"fork", test_fork},
    {"exit_from_thread", test_exit_from_thread},
    {"return_from_main", test_return_from_main},
    {"sigterm", test_sigterm},
    {"sigterm_bare_preload", test_sigterm_bare_preload},
    {"sigterm_forwarded", test_sigterm_forwarded},
    {"sigterm_in_flight", test_sigterm_in_flight},
    {"sigint", test_sigint},
    {"sigterm_app_handler", test_sigterm_app_handler},
    {"sigterm_early", test_sigterm_early},
    {"sigkill", test_sigkill},
    {"exec_execv", test_exec_execv},
    {"exec_execve", test_exec_execve},
    {"exec_execl", test_exec_execl},
    {"exec_execle", test_exec_execle},
    {"exec_execvp", test_exec_execvp},
    {"exec_no_follow", test_exec_no_follow},
    {"no_runtime", test_no_runtime},
    {"dlopen_global", test_dlopen_global},
    {"dlopen_local", test_dlopen_local},
    {"static_binary", test_static_binary},
    {"ld_preload_kept", test_ld_preload_kept},
    {"exit_status", test_exit_status},
    {"usage_errors", test_usage_errors},
    {"output_names", test_output_names},
    {"stress", test_stress},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tracer_lifecycle TEST --workdir DIR ... (see CMakeLists.txt)\n");
        return 2;
    }
    const char *name = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
#define OPT(flag, field)                                                                   \
    if (strcmp(o, flag) == 0) {                                                            \
        E.field = v;                                                                       \
        continue;                                                                          \
    }
        OPT("--workdir", workdir)
        OPT("--ctxtrace", ctxtrace)
        OPT("--shim", shim)
        OPT("--traced", traced)
        OPT("--traced-source", traced_src)
        OPT("--exec-target", exec_target)
        OPT("--exec-target-source", exec_target_src)
        OPT("--plain", plain)
        OPT("--plain-static", plain_static)
        OPT("--dlopen", dlopen)
        OPT("--dlopen-source", dlopen_src)
        OPT("--runtime", runtime)
        OPT("--marker", marker)
        OPT("--stress", stress)
        OPT("--early-signal", early_signal)
#undef OPT
        fprintf(stderr, "tracer_lifecycle: unknown option %s\n", o);
        return 2;
    }
    if (E.workdir == NULL || E.ctxtrace == NULL || E.traced == NULL) {
        fprintf(stderr, "tracer_lifecycle: --workdir, --ctxtrace and --traced are required\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof tests / sizeof *tests; i++) {
        if (strcmp(tests[i].name, name) != 0)
            continue;
        tt_fresh_dir(E.workdir);
        char *io = tt_fmt("%s/io", E.workdir);
        tt_fresh_dir(io);
        printf("tracer_lifecycle %s (work directory %s)\n", name, E.workdir);
        tests[i].fn();
        return tt_finish(name);
    }
    fprintf(stderr, "tracer_lifecycle: no test named %s\n", name);
    return 2;
}
