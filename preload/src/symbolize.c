/*
 * symbolize.c — see symbolize.h.
 *
 * libdwfl is told about the process's modules from /proc/self/maps; module-relative
 * offsets make the result independent of ASLR. Stack entries are return addresses,
 * so lookups use ip - 1: the call instruction, whose line is the one a person wants.
 * A module loaded after the last report (dlopen) makes us re-read the maps once.
 */
#include "symbolize.h"

#include <elfutils/libdwfl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ctxtrace/core/u64map.h>

struct symbolizer {
    Dwfl *dwfl;
    struct u64map frame_of_ip;
    int64_t next_frame;
    char build_id[129], path[4096]; /* the last description's */
};

static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static void report_modules(struct symbolizer *s)
{
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
    if (s->dwfl == NULL) {
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
    u64map_free(&s->frame_of_ip);
    free(s);
}

static void hex(const unsigned char *bits, int len, char *out, size_t outlen)
{
    size_t n = 0;
    for (int i = 0; i < len && n + 3 <= outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, "%02x", bits[i]);
    out[n] = '\0';
}

void symbolizer_describe(struct symbolizer *s, uint64_t ip, struct sym_frame *out)
{
    memset(out, 0, sizeof *out);
    Dwarf_Addr pc = ip - 1;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    if (mod == NULL) {
        report_modules(s); /* loaded since the last look (dlopen) */
        mod = dwfl_addrmodule(s->dwfl, pc);
    }
    if (mod == NULL)
        return;
    Dwarf_Addr low = 0;
    out->module = dwfl_module_info(mod, NULL, &low, NULL, NULL, NULL, NULL, NULL);
    out->offset = (int64_t)(ip - low);
    const unsigned char *bits;
    GElf_Addr vaddr;
    int len = dwfl_module_build_id(mod, &bits, &vaddr);
    if (len > 0) {
        hex(bits, len, s->build_id, sizeof s->build_id);
        out->build_id = s->build_id;
    }
    out->function = dwfl_module_addrname(mod, pc);
    Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
    if (line != NULL) {
        int lineno = 0;
        const char *file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
        const char *dir = dwfl_line_comp_dir(line);
        /* Relative names in DWARF are relative to the compilation directory. */
        if (file != NULL && file[0] != '/' && dir != NULL) {
            snprintf(s->path, sizeof s->path, "%s/%s", dir, file);
            file = s->path;
        }
        out->file = file;
        out->line = lineno;
    }
}

int64_t symbolizer_frame(struct symbolizer *s, ct_store *store, uint64_t ip)
{
    uint64_t id;
    if (u64map_get(&s->frame_of_ip, ip, &id))
        return (int64_t)id;
    struct sym_frame f;
    symbolizer_describe(s, ip, &f);
    struct ct_frame_row row = {.id = s->next_frame, .ip = (int64_t)ip, .module = f.module,
                               .offset = f.offset, .build_id = f.build_id,
                               .function = f.function, .file = f.file, .line = f.line};
    if (ct_store_frame(store, &row) != 0)
        return 0;
    u64map_put(&s->frame_of_ip, ip, (uint64_t)row.id);
    return s->next_frame++;
}
