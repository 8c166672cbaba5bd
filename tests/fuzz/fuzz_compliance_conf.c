/* fuzz_compliance_conf.c: libFuzzer target for <home>/compliance.conf, a file the desk's
 * officers edit by hand. Any input must give either a configuration that passes the rule
 * checks (and prints back as text) or one printable error line, and must leave the
 * configuration untouched on error (all or nothing). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance/compliance.h"
#include "fuzz_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fmemopen((void *)(uintptr_t)data, size, "r");
    if (!f)
        return 0; /* fmemopen refuses size 0 on some libcs */
    compliance_config c, before;
    compliance_config_default(&c);
    before = c;
    err e;
    err_clear(&e);
    int rc = compliance_config_read(&c, "fuzz.conf", f, &e);
    fclose(f);
    if (rc < 0) {
        if (e.msg[0] == '\0' || memcmp(&c, &before, sizeof c) != 0)
            abort();
        if (!fuzz_msg_safe(e.msg)) /* one safe line, whatever the input */
            abort();
        return 0;
    }
    err ce;
    if (screen_config_check(&c.rules, &ce) < 0)
        abort();
    char *text = compliance_config_text(&c);
    free(text);
    return 0;
}
