/*
 * rule_exit.h — the rules judged on the exit check's facts (rule_exit.c). Internal to
 * libctxtrace/core: rules.c calls them and groups their matches with the other rules'.
 */
#ifndef CT_RULE_EXIT_H
#define CT_RULE_EXIT_H

#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/verdict.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_mem.h"

/* One match, grouped by (rule, site) like every rule's; stacks and durations mean what
 * docs/rules.md says for the rule. */
struct exit_match {
    enum ct_rule rule;
    int64_t site, id, stack, stack2, stack3, dur;
};

struct exit_matches {
    struct exit_match *items;
    size_t n, cap;
    long threads_unjudged; /* created threads at the check never seen with a context */
};

/* leaked-thread (docs/rules.md). Nothing when the trace has no completed exit check. */
int rule_leaked_thread(struct trace *t, struct exit_matches *out);
void exit_matches_free(struct exit_matches *m);
/* meta.exit_check into buf ("" when the trace has none). */
void exit_check_status(sqlite3 *db, char *buf, size_t len);

/* The exit check's reachability scan (table exit_reach), into t->exit_reach. */
int exit_reach_load(struct trace *t, char *err, size_t errlen);
/* The same for any reader of db: the table into `into`, and whether the check ran. */
int exit_reach_read(sqlite3 *db, struct u64map *into, bool *checked, char *err,
                    size_t errlen);
/* A context's reachability at exit: the check's verdict; one it did not decide although
 * it ran is reachable (never a false alarm); without a check, unknown. */
enum ct_reach exit_reach_lookup(const struct u64map *m, bool checked, int64_t id);
/* For the verdict: reachable (by anyone, its waiters included), unreachable, or unknown
 * (no completed scan, or a context it did not judge). */
enum ct_reach exit_reach_of(const struct trace *t, int64_t id);
/* For leaked-waiter: the scan found no reference to it that a thread not blocked on it
 * (or below it) could use — an owner reference it holds cannot cancel it. */
bool exit_out_of_reach(const struct trace *t, int64_t id);

/* The index of a stack's innermost application frame: outside the C library, the
 * dynamic loader and the compiler's runtime (the stack has no libctxtrace or shim
 * frames: ct_load_stack removed them). 0 when every frame is a system one. */
int exit_app_frame(const struct ct_stack *s);

#endif /* CT_RULE_EXIT_H */
