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

/* What `ip` is. The strings (NULL when unknown) stay valid until the next call. */
struct sym_frame {
    const char *module, *build_id, *function, *file;
    int64_t offset; /* from the module's start */
    int line;       /* 0: unknown */
};
void symbolizer_describe(struct symbolizer *s, uint64_t ip, struct sym_frame *out);

/* The frames-table id for `ip`, symbolizing and storing the frame the first time. */
int64_t symbolizer_frame(struct symbolizer *s, ct_store *store, uint64_t ip);

#endif /* CT_SYMBOLIZE_H */
