/*
 * thread.c — starting the runtime's own threads (the timer thread, callback workers).
 *
 * They are detached and born with every signal blocked: the application's signal
 * handlers belong on the application's threads, never on a library thread — not even
 * in the instant before the thread could mask signals itself.
 */
#include <pthread.h>
#include <signal.h>

#include "internal.h"

int ctx__spawn_detached(void *(*fn)(void *))
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int rc = pthread_create(&th, &attr, fn, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}
