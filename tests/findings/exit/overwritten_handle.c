/* lost-cancel at exit, the handle lost: a poller derives a context per round into the
 * same global and never releases the previous one. The parent is cancelled at shutdown,
 * so every child is done — but the two whose handles were overwritten are never released
 * nor freed, and nothing can reach them any more: definitely lost. The last one is still
 * in the global: reachable, not a finding. With -DFIXED each is released before the next.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctxtrace/ctx.h>
#include <stdio.h>

/* External, so the compiler keeps every store: a program's globals are read elsewhere. */
ctx_t *service, *round_ctx;
static volatile int rounds = 3; /* one loop, not three unrolled call sites */

int main(void)
{
    service = ctx_with_cancel(ctx_background());
    for (int i = 0; i < rounds; i++) {
#ifdef FIXED
        ctx_release(round_ctx);
#endif
        round_ctx = ctx_with_cancel(service); /* one round's context */
    }
    ctx_cancel(service); /* shutdown */
    printf("poller: 3 rounds, shut down\n");
    return 0;
}
