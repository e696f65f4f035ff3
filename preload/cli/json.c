/*
 * json.c — the streaming JSON writer of json.h.
 */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *out)
{
    memset(j, 0, sizeof *j);
    j->out = out;
    j->inline_from = JSON_MAX_DEPTH + 1;
}

static void newline(struct json *j)
{
    if (j->depth >= j->inline_from)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Before a value or a key: the separator and the indentation. */
static void before(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    if (j->nonempty[j->depth])
        fputs(j->depth >= j->inline_from ? ", " : ",", j->out);
    j->nonempty[j->depth] = true;
    newline(j);
}

static void jopen(struct json *j, char c, bool one_line)
{
    before(j);
    fputc(c, j->out);
    if (j->depth < JSON_MAX_DEPTH)
        j->depth++;
    j->nonempty[j->depth] = false;
    if (one_line && j->depth < j->inline_from)
        j->inline_from = j->depth;
}

static void jclose(struct json *j, char c)
{
    bool had = j->nonempty[j->depth], was_inline = j->depth >= j->inline_from;
    if (j->depth > 0)
        j->depth--;
    if (had && !was_inline)
        newline(j);
    if (j->depth < j->inline_from)
        j->inline_from = JSON_MAX_DEPTH + 1;
    fputc(c, j->out);
}

void json_object(struct json *j) { jopen(j, '{', false); }
void json_object_inline(struct json *j) { jopen(j, '{', true); }
void json_array(struct json *j) { jopen(j, '[', false); }
void json_array_inline(struct json *j) { jopen(j, '[', true); }
void json_end_object(struct json *j) { jclose(j, '}'); }
void json_end_array(struct json *j) { jclose(j, ']'); }

void json_key(struct json *j, const char *key)
{
    before(j);
    fputc('"', j->out);
    json_escape(j->out, key);
    fputs("\": ", j->out);
    j->after_key = true;
}

void json_string(struct json *j, const char *s)
{
    if (s == NULL) {
        json_null(j);
        return;
    }
    before(j);
    fputc('"', j->out);
    json_escape(j->out, s);
    fputc('"', j->out);
}

void json_int(struct json *j, int64_t v)
{
    before(j);
    fprintf(j->out, "%" PRId64, v);
}

void json_double(struct json *j, double v)
{
    if (!isfinite(v)) { /* JSON has no NaN or infinity */
        json_null(j);
        return;
    }
    before(j);
    fprintf(j->out, "%.6g", v);
}

void json_fixed3(struct json *j, int64_t thousandths)
{
    before(j);
    uint64_t mag = thousandths < 0 ? -(uint64_t)thousandths : (uint64_t)thousandths;
    fprintf(j->out, "%s%" PRIu64 ".%03u", thousandths < 0 ? "-" : "", mag / 1000,
            (unsigned)(mag % 1000));
}

void json_bool(struct json *j, bool v)
{
    before(j);
    fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j)
{
    before(j);
    fputs("null", j->out);
}

void json_finish(struct json *j)
{
    fputc('\n', j->out);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c >= 0xc2 && c <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

void json_escape(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s != '\0') {
        unsigned char c = *s;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\b') {
            fputs("\\b", out);
        } else if (c == '\f') {
            fputs("\\f", out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc(c, out);
        } else {
            size_t n = utf8_len(s); /* reads stop at the NUL: it is never a continuation */
            if (n == 0) {
                fputs("\\ufffd", out);
                n = 1;
            } else {
                fwrite(s, 1, n, out);
            }
            s += n;
            continue;
        }
        s++;
    }
}
