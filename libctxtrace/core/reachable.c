/*
 * reachable.c — contexts still reachable at exit (see analysis.h): the listing a
 * LeakSanitizer user asks for with report_objects, for contexts. Not a rule: nothing
 * here is a finding, and the verdict (verdict.h) is what says so — a context is listed
 * exactly when the verdict would call it lost at exit but for the exit check's reach.
 */
#include <ctxtrace/core/analysis.h>
#include <ctxtrace/core/reader.h>
#include <ctxtrace/core/verdict.h>
#include <ctxtrace/tracer.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_exit.h"
#include "trace_mem.h"

/* Held by its owners at the end of a complete trace, not freed, and reachable. */
static bool still_reachable(const struct trace *t, const struct crow *c)
{
    if ((c->kind != CTX_KIND_CANCEL && c->kind != CTX_KIND_DEADLINE) || c->freed != 0 ||
        c->released != 0 || c->released_live >= 0)
        return false;
    return exit_reach_of(t, c->id) == CT_REACH_REACHABLE;
}

static int by_count(const void *a, const void *b)
{
    const struct ct_reachable_site *x = a, *y = b;
    return (x->count < y->count) - (x->count > y->count);
}

int ct_reachable_at_exit(ct_reader *reader, struct ct_reachable *out, char *err, size_t errlen)
{
    sqlite3 *db = ct_reader_db(reader);
    memset(out, 0, sizeof *out);
    struct trace t = {0};
    struct u64map site_index = {0}; /* site + 1 -> items index + 1 */
    int rc = -1;
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (trace_mem_load(&t, reader, err, errlen) != 0 || exit_reach_load(&t, err, errlen) != 0)
        goto done;
    out->checked = t.exit_checked;
    if (!t.complete || !t.exit_checked) {
        rc = 0; /* nothing can be said to be reachable */
        goto done;
    }
    /* One pass over the contexts (stream.h): a context is judged on its own row. */
    struct crow row;
    const struct crow *c = &row;
    int more;
    while ((more = ctx_stream_next(&t.stream, &row)) == 1) {
        if (!still_reachable(&t, c))
            continue;
        uint64_t key = (uint64_t)trace_site(&t, c->create_stack) + 1, k;
        if (!u64map_get(&site_index, key, &k)) {
            struct ct_reachable_site *grown =
                realloc(out->items, (out->len + 1) * sizeof *grown);
            if (grown == NULL)
                goto oom;
            out->items = grown;
            struct ct_reachable_site *s = &out->items[out->len];
            *s = (struct ct_reachable_site){.kind = c->kind, .example = c->id};
            if (c->create_stack != 0 && ct_load_stack(db, c->create_stack, &s->stack) != 0)
                goto oom;
            k = ++out->len;
            if (!u64map_put(&site_index, key, k))
                goto oom;
        }
        struct ct_reachable_site *s = &out->items[k - 1];
        s->count++;
        s->never_cancelled += c->canceled == 0;
        out->total++;
    }
    if (more < 0) {
        snprintf(err, errlen, "reading contexts: %s", sqlite3_errmsg(db));
        ct_reachable_free(out);
        goto done;
    }
    if (out->len > 1)
        qsort(out->items, out->len, sizeof *out->items, by_count);
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory or an unreadable stack");
    ct_reachable_free(out);
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    u64map_free(&site_index);
    u64map_free(&t.exit_reach);
    trace_mem_free(&t);
    return rc;
}

void ct_reachable_free(struct ct_reachable *x)
{
    for (size_t i = 0; i < x->len; i++)
        ct_stack_free(&x->items[i].stack);
    free(x->items);
    memset(x, 0, sizeof *x);
}
