/* risk_cli.h: what the risk-related subcommands (risk report, alerts, asset) share: opening
 * the desk database with its log, and the JSON / text form of an alert. CLI-private. */
#ifndef FUSION_CLI_RISK_CLI_H
#define FUSION_CLI_RISK_CLI_H

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "store/store.h"

/* Creates the home if needed, opens <home>/fusion.log and <home>/desk.db. */
int risk_cli_open_desk(const cli_ctx *ctx, store **db, err *e) __attribute__((warn_unused_result));
json_t *risk_cli_alert_json(const store_alert *a);
/* One line per alert: id, severity, state, raised time, message. */
void risk_cli_alert_print(const store_alert *a);

#endif
