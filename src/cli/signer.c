/* signer.c: --operator NAME means NAME's key. The commands that record decisions are
 * refused on a desk without a signed genesis; on one whose genesis is signed, the
 * operator's key is unlocked (passphrase from --passphrase-file, else asked) and installed
 * as the signer of the audit rows the command writes; without it the audit module refuses
 * the decision. */
#include "cli/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "keystore/keystore.h"
#include "store/store.h"

static keystore *sg_ks;
static ks_key *sg_key;
static char sg_name[64];

static void signer_release(void)
{
    audit_signer_set(NULL);
    sg_name[0] = '\0';
    keystore_lock(&sg_key);
    keystore_free(&sg_ks);
}

static int sign_with_key(void *ctx, uint8_t sig65[65], const uint8_t digest[32], err *e)
{
    (void)ctx;
    if (!sg_key || !keystore_key_unlocked(sg_key))
        return err_set(e, ERR_DENIED, "the operator's key is locked");
    return keystore_sign_typed(sg_key, sig65, digest, e);
}

int cli_signer_unlock(const cli_ctx *ctx, const char *name, err *e)
{
    store *db = NULL;
    store_operator op;
    bool found = false;
    char dbpath[sizeof ctx->home + 16];
    snprintf(dbpath, sizeof dbpath, "%s/desk.db", ctx->home);
    int rc = store_open(&db, dbpath, e);
    if (rc == 0)
        rc = store_operator_get(db, name, &op, &found, e);
    store_close(&db);
    if (rc < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED, "\"%.63s\" is not an operator of this desk: decisions are "
                       "signed by operators (see `fusion operator list`)", name);
    return cli_signer_unlock_key(ctx, name, &op.address, e);
}

int cli_signer_unlock_key(const cli_ctx *ctx, const char *name, const addr *key, err *e)
{
    signer_release();
    char pass[1024];
    int rc = keystore_open(&sg_ks, ctx->home, name, e);
    if (rc == 0) {
        ks_entry ent;
        if (keystore_get(sg_ks, key, &ent, e) < 0) {
            char a[ADDR_STR_MAX];
            addr_to_checksum(a, key);
            rc = err_set(e, ERR_NOT_FOUND, "the key of operator \"%.63s\" (%s) is not in this "
                         "desk's key store: import it (fusion key import) to sign as %.63s",
                         name, a, name);
        }
    }
    if (rc == 0)
        rc = cli_passphrase(ctx, pass, sizeof pass, e);
    if (rc == 0 && keystore_unlock(sg_ks, key, pass, &sg_key, e) < 0)
        rc = err_prefix(e, "cannot sign as %.63s", name);
    sodium_memzero(pass, sizeof pass);
    if (rc < 0) {
        signer_release();
        return -1;
    }
    static bool registered;
    if (!registered && atexit(signer_release) == 0)
        registered = true;
    snprintf(sg_name, sizeof sg_name, "%s", name);
    audit_signer s;
    memset(&s, 0, sizeof s);
    snprintf(s.operator_name, sizeof s.operator_name, "%s", name);
    s.address = *key;
    s.sign = sign_with_key;
    audit_signer_set(&s);
    return 0;
}

ks_key *cli_signer_key(const char *name)
{
    if (!sg_key || !keystore_key_unlocked(sg_key) || strcmp(sg_name, name) != 0)
        return NULL;
    return sg_key;
}

/* The subcommands that record decisions. */
static const char *const deciding[][2] = {
    {"case", "take"},    {"case", "next"},     {"case", "note"},     {"case", "snooze"},
    {"case", "escalate"}, {"case", "clear"},   {"case", "block"},    {"case", "report"},
    {"case", "rules"},   {"entity", "add"},    {"entity", "edit"},   {"entity", "link"},
    {"entity", "import"}, {"alerts", "ack"},   {"risk", "set-drawn"}, {"operator", "add"},
    {"operator", "roles"}, {"operator", "remove"}, {"chain", "add"},    {"chain", "add-factory"},
    {"chain", "add-endpoint"}, {"chain", "remove"}, {"asset", "add-token"}, {"asset", "add-feed"},
    {"config", "sign"}, {"lists", "import"}, {"entity", "travel"},
    {"api", "client"}, {"proposal", "reject"},
    {"credit", "facility"}, {"credit", "draw"}, {"credit", "repay"}, {"credit", "fee"},
    {"credit", "withdrawal"}, {"bridge", "config"},
};

int cli_signer_begin(cli_ctx *ctx, int argc, char **argv, err *e)
{
    if (argc < 2)
        return 0;
    bool decides = false;
    for (size_t i = 0; i < sizeof deciding / sizeof deciding[0]; i++)
        if (!strcmp(argv[0], deciding[i][0]) && !strcmp(argv[1], deciding[i][1]))
            decides = true;
    /* `case rules` decides only with --sanctions; help and usage errors sign nothing. */
    if (decides && !strcmp(argv[1], "rules")) {
        decides = false;
        for (int i = 2; i < argc; i++)
            if (!strcmp(argv[i], "--sanctions"))
                decides = true;
    }
    /* `api client` decides with add and revoke only */
    if (decides && !strcmp(argv[0], "api"))
        decides = argc > 2 && (!strcmp(argv[2], "add") || !strcmp(argv[2], "revoke"));
    /* `credit facility` decides only with add or edit. */
    if (decides && !strcmp(argv[0], "credit") && !strcmp(argv[1], "facility"))
        decides = argc > 2 && (!strcmp(argv[2], "add") || !strcmp(argv[2], "edit"));
    /* `credit withdrawal` decides only when a risk officer overrides the health check. */
    if (decides && !strcmp(argv[0], "credit") && !strcmp(argv[1], "withdrawal")) {
        decides = false;
        for (int i = 2; i < argc; i++)
            if (!strncmp(argv[i], "--override", 10))
                decides = true;
    }
    /* an escrow create/fund/release or a bridge send decides when a risk officer overrides
     * the pre-trade risk limits */
    if ((!strcmp(argv[0], "escrow") &&
         (!strcmp(argv[1], "create") || !strcmp(argv[1], "fund") || !strcmp(argv[1], "release"))) ||
        (!strcmp(argv[0], "bridge") && !strcmp(argv[1], "send")))
        for (int i = 2; i < argc; i++)
            if (!strncmp(argv[i], "--override", 10))
                decides = true;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            decides = false;
    if (!decides)
        return 0;
    uint8_t id[32];
    bool present = false;
    if (audit_desk_id(ctx->home, id, &present, e) < 0)
        return -1;
    if (!present) {
        /* refused on opening the desk, before any prompt or write (the audit module would
         * refuse the decision too) */
        ctx->needs_genesis = true;
        return 0;
    }
    return cli_signer_unlock(ctx, ctx->operator_name, e);
}
