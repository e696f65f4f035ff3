/*
 * json.h — a small streaming JSON writer for the report formats: commas, indentation
 * and string escaping (control characters, quotes, backslashes; valid UTF-8 passes
 * through, each byte of an invalid sequence becomes U+FFFD) so the output is always
 * valid JSON whatever a symbol or path contains.
 */
#ifndef CT_CLI_JSON_H
#define CT_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { JSON_MAX_DEPTH = 32 };

struct json {
    FILE *out;
    int depth;
    bool after_key;
    int inline_from;                   /* depth from which containers stay on one line */
    bool nonempty[JSON_MAX_DEPTH + 1]; /* the container at each depth has a member */
};

void json_init(struct json *j, FILE *out);
/* Containers; the _inline variants print their contents on one line. */
void json_object(struct json *j);
void json_object_inline(struct json *j);
void json_array(struct json *j);
void json_array_inline(struct json *j);
void json_end_object(struct json *j);
void json_end_array(struct json *j);
/* A member name; the next value is its value. */
void json_key(struct json *j, const char *key);
/* Values. json_string(NULL) writes null. */
void json_string(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
/* A finite number (6 significant digits); NaN or infinity write null. */
void json_double(struct json *j, double v);
/* An exact decimal with three decimals, from an integer count of thousandths: a time in
 * microseconds from nanoseconds, where %g's 6 digits would round. */
void json_fixed3(struct json *j, int64_t thousandths);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Finish the document with a newline. */
void json_finish(struct json *j);

/* Write s as JSON string contents (no quotes) to out. */
void json_escape(FILE *out, const char *s);

#endif /* CT_CLI_JSON_H */
