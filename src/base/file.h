/* file.h: reading a whole file, the one way the desk does it (lists, list imports, the
 * policy and the signed configuration files). */
#ifndef FUSION_BASE_FILE_H
#define FUSION_BASE_FILE_H

#include <stddef.h>

#include "base/attr.h"
#include "base/err.h"

/* Reads the file at path whole into *data (malloc'ed, with a NUL after the *len bytes so
 * that text can be parsed in place). max > 0: a file longer than max bytes is refused
 * with ERR_INVALID, "PATH is larger than N MiB: not WHAT" (N bytes when max is not a whole
 * number of MiB). A missing file is ERR_NOT_FOUND, "cannot open PATH: ...", other
 * failures ERR_IO. Nothing is allocated on failure. */
int file_read_all(const char *path, size_t max, const char *what, char **data, size_t *len,
                  err *e) FUSION_WUR;

#endif
