/*
 * symbolize.h — instruction pointers to frames (module, offset, build-id, function,
 * file, line), with elfutils' libdwfl over this process's own mappings. Runs on the
 * writer thread only.
 */
#ifndef CT_SYMBOLIZE_H
#define CT_SYMBOLIZE_H

#include <ctxtrace/core/store.h>
#include <stdint.h>

struct symbolizer;

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* The frames-table id for `ip`, symbolizing and storing the frame the first time. */
int64_t symbolizer_frame(struct symbolizer *s, ct_store *store, uint64_t ip);

#endif /* CT_SYMBOLIZE_H */
