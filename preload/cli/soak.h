/*
 * soak.h — `ctxtrace soak` (soak.c). What it reads back from the trace file to judge
 * is the trace core's (ctxtrace/core/growth.h).
 */
#ifndef CT_CLI_SOAK_H
#define CT_CLI_SOAK_H

#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/growth.h>
#include <ctxtrace/core/reader.h>
#include <stdio.h>

struct report;
/* soak_exit.c: print the leaked-thread and leaked-waiter findings of the trace (the exit
 * check's, when soak stopped the program) and count the threads they name into *stuck.
 * Returns 0, or -1 (printed) if the trace could not be judged. */
int soak_exit_verdict(ct_reader *db, FILE *out, const struct report *rep, long *stuck);

#endif /* CT_CLI_SOAK_H */
