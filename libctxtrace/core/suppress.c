/*
 * suppress.c — suppressions files (format: docs/report.md) and matching findings
 * against them.
 */
#include <ctxtrace/core/suppress.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_names[] = {"function", "file", "module", "site-function",
                                        "site-file"};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void supp_free(struct ct_suppression *x)
{
    free(x->rule);
    free(x->pattern);
    free(x->text);
    free(x->source);
}

static void truncate_to(struct ct_suppressions *s, size_t len)
{
    while (s->len > len)
        supp_free(&s->items[--s->len]);
}

void ct_suppressions_free(struct ct_suppressions *s)
{
    truncate_to(s, 0);
    free(s->items);
    memset(s, 0, sizeof *s);
}

static char *trim(char *a, char *b) /* [a, b): returns a NUL-terminated trimmed copy in place */
{
    while (a < b && (*a == ' ' || *a == '\t' || *a == '\r'))
        a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
        b--;
    *b = '\0';
    return a;
}

static bool has_glob(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

static bool rule_glob_matches_some(const char *glob)
{
    for (int r = 0; r < CT_RULE_COUNT; r++)
        if (fnmatch(glob, ct_rule_name((enum ct_rule)r), 0) == 0)
            return true;
    return false;
}

static void rule_list(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int r = 0; r < CT_RULE_COUNT && n < len; r++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", r ? ", " : "",
                              ct_rule_name((enum ct_rule)r));
}

/* Parse one line (modified in place). Returns 1 for a rule in *out, 0 for nothing
 * (blank or comment), -1 with err. */
static int parse_line(char *line, const char *source, int lineno, struct ct_suppression *out,
                      char *err, size_t errlen)
{
    char *end = line + strlen(line);
    /* A comment: a line starting with '#', or '#' after a blank. */
    for (char *p = line; *p; p++) {
        if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
            end = p;
            break;
        }
    }
    char *text = trim(line, end);
    if (*text == '\0')
        return 0;
    char *copy = strdup(text);
    char *colon = strchr(text, ':');
    if (copy == NULL) {
        set_err(err, errlen, "%s:%d: out of memory", source, lineno);
        return -1;
    }
    if (colon == NULL) {
        set_err(err, errlen,
                "%s:%d: expected RULE:KEY=PATTERN (for example lost-cancel:function=fetch_*), "
                "got '%s'", source, lineno, copy);
        free(copy);
        return -1;
    }
    char *rule = trim(text, colon), *rest = trim(colon + 1, colon + 1 + strlen(colon + 1));
    char rules[160];
    rule_list(rules, sizeof rules);
    if (*rule == '\0') {
        set_err(err, errlen, "%s:%d: no rule before ':' (use * for every rule)", source, lineno);
        free(copy);
        return -1;
    }
    if (!rule_glob_matches_some(rule)) {
        set_err(err, errlen, "%s:%d: %s '%s' (rules: %s, or * for all)", source, lineno,
                has_glob(rule) ? "no rule matches" : "unknown rule", rule, rules);
        free(copy);
        return -1;
    }
    enum ct_supp_key key = CT_SUPP_FUNCTION;
    char *pattern = rest, *eq = strchr(rest, '=');
    if (eq != NULL) {
        char *k = trim(rest, eq);
        bool word = *k != '\0';
        for (const char *p = k; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || *p == '-' || *p == '_'))
                word = false;
        if (word) {
            size_t i = 0;
            for (; i < sizeof key_names / sizeof *key_names; i++)
                if (strcmp(k, key_names[i]) == 0)
                    break;
            if (i == sizeof key_names / sizeof *key_names) {
                set_err(err, errlen,
                        "%s:%d: unknown key '%s' (keys: function, file, module, "
                        "site-function, site-file)", source, lineno, k);
                free(copy);
                return -1;
            }
            key = (enum ct_supp_key)i;
            pattern = trim(eq + 1, eq + 1 + strlen(eq + 1));
        } else {
            *eq = '='; /* not KEY=: the '=' is part of a function pattern */
        }
    }
    if (*pattern == '\0') {
        set_err(err, errlen, "%s:%d: empty pattern in '%s'", source, lineno, copy);
        free(copy);
        return -1;
    }
    /* file=PATTERN:LINE — the frame's line too. */
    int line_of_file = 0;
    if (key == CT_SUPP_FILE || key == CT_SUPP_SITE_FILE) {
        char *c = strrchr(pattern, ':');
        if (c != NULL && c > pattern && c[1] != '\0' && strspn(c + 1, "0123456789") == strlen(c + 1)) {
            long v = strtol(c + 1, NULL, 10);
            if (v < 1 || v > 100000000) {
                set_err(err, errlen, "%s:%d: bad line number in '%s'", source, lineno, copy);
                free(copy);
                return -1;
            }
            line_of_file = (int)v;
            *c = '\0';
        }
    }
    *out = (struct ct_suppression){.rule = strdup(rule), .key = key, .pattern = strdup(pattern),
                                   .line_of_file = line_of_file, .text = copy,
                                   .source = strdup(source), .line = lineno};
    if (out->rule == NULL || out->pattern == NULL || out->source == NULL) {
        supp_free(out);
        set_err(err, errlen, "%s:%d: out of memory", source, lineno);
        return -1;
    }
    return 1;
}

int ct_suppressions_parse(struct ct_suppressions *s, const char *text, const char *source,
                          char *err, size_t errlen)
{
    size_t keep = s->len;
    int lineno = 0;
    const char *p = text;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *line = malloc(n + 1);
        if (line == NULL) {
            set_err(err, errlen, "%s: out of memory", source);
            truncate_to(s, keep);
            return -1;
        }
        memcpy(line, p, n);
        line[n] = '\0';
        lineno++;
        struct ct_suppression one;
        int rc = parse_line(line, source, lineno, &one, err, errlen);
        free(line);
        if (rc < 0) {
            truncate_to(s, keep);
            return -1;
        }
        if (rc > 0) {
            if (s->len == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                struct ct_suppression *grown = realloc(s->items, cap * sizeof *grown);
                if (grown == NULL) {
                    supp_free(&one);
                    truncate_to(s, keep);
                    set_err(err, errlen, "%s: out of memory", source);
                    return -1;
                }
                s->items = grown;
                s->cap = cap;
            }
            s->items[s->len++] = one;
        }
        p += n + (nl ? 1 : 0);
    }
    return 0;
}

int ct_suppressions_load(struct ct_suppressions *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (;;) {
        if (buf == NULL) {
            fclose(f);
            set_err(err, errlen, "%s: out of memory", path);
            return -1;
        }
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1)
            break;
        cap *= 2;
        char *grown = realloc(buf, cap);
        if (grown == NULL)
            free(buf);
        buf = grown;
    }
    int failed = ferror(f), saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        set_err(err, errlen, "%s: %s", path, strerror(saved));
        return -1;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        free(buf);
        set_err(err, errlen, "%s: a binary file, not a suppressions file", path);
        return -1;
    }
    int rc = ct_suppressions_parse(s, buf, path, err, errlen);
    free(buf);
    return rc;
}

/* ---- matching ------------------------------------------------------------------------ */

/* A path pattern matches the whole path or, unless it starts with '/' or '*', any tail
 * of it that starts after a '/': "crawl.c" and "fetch_once/c*.c" match
 * "/src/samples/fetch_once/crawl.c". */
static bool path_match(const char *pattern, const char *path)
{
    if (path == NULL)
        return false;
    if (fnmatch(pattern, path, 0) == 0)
        return true;
    if (pattern[0] == '/' || pattern[0] == '*')
        return false;
    for (const char *p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/'))
        if (fnmatch(pattern, p + 1, 0) == 0)
            return true;
    return false;
}

static bool frame_match(const struct ct_suppression *x, const struct ct_frame *fr)
{
    switch (x->key) {
    case CT_SUPP_FUNCTION:
    case CT_SUPP_SITE_FUNCTION:
        return fr->function != NULL && fnmatch(x->pattern, fr->function, 0) == 0;
    case CT_SUPP_FILE:
    case CT_SUPP_SITE_FILE:
        if (x->line_of_file > 0 && fr->line != x->line_of_file)
            return false;
        return path_match(x->pattern, fr->file);
    case CT_SUPP_MODULE:
        return path_match(x->pattern, fr->module);
    }
    return false;
}

static bool supp_match(const struct ct_suppression *x, const struct ct_finding *f)
{
    if (fnmatch(x->rule, ct_rule_name(f->rule), 0) != 0)
        return false;
    if (frame_match(x, &f->site))
        return true;
    if (x->key == CT_SUPP_SITE_FUNCTION || x->key == CT_SUPP_SITE_FILE)
        return false;
    for (int i = 0; i < f->stack.depth; i++)
        if (frame_match(x, &f->stack.frames[i]))
            return true;
    return false;
}

struct ct_suppression *ct_suppressions_match(const struct ct_suppressions *s,
                                             const struct ct_finding *f)
{
    for (size_t i = 0; s != NULL && i < s->len; i++)
        if (supp_match(&s->items[i], f))
            return &s->items[i];
    return NULL;
}

static void finding_free(struct ct_finding *f)
{
    free(f->site.function);
    free(f->site.file);
    free(f->site.module);
    ct_stack_free(&f->stack);
    ct_stack_free(&f->stack2);
    ct_stack_free(&f->stack3);
}

size_t ct_suppressions_apply(struct ct_suppressions *s, struct ct_findings *f)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < f->len; i++) {
        struct ct_suppression *x = ct_suppressions_match(s, &f->items[i]);
        if (x != NULL) {
            x->hits++;
            finding_free(&f->items[i]);
            removed++;
        } else {
            f->items[kept++] = f->items[i];
        }
    }
    f->len = kept;
    return removed;
}
