/*
 * ct-live-source.h — the live source: a running traced process's socket (docs/live.md,
 * docs/wire.md) decoded on the GTK main loop and pushed into a CtTraceModel.
 *
 * The socket is non-blocking and watched by the main loop: each wake-up reads what is
 * there (for at most a few milliseconds, so a flood never starves the painting), and
 * the model coalesces the pushes into one update a frame. The snapshot's contexts and
 * every create/cancel/release/free/timer event become rows of the model; samples feed
 * the counts; SITE frames answer the source's site and stack queries (one frame each:
 * the socket carries a stack's site, not the whole stack).
 *
 * When the stream ends — BYE, end of stream, a protocol error — the source stops
 * reading, keeps everything it pushed and says why in its state text; "ended" is
 * emitted once. "snapshot-done": the live tree as it was at connection is in the model. A BYE saying the process exited marks the trace complete.
 *
 * Bounded: a model that has kept more than a bound of freed contexts (the window's
 * history) is replaced at the next resync by a fresh one holding that resync's snapshot,
 * with the samples and the counts carried over; "model-replaced" is emitted once the new
 * model holds the snapshot (take it with ct_live_source_get_model and show it).
 */
#ifndef CT_LIVE_SOURCE_H
#define CT_LIVE_SOURCE_H

#include "ct-source.h"
#include "ct-trace-model.h"

G_BEGIN_DECLS

#define CT_TYPE_LIVE_SOURCE (ct_live_source_get_type())
G_DECLARE_FINAL_TYPE(CtLiveSource, ct_live_source, CT, LIVE_SOURCE, GObject)

/* Resolve target (a PID or a socket path, as `ctxtrace tail` takes it) and connect.
 * NULL with a one-line error when nothing can be connected to. */
CtLiveSource *ct_live_source_connect(const char *target, GError **error);
/* Follow the stream into a new live model (the caller owns it; the model owns the
 * source). Call once. */
CtTraceModel *ct_live_source_start(CtLiveSource *self);
/* The socket path followed. */
const char *ct_live_source_get_path(CtLiveSource *self);
gboolean ct_live_source_has_ended(CtLiveSource *self);
/* "following <path>", or why the stream ended ("the process exited: …"). */
const char *ct_live_source_get_state_text(CtLiveSource *self);
/* Frames decoded so far (for tests and the benchmark). */
guint64 ct_live_source_get_frames(CtLiveSource *self);
/* The model it pushes into (after "model-replaced": the new one; borrowed). */
CtTraceModel *ct_live_source_get_model(CtLiveSource *self);
/* How many freed contexts a model may keep before it is replaced at a resync (default
 * CT_LIVE_FREED_MAX; tests lower it). */
#define CT_LIVE_FREED_MAX 50000
void ct_live_source_set_freed_max(CtLiveSource *self, guint n);
/* Models replaced so far. */
guint ct_live_source_get_replacements(CtLiveSource *self);

G_END_DECLS

#endif /* CT_LIVE_SOURCE_H */
