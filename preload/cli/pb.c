/*
 * pb.c — protocol buffers encoding (see pb.h).
 *
 * A varint is 7 bits a byte, least significant group first, the high bit set on every
 * byte but the last; a field's key is (field << 3) | wire type, itself a varint.
 */
#include "pb.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2, VARINT_MAX = 10 };

void pb_free(struct pb *b)
{
    free(b->data);
    *b = (struct pb){0};
}

static bool reserve(struct pb *b, size_t more)
{
    if (b->oom)
        return false;
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

static void varint(struct pb *b, uint64_t v)
{
    if (!reserve(b, VARINT_MAX))
        return;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        b->data[b->len++] = byte | (v ? 0x80 : 0);
    } while (v != 0);
}

static void key(struct pb *b, int field, int wire)
{
    assert(field > 0);
    varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void pb_uint(struct pb *b, int field, uint64_t v)
{
    key(b, field, WIRE_VARINT);
    varint(b, v);
}

void pb_bytes(struct pb *b, int field, const void *data, size_t len)
{
    key(b, field, WIRE_LEN);
    varint(b, len);
    if (len > 0 && reserve(b, len)) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
}

void pb_string(struct pb *b, int field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

void pb_message(struct pb *b, int field, const struct pb *msg)
{
    if (msg->oom)
        b->oom = true;
    pb_bytes(b, field, msg->data, msg->len);
}

void pb_append(struct pb *b, const struct pb *fields)
{
    if (fields->oom)
        b->oom = true;
    if (fields->len > 0 && reserve(b, fields->len)) {
        memcpy(b->data + b->len, fields->data, fields->len);
        b->len += fields->len;
    }
}

void pb_packed(struct pb *b, int field, const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i];
        do {
            len++;
            x >>= 7;
        } while (x != 0);
    }
    key(b, field, WIRE_LEN);
    varint(b, len);
    for (size_t i = 0; i < n; i++)
        varint(b, v[i]);
}
