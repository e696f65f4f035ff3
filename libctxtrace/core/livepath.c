/*
 * livepath.c — socket paths and discovery (see ctxtrace/core/livepath.h).
 *
 * Discovery asks each socket for its HELLO rather than trusting file names: a socket
 * left by a killed process, or a file that merely looks like one, is not listed.
 * Servers replace only what is provably theirs: a stale socket of this user's in a
 * private directory (OpenSSH's rule for its agent sockets); anything else at the path
 * is left alone and reported.
 */
#include <ctxtrace/core/livepath.h>

#include <ctxtrace/core/wire.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* printf into buf; ENAMETOOLONG unless the result fits both buf and a socket address. */
__attribute__((format(printf, 3, 4))) static int put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return w < 0 || (size_t)w >= len || (size_t)w >= CT_LIVE_PATH_MAX ? ENAMETOOLONG : 0;
}

int ct_live_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg != NULL && xdg[0] == '/')
        return put(buf, len, "%s/ctxtrace", xdg);
    return put(buf, len, "/tmp/ctxtrace-%ld", (long)getuid());
}

int ct_live_dir_prepare(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        return -1;
    }
    if (st.st_uid != getuid()) {
        snprintf(err, errlen, "%s belongs to uid %ld, not to this user", dir, (long)st.st_uid);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen, "%s has mode %03o: group or others could reach the sockets",
                 dir, (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int ct_live_socket_path(pid_t pid, char *buf, size_t len)
{
    char dir[CT_LIVE_PATH_MAX];
    int rc = ct_live_dir(dir, sizeof dir);
    return rc != 0 ? rc : put(buf, len, "%s/%ld.sock", dir, (long)pid);
}

int ct_live_resolve(const char *arg, char *buf, size_t len)
{
    size_t digits = strspn(arg, "0123456789");
    if (digits > 0 && digits <= 9 && arg[digits] == '\0')
        return ct_live_socket_path((pid_t)atol(arg), buf, len);
    return put(buf, len, "%s", arg);
}

int ct_live_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* `path`'s directory is this user's and closed to everyone else (as ct_live_dir_prepare
 * requires): only there can a stale socket be known to be ours to replace. */
static bool private_dir_of(const char *path)
{
    char dir[CT_LIVE_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
           (st.st_mode & 077) == 0;
}

int ct_live_clear_stale(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket; left alone", path);
        return EEXIST;
    }
    int fd = ct_live_connect(path);
    if (fd >= 0) {
        close(fd);
        return EADDRINUSE;
    }
    if (errno != ECONNREFUSED) {
        snprintf(err, errlen, "%s: %s; left alone", path, strerror(errno));
        return EEXIST;
    }
    if (st.st_uid != getuid() || !private_dir_of(path)) {
        snprintf(err, errlen, "%s is a stale socket outside this user's private directory "
                 "(or not this user's); left alone: remove it if it is a leftover", path);
        return EEXIST;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
        return EEXIST;
    }
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect to `path` and read its HELLO into p; false if no ctxtrace server answers. */
static bool ask_hello(const char *path, int timeout_ms, ct_wire_decoder *d,
                      struct ct_live_proc *p)
{
    int fd = ct_live_connect(path);
    if (fd < 0)
        return false;
    bool ok = false;
    int64_t deadline = now_ms() + timeout_ms;
    struct ct_wire_msg m;
    for (;;) {
        int rc = ct_wire_next(d, &m);
        if (rc == CT_WIRE_OK) {
            p->pid = (pid_t)m.u.hello.pid;
            snprintf(p->program, sizeof p->program, "%s",
                     m.u.hello.program != NULL ? m.u.hello.program : "");
            ok = true;
            break;
        }
        int64_t left = deadline - now_ms();
        struct pollfd pfd = {fd, POLLIN, 0};
        if (rc < 0 || left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        if (ct_wire_read(d, fd) <= 0)
            break;
    }
    close(fd);
    return ok;
}

static int by_pid(const void *a, const void *b)
{
    const struct ct_live_proc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

int ct_live_list(int timeout_ms, struct ct_live_proc **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char dir[CT_LIVE_PATH_MAX];
    int rc = ct_live_dir(dir, sizeof dir);
    if (rc != 0)
        return rc;
    DIR *dh = opendir(dir);
    if (dh == NULL)
        return errno == ENOENT ? 0 : errno;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".sock") != 0)
            continue;
        struct ct_live_proc p;
        if (put(p.path, sizeof p.path, "%s/%s", dir, de->d_name) != 0)
            continue;
        ct_wire_decoder *d = ct_wire_decoder_new();
        bool live = d != NULL && ask_hello(p.path, timeout_ms, d, &p);
        ct_wire_decoder_free(d);
        if (!live)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            struct ct_live_proc *grown = realloc(*out, cap * sizeof **out);
            if (grown == NULL) {
                closedir(dh);
                free(*out);
                *out = NULL;
                *n = 0;
                return ENOMEM;
            }
            *out = grown;
        }
        (*out)[(*n)++] = p;
    }
    closedir(dh);
    if (*n > 1)
        qsort(*out, *n, sizeof **out, by_pid);
    return 0;
}
