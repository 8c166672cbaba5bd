/* audit_priv.h: what audit.c and signed.c share inside the audit module. */
#ifndef FUSION_AUDIT_PRIV_H
#define FUSION_AUDIT_PRIV_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define AUDIT_DESK_SQL                                                                             \
    "CREATE TABLE IF NOT EXISTS audit_desk ("                                                      \
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"                                                     \
    "  desk_id TEXT NOT NULL,"                                                                     \
    "  genesis_seq INTEGER NOT NULL"                                                               \
    ");"

/* The last signed content of each of the desk's configuration files (config_sig.c): written
 * in the same step as the row of its config.* decision. */
#define AUDIT_CONFIG_SQL                                                                           \
    "CREATE TABLE IF NOT EXISTS audit_config ("                                                    \
    "  file TEXT PRIMARY KEY,"                                                                     \
    "  sha256 TEXT NOT NULL,"                                                                      \
    "  seq INTEGER NOT NULL,"                                                                      \
    "  operator TEXT NOT NULL"                                                                     \
    ");"

/* Opens <home>/desk.db when it exists (*out NULL otherwise). */
int audit_db_open(sqlite3 **out, const char *home, err *e);
int audit_desk_read(sqlite3 *db, uint8_t desk_id[32], uint64_t *genesis_seq, bool *present,
                    err *e);
/* For row seq about to be appended: on a desk with a genesis, a decision gets its signed
 * statement (*signed_details, a new object to use instead of details); a genesis records
 * the desk id. Refuses a decision without the matching signer. */
int audit_sign_row(sqlite3 *db, uint64_t seq, const char *operator_name, const char *action,
                   const json_t *details, json_t **signed_details, err *e);

/* After a config.* decision of row seq was signed: records its file's hash in desk.db. */
int audit_config_record(sqlite3 *db, uint64_t seq, const char *operator_name,
                        const json_t *details, err *e);

/* The log's signed decisions verify for this desk id and genesis row, before desk.db holds
 * them (audit adopt checks the log before it records anything of it); one line when not. */
int audit_sigs_check(const char *home, const uint8_t desk_id[32], uint64_t genesis_seq,
                     err *e);

#endif
