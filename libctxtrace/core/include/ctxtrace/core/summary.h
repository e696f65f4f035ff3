/*
 * ctxtrace/core/summary.h — summary retention (DESIGN.md "Retention"; docs/trace-file.md).
 *
 * A trace keeps contexts in one of two ways, chosen for the whole run (meta.retention):
 *   full     a `contexts` row for every context created (`ctxtrace run`'s default);
 *   summary  a row only for a context some rule may name, one still live at a flush, or
 *            one sampled; every other context — lived and ended cleanly — is folded into
 *            its creation site's aggregate (`site_summary`, one row per creation stack and
 *            kind), so the file, the writer's memory and `report` grow with sites and
 *            problems, not with contexts created (`ctxtrace soak`'s default).
 *
 * Every context is counted exactly once: as a row, or in an aggregate — never both.
 * The rules run on the rows, and read the aggregates where they count clean contexts
 * (how many deadline contexts a site made; how many derivations from a root). For that
 * to give the findings a full trace gives, the writer keeps every context a rule's
 * evidence needs — the list is this header's contract (ct_keep_reason), decided by
 * ct_keep_at_end for what a row alone tells and by the writer's live model for what
 * needs the tree (see preload/src/retain.c).
 */
#ifndef CTXTRACE_CORE_SUMMARY_H
#define CTXTRACE_CORE_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ctxtrace/core/columns.h>

enum ct_keep { CT_KEEP_FULL, CT_KEEP_SUMMARY };

/* "full" / "summary"; -1 if not a retention name. */
const char *ct_keep_name(enum ct_keep k);
int ct_keep_from_name(const char *name);

/* Why an ended context of a summary trace has a row. Two more kinds of context have rows
 * without a reason of their own: one live at the end of the trace, or live for
 * CT_KEEP_HOLD_NS at a flush (its row is deleted again if it then ends with reason NO);
 * and one handed to a thread at its creation (thread_contexts) whose thread still runs:
 * it waits, unjudged, until the thread exits, so that leaked-thread can read it if the
 * thread is still there at the end (a thread with a folded tie — a wait on a folded
 * context, a folded context it created — is not judged: threads.summarized). */
enum ct_keep_reason {
    CT_KEEP_NO,               /* folded into its site's aggregate */
    CT_KEEP_LEAKED,           /* the verdict (verdict.h) calls it leaked: lost-cancel,
                                 orphaned-timer */
    CT_KEEP_INEFFECTIVE,      /* a deadline later than its parent's: ineffective-deadline */
    CT_KEEP_BORN_DONE,        /* derived from a parent already done: derived-from-done (its
                                 parent, and the value contexts between the parent and
                                 the context that decides when it is done, are kept too) */
    CT_KEEP_VALUE_CHAIN,      /* a value context more than CT_KEEP_CHAIN_LAYERS layers deep
                                 in a same-stack chain, and every layer below it:
                                 value-chain-growth */
    CT_KEEP_DETACHED,         /* derived from a root while another site's context was
                                 live (and one such live context, its witness, is kept):
                                 detached-root */
    CT_KEEP_TIMED_OUT_WAIT,   /* a ctx_wait on it timed out: leaked-waiter reads the
                                 context of a thread's last timed-out wait */
    CT_KEEP_SAMPLE,           /* sampled (ct_keep_sampled): the first
                                 CT_KEEP_SAMPLE_FIRST of each site, then one in
                                 CT_KEEP_SAMPLE_EVERY (the shim's CTXTRACE_KEEP_SAMPLE:
                                 0 samples none) until the site has CT_KEEP_SAMPLE_MAX
                                 samples, then only the k-th for k a power of two — so a
                                 site's samples stay bounded however long the run */
};

enum {
    CT_KEEP_CHAIN_LAYERS = 4,     /* below value-chain-growth's default threshold (16),
                                     so `report --chain-threshold` down to 4 still works */
    CT_KEEP_SAMPLE_FIRST = 4,
    CT_KEEP_SAMPLE_EVERY = 1024,
    CT_KEEP_SAMPLE_MAX = 256,
};

/* Is the k-th clean context to end at a site (k = 0, 1, ...) sampled, the site having
 * `sampled` samples so far, one in `every` (0: none)? */
bool ct_keep_sampled(int64_t k, int64_t sampled, int every);
#define CT_KEEP_HOLD_NS INT64_C(1000000000)

/* What a context's own row tells, once it has ended (freed): LEAKED or INEFFECTIVE, or
 * NO (the writer then asks the tree's questions). */
enum ct_keep_reason ct_keep_at_end(const struct ct_ctx_row *row);

/* ---- lifetimes and wake latencies: log-linear histograms ------------------------------ */

/* Four buckets per power of two (a bucket spans at most a quarter of its lower bound,
 * so a quantile read back is within 25% — and never below the true value). */
enum { CT_HIST_BUCKETS = 256 };

struct ct_hist {
    int64_t n[CT_HIST_BUCKETS];
};

void ct_hist_add(struct ct_hist *h, int64_t v);
void ct_hist_merge(struct ct_hist *into, const struct ct_hist *h);
int64_t ct_hist_count(const struct ct_hist *h);
/* The upper bound of the bucket holding the p-th percentile (0 when empty). */
int64_t ct_hist_quantile(const struct ct_hist *h, int p);
/* As text for the file ("bucket:count" pairs separated by spaces, non-empty buckets
 * only; a bucket b holds values in [ct_hist_lower(b), ct_hist_lower(b + 1)) ), and back
 * (0, or -1 if malformed). The text is malloc'ed (NULL: out of memory). */
char *ct_hist_format(const struct ct_hist *h);
int ct_hist_parse(struct ct_hist *h, const char *text);
int64_t ct_hist_lower(int bucket);

/* ---- a site's aggregate --------------------------------------------------------------- */

/* How contexts that ended cleanly at one creation stack lived. */
struct ct_site_summary {
    int64_t create_stack;
    int kind;                       /* enum ctx_kind */
    int64_t contexts;               /* folded here */
    int64_t ended_explicit, ended_parent, ended_deadline, ended_never;
    struct ct_hist life;            /* created -> freed */
    int64_t life_max;
    int64_t origins, fanout_sum, fanout_max; /* cancellations that started here, and the
                                                descendants each made done */
    int64_t wakeups;                /* ctx_wait calls on them woken by done */
    struct ct_hist wake;            /* the cancellation -> the waiter's return */
    int64_t wake_max;
    int64_t value_lookups, value_depth_sum, value_depth_max;
    int64_t root_derivations;       /* derived directly from a root (background/todo) */
};

/* Fold one context that ended cleanly (its complete row; `fanout` descendants made done
 * by its cancellation) into s. */
void ct_site_summary_add(struct ct_site_summary *s, const struct ct_ctx_row *row,
                         int64_t fanout);

#endif /* CTXTRACE_CORE_SUMMARY_H */
