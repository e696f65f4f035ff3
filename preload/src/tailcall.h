/*
 * tailcall.h — frames that a tail call removed. In an optimised build a function
 * whose last act is a call may jump to the callee instead (a sibling call): its frame
 * is gone, and a stack shows its caller calling the callee directly. A constructor
 * like `return ctx_with_timeout(parent, t);` then vanishes from its contexts' creation
 * stacks, and the site becomes its caller's line.
 *
 * DWARF still tells (GCC and clang record call sites when optimising): the caller's
 * call site at the return address names the function it called; if the frame inside
 * is another function, the callee left by a tail call, and its own call sites marked
 * DW_AT_call_tail_call say where. Used by symbolize.c between each pair of physical
 * frames.
 */
#ifndef CT_TAILCALL_H
#define CT_TAILCALL_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>

#include "inlines.h"

struct tailcalls;

struct tailcalls *tailcalls_new(void);
void tailcalls_free(struct tailcalls *t);
/* Forget every module (their list is being reported again). */
void tailcalls_forget(struct tailcalls *t);

/* Between the physical frame of return address `ip` (in module `mod`) and the frame
 * inside it, whose function is named `inner` (its physical function): if the call at
 * `ip` went to a function of `mod` other than `inner`, that function's frame was
 * removed by a tail call. Returns true and, in *at, an address to symbolize as that
 * function's frames (like a return address: one past the jump); *line_known is false
 * when the function made several tail calls and which one was taken cannot be told
 * (*at is then its entry + 1: the function is right, its line is not). Returns false
 * when no frame was removed, or DWARF does not say. */
bool tailcall_between(struct tailcalls *t, struct inlines *x, Dwfl_Module *mod, Dwarf_Addr ip,
                      const char *inner, Dwarf_Addr *at, bool *line_known);

#endif /* CT_TAILCALL_H */
