/*
 * exec_target.c — the traced program that tracer_traced execs (tracer_lifecycle exec_*).
 *
 *   tracer_exec_target N    1 cancel context and N value contexts under it; prints its
 *                           pid and LD_PRELOAD; exits 6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ctxtrace/ctx.h>

static const char key;

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 0;
    ctx_t *root = ctx_with_cancel(ctx_background()); /* @site:target-root */
    if (root == NULL)
        return 99;
    for (int i = 0; i < n; i++) {
        ctx_t *v = ctx_with_value(root, &key, NULL, NULL); /* @site:target-value */
        if (v == NULL)
            return 99;
        ctx_unref(v);
    }
    ctx_release(root);
    const char *preload = getenv("LD_PRELOAD");
    printf("target %d: %d contexts; LD_PRELOAD=%s\n", (int)getpid(), n + 1,
           preload ? preload : "(unset)");
    return 6;
}
