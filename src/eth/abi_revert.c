/* abi_revert.c: revert data in words: Error(string), Panic(uint256) and the custom errors
 * of a JSON ABI. Apart from abi_fn.c because it reads a JSON ABI (abi_json.c), which itself
 * builds on the declarations of abi_fn.c. */
#include "eth/abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eth/abi_priv.h"

/* ---- revert data ---- */

static const char *panic_reason(uint64_t code)
{
    switch (code) {
    case 0x00:
        return "generic compiler panic";
    case 0x01:
        return "assertion failed";
    case 0x11:
        return "arithmetic overflow or underflow";
    case 0x12:
        return "division or modulo by zero";
    case 0x21:
        return "invalid enum value";
    case 0x22:
        return "corrupt storage byte array";
    case 0x31:
        return "pop() on an empty array";
    case 0x32:
        return "array index out of bounds";
    case 0x41:
        return "out of memory (allocation too large)";
    case 0x51:
        return "call to an uninitialised function pointer";
    default:
        return "unknown panic code";
    }
}

static int revert_words(buf *b, const uint8_t *data, size_t len, const abi_json *errors, err *e)
{
    static const uint8_t sel_error[4] = {0x08, 0xc3, 0x79, 0xa0};
    static const uint8_t sel_panic[4] = {0x4e, 0x48, 0x7b, 0x71};
    char tmp[96];
    if (len == 0)
        return abi_buf_puts(b, "reverted without a reason", e);
    if (len < 4) {
        if (abi_buf_puts(b, "reverted with malformed data ", e) < 0)
            return -1;
        hex_encode(tmp, sizeof tmp, data, len, true);
        return abi_buf_puts(b, tmp, e);
    }
    const abi_fn *custom = errors ? abi_json_error_by_selector(errors, data) : NULL;
    const char *builtin = !memcmp(data, sel_error, 4)   ? "(string)"
                          : !memcmp(data, sel_panic, 4) ? "(uint256)"
                                                        : NULL;
    if (!custom && !builtin) {
        snprintf(tmp, sizeof tmp, "reverted with unknown error 0x%02x%02x%02x%02x (%zu bytes)",
                 data[0], data[1], data[2], data[3], len);
        return abi_buf_puts(b, tmp, e);
    }
    abi_type *t = NULL;
    abi_value *v = NULL;
    err derr;
    int rc = -1;
    if (builtin && abi_type_parse(&t, builtin, e) < 0)
        return -1;
    const abi_type *types = custom ? custom->inputs : t;
    if (abi_decode(&v, types, data + 4, len - 4, &derr) < 0) {
        snprintf(tmp, sizeof tmp, "reverted with malformed %s data (%zu bytes)",
                 custom              ? custom->name
                 : builtin[1] == 's' ? "Error(string)"
                                     : "Panic(uint256)",
                 len);
        rc = abi_buf_puts(b, tmp, e);
        goto done;
    }
    if (builtin && builtin[1] == 's') {
        if (abi_buf_puts(b, "reverted: ", e) < 0 || abi_value_format(b, v->items[0], e) < 0)
            goto done;
    } else if (builtin) {
        uint64_t code = UINT64_MAX;
        u256_to_u64(&v->items[0]->num, &code);
        snprintf(tmp, sizeof tmp, "panic: %s (0x%02llx)", panic_reason(code),
                 (unsigned long long)code);
        if (abi_buf_puts(b, tmp, e) < 0)
            goto done;
    } else {
        if (abi_buf_puts(b, "reverted: ", e) < 0 || abi_buf_puts(b, custom->name, e) < 0 ||
            abi_buf_puts(b, "(", e) < 0)
            goto done;
        for (size_t i = 0; i < v->n_items; i++) {
            const char *nm = custom->inputs->names ? custom->inputs->names[i] : NULL;
            if ((i && abi_buf_puts(b, ", ", e) < 0) ||
                (nm && (abi_buf_puts(b, nm, e) < 0 || abi_buf_puts(b, ": ", e) < 0)) ||
                abi_value_format(b, v->items[i], e) < 0)
                goto done;
        }
        if (abi_buf_puts(b, ")", e) < 0)
            goto done;
    }
    rc = 0;
done:
    abi_value_free(&v);
    abi_type_free(&t);
    return rc;
}

int abi_revert_decode(char **msg, const uint8_t *data, size_t len, const abi_json *errors, err *e)
{
    buf b;
    buf_init(&b);
    if (revert_words(&b, data, len, errors, e) < 0 || buf_push(&b, 0, e) < 0) {
        buf_free(&b);
        return -1;
    }
    *msg = (char *)b.data;
    return 0;
}
