/*
 * inlines.c — see inlines.h.
 *
 * A unit's index: every DW_TAG_subprogram and DW_TAG_inlined_subroutine with code (its
 * address ranges), each with the function entry it sits in (through lexical blocks)
 * and its depth in that nest. An inlined instance's ranges lie within those of the
 * function it was inlined into, so the innermost function at an address is the deepest
 * entry with a range holding it; its chain of parents is the nest. A subprogram's
 * parent is none: a GCC nested function's DIE sits inside its enclosing function's,
 * but that function is not its caller.
 *
 * Call sites are indexed in the same walk, wherever they sit in a function's nest, by
 * their return address, each with the subprogram it is made in.
 *
 * Units are keyed by the address of their DIE's data (unique while the Dwfl keeps the
 * module), which is why the indexes are dropped when the module list is reported again.
 */
#include "inlines.h"

#include <assert.h>
#include <dwarf.h>
#include <stdint.h>
#include <stdlib.h>

#include <ctxtrace/core/u64map.h>

#include "vec.h"

struct fn {
    Dwarf_Die die;
    int parent; /* index of the fn this one was inlined into; -1 for a subprogram */
    int depth;  /* 0 for a subprogram */
};

struct range {
    Dwarf_Addr low, high; /* [low, high) */
    int fn;
};

struct unit {
    VEC(struct fn) fns;
    VEC(struct range) ranges;
    VEC(struct inline_call) calls;
    struct u64map call_at; /* return_pc -> index in calls + 1 */
};

struct inlines {
    struct u64map unit_of; /* unit DIE data address -> index in units + 1 */
    VEC(struct unit *) units;
};

struct inlines *inlines_new(void)
{
    return calloc(1, sizeof(struct inlines));
}

static void unit_free(struct unit *u)
{
    if (u == NULL)
        return;
    free(u->fns.items);
    free(u->ranges.items);
    free(u->calls.items);
    u64map_free(&u->call_at);
    free(u);
}

void inlines_forget(struct inlines *x)
{
    for (size_t i = 0; i < x->units.len; i++)
        unit_free(x->units.items[i]);
    x->units.len = 0;
    u64map_clear(&x->unit_of);
}

void inlines_free(struct inlines *x)
{
    if (x == NULL)
        return;
    inlines_forget(x);
    free(x->units.items);
    u64map_free(&x->unit_of);
    free(x);
}

/* Index `die` (a function with code) under `parent`; false when out of memory. */
static bool add_fn(struct unit *u, Dwarf_Die *die, int parent, int depth, int *index)
{
    long i = VEC_PUSH(u->fns);
    if (i < 0)
        return false;
    u->fns.items[i] = (struct fn){.die = *die, .parent = parent, .depth = depth};
    Dwarf_Addr base, low, high;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
        long r = VEC_PUSH(u->ranges);
        if (r < 0)
            return false;
        u->ranges.items[r] = (struct range){.low = low, .high = high, .fn = (int)i};
    }
    *index = (int)i;
    return true;
}

static bool has_code(Dwarf_Die *die)
{
    Dwarf_Addr base, low, high;
    return dwarf_ranges(die, 0, &base, &low, &high) > 0;
}

/* Index call site `die` made in subprogram `top`; false when out of memory. A site
 * without a return address (DWARF allows one) is of no use here and skipped. */
static bool add_call(struct unit *u, Dwarf_Die *die, bool gnu, int top)
{
    Dwarf_Attribute attr;
    Dwarf_Addr pc;
    if (dwarf_formaddr(dwarf_attr(die, gnu ? DW_AT_low_pc : DW_AT_call_return_pc, &attr),
                       &pc) != 0 || pc == 0 || top < 0)
        return true;
    bool tail = dwarf_hasattr(die, gnu ? DW_AT_GNU_tail_call : DW_AT_call_tail_call);
    long i = VEC_PUSH(u->calls);
    if (i < 0 || !u64map_put(&u->call_at, pc, (uint64_t)i + 1))
        return false;
    u->calls.items[i] = (struct inline_call){
        .site = *die, .return_pc = pc, .function = dwarf_dieoffset(&u->fns.items[top].die),
        .tail = tail};
    return true;
}

/* Index the functions and call sites among `parent_die`'s children, and theirs, inside
 * function `fn` (-1: none) at nest depth `depth`, in subprogram `top`. */
static bool index_children(struct unit *u, Dwarf_Die *parent_die, int fn, int depth, int top)
{
    Dwarf_Die child;
    if (dwarf_child(parent_die, &child) != 0)
        return true;
    do {
        int tag = dwarf_tag(&child), index;
        switch (tag) {
        case DW_TAG_subprogram:
        case DW_TAG_inlined_subroutine:
            /* Declarations and abstract instances have no code, nor do their children. */
            if (!has_code(&child))
                break;
            if (tag == DW_TAG_subprogram) {
                if (!add_fn(u, &child, -1, 0, &index) ||
                    !index_children(u, &child, index, 1, index))
                    return false;
            } else if (fn >= 0) {
                if (!add_fn(u, &child, fn, depth, &index) ||
                    !index_children(u, &child, index, depth + 1, top))
                    return false;
            }
            break;
        case DW_TAG_lexical_block:
            if (!index_children(u, &child, fn, depth, top))
                return false;
            break;
        case DW_TAG_call_site:
        case DW_TAG_GNU_call_site:
            if (!add_call(u, &child, tag == DW_TAG_GNU_call_site, top))
                return false;
            break;
        default:
            break; /* types, variables, parameters: no code inside */
        }
    } while (dwarf_siblingof(&child, &child) == 0);
    return true;
}

static struct unit *unit_for(struct inlines *x, Dwarf_Die *cu)
{
    uint64_t key = (uint64_t)(uintptr_t)cu->addr, v;
    if (u64map_get(&x->unit_of, key, &v))
        return x->units.items[v - 1];
    struct unit *u = calloc(1, sizeof *u);
    long i = VEC_PUSH(x->units);
    if (u == NULL || i < 0 || !index_children(u, cu, -1, 0, -1)) {
        if (i >= 0)
            x->units.len--;
        unit_free(u);
        return NULL;
    }
    x->units.items[i] = u;
    if (!u64map_put(&x->unit_of, key, (uint64_t)i + 1)) {
        x->units.len--;
        unit_free(u);
        return NULL;
    }
    return u;
}

int inlines_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *out, int max)
{
    struct unit *u = unit_for(x, cu);
    if (u == NULL)
        return 0;
    int inner = -1;
    for (size_t i = 0; i < u->ranges.len; i++) {
        const struct range *r = &u->ranges.items[i];
        if (addr >= r->low && addr < r->high &&
            (inner < 0 || u->fns.items[r->fn].depth > u->fns.items[inner].depth))
            inner = r->fn;
    }
    int n = 0;
    for (int f = inner; f >= 0 && n < max; f = u->fns.items[f].parent) {
        assert(u->fns.items[f].parent < f); /* indexed parents first: the walk ends */
        out[n++] = u->fns.items[f].die;
    }
    return n;
}

Dwarf_Off inlines_function_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr addr)
{
    struct unit *u = unit_for(x, cu);
    for (size_t i = 0; u != NULL && i < u->ranges.len; i++) {
        const struct range *r = &u->ranges.items[i];
        if (addr >= r->low && addr < r->high && u->fns.items[r->fn].depth == 0)
            return dwarf_dieoffset(&u->fns.items[r->fn].die);
    }
    return 0;
}

bool inlines_call_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr return_pc,
                     struct inline_call *out)
{
    struct unit *u = unit_for(x, cu);
    uint64_t i;
    if (u == NULL || return_pc == 0 || !u64map_get(&u->call_at, return_pc, &i))
        return false;
    *out = u->calls.items[i - 1];
    return true;
}

int inlines_tail_calls(struct inlines *x, Dwarf_Die *cu, Dwarf_Off function,
                       struct inline_call *out, int max)
{
    struct unit *u = unit_for(x, cu);
    int n = 0;
    for (size_t i = 0; u != NULL && i < u->calls.len; i++) {
        const struct inline_call *c = &u->calls.items[i];
        if (!c->tail || c->function != function)
            continue;
        if (n < max)
            out[n] = *c;
        n++;
    }
    return n;
}
