/*
 * controller.c — the value_chain sample's main (see controller.h): a controller made
 * once, NEVENTS events reconciled under it, then the controller stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "controller.h"

const char logger_key = 0;

int reconcile(ctx_t *ctx, struct controller *c, int event)
{
    const struct logger *log = ctx_value(ctx, &logger_key);
    if (log == NULL)
        return ENOENT;
    /* Every lookup walks the chain up to the nearest logger: one context here, all of
     * them in the leaky variant, where the nearest is found first but the chain under it
     * is never let go (the trace's value_depth columns show what lookups walk). */
    c->reconciled++;
    if (event % 10 == 0)
        printf("%s reconciled\n", log->prefix);
    return 0;
}

int main(void)
{
    struct controller c = {.base = ctx_with_cancel(ctx_background())};
    if (c.base == NULL) {
        perror("controller");
        return 1;
    }
    c.ctx = ctx_ref(c.base);
    for (int event = 1; event <= NEVENTS; event++) {
        int err = controller_handle(&c, event);
        if (err != 0) {
            fprintf(stderr, "controller: event %d: error %d\n", event, err);
            return 1;
        }
    }
    printf("controller: %ld events reconciled\n", c.reconciled);
    ctx_unref(c.ctx);    /* the controller stops: drop what events ran under... */
    ctx_release(c.base); /* ...and cancel its own context */
    return 0;
}
