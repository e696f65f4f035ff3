/*
 * next.c — finding the definition the shim interposes on (the next one after the shim
 * in the lookup order), once per function.
 */
#include <dlfcn.h>

#include "shim.h"

void *shim_next(const char *name, void *_Atomic *cache)
{
    void *fn = atomic_load_explicit(cache, memory_order_acquire);
    if (fn == NULL) {
        /* Racing first calls both look it up and store the same address: harmless. */
        fn = dlsym(RTLD_NEXT, name);
        atomic_store_explicit(cache, fn, memory_order_release);
    }
    return fn;
}
