/*
 * run.c — `ctxtrace run [-o FILE.db] [--exitcode N] [--suppressions FILE]...
 *          [--threshold N] [--source-root DIR] [--no-report] -- PROGRAM ARGS...`
 *
 * Runs an unmodified program with the shim in LD_PRELOAD (kept in front of whatever
 * LD_PRELOAD already held), waits for it, says where the trace file is, prints the
 * findings report (report_text.c) on stderr, and exits with the program's status
 * (128+N if a signal N ended it) — or with N of --exitcode N when findings remain
 * after the suppressions, as LeakSanitizer's exitcode option does.
 *
 * The shim is looked for next to this executable (the build tree) and then in
 * <prefix>/<libdir>/ctxtrace/ (an installation); CTXTRACE_PRELOAD overrides both.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"

#ifndef CTXTRACE_REL_LIBDIR
#error "CTXTRACE_REL_LIBDIR (the libdir relative to bindir) must be defined by the build"
#endif

static pid_t child = -1;

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool find_shim(char out[PATH_MAX])
{
    const char *env = getenv("CTXTRACE_PRELOAD");
    if (env != NULL && *env != '\0') {
        if (realpath(env, out) == NULL || !is_file(out)) {
            cli_error("CTXTRACE_PRELOAD=%s: no such file", env);
            return false;
        }
        return true;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    const char *dir = dirname(exe);
    const char *const candidates[] = {"%s/libctxtrace_preload.so",
                                      "%s/" CTXTRACE_REL_LIBDIR "/ctxtrace/libctxtrace_preload.so"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, candidates[i], dir);
        if (is_file(path) && realpath(path, out) != NULL)
            return true;
    }
    cli_error("cannot find libctxtrace_preload.so next to %s or in %s/%s/ctxtrace "
              "(set CTXTRACE_PRELOAD)", dir, dir, CTXTRACE_REL_LIBDIR);
    return false;
}

/* PROGRAM as execvp would find it. */
static bool resolve_program(const char *prog, char *out, size_t len)
{
    if (strchr(prog, '/') != NULL) {
        snprintf(out, len, "%s", prog);
        return access(out, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", *d ? d : ".", prog);
        if (is_file(out) && access(out, X_OK) == 0) {
            free(copy);
            return true;
        }
    }
    free(copy);
    return false;
}

/* LD_PRELOAD only works through the dynamic loader: a static executable (no
 * PT_INTERP) cannot be traced. Scripts (#!) run a dynamic interpreter: fine. */
static bool is_static_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh &&
        memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64) {
        is_static = true;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
                (ssize_t)sizeof ph)
                break;
            if (ph.p_type == PT_INTERP) {
                is_static = false;
                break;
            }
        }
    }
    close(fd);
    return is_static;
}

/* Signals sent to ctxtrace itself (kill, not the terminal: those reach the whole
 * process group anyway) are passed on to the program. */
static void forward(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (child > 0 && info->si_code == SI_USER)
        kill(child, sig);
}

static long count_contexts(const char *path)
{
    sqlite3 *db;
    long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM contexts WHERE id > 2", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return n;
}

static void remove_trace(const char *path)
{
    char side[PATH_MAX + 8];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static bool parse_exitcode(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 255)
        return false;
    *out = (int)v;
    return true;
}

/* The exit report: the findings on stderr. Returns true when findings remain. */
static bool exit_report(const char *trace, struct report_opts *ro)
{
    struct report r;
    char err[1024];
    fflush(stdout);
    if (report_build(&r, trace, ro, err, sizeof err) != 0) {
        cli_error("no report: %s", err);
        return false;
    }
    report_text(stderr, &r);
    bool findings = r.findings.len > 0;
    report_free(&r);
    return findings;
}

static int run(int argc, char **argv, struct report_opts *ro);

int cmd_run(int argc, char **argv)
{
    struct report_opts ro = {0};
    int code = run(argc, argv, &ro);
    report_opts_free(&ro);
    return code;
}

static int run(int argc, char **argv, struct report_opts *ro)
{
    const char *out = NULL;
    int exitcode = -1;
    bool report = true;
    int i = 1;
    for (; i < argc; i++) {
        int rc;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if ((rc = report_option("run", argc, argv, &i, ro)) != 0) {
            if (rc < 0)
                return CLI_EXIT_ERROR;
        } else if (strcmp(argv[i], "--exitcode") == 0 || strncmp(argv[i], "--exitcode=", 11) == 0) {
            const char *v = argv[i][10] == '=' ? argv[i] + 11 : i + 1 < argc ? argv[++i] : NULL;
            if (v == NULL || !parse_exitcode(v, &exitcode)) {
                cli_error("run: --exitcode needs a status from 0 to 255");
                return CLI_EXIT_ERROR;
            }
        } else if (strcmp(argv[i], "--no-report") == 0) {
            report = false;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strncmp(argv[i], "-o", 2) == 0 && argv[i][2] != '\0') {
            out = argv[i] + 2;
        } else if (argv[i][0] == '-') {
            cli_error("run: unknown option '%s'", argv[i]);
            return CLI_EXIT_ERROR;
        } else {
            break; /* the program, without "--" */
        }
    }
    if (i >= argc) {
        cli_error("run: no program given (usage: ctxtrace run [-o FILE.db] [--exitcode N] "
                  "[--suppressions FILE] -- PROGRAM ARGS...)");
        return CLI_EXIT_ERROR;
    }
    /* A bad suppressions file is found before the program runs, not after. */
    if (report_opts_finish(ro) != 0)
        return CLI_EXIT_ERROR;
    char prog[PATH_MAX], shim[PATH_MAX];
    if (!resolve_program(argv[i], prog, sizeof prog)) {
        cli_error("run: %s: no such executable", argv[i]);
        return CLI_EXIT_ERROR;
    }
    if (is_static_elf(prog)) {
        cli_error("run: %s is statically linked; LD_PRELOAD cannot trace it. Link it "
                  "dynamically (against libctxtrace.so) to trace it.", prog);
        return CLI_EXIT_ERROR;
    }
    if (!find_shim(shim))
        return CLI_EXIT_ERROR;

    char trace[PATH_MAX];
    if (out != NULL) {
        /* Absolute, so the program may chdir; replaced if it exists (like -o anywhere). */
        char cwd[PATH_MAX] = "";
        if (out[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
            cli_error("run: getcwd: %s", strerror(errno));
            return CLI_EXIT_ERROR;
        }
        if (snprintf(trace, sizeof trace, "%s%s%s", cwd, cwd[0] ? "/" : "", out) >=
            (int)sizeof trace) {
            cli_error("run: %s: path too long", out);
            return CLI_EXIT_ERROR;
        }
        remove_trace(trace);
    }

    const char *old = getenv("LD_PRELOAD");
    char *preload = malloc(strlen(shim) + (old ? strlen(old) : 0) + 2);
    sprintf(preload, "%s%s%s", shim, old && *old ? ":" : "", old && *old ? old : "");

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    child = fork();
    if (child < 0) {
        cli_error("run: fork: %s", strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (child == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        if (out == NULL) {
            char cwd[PATH_MAX];
            if (getcwd(cwd, sizeof cwd) == NULL ||
                snprintf(trace, sizeof trace, "%s/ctxtrace.%s.%d.db", cwd, basename(prog),
                         (int)getpid()) >= (int)sizeof trace)
                _exit(127);
        }
        setenv("CTXTRACE_OUTPUT", trace, 1);
        setenv("LD_PRELOAD", preload, 1);
        execv(prog, argv + i);
        cli_error("run: %s: %s", prog, strerror(errno));
        _exit(127);
    }
    free(preload);
    if (out == NULL)
        snprintf(trace, sizeof trace, "ctxtrace.%s.%d.db", basename(prog), (int)child);

    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            cli_error("run: waitpid: %s", strerror(errno));
            return CLI_EXIT_ERROR;
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFSIGNALED(status))
        cli_error("%s was killed by signal %d (%s)", argv[i], WTERMSIG(status),
                  strsignal(WTERMSIG(status)));

    if (access(trace, F_OK) != 0) {
        cli_error("no trace: %s never loaded libctxtrace.so", argv[i]);
        return code;
    }
    long n = count_contexts(trace);
    if (n < 0)
        cli_error("trace written to %s (unreadable: see `sqlite3 %s`)", trace, trace);
    else
        cli_error("trace written to %s (%ld contexts)", trace, n);
    if (report && n >= 0 && exit_report(trace, ro) && exitcode >= 0)
        return exitcode;
    return code;
}
