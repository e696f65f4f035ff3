/*
 * symbolize.h — instruction pointers to frames (module, offset, build-id, function,
 * file, line), with elfutils' libdwfl/libdw over this process's own mappings. Runs on
 * the writer thread only.
 *
 * One instruction pointer is one physical frame but may be several LOGICAL frames: in
 * an optimised build a function inlined into its caller has no frame of its own, yet
 * it is what the programmer wrote and where a context was made. Each physical frame is
 * expanded, as `addr2line -i -f` does, into the function the instruction belongs to,
 * then each function it was inlined into, out to the function that owns the physical
 * frame. And between two physical frames, the frames a tail call removed (tailcall.h).
 */
#ifndef CT_SYMBOLIZE_H
#define CT_SYMBOLIZE_H

#include <ctxtrace/core/store.h>
#include <stdbool.h>
#include <stdint.h>

/* Logical frames kept per instruction pointer. Deeper inline nests (unseen in practice)
 * keep their innermost frames, as a stack deeper than its capture keeps its innermost. */
enum { SYM_MAX_LOGICAL = 32 };

struct symbolizer;

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* One logical frame. Strings are NULL when unknown. */
struct sym_frame {
    const char *module, *build_id, *function, *file;
    uint64_t ip;    /* the address described: a return address (after a call or jump) */
    int64_t offset; /* of ip, from the module's start */
    int line;       /* 0: unknown */
    bool inlined;   /* inlined into out[i + 1]: it has no physical frame of its own */
    bool tail_call; /* a frame a tail call removed (symbolizer_describe_tail) */
};

/* What `ip` (a return address) is: its logical frames, innermost first, in
 * out[0..n-1]; returns n, 1 <= n <= SYM_MAX_LOGICAL (one frame of unknowns when
 * nothing is known). out[0]'s line is the line table's; each outer frame's is where
 * the frame inside it was inlined (its call site). Every frame but the last is
 * inlined; the last is not, unless a nest deeper than SYM_MAX_LOGICAL was cut there.
 * The strings stay valid until the next call. */
int symbolizer_describe(struct symbolizer *s, uint64_t ip, struct sym_frame out[SYM_MAX_LOGICAL]);

/* The frames a tail call removed between the physical frame of return address `ip` and
 * the one inside it, of return address `inner_ip` (see tailcall.h): the logical frames
 * of the function that jumped instead of returning, at its jump, innermost first, in
 * out[0..n-1], the last with tail_call set (and line 0 if which of its tail calls was
 * taken is unknown). Returns n, 0 (almost always) when nothing was removed. The strings
 * stay valid until the next call. */
int symbolizer_describe_tail(struct symbolizer *s, uint64_t ip, uint64_t inner_ip,
                             struct sym_frame out[SYM_MAX_LOGICAL]);

/* The frames-table ids of `ip`'s logical frames, innermost first, in ids[0..n-1];
 * symbolizes and stores them the first time `ip` is seen. Returns n (as
 * symbolizer_describe), or 0 if the store failed. */
int symbolizer_frames(struct symbolizer *s, ct_store *store, uint64_t ip,
                      int64_t ids[SYM_MAX_LOGICAL]);

/* The frames-table ids of symbolizer_describe_tail's frames for (ip, inner_ip), stored
 * the first time the pair is seen. Returns their count (0 almost always), -1 if the
 * store failed. */
int symbolizer_tail_frames(struct symbolizer *s, ct_store *store, uint64_t ip, uint64_t inner_ip,
                           int64_t ids[SYM_MAX_LOGICAL]);

#endif /* CT_SYMBOLIZE_H */
