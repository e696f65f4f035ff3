/*
 * server.c — the live socket (see live.h), served by the writer thread.
 *
 * Private: the socket is made 0600 before listen(2) in a 0700 directory checked by
 * ct_live_dir_prepare, and every client's uid is checked with SO_PEERCRED; a stranger
 * is closed on without a word.
 *
 * Never in the way: every descriptor is non-blocking and close-on-exec, sends use
 * MSG_NOSIGNAL (a vanished client is an error code, not a SIGPIPE), and each client
 * has its own bounded queue. One that sends anything (clients only read) gets BYE
 * "protocol"; beyond MAX_CLIENTS, a newcomer gets BYE "busy".
 *
 * Never cut off for being slow. A client whose unsent backlog would pass its snapshot
 * plus CLIENT_LAG_MAX bytes loses the frames it has not begun to receive (never a part
 * of its last snapshot: a half snapshot is a wrong picture) and everything broadcast
 * after them, counted; once it has taken its last snapshot whole, it is sent RESYNC
 * (what it skipped) and a fresh snapshot of the model as it is now — between two drains,
 * like a new client's — so its picture is exact again. Only then does it take events
 * again. A client slower than the snapshot itself is thus sent one snapshot after the
 * other, each whole and exact, never two queued at once: memory per client stays within
 * one snapshot plus CLIENT_LAG_MAX. A closing
 * client has CLOSE_GRACE_NS to take what is queued, then it is closed regardless.
 * Each poll accepts at most ACCEPTS_PER_POLL connections, so a connection flood costs
 * the writer a bounded time per drain and cannot stall the application's rings.
 */
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/livesweep.h>
#include <ctxtrace/core/wire.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "vec.h"

enum {
    MAX_CLIENTS = 64,
    ACCEPTS_PER_POLL = 64,
    CLIENT_LAG_MAX = 8 * 1024 * 1024, /* bytes queued beyond the client's last snapshot */
    SEND_CHUNK = 256 * 1024,
};
static const int64_t CLOSE_GRACE_NS = 1000000000;

struct client {
    int fd;
    struct bytes q;       /* queued frames; q.data[sent, len) not yet sent */
    size_t sent;
    size_t frame;         /* where in q the first frame not yet begun starts (>= sent) */
    size_t limit;         /* the most q may hold unsent: snapshot + CLIENT_LAG_MAX */
    size_t snap_end;      /* where in q its last snapshot ends: taken once sent >= it */
    bool resync_due;      /* fell behind: frames are skipped until the next snapshot */
    uint32_t resyncs;     /* RESYNC frames sent so far */
    uint64_t skipped_events, skipped_frames, skipped_bytes; /* since its last snapshot */
    int64_t closing_at;   /* 0: open; else when it was told BYE */
};

static int listen_fd = -1;
static char sock_path[CT_LIVE_PATH_MAX];
static dev_t sock_dev; /* the socket file we made: removed at the end only if still it */
static ino_t sock_ino;
static struct client clients[MAX_CLIENTS];
static int nclients;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- binding --------------------------------------------------------------------- */

static int bind_at(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* 0600 before listen(2): until then nobody can connect, so no one slips in. */
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (chmod(path, 0600) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        unlink(path); /* the socket file bind just made */
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Bind `path` unless something there must be left alone: -1 with errno EADDRINUSE (a
 * live server: the caller may try another name) or EEXIST (reason in err). */
static int bind_clearing_stale(const char *path, char *err, size_t errlen)
{
    int rc = ct_live_clear_stale(path, err, errlen);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    int fd = bind_at(path);
    if (fd < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return fd;
}

static live_snapshot_fn take_snapshot; /* live_server_start's */

void live_server_start(live_snapshot_fn snapshot)
{
    take_snapshot = snapshot;
    const char *want = getenv("CTXTRACE_SOCKET");
    char err[512] = "";
    if (want != NULL && strcmp(want, "off") == 0)
        return;
    if (want != NULL && want[0] != '\0') {
        if (ct_live_resolve(want, sock_path, sizeof sock_path) != 0) {
            fprintf(stderr, "ctxtrace: CTXTRACE_SOCKET is too long for a socket path\n");
            return;
        }
    } else {
        char dir[CT_LIVE_PATH_MAX];
        if (ct_live_dir(dir, sizeof dir) != 0 ||
            ct_live_socket_path(getpid(), sock_path, sizeof sock_path) != 0) {
            fprintf(stderr, "ctxtrace: no live socket: its path is too long\n");
            return;
        }
        if (ct_live_dir_prepare(dir, err, sizeof err) != 0) {
            fprintf(stderr, "ctxtrace: no live socket: %s\n", err);
            return;
        }
        ct_live_sweep(); /* dead processes' sockets: the directory holds the living */
    }
    listen_fd = bind_clearing_stale(sock_path, err, sizeof err);
    if (listen_fd < 0 && errno == EADDRINUSE && want != NULL && want[0] != '\0') {
        /* A named socket another live process serves (a forked child, an exec'd image
         * inheriting CTXTRACE_SOCKET): serve "<stem>.<pid>.sock" beside it. */
        size_t n = strlen(sock_path);
        if (n > 5 && strcmp(sock_path + n - 5, ".sock") == 0)
            n -= 5;
        int w = snprintf(sock_path, sizeof sock_path, "%.*s.%ld.sock", (int)n, want,
                         (long)getpid());
        if (w > 0 && (size_t)w < sizeof sock_path)
            listen_fd = bind_clearing_stale(sock_path, err, sizeof err);
    }
    struct stat st;
    if (listen_fd >= 0 && lstat(sock_path, &st) == 0) {
        sock_dev = st.st_dev;
        sock_ino = st.st_ino;
    } else if (listen_fd < 0) {
        if (errno == EADDRINUSE)
            snprintf(err, sizeof err, "%s is served by another process", sock_path);
        fprintf(stderr, "ctxtrace: no live socket: %s\n", err);
    }
}

bool live_server_serving(void)
{
    return listen_fd >= 0;
}

bool live_server_has_clients(void)
{
    return nclients > 0;
}

/* ---- clients --------------------------------------------------------------------- */

static void queue_bytes(void *arg, const uint8_t *frame, size_t len)
{
    struct client *c = arg;
    uint8_t *p = bytes_reserve(&c->q, len);
    if (p == NULL) {
        c->closing_at = now_ns(); /* no memory for this client: let it go */
        return;
    }
    memcpy(p, frame, len);
    c->q.len += len;
}

static void queue_bye(struct client *c, int reason, const char *text)
{
    uint8_t frame[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = {CT_WIRE_BYE, .u.bye = {(uint8_t)reason, text}};
    queue_bytes(c, frame, ct_wire_encode(&m, frame, sizeof frame));
    c->closing_at = now_ns();
}

static void drop(int i)
{
    close(clients[i].fd);
    free(clients[i].q.data);
    clients[i] = clients[--nclients];
}

/* The length of the whole frame at p (its length was checked when it was encoded). */
static size_t frame_len(const uint8_t *p)
{
    return CT_WIRE_HEADER + (p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24);
}

/* Send what is queued, as far as the socket takes it. False: the client is gone. */
static bool flush_client(struct client *c)
{
    while (c->sent < c->q.len) {
        size_t n = c->q.len - c->sent;
        ssize_t w = send(c->fd, c->q.data + c->sent, n < SEND_CHUNK ? n : SEND_CHUNK,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0) {
            if (c->sent >= SEND_CHUNK) { /* keep the queue from growing by its sent part */
                memmove(c->q.data, c->q.data + c->sent, c->q.len - c->sent);
                c->q.len -= c->sent;
                c->frame -= c->sent;
                c->snap_end = c->snap_end > c->sent ? c->snap_end - c->sent : 0;
                c->sent = 0;
            }
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
        c->sent += (size_t)w;
        while (c->frame < c->sent) /* frame lengths were checked when they were encoded */
            c->frame += frame_len(c->q.data + c->frame);
    }
    c->sent = c->q.len = c->frame = c->snap_end = 0;
    return true;
}

/* Count the whole frames of p[0, len) as skipped by c. */
static void skip(struct client *c, const uint8_t *p, size_t len)
{
    for (size_t off = 0; off < len; off += frame_len(p + off)) {
        unsigned type = p[off + 4] | (unsigned)p[off + 5] << 8;
        c->skipped_events += (type >= CT_WIRE_CREATE && type <= CT_WIRE_THREAD) ||
                             type == CT_WIRE_EXIT_THREAD || type == CT_WIRE_EXIT_REACH;
        c->skipped_frames++;
    }
    c->skipped_bytes += len;
}

/* RESYNC and a fresh snapshot, after which c takes events again. */
static void resync(struct client *c)
{
    uint8_t frame[CT_WIRE_MAX_FRAME];
    struct ct_wire_msg m = {CT_WIRE_RESYNC,
                            .u.resync = {now_ns(), c->skipped_events, c->skipped_frames,
                                         c->skipped_bytes,
                                         ++c->resyncs}};
    queue_bytes(c, frame, ct_wire_encode(&m, frame, sizeof frame));
    c->limit = take_snapshot(queue_bytes, c, true) + CLIENT_LAG_MAX;
    c->snap_end = c->q.len;
    c->skipped_events = c->skipped_frames = c->skipped_bytes = 0;
    c->resync_due = false;
}

/* Resynced once it has taken its last snapshot whole: never two snapshots queued. */
static void resync_when_ready(struct client *c)
{
    if (c->resync_due && c->closing_at == 0 && c->snap_end <= c->sent)
        resync(c);
}

/* Too far behind: drop the frames it has not begun to receive, but none of its last
 * snapshot, and skip events until it is resynced. */
static void fall_behind(struct client *c)
{
    size_t cut = c->frame > c->snap_end ? c->frame : c->snap_end;
    assert(cut >= c->sent);
    if (cut < c->q.len) {
        skip(c, c->q.data + cut, c->q.len - cut);
        c->q.len = cut;
    }
    c->resync_due = true;
}

void live_server_broadcast(const uint8_t *frames, size_t len)
{
    for (int i = 0; i < nclients; i++) {
        struct client *c = &clients[i];
        if (c->closing_at != 0)
            continue;
        if (!c->resync_due && c->q.len - c->sent + len > c->limit)
            fall_behind(c);
        if (c->resync_due) {
            /* The model has these frames applied already: a snapshot taken now holds
             * them. */
            skip(c, frames, len);
            resync_when_ready(c);
            continue;
        }
        queue_bytes(c, frames, len);
    }
}

static bool same_user(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == getuid();
}

static void accept_clients(void)
{
    for (int k = 0; k < ACCEPTS_PER_POLL; k++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: none waiting; anything else: try again next poll */
        if (!same_user(fd)) {
            close(fd);
            continue;
        }
        if (nclients == MAX_CLIENTS) {
            struct client busy = {.fd = fd};
            queue_bye(&busy, CT_WIRE_BYE_BUSY, "too many clients");
            flush_client(&busy);
            free(busy.q.data);
            close(fd);
            continue;
        }
        struct client *c = &clients[nclients++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->limit = take_snapshot(queue_bytes, c, false) + CLIENT_LAG_MAX;
        c->snap_end = c->q.len;
    }
}

/* Clients only read: anything they send ends their session. */
static void check_input(struct client *c)
{
    char buf[512];
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0 && c->closing_at == 0)
        queue_bye(c, CT_WIRE_BYE_PROTOCOL, "clients must not send anything");
}

void live_server_poll(void)
{
    if (listen_fd < 0)
        return;
    accept_clients();
    int64_t now = now_ns();
    for (int i = 0; i < nclients;) {
        struct client *c = &clients[i];
        check_input(c);
        bool alive = flush_client(c);
        resync_when_ready(c);
        bool done = c->closing_at != 0 &&
                    (c->q.len == 0 || now - c->closing_at > CLOSE_GRACE_NS);
        if (!alive || done)
            drop(i);
        else
            i++;
    }
}

/* At the end, clients that are reading get what is queued, BYE included (one too far
 * behind gets a last RESYNC and snapshot instead of its backlog): the wait is
 * bounded (STOP_GRACE_NS in all) and ends as soon as no client takes anything for
 * STOP_IDLE_MS, so a stuck client costs the exit at most that. */
static const int64_t STOP_GRACE_NS = 200 * 1000000LL;
enum { STOP_IDLE_MS = 10, STOP_BACKLOG_MAX = 1024 * 1024 };

void live_server_stop(int reason, const char *text)
{
    if (listen_fd < 0)
        return;
    close(listen_fd);
    listen_fd = -1;
    struct stat st;
    if (lstat(sock_path, &st) == 0 && st.st_dev == sock_dev && st.st_ino == sock_ino)
        unlink(sock_path);
    for (int i = 0; i < nclients; i++) {
        struct client *c = &clients[i];
        if (c->closing_at != 0)
            continue;
        /* The last picture, whole and short: one that skipped events, or that could not
         * take its backlog in the grace, is resynced (the model is final now). */
        if (!c->resync_due && c->q.len - c->sent > STOP_BACKLOG_MAX)
            fall_behind(c);
        if (c->resync_due)
            resync(c);
        queue_bye(c, reason, text);
    }
    int64_t deadline = now_ns() + STOP_GRACE_NS;
    for (;;) {
        struct pollfd pfd[MAX_CLIENTS];
        for (int i = 0; i < nclients;) {
            if (!flush_client(&clients[i]) || clients[i].q.len == 0) {
                drop(i);
                continue;
            }
            pfd[i] = (struct pollfd){clients[i].fd, POLLOUT, 0};
            i++;
        }
        if (nclients == 0 || now_ns() > deadline || poll(pfd, (nfds_t)nclients, STOP_IDLE_MS) <= 0)
            break;
    }
    while (nclients > 0)
        drop(nclients - 1);
}

void live_server_forget_in_child(void)
{
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    while (nclients > 0)
        drop(nclients - 1);
}
