/*
 * columns.c — the `contexts` columns (see columns.h): the one table, the merge of
 * partial rows it implies, and the names of kinds and cancellation causes.
 */
#include <ctxtrace/core/columns.h>
#include <stdlib.h>
#include <string.h>

const struct ct_col ct_ctx_cols[CT_CTX_NCOLS] = {
    [CT_PARENT_ID] = {"parent_id", CT_COL_INT, CT_MERGE_LATEST},
    [CT_KIND] = {"kind", CT_COL_KIND, CT_MERGE_LATEST},
    [CT_CREATED_NS] = {"created_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CREATE_THREAD] = {"create_thread", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CREATE_STACK] = {"create_stack", CT_COL_INT, CT_MERGE_LATEST},
    [CT_REQUESTED_DEADLINE_NS] = {"requested_deadline_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_DEADLINE_NS] = {"deadline_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_TIMER_ARMED_NS] = {"timer_armed_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_TIMER_STOPPED_NS] = {"timer_stopped_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_TIMER_FIRED_NS] = {"timer_fired_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCELED_NS] = {"canceled_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCEL_WHY] = {"cancel_why", CT_COL_WHY, CT_MERGE_LATEST},
    [CT_CANCEL_ERR] = {"cancel_err", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCEL_CAUSE] = {"cancel_cause", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCEL_REASON] = {"cancel_reason", CT_COL_TEXT, CT_MERGE_LATEST},
    [CT_CANCEL_THREAD] = {"cancel_thread", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCEL_STACK] = {"cancel_stack", CT_COL_INT, CT_MERGE_LATEST},
    [CT_CANCEL_ORIGIN_NS] = {"cancel_origin_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_RELEASED_NS] = {"released_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_RELEASED_LIVE] = {"released_live", CT_COL_INT, CT_MERGE_LATEST},
    [CT_RELEASE_THREAD] = {"release_thread", CT_COL_INT, CT_MERGE_LATEST},
    [CT_RELEASE_STACK] = {"release_stack", CT_COL_INT, CT_MERGE_LATEST},
    [CT_FREED_NS] = {"freed_ns", CT_COL_INT, CT_MERGE_LATEST},
    [CT_VALUE_LOOKUPS] = {"value_lookups", CT_COL_INT, CT_MERGE_SUM},
    [CT_VALUE_DEPTH_SUM] = {"value_depth_sum", CT_COL_INT, CT_MERGE_SUM},
    [CT_VALUE_DEPTH_MAX] = {"value_depth_max", CT_COL_INT, CT_MERGE_MAX},
};

bool ct_ctx_row_merge(struct ct_ctx_row *into, const struct ct_ctx_row *in)
{
    bool changed = false;
    for (int c = 0; c < CT_CTX_NCOLS; c++) {
        if (!ct_ctx_has(in, (enum ct_ctx_col)c))
            continue;
        bool had = ct_ctx_has(into, (enum ct_ctx_col)c);
        int64_t old = into->v[c], v = in->v[c];
        if (ct_ctx_cols[c].type == CT_COL_TEXT) {
            if (in->reason == NULL ||
                (into->reason != NULL && strcmp(into->reason, in->reason) == 0))
                continue;
            free(into->reason);
            into->reason = strdup(in->reason);
            into->present |= 1u << c;
            changed = true;
            continue;
        }
        switch (ct_ctx_cols[c].merge) {
        case CT_MERGE_LATEST:
            break; /* a known value replaces: every fact is written once anyway */
        case CT_MERGE_SUM:
            v = had ? old + v : v;
            break;
        case CT_MERGE_MAX:
            v = had && old > v ? old : v;
            break;
        }
        if (!had || v != old)
            changed = true;
        ct_ctx_set(into, (enum ct_ctx_col)c, v);
    }
    return changed;
}

static const char *const kind_names[] = {"background", "todo",   "without_cancel",
                                         "value",      "cancel", "deadline"};
static const char *const why_names[] = {"explicit", "parent", "deadline"};

const char *ct_kind_name(int kind)
{
    return kind >= 0 && kind < (int)(sizeof kind_names / sizeof *kind_names) ? kind_names[kind]
                                                                             : "unknown";
}

const char *ct_why_name(int why)
{
    return why >= 0 && why < (int)(sizeof why_names / sizeof *why_names) ? why_names[why]
                                                                         : "unknown";
}

static int index_of(const char *const *names, int n, const char *name)
{
    for (int i = 0; name != NULL && i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int ct_kind_from_name(const char *name)
{
    return index_of(kind_names, (int)(sizeof kind_names / sizeof *kind_names), name);
}

int ct_why_from_name(const char *name)
{
    return index_of(why_names, (int)(sizeof why_names / sizeof *why_names), name);
}
