/* risk_cli.h: what the risk-related subcommands (risk report, alerts, asset) share: the
 * JSON / text form of an alert. CLI-private. */
#ifndef FUSION_CLI_RISK_CLI_H
#define FUSION_CLI_RISK_CLI_H

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "store/store.h"

json_t *risk_cli_alert_json(const store_alert *a);
/* One line per alert: id, severity, state, raised time, message. */
void risk_cli_alert_print(const store_alert *a);

struct risk_snapshot;
/* The whole risk snapshot as `fusion risk report --json` prints it (cmd_risk.c). */
json_t *risk_cli_snapshot_json(const struct risk_snapshot *s);

#endif
