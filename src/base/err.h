/* err.h: the one error type of fusion. A status code from a fixed table plus a
 * one-line human message that says what was wrong and what to do. Functions that
 * can fail take `err *e` last (NULL allowed) and return 0 on success, -1 on error. */
#ifndef FUSION_BASE_ERR_H
#define FUSION_BASE_ERR_H

#include <stddef.h>

/* X(name, short description): the status table; err_code_str() reads it. */
#define ERR_CODES(X)                                                                               \
    X(OK, "ok")                                                                                    \
    X(INVALID, "invalid input")                                                                    \
    X(OVERFLOW, "value out of range")                                                              \
    X(IO, "input/output error")                                                                    \
    X(NOMEM, "out of memory")                                                                      \
    X(CRYPTO, "cryptographic failure")                                                             \
    X(AUTH, "authentication failed")                                                               \
    X(NOT_FOUND, "not found")                                                                      \
    X(EXISTS, "already exists")                                                                    \
    X(STATE, "not allowed in this state")                                                          \
    X(DENIED, "refused")                                                                           \
    X(RPC, "node or network error")                                                                \
    X(USAGE, "usage error")                                                                        \
    X(INTERNAL, "internal error")

typedef enum {
#define ERR_ENUM_(name, desc) ERR_##name,
    ERR_CODES(ERR_ENUM_)
#undef ERR_ENUM_
        ERR_CODE_COUNT
} err_code;

/* Room for a message that names a path and says what to do: at 256 bytes a desk home of
 * ~100 characters cut "fix it with: chmod 600 <key file>" before the file's name. */
#define ERR_MSG_MAX 1024

typedef struct err {
    err_code code;
    char msg[ERR_MSG_MAX];
} err;

/* Resets e to ERR_OK with an empty message. */
void err_clear(err *e);

/* Sets code and a printf-style one-line message; always returns -1 so that
 * `return err_set(e, ERR_INVALID, "...")` reads naturally. e may be NULL. */
int err_set(err *e, err_code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context ("reading key file x: ..."). Returns -1. */
int err_prefix(err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The table's short description for a code. */
const char *err_code_str(err_code code);

#endif
