/*
 * pb.h — the protocol buffers wire format, encoding only, for `ctxtrace export --format
 * pprof` (profile.proto). A message is built in a growable byte buffer; a nested message
 * is built in a buffer of its own and appended as a length-delimited field.
 *
 * Wire types used: 0 (varint: uint64, int64, bool, enums) and 2 (length-delimited:
 * strings, bytes, nested messages, packed repeated varints). Field numbers and types are
 * the caller's (export_pprof.c follows profile.proto).
 */
#ifndef CT_CLI_PB_H
#define CT_CLI_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pb {
    uint8_t *data;
    size_t len, cap;
    bool oom; /* an allocation failed: the buffer is incomplete (checked once, at the end) */
};

void pb_free(struct pb *b);

/* Field `field` as a varint (int64 values are their two's complement, as proto3's int64). */
void pb_uint(struct pb *b, int field, uint64_t v);
/* Field `field` as length-delimited bytes: a string, or a nested message's encoding. */
void pb_bytes(struct pb *b, int field, const void *data, size_t len);
void pb_string(struct pb *b, int field, const char *s);
void pb_message(struct pb *b, int field, const struct pb *msg);
/* Fields encoded in another buffer, appended as they are (a message's fields may come
 * in any order). */
void pb_append(struct pb *b, const struct pb *fields);
/* A packed repeated varint field (skipped when n is 0, as proto3 does). */
void pb_packed(struct pb *b, int field, const uint64_t *v, size_t n);

#endif /* CT_CLI_PB_H */
