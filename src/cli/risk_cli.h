/* risk_cli.h: what the risk-related subcommands (risk report, alerts, asset, report daily,
 * serve) share: the JSON / text form of an alert, the snapshot's JSON, and the risk
 * service's view of the desk's book. CLI-private. */
#ifndef FUSION_CLI_RISK_CLI_H
#define FUSION_CLI_RISK_CLI_H

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "risk/service.h"
#include "store/store.h"

json_t *risk_cli_alert_json(const store_alert *a);
/* One line per alert: id, severity, state, raised time, message. */
void risk_cli_alert_print(const store_alert *a);

struct risk_snapshot;
/* The whole risk snapshot as `fusion risk report --json` prints it (cmd_risk.c). */
json_t *risk_cli_snapshot_json(const struct risk_snapshot *s);

/* The risk service over the desk's book, as `fusion risk report`, `report daily`'s risk
 * section and `fusion serve`'s risk worker read it (the UI's Dashboard the same way): the
 * book attached to db for reads (pg_desk_book_attach: on a desk whose book.conf names a
 * server its escrows and checkpoints are read there; a file the desk refuses: -1, its one
 * line), o->home = home and o->bridges = sync_bridge_book_list (the value in flight from
 * the server's bridge legs). A server away is found by the refresh, whose one line then
 * begins STORE_BOOK_AWAY. A desk without book.conf: desk.db, as before. */
int risk_cli_book(store *db, const char *home, risk_service_opts *o, err *e)
    __attribute__((warn_unused_result));

#endif
