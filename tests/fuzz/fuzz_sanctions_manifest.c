/* fuzz_sanctions_manifest.c: libFuzzer target for the sanctions list manifest (as_of and
 * list lines naming the snapshot's files) and, through the second half of the input, the
 * desk's own list file, written as files of a private directory. Any input gives a
 * list or one printable error line; never a crash, a leak or a loop. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compliance/screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as files in a private directory (in memory when /dev/shm exists): the
 * manifest's `list FILE` lines are relative to its directory, which must not be
 * /proc/self/fd (`list 0` would read the fuzzer's stdin). */
static char dir[64];
static char path[2][128];

static void cleanup(void)
{
    unlink(path[0]);
    unlink(path[1]);
    rmdir(dir);
}

static const char *as_file(const char *name, const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/fuzz-manifest-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
    }
    int slot = strcmp(name, "manifest.txt") != 0;
    snprintf(path[slot], sizeof path[slot], "%s/%s", dir, name);
    FILE *f = fopen(path[slot], "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
    return path[slot];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* manifest, then an optional "\n--\n" and the desk list */
    const uint8_t *cut = memmem(data, size, "\n--\n", 4);
    size_t man_len = cut ? (size_t)(cut - data) : size;
    const char *manifest = as_file("manifest.txt", data, man_len);
    const char *desk = cut ? as_file("desk.txt", cut + 4, size - man_len - 4) : NULL;
    screen_sanctions *s = NULL;
    err e;
    err_clear(&e);
    if (screen_sanctions_load(&s, manifest, desk, &e) < 0) {
        if (s || e.msg[0] == '\0')
            abort();
        return 0;
    }
    screen_list_info info;
    screen_sanctions_info(s, &info);
    screen_sanctions_free(&s);
    return 0;
}
