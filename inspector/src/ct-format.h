/*
 * ct-format.h — how the inspector writes things for people: durations, counts, sites
 * and source paths.
 */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <glib.h>

/* "812 ns", "3.40 µs", "12.3 ms", "4.56 s", "2 min 5 s" (negative: a leading '-'). */
char *ct_format_duration(gint64 ns);
/* "1,000,000". */
char *ct_format_count(gint64 n);

/* A creation site as every view names it (and groups by): "function file:line" with
 * the file's base name, or "function (module)" without a file. Interned. */
const char *ct_format_site(const char *function, const char *file, int line, const char *module);

/* A source path relative to `root` (a directory ending in '/') when under it, else as
 * given; NULL root: as given. Newly allocated. */
char *ct_format_path(const char *path, const char *root);

#endif /* CT_FORMAT_H */
