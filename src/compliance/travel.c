/* travel.c: Travel Rule data. For a transfer the desk signs at or above
 * travel_rule.threshold_usd, the originator's and the beneficiary's data go with it in the
 * IVMS101 data model (interVASP Messaging Standard: natural or legal person, name
 * identifiers, geographic address, national identification, customer identification,
 * date and place of birth, account numbers). The registry holds the name, type and
 * country; the rest is set per entity with `fusion entity travel`. A transfer whose
 * required fields are missing is refused before signing, naming them. */
#include "compliance/compliance.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "compliance/internal.h"

static bool text_ok(const char *s)
{
    return text_unsafe_at(s, strlen(s)) == strlen(s);
}

int compliance_entity_travel_set(store *s, const compliance_actor *a, int64_t entity_id,
                                 const store_entity_travel *t, err *e)
{
    if (compliance_require_officer(s, a, e) < 0)
        return -1;
    const struct {
        const char *v, *what;
    } fields[] = {{t->street, "--street"},       {t->town, "--town"},
                  {t->postcode, "--postcode"},   {t->national_id, "--national-id"},
                  {t->birth_place, "--birth-place"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (!text_ok(fields[i].v))
            return err_set(e, ERR_INVALID, "%s holds control or bidi characters: plain text",
                           fields[i].what);
    if (t->country[0] && !compliance_country_valid(t->country))
        return err_set(e, ERR_INVALID, "--address-country '%.3s' is not an ISO 3166 code",
                       t->country);
    static const char *const types[] = {"ARNU", "CCPT", "RAID", "DRLC", "FIIN", "TXID",
                                        "SOCS", "IDCD", "LEIX", "MISC"};
    bool type_ok = !t->national_id_type[0];
    for (size_t i = 0; i < sizeof types / sizeof types[0] && !type_ok; i++)
        type_ok = !strcmp(t->national_id_type, types[i]);
    if (!type_ok)
        return err_set(e, ERR_INVALID,
                       "--national-id-type '%.8s' is not an IVMS101 code (ARNU, CCPT, RAID, "
                       "DRLC, FIIN, TXID, SOCS, IDCD, LEIX, MISC)",
                       t->national_id_type);
    if (t->national_id[0] && !t->national_id_type[0])
        return err_set(e, ERR_INVALID, "--national-id needs --national-id-type (e.g. LEIX, CCPT)");
    int32_t day;
    if (t->birth_date[0] && screen_date_parse(&day, t->birth_date, e) < 0)
        return err_prefix(e, "--birth-date");
    store_entity x;
    bool found = false;
    if (store_entity_get(s, entity_id, &x, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no entity #%lld", (long long)entity_id);
    store_entity_travel v = *t;
    v.entity_id = entity_id;
    v.updated_at = a->now;
    json_t *d = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "entity", (json_int_t)entity_id,
                          "street", v.street, "town", v.town, "postcode", v.postcode, "country",
                          v.country, "national_id", v.national_id, "national_id_type",
                          v.national_id_type, "birth_date", v.birth_date, "birth_place",
                          v.birth_place);
    if (!d)
        return err_set(e, ERR_NOMEM, "out of memory recording Travel Rule data");
    int rc = store_begin(s, e);
    if (rc == 0 && (store_entity_travel_put(s, &v, e) < 0 ||
                    store_audit(s, a->home, a->operator_name, "entity.travel_data", d, e) < 0 ||
                    store_commit(s, e) < 0)) {
        store_rollback(s);
        rc = -1;
    }
    json_decref(d);
    return rc;
}

/* One person of IVMS101 for the party at a; missing names what a transfer needs and is
 * not there ("originator: geographic address or national identification"). */
static json_t *person(store *s, uint64_t chain_id, const addr *a, bool originator, char *missing,
                      size_t cap, err *e)
{
    const char *role = originator ? "originator" : "beneficiary";
    size_t ml = strlen(missing);
    int64_t id = 0;
    if (store_entity_find_addr(s, chain_id, a, &id, e) < 0)
        return NULL;
    char hex[ADDR_STR_MAX];
    addr_to_checksum(hex, a);
    if (!id) {
        snprintf(missing + ml, cap - ml, "%s%s: name (%s is linked to no entity)", ml ? "; " : "",
                 role, hex);
        return json_object();
    }
    store_entity x;
    store_entity_travel t;
    bool found = false, have_t = false;
    if (store_entity_get(s, id, &x, &found, e) < 0 ||
        store_entity_travel_get(s, id, &t, &have_t, e) < 0)
        return NULL;
    bool natural = !strcmp(x.type, "individual");
    char cust[32];
    snprintf(cust, sizeof cust, "entity:%lld", (long long)id);
    json_t *p = json_object();
    json_t *name =
        natural ? json_pack("{s:[{s:s,s:s}]}", "nameIdentifier", "primaryIdentifier", x.name,
                            "nameIdentifierType", "LEGL")
                : json_pack("{s:[{s:s,s:s}]}", "nameIdentifier", "legalPersonName", x.name,
                            "legalPersonNameIdentifierType", "LEGL");
    json_object_set_new(p, "name", name);
    json_object_set_new(p, "customerIdentification", json_string(cust));
    bool has_addr = have_t && t.street[0] && t.town[0] && t.country[0];
    bool has_natid = have_t && t.national_id[0];
    bool has_birth = natural && have_t && t.birth_date[0] && t.birth_place[0];
    if (has_addr)
        json_object_set_new(p, "geographicAddress",
                            json_pack("[{s:s,s:s,s:s,s:s,s:s}]", "addressType", "GEOG",
                                      "streetName", t.street, "townName", t.town, "postCode",
                                      t.postcode, "country", t.country));
    if (has_natid)
        json_object_set_new(p, "nationalIdentification",
                            json_pack("{s:s,s:s}", "nationalIdentifier", t.national_id,
                                      "nationalIdentifierType", t.national_id_type));
    if (natural) {
        if (has_birth)
            json_object_set_new(p, "dateAndPlaceOfBirth",
                                json_pack("{s:s,s:s}", "dateOfBirth", t.birth_date,
                                          "placeOfBirth", t.birth_place));
        json_object_set_new(p, "countryOfResidence", json_string(x.jurisdiction));
    } else {
        json_object_set_new(p, "countryOfRegistration", json_string(x.jurisdiction));
    }
    /* the originator's name and account, and one of: address, national id, date and
     * place of birth (FATF R.16); the beneficiary's name and account */
    if (originator && !has_addr && !has_natid && !has_birth)
        snprintf(missing + ml, cap - ml,
                 "%soriginator '%.60s': geographic address (--street, --town, "
                 "--address-country) or national identification (--national-id)%s",
                 ml ? "; " : "", x.name, natural ? " or date and place of birth" : "");
    json_t *wrap = json_object();
    json_object_set_new(wrap, natural ? "naturalPerson" : "legalPerson", p);
    return wrap;
}

int compliance_travel_data(store *s, const store_escrow *x, double usd, json_t **out,
                           char *missing, size_t cap, err *e)
{
    *out = NULL;
    missing[0] = '\0';
    json_t *o = person(s, x->chain_id, &x->payer, true, missing, cap, e);
    json_t *b = o ? person(s, x->chain_id, &x->payee, false, missing, cap, e) : NULL;
    if (!o || !b) {
        json_decref(o);
        json_decref(b);
        return -1;
    }
    char payer[ADDR_STR_MAX], payee[ADDR_STR_MAX], esc[ADDR_STR_MAX], tok[ADDR_STR_MAX],
        amt[U256_DEC_MAX];
    addr_to_checksum(payer, &x->payer);
    addr_to_checksum(payee, &x->payee);
    addr_to_checksum(esc, &x->address);
    addr_to_checksum(tok, &x->token);
    u256_to_dec(amt, &x->amount);
    json_t *root = json_pack(
        "{s:{s:{s:[o],s:[s]},s:{s:[o],s:[s]}},s:{s:I,s:s,s:s,s:s,s:f}}", "ivms101", "originator",
        "originatorPersons", o, "accountNumber", payer, "beneficiary", "beneficiaryPersons", b,
        "accountNumber", payee, "transfer", "chain_id", (json_int_t)x->chain_id, "escrow", esc,
        "token", addr_is_zero(&x->token) ? "native" : tok, "amount", amt, "usd_estimate",
        usd >= 0 ? usd : -1.0);
    if (!root)
        return err_set(e, ERR_NOMEM, "out of memory building Travel Rule data");
    *out = root;
    return 0;
}

int compliance_travel_gate(store *s, const compliance_actor *a, const compliance_config *cfg,
                           const char *action, const store_escrow *x, err *e)
{
    /* a funding is the transfer the desk makes to an escrow; a payment goes to the payee */
    if (!cfg->travel_on || (strcmp(action, "fund") != 0 && strcmp(action, "pay") != 0))
        return 0;
    compliance_prices prices = {0};
    bool from_file = false;
    int rc = compliance_prices_load_home(&prices, a->home, &from_file, e);
    if (rc == 0 && !from_file)
        rc = compliance_prices_from_oracle(s, &prices, e);
    if (rc < 0)
        return -1;
    double usd = compliance_usd_of(s, &prices, x);
    compliance_prices_free(&prices);
    if (usd < 0) {
        /* A control that cannot decide refuses: without a price nobody can tell whether
         * the transfer is under the threshold. */
        char tok[ADDR_STR_MAX];
        addr_to_checksum(tok, &x->token);
        return err_set(e, ERR_DENIED,
                       "refused: no USD price for %s on chain %llu: the Travel Rule (%.2f USD) "
                       "cannot be checked; add a price (prices.csv, fusion asset add-feed) or set "
                       "travel_rule.enabled = no",
                       addr_is_zero(&x->token) ? "the native coin" : tok,
                       (unsigned long long)x->chain_id, cfg->travel_threshold_usd);
    }
    if (usd < cfg->travel_threshold_usd)
        return 0;
    json_t *j = NULL;
    char missing[600];
    if (compliance_travel_data(s, x, usd, &j, missing, sizeof missing, e) < 0)
        return -1;
    if (missing[0]) {
        json_decref(j);
        return err_set(e, ERR_DENIED,
                       "refused: Travel Rule data missing for a transfer of %.2f USD "
                       "(estimate; threshold %.2f): %s (fusion entity travel NAME ...)",
                       usd, cfg->travel_threshold_usd, missing);
    }
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    if (!text)
        return err_set(e, ERR_NOMEM, "out of memory recording Travel Rule data");
    rc = store_begin(s, e);
    if (rc == 0 && (store_travel_record_add(s, x->chain_id, &x->address, action, usd, text, a->now,
                                            a->operator_name, e) < 0 ||
                    store_commit(s, e) < 0)) {
        store_rollback(s);
        rc = -1;
    }
    free(text);
    return rc;
}
