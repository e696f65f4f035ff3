/*
 * marker.c — libtracer_marker.so, a user's own LD_PRELOAD library: announces every
 * process it is loaded into, so a test can see that `ctxtrace run` kept it.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((constructor)) static void marker_loaded(void)
{
    char line[512];
    int n = snprintf(line, sizeof line, "marker: loaded into %s\n",
                     program_invocation_short_name);
    if (n > 0 && write(1, line, (size_t)n) < 0)
        _exit(97);
}
