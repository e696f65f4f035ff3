/*
 * ctxtrace/core/suppress.h — suppressions: findings the user has decided to accept.
 *
 * A suppressions file holds one rule per line (docs/report.md is the definition):
 *
 *     # comment
 *     lost-cancel:function=fetch_*        a rule name (or a glob over rule names, * = any),
 *     *:module=libvendor.so*              a key (function, file, module, site-function,
 *     leaked-waiter:progress_ticker       site-file; none means function) and a glob;
 *     lost-cancel:site-file=crawl.c:42    file keys may end in :LINE
 *
 * A finding is suppressed when any line matches it: `function`, `file` and `module`
 * match the finding's site or any frame of its stack (as LeakSanitizer matches any
 * frame); `site-function` and `site-file` match the site only (as goleak's
 * IgnoreTopFunction). Shared by `ctxtrace report`, the exit report of `ctxtrace run`
 * and the inspector.
 */
#ifndef CTXTRACE_CORE_SUPPRESS_H
#define CTXTRACE_CORE_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <ctxtrace/core/analysis.h>

enum ct_supp_key {
    CT_SUPP_FUNCTION,      /* the site or any frame of the stack: function name */
    CT_SUPP_FILE,          /* ... source file */
    CT_SUPP_MODULE,        /* ... ELF module (executable or shared library) */
    CT_SUPP_SITE_FUNCTION, /* the site only: function name */
    CT_SUPP_SITE_FILE,     /* the site only: source file */
};

struct ct_suppression {
    char *rule;            /* glob over rule names ("*": every rule) */
    enum ct_supp_key key;
    char *pattern;         /* fnmatch(3) glob, no flags: `*` also matches `/` */
    int line_of_file;      /* file keys written PATTERN:LINE: the line too (0: any) */
    char *text;            /* the line as written, without comment and blanks */
    char *source;          /* the file it came from */
    int line;              /* its line there */
    long hits;             /* findings it suppressed (counted by ct_suppressions_apply) */
};

struct ct_suppressions {
    struct ct_suppression *items;
    size_t len, cap;
};

/* Add the rules of file `path`. Returns 0, or -1 with a one-line reason in err
 * ("supp.txt:3: unknown rule 'lost-cancels' ..."); nothing is added on error. */
int ct_suppressions_load(struct ct_suppressions *s, const char *path, char *err, size_t errlen);

/* Add the rules in `text` (the contents of a file), naming `source` in messages. */
int ct_suppressions_parse(struct ct_suppressions *s, const char *text, const char *source,
                          char *err, size_t errlen);

/* The first rule matching finding f, or NULL. */
struct ct_suppression *ct_suppressions_match(const struct ct_suppressions *s,
                                             const struct ct_finding *f);

/* Remove (and free) every suppressed finding from f, keeping the order of the rest,
 * and count each rule's hits. Returns the number removed. */
size_t ct_suppressions_apply(struct ct_suppressions *s, struct ct_findings *f);

void ct_suppressions_free(struct ct_suppressions *s);

#endif /* CTXTRACE_CORE_SUPPRESS_H */
