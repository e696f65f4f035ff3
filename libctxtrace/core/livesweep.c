/*
 * livesweep.c — removing dead processes' sockets (see ctxtrace/core/livesweep.h).
 *
 * Kept apart from livepath.c's rules for replacing the one socket a process binds:
 * this pass only ever removes files that are provably dead twice over — their pid is
 * gone (kill(pid, 0): ESRCH) and a connect is refused (no listener) — so it can run in
 * any process at any time without racing a live server.
 */
#include <ctxtrace/core/livepath.h>
#include <ctxtrace/core/livesweep.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* "<digits>.sock": the pid, else 0. */
static pid_t pid_of(const char *name)
{
    size_t digits = strspn(name, "0123456789");
    if (digits == 0 || digits > 9 || strcmp(name + digits, ".sock") != 0)
        return 0;
    return (pid_t)atol(name);
}

/* Nobody listens: a non-blocking connect is refused. (A listener with a full backlog
 * answers EAGAIN: alive.) */
static bool nobody_listens(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return false;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool refused = connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 &&
                   errno == ECONNREFUSED;
    close(fd);
    return refused;
}

int ct_live_sweep(void)
{
    char dir[CT_LIVE_PATH_MAX];
    if (ct_live_dir(dir, sizeof dir) != 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* Only in this user's private directory, as for replacing a socket (livepath.c):
     * elsewhere a dead socket of ours is not provably ours to remove. */
    struct stat ds;
    if (lstat(dir, &ds) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(ds.st_mode) || ds.st_uid != getuid() || (ds.st_mode & 077) != 0)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        pid_t pid = pid_of(e->d_name);
        if (pid <= 0 || pid == getpid())
            continue;
        char path[CT_LIVE_PATH_MAX + 256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_uid != getuid())
            continue;
        if (kill(pid, 0) == 0 || errno != ESRCH || !nobody_listens(path))
            continue;
        if (unlink(path) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}
