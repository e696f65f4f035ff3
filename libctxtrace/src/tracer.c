/*
 * tracer.c — attaching a tracer, and the context ids it names contexts by.
 *
 * Ids are handed out from per-thread blocks of a global counter, so creating contexts
 * on many threads never contends on one cache line (one atomic per 4096 contexts).
 * Ids 1 and 2 are the roots.
 */
#include "internal.h"

const struct ctx_tracer *_Atomic ctx__tracer;

enum { ID_BLOCK = 4096 };

static _Atomic uint64_t id_blocks = 0;
static _Thread_local uint64_t id_next, id_end;

uint64_t ctx__next_id(void)
{
    if (__builtin_expect(id_next == id_end, 0)) {
        /* Block 0 starts at 3: ids 1 and 2 belong to background and todo. */
        uint64_t block = atomic_fetch_add_explicit(&id_blocks, 1, memory_order_relaxed);
        id_next = block * ID_BLOCK + 3;
        id_end = (block + 1) * ID_BLOCK + 3;
    }
    return id_next++;
}

CTX_API int ctx_tracer_attach(const struct ctx_tracer *t)
{
    if (t == NULL)
        return EINVAL;
    const struct ctx_tracer *none = NULL;
    return atomic_compare_exchange_strong_explicit(&ctx__tracer, &none, t,
                                                   memory_order_acq_rel,
                                                   memory_order_relaxed)
               ? 0
               : EBUSY;
}

CTX_API void ctx_tracer_detach(void)
{
    atomic_store_explicit(&ctx__tracer, NULL, memory_order_release);
}
