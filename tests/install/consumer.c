/*
 * consumer.c — a program outside the ctxtrace tree, built only against the installed
 * package (pkg-config, or find_package(ctxtrace) in consumer_cmake/). It proves the
 * installed header, library and metadata are enough to use libctxtrace: a timeout
 * context reaches its deadline and reports CTX_DEADLINE_EXCEEDED. Prints "OK".
 */
#include <stdio.h>

#include <ctxtrace/ctx.h>

int main(void)
{
    CTX_AUTO ctx_t *c = ctx_with_timeout(ctx_background(), 20 * CTX_MILLISECOND);
    if (c == NULL) {
        perror("ctx_with_timeout");
        return 1;
    }
    int rc = ctx_wait(c, 10 * CTX_SECOND);
    if (rc != 0 || ctx_err(c) != CTX_DEADLINE_EXCEEDED) {
        fprintf(stderr, "consumer: ctx_wait=%d ctx_err=%d, expected 0 and %d\n", rc,
                ctx_err(c), CTX_DEADLINE_EXCEEDED);
        return 1;
    }
    puts("OK");
    return 0;
}
