/* Contexts made by a constructor that ends in a tail call (constructors.c): at -O2 its
 * call of ctx_with_timeout is a jump, so its frame is gone from every creation stack
 * and, read naively, the site would be its caller's line. The trace puts the frame back
 * from the DWARF call sites, and the findings name the constructor, at its line, as at
 * -O0: each call's timeout context is only ctx_unref'd, its timer armed.
 */
#include <ctxtrace/ctx.h>
#include <stdio.h>

#include "constructors.h"

enum { CALLS = 4 };

int main(void)
{
    ctx_t *server = ctx_with_cancel(ctx_background());
    for (int i = 0; i < CALLS; i++) {
        ctx_t *call = new_call_ctx(server);
        printf("tail_sites: call %d, %s\n", i, ctx_err(call) == 0 ? "live" : "done");
        ctx_unref(call); /* the bug: ctx_release belongs here */
    }
    ctx_cancel(server);
    ctx_release(server);
    return 0;
}
