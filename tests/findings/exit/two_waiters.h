/*
 * two_waiters.h — the shared end of the exit check's two-waiter programs
 * (waiter_only_ref.c, arena_neighbour.c): each starts two workers that wait on a context
 * only they hold (start_workers, defined by the program before including this), then
 * lets the process exit with them still waiting — or, built -DFIXED, cancels the
 * handles it kept and joins them.
 */
#ifndef TWO_WAITERS_H
#define TWO_WAITERS_H

#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef FIXED
static ctx_t *handles[2]; /* the creator's own references, set by start_workers */
#endif
static pthread_t threads[2];

static void start_workers(void);

/* A conservative scan counts stale words in live frames (LeakSanitizer's tests do the
 * same): wipe the stack below main's frame, where start_workers' frame held the handles,
 * so that what the check judges is the program's references, not leftovers. */
static __attribute__((noinline)) void clear_stack(void)
{
    char pad[16384];
    explicit_bzero(pad, sizeof pad);
}

int main(void)
{
    start_workers();
    clear_stack();
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
#ifdef FIXED
    for (int i = 0; i < 2; i++)
        ctx_release(handles[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    printf("workers: cancelled and joined\n");
#else
    printf("workers: left waiting\n");
#endif
    return 0;
}

#endif /* TWO_WAITERS_H */
