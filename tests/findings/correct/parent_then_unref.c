/* A correct program that once drew a lost-cancel finding (a rule false positive, now a
 * regression test): thread T owns child C of P, waits for P to be done, then drops C
 * with ctx_unref — cancelled by its parent, nothing left to cancel. Waiters on P wake
 * before P's descendants are reached (as in Go), so C may still be live for a moment
 * when T drops it; P has many children to widen that window.
 */
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>
#define N 3000
static ctx_t *P, *C;
static void *t_main(void *arg)
{
    (void)arg;
    ctx_wait(P, -1);
    int live = !ctx_is_done(C);
    ctx_unref(C);
    return (void *)(long)live;
}
int main(void)
{
    P = ctx_with_cancel(ctx_background());

    static ctx_t *others[N];
    for (int i = 0; i < N; i++)
        others[i] = ctx_with_cancel(P);
    C = ctx_with_cancel(P); /* the newest child: cancelled last */
    pthread_t t;
    pthread_create(&t, NULL, t_main, NULL);
    ctx_wait(P, 20 * CTX_MILLISECOND); /* let T block */
    ctx_cancel(P);
    void *live;
    pthread_join(t, &live);
    printf("C was %s when T dropped it\n", live ? "LIVE" : "done");
    for (int i = 0; i < N; i++)
        ctx_unref(others[i]);
    ctx_unref(P);
    return 0;
}
