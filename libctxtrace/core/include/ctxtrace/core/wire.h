/*
 * ctxtrace/core/wire.h — the live socket's wire format: one encoder and one decoder,
 * shared by the shim (which serves it), `ctxtrace tail` and the inspector.
 *
 * The stream is one-directional, server to client, a sequence of frames:
 *
 *     u32 body length | u16 type | u16 reserved (0) | body
 *
 * all integers little-endian. The body is the type's fields in a fixed order
 * (documented field by field in docs/wire.md); a string is a u16 length followed by
 * that many bytes, the last of which is a NUL and no other is (length 0: no string).
 * Every stream starts with a HELLO frame carrying the magic and the version; then the
 * snapshot of the live tree (SITE and CONTEXT frames, closed by SNAPSHOT_END); then
 * events as they happen; a BYE frame says why the server ends the stream. A client too
 * slow for the stream is never cut off: the server drops what it has not begun to send
 * it and, once it has taken its last snapshot, sends RESYNC (how much it skipped) and a
 * fresh snapshot (SITE, CONTEXT, SITE_COUNTS frames, SNAPSHOT_END) — docs/wire.md.
 *
 * The decoder is strict: a body must be exactly as long as its type's fields, every
 * enumeration must be in range, every string well formed, the body at most
 * CT_WIRE_MAX_BODY bytes. A frame of a type this version does not know is skipped
 * (its length is still checked), so later versions may add frame types; any other
 * change bumps CT_WIRE_VERSION. The first error is final: the decoder then returns
 * that error forever.
 */
#ifndef CTXTRACE_CORE_WIRE_H
#define CTXTRACE_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CT_WIRE_MAGIC 0x4543415254585443ull /* "CTXTRACE" read as a little-endian u64 */
#define CT_WIRE_VERSION 4
/* The oldest version this build reads: versions 3 and 4 only added frame types (the
 * exit check's; RESYNC and SITE_COUNTS), so a version 2 stream is a version 4 stream
 * that never sends them. (An older client refuses a newer server: skipping RESYNC would
 * apply a second snapshot on top of the first as if nothing was missed.) */
#define CT_WIRE_VERSION_MIN 2

enum {
    CT_WIRE_HEADER = 8,
    CT_WIRE_MAX_STRING = 4096,  /* bytes, NUL included; longer strings are truncated */
    CT_WIRE_MAX_BODY = 16384,
    CT_WIRE_MAX_FRAME = CT_WIRE_HEADER + CT_WIRE_MAX_BODY,
};

enum ct_wire_type {
    CT_WIRE_HELLO = 1,
    CT_WIRE_SITE = 2,
    CT_WIRE_CONTEXT = 3,
    CT_WIRE_SNAPSHOT_END = 4,
    CT_WIRE_CREATE = 5,
    CT_WIRE_CANCEL = 6,
    CT_WIRE_RELEASE = 7,
    CT_WIRE_FREE = 8,
    CT_WIRE_TIMER = 9,
    CT_WIRE_WAIT = 10,
    CT_WIRE_THREAD = 11,
    CT_WIRE_SAMPLE = 12,
    CT_WIRE_BYE = 13,
    CT_WIRE_EXIT_THREAD = 14, /* version 3: the exit check (docs/rules.md "The exit check") */
    CT_WIRE_EXIT_REACH = 15,
    CT_WIRE_EXIT_CHECK = 16,
    CT_WIRE_RESYNC = 17,      /* version 4: a slow client's fresh snapshot follows */
    CT_WIRE_SITE_COUNTS = 18, /* version 4: a stack's counts since the process started */
    CT_WIRE_TYPE_COUNT
};

/* CONTEXT flags: facts and "findings so far" about a live context. */
enum {
    CT_WIRE_TIMER_ARMED = 1u << 0,          /* its deadline timer is armed */
    CT_WIRE_OWNERS_DROPPED = 1u << 1,       /* the last owner reference is gone */
    CT_WIRE_LOST_CANCEL = 1u << 2,          /* owners dropped it live and uncancelled */
    CT_WIRE_ORPHANED_TIMER = 1u << 3,       /* owners dropped it with its timer armed */
    CT_WIRE_INEFFECTIVE_DEADLINE = 1u << 4, /* asked for a deadline after its parent's */
    CT_WIRE_FLAGS_ALL = (1u << 5) - 1
};

enum ct_wire_wait_event { CT_WIRE_WAIT_BLOCKED, CT_WIRE_WAIT_WOKEN, CT_WIRE_WAIT_FD };
enum ct_wire_thread_event { CT_WIRE_THREAD_START, CT_WIRE_THREAD_EXIT };

/* EXIT_THREAD state: the thread as /proc showed it before the world was stopped (the
 * trace's exit_threads.state, enum ct_exit_state of store.h). */
enum ct_wire_exit_state {
    CT_WIRE_EXIT_RUNNING,
    CT_WIRE_EXIT_BLOCKED,
    CT_WIRE_EXIT_STOPPED,
    CT_WIRE_EXIT_EXITING,
    CT_WIRE_EXIT_STATE_COUNT
};
/* EXIT_REACH reach: the trace's exit_reach.reach. */
enum ct_wire_reach {
    CT_WIRE_REACH_UNREACHABLE, /* no reference found */
    CT_WIRE_REACH_REACHABLE,   /* by a thread not blocked on it (or below it), or static data */
    CT_WIRE_REACH_STUCK,       /* only by threads blocked in ctx_wait on it or below it */
    CT_WIRE_REACH_COUNT
};

/* Why the server ended the stream. */
enum ct_wire_bye {
    CT_WIRE_BYE_EXIT,        /* the process is exiting */
    CT_WIRE_BYE_EXEC,        /* the process is replacing its image (exec) */
    CT_WIRE_BYE_SLOW,        /* the client fell too far behind the stream (versions 2
                                and 3: a version 4 server resyncs it instead) */
    CT_WIRE_BYE_BUSY,        /* too many clients already */
    CT_WIRE_BYE_PROTOCOL,    /* the client sent data (clients only read) */
    CT_WIRE_BYE_COUNT
};

/* One frame. Strings are NUL-terminated or NULL. In a decoded frame they point into
 * the decoder's buffer: valid until the next ct_wire_space/ct_wire_feed call. Times
 * are CLOCK_MONOTONIC nanoseconds of the traced process; 0 means "none". Thread
 * numbers are the trace file's threads.id; stack ids are its stacks.id, described by a
 * SITE frame sent before any frame that uses them. */
struct ct_wire_msg {
    enum ct_wire_type type;
    union {
        struct { uint64_t magic; uint32_t version, pid; int64_t now; const char *program; } hello;
        /* A stack's site: the innermost frame outside libctxtrace and the shim. */
        struct { uint64_t stack; uint32_t line; const char *module, *function, *file; } site;
        /* A live context in the snapshot. kind: enum ctx_kind; done: 0 live, 1 done
         * (then why: enum ctx_cancel_why, err: CTX_CANCELED / CTX_DEADLINE_EXCEEDED);
         * flags: CT_WIRE_* above. */
        struct ct_wire_context {
            uint64_t id, parent, stack;
            uint8_t kind, done, why, flags;
            uint32_t thread;
            int32_t err;
            int64_t created, deadline, canceled;
            int64_t origin;   /* done: when its cancellation started (0: unknown) */
            int64_t released; /* the last owner reference dropped (0: not yet) */
            const char *reason;
        } context;
        struct { uint32_t contexts; } snapshot_end;
        struct {
            int64_t ts;
            uint32_t thread;
            uint8_t kind;
            uint64_t id, parent, stack;
            int64_t requested, deadline; /* requested: what the caller asked for */
        } create;
        struct {
            int64_t ts;
            uint32_t thread;
            uint8_t why;
            int32_t err, cause;
            uint64_t id, stack;
            int64_t origin; /* when the cancellation that reached it started */
            const char *reason;
        } cancel;
        /* The last owner reference dropped; live: it was not done yet. */
        struct { int64_t ts; uint32_t thread; uint8_t live; uint64_t id, stack; } release;
        struct { int64_t ts; uint32_t thread; uint64_t id; } free;
        /* event: enum ctx_timer_event (armed, stopped, fired). */
        struct { int64_t ts; uint8_t event; uint64_t id; } timer;
        /* event: enum ct_wire_wait_event; result: ctx_wait's (when woken). */
        struct {
            int64_t ts;
            uint32_t thread;
            uint8_t event;
            int32_t result;
            uint64_t id, wait, stack;
        } wait;
        /* event: enum ct_wire_thread_event; tid and parent thread at start. */
        struct {
            int64_t ts;
            uint32_t thread, parent;
            uint8_t event;
            int64_t tid;
            uint64_t stack;
        } thread;
        struct { int64_t ts, contexts, timers, waiters, threads, rss; } sample;
        struct { uint8_t reason; const char *text; } bye;
        /* The exit check saw this thread (one frame per thread, the trace's exit_threads
         * row). thread: threads.id, 0 if the shim never registered it; state: enum
         * ct_wire_exit_state; syscall: the one it sleeps in, -1 in user space; stopped:
         * 1 suspended by the check, 0 it blocked the check's signal; stack: its current
         * stack (SITE sent before), 0 unknown. */
        struct {
            int64_t ts;
            uint32_t thread;
            int64_t tid;
            uint8_t state;
            int64_t syscall;
            uint8_t stopped;
            uint64_t stack;
        } exit_thread;
        /* The check's scan on one context live at the check (exit_reach's row); reach:
         * enum ct_wire_reach. */
        struct { uint64_t id; uint8_t reach; } exit_reach;
        /* The check is over: after its EXIT_THREAD and EXIT_REACH frames, before BYE.
         * status: the trace's meta.exit_check ("done", "off", "abandoned: ..."); reach:
         * its meta.exit_check_reach ("done", "unknown: ...", NULL when the check did
         * not get that far). A context live at the check with no EXIT_REACH frame was
         * not judged: reachable if reach is not NULL (as the rules read the trace). */
        struct { int64_t ts; const char *status, *reach; } exit_check;
        /* The server dropped frames this client had not begun to receive (it fell more
         * than the server's bound behind): a fresh snapshot follows — SITE, CONTEXT and
         * SITE_COUNTS frames, then SNAPSHOT_END — and replaces the client's picture.
         * Since the last snapshot: events — the event frames dropped (CREATE through
         * THREAD, EXIT_THREAD, EXIT_REACH); frames, bytes — all frames dropped (events,
         * SITE, SAMPLE, SITE_COUNTS). resyncs: how many times this connection was
         * resynced, this one included. */
        struct { int64_t ts; uint64_t events, frames, bytes; uint32_t resyncs; } resync;
        /* What the server counted at one creation stack since the process started
         * (SITE sent before), exact whatever a client skipped: contexts created, freed,
         * live now (in the live tree: created and not freed), and how many of them the
         * findings-so-far flags named (CONTEXT flags: a context counts once the flag is
         * set, and stays counted after it is freed; a flag the verdict withdraws is
         * uncounted). In every snapshot (one per stack with contexts) and with each
         * SAMPLE for the stacks whose counts changed since the last. */
        struct {
            uint64_t stack;
            int64_t created, freed, live;
            int64_t lost_cancel, orphaned_timer, ineffective_deadline;
        } site_counts;
    } u;
};

/* Encode m into out (cap bytes). Returns the frame's length, or 0 if it does not fit
 * (CT_WIRE_MAX_FRAME bytes always suffice) or m->type is not a frame type. */
size_t ct_wire_encode(const struct ct_wire_msg *m, uint8_t *out, size_t cap);

/* ---- decoding: feed bytes, take frames ------------------------------------------------ */

enum ct_wire_status {
    CT_WIRE_OK = 1,          /* a frame was decoded */
    CT_WIRE_MORE = 0,        /* no complete frame buffered: feed more bytes */
    CT_WIRE_EMAGIC = -1,     /* the stream does not start with a ctxtrace HELLO */
    CT_WIRE_EVERSION = -2,   /* a wire version this build does not speak */
    CT_WIRE_ELENGTH = -3,    /* a frame longer than CT_WIRE_MAX_BODY, or whose body
                                does not match its type's fields */
    CT_WIRE_EFIELD = -4,     /* a field out of range, a malformed string, reserved != 0 */
};

typedef struct ct_wire_decoder ct_wire_decoder;

/* A decoder with its buffer (one allocation, ~64 KiB). NULL when out of memory. */
ct_wire_decoder *ct_wire_decoder_new(void);
void ct_wire_decoder_free(ct_wire_decoder *d);

/* Zero-copy input: where to put up to *cap bytes (read(2) into it), then report how
 * many with ct_wire_filled. *cap is never 0 while the decoder has not failed. */
uint8_t *ct_wire_space(ct_wire_decoder *d, size_t *cap);
void ct_wire_filled(ct_wire_decoder *d, size_t n);
/* One read(2) from fd straight into the decoder: the byte count, 0 at end of stream, or
 * -1 with errno (EINTR, EAGAIN: try again). */
ssize_t ct_wire_read(ct_wire_decoder *d, int fd);
/* Copying input: take as many of the len bytes as fit; returns how many. Call
 * ct_wire_next until CT_WIRE_MORE, then feed the rest. */
size_t ct_wire_feed(ct_wire_decoder *d, const void *data, size_t len);

/* The next frame into *m: CT_WIRE_OK, CT_WIRE_MORE, or an error (final). */
int ct_wire_next(ct_wire_decoder *d, struct ct_wire_msg *m);
/* The bytes of the frame the last CT_WIRE_OK came from (valid as m's strings are). */
const uint8_t *ct_wire_raw(const ct_wire_decoder *d, size_t *len);

/* A one-line description of a status, and the names used in JSON for a frame type and
 * a BYE reason. */
const char *ct_wire_strerror(int status);
const char *ct_wire_type_name(enum ct_wire_type t);
const char *ct_wire_bye_name(int reason);

#endif /* CTXTRACE_CORE_WIRE_H */
