/*
 * ps.c — `ctxtrace ps`: this user's traced processes that serve a live socket, one
 * per line: PID, program, socket (ct_live_list: only sockets that answer with a HELLO,
 * so a killed process's leftover is not listed).
 */
#include <ctxtrace/core/livepath.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { HELLO_TIMEOUT_MS = 1000 };

int cmd_ps(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fputs("usage: ctxtrace ps\n", stderr);
        return CLI_EXIT_ERROR;
    }
    struct ct_live_proc *procs;
    size_t n;
    int rc = ct_live_list(HELLO_TIMEOUT_MS, &procs, &n);
    if (rc != 0) {
        char dir[CT_LIVE_PATH_MAX] = "";
        ct_live_dir(dir, sizeof dir);
        cli_error("cannot list %s: %s", dir, strerror(rc));
        return CLI_EXIT_ERROR;
    }
    printf("%-8s %-40s %s\n", "PID", "PROGRAM", "SOCKET");
    for (size_t i = 0; i < n; i++)
        printf("%-8ld %-40s %s\n", (long)procs[i].pid, procs[i].program, procs[i].path);
    free(procs);
    return 0;
}
