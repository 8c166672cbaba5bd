/* fuzz_rpc_provider.c: libFuzzer target for what a hosted provider's answer headers and
 * endpoint URLs bring in (src/rpc/rpc_classify.c, rpc_url.c): the Retry-After value, as
 * seconds or an HTTP date, and the redaction of a URL for display. A Retry-After is
 * either refused or a wait of 0 .. a day; a redacted URL is a bounded string that keeps
 * no long path segment or query value that is not a template. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t secs = -1;
    if (rpc_retry_after_parse(s, 1700000000, &secs) && (secs < 0 || secs > 86400))
        abort();
    char out[96];
    memset(out, 'x', sizeof out);
    rpc_url_redact(out, sizeof out, s);
    if (!memchr(out, '\0', sizeof out))
        abort();
    char big[4096];
    rpc_url_redact(big, sizeof big, s);
    /* "***" or the input's own bytes only: never longer than the input plus the masks */
    if (strlen(big) > size + 4 * 64 + 8)
        abort();
    free(s);
    return 0;
}
