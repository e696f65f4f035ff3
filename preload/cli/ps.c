/*
 * ps.c — `ctxtrace ps`: this user's traced processes that serve a live socket, one
 * per line: PID, program, socket (ct_live_list: only sockets that answer with a HELLO,
 * so a killed process's leftover is not listed; ct_live_sweep removes those first).
 */
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/livesweep.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opts.h"

enum { HELLO_TIMEOUT_MS = 1000 };

static const struct cli_opt ps_options[] = {{0}};

static const struct cli_command ps_command = {
    .name = "ps",
    .synopsis = "",
    .summary = "this user's traced processes that can be tailed: PID, program, socket",
    .about = "List this user's running traced processes that answer on their live socket,\n"
             "one per line: PID, program and socket (for ctxtrace tail and the inspector).",
    .opts = ps_options,
    .footer = "Exit status: 0, or 2 when the socket directory cannot be read.",
};

const struct cli_command *const cli_ps = &ps_command;

int cmd_ps(int argc, char **argv)
{
    const char *v;
    struct cli_parser p;
    cli_parser_init(&p, &ps_command, argc, argv);
    int id = cli_next(&p, &v);
    if (id != CLI_END)
        return id == CLI_HELP ? 0 : CLI_EXIT_ERROR;
    if (cli_optind(&p) < argc) {
        cli_error("ps: takes no arguments ('%s'; usage: ctxtrace ps)", argv[cli_optind(&p)]);
        return CLI_EXIT_ERROR;
    }
    ct_live_sweep(); /* dead processes' sockets go; ct_live_list skips them anyway */
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
