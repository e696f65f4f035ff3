/*
 * report_profile.c — `ctxtrace report --profile`: the profiling half of the toolkit.
 *
 * One row per creation site, most contexts first: how many contexts it made, how long
 * they lived, how they ended, how far the cancellations that started there reached,
 * how fast their waiters woke, and how deep value lookups on them walked (the
 * numbers come from ct_profile in the trace core; docs/report.md explains each).
 */
#include <ctxtrace/core/profile.h>
#include <ctxtrace/tracer.h>
#include <limits.h>
#include <ctxtrace/core/reader.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "report.h"

static const char *kind_name(int kind)
{
    static const char *const names[] = {"background", "todo",   "without_cancel",
                                        "value",      "cancel", "deadline"};
    return kind >= 0 && kind < 6 ? names[kind] : "unknown";
}

/* The table fits 100 columns: each site is a line of its own (a path can be long),
 * followed by its numbers in fixed columns, so rows align whatever the site; value
 * lookups, rare, are appended to the site's line when there are any. --format json
 * has every number. */
static void print_text(FILE *out, const struct ct_profile *p, const struct report *paths)
{
    static const char row[] = "%10s  %-9s %-30s %-14s %-9s %s\n";
    fprintf(out, "ctxtrace profile: %ld contexts created at %zu sites\n\n", p->contexts,
            p->len);
    fprintf(out, row, "contexts", "kind", "lifetime p50 / p99 / max", "ended c/p/d/n",
            "fan-out", "waiters woke p50/max");
    for (size_t i = 0; i < p->len; i++) {
        const struct ct_site_profile *s = &p->sites[i];
        char a[32], b[32], c[32], n[24], life[112], fan[32] = "-", wake[80] = "-";
        report_fmt_ns(a, sizeof a, s->life_p50);
        report_fmt_ns(b, sizeof b, s->life_p99);
        report_fmt_ns(c, sizeof c, s->life_max);
        snprintf(life, sizeof life, "%s / %s / %s", a, b, c);
        if (s->fanout_origins > 0)
            snprintf(fan, sizeof fan, "%.1f/%ld", s->fanout_mean, s->fanout_max);
        if (s->wakeups > 0) {
            report_fmt_ns(a, sizeof a, s->wake_p50);
            report_fmt_ns(b, sizeof b, s->wake_max);
            snprintf(wake, sizeof wake, "%s / %s", a, b);
        }
        char ended[64] = "-";
        if (s->kind == CTX_KIND_CANCEL || s->kind == CTX_KIND_DEADLINE)
            snprintf(ended, sizeof ended, "%ld/%ld/%ld/%ld", s->ended_explicit, s->ended_parent,
                     s->ended_deadline, s->ended_never);
        const char *file = report_relpath(paths, s->site.file);
        fprintf(out, "\n  %s %s:%d", s->site.function ? s->site.function : "?",
                file ? file : "?", s->site.line);
        if (s->value_lookups > 0)
            fprintf(out, "  (value lookups: %ld, contexts examined %.1f avg, %ld max)",
                    s->value_lookups, s->value_depth_mean, s->value_depth_max);
        snprintf(n, sizeof n, "%ld", s->created);
        fputc('\n', out);
        fprintf(out, row, n, kind_name(s->kind), life, ended, fan, wake);
    }
    fprintf(out, "\nlifetime: creation to free (or the end of the trace). ended: how the "
                 "contexts became\ndone: cancelled here / by the parent / deadline / never. "
                 "fan-out: descendants each\ncancellation that started here made done "
                 "(avg/max). waiters woke: from the\ncancellation to ctx_wait returning. "
                 "Every number: --format json.\n");
}

static void print_json(FILE *out, const struct ct_profile *p, const char *trace)
{
    struct json j;
    json_init(&j, out);
    json_object(&j);
    json_key(&j, "version");
    json_int(&j, 1);
    json_key(&j, "trace");
    json_string(&j, trace);
    json_key(&j, "contexts");
    json_int(&j, p->contexts);
    json_key(&j, "sites");
    json_array(&j);
    for (size_t i = 0; i < p->len; i++) {
        const struct ct_site_profile *s = &p->sites[i];
        json_object(&j);
        json_key(&j, "site");
        json_object_inline(&j);
        report_json_frame(&j, &s->site, false);
        json_end_object(&j);
        json_key(&j, "kind");
        json_string(&j, kind_name(s->kind));
        const struct {
            const char *key;
            int64_t v;
        } ints[] = {
            {"created", s->created},
            {"lifetime_p50_ns", s->life_p50},
            {"lifetime_p99_ns", s->life_p99},
            {"lifetime_max_ns", s->life_max},
            {"ended_explicit", s->ended_explicit},
            {"ended_parent", s->ended_parent},
            {"ended_deadline", s->ended_deadline},
            {"ended_never", s->ended_never},
            {"cancel_origins", s->fanout_origins},
            {"fanout_max", s->fanout_max},
            {"waiters_woken", s->wakeups},
            {"wake_p50_ns", s->wake_p50},
            {"wake_max_ns", s->wake_max},
            {"value_lookups", s->value_lookups},
            {"value_depth_max", s->value_depth_max},
        };
        for (size_t k = 0; k < sizeof ints / sizeof *ints; k++) {
            json_key(&j, ints[k].key);
            json_int(&j, ints[k].v);
        }
        /* Means as thousandths, so the JSON stays integer-only like the rest. */
        json_key(&j, "fanout_mean_milli");
        json_int(&j, (int64_t)(s->fanout_mean * 1000 + 0.5));
        json_key(&j, "value_depth_mean_milli");
        json_int(&j, (int64_t)(s->value_depth_mean * 1000 + 0.5));
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
}

int report_profile(FILE *out, const char *trace, bool json, const char *source_root,
                   char *err, size_t errlen)
{
    ct_reader *rd = ct_reader_open(trace, err, errlen);
    if (rd == NULL)
        return -1;
    struct ct_profile p;
    char why[400] = "";
    int rc = ct_profile(rd, &p, why, sizeof why);
    ct_reader_close(rd);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", trace, why[0] ? why : "profile failed");
        return -1;
    }
    if (json) {
        print_json(out, &p, trace);
    } else {
        struct report paths = {.trace = trace};
        char cwd[PATH_MAX];
        const char *root = source_root ? source_root : getcwd(cwd, sizeof cwd);
        if (root == NULL || realpath(root, paths.root) == NULL)
            paths.root[0] = '\0';
        print_text(out, &p, &paths);
    }
    ct_profile_free(&p);
    return 0;
}
