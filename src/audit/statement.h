/* statement.h: the desk's signed decisions. Every off-chain decision (case, entity,
 * operator, compliance-rule, alert and risk changes, the configuration files) is an
 * EIP-712 statement signed by the deciding operator's key and stored inside its audit
 * row, so the row's hash chain covers the signature and anyone can check it with a
 * standard wallet tool.
 *
 * One generic type for every kind of decision:
 *   Decision(string kind,string subject,bytes32 payloadHash,uint64 at,address operator,
 *            uint256 seq)
 * kind is the audit action ("case.propose"), subject what it is about ("case:12"),
 * payloadHash keccak256 of the row's details as stored (compact JSON, sorted keys, ASCII,
 * without the "_sig" member), at Unix seconds, operator the signing key, seq the audit
 * row's sequence number (a statement belongs to exactly one row). The domain names this
 * desk: EIP712Domain(string name,string version,uint256 chainId,address
 * verifyingContract,bytes32 salt) with name "Fusion Prime Desk", version "1", chainId 0,
 * verifyingContract the zero address and salt the desk id (32 random bytes made when the
 * desk's genesis was signed), so a statement of another desk never verifies here. */
#ifndef FUSION_AUDIT_STATEMENT_H
#define FUSION_AUDIT_STATEMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/address.h"

#define STATEMENT_DOMAIN_NAME "Fusion Prime Desk"
#define STATEMENT_DOMAIN_VERSION "1"
#define STATEMENT_DOMAIN_TYPE                                                                      \
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,"          \
    "bytes32 salt)"
#define STATEMENT_TYPE                                                                             \
    "Decision(string kind,string subject,bytes32 payloadHash,uint64 at,address operator,"         \
    "uint256 seq)"
#define STATEMENT_SIG_KEY "_sig" /* the member of an audit row's details holding it */
#define STATEMENT_KIND_MAX 64
#define STATEMENT_SUBJECT_MAX 160

typedef struct statement {
    char kind[STATEMENT_KIND_MAX];
    char subject[STATEMENT_SUBJECT_MAX];
    uint8_t payload_hash[32];
    uint64_t at;
    addr operator_addr;
    uint64_t seq;
} statement;

/* The domain separator of the desk whose id is desk_id. */
void statement_domain(uint8_t out[32], const uint8_t desk_id[32]);
/* The digest an operator signs. */
void statement_digest(uint8_t out[32], const uint8_t desk_id[32], const statement *st);
/* keccak256 of details as the audit row stores them, without STATEMENT_SIG_KEY. */
int statement_payload_hash(uint8_t out[32], const json_t *details, err *e)
    __attribute__((warn_unused_result));
/* What a decision is about, from its details: "case:N", "entity:N", "alert:N",
 * "operator:NAME", "config:FILE", else "desk". */
void statement_subject(char out[STATEMENT_SUBJECT_MAX], const char *kind, const json_t *details);
/* The statement as eth_signTypedData_v4 JSON ({types, primaryType, domain, message}):
 * what `cast wallet verify --data` reads. NULL when out of memory. */
json_t *statement_typed_data(const uint8_t desk_id[32], const statement *st);

/* Whether an audit action is a decision that must be signed on a desk with a genesis. */
bool statement_is_decision(const char *action);
/* The role an operator must hold to sign a decision of this kind ("admin", "compliance"),
 * NULL when any operator may. */
const char *statement_role_for(const char *action);

#endif
