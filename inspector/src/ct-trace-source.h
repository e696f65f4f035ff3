/*
 * ct-trace-source.h — the offline source: a trace file, read lazily.
 *
 * Opening reads only what the first screen needs (meta, the samples, the roots'
 * counts); every context's lifespan (the timeline, the sites) is read by one scan on a
 * worker thread (ct_trace_source_load_spans_async); the tree pages its
 * rows from the file as it is scrolled and expanded (keyset queries on the
 * contexts_parent index), and the findings come from ct_analyze on a worker thread
 * with its own connection. A trace cut short (killed process) has no secondary
 * indexes and is opened read-only all the same: the source then builds the
 * parent -> children map in memory with one scan instead.
 */
#ifndef CT_TRACE_SOURCE_H
#define CT_TRACE_SOURCE_H

#include <gio/gio.h>

#include "ct-source.h"
#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_TRACE_SOURCE (ct_trace_source_get_type())
G_DECLARE_FINAL_TYPE(CtTraceSource, ct_trace_source, CT, TRACE_SOURCE, GObject)

/* Open a trace file; NULL with a one-line reason in error (the trace core's). */
CtTraceSource *ct_trace_source_open(const char *path, GError **error);
const char *ct_trace_source_get_path(CtTraceSource *self);
/* Whether the file has its secondary indexes (else the in-memory fallback is used). */
gboolean ct_trace_source_has_indexes(CtTraceSource *self);

/* Fill the model's meta and samples from the file (the first screen). */
void ct_trace_source_load(CtTraceSource *self, CtTraceModel *model);

/* Read every context's lifespan (one scan, in creation order) on a worker thread with
 * its own connection; the callback gets the table with ..._finish (NULL with error). */
void ct_trace_source_load_spans_async(CtTraceSource *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
CtSpans *ct_trace_source_load_spans_finish(CtTraceSource *self, GAsyncResult *result,
                                           GError **error);

/* Run the analysis (every rule) on a worker thread; the callback gets the result
 * with ct_trace_source_analyze_finish. */
void ct_trace_source_analyze_async(CtTraceSource *self, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
/* The findings (free with ct_findings_free and g_free), or NULL with error. */
struct ct_findings *ct_trace_source_analyze_finish(CtTraceSource *self, GAsyncResult *result,
                                                   GError **error);

G_END_DECLS

#endif /* CT_TRACE_SOURCE_H */
