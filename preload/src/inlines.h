/*
 * inlines.h — the function nests of compilation units: for an address, the DWARF DIEs
 * of the functions holding it, innermost first — the inlined instances
 * (DW_TAG_inlined_subroutine) the compiler placed there, out to the function that owns
 * the code (DW_TAG_subprogram). symbolize.c turns them into logical frames. And the
 * units' call sites (DW_TAG_call_site), which tell tail calls (tailcall.c).
 *
 * libdw answers this with dwarf_getscopes and dwarf_getscopes_die, but each call walks
 * the unit's DIE tree from its start, every time: 10-20 times the cost of the rest of a
 * symbolization. Here a unit's function DIEs and their address ranges are indexed once,
 * on its first lookup, and each lookup after that scans only ranges.
 */
#ifndef CT_INLINES_H
#define CT_INLINES_H

#include <elfutils/libdw.h>
#include <stdbool.h>

struct inlines;

struct inlines *inlines_new(void);
void inlines_free(struct inlines *x);

/* Drop every index: the modules they describe may have gone (called when the Dwfl's
 * module list is reported again). */
void inlines_forget(struct inlines *x);

/* The function DIEs of `cu` holding `addr` (an address of the unit's DWARF, i.e.
 * without the module's bias), innermost first, in out[0..n-1], n <= max: every one but
 * the last is a DW_TAG_inlined_subroutine; the last is the DW_TAG_subprogram, unless
 * the nest was deeper than max. Returns n; 0 when no function of the unit holds addr
 * (or out of memory: the caller then knows less, nothing wrong). The DIEs stay valid
 * until inlines_forget or inlines_free. */
int inlines_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *out, int max);

/* The DIE offset of the DW_TAG_subprogram of `cu` holding `addr`, or 0. */
Dwarf_Off inlines_function_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr addr);

/* A call the compiler recorded in a unit's code: DWARF 5's DW_TAG_call_site, or
 * DWARF 4's DW_TAG_GNU_call_site. */
struct inline_call {
    Dwarf_Die site;       /* its DIE: the function called is its (call) origin */
    Dwarf_Addr return_pc; /* the address after the call (or the jump), a unit address */
    Dwarf_Off function;   /* the DIE offset of the DW_TAG_subprogram it is made in */
    bool tail;            /* a tail call: a jump that replaced the caller's frame */
};

/* The call of `cu` returning to `return_pc` (a unit address), if DWARF records it. */
bool inlines_call_at(struct inlines *x, Dwarf_Die *cu, Dwarf_Addr return_pc,
                     struct inline_call *out);

/* The tail calls made in the DW_TAG_subprogram at DIE offset `function` of `cu`, in
 * out[0..max-1]; returns how many there are (possibly more than max). */
int inlines_tail_calls(struct inlines *x, Dwarf_Die *cu, Dwarf_Off function,
                       struct inline_call *out, int max);

#endif /* CT_INLINES_H */
