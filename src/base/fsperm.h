/* fsperm.h: the desk's files are its operator's alone. The desk home is 0700 and the
 * files the desk writes are 0600, owned by the user running fusion; secrets and desk
 * configuration read from files must not be open to group or others either. */
#ifndef FUSION_BASE_FSPERM_H
#define FUSION_BASE_FSPERM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* Clears the group/other bits of an existing path we own (a directory is kept at 0700
 * at most, a file at 0600). *was gets its old mode (07777 bits) when they were
 * changed, else 0; a missing path is fine (*was = 0). Refuses a path owned by another
 * user, a symbolic link, and anything but a directory or a regular file. */
int fsperm_tighten(const char *path, mode_t *was, err *e) __attribute__((warn_unused_result));

/* Creates a regular file with mode 0600 when it does not exist (a file that exists is
 * left as it is). */
int fsperm_create_private(const char *path, err *e) __attribute__((warn_unused_result));

/* Writes path whole or not at all, mode 0600: a temporary file in the same directory,
 * fsync, rename, directory fsync. Without replace an existing path is ERR_EXISTS. A
 * temporary file is named .<name>.tmp-XXXXXX and removed on failure. */
int fsperm_write_atomic(const char *path, const void *data, size_t len, bool replace, err *e)
    __attribute__((warn_unused_result));

/* True for the name of a temporary file fsperm_write_atomic makes (.NAME.tmp-XXXXXX). */
bool fsperm_is_temp(const char *name);

/* A secret or a piece of desk configuration read from a file (what: "passphrase file",
 * "desk policy"...): refused unless it is a regular file of ours that group and others
 * can neither read nor write, with the chmod that fixes it. */
int fsperm_check_private(const char *path, const char *what, err *e)
    __attribute__((warn_unused_result));

/* Reference data read from a file: refused when group or others may write it. */
int fsperm_check_not_writable(const char *path, const char *what, err *e)
    __attribute__((warn_unused_result));

#endif
