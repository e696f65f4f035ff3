/*
 * early_signal.c — SIGTERM arriving while the traced process is just starting
 * (tracer_lifecycle sigterm_early).
 *
 * A constructor (it runs after the shim's) blocks SIGTERM in the main thread and sends
 * SIGTERM to the process: the signal is pending for any thread that does not block it.
 * main() then creates one context and unblocks SIGTERM, so the signal is handled on the
 * main thread at the latest there; the shim's handler must write a complete trace
 * (exit_reason 'signal SIGTERM', the 1 context), then the process dies of SIGTERM.
 * None of the shim's or the runtime's own threads may take the signal.
 */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <ctxtrace/ctx.h>

__attribute__((constructor)) static void terminate_early(void)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, NULL);
    kill(getpid(), SIGTERM);
}

int main(void)
{
    ctx_release(ctx_with_cancel(ctx_background())); /* @site:early */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &term, NULL); /* the pending SIGTERM is delivered here */
    for (;;)
        pause();
}
