/*
 * batch.h — turning drained events into trace-file rows, on the writer thread.
 *
 * Events for one context (or thread, or wait) within a batch merge into one row, so
 * a short-lived context costs one INSERT however many events it had. Rows are
 * partial UPSERTs (see store.h): events recorded on different threads may be drained
 * in any order and still merge correctly in the file.
 */
#ifndef CT_BATCH_H
#define CT_BATCH_H

#include <ctxtrace/core/store.h>
#include <stdint.h>

#include "event.h"
#include "symbolize.h"

struct batch;

/* Running totals across batches, for samples and meta. */
struct live_counts {
    int64_t contexts, timers, waiters, threads;
    uint64_t events;
    int64_t exit_unregistered; /* threads the exit check found that were never registered */
};

/* keep: enum ct_keep (ctxtrace/core/summary.h) — in summary mode context and wait rows
 * go through retain.h instead of straight to the file. */
struct batch *batch_new(int keep, int sample_every);
void batch_free(struct batch *b);
/* ring_drain_all callback: `arg` is the batch. */
void batch_apply(const struct ev *e, void *arg);
/* Write every pending row (inside the caller's transaction) and empty the batch.
 * `final`: the last batch (summary retention writes every context still held). With sym
 * NULL, new stacks stay pending for a later call (the symbolizer's first look is slow:
 * the writer commits rows meanwhile, which name their stacks by id). */
int batch_write(struct batch *b, ct_store *store, struct symbolizer *sym, bool final);
/* Summary retention: the per-site live counts at a sample (site_samples); 0 in full mode. */
int batch_site_samples(struct batch *b, ct_store *store, int64_t ts);
/* Summary retention's count of contexts folded so far (0 in full mode). */
int64_t batch_summarized(const struct batch *b);
const struct live_counts *batch_counts(const struct batch *b);
/* The live contexts (address -> id, id -> parent id), for the exit check's scan. */
struct u64map;
void batch_live(const struct batch *b, const struct u64map **addr, const struct u64map **parent);
/* The batch's arrays that hold context addresses, into out; returns how many. */
struct span;
size_t batch_spans(const struct batch *b, struct span *out, size_t max);

#endif /* CT_BATCH_H */
