/*
 * ctxtrace/core/claim.h — whose file a trace file is: the one rule the shim
 * (CTXTRACE_OUTPUT) and the CLI (`run -o`, `soak -o`) share so that no user's file is
 * ever destroyed and no two processes ever write, or delete, each other's trace.
 *
 * - A name is claimed by creating the file exclusively (O_CREAT|O_EXCL): of two
 *   processes wanting one name, exactly one gets it. A name whose "-wal" or "-shm"
 *   companion exists is taken too (SQLite would replay a stray WAL into the new file).
 * - A writer holds the owner lock on its file for as long as it writes: an
 *   open-file-description lock (fcntl F_OFD_SETLK) on one byte far beyond anything
 *   SQLite locks. The kernel drops it when the process dies, however it dies, so
 *   "in use" never outlives the writer.
 * - A launcher (the CLI) claims the name itself, before the program runs, without the
 *   lock, and hands it to the program's shim as a token (CTXTRACE_OUTPUT_CLAIM, the
 *   file's device and inode): the first shim to find that very file still empty takes
 *   it with the lock; everyone else (a forked child, an exec'd image) writes
 *   "<stem>.<pid>.db" as it would for any taken name.
 *
 * Functions returning int give 0 or an errno value.
 */
#ifndef CTXTRACE_CORE_CLAIM_H
#define CTXTRACE_CORE_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What is at a path, for deciding whether it may be replaced. */
enum ct_file_kind {
    CT_FILE_ABSENT, /* nothing (no file, no -wal, no -shm) */
    CT_FILE_TRACE,  /* a ctxtrace trace, of any schema version */
    CT_FILE_OTHER,  /* anything else: never removed, never written */
};
enum ct_file_kind ct_trace_probe(const char *path);

/* A claimed name. fd < 0: none. */
struct ct_claim {
    int fd;
    dev_t dev;
    ino_t ino;
};
#define CT_CLAIM_NONE ((struct ct_claim){.fd = -1})

/* Claim `path` by creating it empty (mode 0644 less the umask); `lock`: also take the
 * owner lock (a writer does; a launcher does not). EEXIST when the name is taken. */
int ct_claim_new(const char *path, bool lock, struct ct_claim *c);

/* Take, with the owner lock, the empty file at `path` a launcher claimed and described
 * by `token`. EEXIST unless it is that very file, still empty and not yet taken. */
int ct_claim_take(const char *path, const char *token, struct ct_claim *c);

/* The token handing `c` to a writer ("<dev>:<ino>"). */
void ct_claim_token(const struct ct_claim *c, char *buf, size_t len);

/* A live process holds the owner lock on `path` (it is writing it). */
bool ct_claim_in_use(const char *path);

/* `path` is still the empty file `c` created: nobody ever wrote to it. */
bool ct_claim_unused(const struct ct_claim *c, const char *path);

/* Close the claim's descriptor (releasing the owner lock unless another descriptor —
 * a forked parent's — shares it). */
void ct_claim_close(struct ct_claim *c);

#endif /* CTXTRACE_CORE_CLAIM_H */
