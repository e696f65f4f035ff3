/*
 * symbolize.c — see symbolize.h.
 *
 * libdwfl is told about the process's modules from /proc/self/maps; module-relative
 * offsets make the result independent of ASLR. Stack entries are return addresses,
 * so lookups use ip - 1: the call instruction, whose line is the one a person wants.
 * A module loaded after the last report (dlopen) makes us re-read the maps once.
 *
 * Inline expansion. The CU's DWARF describes each inlined call as a
 * DW_TAG_inlined_subroutine DIE nested, at the addresses it covers, inside the DIE of
 * the function it was inlined into (possibly through lexical blocks), with the call's
 * DW_AT_call_file/DW_AT_call_line. So the logical frames of an address are the
 * function DIEs holding it, innermost first, out to its DW_TAG_subprogram (inlines.c
 * finds them). The innermost frame's line is the line table's; each outer frame's is
 * the call site recorded on the instance inlined into it.
 *
 * Tail calls (tailcall.c): between two physical frames, the function that jumped to
 * the inner one instead of calling it is described at its jump, like a return address.
 */
#include "symbolize.h"

#include <assert.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxtrace/core/u64map.h>

#include "inlines.h"
#include "tailcall.h"

/* frames_of_ip's and tail_frames' values: the first frame id of the ip's logical
 * frames, and their count (the ids are consecutive; a count of 0 for no tail frames). */
enum { COUNT_BITS = 8 };
_Static_assert(SYM_MAX_LOGICAL < (1 << COUNT_BITS), "the count must fit its bits");

struct symbolizer {
    Dwfl *dwfl;
    struct inlines *inlines;
    struct tailcalls *tailcalls;
    struct u64map frames_of_ip; /* ip -> first id << COUNT_BITS | count */
    struct u64map tail_frames;  /* pair_key(ip, inner ip) -> the same */
    int64_t next_frame;
    char build_id[129];               /* the last description's */
    char path[SYM_MAX_LOGICAL][4096]; /* its file names joined to their directory */
};

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static void report_modules(struct symbolizer *s)
{
    /* They point into modules the report may remove. */
    inlines_forget(s->inlines);
    tailcalls_forget(s->tailcalls);
    dwfl_report_begin(s->dwfl);
    dwfl_linux_proc_report(s->dwfl, getpid());
    dwfl_report_end(s->dwfl, NULL, NULL);
}

struct symbolizer *symbolizer_new(void)
{
    struct symbolizer *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->dwfl = dwfl_begin(&callbacks);
    s->inlines = inlines_new();
    s->tailcalls = tailcalls_new();
    if (s->dwfl == NULL || s->inlines == NULL || s->tailcalls == NULL) {
        if (s->dwfl != NULL)
            dwfl_end(s->dwfl);
        inlines_free(s->inlines);
        tailcalls_free(s->tailcalls);
        free(s);
        return NULL;
    }
    report_modules(s);
    s->next_frame = 1;
    return s;
}

void symbolizer_free(struct symbolizer *s)
{
    if (s == NULL)
        return;
    dwfl_end(s->dwfl);
    inlines_free(s->inlines);
    tailcalls_free(s->tailcalls);
    u64map_free(&s->frames_of_ip);
    u64map_free(&s->tail_frames);
    free(s);
}

static void hex(const unsigned char *bits, int len, char *out, size_t outlen)
{
    size_t n = 0;
    for (int i = 0; i < len && n + 3 <= outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%02x", bits[i]);
    out[n] = '\0';
}

/* `file` as a path a reader can open: relative names in DWARF are relative to the
 * compilation directory. Joined into frame k's buffer when needed. */
static const char *full_path(struct symbolizer *s, int k, const char *file, const char *dir)
{
    if (file == NULL || file[0] == '/' || dir == NULL)
        return file;
    snprintf(s->path[k], sizeof s->path[k], "%s/%s", dir, file);
    return s->path[k];
}

/* The line table's file and line for pc: the innermost logical frame's. */
static void table_line(struct symbolizer *s, Dwfl_Module *mod, Dwarf_Addr pc,
                       struct sym_frame *out)
{
    Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
    if (line == NULL)
        return;
    int lineno = 0;
    const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
    out->file = full_path(s, 0, file, dwfl_line_comp_dir(line));
    out->line = lineno;
}

/* A function DIE's name; an inlined instance or an out-of-line clone (.constprop,
 * .isra, .part) names it through DW_AT_abstract_origin, which integration follows. */
static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

/* Where the inlined instance `die` was called from: DW_AT_call_file is an index into
 * its CU's file table. */
static void call_site(struct symbolizer *s, int k, Dwarf_Die *cu, Dwarf_Die *die,
                      struct sym_frame *out)
{
    Dwarf_Attribute attr;
    Dwarf_Word file_index, line;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_file, &attr), &file_index) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file_index < nfiles) {
        const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
        out->file = full_path(s, k, dwarf_filesrc(files, file_index, NULL, NULL), dir);
    }
    if (dwarf_formudata(dwarf_attr(die, DW_AT_call_line, &attr), &line) == 0)
        out->line = (int)line;
}

/* The logical frames of pc from the CU's DIEs (see the top of the file), with their
 * function names and lines; returns how many, 0 when the module has no DWARF for pc. */
static int expand_inlines(struct symbolizer *s, Dwfl_Module *mod, Dwarf_Addr pc,
                          struct sym_frame *out)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
    if (cu == NULL)
        return 0;
    Dwarf_Die nest[SYM_MAX_LOGICAL];
    int n = inlines_at(s->inlines, cu, pc - bias, nest, SYM_MAX_LOGICAL);
    for (int k = 0; k < n; k++) {
        struct sym_frame *f = &out[k];
        memset(f, 0, sizeof *f);
        f->function = die_name(&nest[k]);
        f->inlined = dwarf_tag(&nest[k]) == DW_TAG_inlined_subroutine;
        if (k == 0)
            table_line(s, mod, pc, f);
        else
            call_site(s, k, cu, &nest[k - 1], f);
    }
    if (n > 0 && out[n - 1].function == NULL && !out[n - 1].inlined)
        out[n - 1].function = dwfl_module_addrname(mod, pc);
    return n;
}

int symbolizer_describe(struct symbolizer *s, uint64_t ip, struct sym_frame out[SYM_MAX_LOGICAL])
{
    memset(out, 0, sizeof out[0]);
    out[0].ip = ip;
    Dwarf_Addr pc = ip - 1;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    if (mod == NULL) {
        report_modules(s); /* loaded since the last look (dlopen) */
        mod = dwfl_addrmodule(s->dwfl, pc);
    }
    if (mod == NULL)
        return 1;
    Dwarf_Addr low = 0;
    const char *module = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
    const char *build_id = NULL;
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len > 0) {
        hex(bits, len, s->build_id, sizeof s->build_id);
        build_id = s->build_id;
    }
    int n = expand_inlines(s, mod, pc, out);
    if (n == 0) {
        /* No DWARF here (a stripped library, assembly): the symbol table's name. */
        memset(out, 0, sizeof out[0]);
        out[0].function = dwfl_module_addrname(mod, pc);
        table_line(s, mod, pc, &out[0]);
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        out[i].ip = ip;
        out[i].module = module;
        out[i].build_id = build_id;
        out[i].offset = (int64_t)(ip - low);
    }
    return n;
}

/* The name of the function owning ip's physical frame (a return address), or NULL. */
static const char *physical_function(struct symbolizer *s, uint64_t ip)
{
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, ip - 1);
    if (mod == NULL)
        return NULL;
    Dwarf_Addr bias = 0;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, ip - 1, &bias);
    Dwarf_Die nest[SYM_MAX_LOGICAL];
    int n = cu != NULL ? inlines_at(s->inlines, cu, ip - 1 - bias, nest, SYM_MAX_LOGICAL) : 0;
    const char *name = n > 0 ? die_name(&nest[n - 1]) : NULL;
    return name != NULL ? name : dwfl_module_addrname(mod, ip - 1);
}

int symbolizer_describe_tail(struct symbolizer *s, uint64_t ip, uint64_t inner_ip,
                             struct sym_frame out[SYM_MAX_LOGICAL])
{
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, ip - 1);
    Dwarf_Addr at;
    bool line_known;
    if (mod == NULL || !tailcall_between(s->tailcalls, s->inlines, mod, ip,
                                         physical_function(s, inner_ip), &at, &line_known))
        return 0;
    int n = symbolizer_describe(s, at, out);
    if (!line_known) {
        /* The function is certain, the line is not: its physical frame alone. */
        out[0] = out[n - 1];
        out[0].line = 0;
        n = 1;
    }
    out[n - 1].tail_call = true;
    return n;
}

/* Cached ids: `v` from frames_of_ip or tail_frames. */
static int cached(uint64_t v, int64_t ids[SYM_MAX_LOGICAL])
{
    int n = (int)(v & ((1u << COUNT_BITS) - 1));
    assert(n <= SYM_MAX_LOGICAL);
    for (int i = 0; i < n; i++)
        ids[i] = (int64_t)(v >> COUNT_BITS) + i;
    return n;
}

/* Store frames f[0..n-1] under consecutive new ids, remembered in `map` under `key`.
 * Returns n, or -1 if the store failed. */
static int store_frames(struct symbolizer *s, ct_store *store, struct u64map *map, uint64_t key,
                        const struct sym_frame *f, int n, int64_t ids[SYM_MAX_LOGICAL])
{
    for (int i = 0; i < n; i++) {
        struct ct_frame_row row = {.id = s->next_frame + i, .ip = (int64_t)f[i].ip,
                                   .module = f[i].module, .offset = f[i].offset,
                                   .build_id = f[i].build_id, .function = f[i].function,
                                   .file = f[i].file, .line = f[i].line,
                                   .inlined = f[i].inlined, .tail_call = f[i].tail_call};
        if (ct_store_frame(store, &row) != 0)
            return -1;
        ids[i] = row.id;
    }
    /* Without room in the map the ip is merely symbolized again next time. */
    u64map_put(map, key, (uint64_t)s->next_frame << COUNT_BITS | (uint64_t)n);
    s->next_frame += n;
    return n;
}

int symbolizer_frames(struct symbolizer *s, ct_store *store, uint64_t ip,
                      int64_t ids[SYM_MAX_LOGICAL])
{
    uint64_t v;
    if (u64map_get(&s->frames_of_ip, ip, &v))
        return cached(v, ids);
    struct sym_frame f[SYM_MAX_LOGICAL];
    int n = symbolizer_describe(s, ip, f);
    return store_frames(s, store, &s->frames_of_ip, ip, f, n, ids) < 0 ? 0 : n;
}

/* A key for a pair of instruction pointers (never 0, u64map's empty key). */
static uint64_t pair_key(uint64_t ip, uint64_t inner_ip)
{
    uint64_t h = ip * 0x9e3779b97f4a7c15ull ^ inner_ip;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h != 0 ? h : 1;
}

int symbolizer_tail_frames(struct symbolizer *s, ct_store *store, uint64_t ip, uint64_t inner_ip,
                           int64_t ids[SYM_MAX_LOGICAL])
{
    uint64_t key = pair_key(ip, inner_ip), v;
    if (u64map_get(&s->tail_frames, key, &v))
        return cached(v, ids);
    struct sym_frame f[SYM_MAX_LOGICAL];
    int n = symbolizer_describe_tail(s, ip, inner_ip, f);
    return store_frames(s, store, &s->tail_frames, key, f, n, ids);
}
