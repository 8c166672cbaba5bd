/* bytes.h: an owned, growable byte buffer and strict hex conversion. Everything
 * that reads outside bytes (RPC, files, the user) goes through hex_decode, which
 * rejects odd lengths and non-hex characters instead of guessing. */
#ifndef FUSION_BASE_BYTES_H
#define FUSION_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Owned buffer: buf_free releases data. A zeroed struct is a valid empty buffer. */
typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
/* Empties the buffer but keeps its allocation. */
void buf_reset(buf *b);
int buf_reserve(buf *b, size_t extra, err *e) __attribute__((warn_unused_result));
int buf_append(buf *b, const void *data, size_t len, err *e) __attribute__((warn_unused_result));
int buf_push(buf *b, uint8_t byte, err *e) __attribute__((warn_unused_result));

/* hex_decode flags */
enum {
    HEX_ALLOW_PREFIX = 1,   /* "0x"/"0X" accepted (not required) */
    HEX_REQUIRE_PREFIX = 2, /* "0x" required */
};

/* Decodes exactly hex_len characters of hex (hex need not be NUL-terminated).
 * Odd digit counts and non-hex characters are errors. Writes at most out_cap bytes;
 * *out_len receives the decoded length. */
int hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *hex, size_t hex_len,
               int flags, err *e) __attribute__((warn_unused_result));

/* Decodes into an owned buffer (appends to b). */
int hex_decode_buf(buf *b, const char *hex, size_t hex_len, int flags, err *e)
    __attribute__((warn_unused_result));

/* Decodes a hex string that must be exactly n bytes. */
int hex_decode_exact(uint8_t *out, size_t n, const char *hex, int flags, err *e)
    __attribute__((warn_unused_result));

/* Writes lowercase hex plus NUL; with prefix, "0x" first. out_cap must be at least
 * 2*len+1 (+2 with prefix). Returns the string length, or 0 when it does not fit. */
size_t hex_encode(char *out, size_t out_cap, const uint8_t *in, size_t len, bool prefix);

/* Allocates "0x..." (malloc); NULL on out of memory. Caller frees. */
char *hex_encode_new(const uint8_t *in, size_t len);

#endif
