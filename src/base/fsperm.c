/* fsperm.c: ownership and modes of the desk's files (see fsperm.h). */
#include "base/fsperm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsperm_tighten(const char *path, mode_t *was, err *e)
{
    *was = 0;
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, ERR_IO, "cannot access %s: %s", path, strerror(errno));
    }
    bool dir = S_ISDIR(st.st_mode);
    if (!dir && !S_ISREG(st.st_mode))
        return err_set(e, ERR_DENIED, "%s is not a %s: refused", path,
                       S_ISLNK(st.st_mode) ? "regular file (a symbolic link)" : "regular file");
    if (st.st_uid != geteuid())
        return err_set(e, ERR_DENIED, "%s belongs to uid %u, not to you (uid %u): refused", path,
                       (unsigned)st.st_uid, (unsigned)geteuid());
    if ((st.st_mode & 077) == 0)
        return 0;
    mode_t want = st.st_mode & (dir ? 0700 : 0600);
    if (chmod(path, want) < 0)
        return err_set(e, ERR_IO, "%s is open to group/others (mode %04o) and cannot be closed: %s",
                       path, (unsigned)(st.st_mode & 07777), strerror(errno));
    *was = st.st_mode & 07777;
    return 0;
}

int fsperm_create_private(const char *path, err *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 0;
        return err_set(e, ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    /* The umask may have taken bits away, never added: 0600 is now at most 0600. */
    close(fd);
    return 0;
}

bool fsperm_is_temp(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    return name[0] == '.' && t && strlen(t) == 11;
}

static int check_mode(const char *path, const char *what, mode_t forbidden, const char *fix,
                      err *e)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot read the %s %s: %s",
                       what, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, ERR_INVALID, "the %s %s is not a regular file", what, path);
    if (st.st_uid != geteuid() && st.st_uid != 0)
        return err_set(e, ERR_DENIED, "the %s %s belongs to uid %u, not to you (uid %u): refused",
                       what, path, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & forbidden)
        return err_set(e, ERR_DENIED, "the %s %s is %s by group/others (mode %04o): refused; fix "
                       "it with: %s %s", what, path,
                       forbidden & 044 ? "readable or writable" : "writable",
                       (unsigned)(st.st_mode & 07777), fix, path);
    return 0;
}

int fsperm_check_private(const char *path, const char *what, err *e)
{
    return check_mode(path, what, 077, "chmod 600", e);
}

int fsperm_check_not_writable(const char *path, const char *what, err *e)
{
    return check_mode(path, what, 022, "chmod go-w", e);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fsperm_write_atomic(const char *path, const void *data, size_t len, bool replace, err *e)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32), *dir = malloc(plen + 2);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return err_set(e, ERR_NOMEM, "out of memory writing %s", path);
    }
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dlen = slash ? (int)(slash - path) : 1;
    snprintf(dir, plen + 2, "%.*s", dlen > 0 ? dlen : 1, slash ? (dlen > 0 ? path : "/") : ".");
    snprintf(tmp, plen + 32, "%s/.%s.tmp-XXXXXX", dir, base);
    int rc = -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        err_set(e, ERR_IO, "cannot create a file in %s: %s", dir, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (close(fd) < 0) {
        err_set(e, ERR_IO, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (replace ? rename(tmp, path) : link(tmp, path)) {
        err_set(e, errno == EEXIST ? ERR_EXISTS : ERR_IO, "cannot create %s: %s", path,
                strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (!replace)
        unlink(tmp);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        err_set(e, ERR_IO, "cannot sync directory %s: %s", dir, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        goto out;
    }
    close(dfd);
    rc = 0;
out:
    free(tmp);
    free(dir);
    return rc;
}
