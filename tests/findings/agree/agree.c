/*
 * agree — a trace's leaked contexts by every path the tools take, for agree_test.py:
 *
 *   agree FILE.db
 *
 * prints "filter N" (contexts the inspector's state filter selects as leaked: the
 * reader's query, the verdict as an SQL function), "findings N" (contexts the report's
 * lost-cancel and orphaned-timer findings count), then one line per context from the
 * reader's scan, judged by the verdict as the inspector's tree and timeline judge it:
 * "ctx ID STATE LEAK" (LEAK: none, lost-cancel, orphaned-timer, lost-at-exit).
 */
#include <ctxtrace/core/reader.h>
#include <stdio.h>

static bool print_row(void *arg, const struct ct_ctx_row *row)
{
    static const char *const leaks[] = {"none", "lost-cancel", "orphaned-timer",
                                        "lost-at-exit"};
    struct ct_verdict v = ct_reader_verdict(arg, row);
    printf("ctx %lld %s %s\n", (long long)row->id, ct_state_name(v.state), leaks[v.leak]);
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: agree FILE.db\n");
        return 2;
    }
    char err[512];
    ct_reader *r = ct_reader_open(argv[1], err, sizeof err);
    if (r == NULL) {
        fprintf(stderr, "agree: %s\n", err);
        return 2;
    }
    struct ct_query leaked = {.flat = true, .kind = -1, .state = CT_STATE_LEAKED};
    printf("filter %lld\n", (long long)ct_reader_count(r, &leaked));
    struct ct_findings f;
    if (ct_analyze(r, NULL, &f, err, sizeof err) != 0) {
        fprintf(stderr, "agree: %s\n", err);
        return 2;
    }
    long n = 0;
    for (size_t i = 0; i < f.len; i++)
        if (f.items[i].rule == CT_RULE_LOST_CANCEL || f.items[i].rule == CT_RULE_ORPHANED_TIMER)
            n += f.items[i].count;
    printf("findings %ld\n", n);
    ct_findings_free(&f);
    long rows = ct_reader_scan(r, 0, print_row, r);
    ct_reader_close(r);
    return rows < 0 ? 2 : 0;
}
