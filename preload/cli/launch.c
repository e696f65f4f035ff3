/*
 * launch.c — starting an unmodified program under the shim (see launch.h).
 *
 * The shim is looked for next to this executable (the build tree) and then in
 * <prefix>/<libdir>/ctxtrace/ (an installation); CTXTRACE_PRELOAD overrides both.
 *
 * The trace's name is claimed here, in the parent, before the program runs (the rules
 * are in launch.h and ctxtrace/core/claim.h); the child waits on a close-on-exec pipe
 * for that name — for the default name, which holds the child's pid, the parent can
 * only claim it after fork — so the program never starts without its file.
 */
#include "launch.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h> /* dirname */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#ifndef CTXTRACE_REL_LIBDIR
#error "CTXTRACE_REL_LIBDIR (the libdir relative to bindir) must be defined by the build"
#endif

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

/* PROGRAM as execvp would find it: 0, or why not — ENOENT (nowhere), EACCES (found,
 * but not executable), EISDIR (a directory). */
static int resolve_program(const char *prog, char *out, size_t len)
{
    struct stat st;
    if (strchr(prog, '/') != NULL) {
        snprintf(out, len, "%s", prog);
        if (stat(out, &st) != 0)
            return errno;
        if (S_ISDIR(st.st_mode))
            return EISDIR;
        return access(out, X_OK) == 0 ? 0 : EACCES;
    }
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL;
    int why = ENOENT;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", *d ? d : ".", prog);
        if (!is_file(out))
            continue;
        if (access(out, X_OK) == 0) {
            free(copy);
            return 0;
        }
        why = EACCES; /* execvp would go on looking, and say EACCES if nothing else */
    }
    free(copy);
    return why;
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

/* The program's file name, for the default trace name. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

bool launch_prepare(struct launch *l, const char *cmd, char *const argv[])
{
    switch (resolve_program(argv[0], l->prog, sizeof l->prog)) {
    case 0:
        break;
    case EACCES:
        cli_error("%s: %s is not executable (chmod +x it, or run its interpreter)", cmd,
                  l->prog);
        return false;
    case EISDIR:
        cli_error("%s: %s is a directory, not a program", cmd, argv[0]);
        return false;
    default:
        cli_error("%s: %s: no such executable", cmd, argv[0]);
        return false;
    }
    if (is_static_elf(l->prog)) {
        cli_error("%s: %s is statically linked; LD_PRELOAD cannot trace it. Link it "
                  "dynamically (against libctxtrace.so) to trace it.", cmd, l->prog);
        return false;
    }
    return find_shim(l->shim);
}

bool launch_abs_path(const char *cmd, const char *out, char abs[PATH_MAX])
{
    char cwd[PATH_MAX] = "";
    if (out[0] != '/' && getcwd(cwd, sizeof cwd) == NULL) {
        cli_error("%s: getcwd: %s", cmd, strerror(errno));
        return false;
    }
    if (snprintf(abs, PATH_MAX, "%s%s%s", cwd, cwd[0] ? "/" : "", out) >= PATH_MAX) {
        cli_error("%s: %s: path too long", cmd, out);
        return false;
    }
    return true;
}

bool launch_check_output(const char *cmd, const char *what, const char *abs)
{
    char dir[PATH_MAX];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", abs);
    const char *parent = dirname(dir);
    if (stat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("%s: cannot write %s to %s: it is a directory", cmd, what, abs);
        return false;
    }
    if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s: cannot write %s to %s: no directory %s", cmd, what, abs, parent);
        return false;
    }
    if (access(parent, W_OK | X_OK) != 0) {
        cli_error("%s: cannot write %s to %s: %s", cmd, what, abs, strerror(errno));
        return false;
    }
    return true;
}

/* Remove a trace nobody writes: its companions first, so that at no moment is there a
 * free name with a stale WAL beside it. */
static bool remove_trace(const char *cmd, const char *path)
{
    const char *const suffixes[] = {"-wal", "-shm", ""};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        char f[PATH_MAX + 8];
        snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
        if (unlink(f) != 0 && errno != ENOENT) {
            cli_error("%s: cannot replace %s: %s", cmd, f, strerror(errno));
            return false;
        }
    }
    return true;
}

bool launch_output_named(const char *cmd, const char *out, bool force,
                         struct launch_output *o)
{
    o->claim = CT_CLAIM_NONE;
    if (!launch_abs_path(cmd, out, o->path) || !launch_check_output(cmd, "the trace", o->path))
        return false;
    snprintf(o->shown, sizeof o->shown, "%s", o->path);
    switch (ct_trace_probe(o->path)) {
    case CT_FILE_OTHER:
        cli_error("%s: %s exists and is not a ctxtrace trace; not touching it (choose "
                  "another -o)", cmd, out);
        return false;
    case CT_FILE_TRACE:
        if (!force) {
            cli_error("%s: %s is an existing trace; --force replaces it", cmd, out);
            return false;
        }
        if (ct_claim_in_use(o->path)) {
            cli_error("%s: %s is being written by a running process; not replacing it",
                      cmd, out);
            return false;
        }
        if (!remove_trace(cmd, o->path))
            return false;
        break;
    case CT_FILE_ABSENT:
        break;
    }
    int err = ct_claim_new(o->path, false, &o->claim);
    if (err == EEXIST)
        cli_error("%s: %s was taken by another process while starting, or an %s-wal or "
                  "-shm without its trace lies beside it; choose another -o", cmd, out, out);
    else if (err != 0)
        cli_error("%s: cannot create %s: %s", cmd, out, strerror(err));
    return err == 0;
}

void launch_output_default(struct launch_output *o)
{
    o->path[0] = '\0';
    o->shown[0] = '\0';
    o->claim = CT_CLAIM_NONE;
}

/* The default name, for process `pid`: the shim's own scheme (output.c). */
static bool claim_default(const struct launch *l, const char *cmd, pid_t pid,
                          struct launch_output *o)
{
    int err = EEXIST;
    for (int i = 0; i < 1000 && err == EEXIST; i++) {
        int w = i == 0 ? snprintf(o->shown, sizeof o->shown, "ctxtrace.%.200s.%d.db",
                                  base_name(l->prog), (int)pid)
                       : snprintf(o->shown, sizeof o->shown, "ctxtrace.%.200s.%d.%d.db",
                                  base_name(l->prog), (int)pid, i);
        if (w < 0 || !launch_abs_path(cmd, o->shown, o->path))
            return false;
        err = ct_claim_new(o->path, false, &o->claim);
    }
    if (err != 0)
        cli_error("%s: cannot create %s: %s", cmd, o->path, strerror(err));
    return err == 0;
}

bool launch_output_done(struct launch_output *o)
{
    bool unused = ct_claim_unused(&o->claim, o->path);
    if (unused)
        unlink(o->path); /* the empty file we made, which nobody took */
    ct_claim_close(&o->claim);
    return !unused;
}

/* The child, until the parent hands it the claimed name: "<path>\0<token>\0" on `fd`.
 * Returns false (the parent gave up and said why) if the pipe closes early. */
static bool receive_output(int fd, char *buf, size_t len, const char **path, const char **token)
{
    size_t n = 0;
    ssize_t r;
    while (n < len && ((r = read(fd, buf + n, len - n)) > 0 || (r < 0 && errno == EINTR)))
        n += r > 0 ? (size_t)r : 0;
    close(fd);
    const char *nul = n > 0 ? memchr(buf, '\0', n) : NULL;
    if (nul == NULL || memchr(nul + 1, '\0', n - (size_t)(nul + 1 - buf)) == NULL)
        return false;
    *path = buf;
    *token = nul + 1;
    return true;
}

static bool send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

/* An ASan-built program aborts at start ("ASan runtime does not come first in initial
 * library list") when anything is preloaded ahead of its runtime, as the shim must be.
 * The check exists because a library in front could hide ASan's interceptors; the
 * shim's interposers (pthread_create, exec*, dlopen) forward with dlsym(RTLD_NEXT),
 * which reaches ASan's, and its own malloc calls resolve to ASan's malloc, so the check
 * can be off. The user's ASAN_OPTIONS come after ours: their settings win. */
static bool asan_allow_preload(void)
{
    static const char ours[] = "verify_asan_link_order=0";
    const char *user = getenv("ASAN_OPTIONS");
    if (user == NULL || user[0] == '\0')
        return setenv("ASAN_OPTIONS", ours, 1) == 0;
    char *both = malloc(sizeof ours + 1 + strlen(user));
    if (both == NULL)
        return false;
    sprintf(both, "%s:%s", ours, user);
    return setenv("ASAN_OPTIONS", both, 1) == 0; /* setenv copies; the child execs next */
}

pid_t launch_start(const struct launch *l, const char *cmd, char *const argv[],
                   struct launch_output *out, const char *const *extra_env)
{
    const char *old = getenv("LD_PRELOAD");
    char *preload = malloc(strlen(l->shim) + (old ? strlen(old) : 0) + 2);
    int handoff[2];
    if (preload == NULL || pipe2(handoff, O_CLOEXEC) != 0) {
        cli_error("%s: %s", cmd, preload == NULL ? "out of memory" : strerror(errno));
        free(preload);
        return -1;
    }
    sprintf(preload, "%s%s%s", l->shim, old && *old ? ":" : "", old && *old ? old : "");

    pid_t pid = fork();
    if (pid < 0) {
        cli_error("%s: fork: %s", cmd, strerror(errno));
        close(handoff[0]);
        close(handoff[1]);
        free(preload);
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        close(handoff[1]);
        static char msg[PATH_MAX + 64];
        const char *path, *token;
        if (!receive_output(handoff[0], msg, sizeof msg, &path, &token))
            _exit(127);
        setenv("CTXTRACE_OUTPUT", path, 1);
        setenv("CTXTRACE_OUTPUT_CLAIM", token, 1);
        setenv("LD_PRELOAD", preload, 1);
        if (!asan_allow_preload()) {
            cli_error("%s: out of memory", cmd);
            _exit(127);
        }
        for (const char *const *e = extra_env; e != NULL && *e != NULL; e++)
            putenv((char *)*e);
        execv(l->prog, argv);
        cli_error("%s: %s: %s", cmd, l->prog, strerror(errno));
        _exit(127);
    }
    free(preload);
    close(handoff[0]);
    /* The default name has the program's pid in it: claimed now, before it runs. */
    char msg[PATH_MAX + 64];
    bool ok = out->claim.fd >= 0 || claim_default(l, cmd, pid, out);
    if (ok) {
        size_t n = strlen(out->path) + 1;
        ct_claim_token(&out->claim, msg + n, sizeof msg - n);
        memcpy(msg, out->path, n);
        ok = send_all(handoff[1], msg, n + strlen(msg + n) + 1);
        if (!ok)
            cli_error("%s: cannot start %s: %s", cmd, l->prog, strerror(errno));
    }
    close(handoff[1]);
    if (!ok) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        return -1;
    }
    return pid;
}

int launch_wait(const char *cmd, pid_t pid, int *status)
{
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            cli_error("%s: waitpid: %s", cmd, strerror(errno));
            return -1;
        }
    }
    return 0;
}
