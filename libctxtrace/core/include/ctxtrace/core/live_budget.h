/*
 * ctxtrace/core/live_budget.h — how much a live client (`ctxtrace tail`, the
 * inspector's live source) keeps from one server, at most.
 *
 * A server is a peer: a buggy or hostile one can send an endless stream of distinct
 * SITE frames, each with strings up to CT_WIRE_MAX_STRING, and a client that keeps
 * them all grows without bound (2.65 GB in 8 s was measured before this limit). Every
 * other frame is either printed and forgotten or bounded by the decoder. Past the
 * budget a client keeps nothing more, keeps running, and says so once: lines and rows
 * then show the stack id without its site.
 *
 * The numbers are far above a real program's: the largest traces in docs/ have a few
 * thousand sites.
 */
#ifndef CTXTRACE_CORE_LIVE_BUDGET_H
#define CTXTRACE_CORE_LIVE_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

enum {
    CT_LIVE_MAX_SITES = 1 << 16,         /* distinct stack ids described */
    CT_LIVE_MAX_SITE_BYTES = 32 << 20,   /* their strings, NULs included */
};

struct ct_live_budget {
    size_t sites, bytes;
    bool exhausted; /* a site was refused: say so (once) */
};

/* May one more site, with `bytes` of strings, be kept? Counts it if so. The first
 * refusal sets `exhausted` and returns false with *first = true (say so then). */
static inline bool ct_live_budget_take(struct ct_live_budget *b, size_t bytes, bool *first)
{
    *first = false;
    if (b->sites < CT_LIVE_MAX_SITES && bytes <= CT_LIVE_MAX_SITE_BYTES - b->bytes) {
        b->sites++;
        b->bytes += bytes;
        return true;
    }
    *first = !b->exhausted;
    b->exhausted = true;
    return false;
}

/* The one line a client says when its budget runs out (printf: the peer's name). */
#define CT_LIVE_BUDGET_MESSAGE                                                             \
    "%s sent more than %d distinct sites (or %d MiB of their names); keeping no more: "   \
    "further stacks are shown by id only"
#define CT_LIVE_BUDGET_ARGS CT_LIVE_MAX_SITES, (CT_LIVE_MAX_SITE_BYTES >> 20)

#endif /* CTXTRACE_CORE_LIVE_BUDGET_H */
