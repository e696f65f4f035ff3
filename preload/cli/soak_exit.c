/*
 * soak_exit.c — soak's second verdict: what the exit check found when soak stopped the
 * program (docs/soak.md, docs/rules.md "The exit check"). Growth says the program leaks
 * over time; a thread left blocked forever — leaked-thread, leaked-waiter — is a leak
 * even if nothing grew, so a soak that ends with one fails and names it.
 */
#include <ctxtrace/core/analysis.h>
#include <stdbool.h>
#include <string.h>

#include "report.h"
#include "soak.h"

int soak_exit_verdict(ct_reader *db, FILE *out, const struct report *rep, long *stuck)
{
    struct ct_findings f;
    char err[256];
    *stuck = 0;
    if (ct_analyze(db, NULL, &f, err, sizeof err) != 0) {
        fprintf(out, "soak: the exit check could not be judged: %s\n", err);
        return -1;
    }
    if (f.exit_check[0] != '\0' && strcmp(f.exit_check, "done") != 0)
        fprintf(out, "\nexit check: %s\n", f.exit_check);
    bool header = false;
    for (size_t i = 0; i < f.len; i++) {
        const struct ct_finding *x = &f.items[i];
        if (x->rule != CT_RULE_LEAKED_THREAD && x->rule != CT_RULE_LEAKED_WAITER)
            continue;
        if (!header)
            fputs("\nthreads left blocked forever when soak stopped the program:\n", out);
        header = true;
        fprintf(out, "  %s: %ld %s at ", ct_rule_name(x->rule), x->count,
                report_noun(x->rule, x->count));
        report_text_frame(out, rep, &x->site);
        fputc('\n', out);
        *stuck += x->count;
    }
    ct_findings_free(&f);
    return 0;
}
