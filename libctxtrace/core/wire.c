/*
 * wire.c — the live socket's frames (see ctxtrace/core/wire.h and docs/wire.md).
 *
 * Each frame type is described once, as a table of fields (where the field lives in
 * struct ct_wire_msg, how it is encoded, the largest value an enumeration may take).
 * The encoder and the decoder both walk that table, so they cannot disagree, and every
 * check the decoder makes — exact body length, enumeration ranges, string shape — is
 * made in one place for every frame type.
 */
#include <ctxtrace/core/wire.h>

#include <ctxtrace/core/verdict.h>
#include <ctxtrace/tracer.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum field_kind { F_U8, F_U32, F_I32, F_U64, F_I64, F_STR };

struct field {
    uint16_t offset;   /* in struct ct_wire_msg */
    uint8_t kind;      /* enum field_kind */
    uint8_t max;       /* F_U8: the largest valid value */
};

#define AT(member) ((uint16_t)offsetof(struct ct_wire_msg, u.member))
#define U8(member, max_) {AT(member), F_U8, (max_)}
#define U32(member) {AT(member), F_U32, 0}
#define I32(member) {AT(member), F_I32, 0}
#define U64(member) {AT(member), F_U64, 0}
#define I64(member) {AT(member), F_I64, 0}
#define STR(member) {AT(member), F_STR, 0}

static const struct field hello_fields[] = {
    U64(hello.magic), U32(hello.version), U32(hello.pid), I64(hello.now), STR(hello.program)};
static const struct field site_fields[] = {
    U64(site.stack), U32(site.line), STR(site.module), STR(site.function), STR(site.file)};
static const struct field context_fields[] = {
    U64(context.id), U64(context.parent), U64(context.stack),
    U8(context.kind, CTX_KIND_DEADLINE), U8(context.done, 1),
    U8(context.why, CTX_WHY_DEADLINE), U8(context.flags, CT_WIRE_FLAGS_ALL),
    U32(context.thread), I32(context.err), I64(context.created), I64(context.deadline),
    I64(context.canceled), I64(context.origin), I64(context.released), STR(context.reason)};
static const struct field snapshot_end_fields[] = {U32(snapshot_end.contexts)};
static const struct field create_fields[] = {
    I64(create.ts), U32(create.thread), U8(create.kind, CTX_KIND_DEADLINE), U64(create.id),
    U64(create.parent), U64(create.stack), I64(create.requested), I64(create.deadline)};
static const struct field cancel_fields[] = {
    I64(cancel.ts), U32(cancel.thread), U8(cancel.why, CTX_WHY_DEADLINE), I32(cancel.err),
    I32(cancel.cause), U64(cancel.id), U64(cancel.stack), I64(cancel.origin),
    STR(cancel.reason)};
static const struct field release_fields[] = {
    I64(release.ts), U32(release.thread), U8(release.live, 1), U64(release.id),
    U64(release.stack)};
static const struct field free_fields[] = {I64(free.ts), U32(free.thread), U64(free.id)};
static const struct field timer_fields[] = {
    I64(timer.ts), U8(timer.event, CTX_TIMER_FIRED), U64(timer.id)};
static const struct field wait_fields[] = {
    I64(wait.ts), U32(wait.thread), U8(wait.event, CT_WIRE_WAIT_FD), I32(wait.result),
    U64(wait.id), U64(wait.wait), U64(wait.stack)};
static const struct field thread_fields[] = {
    I64(thread.ts), U32(thread.thread), U32(thread.parent),
    U8(thread.event, CT_WIRE_THREAD_EXIT), I64(thread.tid), U64(thread.stack)};
static const struct field sample_fields[] = {
    I64(sample.ts), I64(sample.contexts), I64(sample.timers), I64(sample.waiters),
    I64(sample.threads), I64(sample.rss)};
static const struct field bye_fields[] = {U8(bye.reason, CT_WIRE_BYE_COUNT - 1), STR(bye.text)};
static const struct field exit_thread_fields[] = {
    I64(exit_thread.ts), U32(exit_thread.thread), I64(exit_thread.tid),
    U8(exit_thread.state, CT_WIRE_EXIT_STATE_COUNT - 1), I64(exit_thread.syscall),
    U8(exit_thread.stopped, 1), U64(exit_thread.stack)};
static const struct field exit_reach_fields[] = {
    U64(exit_reach.id), U8(exit_reach.reach, CT_WIRE_REACH_COUNT - 1)};
static const struct field exit_check_fields[] = {
    I64(exit_check.ts), STR(exit_check.status), STR(exit_check.reach)};
static const struct field resync_fields[] = {
    I64(resync.ts), U64(resync.events), U64(resync.frames), U64(resync.bytes),
    U32(resync.resyncs)};
static const struct field site_counts_fields[] = {
    U64(site_counts.stack), I64(site_counts.created), I64(site_counts.freed),
    I64(site_counts.live), I64(site_counts.lost_cancel), I64(site_counts.orphaned_timer),
    I64(site_counts.ineffective_deadline)};

_Static_assert(CT_WIRE_REACH_UNREACHABLE == (int)CT_SCAN_UNREACHABLE &&
                   CT_WIRE_REACH_REACHABLE == (int)CT_SCAN_REACHABLE &&
                   CT_WIRE_REACH_STUCK == (int)CT_SCAN_STUCK,
               "EXIT_REACH carries the scan's result as is");

struct frame_type {
    const char *name;
    const struct field *fields;
    size_t nfields;
};

#define TYPE(name, f) {name, f, sizeof f / sizeof f[0]}
static const struct frame_type types[CT_WIRE_TYPE_COUNT] = {
    [CT_WIRE_HELLO] = TYPE("hello", hello_fields),
    [CT_WIRE_SITE] = TYPE("site", site_fields),
    [CT_WIRE_CONTEXT] = TYPE("context", context_fields),
    [CT_WIRE_SNAPSHOT_END] = TYPE("snapshot_end", snapshot_end_fields),
    [CT_WIRE_CREATE] = TYPE("create", create_fields),
    [CT_WIRE_CANCEL] = TYPE("cancel", cancel_fields),
    [CT_WIRE_RELEASE] = TYPE("release", release_fields),
    [CT_WIRE_FREE] = TYPE("free", free_fields),
    [CT_WIRE_TIMER] = TYPE("timer", timer_fields),
    [CT_WIRE_WAIT] = TYPE("wait", wait_fields),
    [CT_WIRE_THREAD] = TYPE("thread", thread_fields),
    [CT_WIRE_SAMPLE] = TYPE("sample", sample_fields),
    [CT_WIRE_BYE] = TYPE("bye", bye_fields),
    [CT_WIRE_EXIT_THREAD] = TYPE("exit_thread", exit_thread_fields),
    [CT_WIRE_EXIT_REACH] = TYPE("exit_reach", exit_reach_fields),
    [CT_WIRE_EXIT_CHECK] = TYPE("exit_check", exit_check_fields),
    [CT_WIRE_RESYNC] = TYPE("resync", resync_fields),
    [CT_WIRE_SITE_COUNTS] = TYPE("site_counts", site_counts_fields),
};

static const struct frame_type *type_of(uint32_t t)
{
    return t > 0 && t < CT_WIRE_TYPE_COUNT ? &types[t] : NULL;
}

/* ---- little-endian primitives ---------------------------------------------------------- */

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static const int width[] = {[F_U8] = 1, [F_U32] = 4, [F_I32] = 4, [F_U64] = 8, [F_I64] = 8};

/* ---- encoding ------------------------------------------------------------------------- */

size_t ct_wire_encode(const struct ct_wire_msg *m, uint8_t *out, size_t cap)
{
    const struct frame_type *t = type_of((uint32_t)m->type);
    if (t == NULL)
        return 0;
    const char *base = (const char *)m;
    size_t n = CT_WIRE_HEADER;
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        const void *src = base + f->offset;
        uint64_t v = 0;
        switch ((enum field_kind)f->kind) {
        case F_U8: v = *(const uint8_t *)src; break;
        case F_U32: v = *(const uint32_t *)src; break;
        case F_I32: v = (uint32_t) * (const int32_t *)src; break;
        case F_U64: v = *(const uint64_t *)src; break;
        case F_I64: v = (uint64_t) * (const int64_t *)src; break;
        case F_STR: {
            const char *s = *(const char *const *)src;
            size_t len = s != NULL ? strnlen(s, CT_WIRE_MAX_STRING - 1) + 1 : 0;
            if (n + 2 + len > cap)
                return 0;
            put_le(out + n, len, 2);
            if (len > 0) {
                memcpy(out + n + 2, s, len - 1);
                out[n + 2 + len - 1] = '\0';
            }
            n += 2 + len;
            continue;
        }
        }
        int w = width[f->kind];
        if (n + (size_t)w > cap)
            return 0;
        put_le(out + n, v, w);
        n += (size_t)w;
    }
    put_le(out, n - CT_WIRE_HEADER, 4);
    put_le(out + 4, (uint64_t)m->type, 2);
    put_le(out + 6, 0, 2);
    return n;
}

/* ---- decoding ------------------------------------------------------------------------- */

enum { BUF_BYTES = 64 * 1024 }; /* several frames per read(2), and room for the largest */
_Static_assert(BUF_BYTES >= 2 * CT_WIRE_MAX_FRAME, "the buffer holds the largest frame");

struct ct_wire_decoder {
    size_t start, end;  /* unconsumed bytes are buf[start, end) */
    int status;         /* < 0 once failed */
    bool hello_seen;
    const uint8_t *raw; /* the last decoded frame */
    size_t raw_len;
    uint8_t buf[BUF_BYTES];
};

ct_wire_decoder *ct_wire_decoder_new(void)
{
    ct_wire_decoder *d = malloc(sizeof *d);
    if (d != NULL) {
        d->start = d->end = 0;
        d->status = CT_WIRE_MORE;
        d->hello_seen = false;
        d->raw = NULL;
        d->raw_len = 0;
    }
    return d;
}

void ct_wire_decoder_free(ct_wire_decoder *d)
{
    free(d);
}

uint8_t *ct_wire_space(ct_wire_decoder *d, size_t *cap)
{
    if (d->status < 0) {
        *cap = 0;
        return NULL;
    }
    if (d->start > 0) {
        memmove(d->buf, d->buf + d->start, d->end - d->start);
        d->end -= d->start;
        d->start = 0;
    }
    *cap = BUF_BYTES - d->end;
    return d->buf + d->end;
}

void ct_wire_filled(ct_wire_decoder *d, size_t n)
{
    d->end += n;
}

ssize_t ct_wire_read(ct_wire_decoder *d, int fd)
{
    size_t cap;
    uint8_t *space = ct_wire_space(d, &cap);
    if (cap == 0)
        return 0; /* failed: nothing more will be taken */
    ssize_t n = read(fd, space, cap);
    if (n > 0)
        ct_wire_filled(d, (size_t)n);
    return n;
}

size_t ct_wire_feed(ct_wire_decoder *d, const void *data, size_t len)
{
    size_t cap;
    uint8_t *p = ct_wire_space(d, &cap);
    size_t n = len < cap ? len : cap;
    if (n > 0)
        memcpy(p, data, n);
    ct_wire_filled(d, n);
    return n;
}

static int fail(ct_wire_decoder *d, int status)
{
    d->status = status;
    return status;
}

/* Decode body[0, len) as frame type t into m; 0 or a status. */
static int decode_body(const struct frame_type *t, const uint8_t *body, size_t len,
                       struct ct_wire_msg *m)
{
    char *base = (char *)m;
    size_t n = 0;
    for (size_t i = 0; i < t->nfields; i++) {
        const struct field *f = &t->fields[i];
        void *dst = base + f->offset;
        if (f->kind == F_STR) {
            if (len - n < 2)
                return CT_WIRE_ELENGTH;
            size_t slen = (size_t)get_le(body + n, 2);
            n += 2;
            if (slen > len - n)
                return CT_WIRE_ELENGTH;
            const char *s = (const char *)body + n;
            if (slen > CT_WIRE_MAX_STRING ||
                (slen > 0 && (s[slen - 1] != '\0' || memchr(s, '\0', slen - 1) != NULL)))
                return CT_WIRE_EFIELD;
            *(const char **)dst = slen > 0 ? s : NULL;
            n += slen;
            continue;
        }
        size_t w = (size_t)width[f->kind];
        if (len - n < w)
            return CT_WIRE_ELENGTH;
        uint64_t v = get_le(body + n, (int)w);
        n += w;
        switch ((enum field_kind)f->kind) {
        case F_U8:
            if (v > f->max)
                return CT_WIRE_EFIELD;
            *(uint8_t *)dst = (uint8_t)v;
            break;
        case F_U32: *(uint32_t *)dst = (uint32_t)v; break;
        case F_I32: *(int32_t *)dst = (int32_t)(uint32_t)v; break;
        case F_U64: *(uint64_t *)dst = v; break;
        case F_I64: *(int64_t *)dst = (int64_t)v; break;
        case F_STR: break;
        }
    }
    return n == len ? 0 : CT_WIRE_ELENGTH;
}

int ct_wire_next(ct_wire_decoder *d, struct ct_wire_msg *m)
{
    for (;;) {
        if (d->status < 0)
            return d->status;
        const uint8_t *p = d->buf + d->start;
        size_t avail = d->end - d->start;
        if (avail < CT_WIRE_HEADER)
            return CT_WIRE_MORE;
        uint64_t len = get_le(p, 4);
        uint32_t type = (uint32_t)get_le(p + 4, 2);
        /* Refuse what cannot be a ctxtrace stream as soon as its header is in. */
        if (!d->hello_seen && type != CT_WIRE_HELLO)
            return fail(d, CT_WIRE_EMAGIC);
        if (get_le(p + 6, 2) != 0)
            return fail(d, CT_WIRE_EFIELD);
        if (len > CT_WIRE_MAX_BODY)
            return fail(d, CT_WIRE_ELENGTH);
        if (avail < CT_WIRE_HEADER + len)
            return CT_WIRE_MORE;
        size_t total = CT_WIRE_HEADER + (size_t)len;
        const struct frame_type *t = type_of(type);
        if (t == NULL) { /* a later version's frame: skip it */
            d->start += total;
            continue;
        }
        /* HELLO begins with the magic and the version in every version, so a stream
         * of another version is told apart from a malformed one. */
        if (type == CT_WIRE_HELLO) {
            if (len < 12 || get_le(p + CT_WIRE_HEADER, 8) != CT_WIRE_MAGIC)
                return fail(d, CT_WIRE_EMAGIC);
            uint64_t version = get_le(p + CT_WIRE_HEADER + 8, 4);
            if (version < CT_WIRE_VERSION_MIN || version > CT_WIRE_VERSION)
                return fail(d, CT_WIRE_EVERSION);
        }
        memset(m, 0, sizeof *m);
        m->type = (enum ct_wire_type)type;
        int rc = decode_body(t, p + CT_WIRE_HEADER, (size_t)len, m);
        if (rc != 0)
            return fail(d, rc);
        if (type == CT_WIRE_HELLO)
            d->hello_seen = true;
        d->raw = p;
        d->raw_len = total;
        d->start += total;
        return CT_WIRE_OK;
    }
}

const uint8_t *ct_wire_raw(const ct_wire_decoder *d, size_t *len)
{
    *len = d->raw_len;
    return d->raw;
}

const char *ct_wire_strerror(int status)
{
    switch (status) {
    case CT_WIRE_OK: return "a frame";
    case CT_WIRE_MORE: return "an incomplete frame";
    case CT_WIRE_EMAGIC: return "not a ctxtrace live stream (no HELLO with the magic)";
    case CT_WIRE_EVERSION: return "a wire format version this build does not read";
    case CT_WIRE_ELENGTH: return "a frame whose length does not match its type";
    case CT_WIRE_EFIELD: return "a frame with a field out of range";
    default: return "an unknown decoder status";
    }
}

const char *ct_wire_type_name(enum ct_wire_type t)
{
    const struct frame_type *ft = type_of((uint32_t)t);
    return ft != NULL ? ft->name : "unknown";
}

const char *ct_wire_bye_name(int reason)
{
    static const char *const names[CT_WIRE_BYE_COUNT] = {
        [CT_WIRE_BYE_EXIT] = "exit",         [CT_WIRE_BYE_EXEC] = "exec",
        [CT_WIRE_BYE_SLOW] = "slow",         [CT_WIRE_BYE_BUSY] = "busy",
        [CT_WIRE_BYE_PROTOCOL] = "protocol",
    };
    return reason >= 0 && reason < CT_WIRE_BYE_COUNT ? names[reason] : "unknown";
}
