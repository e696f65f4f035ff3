/*
 * shapes.c — every rule's shape in one program, for the agreement test (agree_test.py):
 * a lost cancel, an orphaned timer, a child cancelled with its parent then dropped, a
 * done context derived from again and again, a value chain, detached roots, ineffective
 * deadlines and a leaked waiter. It prints "ready" with all of them in place, waits for
 * a line on stdin (the test takes the live snapshot then), cancels its root and exits.
 */
#include <ctxtrace/ctx.h>
#include <pthread.h>
#include <stdio.h>

static const char key;

static void *wait_forever(void *arg)
{
    ctx_wait(arg, -1); /* nothing can cancel it: a leaked waiter */
    return NULL;
}

int main(void)
{
    ctx_t *root = ctx_with_cancel(ctx_background());

    ctx_unref(ctx_with_cancel(root));                     /* lost-cancel */
    ctx_unref(ctx_with_timeout(root, 60 * CTX_SECOND));   /* orphaned-timer */

    ctx_t *p = ctx_with_cancel(root), *c = ctx_with_cancel(p);
    ctx_cancel(p);
    ctx_unref(c);                                         /* done first: fine */
    ctx_release(p);

    ctx_t *stale = ctx_with_cancel(root);
    ctx_cancel(stale);
    for (int i = 0; i < 3; i++)                           /* derived-from-done */
        ctx_release(ctx_with_timeout(stale, CTX_SECOND));
    ctx_release(stale);

    ctx_t *v = ctx_ref(root);
    for (int i = 0; i < 20; i++) {                        /* value-chain-growth */
        ctx_t *next = ctx_with_value(v, &key, NULL, NULL);
        ctx_unref(v);
        v = next;
    }

    for (int i = 0; i < 40; i++)                          /* detached-root */
        ctx_release(ctx_with_cancel(ctx_background()));

    ctx_t *budget = ctx_with_timeout(root, CTX_SECOND);
    for (int i = 0; i < 2; i++)                           /* ineffective-deadline */
        ctx_release(ctx_with_timeout(budget, 10 * CTX_SECOND));
    ctx_release(budget);

    ctx_t *x = ctx_with_cancel(ctx_without_cancel(root));
    pthread_t t;
    pthread_create(&t, NULL, wait_forever, x);
    ctx_wait(x, 20 * CTX_MILLISECOND);                    /* let it block */
    ctx_unref(x);                                         /* leaked-waiter (and lost-cancel) */

    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL)
        return 1;
    ctx_unref(v);
    ctx_release(root);
    return 0;
}
