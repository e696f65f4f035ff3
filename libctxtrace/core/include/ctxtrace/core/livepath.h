/*
 * ctxtrace/core/livepath.h — where traced processes serve their live socket, and how
 * clients find them: one implementation for the shim, `ctxtrace tail`, `ctxtrace ps`
 * and the inspector.
 *
 * A process serves CTXTRACE_SOCKET if set, else "<dir>/<pid>.sock" in this user's
 * directory: "$XDG_RUNTIME_DIR/ctxtrace" when XDG_RUNTIME_DIR is an absolute path,
 * else "/tmp/ctxtrace-<uid>". The directory is created with mode 0700 and used only
 * if it is a real directory (not a symlink) owned by this user that nobody else can
 * enter: a directory someone else prepared in /tmp is refused, never trusted.
 *
 * Errors: functions returning int give 0 or an errno value (ENAMETOOLONG when a path
 * does not fit a socket address), unless said otherwise.
 */
#ifndef CTXTRACE_CORE_LIVEPATH_H
#define CTXTRACE_CORE_LIVEPATH_H

#include <stddef.h>
#include <sys/types.h>

/* Longest socket path (struct sockaddr_un.sun_path, NUL included). */
enum { CT_LIVE_PATH_MAX = 108 };

/* This user's socket directory (see above) into buf. */
int ct_live_dir(char *buf, size_t len);
/* Create `dir` (mode 0700) if missing, then check it as described above. 0, or -1
 * with a one-line reason in err. */
int ct_live_dir_prepare(const char *dir, char *err, size_t errlen);
/* The default socket path of process `pid`: "<dir>/<pid>.sock". */
int ct_live_socket_path(pid_t pid, char *buf, size_t len);
/* A client's argument: a decimal PID names that process's default socket; anything
 * else is a socket path, taken as is. */
int ct_live_resolve(const char *arg, char *buf, size_t len);

/* Before a server binds `path`: what is there, and whether it may go. 0: the path is
 * free — nothing was there, or a stale socket (nobody listens: connect refused) owned
 * by this user in a directory of this user's that nobody else can enter, which has
 * just been removed. EADDRINUSE: a live server answers there. EEXIST: anything else —
 * a file that is not a socket, a socket elsewhere or someone else's — which is never
 * removed; the one-line reason is in err. */
int ct_live_clear_stale(const char *path, char *err, size_t errlen);

/* Connect to the socket at `path` (blocking, close-on-exec): an fd, or -1 with errno. */
int ct_live_connect(const char *path);

/* A traced process that can be attached to. */
struct ct_live_proc {
    pid_t pid;                          /* from its HELLO */
    char program[256];                  /* from its HELLO (truncated) */
    char path[CT_LIVE_PATH_MAX];        /* its socket */
};

/* The live traced processes of this user: every "*.sock" in the socket directory
 * whose server answers with a HELLO within `timeout_ms`; stale sockets (a killed
 * process, nobody listening) are skipped. Sorted by pid. *out is malloc'd (free it).
 * 0, or an errno value (a missing directory is no error: no processes). */
int ct_live_list(int timeout_ms, struct ct_live_proc **out, size_t *n);

#endif /* CTXTRACE_CORE_LIVEPATH_H */
