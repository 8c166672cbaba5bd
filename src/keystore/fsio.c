/* fsio.c: private directories and files for the key store (see fsio.h). */
#include "keystore/fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4352

int ksfs_dir_check(const char *dir, err *e)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(e, ERR_IO, "cannot access key directory %s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode))
        return err_set(e, ERR_INVALID, "key directory %s is not a directory", dir);
    if (st.st_uid != geteuid())
        return err_set(e, ERR_DENIED, "key directory %s belongs to uid %u, not to you (uid %u): "
                       "refused", dir, (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 077)
        return err_set(e, ERR_DENIED, "key directory %s is accessible by group/others (mode "
                       "%04o): refused; fix it with: chmod 700 %s", dir,
                       (unsigned)(st.st_mode & 07777), dir);
    return 1;
}

int ksfs_dir_ensure(const char *dir, err *e)
{
    int rc = ksfs_dir_check(dir, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create key directory %s: %s", dir, strerror(errno));
    return ksfs_dir_check(dir, e) == 1 ? 0 : -1;
}

static int read_fd(int fd, const char *path, size_t max, char **out, size_t *len, err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_set(e, ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(e, ERR_INVALID, "%s is not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return err_set(e, ERR_INVALID, "%s is %lld bytes, more than the %zu accepted: refused",
                       path, (long long)st.st_size, max);
    char *data = malloc((size_t)st.st_size + 1);
    if (!data)
        return err_set(e, ERR_NOMEM, "out of memory reading %s", path);
    size_t got = 0;
    for (;;) {
        if (got > (size_t)st.st_size) {
            free(data);
            return err_set(e, ERR_IO, "%s changed while being read", path);
        }
        ssize_t n = read(fd, data + got, (size_t)st.st_size + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(data);
            return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    data[got] = '\0';
    *out = data;
    *len = got;
    return 0;
}

static int open_read(const char *path, bool nofollow, err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        if (errno == ENOENT)
            return err_set(e, ERR_NOT_FOUND, "%s does not exist", path);
        if (errno == ELOOP)
            return err_set(e, ERR_DENIED, "%s is a symbolic link: refused", path);
        return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    return fd;
}

int ksfs_read_private(const char *path, size_t max, char **out, size_t *len, err *e)
{
    int fd = open_read(path, true, e);
    if (fd < 0)
        return -1;
    struct stat st;
    int rc = -1;
    if (fstat(fd, &st) < 0)
        err_set(e, ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    else if (S_ISREG(st.st_mode) && st.st_uid != geteuid())
        err_set(e, ERR_DENIED, "key file %s belongs to uid %u, not to you (uid %u): refused",
                path, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (S_ISREG(st.st_mode) && (st.st_mode & 077))
        err_set(e, ERR_DENIED, "key file %s is accessible by group/others (mode %04o): refused; "
                "fix it with: chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    else
        rc = read_fd(fd, path, max, out, len, e);
    close(fd);
    return rc;
}

int ksfs_read(const char *path, size_t max, char **out, size_t *len, err *e)
{
    int fd = open_read(path, false, e);
    if (fd < 0)
        return -1;
    int rc = read_fd(fd, path, max, out, len, e);
    close(fd);
    return rc;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static void split_path(const char *path, char dir[PATH_CAP], char base[PATH_CAP])
{
    char tmp[PATH_CAP];
    snprintf(tmp, PATH_CAP, "%s", path);
    snprintf(dir, PATH_CAP, "%s", dirname(tmp));
    snprintf(tmp, PATH_CAP, "%s", path);
    snprintf(base, PATH_CAP, "%s", basename(tmp));
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

static int place(const char *tmp, const char *path, bool replace, err *e)
{
    if (replace) {
        if (rename(tmp, path) < 0)
            return err_set(e, ERR_IO, "cannot rename into %s: %s", path, strerror(errno));
        return 0;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return err_set(e, ERR_EXISTS, "%s already exists: refused", path);
    if (errno != EINVAL && errno != ENOSYS)
        return err_set(e, ERR_IO, "cannot rename into %s: %s", path, strerror(errno));
    /* File systems without RENAME_NOREPLACE: link() also refuses an existing target. */
    if (link(tmp, path) < 0)
        return err_set(e, errno == EEXIST ? ERR_EXISTS : ERR_IO, "cannot create %s: %s", path,
                       strerror(errno));
    unlink(tmp);
    return 0;
}

int ksfs_commit(const char *from, const char *to, bool replace, err *e)
{
    char dir[PATH_CAP], base[PATH_CAP];
    if (strlen(to) >= PATH_CAP - 1)
        return err_set(e, ERR_INVALID, "path too long: %s", to);
    split_path(to, dir, base);
    if (place(from, to, replace, e) < 0)
        return -1;
    if (fsync_dir(dir) < 0)
        return err_set(e, ERR_IO, "cannot sync directory %s: %s", dir, strerror(errno));
    return 0;
}

int ksfs_lock(const char *dir, bool wait, err *e)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot open key directory %s: %s", dir, strerror(errno));
    int rc;
    while ((rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        int er = errno;
        close(fd);
        if (er == EWOULDBLOCK)
            return -2;
        return err_set(e, ERR_IO, "cannot lock key directory %s: %s", dir, strerror(er));
    }
    return fd;
}

int ksfs_write_atomic(const char *path, const void *data, size_t len, bool replace,
                      ksfs_verify_fn verify, void *ctx, err *e)
{
    char dir[PATH_CAP], base[PATH_CAP], tmp[2 * PATH_CAP + 32];
    if (strlen(path) >= PATH_CAP - 1)
        return err_set(e, ERR_INVALID, "path too long: %s", path);
    split_path(path, dir, base);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", dir, base);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_IO, "cannot create a file in %s: %s", dir, strerror(errno));
    int rc = -1;
    if (fchmod(fd, 0600) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        err_set(e, ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        goto out;
    }
    if (close(fd) < 0) {
        err_set(e, ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    char *back = NULL;
    size_t back_len = 0;
    if (ksfs_read_private(tmp, len + 1, &back, &back_len, e) < 0)
        goto out;
    bool same = back_len == len && memcmp(back, data, len) == 0;
    int vrc = same && verify ? verify(ctx, back, back_len, e) : 0;
    free(back);
    if (!same) {
        err_set(e, ERR_IO, "%s did not read back as written: disk problem?", tmp);
        goto out;
    }
    if (vrc < 0) {
        err_prefix(e, "verifying the new %s failed", path);
        goto out;
    }
    if (place(tmp, path, replace, e) < 0)
        goto out;
    if (fsync_dir(dir) < 0) {
        err_set(e, ERR_IO, "cannot sync directory %s: %s", dir, strerror(errno));
        return -1; /* the file is in place; only its durability is in doubt */
    }
    return 0;
out:
    unlink(tmp);
    return rc;
}

int ksfs_remove(const char *path, err *e)
{
    char dir[PATH_CAP], base[PATH_CAP];
    if (strlen(path) >= PATH_CAP - 1)
        return err_set(e, ERR_INVALID, "path too long: %s", path);
    split_path(path, dir, base);
    if (unlink(path) < 0)
        return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot remove %s: %s", path,
                       strerror(errno));
    if (fsync_dir(dir) < 0)
        return err_set(e, ERR_IO, "cannot sync directory %s: %s", dir, strerror(errno));
    return 0;
}
