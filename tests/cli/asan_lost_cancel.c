/*
 * asan_lost_cancel.c — a program built with AddressSanitizer that loses one cancel:
 * `ctxtrace run` must trace it out of the box (cli_test.py run_traces_asan_programs).
 */
#include <ctxtrace/ctx.h>

int main(void)
{
    ctx_t *c = ctx_with_cancel(ctx_background());
    ctx_unref(c); /* the lost cancel: dropped while live */
    return 0;
}
