/*
 * soak.c — `ctxtrace soak [OPTIONS] [--] PROGRAM ARGS...` (options: soak_options below)
 *
 * The acceptance test of a leak fix in the Go literature — "a soak test shows zero
 * goroutine growth" — as one command: run the program under the shim for --duration
 * seconds, sampling every --interval (the shim samples live contexts, armed timers,
 * blocked waiters, threads and RSS into the trace; soak counts the program's open fds
 * itself), stop it (SIGTERM, then SIGKILL after --grace), and judge the samples after
 * --warmup with the trend decision of ctxtrace/core/trend.h. For every quantity that
 * grows it names the creation sites whose live contexts (or waits, or threads) grow.
 *
 * Exit status: 0 nothing grows; 1 something grows; 2 error — bad usage, the program
 * missing, crashed (a signal other than soak's own stop), failed (nonzero exit), or
 * too short to judge. docs/soak.md has the decision and the output formats.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ctxtrace/core/reader.h>

#include "cli.h"
#include <ctxtrace/core/summary.h>

#include "json.h"
#include "launch.h"
#include "opts.h"
#include "report.h"
#include "soak.h"

struct soak_opts {
    double duration, warmup, grace; /* seconds */
    int interval_ms;
    const char *json, *out;
    bool verbose, no_findings;
    bool force; /* -o may replace an existing trace */
    int keep;   /* enum ct_keep: summary unless --keep full */
    struct report_opts report;      /* which findings count: suppressions, threshold */
};

/* The run, as soak saw it. */
struct soak_run {
    pid_t pid;
    int64_t start, judge_from, judge_to; /* CLOCK_MONOTONIC ns */
    bool stopped;                        /* soak stopped it at the end of the duration */
    int status;
    int64_t *fd_ts;                      /* soak's own fd samples */
    double *fd_v;
    size_t nfd, fd_cap;
    struct soak_progress progress;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    nanosleep(&ts, NULL); /* an interrupting signal just ends the nap early */
}

static bool parse_seconds(const char *s, double min, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min) || v > 86400 * 30)
        return false;
    *out = v;
    return true;
}

enum {
    OPT_OUTPUT = 'o',
    OPT_VERBOSE = 'v',
    OPT_DURATION = 1,
    OPT_WARMUP,
    OPT_INTERVAL,
    OPT_GRACE,
    OPT_JSON,
    OPT_NO_FINDINGS,
    OPT_FORCE,
    OPT_KEEP,
};

static const struct cli_opt soak_options[] = {
    {OPT_DURATION, "duration", 0, "S", "run PROGRAM for S seconds (default 30), then SIGTERM"},
    {OPT_WARMUP, "warmup", 0, "S", "judge only the samples after S seconds (default 5)"},
    {OPT_INTERVAL, "interval", 0, "MS", "sample every MS milliseconds (10-60000, default 100)"},
    {OPT_GRACE, "grace", 0, "S",
     "after the SIGTERM, wait S seconds (default 5)\nbefore the SIGKILL"},
    {OPT_JSON, "json", 0, "FILE", "also write the verdict, trends and samples as JSON"},
    {OPT_OUTPUT, "output", 'o', "FILE.db",
     "write the trace to FILE.db (default\nctxtrace.PROGRAM.PID.db); never an existing file\n"
     "but a trace, and that only with --force"},
    {OPT_FORCE, "force", 0, NULL,
     "let -o replace an existing trace (never another\nfile, never one still being written)"},
    {OPT_KEEP, "keep", 0, "full|summary",
     "summary (default): rows only for contexts a\nfinding may name, live or sampled ones, per-site\n"
     "aggregates for the rest — a long soak's trace\nstays small; full: a row per context"},
    {OPT_VERBOSE, "verbose", 'v', NULL,
     "one line per sample on stderr while it runs\n(on a terminal: one progress line)"},
    {OPT_NO_FINDINGS, "no-findings", 0, NULL,
     "judge growth only: the trace's findings are\nprinted but do not fail the soak"},
    REPORT_OPTIONS,
    {0},
};

static const struct cli_command soak_command = {
    .name = "soak",
    .synopsis = "[OPTIONS] [--] PROGRAM [ARGS...]",
    .summary = "run PROGRAM a while: fail when what it holds grows, or on findings",
    .about = "Run PROGRAM under the tracer for --duration seconds and judge whether live\n"
             "contexts, armed timers, blocked waiters, threads, open fds or RSS grow after\n"
             "the warm-up; name the sites that grow; then print the trace's findings (a\n"
             "bounded leak levels off but is still a finding). Options end at PROGRAM.",
    .opts = soak_options,
    .footer = "Exit status: 0 nothing grows and no findings, 1 something grows or findings\n"
              "remain (unless --no-findings), 2 error (docs/soak.md).",
    .stop_at_operand = true,
};

const struct cli_command *const cli_soak = &soak_command;

/* Returns the index of the program in argv, -1 on an error (printed), 0 after --help. */
static int parse(int argc, char **argv, struct soak_opts *o)
{
    *o = (struct soak_opts){.duration = 30, .warmup = 5, .grace = 5, .interval_ms = 100,
                            .keep = CT_KEEP_SUMMARY};
    struct cli_parser p;
    const char *v;
    int id;
    cli_parser_init(&p, &soak_command, argc, argv);
    while ((id = cli_next(&p, &v)) > 0) {
        double d;
        bool ok = true;
        int rc = report_option("soak", id, v, &o->report);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        switch (id) {
        case OPT_DURATION:
            ok = parse_seconds(v, 0.1, &o->duration);
            break;
        case OPT_WARMUP:
            ok = parse_seconds(v, 0, &o->warmup);
            break;
        case OPT_GRACE:
            ok = parse_seconds(v, 0, &o->grace);
            break;
        case OPT_INTERVAL:
            ok = parse_seconds(v, 10, &d) && d <= 60000 && d == (int)d;
            o->interval_ms = ok ? (int)d : o->interval_ms;
            break;
        case OPT_JSON:
            o->json = v;
            break;
        case OPT_VERBOSE:
            o->verbose = true;
            break;
        case OPT_FORCE:
            o->force = true;
            break;
        case OPT_NO_FINDINGS:
            o->no_findings = true;
            break;
        case OPT_KEEP:
            if ((o->keep = ct_keep_from_name(v)) < 0) {
                cli_error("soak: --keep is full or summary, not '%s'", v);
                return -1;
            }
            break;
        default:
            assert(id == OPT_OUTPUT);
            o->out = v;
            break;
        }
        if (!ok) {
            cli_error("soak: bad value '%s' for %s (durations: seconds, --duration >= 0.1; "
                      "--interval: whole milliseconds, 10 to 60000)", v,
                      cli_opt_name(&soak_command, id));
            return -1;
        }
    }
    if (id != CLI_END)
        return id == CLI_HELP ? 0 : -1;
    int i = cli_optind(&p);
    if (i >= argc) {
        cli_error("soak: no program given (usage: ctxtrace soak [OPTIONS] [--] PROGRAM "
                  "ARGS...)");
        return -1;
    }
    if (o->warmup >= o->duration) {
        cli_error("soak: --warmup (%g s) must be shorter than --duration (%g s)", o->warmup,
                  o->duration);
        return -1;
    }
    /* Everything that can be wrong with the options is found before the program runs:
     * the suppressions file, the JSON file's directory. */
    if (report_opts_finish(&o->report) != 0)
        return -1;
    char abs[PATH_MAX];
    if (o->json != NULL &&
        (!launch_abs_path("soak", o->json, abs) || !launch_check_output("soak", "the JSON", abs)))
        return -1;
    return i;
}

/* Open fds of pid, or -1 if /proc cannot tell (the process is gone). */
static int count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void record_fds(struct soak_run *r)
{
    int n = count_fds(r->pid);
    if (n < 0)
        return;
    if (r->nfd == r->fd_cap) {
        size_t cap = r->fd_cap ? 2 * r->fd_cap : 512;
        int64_t *ts = realloc(r->fd_ts, cap * sizeof *ts);
        if (ts == NULL)
            return;
        r->fd_ts = ts;
        double *v = realloc(r->fd_v, cap * sizeof *v);
        if (v == NULL)
            return;
        r->fd_v = v;
        r->fd_cap = cap;
    }
    r->fd_ts[r->nfd] = mono_ns();
    r->fd_v[r->nfd++] = n;
}

/* Wait for the program until `deadline`; true if it ended (r->status set). */
static bool wait_until(struct soak_run *r, int64_t deadline, int64_t step_ns, bool sample)
{
    for (;;) {
        pid_t got = waitpid(r->pid, &r->status, WNOHANG);
        if (got == r->pid)
            return true;
        if (got < 0 && errno != EINTR)
            return true; /* not our child any more: nothing left to wait for */
        int64_t now = mono_ns();
        if (now >= deadline || interrupted)
            return false;
        if (sample) {
            record_fds(r);
            soak_progress_tick(&r->progress, r->fd_ts, r->fd_v, r->nfd);
        }
        int64_t left = deadline - now;
        sleep_ns(left < step_ns ? left : step_ns);
    }
}

/* Run the program for the duration, then stop it. */
static void soak_program(struct soak_run *r, const struct soak_opts *o)
{
    int64_t interval = (int64_t)o->interval_ms * 1000000;
    int64_t end = r->start + (int64_t)(o->duration * 1e9);
    if (wait_until(r, end, interval, true)) {
        r->judge_to = mono_ns();
        return;
    }
    r->judge_to = mono_ns(); /* what happens while it stops is not judged */
    r->stopped = true;
    kill(r->pid, SIGTERM);
    if (!wait_until(r, mono_ns() + (int64_t)(o->grace * 1e9), 10000000, false)) {
        kill(r->pid, SIGKILL);
        launch_wait("soak", r->pid, &r->status);
    }
}

/* 0 if the way the program ended can be judged, else the error printed. */
static int check_ending(const struct soak_run *r, const char *prog)
{
    if (WIFSIGNALED(r->status)) {
        int sig = WTERMSIG(r->status);
        if (r->stopped && (sig == SIGTERM || sig == SIGKILL))
            return 0;
        cli_error("soak: %s crashed: killed by signal %d (%s)", prog, sig, strsignal(sig));
        return -1;
    }
    int code = WEXITSTATUS(r->status);
    if (code != 0 && !r->stopped) {
        cli_error("soak: %s failed: exit status %d", prog, code);
        return -1;
    }
    return 0;
}

/* ---- output ------------------------------------------------------------------------- */

static void print_value(FILE *out, enum soak_metric m, double v)
{
    if (m == SOAK_RSS)
        fprintf(out, "%8.1f MiB", v / (1024.0 * 1024.0));
    else
        fprintf(out, "%12.0f", v);
}

static const char *site_noun(enum soak_metric m)
{
    return m == SOAK_CONTEXTS ? "live contexts created"
           : m == SOAK_WAITERS ? "threads blocked waiting"
                               : "running threads created";
}

static void print_report(FILE *out, const struct report *rep, const char *prog,
                         const struct soak_opts *o,
                         const struct soak_run *r, const struct soak_series *s,
                         const struct ct_trend *t, const struct soak_sites *sites)
{
    fprintf(out, "soak: %s ran %.1f s%s; judged %zu samples over %.1f s after a %.1f s "
                 "warm-up\n",
            prog, (double)(r->judge_to - r->start) / 1e9,
            r->stopped ? " (stopped by soak)" : " (exited by itself)", s->n,
            (double)(s->ts[s->n - 1] - s->ts[0]) / 1e9, o->warmup);
    fprintf(out, "  %-16s %12s %12s %10s %12s  %s\n", "quantity", "first", "last",
            "slope/s", "growth", "verdict");
    for (int m = 0; m < SOAK_NMETRICS; m++) {
        fprintf(out, "  %-16s ", soak_metrics[m].name);
        print_value(out, m, t[m].first);
        fputc(' ', out);
        print_value(out, m, t[m].last);
        double scale = m == SOAK_RSS ? 1024.0 * 1024.0 : 1.0;
        fprintf(out, " %10.2f %12.1f  %s\n", t[m].slope / scale, t[m].growth / scale,
                t[m].grows ? "GROWS" : "steady");
    }
    for (size_t i = 0; i < sites->len; i++) {
        const struct soak_site *g = &sites->items[i];
        if (i == 0 || sites->items[i - 1].metric != g->metric)
            fprintf(out, "\n%s grow at:\n", site_noun(g->metric));
        fputs("  ", out);
        if (g->stack.depth > 0)
            report_text_frame(out, rep, &g->stack.frames[0]);
        else
            fputs("an unknown site", out);
        fprintf(out, ": +%.1f/s (%.0f -> %.0f live; %ld in all)\n", g->trend.slope,
                g->trend.first, g->trend.last, g->total);
        for (int k = 0; k < g->stack.depth; k++) {
            fprintf(out, "    #%d ", k);
            report_text_frame(out, rep, &g->stack.frames[k]);
            fputc('\n', out);
        }
    }
}

/* The last word: what grows, and the findings unless --no-findings set them aside. */
static void print_verdict(FILE *out, const struct ct_trend *t, bool grows,
                          const struct report *rep, bool no_findings)
{
    size_t nfind = rep->findings.len;
    bool fails = grows || (nfind > 0 && !no_findings);
    fputs(fails ? "\nSOAK: FAIL: " : "\nSOAK: PASS: ", out);
    if (grows) {
        const char *sep = "";
        for (int m = 0; m < SOAK_NMETRICS; m++)
            if (t[m].grows) {
                fprintf(out, "%s%s grow", sep, soak_metrics[m].name);
                sep = ", ";
            }
    } else {
        fputs("nothing grows", out);
    }
    if (nfind > 0)
        fprintf(out, "; %zu finding%s in the trace%s", nfind, nfind == 1 ? "" : "s",
                no_findings ? " (not judged: --no-findings)" : "");
    else
        fputs("; no findings", out);
    fputc('\n', out);
}

static void json_frames(struct json *j, const struct ct_stack *st)
{
    json_array(j);
    for (int k = 0; k < st->depth; k++) {
        json_object_inline(j);
        report_json_frame(j, &st->frames[k], true);
        json_end_object(j);
    }
    json_end_array(j);
}

static void json_trend(struct json *j, const struct ct_trend *t)
{
    json_key(j, "slope_per_s");
    json_double(j, t->slope);
    json_key(j, "growth");
    json_double(j, t->growth);
    json_key(j, "floor");
    json_double(j, t->floor);
    json_key(j, "noise");
    json_double(j, t->noise);
    json_key(j, "first");
    json_double(j, t->first);
    json_key(j, "last");
    json_double(j, t->last);
    json_key(j, "grows");
    json_bool(j, t->grows);
}

static int write_json(const char *path, const char *prog, const struct soak_opts *o,
                      const struct soak_run *r, const char *trace,
                      const struct soak_series *s, const struct ct_trend *t,
                      const struct soak_sites *sites, bool grows, const struct report *rep)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        cli_error("soak: %s: %s", path, strerror(errno));
        return -1;
    }
    struct json j;
    json_init(&j, f);
    json_object(&j);
    json_key(&j, "version");
    json_int(&j, 1);
    json_key(&j, "program");
    json_string(&j, prog);
    json_key(&j, "trace");
    json_string(&j, trace);
    json_key(&j, "duration_s");
    json_double(&j, o->duration);
    json_key(&j, "warmup_s");
    json_double(&j, o->warmup);
    json_key(&j, "interval_ms");
    json_int(&j, o->interval_ms);
    json_key(&j, "ran_s");
    json_double(&j, (double)(r->judge_to - r->start) / 1e9);
    json_key(&j, "stopped_by_soak");
    json_bool(&j, r->stopped);
    json_key(&j, "decision");
    json_string(&j, grows ? "grows" : "steady");
    /* The trace's findings after the suppressions, by rule and site (`ctxtrace report
     * --format json` has them in full), and whether they could fail the soak. */
    json_key(&j, "findings");
    json_array(&j);
    for (size_t i = 0; i < rep->findings.len; i++) {
        const struct ct_finding *f = &rep->findings.items[i];
        json_object_inline(&j);
        json_key(&j, "rule");
        json_string(&j, ct_rule_name(f->rule));
        json_key(&j, "count");
        json_int(&j, f->count);
        json_key(&j, "site");
        json_object_inline(&j);
        report_json_frame(&j, &f->site, false);
        json_end_object(&j);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_key(&j, "findings_judged");
    json_bool(&j, !o->no_findings);
    json_key(&j, "metrics");
    json_array(&j);
    for (int m = 0; m < SOAK_NMETRICS; m++) {
        json_object_inline(&j);
        json_key(&j, "name");
        json_string(&j, soak_metrics[m].key);
        json_trend(&j, &t[m]);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_key(&j, "sites");
    json_array(&j);
    for (size_t i = 0; i < sites->len; i++) {
        const struct soak_site *g = &sites->items[i];
        json_object(&j);
        json_key(&j, "metric");
        json_string(&j, soak_metrics[g->metric].key);
        static const struct ct_frame unknown = {0};
        json_key(&j, "site");
        json_object_inline(&j);
        report_json_frame(&j, g->stack.depth > 0 ? &g->stack.frames[0] : &unknown, false);
        json_end_object(&j);
        json_key(&j, "total");
        json_int(&j, g->total);
        json_trend(&j, &g->trend);
        json_key(&j, "stack");
        json_frames(&j, &g->stack);
        json_end_object(&j);
    }
    json_end_array(&j);
    /* Every judged sample, seconds from the program's start. */
    json_key(&j, "samples");
    json_array(&j);
    for (size_t i = 0; i < s->n; i++) {
        json_object_inline(&j);
        json_key(&j, "t_s");
        json_double(&j, (double)(s->ts[i] - r->start) / 1e9);
        for (int m = 0; m < SOAK_NMETRICS; m++) {
            json_key(&j, soak_metrics[m].key);
            json_int(&j, (int64_t)s->v[m][i]);
        }
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
    if (fclose(f) != 0) {
        cli_error("soak: %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Judge the trace of a finished run: 0 steady, 1 grows, 2 error. */
static int judge(const char *prog, struct soak_opts *o, const struct soak_run *r,
                 const char *trace)
{
    char err[512];
    ct_reader *db = ct_reader_open(trace, err, sizeof err);
    if (db == NULL) {
        cli_error("soak: %s", err);
        return CLI_EXIT_ERROR;
    }
    int code = CLI_EXIT_ERROR;
    struct soak_series s;
    struct soak_sites sites = {0};
    struct ct_trend t[SOAK_NMETRICS];
    if (soak_read_samples(db, r->judge_from, r->judge_to, r->fd_ts, r->fd_v, r->nfd, &s, err,
                          sizeof err) != 0) {
        cli_error("soak: %s: %s", trace, err);
        goto out;
    }
    bool grows = false;
    for (int m = 0; m < SOAK_NMETRICS; m++) {
        if (!ct_trend_judge(s.ts, s.v[m], s.n, soak_metrics[m].floor, &t[m])) {
            cli_error("soak: too short to judge: %zu samples after the %.1f s warm-up "
                      "(at least %d are needed; %s ran %.1f s)",
                      s.n, o->warmup, CT_TREND_MIN_POINTS, prog,
                      (double)(r->judge_to - r->start) / 1e9);
            goto out;
        }
        grows = grows || t[m].grows;
    }
    /* Sites for what grows: contexts (timers live in contexts), waits, threads. */
    static const struct { enum soak_metric metric, sites; } site_of[] = {
        {SOAK_CONTEXTS, SOAK_CONTEXTS}, {SOAK_TIMERS, SOAK_CONTEXTS},
        {SOAK_WAITERS, SOAK_WAITERS},   {SOAK_THREADS, SOAK_THREADS},
    };
    bool done[SOAK_NMETRICS] = {false};
    for (size_t k = 0; k < sizeof site_of / sizeof *site_of; k++) {
        enum soak_metric sm = site_of[k].sites;
        if (!t[site_of[k].metric].grows || done[sm])
            continue;
        done[sm] = true;
        if (soak_growing_sites(db, &s, sm, &sites, err, sizeof err) != 0) {
            cli_error("soak: %s: %s", trace, err);
            goto out;
        }
    }
    /* The findings of the trace, as `ctxtrace report` prints them: a leak bounded by a
     * timeout levels off and never grows, but it is still a finding. */
    struct report rep;
    if (report_build(&rep, trace, &o->report, err, sizeof err) != 0) {
        cli_error("soak: %s", err);
        goto out;
    }
    print_report(stdout, &rep, prog, o, r, &s, t, &sites);
    fputc('\n', stdout);
    report_text(stdout, &rep);
    print_verdict(stdout, t, grows, &rep, o->no_findings);
    fprintf(stdout, "trace: %s\n", trace);
    code = grows || (rep.findings.len > 0 && !o->no_findings) ? 1 : 0;
    if (o->json != NULL &&
        write_json(o->json, prog, o, r, trace, &s, t, &sites, grows, &rep) != 0)
        code = CLI_EXIT_ERROR;
    report_free(&rep);
out:
    soak_sites_free(&sites);
    soak_series_free(&s);
    ct_reader_close(db);
    return code;
}

static int soak(int argc, char **argv, struct soak_opts *o);

int cmd_soak(int argc, char **argv)
{
    struct soak_opts o;
    int code = soak(argc, argv, &o);
    report_opts_free(&o.report);
    return code;
}

static int soak(int argc, char **argv, struct soak_opts *o)
{
    int i = parse(argc, argv, o);
    if (i <= 0)
        return i == 0 ? 0 : CLI_EXIT_ERROR;
    struct launch l;
    if (!launch_prepare(&l, "soak", argv + i))
        return CLI_EXIT_ERROR;
    /* -o never touches a file that is not a trace, and replaces a trace only with
     * --force (launch.h). */
    struct launch_output out;
    if (o->out == NULL)
        launch_output_default(&out);
    else if (!launch_output_named("soak", o->out, o->force, &out))
        return CLI_EXIT_ERROR;

    /* Ctrl-C or a kill of soak ends the run early; the program is stopped as at the end
     * of the duration and what was seen is judged. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    char env[32], keep_env[32];
    snprintf(env, sizeof env, "CTXTRACE_SAMPLE_MS=%d", o->interval_ms);
    snprintf(keep_env, sizeof keep_env, "CTXTRACE_KEEP=%s", ct_keep_name(o->keep));
    const char *const extra_env[] = {env, keep_env, NULL};
    struct soak_run r = {.start = mono_ns()};
    r.judge_from = r.start + (int64_t)(o->warmup * 1e9);
    r.pid = launch_start(&l, "soak", argv + i, &out, extra_env);
    if (r.pid < 0) {
        launch_output_done(&out);
        return CLI_EXIT_ERROR;
    }
    const char *trace = out.shown;
    soak_progress_init(&r.progress, trace, r.start, o->duration, o->verbose);
    soak_program(&r, o);
    soak_progress_end(&r.progress);

    int code = CLI_EXIT_ERROR;
    bool wrote = launch_output_done(&out);
    if (check_ending(&r, argv[i]) == 0) {
        if (!wrote)
            cli_error("soak: no trace: %s never loaded libctxtrace.so", argv[i]);
        else
            code = judge(argv[i], o, &r, trace);
    }
    free(r.fd_ts);
    free(r.fd_v);
    return code;
}
