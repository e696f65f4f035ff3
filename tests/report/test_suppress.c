/*
 * test_suppress.c — the suppressions file format and matching (libctxtrace/core/
 * suppress.c, defined in docs/report.md), on hand-made findings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ctxtrace/core/suppress.h>

/* A finding of `rule` whose stack is the frames given as "function|file|line|module"
 * (innermost first; empty parts unknown). The site is the first frame. */
static struct ct_finding make(enum ct_rule rule, int n, ...)
{
    struct ct_finding f;
    memset(&f, 0, sizeof f);
    f.rule = rule;
    f.count = 1;
    f.stack.frames = calloc((size_t)n, sizeof *f.stack.frames);
    f.stack.depth = n;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        char *spec = strdup(va_arg(ap, const char *));
        char *parts[4] = {0};
        char *p = spec;
        for (int k = 0; k < 4; k++) {
            char *bar = strchr(p, '|');
            if (bar)
                *bar = '\0';
            parts[k] = p;
            p = bar ? bar + 1 : p + strlen(p);
        }
        struct ct_frame *fr = &f.stack.frames[i];
        fr->function = *parts[0] ? strdup(parts[0]) : NULL;
        fr->file = *parts[1] ? strdup(parts[1]) : NULL;
        fr->line = atoi(parts[2]);
        fr->module = *parts[3] ? strdup(parts[3]) : NULL;
        free(spec);
    }
    va_end(ap);
    if (n > 0) {
        const struct ct_frame *s = &f.stack.frames[0];
        f.site.function = s->function ? strdup(s->function) : NULL;
        f.site.file = s->file ? strdup(s->file) : NULL;
        f.site.line = s->line;
        f.site.module = s->module ? strdup(s->module) : NULL;
    }
    return f;
}

static void drop(struct ct_finding *f)
{
    free(f->site.function);
    free(f->site.file);
    free(f->site.module);
    ct_stack_free(&f->stack);
}

/* Does a file holding `text` suppress f? */
static bool suppresses(const char *text, const struct ct_finding *f)
{
    struct ct_suppressions s = {0};
    char err[256] = "";
    if (ct_suppressions_parse(&s, text, "t.supp", err, sizeof err) != 0)
        fail_msg("'%s' did not parse: %s", text, err);
    bool hit = ct_suppressions_match(&s, f) != NULL;
    ct_suppressions_free(&s);
    return hit;
}

/* The error for `text`, which must not parse. */
static const char *error_of(const char *text)
{
    static char err[512];
    struct ct_suppressions s = {0};
    err[0] = '\0';
    if (ct_suppressions_parse(&s, text, "t.supp", err, sizeof err) == 0)
        fail_msg("'%s' parsed, but should not", text);
    assert_int_equal(s.len, 0);
    ct_suppressions_free(&s);
    return err;
}

static void syntax(void **state)
{
    (void)state;
    struct ct_suppressions s = {0};
    char err[256];
    assert_int_equal(ct_suppressions_parse(&s,
                                           "# comment\n"
                                           "\n"
                                           "   \t\n"
                                           "lost-cancel:function=fetch_*\n"
                                           "  *:file=vendor/*   # trailing comment\n"
                                           "leaked-waiter:progress_ticker\r\n"
                                           "orphaned-*: module = libfoo.so*\n"
                                           "ineffective-deadline:site-file=a.c:42\n"
                                           "detached-root:site-function=handle",
                                           "t.supp", err, sizeof err),
                     0);
    assert_int_equal(s.len, 6);
    assert_string_equal(s.items[0].rule, "lost-cancel");
    assert_int_equal(s.items[0].key, CT_SUPP_FUNCTION);
    assert_string_equal(s.items[0].pattern, "fetch_*");
    assert_int_equal(s.items[0].line, 4);
    assert_string_equal(s.items[0].source, "t.supp");
    assert_string_equal(s.items[1].rule, "*");
    assert_int_equal(s.items[1].key, CT_SUPP_FILE);
    assert_string_equal(s.items[1].pattern, "vendor/*");
    assert_string_equal(s.items[1].text, "*:file=vendor/*");
    assert_int_equal(s.items[2].key, CT_SUPP_FUNCTION); /* no KEY=: a function */
    assert_string_equal(s.items[2].pattern, "progress_ticker");
    assert_int_equal(s.items[3].key, CT_SUPP_MODULE);
    assert_string_equal(s.items[3].pattern, "libfoo.so*");
    assert_int_equal(s.items[4].key, CT_SUPP_SITE_FILE);
    assert_string_equal(s.items[4].pattern, "a.c");
    assert_int_equal(s.items[4].line_of_file, 42);
    assert_int_equal(s.items[5].key, CT_SUPP_SITE_FUNCTION);
    assert_int_equal(s.items[5].line, 9);
    /* A second file adds to the first. */
    assert_int_equal(ct_suppressions_parse(&s, "*:x\n", "u.supp", err, sizeof err), 0);
    assert_int_equal(s.len, 7);
    assert_string_equal(s.items[6].source, "u.supp");
    /* An error adds nothing, even after good lines. */
    assert_int_equal(ct_suppressions_parse(&s, "*:y\nbad\n", "v.supp", err, sizeof err), -1);
    assert_int_equal(s.len, 7);
    ct_suppressions_free(&s);
    /* Empty files are fine. */
    assert_int_equal(ct_suppressions_parse(&s, "", "e.supp", err, sizeof err), 0);
    assert_int_equal(s.len, 0);
    ct_suppressions_free(&s);
}

static void errors(void **state)
{
    (void)state;
    assert_non_null(strstr(error_of("lost-cancel"), "t.supp:1: expected RULE:KEY=PATTERN"));
    assert_non_null(strstr(error_of("#\n\nlost-cancels:function=x"), "t.supp:3: unknown rule 'lost-cancels'"));
    assert_non_null(strstr(error_of("lost-*x:function=x"), "t.supp:1: no rule matches 'lost-*x'"));
    assert_non_null(strstr(error_of(":function=x"), "t.supp:1: no rule before ':'"));
    assert_non_null(strstr(error_of("*:funtion=x"), "t.supp:1: unknown key 'funtion'"));
    assert_non_null(strstr(error_of("*:function="), "t.supp:1: empty pattern"));
    assert_non_null(strstr(error_of("*:"), "t.supp:1: empty pattern"));
    assert_non_null(strstr(error_of("*:file=a.c:0"), "t.supp:1: bad line number"));
    /* Every message is one line. */
    assert_null(strchr(error_of("*:funtion=x"), '\n'));
}

static void load(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_suppress.XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/s.supp", dir);
    struct ct_suppressions s = {0};
    assert_int_equal(ct_suppressions_load(&s, path, err, sizeof err), -1); /* missing */
    assert_non_null(strstr(err, "No such file"));
    assert_int_equal(ct_suppressions_load(&s, dir, err, sizeof err), -1); /* a directory */
    assert_non_null(strstr(err, dir));
    FILE *f = fopen(path, "w");
    /* Longer than any buffer: 2000 lines. */
    for (int i = 0; i < 2000; i++)
        fprintf(f, "lost-cancel:function=fn_%d\n", i);
    fclose(f);
    assert_int_equal(ct_suppressions_load(&s, path, err, sizeof err), 0);
    assert_int_equal(s.len, 2000);
    assert_string_equal(s.items[1999].pattern, "fn_1999");
    assert_int_equal(s.items[1999].line, 2000);
    ct_suppressions_free(&s);
    f = fopen(path, "w");
    fwrite("*:x\n\0\n", 1, 6, f);
    fclose(f);
    assert_int_equal(ct_suppressions_load(&s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "binary"));
    unlink(path);
    rmdir(dir);
}

static void matching(void **state)
{
    (void)state;
    struct ct_finding f = make(CT_RULE_LOST_CANCEL, 3,
                               "fetch_page|/src/app/net/fetch.c|42|/src/build/app",
                               "crawl|/src/app/crawl.c|10|/src/build/app",
                               "main||0|/src/build/app");
    /* Rules: exact, glob, any; the wrong one. */
    assert_true(suppresses("lost-cancel:function=fetch_page", &f));
    assert_true(suppresses("lost-*:function=fetch_page", &f));
    assert_true(suppresses("*:function=fetch_page", &f));
    assert_false(suppresses("orphaned-timer:function=fetch_page", &f));
    /* Function globs; any frame of the stack, not only the site. */
    assert_true(suppresses("*:function=fetch_*", &f));
    assert_true(suppresses("*:fetch_*", &f));
    assert_true(suppresses("*:function=crawl", &f));
    assert_true(suppresses("*:function=main", &f));
    assert_false(suppresses("*:function=fetch", &f)); /* whole names */
    assert_false(suppresses("*:function=Fetch_page", &f));
    /* site-function: the site only (goleak's IgnoreTopFunction). */
    assert_true(suppresses("*:site-function=fetch_page", &f));
    assert_false(suppresses("*:site-function=crawl", &f));
    /* Files: whole path, or any tail at a '/' unless the pattern starts with / or *. */
    assert_true(suppresses("*:file=/src/app/net/fetch.c", &f));
    assert_true(suppresses("*:file=fetch.c", &f));
    assert_true(suppresses("*:file=net/fetch.c", &f));
    assert_true(suppresses("*:file=app/net/*.c", &f));
    assert_true(suppresses("*:file=*/net/*", &f));
    assert_true(suppresses("*:file=crawl.c", &f)); /* an outer frame */
    assert_false(suppresses("*:file=etch.c", &f));
    assert_false(suppresses("*:file=/app/net/fetch.c", &f));
    assert_false(suppresses("*:site-file=crawl.c", &f));
    assert_true(suppresses("*:site-file=fetch.c", &f));
    /* FILE:LINE */
    assert_true(suppresses("*:site-file=fetch.c:42", &f));
    assert_false(suppresses("*:site-file=fetch.c:43", &f));
    assert_true(suppresses("*:file=crawl.c:10", &f));
    assert_false(suppresses("*:file=crawl.c:42", &f));
    /* Modules. */
    assert_true(suppresses("*:module=app", &f));
    assert_true(suppresses("*:module=/src/build/*", &f));
    assert_false(suppresses("*:module=libc.so*", &f));
    /* Unknown parts never match, whatever the pattern. */
    struct ct_finding u = make(CT_RULE_LEAKED_WAITER, 1, "|||");
    assert_false(suppresses("*:function=*", &u));
    assert_false(suppresses("*:file=*", &u));
    assert_false(suppresses("*:module=*", &u));
    drop(&u);
    drop(&f);
}

static void apply(void **state)
{
    (void)state;
    struct ct_findings fs = {0};
    fs.items = calloc(4, sizeof *fs.items);
    fs.items[0] = make(CT_RULE_LEAKED_WAITER, 1, "ticker|t.c|5|m");
    fs.items[1] = make(CT_RULE_LOST_CANCEL, 1, "a|a.c|1|m");
    fs.items[2] = make(CT_RULE_LOST_CANCEL, 1, "b|b.c|2|m");
    fs.items[3] = make(CT_RULE_DETACHED_ROOT, 1, "c|c.c|3|m");
    fs.len = 4;
    struct ct_suppressions s = {0};
    char err[256];
    assert_int_equal(ct_suppressions_parse(&s, "lost-cancel:function=b\n*:ticker\n*:nothing\n",
                                           "t.supp", err, sizeof err),
                     0);
    assert_int_equal(ct_suppressions_apply(&s, &fs), 2);
    assert_int_equal(fs.len, 2); /* the rest, in order */
    assert_string_equal(fs.items[0].site.function, "a");
    assert_string_equal(fs.items[1].site.function, "c");
    assert_int_equal(s.items[0].hits, 1);
    assert_int_equal(s.items[1].hits, 1);
    assert_int_equal(s.items[2].hits, 0);
    ct_suppressions_free(&s);
    /* No suppressions: nothing removed. */
    assert_int_equal(ct_suppressions_apply(&s, &fs), 0);
    assert_int_equal(fs.len, 2);
    for (size_t i = 0; i < fs.len; i++)
        drop(&fs.items[i]);
    free(fs.items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(syntax),
        cmocka_unit_test(errors),
        cmocka_unit_test(load),
        cmocka_unit_test(matching),
        cmocka_unit_test(apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
