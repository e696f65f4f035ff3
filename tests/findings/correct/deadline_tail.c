/* A correct program that once drew an ineffective-deadline finding (a rule false
 * positive, now a regression test): a request with a 100 ms budget makes calls one
 * after the other, each under its own 30 ms timeout, each taking ~25 ms; the 4th call
 * starts with less than 30 ms left, so its own timeout is later than the request's.
 * That is the normal per-call timeout pattern, not a deadline that can never matter.
 */
#include <ctxtrace/ctx.h>
#include <stdio.h>
static void call(ctx_t *req)
{
    CTX_AUTO ctx_t *c = ctx_with_timeout(req, 30 * CTX_MILLISECOND);
    ctx_wait(c, 25 * CTX_MILLISECOND); /* the work */
}
int main(void)
{
    CTX_AUTO ctx_t *req = ctx_with_timeout(ctx_background(), 100 * CTX_MILLISECOND);
    int n = 0;
    while (!ctx_is_done(req)) {
        call(req);
        n++;
    }
    printf("%d calls\n", n);
    return 0;
}
