/*
 * soak.h — `ctxtrace soak` (soak.c). What it reads back from the trace file to judge
 * is the trace core's (ctxtrace/core/growth.h).
 */
#ifndef CT_CLI_SOAK_H
#define CT_CLI_SOAK_H

#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/growth.h>

#endif /* CT_CLI_SOAK_H */
