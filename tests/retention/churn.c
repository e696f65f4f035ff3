/*
 * churn.c — a busy request loop for the retention tests (test_retention.py): what a
 * summary trace keeps of it, what it folds, and that the findings and the profile are
 * those of a full trace.
 *
 *   churn REQUESTS
 *
 * 1. A server context (kept live all along), then REQUESTS requests, each a timeout
 *    context, a value under it and a cancellable child, all released properly.
 * 2. One lost cancel (the child's handle dropped with ctx_unref while live): a finding.
 * 3. A context that lives long — it prints "holding" and waits for a line on stdin (the
 *    test looks at the trace meanwhile: a context live that long has a row) — then is
 *    released cleanly (its row must go again, and it is counted in its site's aggregate).
 *
 * Prints "created N" (contexts created, the roots excluded) at the end.
 */
#include <ctxtrace/ctx.h>
#include <stdio.h>
#include <stdlib.h>

static const char request_key;

static long created;

static void serve(ctx_t *server, long i)
{
    ctx_t *req = ctx_with_timeout(server, 5 * CTX_SECOND);
    ctx_t *vals = ctx_with_value(req, &request_key, (void *)(long)(i + 1), NULL);
    ctx_t *sub = ctx_with_cancel(vals);
    created += 3;
    if (ctx_value(sub, &request_key) == NULL)
        abort();
    ctx_release(sub);
    ctx_release(vals);
    ctx_release(req);
}

static void lose_a_cancel(ctx_t *server)
{
    ctx_t *c = ctx_with_cancel(server); /* the lost cancel */
    created++;
    ctx_unref(c);
}

static void hold_a_while(ctx_t *server)
{
    ctx_t *held = ctx_with_cancel(server);
    created++;
    printf("holding\n");
    fflush(stdout);
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL)
        fprintf(stderr, "churn: stdin closed; going on\n");
    ctx_release(held);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    ctx_t *server = ctx_with_cancel(ctx_background());
    created++;
    for (long i = 0; i < n / 2; i++)
        serve(server, i);
    lose_a_cancel(server);
    hold_a_while(server);
    for (long i = n / 2; i < n; i++)
        serve(server, i);
    ctx_release(server);
    printf("created %ld\n", created);
    return 0;
}
