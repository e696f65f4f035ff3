/*
 * ctxtrace/core/profile.h — the profiling half: per creation site, how many contexts,
 * how long they live, how they end, how far their cancellations reach, how fast their
 * waiters wake, how deep value lookups on them walk. (`ctxtrace report --profile`.)
 */
#ifndef CTXTRACE_CORE_PROFILE_H
#define CTXTRACE_CORE_PROFILE_H

#include <ctxtrace/core/analysis.h>

struct ct_site_profile {
    struct ct_frame site;       /* the creation site (function may be NULL) */
    int kind;                   /* enum ctx_kind of the contexts made there */
    long created;
    int64_t life_p50, life_p99, life_max; /* created -> freed (or end of trace), ns */
    long ended_explicit, ended_parent, ended_deadline, ended_never;
    long fanout_origins;        /* cancellations that started here (explicit/deadline) */
    double fanout_mean;         /* descendants each made done */
    long fanout_max;
    long wakeups;               /* ctx_wait calls on these contexts woken by done */
    int64_t wake_p50, wake_max; /* from the cancellation to the waiter's return, ns */
    long value_lookups;
    double value_depth_mean;    /* contexts examined per lookup */
    long value_depth_max;
};

struct ct_profile {
    struct ct_site_profile *sites; /* most contexts created first */
    size_t len;
    long contexts;
};

/* The per-site profile of the trace `r` reads. 0, or -1 with err filled. */
int ct_profile(ct_reader *r, struct ct_profile *out, char *err, size_t errlen);
void ct_profile_free(struct ct_profile *p);

#endif /* CTXTRACE_CORE_PROFILE_H */
