/*
 * tailcall.c — see tailcall.h.
 *
 * Only a function of the caller's own module is reconstructed: the call site names
 * it, and its definition is found in the same unit (a static function) or through the
 * module's symbol table by name. A name the table has several definitions of (static
 * functions of different files) is not guessed at. Nothing is reconstructed unless the
 * function's DWARF records a tail call: a frame without a recorded way out stays as
 * the stack shows it.
 */
#include "tailcall.h"

#include <dwarf.h>
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ctxtrace/core/u64map.h>

#include "vec.h"

enum { AMBIGUOUS = UINT64_MAX };

struct tailcalls {
    struct u64map names_of;     /* module pointer -> index in names + 1 */
    VEC(struct u64map) names;   /* per module: name hash -> function address (or AMBIGUOUS) */
};

struct tailcalls *tailcalls_new(void)
{
    return calloc(1, sizeof(struct tailcalls));
}

void tailcalls_forget(struct tailcalls *t)
{
    for (size_t i = 0; i < t->names.len; i++)
        u64map_free(&t->names.items[i]);
    t->names.len = 0;
    u64map_clear(&t->names_of);
}

void tailcalls_free(struct tailcalls *t)
{
    if (t == NULL)
        return;
    tailcalls_forget(t);
    free(t->names.items);
    u64map_free(&t->names_of);
    free(t);
}

/* FNV-1a, never 0 (u64map's empty key). */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h != 0 ? h : 1;
}

/* The module's defined functions by name, read from its symbol table once. */
static struct u64map *names_of(struct tailcalls *t, Dwfl_Module *mod)
{
    uint64_t key = (uint64_t)(uintptr_t)mod, v;
    if (u64map_get(&t->names_of, key, &v))
        return &t->names.items[v - 1];
    long i = VEC_PUSH(t->names);
    if (i < 0)
        return NULL;
    struct u64map *m = &t->names.items[i];
    memset(m, 0, sizeof *m);
    int n = dwfl_module_getsymtab(mod);
    for (int k = 0; k < n; k++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf;
        Dwarf_Addr bias;
        const char *name = dwfl_module_getsym_info(mod, k, &sym, &addr, &shndx, &elf, &bias);
        if (name == NULL || GELF_ST_TYPE(sym.st_info) != STT_FUNC || shndx == SHN_UNDEF ||
            addr == 0)
            continue;
        uint64_t h = name_hash(name), seen;
        if (u64map_get(m, h, &seen) && seen != addr)
            addr = AMBIGUOUS; /* two functions of one name: say none */
        if (!u64map_put(m, h, addr))
            break; /* out of memory: fewer names, fewer reconstructions */
    }
    if (!u64map_put(&t->names_of, key, (uint64_t)i + 1)) {
        u64map_free(m);
        t->names.len--;
        return NULL;
    }
    return m;
}

static const char *die_name(Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

/* The DIE of the function a call site calls; false for an indirect call (no origin). */
static bool origin(const struct inline_call *call, Dwarf_Die *out)
{
    Dwarf_Die site = call->site;
    Dwarf_Attribute attr;
    Dwarf_Attribute *a = dwarf_attr(&site, DW_AT_call_origin, &attr);
    if (a == NULL)
        a = dwarf_attr(&site, DW_AT_abstract_origin, &attr); /* DWARF 4 GNU call sites */
    return a != NULL && dwarf_formref_die(a, out) != NULL;
}

static const char *callee_name(const struct inline_call *call)
{
    Dwarf_Die fn;
    return origin(call, &fn) ? die_name(&fn) : NULL;
}

/* The entry address in `mod` (an address of the Dwfl, bias included) of the function
 * a call site calls, when `mod` defines it. */
static bool callee_entry(struct tailcalls *t, Dwfl_Module *mod, Dwarf_Addr bias,
                         const struct inline_call *call, Dwarf_Addr *entry)
{
    Dwarf_Die fn;
    if (!origin(call, &fn))
        return false;
    Dwarf_Addr pc;
    if (dwarf_entrypc(&fn, &pc) == 0) { /* defined in this unit */
        *entry = pc + bias;
        return true;
    }
    const char *name = die_name(&fn);
    struct u64map *names = name != NULL ? names_of(t, mod) : NULL;
    uint64_t addr;
    if (names == NULL || !u64map_get(names, name_hash(name), &addr) || addr == AMBIGUOUS)
        return false;
    *entry = addr;
    return true;
}

bool tailcall_between(struct tailcalls *t, struct inlines *x, Dwfl_Module *mod, Dwarf_Addr ip,
                      const char *inner, Dwarf_Addr *at, bool *line_known)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, ip - 1, &bias);
    struct inline_call call;
    if (cu == NULL || inner == NULL || !inlines_call_at(x, cu, ip - bias, &call) || call.tail)
        return false;
    const char *name = callee_name(&call);
    Dwarf_Addr entry, fbias;
    if (name == NULL || strcmp(name, inner) == 0)
        return false; /* the frame inside is the function called: nothing removed */
    if (!callee_entry(t, mod, bias, &call, &entry))
        return false; /* defined in another module, or unknown */
    Dwarf_Die *fcu = dwfl_module_addrdie(mod, entry, &fbias);
    Dwarf_Off function = fcu != NULL ? inlines_function_at(x, fcu, entry - fbias) : 0;
    if (function == 0)
        return false;
    enum { MAX_TAILS = 16 };
    struct inline_call tails[MAX_TAILS];
    int n = inlines_tail_calls(x, fcu, function, tails, MAX_TAILS);
    if (n == 0)
        return false;
    /* One way out: that is the one taken. Several: the one to the function inside, if
     * only one goes there (a tail call may also reach it through further tail calls
     * in other modules, which is why a single tail call is taken whatever it names). */
    int found = n == 1 ? 0 : n > MAX_TAILS ? -2 : -1;
    for (int i = 0; found != -2 && n > 1 && i < n; i++) {
        const char *to = callee_name(&tails[i]);
        if (to != NULL && strcmp(to, inner) == 0)
            found = found == -1 ? i : -2;
    }
    *line_known = found >= 0;
    *at = found >= 0 ? tails[found].return_pc + fbias : entry + 1;
    return true;
}
