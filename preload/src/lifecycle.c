/*
 * lifecycle.c — starting the shim, and keeping the trace whole at every way a
 * process can end or change: exit() from any thread or return from main, SIGINT and
 * SIGTERM, fork(), and exec.
 *
 * Start: the constructor attaches to libctxtrace if the program has it; a program
 * without it is left alone (no file, no thread). A program that dlopens the runtime
 * later is picked up by the dlopen interposer.
 *
 * End: an atexit handler makes the writer drain everything and close the file. For
 * SIGINT/SIGTERM with the default action, a handler does the same and then re-raises
 * the signal with the default action, so the process ends exactly as it would have.
 * If the application installs its own handler, it owns those signals (and normally
 * exits through exit(), which flushes). SIGKILL cannot be caught: the file then holds
 * every committed batch (WAL) and meta.complete stays 0.
 *
 * fork(): the child gets its own file and writer. exec: the writer commits everything
 * first; the new image, if it loads the shim (LD_PRELOAD is inherited), starts a new
 * file. CTXTRACE_FOLLOW_EXEC=0 removes the shim from LD_PRELOAD so exec'd programs run
 * untraced.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"


static const int64_t EXIT_FLUSH_NS = 10 * 1000000000LL;
static const int64_t SIGNAL_FLUSH_NS = 2 * 1000000000LL;

/* The exit check's scan: at exit it may take a while (about 3 s of CPU per GiB of heap,
 * tests/bench/exitcheck); at a signal the process is being stopped, by soak with SIGKILL
 * 5 s later by default, and the flush still needs its 2 s. */
static const int64_t EXIT_SCAN_NS = 10 * 1000000000LL;
static const int64_t SIGNAL_SCAN_NS = 2 * 1000000000LL;

static void on_exit_flush(void)
{
    shim_exit_check(EXIT_SCAN_NS);
    shim_writer_flush(true, "exit", EXIT_FLUSH_NS);
}

static void on_fatal_signal(int sig)
{
    static const char *const names[] = {[SIGINT] = "signal SIGINT",
                                        [SIGTERM] = "signal SIGTERM"};
    shim_exit_check(SIGNAL_SCAN_NS);
    shim_writer_flush(true, names[sig], SIGNAL_FLUSH_NS);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signal_flush(int sig)
{
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL)
        return; /* ignored, or the application's: leave it */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, NULL);
}

static void fork_prepare(void)
{
    shim_writer_lock();
    ring_registry_lock();
}

static void fork_parent(void)
{
    ring_registry_unlock();
    shim_writer_unlock();
}

static bool start_recording(void);

static void fork_child(void)
{
    ring_forget_all_in_child();
    ring_registry_unlock();
    shim_writer_forget_in_child();
    shim_threads_reset_in_child();
    stackcap_reset_in_child();
    atomic_store(&shim_recording, false);
    shim_cut_reset_in_child();
    start_recording();
}

/* Remove our own path from LD_PRELOAD (CTXTRACE_FOLLOW_EXEC=0). */
static void drop_from_ld_preload(void)
{
    Dl_info info;
    const char *preload = getenv("LD_PRELOAD");
    if (preload == NULL || dladdr((void *)drop_from_ld_preload, &info) == 0)
        return;
    char *copy = strdup(preload), *out = calloc(1, strlen(preload) + 1);
    if (copy == NULL || out == NULL) {
        free(copy);
        free(out);
        return;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ": ", &save); tok; tok = strtok_r(NULL, ": ", &save)) {
        if (strcmp(tok, info.dli_fname) == 0 || strstr(tok, "libctxtrace_preload.so"))
            continue;
        if (out[0] != '\0')
            strcat(out, ":");
        strcat(out, tok);
    }
    setenv("LD_PRELOAD", out, 1);
    free(copy);
    free(out);
}

static bool start_recording(void)
{
    char path[4096];
    int err = shim_output_path(path, sizeof path);
    if (err != 0) {
        fprintf(stderr, "ctxtrace: cannot choose a trace file name: %s\n", strerror(err));
        return false;
    }
    atomic_store(&shim_recording, true);
    shim_thread_id(); /* this thread, as the trace's thread 1 */
    if (shim_writer_start(path) != 0) {
        atomic_store(&shim_recording, false);
        return false;
    }
    return true;
}

/* Attach and start recording once the runtime is in the process. */
static void activate(void *where)
{
    static _Atomic bool active;
    if (atomic_load(&active))
        return;
    shim_hooks_attach(where);
    if (!shim_hooks_attached() || atomic_exchange(&active, true))
        return;
    stackcap_init();
    if (!start_recording())
        return;
    atexit(on_exit_flush);
    install_signal_flush(SIGINT);
    install_signal_flush(SIGTERM);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((constructor)) static void shim_init(void)
{
    shim_config_read();
    if (!shim_conf->follow_exec)
        drop_from_ld_preload();
    activate(RTLD_DEFAULT);
}

/* ---- interposed: dlopen (a runtime loaded late) and the exec family --------------- */

void *dlopen(const char *file, int mode)
{
    static void *_Atomic real;
    void *h = ((void *(*)(const char *, int))shim_next("dlopen", &real))(file, mode);
    if (h != NULL)
        activate(h);
    return h;
}

/* Everything recorded so far reaches the file before the image is replaced. */
static void before_exec(void)
{
    shim_writer_flush(false, "exec", EXIT_FLUSH_NS);
}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);

int execve(const char *path, char *const argv[], char *const envp[])
{
    static void *_Atomic real;
    before_exec();
    return ((execve_fn)shim_next("execve", &real))(path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
    static void *_Atomic real;
    before_exec();
    return ((execv_fn)shim_next("execv", &real))(path, argv);
}

int execvp(const char *file, char *const argv[])
{
    static void *_Atomic real;
    before_exec();
    return ((execv_fn)shim_next("execvp", &real))(file, argv);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
    static void *_Atomic real;
    before_exec();
    return ((execve_fn)shim_next("execvpe", &real))(file, argv, envp);
}

/* execl, execlp, execle: glibc implements them with an internal execve that an
 * interposer cannot see, so rebuild the argument vector and go through ours. */
static char **collect_args(const char *arg0, va_list ap, char *const **envp)
{
    size_t n = 1, cap = 16;
    char **argv = malloc(cap * sizeof *argv);
    if (argv == NULL)
        return NULL;
    argv[0] = (char *)arg0;
    for (char *a; arg0 != NULL && (a = va_arg(ap, char *)) != NULL;) {
        if (n + 2 > cap) {
            char **grown = realloc(argv, (cap *= 2) * sizeof *argv);
            if (grown == NULL) {
                free(argv);
                return NULL;
            }
            argv = grown;
        }
        argv[n++] = a;
    }
    argv[arg0 != NULL ? n : 0] = NULL;
    if (envp != NULL)
        *envp = va_arg(ap, char *const *);
    return argv;
}

int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = collect_args(arg, ap, NULL);
    va_end(ap);
    if (argv == NULL)
        return -1;
    int rc = execv(path, argv);
    free(argv);
    return rc;
}

int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char **argv = collect_args(arg, ap, NULL);
    va_end(ap);
    if (argv == NULL)
        return -1;
    int rc = execvp(file, argv);
    free(argv);
    return rc;
}

int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    char *const *envp = NULL;
    char **argv = collect_args(arg, ap, &envp);
    va_end(ap);
    if (argv == NULL)
        return -1;
    int rc = execve(path, argv, envp);
    free(argv);
    return rc;
}
