/*
 * export.h — `ctxtrace export`: a trace file in the formats other tools read.
 *
 *   chrome  Trace Event JSON (Perfetto UI, chrome://tracing, speedscope): export_chrome.c
 *   pprof   a gzipped profile.proto (`go tool pprof`): export_pprof.c
 *
 * Both read the trace through the core reader (ctxtrace/core/reader.h) only; what they
 * share — the stacks by id — is export.c's.
 */
#ifndef CT_CLI_EXPORT_H
#define CT_CLI_EXPORT_H

#include <stdio.h>

#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/u64map.h>

/* Stacks by id, each loaded once (runtime and shim frames removed: frames[0] is the
 * site). */
struct export_stacks {
    struct u64map index;     /* stack id -> 1 + index in items */
    struct ct_stack *items;
    size_t len, cap;
};
/* Stack `id`, or NULL for id 0 (no stack) or when it cannot be read (out of memory,
 * or the reader's error: ct_reader_error). Valid until the next call. */
const struct ct_stack *export_stack(struct export_stacks *s, ct_reader *r, int64_t id);
void export_stacks_free(struct export_stacks *s);

/* "function file:line" of a frame, for people (paths as stored). */
void export_frame_text(char *buf, size_t len, const struct ct_frame *f);

/* The trace as Chrome Trace Event JSON on out. 0, or -1 with err filled. */
int export_chrome(FILE *out, ct_reader *r, char *err, size_t errlen);
/* The trace as a pprof profile: profile.proto, gzipped, to fd. 0, or -1 with err. */
int export_pprof(int fd, ct_reader *r, char *err, size_t errlen);

#endif /* CT_CLI_EXPORT_H */
