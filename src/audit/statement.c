/* statement.c: the Decision typed data of statement.h (pure: no file, no database). */
#include "audit/statement.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "crypto/eip712.h"
#include "crypto/keccak.h"

void statement_domain(uint8_t out[32], const uint8_t desk_id[32])
{
    eip712_struct s;
    addr zero = {{0}};
    eip712_struct_init(&s, STATEMENT_DOMAIN_TYPE);
    eip712_put_string(&s, STATEMENT_DOMAIN_NAME);
    eip712_put_string(&s, STATEMENT_DOMAIN_VERSION);
    eip712_put_uint(&s, 0);
    eip712_put_address(&s, &zero);
    eip712_put_word(&s, desk_id);
    eip712_struct_final(&s, out);
}

void statement_digest(uint8_t out[32], const uint8_t desk_id[32], const statement *st)
{
    uint8_t dom[32], hs[32];
    statement_domain(dom, desk_id);
    eip712_struct s;
    eip712_struct_init(&s, STATEMENT_TYPE);
    eip712_put_string(&s, st->kind);
    eip712_put_string(&s, st->subject);
    eip712_put_word(&s, st->payload_hash);
    eip712_put_uint(&s, st->at);
    eip712_put_address(&s, &st->operator_addr);
    eip712_put_uint(&s, st->seq);
    eip712_struct_final(&s, hs);
    eip712_digest(out, dom, hs);
}

int statement_payload_hash(uint8_t out[32], const json_t *details, err *e)
{
    json_t *copy = details ? json_copy((json_t *)(uintptr_t)details) : json_object();
    if (!copy)
        return err_set(e, ERR_NOMEM, "out of memory hashing a decision");
    json_object_del(copy, STATEMENT_SIG_KEY);
    char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    json_decref(copy);
    if (!text)
        return err_set(e, ERR_INVALID, "a decision's details are not valid UTF-8");
    keccak256(out, text, strlen(text));
    free(text);
    return 0;
}

void statement_subject(char out[STATEMENT_SUBJECT_MAX], const char *kind, const json_t *details)
{
    static const char *const ids[] = {"case", "entity", "alert"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const json_t *v = json_object_get(details, ids[i]);
        if (json_is_integer(v)) {
            snprintf(out, STATEMENT_SUBJECT_MAX, "%s:%" JSON_INTEGER_FORMAT, ids[i],
                     json_integer_value(v));
            return;
        }
    }
    const json_t *file = json_object_get(details, "file");
    if (strncmp(kind, "config.", 7) == 0 && json_is_string(file)) {
        snprintf(out, STATEMENT_SUBJECT_MAX, "config:%.120s", json_string_value(file));
        return;
    }
    const json_t *name = json_object_get(details, "name");
    if (strncmp(kind, "operator.", 9) == 0 && json_is_string(name)) {
        snprintf(out, STATEMENT_SUBJECT_MAX, "operator:%.120s", json_string_value(name));
        return;
    }
    snprintf(out, STATEMENT_SUBJECT_MAX, "desk");
}

json_t *statement_typed_data(const uint8_t desk_id[32], const statement *st)
{
    char salt[67], ph[67], op[ADDR_STR_MAX], at[24], seq[24];
    hex_encode(salt, sizeof salt, desk_id, 32, true);
    hex_encode(ph, sizeof ph, st->payload_hash, 32, true);
    addr_to_checksum(op, &st->operator_addr);
    snprintf(at, sizeof at, "%" PRIu64, st->at);
    snprintf(seq, sizeof seq, "%" PRIu64, st->seq);
    return json_pack(
        "{s:{s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}],"
        "s:[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]},"
        "s:s,s:{s:s,s:s,s:i,s:s,s:s},s:{s:s,s:s,s:s,s:s,s:s,s:s}}",
        "types", "EIP712Domain", "name", "name", "type", "string", "name", "version", "type",
        "string", "name", "chainId", "type", "uint256", "name", "verifyingContract", "type",
        "address", "name", "salt", "type", "bytes32", "Decision", "name", "kind", "type", "string",
        "name", "subject", "type", "string", "name", "payloadHash", "type", "bytes32", "name", "at",
        "type", "uint64", "name", "operator", "type", "address", "name", "seq", "type", "uint256",
        "primaryType", "Decision", "domain", "name", STATEMENT_DOMAIN_NAME, "version",
        STATEMENT_DOMAIN_VERSION, "chainId", 0, "verifyingContract",
        "0x0000000000000000000000000000000000000000", "salt", salt, "message", "kind", st->kind,
        "subject", st->subject, "payloadHash", ph, "at", at, "operator", op, "seq", seq);
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

bool statement_is_decision(const char *action)
{
    /* What the screener and the desk's own screening write on their own is not a
     * decision: cases opened by a hit, notes that an escrow left the chain. */
    if (!strcmp(action, "case.open") || !strcmp(action, "case.escrow_vanished") ||
        !strcmp(action, "case.escrow_replaced"))
        return false;
    return !strcmp(action, "desk.genesis") || has_prefix(action, "operator.") ||
           has_prefix(action, "case.") || has_prefix(action, "entity.") ||
           has_prefix(action, "compliance.") || has_prefix(action, "chain.") ||
           has_prefix(action, "asset.") || has_prefix(action, "config.") ||
           !strcmp(action, "alert.ack") || !strcmp(action, "risk.set_drawn") ||
           !strcmp(action, "api.client_add") || !strcmp(action, "api.client_revoke") ||
           !strcmp(action, "proposal.reject") || has_prefix(action, "credit.") ||
           !strcmp(action, "risk.override");
}

const char *statement_role_for(const char *action)
{
    if (!strcmp(action, "desk.genesis") || has_prefix(action, "operator.") ||
        !strcmp(action, "config.policy") || !strcmp(action, "config.risk_limits") ||
        !strcmp(action, "config.book") ||
        !strcmp(action, "api.client_add") || !strcmp(action, "api.client_revoke"))
        return "admin";
    if (!strcmp(action, "config.compliance") || !strcmp(action, "config.desk_sanctions") ||
        !strcmp(action, "config.prices"))
        return "compliance";
    if (has_prefix(action, "case.") || has_prefix(action, "entity.") ||
        has_prefix(action, "compliance."))
        return "compliance";
    if (has_prefix(action, "credit.") || !strcmp(action, "risk.override"))
        return "risk";
    return NULL;
}
