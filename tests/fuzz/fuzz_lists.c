/* fuzz_lists.c: libFuzzer target for the published list formats `fusion lists import`
 * reads (OFAC SDN.CSV and advanced XML, the FATF CSV, a plain address list). The first
 * byte picks the format; the rest is the file. Any input must give a clean result (sorted,
 * distinct keys; FATF keys two capitals, address details asset codes) or one printable
 * error line. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/listfmt.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    list_format fmt = (list_format)(data[0] % 4);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    err e;
    err_clear(&e);
    list_parsed p;
    if (list_parse(&p, fmt, "fuzz", text, len, &e) < 0) {
        if (e.msg[0] == '\0' || (e.code != ERR_INVALID && e.code != ERR_NOMEM))
            abort();
        if (!fuzz_msg_safe(e.msg))
            abort();
        if (p.items || p.n)
            abort();
        return 0;
    }
    for (size_t i = 0; i < p.n; i++) {
        size_t kl = strnlen(p.items[i].key, LIST_KEY_MAX);
        if (kl == LIST_KEY_MAX || strnlen(p.items[i].detail, LIST_DETAIL_MAX) == LIST_DETAIL_MAX)
            abort();
        if (fmt != LIST_FMT_FATF && kl != 42)
            abort();
        /* a FATF key is a code the screening rules read back (two capitals); an address's
         * detail is an asset code (letters, digits, _): no outside byte is stored raw */
        if (fmt == LIST_FMT_FATF &&
            (kl != 2 || p.items[i].key[0] < 'A' || p.items[i].key[0] > 'Z' ||
             p.items[i].key[1] < 'A' || p.items[i].key[1] > 'Z'))
            abort();
        for (const char *c = p.items[i].detail; fmt != LIST_FMT_FATF && *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_')
                abort();
        if (i && strcmp(p.items[i - 1].key, p.items[i].key) >= 0)
            abort(); /* sorted and distinct */
    }
    list_parsed_free(&p);
    return 0;
}
