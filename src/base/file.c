/* file.c: reading a whole file (see file.h). */
#include "base/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/bytes.h"

static int too_large(const char *path, size_t max, const char *what, err *e)
{
    if (max % (1u << 20) == 0)
        return err_set(e, ERR_INVALID, "%s is larger than %zu MiB: not %s", path, max >> 20,
                       what);
    return err_set(e, ERR_INVALID, "%s is larger than %zu bytes: not %s", path, max, what);
}

int file_read_all(const char *path, size_t max, const char *what, char **data, size_t *len,
                  err *e)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO, "cannot open %s: %s", path,
                       strerror(errno));
    buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (max && b.len + n > max) {
            rc = too_large(path, max, what, e);
            break;
        }
        if (buf_append(&b, chunk, n, e) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    if (rc == 0 && buf_push(&b, 0, e) < 0)
        rc = -1;
    if (rc < 0) {
        buf_free(&b);
        return -1;
    }
    *data = (char *)b.data;
    *len = b.len - 1;
    return 0;
}
