/*
 * server.c — a loopback HTTP-style server that SIGTERM stops cleanly, through
 * ctx_with_signals (Go's signal.NotifyContext).
 *
 * Scenario: the standard shape of a Go server's main —
 *
 *     ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
 *     defer stop()
 *     go srv.ListenAndServe()
 *     <-ctx.Done()                       // SIGTERM: stop accepting
 *     stop()                             // a second signal kills, as by default
 *     sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
 *     defer cancel()
 *     srv.Shutdown(sctx)                 // let the requests in flight finish, up to 5 s
 *
 * In C the obvious way — ctx_cancel() from a SIGTERM handler — can deadlock (the handler
 * may interrupt a thread holding that context's lock); ctx_with_signals cancels on a
 * library thread instead.
 *
 * Here, in one process: main() watches SIGTERM and SIGINT with ctx_with_signals and
 * starts the server thread, which accepts on 127.0.0.1 (an ephemeral port) while it
 * polls the listening socket and ctx_fd() of the signal context. Each connection is
 * handled in an errgroup (ctx_group) limited to MAX_ACTIVE requests at once
 * (ctx_group_set_limit); each request runs under ctx_with_timeout_cause of the serving
 * context (REQUEST_TIMEOUT, cause "request deadline"). The client thread sends NFAST
 * quick requests one after the other, then NSLOW slow ones at once and, once the server
 * has started all of them, sends SIGTERM to the process. The server stops accepting;
 * main() sees the signal context done, releases it (the previous SIGTERM handling is
 * back), checks that new connections are refused, and drains the requests in flight under
 * a GRACE deadline: ctx_after_func on the grace context would cancel the serving context
 * (and every request) if the grace period ran out. The slow requests finish well within
 * it, ctx_group_wait joins them, and everything is released: under `ctxtrace run` the
 * trace has no finding (tests/findings).
 *
 * Determinism: the client waits for each quick answer, and sends SIGTERM only once the
 * server counts NSLOW slow requests started; every run creates the same contexts.
 *
 * Exit status: 0 when every request got 200, the shutdown came from SIGTERM, new
 * connections were refused after it and nothing was cut short; 1 otherwise.
 */
#define _GNU_SOURCE
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
#include <sys/socket.h>
#include <unistd.h>

#include <ctxtrace/ctx.h>

#include "err_text.h"

enum {
    NFAST = 8,      /* quick requests, one after the other */
    NSLOW = 2,      /* slow requests in flight when SIGTERM arrives */
    MAX_ACTIVE = 4, /* requests served at once (ctx_group_set_limit) */
    FAST_MS = 2,    /* work per request */
    SLOW_MS = 150,
};
#define REQUEST_TIMEOUT (2 * CTX_SECOND)
#define GRACE (5 * CTX_SECOND)

struct server {
    int listen_fd;
    uint16_t port;
    ctx_t *stop;          /* ctx_with_signals: SIGTERM, SIGINT */
    ctx_t *serving;       /* the requests' ancestor: cancelled only if the grace runs out */
    ctx_group_t *group;   /* one fn per connection */
    atomic_int slow_started;
    atomic_int answered, cut_short;
};

/* ---- the server ------------------------------------------------------------------- */

struct conn {
    struct server *srv;
    int fd;
};

/* Wait up to `ms` for the work to be done, or for the request's context. */
static int do_work(ctx_t *req, int ms)
{
    struct pollfd p = {.fd = ctx_fd(req), .events = POLLIN};
    if (p.fd < 0)
        return errno;
    int n = poll(&p, 1, ms);
    return n == 0 ? 0 : ctx_cause(req, NULL);
}

/* One connection: read "GET /path", work, answer. The group context is the serving
 * context's child: only the grace period running out would cancel it. */
static int handle_conn(ctx_t *group_ctx, void *arg)
{
    struct conn c = *(struct conn *)arg;
    free(arg);
    CTX_AUTO ctx_t *req = ctx_with_timeout_cause(group_ctx, REQUEST_TIMEOUT, ETIMEDOUT,
                                                 "request deadline");
    char buf[256];
    ssize_t n = req != NULL ? read(c.fd, buf, sizeof buf - 1) : -1;
    int rc = n > 0 ? 0 : EPROTO;
    if (rc == 0) {
        buf[n] = '\0';
        bool slow = strncmp(buf, "GET /slow", 9) == 0;
        if (slow)
            atomic_fetch_add(&c.srv->slow_started, 1);
        rc = do_work(req, slow ? SLOW_MS : FAST_MS);
    }
    const char *status = rc == 0 ? "HTTP/1.0 200 OK\r\n\r\n" : "HTTP/1.0 503 Unavailable\r\n\r\n";
    if (write(c.fd, status, strlen(status)) < 0)
        rc = errno;
    close(c.fd);
    atomic_fetch_add(rc == 0 ? &c.srv->answered : &c.srv->cut_short, 1);
    return 0; /* one request's trouble must not cancel the others */
}

/* Accept until the signal context is done, then stop listening. */
static void *serve_main(void *arg)
{
    struct server *srv = arg;
    struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN},
                          {.fd = ctx_fd(srv->stop), .events = POLLIN}};
    while (!ctx_is_done(srv->stop)) {
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (!(p[0].revents & POLLIN) || ctx_is_done(srv->stop))
            continue;
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        struct conn *c = fd >= 0 ? malloc(sizeof *c) : NULL;
        if (c == NULL) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        *c = (struct conn){srv, fd};
        if (ctx_group_go(srv->group, handle_conn, c) != 0) { /* waits for a free slot */
            close(fd);
            free(c);
        }
    }
    close(srv->listen_fd); /* new connections are refused from here on */
    return NULL;
}

static int listen_loopback(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("server: listen");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- the client ------------------------------------------------------------------- */

/* One request; returns the HTTP status, or -errno if the connection failed. */
static int request(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    char line[64], answer[64] = {0};
    int len = snprintf(line, sizeof line, "GET %s HTTP/1.0\r\n\r\n", path);
    int status = -EPROTO;
    if (write(fd, line, (size_t)len) == len && read(fd, answer, sizeof answer - 1) > 0)
        sscanf(answer, "HTTP/1.0 %d", &status);
    close(fd);
    return status;
}

struct slow_call {
    uint16_t port;
    pthread_t thread;
    int status;
};

static void *slow_main(void *arg)
{
    struct slow_call *s = arg;
    s->status = request(s->port, "/slow");
    return NULL;
}

static void *client_main(void *arg)
{
    struct server *srv = arg;
    int ok = 0;
    for (int i = 0; i < NFAST; i++)
        ok += request(srv->port, "/fast") == 200;
    printf("client: %d GET /fast -> %d answered 200\n", NFAST, ok);
    struct slow_call slow[NSLOW];
    for (int i = 0; i < NSLOW; i++) {
        slow[i].port = srv->port;
        pthread_create(&slow[i].thread, NULL, slow_main, &slow[i]);
    }
    while (atomic_load(&srv->slow_started) < NSLOW)
        usleep(1000);
    printf("client: %d GET /slow in flight; sending SIGTERM\n", NSLOW);
    fflush(stdout);
    kill(getpid(), SIGTERM);
    for (int i = 0; i < NSLOW; i++) {
        pthread_join(slow[i].thread, NULL);
        ok += slow[i].status == 200;
    }
    printf("client: the %d slow requests got %s\n", NSLOW,
           ok == NFAST + NSLOW ? "200 during the shutdown" : "errors");
    return (void *)(intptr_t)(ok == NFAST + NSLOW);
}

/* ---- main: the server's life -------------------------------------------------------- */

static void cancel_serving(void *arg)
{
    ctx_cancel_cause(arg, ETIMEDOUT, "shutdown grace period over");
}

int main(void)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);

    struct server srv = {0};
    srv.stop = ctx_with_signals(ctx_background(), &stop_signals);
    srv.serving = ctx_with_cancel(ctx_background());
    srv.group = srv.serving != NULL ? ctx_group_new(srv.serving) : NULL;
    if (srv.stop == NULL || srv.group == NULL || ctx_group_set_limit(srv.group, MAX_ACTIVE)) {
        perror("server: setup");
        return 1;
    }
    srv.listen_fd = listen_loopback(&srv.port);
    printf("server: listening on 127.0.0.1, up to %d requests at once; stops on SIGTERM or "
           "SIGINT\n", MAX_ACTIVE);
    pthread_t server, client;
    pthread_create(&server, NULL, serve_main, &srv);
    pthread_create(&client, NULL, client_main, &srv);

    /* <-ctx.Done(), as a poll on its fd. (ctx_wait would do as well, but a sanitizer
     * build defers a signal that lands on a thread inside a raw futex wait until that
     * thread makes an intercepted call: under TSan this wait would never end.) */
    struct pollfd done = {.fd = ctx_fd(srv.stop), .events = POLLIN};
    while (poll(&done, 1, -1) < 0 && errno == EINTR) {
    }
    const char *why = NULL;
    int sig = ctx_cause(srv.stop, &why);
    printf("server: stop requested by %s (ctx_cause %d); no new connections\n",
           why != NULL ? why : err_text(sig), sig);
    pthread_join(server, NULL);
    ctx_release(srv.stop); /* stop(): the previous SIGTERM/SIGINT handling is back */
    int late = request(srv.port, "/fast");
    printf("server: a new connection now: %s\n",
           late == -ECONNREFUSED ? "refused" : "NOT refused");

    /* srv.Shutdown(ctx with a 5 s timeout): drain what is in flight. */
    ctx_t *grace = ctx_with_timeout(ctx_background(), GRACE);
    ctx_after_t *on_grace_over = ctx_after_func(grace, cancel_serving, srv.serving);
    printf("server: draining the requests in flight (grace %d ms)\n",
           (int)(GRACE / CTX_MILLISECOND));
    int group_rc = ctx_group_wait(srv.group);
    bool in_grace = ctx_after_stop(on_grace_over);
    ctx_release(grace);
    void *client_ok = NULL;
    pthread_join(client, &client_ok);
    ctx_release(srv.serving);

    int answered = atomic_load(&srv.answered), cut = atomic_load(&srv.cut_short);
    printf("server: %d requests answered, %d cut short; shut down %s\n", answered, cut,
           in_grace && group_rc == 0 ? "cleanly within the grace period" : "LATE");
    bool ok = client_ok != NULL && sig == SIGTERM && late == -ECONNREFUSED && in_grace &&
              answered == NFAST + NSLOW && cut == 0;
    return ok ? 0 : 1;
}
