/*
 * err_text.h — how the samples print why a context ended.
 *
 * Go prints ctx.Err() as "context canceled" / "context deadline exceeded"; the samples
 * print the same words, so their output reads like the Go programs they port. Any other
 * errno (a cause passed to ctx_cancel_cause, or a group member's error) is printed with
 * strerror().
 */
#ifndef SAMPLES_ERR_TEXT_H
#define SAMPLES_ERR_TEXT_H

#include <string.h>

#include <ctxtrace/ctx.h>

static inline const char *err_text(int err)
{
    switch (err) {
    case 0:
        return "no error";
    case CTX_CANCELED:
        return "context canceled";
    case CTX_DEADLINE_EXCEEDED:
        return "context deadline exceeded";
    default:
        return strerror(err);
    }
}

#endif /* SAMPLES_ERR_TEXT_H */
