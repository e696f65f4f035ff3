/*
 * claim.c — claiming trace file names and the owner lock (see ctxtrace/core/claim.h).
 *
 * Why an OFD lock rather than flock(2) or a pid in the file: a pid can be reused and
 * is only written once SQLite has a schema; flock is emulated with whole-file fcntl
 * locks on NFS, where it would collide with SQLite's own byte locks; a classic fcntl
 * lock is dropped when *any* descriptor of the file is closed in the process, which
 * SQLite's connections do. An OFD lock on a byte SQLite never touches has none of
 * these problems, is inherited by fork (the child closes its copy) and vanishes
 * with the last descriptor, whatever kills the process.
 */
#include <ctxtrace/core/claim.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite locks bytes around 1 GiB (PENDING_BYTE); this one is far from them. */
static const off_t OWNER_LOCK_BYTE = (off_t)1 << 62;

static struct flock owner_lock(short type)
{
    return (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = OWNER_LOCK_BYTE,
                          .l_len = 1, .l_pid = 0};
}

static bool companion_exists(const char *path, const char *suffix)
{
    char side[4096];
    struct stat st;
    return (size_t)snprintf(side, sizeof side, "%s%s", path, suffix) < sizeof side &&
           lstat(side, &st) == 0;
}

static int fill(struct ct_claim *c, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return errno;
    c->fd = fd;
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    return 0;
}

int ct_claim_new(const char *path, bool lock, struct ct_claim *c)
{
    *c = CT_CLAIM_NONE;
    if (companion_exists(path, "-wal") || companion_exists(path, "-shm"))
        return EEXIST;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return errno;
    struct flock fl = owner_lock(F_WRLCK);
    int e = lock && fcntl(fd, F_OFD_SETLK, &fl) != 0 ? errno : fill(c, fd);
    if (e != 0) {
        /* Ours, empty, just made: removing it destroys nothing. */
        unlink(path);
        close(fd);
        *c = CT_CLAIM_NONE;
    }
    return e;
}

int ct_claim_take(const char *path, const char *token, struct ct_claim *c)
{
    *c = CT_CLAIM_NONE;
    unsigned long long dev, ino;
    char end;
    if (token == NULL || sscanf(token, "%llu:%llu%c", &dev, &ino, &end) != 2)
        return EINVAL;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno;
    struct stat st;
    struct flock fl = owner_lock(F_WRLCK);
    /* Size checked again under the lock: a sibling may have taken it, written and
     * exited between our first look and the lock. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != (dev_t)dev ||
        st.st_ino != (ino_t)ino || st.st_size != 0 || fcntl(fd, F_OFD_SETLK, &fl) != 0 ||
        fstat(fd, &st) != 0 || st.st_size != 0) {
        close(fd);
        return EEXIST;
    }
    return fill(c, fd);
}

void ct_claim_token(const struct ct_claim *c, char *buf, size_t len)
{
    assert(c->fd >= 0);
    snprintf(buf, len, "%llu:%llu", (unsigned long long)c->dev, (unsigned long long)c->ino);
}

bool ct_claim_in_use(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    struct flock fl = owner_lock(F_WRLCK);
    bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

bool ct_claim_unused(const struct ct_claim *c, const char *path)
{
    struct stat st;
    return c->fd >= 0 && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == c->dev &&
           st.st_ino == c->ino && st.st_size == 0;
}

void ct_claim_close(struct ct_claim *c)
{
    if (c->fd >= 0)
        close(c->fd);
    *c = CT_CLAIM_NONE;
}
