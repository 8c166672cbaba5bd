/* internal.h: what the files of src/compliance share and nobody else needs: the evidence
 * details the lists keep (which file named an address, a jurisdiction's name). */
#ifndef FUSION_COMPLIANCE_INTERNAL_H
#define FUSION_COMPLIANCE_INTERNAL_H

#include <stddef.h>

#include "compliance/compliance.h"
#include "compliance/screen.h"

/* Where a listed address came from: "sanctioned_addresses_ETH.txt line 12", or for the
 * desk list "desk.txt line 3: <reason>". Returns false when a is not listed. */
bool screen_sanctions_source(const screen_sanctions *s, const addr *a, char *out, size_t cap);
/* Adds a source of already parsed addresses (an imported list version): name is quoted in
 * the evidence, sha256 is the imported file's; published moves the list's as-of date when
 * it is newer. */
int screen_sanctions_add_entries(screen_sanctions *s, const char *name, const char *published,
                                 const uint8_t sha256[32], const addr *addrs,
                                 const uint32_t *lines, size_t n, err *e) COMPLIANCE_WUR;
/* The sanctions and FATF lists from the current imported versions in s: an imported
 * "ofac-sdn" replaces the shipped snapshot (manifest), other address lists are added, the
 * desk list always; an imported FATF version replaces fatf_path. *max_id: the newest
 * version id (0: none). */
int compliance_lists_build(store *s, const char *manifest, const char *desk_list,
                           const char *fatf_path, screen_sanctions **sanc, screen_fatf **fatf,
                           int64_t *max_id, err *e) COMPLIANCE_WUR;
/* Loads the desk's own accounts into ctx when cfg->own_exempt (else clears them): the
 * operators' keys and every address of an entity linked to one of them. */
int compliance_own_accounts(store *s, const compliance_config *cfg, screen_ctx *ctx,
                            err *e) COMPLIANCE_WUR;
/* An escrow's amount in USD (an estimate) from prices, or SCREEN_USD_UNKNOWN. */
double compliance_usd_of(store *s, const compliance_prices *prices, const store_escrow *x);
/* The list's name for a listed jurisdiction, or NULL. */
const char *screen_fatf_name(const screen_fatf *f, const char *iso2);

/* compliance_screen_load with a given rule configuration. */
int screen_load_cfg(screen_ctx **out, const char *manifest, const char *desk_list,
                    const char *fatf, const screen_config *rules, err *e) COMPLIANCE_WUR;
/* compliance_screen_pending with the SLA hours of cfg (NULL: the defaults). */
int screen_pending_cfg(store *s, const compliance_actor *a, screen_ctx *ctx,
                       const compliance_prices *prices, const compliance_config *cfg,
                       compliance_screen_stats *stats, err *e) COMPLIANCE_WUR;
/* Stores the hits of one event about an escrow (zero address: a create, before the
 * escrow exists) and opens or extends their cases (one per subject and escrow), with case
 * events. Each opened case is appended to the JSON array opened (the caller writes them
 * in one audit row "case.open" {"cases": [...]}), or with opened NULL gets its own audit
 * row now. Inside the caller's transaction. */
int screen_store_hits(store *s, const compliance_actor *a, const compliance_config *cfg,
                      uint64_t chain_id, const addr *escrow, screen_kind kind,
                      const screen_hit *hits, size_t n, compliance_screen_stats *st,
                      json_t *opened, err *e) COMPLIANCE_WUR;
/* The keys of cases about no escrow (chain 0): a KYC date (which 1 expiry, 2 review; the
 * day) and a credit facility (its id). about.c reads them back. */
addr compliance_kyc_marker(int which, int32_t day);
addr compliance_facility_marker(int64_t facility_id);
/* An inflow hit's evidence starts with this and the transfer's 0x hash. */
#define COMPLIANCE_INFLOW_EVIDENCE STORE_INFLOW_EVIDENCE

/* Addresses of confirmed hits (cases closed as blocked or reported) feed the prior-hit
 * rule. */
int screen_flag_confirmed(store *s, screen_ctx *ctx, err *e) COMPLIANCE_WUR;

#endif
