/*
 * output.c — which file this process writes.
 *
 * CTXTRACE_OUTPUT names the file. A process finding that file already taken (a forked
 * child, or the image an exec started, inheriting the variable) writes
 * "<stem>.<pid>.db" (then "<stem>.<pid>.<n>.db") beside it: one file per process,
 * never two processes in one file. Without the variable: "ctxtrace.<program>.<pid>.db"
 * in the current directory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

extern char *program_invocation_short_name;

static bool taken(const char *path)
{
    return access(path, F_OK) == 0;
}

int shim_output_path(char *buf, size_t len)
{
    const char *want = getenv("CTXTRACE_OUTPUT");
    char stem[4096];
    if (want != NULL && want[0] != '\0') {
        if ((size_t)snprintf(buf, len, "%s", want) >= len)
            return ENAMETOOLONG;
        if (!taken(buf))
            return 0;
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
        if (!taken(buf))
            return 0;
    }
    return EEXIST;
}
