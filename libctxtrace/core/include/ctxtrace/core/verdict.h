/*
 * ctxtrace/core/verdict.h — THE state of a context: one definition of live, done and
 * leaked, used by the rules (report, run, soak), the shim's live model and the
 * inspector, so that a context the tree marks leaked is one a finding names.
 *
 * A verdict is a pure function of one context's own facts — no walk up the tree — so it
 * costs the same for a context at the bottom of a million-deep chain as for a root's
 * child, and every reader that has the row can compute it. The one fact that would need
 * the ancestors (was a cancellation already on its way down when the owners let go?) is
 * recorded when the cancellation reaches the context: cancel_origin_ns.
 *
 * The exact meaning of each leak is docs/rules.md's; in short:
 *   lost-cancel     a cancellable context whose owners dropped every reference while it
 *                   was live — unless a cancellation had already started above it by
 *                   then (waiters on an ancestor wake before its descendants are
 *                   reached, in Go as here: a thread that saw the parent done and
 *                   dropped the child was not leaking it);
 *   orphaned-timer  the same, for a deadline context whose own timer was armed;
 *   lost-at-exit    at the end of a complete trace, a cancellable context its owners
 *                   still held, never cancelled — unless the exit check found a
 *                   reference to it still reachable (then it is "still reachable", as
 *                   LeakSanitizer says, and no finding); or one the check found
 *                   unreachable and never released (its handle was lost). Without the
 *                   check's verdict, only when the program was no longer at work at the
 *                   cut: a context in flight then (a server stopped by SIGTERM, threads
 *                   still running past the exit flush) is not presumed lost.
 */
#ifndef CTXTRACE_CORE_VERDICT_H
#define CTXTRACE_CORE_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include <ctxtrace/core/columns.h>

/* What the tree, the timeline and the filters show. */
enum ct_state {
    CT_STATE_LIVE,      /* not done, and not (yet) leaked */
    CT_STATE_CANCELLED, /* done: cancelled explicitly or by an ancestor */
    CT_STATE_DEADLINE,  /* done: its deadline (or an ancestor's) passed */
    CT_STATE_LEAKED,    /* one of enum ct_leak */
};
/* Not an enumerator, so a switch over the states need not name it. */
enum { CT_STATE_COUNT = CT_STATE_LEAKED + 1 };

enum ct_leak {
    CT_LEAK_NONE,
    CT_LEAK_LOST_CANCEL,    /* rule lost-cancel: owners dropped it live */
    CT_LEAK_ORPHANED_TIMER, /* rule orphaned-timer: ... with its own timer armed */
    CT_LEAK_LOST_AT_EXIT,   /* rule lost-cancel, at exit */
};

/* What the exit check (issue 11's) concluded about a context still held at exit. */
enum ct_reach {
    CT_REACH_UNKNOWN,     /* no check, or it did not judge this context */
    CT_REACH_REACHABLE,   /* a reference a running program could use was found */
    CT_REACH_UNREACHABLE, /* none was: definitely lost */
};

/* The exit check's scan of one context (the trace's exit_reach.reach, the live wire's
 * EXIT_REACH). */
enum ct_scan_reach {
    CT_SCAN_UNREACHABLE, /* no reference found */
    CT_SCAN_REACHABLE,   /* held by a thread not blocked on it (or below it), or static data */
    CT_SCAN_STUCK,       /* held only by threads blocked in ctx_wait on it or below it */
};

/* What the verdict reads of the check: `checked` — the check judged reachability (the
 * trace's meta.exit_check_reach is present); `scanned` — it has a result for this
 * context, `scan`. Not scanned but checked is held (created after the check began:
 * when in doubt, reachable); stuck is held too — leaked-waiter names that case, and one
 * bug is one finding. */
enum ct_reach ct_reach_from_scan(bool checked, bool scanned, enum ct_scan_reach scan);

/* The facts a verdict reads; 0 (or -1 where noted) is "did not happen / unknown". */
struct ct_facts {
    int kind;              /* enum ctx_kind, -1 unknown */
    int why;               /* enum ctx_cancel_why, -1: not done */
    int released_live;     /* -1 never released; 0 released when done; 1 released live */
    bool timer_armed;      /* its own deadline timer was armed */
    int64_t canceled_ns, cancel_origin_ns, released_ns;
    enum ct_reach exit_reach;
    bool trace_complete;   /* the program exited and the trace was finished */
    bool end_in_flight;    /* the program was still at work at the cut (ct_end_in_flight) */
};

struct ct_verdict {
    enum ct_state state;
    enum ct_leak leak;
};

/* The verdict on one context. */
struct ct_verdict ct_judge(const struct ct_facts *f);

/* Was the program still at work when recording stopped for good — ended by a signal
 * (meta.exit_reason "signal ..."), or making events after the cut (meta.events_after_cut
 * > 0)? Then a context it had not released may have been on its way out, and only the
 * exit check's verdict can say it was lost. exit_reason may be NULL. */
bool ct_end_in_flight(const char *exit_reason, int64_t events_after_cut);

/* The facts of a (possibly partial) trace row (end_in_flight false: the caller's). */
void ct_facts_from_row(const struct ct_ctx_row *r, bool trace_complete, enum ct_reach reach,
                       struct ct_facts *out);

/* "live", "cancelled", "deadline", "leaked". */
const char *ct_state_name(enum ct_state s);
/* -1 if not a state name. */
int ct_state_from_name(const char *name);

#endif /* CTXTRACE_CORE_VERDICT_H */
