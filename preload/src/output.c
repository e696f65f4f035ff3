/*
 * output.c — which file this process writes, and holding it (ctxtrace/core/claim.h).
 *
 * CTXTRACE_OUTPUT names the file. It is used when this process creates it (it did not
 * exist), or when it is the empty file a launcher claimed for the program and handed
 * over in CTXTRACE_OUTPUT_CLAIM. A process finding the name taken — by any file at
 * all, a user's or another process's trace (a forked child, the image an exec started,
 * inheriting the variable) — writes "<stem>.<pid>.db" (then "<stem>.<pid>.<n>.db")
 * beside it: one file per process, and no existing file is ever written or removed.
 * Without the variable: "ctxtrace.<program>.<pid>.db" in the current directory.
 *
 * Every name is claimed with O_EXCL, so two processes racing for one name cannot both
 * get it; the writer holds the owner lock for its lifetime, which is how `run --force`
 * knows a trace is still being written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxtrace/core/claim.h>

#include "shim.h"

extern char *program_invocation_short_name;

/* The file this process writes. After fork the child holds a copy of its parent's
 * descriptor: closing that copy leaves the parent's lock in place. */
static struct ct_claim owner = {.fd = -1};

int shim_output_path(char *buf, size_t len)
{
    ct_claim_close(&owner);
    const char *want = getenv("CTXTRACE_OUTPUT");
    char stem[4096];
    if (want != NULL && want[0] != '\0') {
        if ((size_t)snprintf(buf, len, "%s", want) >= len)
            return ENAMETOOLONG;
        if (ct_claim_take(buf, getenv("CTXTRACE_OUTPUT_CLAIM"), &owner) == 0)
            return 0;
        int err = ct_claim_new(buf, true, &owner);
        if (err != EEXIST)
            return err;
        size_t n = strlen(want);
        if (n > 3 && strcmp(want + n - 3, ".db") == 0)
            n -= 3;
        snprintf(stem, sizeof stem, "%.*s", (int)n, want);
    } else {
        snprintf(stem, sizeof stem, "ctxtrace.%s", program_invocation_short_name);
    }
    for (int i = 0; i < 1000; i++) {
        int w = i == 0 ? snprintf(buf, len, "%s.%d.db", stem, (int)getpid())
                       : snprintf(buf, len, "%s.%d.%d.db", stem, (int)getpid(), i);
        if (w < 0 || (size_t)w >= len)
            return ENAMETOOLONG;
        int err = ct_claim_new(buf, true, &owner);
        if (err != EEXIST)
            return err;
    }
    return EEXIST;
}
