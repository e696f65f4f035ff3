/*
 * server.c — a loopback HTTP server with per-request contexts: the server, its backend
 * client, and a client that disconnects mid-request.
 *
 * Scenario: Go's net/http request context. The server gives every request a context
 * derived from the server's (http.Request.Context()); the handler derives a timeout for
 * its call to a backend service. When the client goes away mid-request, net/http
 * notices (a background read returns EOF) and cancels the request's context, and with
 * it every call the handler started — "the context is canceled when the client's
 * connection closes". A handler that manages the contexts itself must do the same.
 *
 * Here, in one process: a server thread listens on 127.0.0.1 (an ephemeral port: only
 * loopback) and serves one connection at a time in its accept loop, which waits with
 * poll() on the listening socket and ctx_fd(server). handle_request() (handler_fixed.c /
 * handler_leaky.c) derives the request context (ctx_with_cancel of the server's) and the
 * backend call's (ctx_with_timeout of the request's, BACKEND_TIMEOUT). The backend call
 * runs on its own thread and waits with poll() on the backend's answer (a timerfd
 * standing in for the backend socket) and on ctx_fd(call); the handler waits with
 * poll() on the client socket (POLLIN/POLLHUP, then read() == 0 means the client left)
 * and on the call's completion. main() is the client: NREQUESTS requests one after the
 * other — 5 to the fast /rates, answered in ~1 ms, and 3 to the slow /report (30 s),
 * where it sends the request and disconnects. Then main() shuts the server down
 * (ctx_cancel_cause on the server context), joins the server and every backend thread,
 * and prints how each request ended.
 *
 * Look at: the "GET /report" lines of the output — why each backend call stopped (the
 * client's disconnect, or only the server's shutdown) — the poll() of the backend call
 * on ctx_fd (line 126), the disconnect detection in client_left() (line 233), and the
 * CLIENT_GONE branch of handle_request() in the variant files. Determinism: the client
 * waits for each answer and the last request is a normal one, so the server has handled
 * every connection before the shutdown; every run creates the same contexts.
 *
 * Long-running mode, for `ctxtrace soak` (tests/soak): `sample_http_server_* --forever`
 * repeats the same 8 requests, pausing 100 ms after each round, until SIGTERM, then
 * shuts down the same way and prints a one-line summary. Finished backend calls are
 * joined after every round; the leaky handler's disconnected calls keep running (until
 * their 5 s timeout), so threads, contexts, timers and fds pile up round after round —
 * what a soak test sees of the lost cancel. Without --forever the program is exactly
 * the 8-request run above.
 *
 * Exit status: 0 when every /rates request got 200 and every /report backend call
 * stopped, 1 otherwise.
 */
#define _GNU_SOURCE
#include "handler.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "err_text.h"
#include "forever.h"

/* ---- the backend client ------------------------------------------------------------ */

enum { CALL_RUNNING, CALL_ANSWERED, CALL_ENDED };

struct backend_call {
    ctx_t *ctx; /* the thread's own reference */
    pthread_t thread;
    int64_t latency; /* how long the backend takes to answer this path */
    int done_fd;     /* eventfd: readable once the call returned */
    /* Written by the call's thread, then published by the release store to `state`. */
    int err, cause;  /* ctx_err/ctx_cause of the call's context when it ended first */
    char reason[64]; /* and its reason */
    _Atomic int state;
};

/* Every backend call started and not yet joined: appended by the server thread,
 * joined by main() at shutdown (and, with --forever, after every round). */
static pthread_mutex_t calls_mu = PTHREAD_MUTEX_INITIALIZER;
static struct backend_call **calls;
static int ncalls, capcalls;

static int64_t backend_latency(const char *path)
{
    return strcmp(path, "/report") == 0 ? 30 * CTX_SECOND : 1 * CTX_MILLISECOND;
}

/* The backend's answer, as an fd: a timerfd that becomes readable after `latency`. */
static int backend_connection(int64_t latency)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd < 0)
        return -1;
    struct itimerspec when = {
        .it_value = {.tv_sec = latency / CTX_SECOND, .tv_nsec = latency % CTX_SECOND},
    };
    if (timerfd_settime(fd, 0, &when, NULL) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int poll_retry(struct pollfd *fds, nfds_t n)
{
    int rc;
    do {
        rc = poll(fds, n, -1);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

/* Go's
 *     select {
 *     case resp := <-backend: …
 *     case <-ctx.Done():      return ctx.Err()
 *     } */
static void *backend_thread(void *arg)
{
    struct backend_call *bc = arg;
    int state = CALL_ENDED;
    int answer_fd = backend_connection(bc->latency);
    int done_fd = ctx_fd(bc->ctx);
    if (answer_fd >= 0 && done_fd >= 0) {
        struct pollfd fds[2] = {{.fd = answer_fd, .events = POLLIN},
                                {.fd = done_fd, .events = POLLIN}};
        if (poll_retry(fds, 2) > 0 && !(fds[1].revents & POLLIN))
            state = CALL_ANSWERED;
    }
    if (answer_fd >= 0)
        close(answer_fd);
    if (state == CALL_ENDED) {
        const char *reason = NULL;
        bc->err = ctx_err(bc->ctx);
        bc->cause = ctx_cause(bc->ctx, &reason);
        snprintf(bc->reason, sizeof bc->reason, "%s",
                 reason ? reason : err_text(bc->cause));
    }
    atomic_store_explicit(&bc->state, state, memory_order_release);
    ctx_unref(bc->ctx); /* the handler owns the call's cancel; this was our reference */
    uint64_t one = 1;
    if (write(bc->done_fd, &one, sizeof one) != sizeof one)
        abort(); /* an eventfd counter of 0 or 1 cannot overflow */
    return NULL;
}

/* Room for one more call (only the server thread adds calls, so it stays there until
 * calls_add). False when out of memory. */
static bool calls_reserve(void)
{
    pthread_mutex_lock(&calls_mu);
    bool ok = true;
    if (ncalls == capcalls) {
        int cap = capcalls ? capcalls * 2 : NREQUESTS;
        struct backend_call **grown = realloc(calls, (size_t)cap * sizeof *grown);
        if (grown != NULL) {
            calls = grown;
            capcalls = cap;
        }
        ok = grown != NULL;
    }
    pthread_mutex_unlock(&calls_mu);
    return ok;
}

static void calls_add(struct backend_call *bc)
{
    pthread_mutex_lock(&calls_mu);
    calls[ncalls++] = bc;
    pthread_mutex_unlock(&calls_mu);
}

struct backend_call *backend_start(ctx_t *call, const char *path)
{
    struct backend_call *bc = calloc(1, sizeof *bc);
    if (bc == NULL)
        return NULL;
    bc->latency = backend_latency(path);
    bc->done_fd = eventfd(0, EFD_CLOEXEC);
    if (bc->done_fd < 0) {
        free(bc);
        return NULL;
    }
    if (!calls_reserve()) {
        close(bc->done_fd);
        free(bc);
        errno = ENOMEM;
        return NULL;
    }
    bc->ctx = ctx_ref(call);
    int rc = pthread_create(&bc->thread, NULL, backend_thread, bc);
    if (rc != 0) {
        ctx_unref(bc->ctx);
        close(bc->done_fd);
        free(bc);
        errno = rc;
        return NULL;
    }
    calls_add(bc);
    return bc;
}

void backend_wait(struct backend_call *bc)
{
    struct pollfd p = {.fd = bc->done_fd, .events = POLLIN};
    poll_retry(&p, 1);
}

/* ---- the server -------------------------------------------------------------------- */

int read_request(int fd, struct outcome *out)
{
    char buf[256];
    size_t len = 0;
    while (len < sizeof buf - 1 && memchr(buf, '\n', len) == NULL) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 ? EPROTO : errno;
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (sscanf(buf, "GET %31s HTTP/1.", out->path) != 1)
        return EPROTO;
    return 0;
}

/* The client's socket is readable: more request bytes (ignored), or EOF — gone. */
static bool client_left(int fd)
{
    char buf[256];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    }
}

enum wait_result wait_backend_or_hangup(int fd, struct backend_call *bc)
{
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN},
                            {.fd = bc->done_fd, .events = POLLIN}};
    for (;;) {
        if (poll_retry(fds, 2) < 0 || (fds[1].revents & POLLIN))
            return BACKEND_DONE;
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && client_left(fd))
            return CLIENT_GONE;
    }
}

static void send_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client is gone: nothing more to do */
        text += n;
        len -= (size_t)n;
    }
}

void respond(int fd, struct backend_call *bc, struct outcome *out)
{
    char msg[256];
    if (atomic_load_explicit(&bc->state, memory_order_acquire) == CALL_ANSWERED) {
        out->status = 200;
        snprintf(msg, sizeof msg, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                                  "EUR/USD 1.08\r\n");
    } else {
        out->status = bc->err == CTX_DEADLINE_EXCEEDED ? 504 : 503;
        snprintf(msg, sizeof msg, "HTTP/1.0 %d %s\r\n\r\n%s\r\n", out->status,
                 out->status == 504 ? "Gateway Timeout" : "Service Unavailable",
                 err_text(bc->err));
    }
    send_all(fd, msg);
}

struct server {
    ctx_t *ctx;
    int listen_fd;
    struct outcome outcomes[NREQUESTS];
    int handled;
};

static int server_listen(struct server *srv, struct sockaddr_in *addr)
{
    srv->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv->listen_fd < 0)
        return errno;
    *addr = (struct sockaddr_in){.sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = 0};
    socklen_t len = sizeof *addr;
    if (bind(srv->listen_fd, (struct sockaddr *)addr, sizeof *addr) != 0 ||
        listen(srv->listen_fd, NREQUESTS) != 0 ||
        getsockname(srv->listen_fd, (struct sockaddr *)addr, &len) != 0)
        return errno;
    return 0;
}

/* The accept loop: until the server's context is done. */
static void *server_thread(void *arg)
{
    struct server *srv = arg;
    int done_fd = ctx_fd(srv->ctx);
    if (done_fd < 0)
        return NULL;
    struct pollfd fds[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                            {.fd = done_fd, .events = POLLIN}};
    for (;;) {
        if (poll_retry(fds, 2) < 0 || (fds[1].revents & POLLIN))
            return NULL; /* shutting down */
        if (!(fds[0].revents & POLLIN))
            continue;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        /* With --forever the outcomes of each round overwrite the last round's. */
        handle_request(srv->ctx, fd, &srv->outcomes[srv->handled++ % NREQUESTS]);
        close(fd);
    }
}

/* ---- the client -------------------------------------------------------------------- */

static int client_connect(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A safety net: no answer within 2 s is a failure, not a hang. */
    struct timeval patience = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One request; `impatient` clients send it and disconnect without waiting. Returns the
 * HTTP status received, 0 when the client did not wait, -1 on error. */
static int client_request(const struct sockaddr_in *addr, const char *path,
                          bool impatient)
{
    int fd = client_connect(addr);
    if (fd < 0)
        return -1;
    char req[64];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
    send_all(fd, req);
    int status = 0;
    if (!impatient) {
        char resp[512];
        size_t len = 0;
        while (len < sizeof resp - 1) { /* the server closes after its answer */
            ssize_t n = recv(fd, resp + len, sizeof resp - 1 - len, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            len += (size_t)n;
        }
        resp[len] = '\0';
        if (sscanf(resp, "HTTP/1.0 %d", &status) != 1)
            status = -1;
    }
    close(fd); /* for an impatient client: the disconnect mid-request */
    return status;
}

/* --forever: join and free the calls that have returned. Called between rounds: the
 * round's last request has been answered, so the server has finished every request of
 * the round and no handler uses these calls any more. */
static void reap_returned_calls(void)
{
    pthread_mutex_lock(&calls_mu);
    int kept = 0;
    for (int i = 0; i < ncalls; i++) {
        struct backend_call *bc = calls[i];
        if (atomic_load_explicit(&bc->state, memory_order_acquire) == CALL_RUNNING) {
            calls[kept++] = bc;
            continue;
        }
        pthread_join(bc->thread, NULL);
        close(bc->done_fd);
        free(bc);
    }
    ncalls = kept;
    pthread_mutex_unlock(&calls_mu);
}

static const struct {
    const char *path;
    bool impatient;
} plan[NREQUESTS] = {
    {"/rates", false},  {"/rates", false}, {"/report", true}, {"/rates", false},
    {"/report", true},  {"/rates", false}, {"/report", true}, {"/rates", false},
};

/* --forever: rounds of the plan until SIGTERM (blocked in every thread, taken here).
 * Returns true when every normal request got 200. */
static bool serve_until_sigterm(const struct sockaddr_in *addr, const sigset_t *term)
{
    const struct timespec pause = {.tv_nsec = 100 * 1000000L};
    long rounds = 0, asked = 0, answered = 0;
    do {
        for (int i = 0; i < NREQUESTS; i++) {
            int status = client_request(addr, plan[i].path, plan[i].impatient);
            asked += !plan[i].impatient;
            answered += !plan[i].impatient && status == 200;
        }
        rounds++;
        reap_returned_calls();
    } while (sigtimedwait(term, NULL, &pause) != SIGTERM);
    printf("server: %ld rounds of %d requests until SIGTERM: %ld of %ld normal requests "
           "answered\n",
           rounds, NREQUESTS, answered, asked);
    return answered == asked;
}

int main(int argc, char **argv)
{
    sigset_t term;
    bool forever = forever_mode(argc, argv, &term);

    static struct server srv;
    struct sockaddr_in addr;
    srv.ctx = ctx_with_cancel(ctx_background());
    if (srv.ctx == NULL) {
        perror("ctx_with_cancel");
        return 1;
    }
    int rc = server_listen(&srv, &addr);
    pthread_t thread;
    if (rc == 0)
        rc = pthread_create(&thread, NULL, server_thread, &srv);
    if (rc != 0) {
        fprintf(stderr, "starting the server: %s\n", strerror(rc));
        return 1;
    }
    printf("server: listening on 127.0.0.1 (ephemeral port)\n");

    int client_status[NREQUESTS];
    bool ok = true;
    if (forever) {
        ok = serve_until_sigterm(&addr, &term);
    } else {
        for (int i = 0; i < NREQUESTS; i++)
            client_status[i] = client_request(&addr, plan[i].path, plan[i].impatient);
    }

    ctx_cancel_cause(srv.ctx, ESHUTDOWN, "server shutting down");
    pthread_join(thread, NULL);
    for (int i = 0; i < ncalls; i++)
        pthread_join(calls[i]->thread, NULL);
    close(srv.listen_fd);

    if (!forever) {
        ok = srv.handled == NREQUESTS;
        int answered = 0, gone = 0, impatient = 0;
        for (int i = 0; i < NREQUESTS; i++)
            impatient += plan[i].impatient;
        for (int i = 0; i < srv.handled; i++) {
            const struct outcome *o = &srv.outcomes[i];
            const struct backend_call *bc = o->call;
            printf("  %d GET %-8s ", i + 1, o->path);
            if (bc == NULL) {
                printf("failed before the backend call\n");
                ok = false;
            } else if (!o->client_gone) {
                printf("-> %d (client got %d)\n", o->status, client_status[i]);
                answered += o->status == 200 && client_status[i] == 200;
            } else {
                printf("client disconnected; backend call stopped: %s (%s)\n",
                       err_text(bc->err), bc->reason);
                gone += bc->state == CALL_ENDED && bc->err == CTX_CANCELED;
            }
        }
        printf("server: %d requests: %d answered, %d clients disconnected mid-request\n",
               srv.handled, answered, gone);
        ok = ok && answered == NREQUESTS - impatient && gone == impatient;
    }

    for (int i = 0; i < ncalls; i++) {
        close(calls[i]->done_fd);
        free(calls[i]);
    }
    free(calls);
    ctx_release(srv.ctx);
    printf("server: shut down\n");
    return ok ? 0 : 1;
}
