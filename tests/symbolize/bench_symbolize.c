/*
 * bench_symbolize.c — what the shim's writer thread pays to symbolize an instruction
 * pointer it has not seen before (symbolizer_describe: module, DWARF scopes, inline
 * expansion, lines), per loaded module.
 *
 *   bench_symbolize [-n IPS] MODULE-SUBSTRING...
 *
 * For each loaded module whose path contains a MODULE-SUBSTRING (this program links
 * libctxtrace.so and libc; the first match is used; "main" is this program), IPS addresses spread evenly over
 * its executable segment are symbolized with a fresh symbolizer, in address order, once
 * each, as new stacks bring new ips. Prints per module: ips, the first lookup (which
 * loads the module's DWARF), the mean of the others in ns per ip, and logical frames
 * per ip (how much inlining there was).
 */
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ctxtrace/ctx.h>

#include "symbolize.h"

struct segment {
    const char *want;
    char path[4096];
    uintptr_t start, end;
};

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct segment *seg = arg;
    /* The main program is the module with an empty name. */
    bool main_program = info->dlpi_name[0] == '\0';
    if (seg->end != 0 || (strcmp(seg->want, "main") == 0) != main_program ||
        (!main_program && strstr(info->dlpi_name, seg->want) == NULL))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            seg->start = info->dlpi_addr + ph->p_vaddr;
            seg->end = seg->start + ph->p_memsz;
            snprintf(seg->path, sizeof seg->path, "%s",
                     main_program ? "(this program)" : info->dlpi_name);
            return 1;
        }
    }
    return 0;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int bench(const char *want, long ips)
{
    struct segment seg = {.want = want};
    dl_iterate_phdr(find_text, &seg);
    if (seg.end == 0) {
        fprintf(stderr, "bench_symbolize: no loaded module matches '%s'\n", want);
        return 1;
    }
    struct symbolizer *s = symbolizer_new();
    if (s == NULL) {
        fprintf(stderr, "bench_symbolize: cannot create a symbolizer\n");
        return 1;
    }
    uintptr_t step = (seg.end - seg.start) / (uintptr_t)ips;
    if (step == 0)
        step = 1;
    struct sym_frame f[SYM_MAX_LOGICAL];
    double t0 = now_ns();
    /* ip - 1 is looked up: +1 makes each spread address the "call" itself. */
    long frames = symbolizer_describe(s, seg.start + 1, f);
    double first = now_ns() - t0;
    long n = 1, with_line = 0;
    t0 = now_ns();
    for (uintptr_t a = seg.start + step; a < seg.end && n < ips; a += step, n++) {
        int k = symbolizer_describe(s, a + 1, f);
        frames += k;
        with_line += f[0].line > 0;
    }
    double rest = now_ns() - t0;
    printf("%-40s %7ld ips  first %9.0f us  then %8.0f ns/ip  %.2f frames/ip  %.0f%% with a line\n",
           seg.path, n, first / 1e3, n > 1 ? rest / (double)(n - 1) : 0.0,
           (double)frames / (double)n, n > 1 ? 100.0 * (double)with_line / (double)(n - 1) : 0.0);
    symbolizer_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    /* A call into the runtime, so that the linker keeps libctxtrace.so loaded. */
    if (ctx_background() == NULL)
        return 1;
    long ips = 20000;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
        char *end;
        ips = strtol(argv[i + 1], &end, 10);
        if (*end != '\0' || ips < 1) {
            fprintf(stderr, "bench_symbolize: -n: not a positive number: %s\n", argv[i + 1]);
            return 2;
        }
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: bench_symbolize [-n IPS] MODULE-SUBSTRING...\n");
        return 2;
    }
    int rc = 0;
    for (; i < argc; i++)
        rc |= bench(argv[i], ips);
    return rc;
}
