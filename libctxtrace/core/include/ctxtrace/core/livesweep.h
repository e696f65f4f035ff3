/*
 * ctxtrace/core/livesweep.h — removing the sockets that dead processes left in this
 * user's socket directory (ctxtrace/core/livepath.h's ct_live_dir).
 *
 * A process killed before it could remove its "<pid>.sock" leaves it behind; a day of
 * tests left hundreds. The shim sweeps when it starts serving, `ctxtrace ps` and
 * `ctxtrace tail` before they look: the directory holds the living only.
 */
#ifndef CTXTRACE_CORE_LIVESWEEP_H
#define CTXTRACE_CORE_LIVESWEEP_H

/* Remove each "<pid>.sock" of ct_live_dir() that is a socket, whose pid no longer exists
 * and on which nobody listens (both: a pid of another pid namespace sharing the
 * directory may look dead while its socket serves). Anything else is left alone.
 * Returns how many were removed (0 when the directory does not exist), or -1 with
 * errno set when it cannot be read. */
int ct_live_sweep(void);

#endif /* CTXTRACE_CORE_LIVESWEEP_H */
