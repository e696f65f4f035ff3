/*
 * report_sarif.c — `ctxtrace report --format sarif`: SARIF 2.1.0 as GitHub code
 * scanning ingests it (docs/report.md, "SARIF").
 *
 * Every result needs a physical location for GitHub (one result without one makes it
 * reject the whole file), so each finding is anchored at the first of: its site, if the
 * source file is under the source root; the innermost frame of its stack under the
 * source root; the site with any source file; any frame with one. A finding with no
 * source line anywhere in its stack (no debug information) cannot be shown by code
 * scanning: it is left out of `results` and named in a tool execution notification.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "report.h"

#ifndef CTXTRACE_VERSION
#error "CTXTRACE_VERSION must be defined by the build"
#endif

#define SRCROOT "%SRCROOT%"

/* ---- paths as URIs ------------------------------------------------------------------- */

static bool has_source(const struct ct_frame *f)
{
    return f->file != NULL && f->file[0] != '\0' && f->line > 0;
}

/* A file of the source tree: an absolute path under the source root, or a relative one
 * naming a file that exists there (a relative DWARF name such as libc's
 * "./nptl/pthread_create.c" is relative to a build directory we do not know). */
static bool in_root(const struct report *r, const char *file)
{
    if (file[0] == '/')
        return report_relpath(r, file) != file;
    if (r->root[0] == '\0')
        return false;
    char path[PATH_MAX];
    return snprintf(path, sizeof path, "%s/%s", r->root, file) < (int)sizeof path &&
           access(path, F_OK) == 0;
}

/* A URI reference for a path: unreserved characters and '/' as they are, every other
 * byte percent-encoded (RFC 3986). Absolute paths become file:// URIs. */
static char *path_uri(const char *path, bool absolute)
{
    size_t n = strlen(path);
    char *out = malloc(3 * n + 8), *o = out;
    if (out == NULL)
        return NULL;
    if (absolute)
        o += sprintf(o, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p) != NULL)
            *o++ = (char)*p;
        else
            o += sprintf(o, "%%%02X", *p);
    }
    *o = '\0';
    return out;
}

/* {"physicalLocation": {...}} members of a location object for frame f (has_source). */
static void physical_location(struct json *j, const struct report *r, const struct ct_frame *f)
{
    bool rel = in_root(r, f->file);
    char *uri = path_uri(rel ? report_relpath(r, f->file) : f->file, !rel);
    json_key(j, "physicalLocation");
    json_object(j);
    json_key(j, "artifactLocation");
    json_object_inline(j);
    json_key(j, "uri");
    json_string(j, uri ? uri : "");
    if (rel) {
        json_key(j, "uriBaseId");
        json_string(j, SRCROOT);
    }
    json_end_object(j);
    json_key(j, "region");
    json_object_inline(j);
    json_key(j, "startLine");
    json_int(j, f->line);
    json_end_object(j);
    json_end_object(j);
    free(uri);
}

/* A location's property bag for a frame without a physical frame of its own: one the
 * compiler inlined into its caller {"inlined": true}, one a tail call replaced
 * {"tailCall": true}. Nothing for other frames. */
static void inlined_property(struct json *j, const struct ct_frame *f)
{
    if (!f->inlined && !f->tail_call)
        return;
    json_key(j, "properties");
    json_object_inline(j);
    if (f->inlined) {
        json_key(j, "inlined");
        json_bool(j, true);
    }
    if (f->tail_call) {
        json_key(j, "tailCall");
        json_bool(j, true);
    }
    json_end_object(j);
}

static void logical_locations(struct json *j, const struct ct_frame *f)
{
    if (f->function == NULL)
        return;
    json_key(j, "logicalLocations");
    json_array(j);
    json_object_inline(j);
    json_key(j, "name");
    json_string(j, f->function);
    json_key(j, "kind");
    json_string(j, "function");
    json_end_object(j);
    json_end_array(j);
}

/* Where a finding is shown (see the top of the file), or NULL. */
static const struct ct_frame *anchor(const struct report *r, const struct ct_finding *f)
{
    if (has_source(&f->site) && in_root(r, f->site.file))
        return &f->site;
    for (int i = 0; i < f->stack.depth; i++)
        if (has_source(&f->stack.frames[i]) && in_root(r, f->stack.frames[i].file))
            return &f->stack.frames[i];
    if (has_source(&f->site))
        return &f->site;
    for (int i = 0; i < f->stack.depth; i++)
        if (has_source(&f->stack.frames[i]))
            return &f->stack.frames[i];
    return NULL;
}

/* ---- fingerprints -------------------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); ; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
        if (*p == '\0')
            return h;
    }
}

/* Stable across runs and edits that move lines: rule, site function and the site file's
 * base name; a second finding with the same three gets an ordinal mixed in. */
static uint64_t fingerprint(const struct ct_finding *f, const uint64_t *earlier, size_t n)
{
    uint64_t base = 0xcbf29ce484222325ULL;
    base = fnv1a(base, ct_rule_name(f->rule));
    base = fnv1a(base, f->site.function);
    base = fnv1a(base, report_basename(f->site.file));
    uint64_t h = base;
    for (unsigned ordinal = 2;; ordinal++) {
        bool taken = false;
        for (size_t i = 0; i < n && !taken; i++)
            taken = earlier[i] == h;
        if (!taken)
            return h;
        char buf[16];
        snprintf(buf, sizeof buf, "#%u", ordinal);
        h = fnv1a(base, buf);
    }
}

/* ---- the document -------------------------------------------------------------------- */

static void text_object(struct json *j, const char *key, const char *text)
{
    json_key(j, key);
    json_object_inline(j);
    json_key(j, "text");
    json_string(j, text);
    json_end_object(j);
}

static void rule_descriptor(struct json *j, enum ct_rule rule)
{
    const char *id = ct_rule_name(rule);
    char name[64], *n = name;
    for (const char *p = id; *p && n < name + sizeof name - 1; p++) /* lost-cancel: LostCancel */
        if (*p != '-')
            *n++ = (char)(p == id || p[-1] == '-' ? *p - 'a' + 'A' : *p);
    *n = '\0';
    char help[1024];
    snprintf(help, sizeof help,
             "%s.\n\nHow to fix: %s.\n\nThe rule's exact definition is in ctxtrace's "
             "docs/rules.md; `ctxtrace report FILE.db` prints each finding with its full "
             "stacks.",
             ct_rule_summary(rule), ct_rule_fix(rule));
    json_object(j);
    json_key(j, "id");
    json_string(j, id);
    json_key(j, "name");
    json_string(j, name);
    text_object(j, "shortDescription", ct_rule_title(rule));
    text_object(j, "fullDescription", ct_rule_summary(rule));
    text_object(j, "help", help);
    json_key(j, "defaultConfiguration");
    json_object_inline(j);
    json_key(j, "level");
    json_string(j, ct_rule_level(rule));
    json_end_object(j);
    json_key(j, "properties");
    json_object_inline(j);
    json_key(j, "tags");
    json_array_inline(j);
    json_string(j, "concurrency");
    json_string(j, rule == CT_RULE_INEFFECTIVE_DEADLINE || rule == CT_RULE_DETACHED_ROOT
                       ? "correctness"
                       : "resource-leak");
    json_end_array(j);
    json_key(j, "precision");
    json_string(j, "high");
    json_end_object(j);
    json_end_object(j);
}

static char *site_text(const struct ct_frame *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL)
        return NULL;
    fputs(s->function ? s->function : "an unknown function", m);
    if (s->file != NULL) {
        fprintf(m, " (%s", report_basename(s->file));
        if (s->line > 0)
            fprintf(m, ":%d", s->line);
        fputc(')', m);
    } else if (s->module != NULL) {
        fprintf(m, " (in %s)", report_basename(s->module));
    }
    fclose(m);
    return buf;
}

/* Text from the analysis as a sentence: capitalized, with a full stop. */
static void sentence(FILE *m, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    fputc(' ', m);
    fputc(*s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s, m);
    fputs(s + 1, m);
    if (s[strlen(s) - 1] != '.')
        fputc('.', m);
}

static char *message_text(const struct ct_finding *f, const struct ct_frame *at)
{
    char *buf = NULL, *site = site_text(&f->site);
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (m == NULL) {
        free(site);
        return NULL;
    }
    fprintf(m, "%ld %s at %s.", f->count, report_noun(f->rule, f->count), site ? site : "?");
    sentence(m, ct_rule_summary(f->rule));
    sentence(m, f->detail);
    if (at != &f->site)
        fprintf(m, " (Shown at %s, the innermost frame of the stack with source in the "
                "repository.)", at->function ? at->function : "the nearest frame");
    fputs(" Fix:", m);
    sentence(m, ct_rule_fix(f->rule));
    fclose(m);
    free(site);
    return buf;
}

static void code_flow(struct json *j, const struct report *r, const struct ct_stack *s)
{
    int n = 0;
    for (int i = 0; i < s->depth; i++)
        n += has_source(&s->frames[i]) && in_root(r, s->frames[i].file);
    if (n < 2)
        return;
    json_key(j, "codeFlows");
    json_array(j);
    json_object(j);
    json_key(j, "threadFlows");
    json_array(j);
    json_object(j);
    json_key(j, "locations");
    json_array(j);
    for (int i = s->depth - 1; i >= 0; i--) { /* outermost call first */
        const struct ct_frame *f = &s->frames[i];
        if (!has_source(f) || !in_root(r, f->file))
            continue;
        json_object(j);
        json_key(j, "location");
        json_object(j);
        physical_location(j, r, f);
        text_object(j, "message", f->function ? f->function : "??");
        inlined_property(j, f);
        json_end_object(j);
        json_end_object(j);
    }
    json_end_array(j);
    json_end_object(j);
    json_end_array(j);
    json_end_object(j);
    json_end_array(j);
}

/* Where a stack shows best: its innermost frame with source under the source root, else
 * its innermost frame with any source line; NULL if none has one. */
static const struct ct_frame *best_frame(const struct report *r, const struct ct_stack *s)
{
    for (int i = 0; i < s->depth; i++)
        if (has_source(&s->frames[i]) && in_root(r, s->frames[i].file))
            return &s->frames[i];
    for (int i = 0; i < s->depth; i++)
        if (has_source(&s->frames[i]))
            return &s->frames[i];
    return NULL;
}

/* The finding's other places — where it was released, where the waiting thread was
 * created, where the waited-on context was created — as relatedLocations, so code
 * scanning shows them beside the result. */
static void related_locations(struct json *j, const struct report *r,
                              const struct ct_finding *f)
{
    const struct ct_stack *stacks[] = {&f->stack2, &f->stack3};
    const char *labels[] = {f->stack2_label, f->stack3_label};
    const struct ct_frame *at[2];
    int n = 0;
    for (int i = 0; i < 2; i++)
        n += (at[i] = stacks[i]->depth > 0 ? best_frame(r, stacks[i]) : NULL) != NULL;
    if (n == 0)
        return;
    json_key(j, "relatedLocations");
    json_array(j);
    for (int i = 0, id = 1; i < 2; i++) {
        if (at[i] == NULL)
            continue;
        json_object(j);
        json_key(j, "id");
        json_int(j, id++);
        physical_location(j, r, at[i]);
        char text[256];
        snprintf(text, sizeof text, "%s %s", labels[i] ? labels[i] : "also at",
                 at[i]->function ? at[i]->function : "??");
        text_object(j, "message", text);
        inlined_property(j, at[i]);
        json_end_object(j);
    }
    json_end_array(j);
}

static void result(struct json *j, const struct report *r, const struct ct_finding *f,
                   const struct ct_frame *at, uint64_t fp)
{
    json_object(j);
    json_key(j, "ruleId");
    json_string(j, ct_rule_name(f->rule));
    json_key(j, "ruleIndex");
    json_int(j, (int64_t)f->rule);
    json_key(j, "level");
    json_string(j, ct_rule_level(f->rule));
    char *msg = message_text(f, at);
    text_object(j, "message", msg ? msg : ct_rule_summary(f->rule));
    free(msg);
    json_key(j, "locations");
    json_array(j);
    json_object(j);
    physical_location(j, r, at);
    logical_locations(j, at);
    inlined_property(j, at);
    json_end_object(j);
    json_end_array(j);
    json_key(j, "partialFingerprints");
    json_object_inline(j);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)fp);
    json_key(j, "ctxtraceSite/v1");
    json_string(j, hex);
    json_end_object(j);
    related_locations(j, r, f);
    code_flow(j, r, &f->stack);
    json_key(j, "properties");
    json_object(j);
    json_key(j, "count");
    json_int(j, f->count);
    json_key(j, "fix");
    json_string(j, ct_rule_fix(f->rule));
    report_json_examples(j, f);
    json_end_object(j);
    json_end_object(j);
}

void report_sarif(FILE *out, const struct report *r)
{
    const struct ct_findings *fs = &r->findings;
    uint64_t *fps = calloc(fs->len ? fs->len : 1, sizeof *fps);
    size_t nfps = 0, unplaced = 0;
    struct json j;
    json_init(&j, out);
    json_object(&j);
    json_key(&j, "$schema");
    json_string(&j, "https://json.schemastore.org/sarif-2.1.0.json");
    json_key(&j, "version");
    json_string(&j, "2.1.0");
    json_key(&j, "runs");
    json_array(&j);
    json_object(&j);

    json_key(&j, "tool");
    json_object(&j);
    json_key(&j, "driver");
    json_object(&j);
    json_key(&j, "name");
    json_string(&j, "ctxtrace");
    json_key(&j, "version");
    json_string(&j, CTXTRACE_VERSION);
    json_key(&j, "semanticVersion");
    json_string(&j, CTXTRACE_VERSION);
    json_key(&j, "rules"); /* every rule, in enum order: ruleIndex is the enum value */
    json_array(&j);
    for (int k = 0; k < CT_RULE_COUNT; k++)
        rule_descriptor(&j, (enum ct_rule)k);
    json_end_array(&j);
    json_end_object(&j);
    json_end_object(&j);

    if (r->root[0] != '\0') {
        char *root = path_uri(r->root, true);
        size_t n = root ? strlen(root) : 0;
        json_key(&j, "originalUriBaseIds");
        json_object(&j);
        json_key(&j, SRCROOT);
        json_object_inline(&j);
        json_key(&j, "uri");
        if (root != NULL && n > 0 && root[n - 1] != '/') { /* a base URI ends with '/' */
            char *slashed = malloc(n + 2);
            if (slashed != NULL)
                sprintf(slashed, "%s/", root);
            json_string(&j, slashed ? slashed : root);
            free(slashed);
        } else {
            json_string(&j, root ? root : "file:///");
        }
        json_end_object(&j);
        json_end_object(&j);
        free(root);
    }

    json_key(&j, "results");
    json_array(&j);
    for (size_t i = 0; i < fs->len; i++) {
        const struct ct_finding *f = &fs->items[i];
        const struct ct_frame *at = anchor(r, f);
        if (at == NULL) {
            unplaced++;
            continue;
        }
        uint64_t fp = fingerprint(f, fps, nfps);
        if (fps != NULL)
            fps[nfps++] = fp;
        result(&j, r, f, at, fp);
    }
    json_end_array(&j);

    json_key(&j, "invocations");
    json_array(&j);
    json_object(&j);
    json_key(&j, "executionSuccessful");
    json_bool(&j, true);
    if (unplaced > 0) {
        json_key(&j, "toolExecutionNotifications");
        json_array(&j);
        for (size_t i = 0; i < fs->len; i++) {
            const struct ct_finding *f = &fs->items[i];
            if (anchor(r, f) != NULL)
                continue;
            char *site = site_text(&f->site), *text = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&text, &len);
            if (m != NULL) {
                fprintf(m, "%s: %ld %s at %s: no frame of its stack has a source line (no "
                        "debug information?), so it cannot be shown here; `ctxtrace report` "
                        "prints it", ct_rule_name(f->rule), f->count,
                        report_noun(f->rule, f->count), site ? site : "an unknown site");
                fclose(m);
            }
            json_object(&j);
            json_key(&j, "level");
            json_string(&j, "warning");
            text_object(&j, "message", text ? text : "a finding without a source location");
            json_end_object(&j);
            free(text);
            free(site);
        }
        json_end_array(&j);
    }
    json_end_object(&j);
    json_end_array(&j);

    json_key(&j, "properties");
    json_object(&j);
    json_key(&j, "trace");
    json_string(&j, r->trace);
    json_key(&j, "contexts");
    json_int(&j, fs->contexts);
    json_key(&j, "complete");
    json_bool(&j, fs->complete);
    json_key(&j, "findings");
    json_int(&j, (int64_t)fs->len);
    json_key(&j, "suppressed");
    json_int(&j, (int64_t)r->suppressed);
    json_key(&j, "withoutLocation");
    json_int(&j, (int64_t)unplaced);
    json_end_object(&j);

    json_end_object(&j);
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
    free(fps);
}
