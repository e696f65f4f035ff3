/*
 * ballast.c — disk space set aside for a trace's last words (see ballast.h).
 */
#include "ballast.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An unnamed file in `dir`: O_TMPFILE where the file system has it, else a unique name
 * created and unlinked at once. */
static int unnamed_file(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char name[PATH_MAX];
    if (snprintf(name, sizeof name, "%s/.ctxtrace-ballast.XXXXXX", dir) >= (int)sizeof name)
        return -1;
    fd = mkostemp(name, O_CLOEXEC);
    if (fd >= 0)
        unlink(name);
    return fd;
}

int ballast_make(const char *trace_path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(trace_path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == trace_path)
        snprintf(dir, sizeof dir, "/");
    else if (snprintf(dir, sizeof dir, "%.*s", (int)(slash - trace_path), trace_path) >=
             (int)sizeof dir)
        return -1;
    int fd = unnamed_file(dir);
    if (fd < 0)
        return -1;
    /* Allocated, not merely sized: a sparse file would give nothing back. */
    if (fallocate(fd, 0, 0, BALLAST_BYTES) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void ballast_release(int fd)
{
    if (fd >= 0)
        close(fd);
}
