/*
 * tracer_sample.c — run one sample under `ctxtrace run` and check its trace file exactly.
 *
 *   tracer_sample --ctxtrace CTXTRACE --workdir DIR --program SAMPLE [--arg A]...
 *       [--exit N]                    the sample's exit status (default 0)
 *       --total N                     contexts the sample creates (roots excluded)
 *       --kind KIND=N                 exactly N of KIND (kinds not named: exactly 0)
 *       [--released N]                rows whose last owner reference was dropped
 *       [--released-live N]           ... while still live (lost cancels)
 *       [--freed N]                   rows whose memory was released
 *       [--canceled N]                rows that became done
 *       [--fixed]                     every cancel/deadline row canceled and not released
 *                                     live (value contexts report live when dropped under
 *                                     a live cancellable ancestor: counted by
 *                                     --released-live, not a lost cancel); frees are
 *                                     counted by --freed
 *       --site NAME=FILE@NEEDLE       a creation site: the only line of FILE containing
 *                                     NEEDLE (found in the source, never hard-coded)
 *       --at NAME[:KIND]=N            exactly N contexts (of KIND) created at NAME
 *       [--parent NAME=PARENT]        every context created at NAME has its parent
 *                                     created at site PARENT (or is a child of the root
 *                                     `background` / `todo`)
 *       [--live-at NAME=N]            exactly N released live at NAME
 *       [--function NAME=FUNC]        the site's frame is in function FUNC
 *       [--why NAME=WHY:N]            exactly N contexts at NAME canceled with WHY
 *       [--where NAME=N:SQL]          exactly N contexts at NAME satisfy the SQL condition
 *                                     (on the columns of `contexts`)
 *       [--count N:SQL]               exactly N non-root contexts satisfy the SQL condition,
 *                                     in which {NAME} stands for site NAME's 'FILE:LINE'
 *
 * Every context must be created at one of the declared sites (the sum of --at is the
 * total), and the site's frame must be in the sample executable itself. The generic
 * invariants of every trace file (tracetest.h) are checked too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracetest.h"

enum { MAX_ITEMS = 64 };

struct named {
    char *name, *value;
};

struct site {
    char *name, *file, *needle, *key;
};

static struct site sites[MAX_ITEMS];
static int nsites;

static struct site *find_site(const char *name)
{
    for (int i = 0; i < nsites; i++)
        if (strcmp(sites[i].name, name) == 0)
            return &sites[i];
    fprintf(stderr, "tracer_sample: unknown site '%s'\n", name);
    exit(2);
}

static void usage(const char *why)
{
    fprintf(stderr, "tracer_sample: %s (see the comment at the top of tracer_sample.c)\n", why);
    exit(2);
}

/* "NAME=VALUE" → name, value (in place). */
static struct named split(char *arg, int sep)
{
    char *eq = strchr(arg, sep);
    if (eq == NULL)
        usage("expected NAME=VALUE");
    *eq = '\0';
    return (struct named){arg, eq + 1};
}

static long number(const char *s)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || end == s)
        usage("expected a number");
    return n;
}

int main(int argc, char **argv)
{
    const char *ctxtrace = NULL, *workdir = NULL, *program = NULL;
    const char *args[MAX_ITEMS];
    int nargs = 0;
    long expect_exit = 0, total = -1, released = -1, released_live = -1, freed = -1,
         canceled = -1;
    bool fixed = false;
    struct named kinds[MAX_ITEMS], at[MAX_ITEMS], parents[MAX_ITEMS], live_at[MAX_ITEMS],
        functions[MAX_ITEMS], whys[MAX_ITEMS], wheres[MAX_ITEMS];
    const char *counts[MAX_ITEMS];
    int ncounts = 0;
    int nkinds = 0, nat = 0, nparents = 0, nlive = 0, nfunctions = 0, nwhys = 0, nwheres = 0;

    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (i + 1 >= argc && strcmp(opt, "--fixed") != 0)
            usage("option without a value");
        if (strcmp(opt, "--ctxtrace") == 0)
            ctxtrace = argv[++i];
        else if (strcmp(opt, "--workdir") == 0)
            workdir = argv[++i];
        else if (strcmp(opt, "--program") == 0)
            program = argv[++i];
        else if (strcmp(opt, "--arg") == 0)
            args[nargs++] = argv[++i];
        else if (strcmp(opt, "--exit") == 0)
            expect_exit = number(argv[++i]);
        else if (strcmp(opt, "--total") == 0)
            total = number(argv[++i]);
        else if (strcmp(opt, "--released") == 0)
            released = number(argv[++i]);
        else if (strcmp(opt, "--released-live") == 0)
            released_live = number(argv[++i]);
        else if (strcmp(opt, "--freed") == 0)
            freed = number(argv[++i]);
        else if (strcmp(opt, "--canceled") == 0)
            canceled = number(argv[++i]);
        else if (strcmp(opt, "--fixed") == 0)
            fixed = true;
        else if (strcmp(opt, "--kind") == 0)
            kinds[nkinds++] = split(argv[++i], '=');
        else if (strcmp(opt, "--at") == 0)
            at[nat++] = split(argv[++i], '=');
        else if (strcmp(opt, "--parent") == 0)
            parents[nparents++] = split(argv[++i], '=');
        else if (strcmp(opt, "--live-at") == 0)
            live_at[nlive++] = split(argv[++i], '=');
        else if (strcmp(opt, "--function") == 0)
            functions[nfunctions++] = split(argv[++i], '=');
        else if (strcmp(opt, "--why") == 0)
            whys[nwhys++] = split(argv[++i], '=');
        else if (strcmp(opt, "--where") == 0)
            wheres[nwheres++] = split(argv[++i], '=');
        else if (strcmp(opt, "--count") == 0)
            counts[ncounts++] = argv[++i];
        else if (strcmp(opt, "--site") == 0) {
            struct named n = split(argv[++i], '=');
            struct named fn = split(n.value, '@');
            sites[nsites++] = (struct site){.name = n.name, .file = fn.name, .needle = fn.value};
        } else
            usage("unknown option");
        if (nargs >= MAX_ITEMS || nkinds >= MAX_ITEMS || nat >= MAX_ITEMS ||
            nsites >= MAX_ITEMS || nparents >= MAX_ITEMS || nlive >= MAX_ITEMS ||
            nfunctions >= MAX_ITEMS || nwhys >= MAX_ITEMS || nwheres >= MAX_ITEMS ||
            ncounts >= MAX_ITEMS)
            usage("too many options");
    }
    if (ctxtrace == NULL || workdir == NULL || program == NULL || total < 0)
        usage("--ctxtrace, --workdir, --program and --total are required");

    const char *name = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
    printf("tracer_sample: %s under ctxtrace run\n", name);

    /* The site lines, from the sources. */
    for (int i = 0; i < nsites; i++) {
        sites[i].key = tt_site_key(sites[i].file, sites[i].needle);
        if (sites[i].key != NULL)
            tt_ok("site %s is %s", sites[i].name, sites[i].key);
    }

    tt_fresh_dir(workdir);
    char *trace = tt_fmt("%s/%s.db", workdir, name);
    char *out = tt_fmt("%s/stdout.txt", workdir), *err = tt_fmt("%s/stderr.txt", workdir);
    const char *cmdv[MAX_ITEMS + 8];
    int n = 0;
    cmdv[n++] = ctxtrace;
    cmdv[n++] = "run";
    cmdv[n++] = "-o";
    cmdv[n++] = trace;
    cmdv[n++] = "--";
    cmdv[n++] = program;
    for (int i = 0; i < nargs; i++)
        cmdv[n++] = args[i];
    cmdv[n] = NULL;
    struct tt_cmd cmd = {.argv = cmdv, .cwd = workdir, .out_path = out, .err_path = err};
    struct tt_output o;
    tt_run(&cmd, 120, &o, "ctxtrace run");

    TT_EQ(expect_exit, tt_exit_code(o.status), "exit status of ctxtrace run (the sample's)");
    char *written = tt_fmt("ctxtrace: trace written to %s (%ld contexts)\n", trace, total);
    TT_CONTAINS(o.err, written, "ctxtrace's stderr");
    int dbs;
    char *files = tt_list_dir(workdir, ".db", &dbs);
    TT_STREQ(strrchr(trace, '/') + 1, files, "trace files in the work directory");

    sqlite3 *db = tt_db_open(trace, true);
    if (db == NULL)
        return tt_finish(name);

    /* meta */
    tt_check_invariants(db, true);
    tt_check_complete(db, "exit");
    char *canon_program = tt_canonical(program);
    TT_Q_TEXT(db, canon_program, "SELECT value FROM meta WHERE key = 'program'");
    {
        char json[8192];
        size_t len = (size_t)snprintf(json, sizeof json, "[\"%s\"", program);
        for (int i = 0; i < nargs; i++)
            len += (size_t)snprintf(json + len, sizeof json - len, ",\"%s\"", args[i]);
        snprintf(json + len, sizeof json - len, "]");
        TT_Q_TEXT(db, json, "SELECT value FROM meta WHERE key = 'argv'");
    }
    TT_Q_EQ(db, 1, "SELECT value > 1 FROM meta WHERE key = 'pid'");

    /* Counts. */
    TT_Q_EQ(db, total, "SELECT count(*) FROM contexts WHERE id > 2");
    static const char *const all_kinds[] = {"cancel", "deadline", "value", "without_cancel"};
    for (size_t k = 0; k < sizeof all_kinds / sizeof *all_kinds; k++) {
        long want = 0;
        for (int i = 0; i < nkinds; i++)
            if (strcmp(kinds[i].name, all_kinds[k]) == 0)
                want = number(kinds[i].value);
        TT_Q_EQ(db, want, "SELECT count(*) FROM contexts WHERE id > 2 AND kind = '%s'",
                all_kinds[k]);
    }
    if (released >= 0)
        TT_Q_EQ(db, released, "SELECT count(*) FROM contexts WHERE released_ns IS NOT NULL");
    if (released_live >= 0)
        TT_Q_EQ(db, released_live, "SELECT count(*) FROM contexts WHERE released_live = 1");
    if (freed >= 0)
        TT_Q_EQ(db, freed, "SELECT count(*) FROM contexts WHERE id > 2 AND freed_ns IS NOT NULL");
    if (canceled >= 0)
        TT_Q_EQ(db, canceled, "SELECT count(*) FROM contexts WHERE canceled_ns IS NOT NULL");
    if (fixed) {
        TT_Q_ZERO(db,
                  "SELECT id, kind, canceled_ns, site(create_stack) FROM contexts "
                  "WHERE kind IN ('cancel','deadline') AND canceled_ns IS NULL",
                  "SELECT count(*) FROM contexts WHERE kind IN ('cancel','deadline') AND "
                  "canceled_ns IS NULL");
        TT_Q_ZERO(db,
                  "SELECT id, kind, released_live, site(create_stack), site(release_stack) "
                  "FROM contexts WHERE kind IN ('cancel','deadline') AND released_live != 0",
                  "SELECT count(*) FROM contexts WHERE kind IN ('cancel','deadline') AND "
                  "released_live != 0");
    }

    /* Sites: every context at a declared one, in the sample's own executable. */
    char *in_list = strdup("");
    for (int i = 0; i < nsites; i++) {
        char *next = sqlite3_mprintf("%s%s%Q", in_list, i ? "," : "",
                                     sites[i].key ? sites[i].key : "?");
        free(in_list);
        in_list = strdup(next);
        sqlite3_free(next);
    }
    {
        char *detail = tt_fmt("SELECT site(create_stack), site_function(create_stack), kind, "
                              "count(*) FROM contexts WHERE id > 2 AND (site(create_stack) IS NULL OR "
                              "site(create_stack) NOT IN (%s)) GROUP BY 1, 2, 3",
                              in_list);
        TT_Q_ZERO(db, detail,
                  "SELECT count(*) FROM contexts WHERE id > 2 AND (site(create_stack) IS NULL "
                  "OR site(create_stack) NOT IN (%s))",
                  in_list);
        free(detail);
    }
    TT_Q_ZERO(db,
              "SELECT site_module(create_stack), site(create_stack), count(*) FROM contexts "
              "WHERE id > 2 GROUP BY 1, 2",
              "SELECT count(*) FROM contexts WHERE id > 2 AND "
              "(site_module(create_stack) IS NULL OR site_module(create_stack) != %Q)",
              canon_program);
    long sum = 0;
    for (int i = 0; i < nat; i++) {
        struct named kind = {at[i].name, NULL};
        char *colon = strchr(at[i].name, ':');
        char name_buf[256];
        snprintf(name_buf, sizeof name_buf, "%s", at[i].name);
        if (colon != NULL) {
            name_buf[colon - at[i].name] = '\0';
            kind.value = colon + 1;
        }
        struct site *s = find_site(name_buf);
        long want = number(at[i].value);
        sum += want;
        if (kind.value != NULL)
            TT_Q_EQ(db, want,
                    "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND kind = %Q",
                    s->key, kind.value);
        else
            TT_Q_EQ(db, want, "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q",
                    s->key);
    }
    if (nat > 0)
        TT_EQ(total, sum, "the --at counts add up to --total (test specification)");
    for (int i = 0; i < nparents; i++) {
        struct site *s = find_site(parents[i].name);
        const char *p = parents[i].value;
        if (strcmp(p, "background") == 0 || strcmp(p, "todo") == 0) {
            TT_Q_ZERO(db, NULL,
                      "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
                      "parent_id IS NOT %d",
                      s->key, strcmp(p, "background") == 0 ? 1 : 2);
        } else {
            struct site *ps = find_site(p);
            TT_Q_ZERO(db, NULL,
                      "SELECT count(*) FROM contexts c LEFT JOIN contexts p ON p.id = c.parent_id "
                      "WHERE site(c.create_stack) = %Q AND (p.id IS NULL OR "
                      "site(p.create_stack) IS NOT %Q)",
                      s->key, ps->key);
        }
    }
    for (int i = 0; i < nlive; i++)
        TT_Q_EQ(db, number(live_at[i].value),
                "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND released_live = 1",
                find_site(live_at[i].name)->key);
    for (int i = 0; i < nfunctions; i++)
        TT_Q_ZERO(db, NULL,
                  "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND "
                  "site_function(create_stack) IS NOT %Q",
                  find_site(functions[i].name)->key, functions[i].value);
    for (int i = 0; i < nwhys; i++) {
        struct named wn = split(whys[i].value, ':');
        TT_Q_EQ(db, number(wn.value),
                "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND cancel_why = %Q",
                find_site(whys[i].name)->key, wn.name);
    }

    for (int i = 0; i < nwheres; i++) {
        struct named nc = split(wheres[i].value, ':');
        TT_Q_EQ(db, number(nc.name),
                "SELECT count(*) FROM contexts WHERE site(create_stack) = %Q AND (%s)",
                find_site(wheres[i].name)->key, nc.value);
    }

    for (int i = 0; i < ncounts; i++) {
        char *copy = strdup(counts[i]);
        struct named nc = split(copy, ':');
        /* Replace each {NAME} by the site's key, quoted. */
        char sql[8192] = "";
        for (const char *p = nc.value; *p;) {
            const char *close = *p == '{' ? strchr(p, '}') : NULL;
            size_t len = strlen(sql);
            if (close != NULL) {
                char site_name[128];
                snprintf(site_name, sizeof site_name, "%.*s", (int)(close - p - 1), p + 1);
                char *quoted = sqlite3_mprintf("%Q", find_site(site_name)->key);
                snprintf(sql + len, sizeof sql - len, "%s", quoted);
                sqlite3_free(quoted);
                p = close + 1;
            } else {
                snprintf(sql + len, sizeof sql - len, "%c", *p);
                p++;
            }
        }
        TT_Q_EQ(db, number(nc.name), "SELECT count(*) FROM contexts WHERE id > 2 AND (%s)", sql);
        free(copy);
    }

    tt_db_close(db);
    tt_output_free(&o);
    return tt_finish(name);
}
