/* csv_out.c: `--csv` for the listings: the rows each listing builds for --json, written as
 * one CSV table on stdout (base/csv.h). On a terminal the cells are made safe to show;
 * redirected to a file they keep the exact data (with the spreadsheet formula guard). */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/csv.h"

int cli_csv_write(const json_t *rows, err *e)
{
    buf b;
    buf_init(&b);
    int rc = csv_from_json(&b, rows, isatty(STDOUT_FILENO) ? CSV_TERMINAL : 0, e);
    if (rc == 0 && b.len && (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0))
        rc = err_set(e, ERR_IO, "cannot write the CSV to stdout");
    buf_free(&b);
    return rc;
}

int cli_csv_print(const json_t *rows)
{
    err e;
    err_clear(&e);
    return cli_csv_write(rows, &e) < 0 ? cli_fail(&e) : EXIT_OK;
}

int cli_json_or_csv(const char *cmd, bool *json, bool csv)
{
    if (csv && *json)
        return cli_usage(cmd, "--json and --csv are alternatives: give one");
    if (csv)
        *json = true; /* the rows are built as for --json */
    return EXIT_OK;
}
