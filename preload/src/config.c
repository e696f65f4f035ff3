/*
 * config.c — the shim's configuration (shim.h, struct shim_config), read from the
 * environment once, when the shim is loaded, and read-only after: every part of the
 * shim sees the same values for the life of the process image, and a bad value is
 * reported once, in one place (docs/tracer.md "Environment").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/core/summary.h>

#include "shim.h"

static struct shim_config config = {
    .stack_depth = 32,
    .sample_ns = 100 * 1000000LL,
    .keep = CT_KEEP_FULL,
    .keep_sample = CT_KEEP_SAMPLE_EVERY,
    .follow_exec = true,
    .exit_check = true,
};
const struct shim_config *const shim_conf = &config;

static int env_int(const char *name, int def, int lo, int hi)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi) {
        fprintf(stderr, "ctxtrace: ignoring %s=%s (expected %d..%d)\n", name, v, lo, hi);
        return def;
    }
    return (int)n;
}

void shim_config_read(void)
{
    config.stack_depth = env_int("CTXTRACE_STACK_DEPTH", 32, 1, 64);
    config.sample_ns = (int64_t)env_int("CTXTRACE_SAMPLE_MS", 100, 1, 3600000) * 1000000;
    const char *keep = getenv("CTXTRACE_KEEP");
    if (keep != NULL && *keep != '\0') {
        int k = ct_keep_from_name(keep);
        if (k < 0)
            fprintf(stderr, "ctxtrace: CTXTRACE_KEEP=%s is neither full nor summary; keeping "
                    "full\n", keep);
        else
            config.keep = k;
    }
    config.keep_sample = env_int("CTXTRACE_KEEP_SAMPLE", CT_KEEP_SAMPLE_EVERY, 0, 1 << 30);
    config.follow_exec = env_int("CTXTRACE_FOLLOW_EXEC", 1, 0, 1) == 1;
    const char *check = getenv("CTXTRACE_EXIT_CHECK");
    config.exit_check = check == NULL || strcmp(check, "0") != 0;
}
