/*
 * stw.c — stop the world for the exit check (see stw.h for the choice of mechanism).
 *
 * Protocol, per stop:
 *   1. the checker maps the thread table and opens an epoch (g_open);
 *   2. for each thread listed in /proc/self/task it reads the thread's state, skips it if
 *      it blocks STW_SIGNAL (unstoppable), and queues STW_SIGNAL with the thread's table
 *      index as the signal's value; it repeats the listing until a round finds no new
 *      thread (threads created meanwhile by not-yet-stopped threads);
 *   3. each handler saves its registers (phase 1: stopped), unwinds its own stack from the
 *      signal context (phase 2), then sleeps on g_resume;
 *   4. resume: close the epoch, bump g_resume, wake everyone.
 * A handler that runs outside an open epoch (a late delivery) returns at once. Only
 * system calls, atomics and libunwind's local unwinder run in the handler (libunwind
 * documents local unwinding as async-signal-safe); the checker allocates nothing.
 */
#define UNW_LOCAL_ONLY
#include "stw.h"

#include <errno.h>
#include <fcntl.h>
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "futex.h"
#include "shim.h"

/* A real-time signal programs rarely use (they count up from SIGRTMIN). */
#define STW_SIGNAL (SIGRTMAX - 1)

enum { STW_CAP = 16384, MAX_ROUNDS = 32 };

static struct stw_thread *_Atomic g_threads;
static _Atomic size_t g_cap;
static _Atomic bool g_open;
static _Atomic uint32_t g_resume; /* bumped to resume; handlers sleep on it */
static _Atomic uint32_t g_progress; /* bumped by handlers at each phase; the checker sleeps on it */

static pid_t gettid_raw(void)
{
    return (pid_t)syscall(SYS_gettid);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void progress(void)
{
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_release);
    futex_wake_all(&g_progress);
}

static void on_stop_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    int saved_errno = errno;
    uint32_t gen = atomic_load(&g_resume);
    struct stw_thread *tab = atomic_load(&g_threads);
    if (!atomic_load(&g_open) || tab == NULL || si->si_code != SI_QUEUE ||
        si->si_pid != getpid() || si->si_value.sival_int < 0 ||
        (size_t)si->si_value.sival_int >= atomic_load(&g_cap))
        goto out;
    struct stw_thread *t = &tab[si->si_value.sival_int];
    if (t->tid != gettid_raw())
        goto out;
    ucontext_t *uc = ucv;
    for (int i = 0; i < STW_NREGS; i++)
        t->regs[i] = (uintptr_t)uc->uc_mcontext.gregs[i];
    t->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    t->tp = (uintptr_t)pthread_self(); /* glibc: the thread control block = %fs base */
    t->waiting_on = shim_waiting_on;
    stackcap_tls_span(&t->skip_lo, &t->skip_hi);
    atomic_store_explicit(&t->phase, 1, memory_order_release);
    progress();

    /* Unwinding inside the shim could re-enter libunwind's per-thread cache while this
     * thread's own capture is half done: leave that stack unknown instead. */
    int n = 0;
    if (shim_self.guard == 0) {
        unw_cursor_t cur;
        if (unw_init_local2(&cur, (unw_context_t *)uc, UNW_INIT_SIGNAL_FRAME) == 0) {
            do {
                unw_word_t ip;
                if (unw_get_reg(&cur, UNW_REG_IP, &ip) != 0 || ip == 0)
                    break;
                t->ips[n++] = ip;
            } while (n < shim_conf->stack_depth && n < STW_MAX_DEPTH && unw_step(&cur) > 0);
        }
    }
    t->depth = n;
    atomic_store_explicit(&t->phase, 2, memory_order_release);
    progress();
    while (atomic_load(&g_resume) == gen)
        futex_wait_ns(&g_resume, gen, -1);
out:
    errno = saved_errno;
}

/* ---- reading /proc without allocating ---------------------------------------------- */

static char *put_uint(char *p, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

/* Read /proc/self/task/TID/<leaf> into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_task_file(pid_t tid, const char *leaf, char *buf, size_t len)
{
    char path[64] = "/proc/self/task/";
    char *p = put_uint(path + strlen(path), (unsigned long)tid);
    *p++ = '/';
    size_t l = strlen(leaf);
    memcpy(p, leaf, l + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

/* The state letter of /proc/.../stat ("pid (comm) S ..."; comm may hold parentheses). */
static char task_state(pid_t tid)
{
    char buf[512];
    if (read_task_file(tid, "stat", buf, sizeof buf) < 0)
        return '?';
    char *close_paren = strrchr(buf, ')');
    return close_paren != NULL && close_paren[1] == ' ' ? close_paren[2] : '?';
}

static int64_t task_syscall(pid_t tid)
{
    char buf[256];
    if (read_task_file(tid, "syscall", buf, sizeof buf) < 0 || buf[0] < '0' || buf[0] > '9')
        return -1; /* "running" (user space), or unreadable */
    int64_t v = 0;
    for (const char *p = buf; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (*p - '0');
    return v;
}

/* Does the thread block STW_SIGNAL? (SigBlk: a hex mask, bit N-1 for signal N.) */
static bool task_blocks_signal(pid_t tid)
{
    char buf[2048];
    if (read_task_file(tid, "status", buf, sizeof buf) < 0)
        return false;
    char *line = strstr(buf, "\nSigBlk:");
    if (line == NULL)
        return false;
    const char *p = line + strlen("\nSigBlk:");
    while (*p == ' ' || *p == '\t')
        p++;
    uint64_t mask = 0;
    for (; *p != '\0' && *p != '\n'; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            break;
        mask = mask << 4 | (uint64_t)d;
    }
    return (mask >> (STW_SIGNAL - 1)) & 1;
}

/* ---- stopping ------------------------------------------------------------------------ */

static bool known(const struct stw_world *w, pid_t tid)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->threads[i].tid == tid)
            return true;
    return false;
}

/* Add and signal every thread not yet in the table; returns how many were new, or -1
 * (table full, /proc unreadable). */
static int signal_new_threads(struct stw_world *w, pid_t skip)
{
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int added = 0;
    char buf[8192];
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            struct {
                uint64_t ino;
                int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[];
            } *d = (void *)(buf + off);
            off += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9')
                continue;
            pid_t tid = 0;
            for (const char *p = d->name; *p; p++)
                tid = tid * 10 + (*p - '0');
            if (tid == w->self || tid == skip || known(w, tid))
                continue;
            if (w->n == w->cap) {
                close(fd);
                return -1;
            }
            struct stw_thread *t = &w->threads[w->n];
            t->tid = tid;
            t->state = task_state(tid);
            t->syscall_nr = task_syscall(tid);
            added++;
            if (task_blocks_signal(tid)) {
                t->status = STW_UNSTOPPABLE;
                w->n++;
                continue;
            }
            siginfo_t si;
            memset(&si, 0, sizeof si);
            si.si_signo = STW_SIGNAL;
            si.si_code = SI_QUEUE;
            si.si_pid = w->self_pid;
            si.si_uid = getuid();
            si.si_value.sival_int = (int)w->n;
            w->n++;
            if (syscall(SYS_rt_tgsigqueueinfo, w->self_pid, tid, STW_SIGNAL, &si) != 0)
                t->status = STW_GONE;
        }
    }
    close(fd);
    return added;
}

/* Wait until every signalled thread reached `phase` (or exited); false on timeout. */
static bool wait_phase(struct stw_world *w, int phase, int64_t deadline)
{
    for (;;) {
        uint32_t seen = atomic_load_explicit(&g_progress, memory_order_acquire);
        bool all = true;
        for (size_t i = 0; i < w->n; i++) {
            struct stw_thread *t = &w->threads[i];
            if (t->status == STW_UNSTOPPABLE || t->status == STW_GONE)
                continue;
            if (atomic_load_explicit(&t->phase, memory_order_acquire) >= phase) {
                t->status = STW_STOPPED;
                continue;
            }
            if (syscall(SYS_tgkill, w->self_pid, t->tid, 0) != 0 && errno == ESRCH) {
                t->status = STW_GONE;
                continue;
            }
            all = false;
        }
        if (all)
            return true;
        int64_t left = deadline - mono_ns();
        if (left <= 0)
            return false;
        futex_wait_ns(&g_progress, seen, left < 1000000 ? left : 1000000);
    }
}

int stw_stop(struct stw_world *w, pid_t skip, int64_t timeout_ns, char *why, size_t whylen)
{
    memset(w, 0, sizeof *w);
    w->self = gettid_raw();
    w->self_pid = getpid();
    void *mem = mmap(NULL, STW_CAP * sizeof *w->threads, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) {
        snprintf(why, whylen, "no memory for the thread table");
        return -1;
    }
    w->threads = mem;
    w->cap = STW_CAP;

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stop_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask); /* no other handler runs on a stopped thread */
    sigaction(STW_SIGNAL, &sa, &old);
    /* A program that uses this signal gets its handler back after the check. Otherwise
     * ours stays installed: a delivery still pending from this stop (a thread that
     * briefly blocked signals) must not meet SIG_DFL, which would end the process. */
    w->restore = (old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL &&
                                                  old.sa_handler != SIG_IGN);
    w->old_action = old;

    atomic_store(&g_cap, w->cap);
    atomic_store(&g_threads, w->threads);
    atomic_store(&g_open, true);

    int64_t deadline = mono_ns() + timeout_ns;
    int rounds = 0, added;
    do {
        added = signal_new_threads(w, skip);
        if (added < 0) {
            snprintf(why, whylen, w->n == w->cap ? "more than %zu threads"
                                                 : "cannot list /proc/self/task",
                     w->cap);
            stw_resume(w);
            return -1;
        }
        if (!wait_phase(w, 1, deadline)) {
            /* Say what the late threads were doing: running (starved of CPU), or asleep
             * with the signal pending (blocked in the kernel uninterruptibly). */
            size_t late = 0, running = 0;
            for (size_t i = 0; i < w->n; i++) {
                if (w->threads[i].status != 0)
                    continue;
                late++;
                running += task_state(w->threads[i].tid) == 'R';
            }
            snprintf(why, whylen,
                     "%zu of %zu threads did not stop within %lld ms (%zu of them running)",
                     late, w->n, (long long)(timeout_ns / 1000000), running);
            stw_resume(w);
            return -1;
        }
    } while (added > 0 && ++rounds < MAX_ROUNDS);
    if (added > 0) {
        snprintf(why, whylen, "threads kept being created after %d rounds", MAX_ROUNDS);
        stw_resume(w);
        return -1;
    }
    /* Stacks: a handler may be slow to unwind (or wait on a lock a stopped thread holds,
     * inside the unwinder's module lookup); what is not done by the deadline stays
     * unknown — the thread is stopped all the same. */
    wait_phase(w, 2, mono_ns() + timeout_ns);
    for (size_t i = 0; i < w->n; i++) {
        struct stw_thread *t = &w->threads[i];
        t->unwound = atomic_load_explicit(&t->phase, memory_order_acquire) >= 2;
    }
    return 0;
}

void stw_resume(struct stw_world *w)
{
    atomic_store(&g_open, false);
    atomic_fetch_add(&g_resume, 1);
    futex_wake_all(&g_resume);
    if (w->restore)
        sigaction(STW_SIGNAL, &w->old_action, NULL);
}
