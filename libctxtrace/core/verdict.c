/*
 * verdict.c — the one definition of a context's state (see verdict.h; docs/rules.md).
 */
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/tracer.h>
#include <string.h>

static bool cancellable(int kind)
{
    return kind == CTX_KIND_CANCEL || kind == CTX_KIND_DEADLINE;
}

/* Owners let go of a live context: was its cancellation already under way? Only a
 * cancellation from above can be (an explicit cancel or its own deadline would have
 * made it done before the release), and it was if it started at or before the release. */
static bool cancel_was_on_its_way(const struct ct_facts *f)
{
    return f->why == CTX_WHY_PARENT && f->cancel_origin_ns != 0 &&
           f->cancel_origin_ns <= f->released_ns;
}

struct ct_verdict ct_judge(const struct ct_facts *f)
{
    struct ct_verdict v = {CT_STATE_LIVE, CT_LEAK_NONE};
    bool done = f->canceled_ns != 0;
    if (cancellable(f->kind)) {
        if (f->released_live == 1 && !cancel_was_on_its_way(f))
            v.leak = f->kind == CTX_KIND_DEADLINE && f->timer_armed ? CT_LEAK_ORPHANED_TIMER
                                                                    : CT_LEAK_LOST_CANCEL;
        else if (f->trace_complete && f->released_live == -1 &&
                 (f->exit_reach == CT_REACH_UNREACHABLE ||
                  (f->exit_reach == CT_REACH_UNKNOWN && !done && !f->end_in_flight)))
            v.leak = CT_LEAK_LOST_AT_EXIT;
    }
    if (v.leak != CT_LEAK_NONE)
        v.state = CT_STATE_LEAKED;
    else if (done)
        v.state = f->why == CTX_WHY_DEADLINE ? CT_STATE_DEADLINE : CT_STATE_CANCELLED;
    return v;
}

enum ct_reach ct_reach_from_scan(bool checked, bool scanned, enum ct_scan_reach scan)
{
    if (!scanned)
        return checked ? CT_REACH_REACHABLE : CT_REACH_UNKNOWN;
    return scan == CT_SCAN_UNREACHABLE ? CT_REACH_UNREACHABLE : CT_REACH_REACHABLE;
}

bool ct_end_in_flight(const char *exit_reason, int64_t events_after_cut)
{
    return events_after_cut > 0 ||
           (exit_reason != NULL && strncmp(exit_reason, "signal", 6) == 0);
}

void ct_facts_from_row(const struct ct_ctx_row *r, bool trace_complete, enum ct_reach reach,
                       struct ct_facts *out)
{
    *out = (struct ct_facts){
        .kind = (int)ct_ctx_get(r, CT_KIND, -1),
        .why = ct_ctx_has(r, CT_CANCELED_NS) ? (int)ct_ctx_get(r, CT_CANCEL_WHY, -1) : -1,
        .released_live = ct_ctx_has(r, CT_RELEASED_NS) || ct_ctx_has(r, CT_RELEASED_LIVE)
                             ? (int)ct_ctx_get(r, CT_RELEASED_LIVE, 0)
                             : -1,
        .timer_armed = ct_ctx_get(r, CT_TIMER_ARMED_NS, 0) != 0,
        .canceled_ns = ct_ctx_get(r, CT_CANCELED_NS, 0),
        .cancel_origin_ns = ct_ctx_get(r, CT_CANCEL_ORIGIN_NS, 0),
        .released_ns = ct_ctx_get(r, CT_RELEASED_NS, 0),
        .exit_reach = reach,
        .trace_complete = trace_complete,
    };
}

static const char *const state_names[CT_STATE_COUNT] = {"live", "cancelled", "deadline",
                                                        "leaked"};

const char *ct_state_name(enum ct_state s)
{
    return (unsigned)s < CT_STATE_COUNT ? state_names[s] : "unknown";
}

int ct_state_from_name(const char *name)
{
    for (int s = 0; name != NULL && s < CT_STATE_COUNT; s++)
        if (strcmp(name, state_names[s]) == 0)
            return s;
    return -1;
}
