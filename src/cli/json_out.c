/* json_out.c: every JSON document the command line prints (--json, and the commands whose
 * output is JSON) goes through here. JSON_ENSURE_ASCII is always added: a string from
 * outside (a counterparty's name, a note, a reason, a token symbol, a node's message) is
 * written as \uXXXX escapes, so bidi overrides, C1 controls and invisible characters never
 * reach the terminal raw, and every JSON reader decodes the very same string. (JSON itself
 * escapes the ASCII control characters.) The HTTP API (src/api) dumps its own bodies. */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>

char *cli_json_text(const json_t *j, size_t flags)
{
    return j ? json_dumps(j, flags | JSON_ENSURE_ASCII) : NULL;
}

int cli_json_print(const json_t *j, size_t flags)
{
    if (!j || json_dumpf(j, stdout, flags | JSON_ENSURE_ASCII) != 0)
        return -1;
    return putchar('\n') == EOF ? -1 : 0;
}
