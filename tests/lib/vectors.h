/* vectors.h: reading the golden files in tests/vectors/ (header-only, for cmocka
 * tests). Files are line-based: '#' starts a comment line, fields are separated by
 * whitespace. The tree is found through $FUSION_ROOT, which meson's test_env sets. */
#ifndef FUSION_TEST_VECTORS_H
#define FUSION_TEST_VECTORS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define VECTORS_MAX_FIELDS 8

typedef struct vectors {
    FILE *f;
    char *line;
    size_t cap;
    unsigned lineno;
    char *field[VECTORS_MAX_FIELDS];
    int nfields;
} vectors;

/* Opens tests/vectors/<name>; fails the test when it is missing. */
static inline void vectors_open(vectors *v, const char *name)
{
    const char *root = getenv("FUSION_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/vectors/%s", root ? root : ".", name);
    memset(v, 0, sizeof *v);
    v->f = fopen(path, "r");
    if (!v->f)
        fail_msg("cannot open golden file %s (is FUSION_ROOT set?)", path);
}

/* Next non-comment line, split into fields; returns the field count, 0 at the end. */
static inline int vectors_next(vectors *v)
{
    for (;;) {
        ssize_t n = getline(&v->line, &v->cap, v->f);
        if (n < 0)
            return 0;
        v->lineno++;
        char *p = v->line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        v->nfields = 0;
        for (char *tok = strtok(p, " \t\r\n"); tok && v->nfields < VECTORS_MAX_FIELDS;
             tok = strtok(NULL, " \t\r\n"))
            v->field[v->nfields++] = tok;
        return v->nfields;
    }
}

static inline void vectors_close(vectors *v)
{
    if (v->f)
        fclose(v->f);
    free(v->line);
    memset(v, 0, sizeof *v);
}

static inline int vectors_nibble_(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes a hex field (no 0x) into out, independently of the code under test; fails
 * the test on bad hex. Returns the length. */
static inline size_t vectors_hex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = strlen(hex);
    if (n % 2 || n / 2 > cap)
        fail_msg("bad hex field of %zu digits (cap %zu bytes)", n, cap);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = vectors_nibble_(hex[2 * i]), lo = vectors_nibble_(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            fail_msg("bad hex digit near %zu in golden file", 2 * i);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return n / 2;
}

#endif
