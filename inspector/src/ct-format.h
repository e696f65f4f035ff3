/*
 * ct-format.h — how the inspector writes numbers for people: durations and counts.
 */
#ifndef CT_FORMAT_H
#define CT_FORMAT_H

#include <glib.h>

/* "812 ns", "3.40 µs", "12.3 ms", "4.56 s", "2 min 5 s" (negative: a leading '-'). */
char *ct_format_duration(gint64 ns);
/* "1,000,000". */
char *ct_format_count(gint64 n);

#endif /* CT_FORMAT_H */
