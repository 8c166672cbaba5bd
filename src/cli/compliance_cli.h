/* compliance_cli.h: what `fusion entity` and `fusion case` share (cmd_entity.c defines
 * them): the acting operator and chain names. The desk opens with cli_desk_open. */
#ifndef FUSION_CLI_COMPLIANCE_CLI_H
#define FUSION_CLI_COMPLIANCE_CLI_H

#include "cli/cli.h"
#include "compliance/compliance.h"
#include "store/store.h"

/* The acting operator: ctx->operator_name (roles are not checked yet), now = time(NULL). */
compliance_actor ccli_actor(const cli_ctx *ctx);
/* A chain by name or decimal id; "any" or "0" is every chain (0). */
int ccli_chain(store *db, const char *s, uint64_t *chain_id, err *e)
    __attribute__((warn_unused_result));

/* `fusion entity travel` (cmd_entity.c) and `fusion case travel-rule` (cmd_lists.c). */
int ccli_entity_travel(cli_ctx *ctx, int argc, char **argv);
int ccli_case_travel_rule(cli_ctx *ctx, int argc, char **argv);

#endif
