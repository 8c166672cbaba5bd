/* fuzz_entity_csv.c: libFuzzer target for the KYC/KYB registry's CSV import (`fusion entity
 * import`), a file an officer exports from a spreadsheet. Any input must end (the record
 * reader always moves on: an unterminated quote once looped for ever) with either every row
 * good or a bounded report of bad lines, within the memory limit scripts/test gives it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "compliance/compliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compliance_import_report r;
    err e;
    err_clear(&e);
    int rc = compliance_entity_csv_check((const char *)data, size, "fuzz.csv", &r, &e);
    if (rc == 0 && (r.n_errors || r.n_more))
        abort(); /* good, yet bad lines reported */
    if (rc < 0 && e.msg[0] == '\0')
        abort();
    if (r.n_errors > COMPLIANCE_IMPORT_ERRORS_MAX || r.n_rows > size)
        abort(); /* the report is bounded; every row takes at least one byte */
    for (size_t i = 0; i < r.n_errors; i++)
        if (r.errors[i].line == 0 || r.errors[i].line > size + 1 || !r.errors[i].msg[0])
            abort();
    compliance_import_report_free(&r);
    return 0;
}
