/*
 * retain.h — summary retention on the writer thread (ctxtrace/core/summary.h; DESIGN.md
 * "Retention"): which contexts get a row, and the per-site aggregates of the others.
 *
 * In summary mode the batch hands each drain pass's partial context and wait rows here
 * instead of writing them. A context is held in memory from its creation until it ends
 * (freed): then it is judged — a row if the core's keep decision or the tree's evidence
 * (summary.h's ct_keep_reason) says so, or if sampled; else it is folded into its site's
 * aggregate. A context still live CT_KEEP_HOLD_NS after its creation, and every context
 * live at the final flush, is written too (and its row deleted again if it then ends
 * cleanly), so a killed process's trace still shows what was long live. Memory: one
 * entry per live context and one aggregate per (creation stack, kind).
 */
#ifndef CT_RETAIN_H
#define CT_RETAIN_H

#include <ctxtrace/core/store.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct retain;

/* sample_every: one clean context in that many per site keeps its row, after the first
 * CT_KEEP_SAMPLE_FIRST; 0: none (everything clean is folded). */
struct retain *retain_new(int sample_every);
void retain_free(struct retain *r);

/* One drain pass: merge `rows` and `waits` (partial, as the batch built them) into the
 * held contexts, judge the contexts that ended and write the rows that must be written —
 * inside the caller's transaction. `final`: the last pass;
 * every context still held is written. 0, or -1 (the store's error). */
int retain_pass(struct retain *r, const struct ct_ctx_row *rows, size_t nrows,
                const struct ct_wait_row *waits, size_t nwaits, ct_store *store, int64_t now,
                bool final);

/* Context `id` was handed to `thread` at its creation (leaked-thread's evidence): it is
 * not folded while that thread runs (applied in the next retain_pass). */
void retain_handed(struct retain *r, int64_t id, uint32_t thread);
/* `thread` exited (applied in the next retain_pass). */
void retain_thread_exit(struct retain *r, uint32_t thread);

/* At a sample (ts), and at the end: the aggregates that changed since the last sample
 * (site_summary), and each creation stack's live and created counts that changed
 * (site_samples), inside the caller's transaction. */
int retain_site_samples(struct retain *r, ct_store *store, int64_t ts);

/* Contexts folded into aggregates so far (meta.contexts_summarized). */
int64_t retain_summarized(const struct retain *r);
#endif /* CT_RETAIN_H */
