/*
 * ctxtrace/core/analysis.h — judging a trace: the rules.
 *
 * The rules are defined precisely in docs/rules.md; this is their one implementation,
 * shared by `ctxtrace report`, the exit report of `ctxtrace run`, soak and the
 * inspector, so they all agree.
 *
 * Findings are aggregated by rule and site: the innermost frame of the relevant stack
 * that is not inside libctxtrace or the shim.
 */
#ifndef CTXTRACE_CORE_ANALYSIS_H
#define CTXTRACE_CORE_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_reader ct_reader;

/* ---- frames and stacks -------------------------------------------------------------- */

struct ct_frame {
    char *function; /* NULL if unknown */
    char *file;     /* NULL if unknown */
    int line;       /* 0 if unknown */
    char *module;
    bool inlined;   /* inlined into the next (outer) frame: no physical frame of its own */
    bool tail_call; /* removed by a tail call (a jump), put back from the DWARF */
};

struct ct_stack {
    struct ct_frame *frames; /* logical frames (inlined calls included), innermost first,
                                runtime and shim frames removed */
    int depth;
};

/* Is this module libctxtrace.so* or libctxtrace_preload.so? Their frames are how a
 * context was made, not where: a stack's site is its innermost frame outside them. */
bool ct_is_own_module(const char *module);

/* ---- findings ----------------------------------------------------------------------- */

/* Most severe first: findings are listed in this order. */
enum ct_rule {
    CT_RULE_LEAKED_WAITER,
    CT_RULE_ORPHANED_TIMER,
    CT_RULE_LOST_CANCEL,
    CT_RULE_DERIVED_FROM_DONE,
    CT_RULE_VALUE_CHAIN_GROWTH,
    CT_RULE_DETACHED_ROOT,
    CT_RULE_INEFFECTIVE_DEADLINE,
    CT_RULE_LEAKED_THREAD,       /* judged on the exit check (rule_exit.c) */
    CT_RULE_COUNT
};

/* The rule's name in every output ("lost-cancel", ...), a title, a one-line
 * explanation, how to fix it in one line, its severity ("error", "warning", "note": as
 * SARIF's levels), and what a finding's durations measure (NULL: none). */
const char *ct_rule_name(enum ct_rule r);
const char *ct_rule_title(enum ct_rule r);
const char *ct_rule_summary(enum ct_rule r);
const char *ct_rule_fix(enum ct_rule r);
const char *ct_rule_level(enum ct_rule r);
const char *ct_rule_duration_label(enum ct_rule r);
/* The rule whose finding covers a context the verdict (verdict.h) calls leaked with
 * `leak` (an enum ct_leak): orphaned-timer, or lost-cancel (lost at exit included);
 * CT_RULE_COUNT for none. */
enum ct_rule ct_rule_of_leak(int leak);

enum { CT_MAX_EXAMPLES = 5 };

struct ct_finding {
    enum ct_rule rule;
    long count;                 /* contexts (or blocked waits) at this site */
    struct ct_frame site;
    struct ct_stack stack;      /* the relevant stack (creation, or the wait) */
    /* A second stack where the rule has one: the release stack (lost-cancel,
     * orphaned-timer), the thread's creation stack (leaked-waiter, leaked-thread). */
    const char *stack2_label;   /* "released at", "thread created at", or NULL */
    struct ct_stack stack2;
    /* leaked-waiter: the waited context's creation stack; leaked-thread: the creation
     * stack of the context the thread missed. */
    const char *stack3_label;
    struct ct_stack stack3;
    int64_t examples[CT_MAX_EXAMPLES]; /* context ids */
    int nexamples;
    /* Durations (ns) over the contexts counted; meaning per rule (docs/rules.md). */
    int64_t dur_p50, dur_max;
    long fired;                 /* orphaned-timer: timers that fired after release */
    char detail[256];           /* one line of rule-specific facts */
};

struct ct_findings {
    struct ct_finding *items;   /* most severe rule first, then by count */
    size_t len;
    long contexts;              /* contexts in the trace (roots excluded) */
    bool complete;              /* meta.complete */
    /* The exit check: threads the program created, alive at the check, never seen with a
     * context — leaked-thread does not judge them. */
    long threads_unjudged;
    /* meta.exit_check: "done", "off", "abandoned: REASON"; "" if the trace has none. */
    char exit_check[160];
};

/* Thresholds (docs/rules.md); 0 takes the default. */
struct ct_analysis_opts {
    int detached_root_threshold;     /* derivations from a root at one site; default 32 */
    int derived_from_done_threshold; /* derivations from one done parent at a site; 2 */
    int value_chain_threshold;       /* same-site value layers stacked; default 16 */
};

struct ct_analysis_opts ct_analysis_defaults(void);

/* Apply every rule to a trace. Returns 0, or -1 with err filled. */
int ct_analyze(ct_reader *r, const struct ct_analysis_opts *opts, struct ct_findings *out,
               char *err, size_t errlen);
void ct_findings_free(struct ct_findings *f);

void ct_stack_free(struct ct_stack *s);

/* ---- still reachable at exit (not findings) --------------------------------------- */

/* LeakSanitizer's "still reachable", for contexts (`ctxtrace report --show-reachable`;
 * docs/rules.md "The exit check"): cancellable contexts their owners never released,
 * not freed when the program exited, that the exit check found reachable by the running
 * program (so no lost-cancel). Listed on request only: a context a program keeps in a
 * global until exit is how many programs are written. Grouped by creation site. */
struct ct_reachable_site {
    struct ct_stack stack;  /* the site's first stack; frames[0] is the site */
    int kind;               /* enum ctx_kind of the first one */
    long count;
    long never_cancelled;   /* of which not done at the exit */
    int64_t example;        /* one of them (context id) */
};

struct ct_reachable {
    struct ct_reachable_site *items; /* most contexts first */
    size_t len;
    long total;
    bool checked;           /* the trace has an exit check that judged reachability */
};

int ct_reachable_at_exit(ct_reader *r, struct ct_reachable *out, char *err, size_t errlen);
void ct_reachable_free(struct ct_reachable *x);

#endif /* CTXTRACE_CORE_ANALYSIS_H */
