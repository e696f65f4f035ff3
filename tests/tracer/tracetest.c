/*
 * tracetest.c — see tracetest.h.
 */
#define _GNU_SOURCE
#include "tracetest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int tt_failures;

/* Sanitizer builds: the drivers keep small strings for their whole (short) life, which
 * is not a leak worth reporting; the programs they run keep LeakSanitizer on. */
const char *__asan_default_options(void);
__attribute__((used, visibility("default"))) const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

/* ---- assertions ------------------------------------------------------------------ */

static void vreport(const char *tag, const char *file, int line, const char *fmt, va_list ap)
{
    if (file != NULL)
        fprintf(stdout, "%s %s:%d: ", tag, file, line);
    else
        fprintf(stdout, "%s ", tag);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void tt_fail_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("FAIL", file, line, fmt, ap);
    va_end(ap);
    tt_failures++;
}

void tt_ok(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("ok  ", NULL, 0, fmt, ap);
    va_end(ap);
}

int tt_finish(const char *test)
{
    if (tt_failures == 0) {
        printf("PASS %s\n", test);
        return 0;
    }
    printf("FAILED %s: %d check%s failed\n", test, tt_failures, tt_failures == 1 ? "" : "s");
    return 1;
}

static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    return s;
}

char *tt_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    return s;
}

bool tt_check_at(bool cond, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = vfmt(fmt, ap);
    va_end(ap);
    if (cond)
        tt_ok("%s", what);
    else
        tt_fail_at(file, line, "%s: does not hold: %s", what, expr);
    free(what);
    return cond;
}

static const char *int_text(int64_t v, char buf[32])
{
    if (v == TT_NULL)
        return "NULL";
    snprintf(buf, 32, "%" PRId64, v);
    return buf;
}

bool tt_eq_at(int64_t expected, int64_t observed, const char *file, int line, const char *fmt,
              ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = vfmt(fmt, ap);
    va_end(ap);
    char a[32], b[32];
    bool ok = expected == observed;
    if (ok)
        tt_ok("%s = %s", what, int_text(observed, b));
    else
        tt_fail_at(file, line, "%s: expected %s, observed %s", what, int_text(expected, a),
                   int_text(observed, b));
    free(what);
    return ok;
}

bool tt_streq_at(const char *expected, const char *observed, const char *file, int line,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = vfmt(fmt, ap);
    va_end(ap);
    bool ok = (expected == NULL && observed == NULL) ||
              (expected != NULL && observed != NULL && strcmp(expected, observed) == 0);
    if (ok)
        tt_ok("%s = %s%s%s", what, observed ? "'" : "", observed ? observed : "NULL",
              observed ? "'" : "");
    else
        tt_fail_at(file, line, "%s: expected %s%s%s, observed %s%s%s", what,
                   expected ? "'" : "", expected ? expected : "NULL", expected ? "'" : "",
                   observed ? "'" : "", observed ? observed : "NULL", observed ? "'" : "");
    free(what);
    return ok;
}

bool tt_contains_at(const char *haystack, const char *needle, const char *file, int line,
                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = vfmt(fmt, ap);
    va_end(ap);
    bool ok = haystack != NULL && strstr(haystack, needle) != NULL;
    if (ok)
        tt_ok("%s contains '%s'", what, needle);
    else
        tt_fail_at(file, line, "%s: expected to contain '%s'; it is:\n----\n%s\n----", what,
                   needle, haystack ? haystack : "(nothing)");
    free(what);
    return ok;
}

int tt_count(const char *haystack, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = haystack; p != NULL && len > 0 && (p = strstr(p, needle)) != NULL;
         p += len)
        n++;
    return n;
}

/* ---- files ------------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void mkdir_p(const char *dir)
{
    char *copy = strdup(dir);
    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(copy, 0755);
            *p = '/';
        }
    }
    if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkdir %s: %s\n", copy, strerror(errno));
        abort();
    }
    free(copy);
}

void tt_fresh_dir(const char *dir)
{
    if (dir == NULL || dir[0] != '/' || strlen(dir) < 8) {
        fprintf(stderr, "refusing to recreate directory '%s'\n", dir ? dir : "(null)");
        abort();
    }
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    mkdir_p(dir);
}

char *tt_slurp(const char *path, size_t *lenp)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = '\0';
    if (lenp != NULL)
        *lenp = len;
    return buf;
}

bool tt_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char *tt_list_dir(const char *dir, const char *suffix, int *count)
{
    DIR *d = opendir(dir);
    char *names[1024];
    int n = 0;
    size_t sl = strlen(suffix);
    if (d != NULL) {
        for (struct dirent *e; (e = readdir(d)) != NULL && n < 1024;) {
            size_t len = strlen(e->d_name);
            if (e->d_name[0] == '.' || len < sl || strcmp(e->d_name + len - sl, suffix) != 0)
                continue;
            names[n++] = strdup(e->d_name);
        }
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    size_t total = 1;
    for (int i = 0; i < n; i++)
        total += strlen(names[i]) + 1;
    char *out = calloc(1, total);
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(out, " ");
        strcat(out, names[i]);
        free(names[i]);
    }
    if (count != NULL)
        *count = n;
    return out;
}

char *tt_canonical(const char *path)
{
    char buf[PATH_MAX];
    if (path != NULL && realpath(path, buf) != NULL)
        return strdup(buf);
    return strdup(path ? path : "");
}

int tt_source_line(const char *file, const char *needle)
{
    char *text = tt_slurp(file, NULL);
    if (text == NULL) {
        TT_FAIL("cannot read source %s: %s", file, strerror(errno));
        return -1;
    }
    int found = -1, matches = 0, lineno = 1;
    char where[512] = "";
    for (char *line = text; line != NULL; lineno++) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strstr(line, needle) != NULL) {
            matches++;
            found = lineno;
            size_t w = strlen(where);
            snprintf(where + w, sizeof where - w, " %d", lineno);
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(text);
    if (matches != 1) {
        TT_FAIL("%s: expected exactly one line containing '%s', found %d (lines:%s)", file,
                needle, matches, where);
        return -1;
    }
    return found;
}

char *tt_site_key(const char *file, const char *needle)
{
    int line = tt_source_line(file, needle);
    if (line < 0)
        return NULL;
    char *canon = tt_canonical(file);
    char *key = tt_fmt("%s:%d", canon, line);
    free(canon);
    return key;
}

/* ---- processes ---------------------------------------------------------------------- */

double tt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool tt_spawn(const struct tt_cmd *cmd, struct tt_proc *p)
{
    memset(p, 0, sizeof *p);
    p->out_fd = -1;
    int pipefd[2] = {-1, -1};
    if (cmd->out_pipe && pipe2(pipefd, O_CLOEXEC) != 0) {
        TT_FAIL("pipe: %s", strerror(errno));
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        TT_FAIL("fork: %s", strerror(errno));
        return false;
    }
    if (pid == 0) {
        setpgid(0, 0);
        /* A clean signal state: default actions, nothing blocked. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int s = 1; s < NSIG; s++)
            if (s != SIGKILL && s != SIGSTOP)
                signal(s, SIG_DFL);
        if (cmd->cwd != NULL && chdir(cmd->cwd) != 0)
            _exit(126);
        if (cmd->one_cpu) {
            cpu_set_t set;
            if (sched_getaffinity(0, sizeof set, &set) == 0) {
                for (int c = 0; c < CPU_SETSIZE; c++) {
                    if (CPU_ISSET(c, &set)) {
                        CPU_ZERO(&set);
                        CPU_SET(c, &set);
                        sched_setaffinity(0, sizeof set, &set);
                        break;
                    }
                }
            }
        }
        int in = open("/dev/null", O_RDONLY);
        dup2(in, 0);
        if (cmd->out_pipe) {
            dup2(pipefd[1], 1);
        } else if (cmd->out_path != NULL) {
            int fd = open(cmd->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
        }
        if (cmd->err_path != NULL) {
            int fd = open(cmd->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 2);
        }
        for (const char *const *e = cmd->env; e != NULL && *e != NULL; e++) {
            const char *eq = strchr(*e, '=');
            if (eq == NULL) {
                unsetenv(*e);
            } else {
                char *name = strndup(*e, (size_t)(eq - *e));
                setenv(name, eq + 1, 1);
                free(name);
            }
        }
        execv(cmd->argv[0], (char *const *)cmd->argv);
        fprintf(stderr, "exec %s: %s\n", cmd->argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* both sides: no race with the child's own setpgid */
    p->pid = pid;
    if (cmd->out_pipe) {
        close(pipefd[1]);
        p->out_fd = pipefd[0];
    }
    return true;
}

int tt_wait(struct tt_proc *p, double timeout_s, const char *what)
{
    double deadline = tt_now() + timeout_s;
    for (;;) {
        int status;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            if (p->out_fd >= 0) {
                close(p->out_fd);
                p->out_fd = -1;
            }
            return status;
        }
        if (r < 0 && errno != EINTR) {
            TT_FAIL("%s: waitpid: %s", what, strerror(errno));
            return -1;
        }
        if (tt_now() > deadline) {
            TT_FAIL("%s: still running after %.0f s (hung: deadlock?); killing it", what,
                    timeout_s);
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            if (p->out_fd >= 0) {
                close(p->out_fd);
                p->out_fd = -1;
            }
            return -1;
        }
        /* Polling the child's state is the only portable way to bound the wait; this
         * is a timeout, not synchronization. */
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

char *tt_read_line(struct tt_proc *p, double timeout_s, const char *what)
{
    double deadline = tt_now() + timeout_s;
    for (;;) {
        char *nl = memchr(p->buf, '\n', p->have);
        if (nl != NULL) {
            size_t n = (size_t)(nl - p->buf);
            char *line = strndup(p->buf, n);
            memmove(p->buf, nl + 1, p->have - n - 1);
            p->have -= n + 1;
            return line;
        }
        double left = deadline - tt_now();
        if (left <= 0) {
            TT_FAIL("%s: no line within %.0f s", what, timeout_s);
            return NULL;
        }
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            continue;
        ssize_t got = read(p->out_fd, p->buf + p->have, sizeof p->buf - p->have - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            TT_FAIL("%s: output ended before a line came%s%.*s", what,
                    p->have ? "; partial: " : "", (int)p->have, p->buf);
            return NULL;
        }
        p->have += (size_t)got;
    }
}

int tt_exit_code(int status)
{
    if (status < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *tt_status_text(int status)
{
    static char buf[64];
    if (status < 0)
        snprintf(buf, sizeof buf, "(no status: hung)");
    else if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(status));
    else
        snprintf(buf, sizeof buf, "signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    return buf;
}

int tt_run(const struct tt_cmd *cmd, double timeout_s, struct tt_output *o, const char *what)
{
    memset(o, 0, sizeof *o);
    o->status = -1;
    struct tt_proc p;
    if (!tt_spawn(cmd, &p))
        return -1;
    o->status = tt_wait(&p, timeout_s, what);
    o->out = cmd->out_path ? tt_slurp(cmd->out_path, NULL) : NULL;
    o->err = cmd->err_path ? tt_slurp(cmd->err_path, NULL) : NULL;
    if (o->out == NULL)
        o->out = strdup("");
    if (o->err == NULL)
        o->err = strdup("");
    printf("---- %s: %s\n", what, tt_status_text(o->status));
    printf("---- stdout:\n%s", o->out);
    printf("---- stderr:\n%s", o->err);
    printf("----\n");
    return o->status;
}

void tt_output_free(struct tt_output *o)
{
    free(o->out);
    free(o->err);
    o->out = o->err = NULL;
}

/* ---- trace files: the site functions ---------------------------------------------- */

struct site {
    int64_t stack;
    char *key, *function, *module;
    struct site *next;
};

enum { SITE_BUCKETS = 4096 };

struct site_cache {
    sqlite3 *db;
    struct site *buckets[SITE_BUCKETS];
};

static bool is_tracer_module(const char *module)
{
    if (module == NULL)
        return false;
    const char *base = strrchr(module, '/');
    base = base ? base + 1 : module;
    return strncmp(base, "libctxtrace.so", 14) == 0 ||
           strcmp(base, "libctxtrace_preload.so") == 0;
}

static struct site *site_lookup(struct site_cache *c, int64_t stack)
{
    size_t b = (size_t)((uint64_t)stack * 0x9e3779b97f4a7c15ull >> 52) % SITE_BUCKETS;
    for (struct site *s = c->buckets[b]; s != NULL; s = s->next)
        if (s->stack == stack)
            return s;
    struct site *s = calloc(1, sizeof *s);
    s->stack = stack;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT f.module, f.file, f.line, f.function FROM stack_frames sf "
                           "JOIN frames f ON f.id = sf.frame_id WHERE sf.stack_id = ? "
                           "ORDER BY sf.idx",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, stack);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *module = (const char *)sqlite3_column_text(st, 0);
            if (is_tracer_module(module))
                continue;
            const char *file = (const char *)sqlite3_column_text(st, 1);
            char *canon = tt_canonical(file ? file : "?");
            s->key = tt_fmt("%s:%d", canon, sqlite3_column_int(st, 2));
            free(canon);
            const char *fn = (const char *)sqlite3_column_text(st, 3);
            s->function = fn ? strdup(fn) : NULL;
            s->module = module ? tt_canonical(module) : NULL;
            break;
        }
        sqlite3_finalize(st);
    }
    s->next = c->buckets[b];
    c->buckets[b] = s;
    return s;
}

/* Three thin wrappers: sqlite3_user_data carries the cache; the column is fixed. */
#define SITE_WRAPPER(name, field)                                                        \
    static void name(sqlite3_context *ctx, int argc, sqlite3_value **argv)              \
    {                                                                                    \
        (void)argc;                                                                      \
        if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {                                \
            sqlite3_result_null(ctx);                                                    \
            return;                                                                      \
        }                                                                                \
        struct site *s = site_lookup(sqlite3_user_data(ctx), sqlite3_value_int64(argv[0])); \
        if (s->field == NULL)                                                            \
            sqlite3_result_null(ctx);                                                    \
        else                                                                             \
            sqlite3_result_text(ctx, s->field, -1, SQLITE_TRANSIENT);                    \
    }
SITE_WRAPPER(site_key_fn, key)
SITE_WRAPPER(site_function_fn, function)
SITE_WRAPPER(site_module_fn, module)

static void site_cache_free(void *p)
{
    struct site_cache *c = p;
    for (int b = 0; b < SITE_BUCKETS; b++) {
        for (struct site *s = c->buckets[b], *next; s != NULL; s = next) {
            next = s->next;
            free(s->key);
            free(s->function);
            free(s->module);
            free(s);
        }
    }
    free(c);
}

sqlite3 *tt_db_open(const char *path, bool readonly)
{
    sqlite3 *db = NULL;
    int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (!tt_exists(path)) {
        TT_FAIL("trace file %s does not exist", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        TT_FAIL("cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    struct site_cache *c = calloc(1, sizeof *c);
    c->db = db;
    sqlite3_create_function_v2(db, "site", 1, SQLITE_UTF8, c, site_key_fn, NULL, NULL,
                               site_cache_free);
    sqlite3_create_function_v2(db, "site_function", 1, SQLITE_UTF8, c, site_function_fn, NULL,
                               NULL, NULL);
    sqlite3_create_function_v2(db, "site_module", 1, SQLITE_UTF8, c, site_module_fn, NULL,
                               NULL, NULL);
    return db;
}

void tt_db_close(sqlite3 *db)
{
    sqlite3_close(db);
}

/* ---- trace files: queries ------------------------------------------------------------ */

static sqlite3_stmt *vprepare(sqlite3 *db, char **sqlp, const char *fmt, va_list ap)
{
    char *sql = sqlite3_vmprintf(fmt, ap);
    sqlite3_stmt *st = NULL;
    if (db == NULL) {
        TT_FAIL("no database for: %s", sql);
    } else if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        TT_FAIL("SQL error: %s in: %s", sqlite3_errmsg(db), sql);
        st = NULL;
    }
    *sqlp = sql;
    return st;
}

static int64_t vq_int(sqlite3 *db, char **sqlp, const char *fmt, va_list ap)
{
    sqlite3_stmt *st = vprepare(db, sqlp, fmt, ap);
    int64_t v = TT_NULL;
    if (st == NULL)
        return v;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        TT_FAIL("SQL error: %s in: %s", sqlite3_errmsg(db), *sqlp);
    sqlite3_finalize(st);
    return v;
}

int64_t tt_q_int(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql;
    int64_t v = vq_int(db, &sql, fmt, ap);
    va_end(ap);
    sqlite3_free(sql);
    return v;
}

static char *vq_text(sqlite3 *db, char **sqlp, const char *fmt, va_list ap)
{
    sqlite3_stmt *st = vprepare(db, sqlp, fmt, ap);
    char *v = NULL;
    if (st == NULL)
        return v;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = strdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        TT_FAIL("SQL error: %s in: %s", sqlite3_errmsg(db), *sqlp);
    sqlite3_finalize(st);
    return v;
}

char *tt_q_text(sqlite3 *db, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql;
    char *v = vq_text(db, &sql, fmt, ap);
    va_end(ap);
    sqlite3_free(sql);
    return v;
}

static char *vq_rows(sqlite3 *db, int max_rows, const char *fmt, va_list ap)
{
    char *sql;
    sqlite3_stmt *st = vprepare(db, &sql, fmt, ap);
    sqlite3_free(sql);
    size_t cap = 256, len = 0;
    char *out = calloc(1, cap);
    if (st == NULL)
        return out;
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (rows++ == max_rows) {
            char more[] = "  ...\n";
            if (len + sizeof more >= cap)
                out = realloc(out, cap = cap * 2 + sizeof more);
            memcpy(out + len, more, sizeof more);
            len += sizeof more - 1;
            break;
        }
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            if (v == NULL)
                v = "NULL";
            size_t need = strlen(v) + 8;
            if (len + need >= cap)
                out = realloc(out, cap = cap * 2 + need);
            len += (size_t)sprintf(out + len, "%s%s", c ? "|" : "  ", v);
        }
        if (len + 2 >= cap)
            out = realloc(out, cap *= 2);
        out[len++] = '\n';
        out[len] = '\0';
    }
    sqlite3_finalize(st);
    return out;
}

char *tt_q_rows(sqlite3 *db, int max_rows, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *rows = vq_rows(db, max_rows, fmt, ap);
    va_end(ap);
    return rows;
}

bool tt_q_eq_at(sqlite3 *db, int64_t expected, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql;
    int64_t v = vq_int(db, &sql, fmt, ap);
    va_end(ap);
    bool ok = tt_eq_at(expected, v, file, line, "%s", sql);
    sqlite3_free(sql);
    return ok;
}

bool tt_q_zero_at(sqlite3 *db, const char *detail, const char *file, int line, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql;
    int64_t v = vq_int(db, &sql, fmt, ap);
    va_end(ap);
    bool ok = tt_eq_at(0, v, file, line, "%s", sql);
    if (!ok && detail != NULL) {
        char *rows = tt_q_rows(db, 20, "%s", detail);
        printf("     offending rows (%s):\n%s", detail, rows);
        free(rows);
    }
    sqlite3_free(sql);
    return ok;
}

bool tt_q_text_at(sqlite3 *db, const char *expected, const char *file, int line,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *sql;
    char *v = vq_text(db, &sql, fmt, ap);
    va_end(ap);
    bool ok = tt_streq_at(expected, v, file, line, "%s", sql);
    free(v);
    sqlite3_free(sql);
    return ok;
}

int64_t tt_contexts(sqlite3 *db)
{
    return tt_q_int(db, "SELECT count(*) FROM contexts WHERE id > 2");
}

/* ---- trace files: invariants --------------------------------------------------------- */

#define KINDS "('cancel','deadline','value','without_cancel')"
#define BAD(cond) "SELECT id, parent_id, kind, created_ns, create_thread, create_stack FROM contexts WHERE id > 2 AND (" cond ")"

void tt_check_invariants(sqlite3 *db, bool complete)
{
    if (db == NULL)
        return;
    TT_Q_TEXT(db, "ok", "PRAGMA integrity_check");
    TT_Q_EQ(db, 3, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (complete)
        TT_Q_EQ(db, 0, "SELECT value FROM meta WHERE key = 'events_dropped'");

    /* The roots. */
    TT_Q_TEXT(db, "background", "SELECT kind FROM contexts WHERE id = 1 AND parent_id IS NULL");
    TT_Q_TEXT(db, "todo", "SELECT kind FROM contexts WHERE id = 2 AND parent_id IS NULL");
    TT_Q_EQ(db, 2, "SELECT count(*) FROM contexts WHERE kind IN ('background','todo')");

    /* Every other row: a whole creation record. */
    TT_Q_ZERO(db, BAD("kind IS NULL OR kind NOT IN " KINDS),
              "SELECT count(*) FROM contexts WHERE id > 2 AND (kind IS NULL OR kind NOT IN " KINDS ")");
    TT_Q_ZERO(db, BAD("created_ns IS NULL OR create_thread IS NULL OR create_stack IS NULL"),
              "SELECT count(*) FROM contexts WHERE id > 2 AND "
              "(created_ns IS NULL OR create_thread IS NULL OR create_stack IS NULL)");
    TT_Q_ZERO(db, BAD("parent_id IS NULL OR parent_id NOT IN (SELECT id FROM contexts)"),
              "SELECT count(*) FROM contexts WHERE id > 2 AND "
              "(parent_id IS NULL OR parent_id NOT IN (SELECT id FROM contexts))");
    TT_Q_ZERO(db,
              "SELECT c.id, c.created_ns, p.id, p.created_ns FROM contexts c "
              "JOIN contexts p ON p.id = c.parent_id WHERE p.id > 2 AND c.created_ns < p.created_ns",
              "SELECT count(*) FROM contexts c JOIN contexts p ON p.id = c.parent_id "
              "WHERE p.id > 2 AND c.created_ns < p.created_ns");
    TT_Q_ZERO(db, BAD("create_thread NOT IN (SELECT id FROM threads)"),
              "SELECT count(*) FROM contexts WHERE id > 2 AND "
              "create_thread NOT IN (SELECT id FROM threads)");
    TT_Q_ZERO(db, BAD("create_stack NOT IN (SELECT id FROM stacks)"),
              "SELECT count(*) FROM contexts WHERE id > 2 AND "
              "create_stack NOT IN (SELECT id FROM stacks)");

    /* Stacks: every frame present and symbolized into a module. */
    TT_Q_ZERO(db,
              "SELECT s.id, s.depth, (SELECT count(*) FROM stack_frames f WHERE f.stack_id = s.id) "
              "FROM stacks s",
              "SELECT count(*) FROM stacks s WHERE s.depth < 1 OR s.depth != "
              "(SELECT count(*) FROM stack_frames f WHERE f.stack_id = s.id)");
    TT_Q_ZERO(db, "SELECT * FROM stack_frames WHERE frame_id NOT IN (SELECT id FROM frames)",
              "SELECT count(*) FROM stack_frames WHERE frame_id NOT IN (SELECT id FROM frames)");
    TT_Q_ZERO(db, "SELECT * FROM frames WHERE module IS NULL",
              "SELECT count(*) FROM frames WHERE module IS NULL");
    /* An inlined frame is followed in its stack by the frame it was inlined into: a
     * logical frame of the same address. */
    TT_Q_ZERO(db,
              "SELECT sf.stack_id, sf.idx, f.* FROM stack_frames sf JOIN frames f "
              "ON f.id = sf.frame_id WHERE f.inlined NOT IN (0, 1) OR (f.inlined = 1 AND "
              "NOT EXISTS (SELECT 1 FROM stack_frames s2 JOIN frames f2 ON f2.id = s2.frame_id "
              "WHERE s2.stack_id = sf.stack_id AND s2.idx = sf.idx + 1 AND f2.ip = f.ip))",
              "SELECT count(*) FROM stack_frames sf JOIN frames f "
              "ON f.id = sf.frame_id WHERE f.inlined NOT IN (0, 1) OR (f.inlined = 1 AND "
              "NOT EXISTS (SELECT 1 FROM stack_frames s2 JOIN frames f2 ON f2.id = s2.frame_id "
              "WHERE s2.stack_id = sf.stack_id AND s2.idx = sf.idx + 1 AND f2.ip = f.ip))");

    /* Cancellation: only cancellable kinds, with a known why and error. */
    TT_Q_ZERO(db, BAD("canceled_ns IS NOT NULL AND kind NOT IN ('cancel','deadline')"),
              "SELECT count(*) FROM contexts WHERE canceled_ns IS NOT NULL AND "
              "kind NOT IN ('cancel','deadline')");
    TT_Q_ZERO(db,
              "SELECT id, kind, created_ns, canceled_ns, cancel_why, cancel_err FROM contexts "
              "WHERE canceled_ns IS NOT NULL AND (cancel_why NOT IN ('explicit','parent','deadline') "
              "OR cancel_err NOT IN (125, 110) OR canceled_ns < created_ns)",
              "SELECT count(*) FROM contexts WHERE canceled_ns IS NOT NULL AND "
              "(cancel_why IS NULL OR cancel_why NOT IN ('explicit','parent','deadline') OR "
              "cancel_err IS NULL OR cancel_err NOT IN (125, 110) OR canceled_ns < created_ns)");
    TT_Q_ZERO(db,
              "SELECT id, cancel_why, cancel_stack FROM contexts WHERE cancel_why = 'explicit' "
              "AND cancel_stack IS NULL",
              "SELECT count(*) FROM contexts WHERE cancel_why = 'explicit' AND "
              "(cancel_stack IS NULL OR cancel_stack NOT IN (SELECT id FROM stacks))");
    /* Release and free. */
    TT_Q_ZERO(db,
              "SELECT id, created_ns, released_ns, released_live, release_stack, freed_ns "
              "FROM contexts WHERE id > 2 AND ((released_ns IS NULL) != (released_live IS NULL) "
              "OR released_live NOT IN (0, 1) OR released_ns < created_ns OR freed_ns < created_ns "
              "OR (released_ns IS NOT NULL AND release_stack IS NULL))",
              "SELECT count(*) FROM contexts WHERE id > 2 AND ((released_ns IS NULL) != "
              "(released_live IS NULL) OR released_live NOT IN (0, 1) OR "
              "released_ns < created_ns OR freed_ns < created_ns OR "
              "(released_ns IS NOT NULL AND (release_stack IS NULL OR "
              "release_stack NOT IN (SELECT id FROM stacks))))");
    /* Deadlines. */
    TT_Q_ZERO(db,
              "SELECT id, kind, requested_deadline_ns, deadline_ns FROM contexts WHERE id > 2 "
              "AND ((kind = 'deadline') != (requested_deadline_ns IS NOT NULL) OR "
              "(kind = 'deadline' AND deadline_ns IS NULL) OR deadline_ns > requested_deadline_ns)",
              "SELECT count(*) FROM contexts WHERE id > 2 AND ((kind = 'deadline') != "
              "(requested_deadline_ns IS NOT NULL) OR (kind = 'deadline' AND deadline_ns IS NULL) "
              "OR deadline_ns > requested_deadline_ns)");
    TT_Q_ZERO(db,
              "SELECT id, kind, timer_armed_ns, timer_stopped_ns, timer_fired_ns FROM contexts "
              "WHERE (timer_armed_ns IS NOT NULL AND kind != 'deadline') OR "
              "(timer_stopped_ns IS NOT NULL AND timer_fired_ns IS NOT NULL) OR "
              "((timer_stopped_ns IS NOT NULL OR timer_fired_ns IS NOT NULL) AND timer_armed_ns IS NULL)",
              "SELECT count(*) FROM contexts WHERE "
              "(timer_armed_ns IS NOT NULL AND kind != 'deadline') OR "
              "(timer_stopped_ns IS NOT NULL AND timer_fired_ns IS NOT NULL) OR "
              "((timer_stopped_ns IS NOT NULL OR timer_fired_ns IS NOT NULL) AND timer_armed_ns IS NULL)");
    /* Threads: the first thread registered (the main thread, or the forking thread in
     * a forked child) is thread 1. A trace cut short may not have committed it yet. */
    if (complete)
        TT_Q_EQ(db, 1, "SELECT count(*) FROM threads WHERE id = 1 AND parent_thread IS NULL");
    TT_Q_ZERO(db, "SELECT * FROM threads WHERE tid IS NULL OR start_ns IS NULL",
              "SELECT count(*) FROM threads WHERE tid IS NULL OR start_ns IS NULL");
}

void tt_check_complete(sqlite3 *db, const char *exit_reason)
{
    TT_Q_EQ(db, 1, "SELECT value FROM meta WHERE key = 'complete'");
    TT_Q_TEXT(db, exit_reason, "SELECT value FROM meta WHERE key = 'exit_reason'");
    TT_Q_EQ(db, 0, "SELECT value FROM meta WHERE key = 'events_dropped'");
    TT_Q_EQ(db, 1,
            "SELECT (SELECT value FROM meta WHERE key = 'end_ns') >= "
            "(SELECT value FROM meta WHERE key = 'start_ns')");
}
