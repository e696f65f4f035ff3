/*
 * handler.h — the request handler of the http_server sample.
 *
 * server.c is the same in both variants: a loopback HTTP/1.0 server, its accept loop,
 * the backend client, and a client that makes NREQUESTS requests. What differs is
 * handle_request(), the code that owns each request's contexts: it lives in
 * handler_fixed.c and handler_leaky.c, so `diff handler_fixed.c handler_leaky.c` shows
 * the bug.
 */
#ifndef HTTP_SERVER_HANDLER_H
#define HTTP_SERVER_HANDLER_H

#include <stdbool.h>

#include <ctxtrace/ctx.h>

/* The client makes this many requests: every run creates one request context and one
 * backend-call context for each. */
#define NREQUESTS 8
/* A backend call may take this long: far longer than the run, so it never fires. */
#define BACKEND_TIMEOUT (5 * CTX_SECOND)

/* A backend call running on its own thread (server.c). */
struct backend_call;

/* What happened to one request, filled in by handle_request(). */
struct outcome {
    char path[32];
    int status;       /* the HTTP status sent; 0 when the client was gone */
    bool client_gone; /* the client disconnected before the answer */
    struct backend_call *call; /* joined and reported by main() at shutdown */
};

/* Serve one connection `fd` (closed by the caller) of the server whose context is
 * `server`: defined by handler_fixed.c or handler_leaky.c. */
void handle_request(ctx_t *server, int fd, struct outcome *out);

/* Read the request line into out->path: 0, or an errno. */
int read_request(int fd, struct outcome *out);

/* Start the backend call for `path` on its own thread, under `call` (the thread takes
 * its own reference; the handler still owns `call`). NULL with errno on failure.
 * The backend thread waits with poll() on the backend's answer and ctx_fd(call). */
struct backend_call *backend_start(ctx_t *call, const char *path);

/* Wait with poll() on the client socket and the backend call: BACKEND_DONE when the
 * call returned, CLIENT_GONE when the client disconnected first (read gave 0). */
enum wait_result { BACKEND_DONE, CLIENT_GONE };
enum wait_result wait_backend_or_hangup(int fd, struct backend_call *bc);

/* Block until the backend call has returned. */
void backend_wait(struct backend_call *bc);

/* Answer the client from the call's result: 200 with the backend's answer, or 503/504
 * when the call's context ended first. Sets out->status. */
void respond(int fd, struct backend_call *bc, struct outcome *out);

#endif /* HTTP_SERVER_HANDLER_H */
