/*
 * stw.h — stopping the program's other threads for the exit check (stw.c).
 *
 * Signal-based suspension, as the Boehm collector does on Linux: the checking thread
 * queues a real-time signal to every other thread; the handler saves the interrupted
 * registers, acknowledges, unwinds its own stack, and sleeps on a futex until the
 * world is resumed. Chosen over LeakSanitizer's ptrace-from-a-clone because it needs
 * no ptrace permission (Yama), no second task, and runs from an atexit handler or a
 * signal handler alike; its price is that a thread blocking the signal cannot be
 * stopped (the runtime's own threads block every signal): such a thread is recorded
 * as `unstoppable`, with the state /proc gives, and no stack.
 *
 * While the world is stopped nothing here allocates or takes a lock: all state lives
 * in one mmap'd table, sized before the first signal is sent; the wait for each phase
 * is bounded, and a world that cannot be stopped in time is resumed and reported as
 * such, never guessed at.
 */
#ifndef CT_STW_H
#define CT_STW_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

enum { STW_MAX_DEPTH = 64, STW_NREGS = 23 /* x86-64 NGREG */ };

enum stw_status {
    STW_STOPPED = 1,     /* registers saved; stack captured if `depth` > 0 */
    STW_UNSTOPPABLE,     /* blocks the signal (runtime threads do): /proc state only */
    STW_GONE,            /* exited while the world was being stopped */
};

struct stw_thread {
    pid_t tid;
    int status;               /* enum stw_status, 0 while pending */
    char state;               /* /proc/self/task/TID/stat before stopping: R S D ... */
    int64_t syscall_nr;       /* /proc/self/task/TID/syscall: -1 running in user space */
    uintptr_t sp, tp;         /* interrupted stack pointer; thread pointer (TLS) */
    uint64_t waiting_on;      /* the context it is blocked on in ctx_wait (trace id), or 0 */
    uintptr_t skip_lo, skip_hi; /* the shim's bulk TLS in it (stackcap_tls_span) */
    uintptr_t regs[STW_NREGS];
    int depth;                /* instruction pointers of the current stack (written by
                               * the handler; trusted only when `unwound`) */
    bool unwound;             /* the handler finished unwinding before the deadline */
    uint64_t ips[STW_MAX_DEPTH];
    _Atomic int phase;        /* handler progress: 1 registers saved, 2 unwound */
};

struct stw_world {
    struct stw_thread *threads; /* mmap'd, never freed (a late handler may still write) */
    size_t n, cap;
    pid_t self, self_pid;
    bool restore;             /* give the program its own handler back at resume */
    struct sigaction old_action;
};

/* Stop every thread of the process except the caller and `skip` (the shim's writer),
 * each phase waiting at most timeout_ns. Returns 0 when every stoppable thread is
 * stopped (unwinding may have finished for fewer: see `unwound`), or -1 with a
 * one-line reason, after resuming whatever was stopped. */
int stw_stop(struct stw_world *w, pid_t skip, int64_t timeout_ns, char *why, size_t whylen);
/* Let every stopped thread run again. */
void stw_resume(struct stw_world *w);

#endif /* CT_STW_H */
