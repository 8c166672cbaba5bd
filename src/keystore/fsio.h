/* fsio.h (module-private): file handling for secrets, ssh-style: key directories and
 * files must belong to us and be closed to group and others (the refusal says which
 * chmod fixes it); files are replaced atomically (temp file, fsync, verify, rename,
 * directory fsync) so a crash leaves the old file or the new one, never half of one. */
#ifndef FUSION_KEYSTORE_FSIO_H
#define FUSION_KEYSTORE_FSIO_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* 1 when dir exists and is private, 0 when it does not exist, -1 when it is refused. */
int ksfs_dir_check(const char *dir, err *e) __attribute__((warn_unused_result));
/* Creates dir (0700) when missing, then checks it. */
int ksfs_dir_ensure(const char *dir, err *e) __attribute__((warn_unused_result));
/* Reads a private regular file (not a symlink, ours, no group/other bits) of at most max
 * bytes; *out is malloc'd and NUL-terminated. ERR_NOT_FOUND when it does not exist. */
int ksfs_read_private(const char *path, size_t max, char **out, size_t *len, err *e)
    __attribute__((warn_unused_result));
/* Reads any regular file of at most max bytes (imports). */
int ksfs_read(const char *path, size_t max, char **out, size_t *len, err *e)
    __attribute__((warn_unused_result));

/* Called with the bytes read back from the temp file before it is renamed into place. */
typedef int (*ksfs_verify_fn)(void *ctx, const char *data, size_t len, err *e);

/* Writes path atomically with mode 0600, then reads it back (and verifies it) before the
 * rename; its temporary file is named as fsperm_write_atomic's (fsperm_is_temp). Without replace an existing path is ERR_EXISTS
 * (checked by the rename itself, so two writers cannot both win). */
int ksfs_write_atomic(const char *path, const void *data, size_t len, bool replace,
                      ksfs_verify_fn verify, void *ctx, err *e) __attribute__((warn_unused_result));
/* Renames from into to (without replace an existing to is ERR_EXISTS) and syncs the
 * directory. */
int ksfs_commit(const char *from, const char *to, bool replace, err *e)
    __attribute__((warn_unused_result));
/* An exclusive flock on the directory itself, serialising the writers of the key store
 * with the clean-up of what a crashed writer left. Returns the descriptor to close, -1
 * on error, -2 when wait is false and another process holds it. */
int ksfs_lock(const char *dir, bool wait, err *e) __attribute__((warn_unused_result));
/* Removes a file and syncs its directory. */
int ksfs_remove(const char *path, err *e) __attribute__((warn_unused_result));

#endif
