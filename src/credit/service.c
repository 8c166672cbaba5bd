/* service.c: facilities and loan ledgers in desk.db. Each change and its signed audit row
 * commit together or not at all; a ledger row is written only after the whole ledger,
 * with it, replays (no repayment above the balance, no draw above the limit). */
#include "credit/service.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/amount.h"
#include "base/datafile.h"
#include "base/log.h"
#include "base/text.h"
#include "rpc/rpc.h"
#include "risk/service.h"
#include "rpc/rpc_chain.h"

/* ---- collateral terms ---- */

/* A percent 0..100 with at most two decimals ("13.5"), in hundredths of a percent into
 * *bp when bp is not NULL. */
static int pct_ok(const char *s, uint64_t *bp)
{
    uint64_t v = 0;
    int frac = -1;
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*p < '0' || *p > '9' || (frac >= 0 && ++frac > 2))
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > 100000)
            return 0;
    }
    while (frac < 2) {
        v *= 10;
        frac = frac < 0 ? 1 : frac + 1;
    }
    if (bp)
        *bp = v;
    return v <= 10000;
}

/* The risk loader's rule (src/risk/terms.c): a liquidation threshold is never below the
 * loan-to-value, 100 - haircut, or a position would be liquidatable the day it is opened. */
static bool lt_below_ltv(const char *haircut_pct, const char *lt_pct, char ltv[8])
{
    uint64_t h = 0, lt = 0;
    if (!pct_ok(haircut_pct, &h) || !pct_ok(lt_pct, &lt) || lt + h >= 10000)
        return false;
    snprintf(ltv, 8, "%u.%02u", (unsigned)((10000 - h) / 100), (unsigned)((10000 - h) % 100));
    return true;
}

/* The default terms of asset from data/risk/collateral.csv, with its source column. */
static int default_terms(const char *asset, json_t *arr, err *e)
{
    char path[4096];
    if (datafile_find("risk/collateral.csv", path, sizeof path, e) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %s", path);
    char line[1024];
    int rc = err_set(e, ERR_NOT_FOUND,
                     "asset '%.20s' has no default collateral terms in data/risk/collateral.csv "
                     "(give them with --terms %.20s=HAIRCUT_PCT/LT_PCT)",
                     asset, asset);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#')
            continue;
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        char *c3 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (!c3)
            continue;
        *c1 = *c2 = *c3 = '\0';
        if (strcmp(line, asset) != 0)
            continue;
        /* a cell that is not a percent is refused, never read as 0 % */
        const char *bad = !pct_ok(c1 + 1, NULL)   ? "haircut_pct"
                          : !pct_ok(c2 + 1, NULL) ? "liq_threshold_pct"
                                                  : NULL;
        if (bad) {
            rc = err_set(e, ERR_INVALID,
                         "%s: asset %s: %s '%.20s' is not a percent 0..100 with at most two "
                         "decimals: fix the file or give --terms %s=HAIRCUT_PCT/LT_PCT",
                         path, asset, bad, bad[0] == 'h' ? c1 + 1 : c2 + 1, asset);
            break;
        }
        char ltv[8];
        if (lt_below_ltv(c1 + 1, c2 + 1, ltv)) {
            rc = err_set(e, ERR_INVALID,
                         "%s: asset %s: liquidation threshold %.20s %% is below its LTV %s %% "
                         "(100 - haircut %.20s): fix the file or give --terms "
                         "%s=HAIRCUT_PCT/LT_PCT",
                         path, asset, c2 + 1, ltv, c1 + 1, asset);
            break;
        }
        char src[600];
        snprintf(src, sizeof src, "data/risk/collateral.csv: %s", c3 + 1);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "asset", asset,
                                             "haircut_pct", c1 + 1, "liq_threshold_pct", c2 + 1,
                                             "source", src));
        err_clear(e);
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

static int asset_name_ok(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > 15)
        return 0;
    for (const char *p = a; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

/* Builds the collateral JSON: `list` (defaults) then `terms` (the desk's), into f. */
static int build_collateral(const char *list, const char *terms, const char *operator_name,
                            store_credit_facility *f, err *e)
{
    json_error_t je;
    json_t *arr = f->collateral[0] ? json_loads(f->collateral, 0, &je) : json_array();
    if (!arr || !json_is_array(arr)) {
        json_decref(arr);
        return err_set(e, ERR_INVALID, "facility %s: stored collateral terms are malformed",
                       f->name);
    }
    int rc = -1;
    char list_buf[1024];
    if (list) {
        json_array_clear(arr);
        snprintf(list_buf, sizeof list_buf, "%s", list);
        for (char *save = NULL, *t = strtok_r(list_buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (!asset_name_ok(t)) {
                err_set(e, ERR_INVALID, "collateral asset '%.20s' is not a symbol (e.g. ETH)", t);
                goto out;
            }
            if (default_terms(t, arr, e) < 0)
                goto out;
        }
    }
    if (terms) {
        snprintf(list_buf, sizeof list_buf, "%s", terms);
        for (char *save = NULL, *t = strtok_r(list_buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(t, '='), *sl = eq ? strchr(eq, '/') : NULL;
            if (!sl) {
                err_set(e, ERR_INVALID, "--terms takes ASSET=HAIRCUT_PCT/LT_PCT (e.g. ETH=20/83)");
                goto out;
            }
            *eq = *sl = '\0';
            if (!asset_name_ok(t) || !pct_ok(eq + 1, NULL) || !pct_ok(sl + 1, NULL)) {
                err_set(e, ERR_INVALID,
                        "--terms %.20s: wants a symbol and two percents 0..100 with at most two "
                        "decimals (e.g. ETH=20/83)",
                        t);
                goto out;
            }
            char ltv[8];
            if (lt_below_ltv(eq + 1, sl + 1, ltv)) {
                err_set(e, ERR_INVALID,
                        "--terms %.20s: liquidation threshold %.20s %% is below its LTV %s %% "
                        "(100 - haircut %.20s): give a threshold of at least the LTV (e.g. "
                        "ETH=20/83)",
                        t, sl + 1, ltv, eq + 1);
                goto out;
            }
            size_t i;
            json_t *v;
            json_array_foreach(arr, i, v)
            {
                if (!strcmp(json_string_value(json_object_get(v, "asset")), t)) {
                    json_array_remove(arr, i);
                    break;
                }
            }
            char src[128];
            snprintf(src, sizeof src, "desk: set by %.60s", operator_name);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "asset", t,
                                                 "haircut_pct", eq + 1, "liq_threshold_pct",
                                                 sl + 1, "source", src));
        }
    }
    if (json_array_size(arr) == 0) {
        err_set(e, ERR_INVALID, "a facility needs eligible collateral (--collateral ETH,WBTC)");
        goto out;
    }
    char *txt = json_dumps(arr, JSON_COMPACT);
    if (!txt || strlen(txt) >= sizeof f->collateral) {
        free(txt);
        err_set(e, ERR_INVALID, "too many collateral assets for one facility");
        goto out;
    }
    snprintf(f->collateral, sizeof f->collateral, "%s", txt);
    free(txt);
    rc = 0;
out:
    json_decref(arr);
    return rc;
}

/* ---- the risk role ---- */

static bool has_role(const char *csv, const char *role)
{
    size_t n = strlen(role);
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, role, n) == 0)
            return true;
        p += k;
        if (*p == ',')
            p++;
    }
    return false;
}

/* Credit decisions are a risk officer's: refused before anything is written (the audit
 * verifier would name the row otherwise). */
static int require_risk(store *s, const credit_actor *a, err *e)
{
    if (!a->operator_name || !*a->operator_name)
        return err_set(e, ERR_DENIED, "no operator name: pass --operator NAME");
    store_operator op;
    bool found = false;
    if (store_operator_get(s, a->operator_name, &op, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_DENIED,
                       "operator \"%.63s\" is not a desk operator and lacks the risk role: add "
                       "it with fusion operator add %.63s --key ADDRESS --role risk",
                       a->operator_name, a->operator_name);
    if (!has_role(op.roles, "risk"))
        return err_set(e, ERR_DENIED,
                       "operator \"%.63s\" (roles %s) lacks the risk role: grant it with "
                       "fusion operator roles %.63s --role %s%srisk",
                       a->operator_name, op.roles[0] ? op.roles : "none", a->operator_name,
                       op.roles, op.roles[0] ? "," : "");
    return 0;
}

/* ---- facilities ---- */

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* --vault CHAIN=ADDRESS,...: one CollateralVault per configured chain (name or id). */
/* A facility's vault becomes a synced contract of its chain (kind vault: sync records its
 * deposits, withdrawals and seizures) unless it already is one. From the chain's start
 * block: a chain synced past the vault's deployment before this has not seen its events,
 * which the health's check against the vault's own balance then reports. */
static int register_vault(store *s, const store_chain *ch, const addr *a, err *e)
{
    store_contract *ks = NULL;
    size_t nk = 0;
    if (store_contract_list(s, ch->chain_id, &ks, &nk, e) < 0)
        return -1;
    int rc = 0;
    bool have = false;
    for (size_t i = 0; i < nk && rc == 0; i++) {
        if (!addr_equal(&ks[i].address, a))
            continue;
        have = true;
        if (ks[i].kind != STORE_CONTRACT_VAULT)
            rc = err_set(e, ERR_INVALID, "--vault: that address is the %s contract of chain %s",
                         store_contract_kind_str(ks[i].kind), ch->name);
    }
    free(ks);
    if (rc == 0 && !have) {
        store_contract k = {.chain_id = ch->chain_id,
                            .kind = STORE_CONTRACT_VAULT,
                            .address = *a,
                            .deployed_block = ch->start_block};
        rc = store_contract_put(s, &k, e);
    }
    return rc;
}

static int parse_vaults(store *s, const char *list, store_credit_facility *f, err *e)
{
    char list_buf[1024];
    if (strlen(list) >= sizeof list_buf)
        return err_set(e, ERR_INVALID, "--vault: the list is too long");
    snprintf(list_buf, sizeof list_buf, "%s", list);
    json_t *arr = json_array();
    int rc = -1;
    for (char *save = NULL, *t = strtok_r(list_buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq) {
            err_set(e, ERR_INVALID, "--vault takes CHAIN=ADDRESS (e.g. local=0x5FbD...)");
            goto out;
        }
        *eq = '\0';
        store_chain ch;
        bool found = false;
        if (store_chain_find_name(s, t, &ch, &found, e) < 0)
            goto out;
        if (!found) {
            char *end;
            unsigned long long id = strtoull(t, &end, 10);
            if (*t && !*end && store_chain_get(s, (uint64_t)id, &ch, &found, e) < 0)
                goto out;
        }
        if (!found) {
            err_set(e, ERR_NOT_FOUND, "--vault: no chain \"%.40s\" (fusion chain list)", t);
            goto out;
        }
        addr a;
        if (addr_parse(&a, eq + 1, e) < 0) {
            err_prefix(e, "--vault %.40s", t);
            goto out;
        }
        if (register_vault(s, &ch, &a, e) < 0)
            goto out;
        char as[ADDR_STR_MAX];
        addr_to_checksum(as, &a);
        json_array_append_new(arr, json_pack("{s:I, s:s}", "chain_id", (json_int_t)ch.chain_id,
                                             "address", as));
    }
    char *txt = json_dumps(arr, JSON_COMPACT);
    if (!txt || strlen(txt) >= sizeof f->vaults) {
        free(txt);
        err_set(e, ERR_INVALID, "--vault: too many vaults for one facility");
        goto out;
    }
    snprintf(f->vaults, sizeof f->vaults, "%s", txt);
    free(txt);
    rc = 0;
out:
    json_decref(arr);
    return rc;
}

/* --repay-to: one of the desk's operator addresses (sync sees transfers into those only;
 * "none" clears it). */
static int parse_repay_to(store *s, const char *v, store_credit_facility *f, err *e)
{
    if (!strcmp(v, "none")) {
        f->repay_to[0] = '\0';
        return 0;
    }
    addr a;
    if (addr_parse(&a, v, e) < 0)
        return err_prefix(e, "--repay-to");
    store_operator *ops = NULL;
    size_t n = 0;
    if (store_operator_list(s, &ops, &n, e) < 0)
        return -1;
    bool desk = false;
    for (size_t i = 0; i < n; i++)
        desk = desk || addr_equal(&ops[i].address, &a);
    free(ops);
    if (!desk)
        return err_set(e, ERR_INVALID, "--repay-to must be one of the desk's operator addresses "
                                       "(fusion operator list): sync sees transfers into those "
                                       "only");
    char as[ADDR_STR_MAX];
    addr_to_checksum(as, &a);
    snprintf(f->repay_to, sizeof f->repay_to, "%s", as);
    return 0;
}

/* Applies the options to f; a rate given makes *rate_row a rate row to record. */
static int apply(store *s, const credit_actor *a, const credit_facility_opts *o, bool adding,
                 store_credit_facility *f, store_credit_row *rate_row, bool *has_rate, err *e)
{
    *has_rate = false;
    if (o->rename) {
        if (strlen(o->rename) == 0 || strlen(o->rename) >= sizeof f->name)
            return err_set(e, ERR_INVALID, "a facility name is 1 to 63 characters");
        snprintf(f->name, sizeof f->name, "%s", o->rename);
    }
    if (o->entity) {
        store_entity x;
        bool found = false;
        if (store_entity_find_name(s, o->entity, &x, &found, e) < 0)
            return -1;
        if (!found)
            return err_set(e, ERR_NOT_FOUND, "no entity named \"%.120s\" (fusion entity list)",
                           o->entity);
        f->entity_id = x.id;
    } else if (adding) {
        return err_set(e, ERR_USAGE, "a facility needs --entity NAME (the counterparty)");
    }
    if (o->currency) {
        if (!adding)
            return err_set(e, ERR_INVALID, "a facility's currency cannot change (its ledger is "
                                           "in it): add a new facility");
        if (!asset_name_ok(o->currency))
            return err_set(e, ERR_INVALID, "currency '%.20s' is not a token symbol (e.g. USDC)",
                           o->currency);
        snprintf(f->currency, sizeof f->currency, "%s", o->currency);
    } else if (adding) {
        return err_set(e, ERR_USAGE, "a facility needs --currency SYMBOL (a stablecoin)");
    }
    if (o->decimals) {
        if (!adding)
            return err_set(e, ERR_INVALID, "a facility's decimals cannot change");
        if (parse_uint(o->decimals, 0, 36, &f->decimals) < 0)
            return err_set(e, ERR_INVALID, "--decimals '%.20s' is not 0..36", o->decimals);
    } else if (adding) {
        f->decimals = 6;
    }
    if (o->limit) {
        if (amount_parse(&f->limit, o->limit, f->decimals, e) < 0)
            return err_prefix(e, "--limit");
    } else if (adding) {
        return err_set(e, ERR_USAGE, "a facility needs --limit AMOUNT (in its currency)");
    }
    if (o->day_count) {
        if (parse_uint(o->day_count, 360, 365, &f->day_count) < 0 ||
            (f->day_count != 360 && f->day_count != 365))
            return err_set(e, ERR_INVALID, "--day-count '%.20s' is 360 (ACT/360) or 365 (ACT/365)",
                           o->day_count);
    } else if (adding) {
        f->day_count = 360;
    }
    if (o->billing_day) {
        if (parse_uint(o->billing_day, 1, 28, &f->billing_day) < 0)
            return err_set(e, ERR_INVALID, "--billing-day '%.20s' is not 1..28", o->billing_day);
    } else if (adding) {
        f->billing_day = 1;
    }
    if (adding) {
        f->initial_e4 = 12500;
        f->margin_call_e4 = 11000;
        f->liquidation_e4 = 10000;
    }
    if (o->initial_hf && credit_hf_parse(o->initial_hf, &f->initial_e4, e) < 0)
        return -1;
    if (o->margin_call_hf && credit_hf_parse(o->margin_call_hf, &f->margin_call_e4, e) < 0)
        return -1;
    if (o->liquidation_hf && credit_hf_parse(o->liquidation_hf, &f->liquidation_e4, e) < 0)
        return -1;
    if (!(f->initial_e4 >= f->margin_call_e4 && f->margin_call_e4 >= f->liquidation_e4))
        return err_set(e, ERR_INVALID, "health-factor levels must be initial >= margin call >= "
                                       "liquidation >= 1");
    if ((o->collateral || o->terms || adding) &&
        build_collateral(adding && !o->collateral ? "ETH,WBTC,USDC" : o->collateral, o->terms,
                         a->operator_name, f, e) < 0)
        return -1;
    if (o->repay_to && parse_repay_to(s, o->repay_to, f, e) < 0)
        return -1;
    if (o->vaults && parse_vaults(s, o->vaults, f, e) < 0)
        return -1;
    /* The rate: fixed (--rate) or floating (--base and --spread). */
    if (o->rate && (o->base || o->spread))
        return err_set(e, ERR_USAGE, "give --rate PCT (fixed) or --base PCT --spread PCT, "
                                     "not both");
    if ((o->base != NULL) != (o->spread != NULL))
        return err_set(e, ERR_USAGE, "a floating rate needs both --base PCT and --spread PCT");
    if (adding && !o->rate && !o->base)
        return err_set(e, ERR_USAGE, "a facility needs a rate: --rate PCT, or --base PCT "
                                     "--spread PCT");
    if (o->effective && !o->rate && !o->base)
        return err_set(e, ERR_USAGE, "--effective dates a rate change (--rate or --base/--spread)");
    if (o->rate || o->base) {
        memset(rate_row, 0, sizeof *rate_row);
        snprintf(rate_row->kind, sizeof rate_row->kind, "rate");
        if (o->rate && credit_rate_parse(o->rate, &rate_row->spread_e8, e) < 0)
            return -1;
        if (o->base && (credit_rate_parse(o->base, &rate_row->base_e8, e) < 0 ||
                        credit_rate_parse(o->spread, &rate_row->spread_e8, e) < 0))
            return -1;
        if (rate_row->base_e8 + rate_row->spread_e8 > CREDIT_RATE_ONE)
            return err_set(e, ERR_INVALID, "base plus spread is above 100 %%");
        rate_row->day = a->today;
        if (o->effective && credit_date_parse(o->effective, &rate_row->day, e) < 0)
            return -1;
        snprintf(rate_row->memo, sizeof rate_row->memo, "%s", o->rate ? "fixed" : "base + spread");
        snprintf(rate_row->operator_name, sizeof rate_row->operator_name, "%s", a->operator_name);
        *has_rate = true;
    }
    return 0;
}

static json_t *opts_json(const char *name, const credit_facility_opts *o)
{
    json_t *d = json_pack("{s:s}", "facility", name);
#define PUT_(key, v)                                                                               \
    if (v)                                                                                         \
        json_object_set_new(d, key, json_string(v));
    PUT_("entity", o->entity)
    PUT_("currency", o->currency)
    PUT_("decimals", o->decimals)
    PUT_("limit", o->limit)
    PUT_("rate_pct", o->rate)
    PUT_("base_pct", o->base)
    PUT_("spread_pct", o->spread)
    PUT_("effective", o->effective)
    PUT_("day_count", o->day_count)
    PUT_("billing_day", o->billing_day)
    PUT_("initial_hf", o->initial_hf)
    PUT_("margin_call_hf", o->margin_call_hf)
    PUT_("liquidation_hf", o->liquidation_hf)
    PUT_("collateral", o->collateral)
    PUT_("terms", o->terms)
    PUT_("rename", o->rename)
    PUT_("vaults", o->vaults)
    PUT_("repay_to", o->repay_to)
#undef PUT_
    return d;
}

int credit_facility_get(store *s, const char *name, store_credit_facility *out, err *e)
{
    bool found = false;
    if (store_credit_facility_find(s, name, out, &found, e) < 0)
        return -1;
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "no credit facility named \"%.60s\" "
                                         "(fusion credit facility list)",
                       name);
    return 0;
}

static int facility_change(store *s, const credit_actor *a, const char *name,
                           const credit_facility_opts *o, bool adding, err *e)
{
    if (strlen(name) == 0 || strlen(name) >= 64)
        return err_set(e, ERR_INVALID, "a facility name is 1 to 63 characters");
    if (text_unsafe_at(name, strlen(name)) != strlen(name))
        return err_set(e, ERR_INVALID,
                       "a facility name may not hold control or escape characters: "
                       "choose a printable name");
    store_credit_facility f;
    memset(&f, 0, sizeof f);
    if (store_begin(s, e) < 0)
        return -1;
    int rc = -1;
    json_t *details = opts_json(name, o);
    if (require_risk(s, a, e) < 0)
        goto out;
    if (adding) {
        snprintf(f.name, sizeof f.name, "%s", name);
    } else if (credit_facility_get(s, name, &f, e) < 0) {
        goto out;
    }
    store_credit_row rate;
    bool has_rate;
    if (apply(s, a, o, adding, &f, &rate, &has_rate, e) < 0)
        goto out;
    if (adding ? store_credit_facility_add(s, &f, &f.id, e) < 0
               : store_credit_facility_update(s, &f, e) < 0)
        goto out;
    if (has_rate) {
        rate.facility_id = f.id;
        if (store_credit_row_add(s, &rate, NULL, e) < 0)
            goto out;
    }
    if (store_audit(s, a->home, a->operator_name,
                    adding ? "credit.facility_add" : "credit.facility_edit", details, e) < 0)
        goto out;
    rc = store_commit(s, e);
out:
    if (rc < 0)
        store_rollback(s);
    json_decref(details);
    return rc;
}

int credit_facility_add(store *s, const credit_actor *a, const char *name,
                        const credit_facility_opts *o, err *e)
{
    return facility_change(s, a, name, o, true, e);
}

int credit_facility_edit(store *s, const credit_actor *a, const char *name,
                         const credit_facility_opts *o, err *e)
{
    return facility_change(s, a, name, o, false, e);
}

/* ---- the ledger ---- */

static int to_entries(const store_credit_row *rows, size_t n, credit_entry **out, err *e)
{
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return err_set(e, ERR_NOMEM, "out of memory reading a ledger");
    for (size_t i = 0; i < n; i++) {
        int k = credit_kind_parse(rows[i].kind);
        if (k < 0) {
            free(*out);
            *out = NULL;
            return err_set(e, ERR_INVALID, "ledger row %lld has an unknown kind '%.12s'",
                           (long long)rows[i].id, rows[i].kind);
        }
        (*out)[i] = (credit_entry){.id = rows[i].id, .day = rows[i].day, .kind = (credit_kind)k,
                                   .amount = rows[i].amount, .base_e8 = rows[i].base_e8,
                                   .spread_e8 = rows[i].spread_e8};
        snprintf((*out)[i].memo, sizeof (*out)[i].memo, "%s", rows[i].memo);
    }
    return 0;
}

static int replay_with(const store_credit_facility *f, const store_credit_row *rows, size_t n,
                       const credit_entry *extra, int32_t through, credit_book *out, err *e)
{
    credit_entry *ents;
    if (to_entries(rows, n, &ents, e) < 0)
        return -1;
    if (extra) {
        credit_entry *g = realloc(ents, (n + 1) * sizeof *g);
        if (!g) {
            free(ents);
            return err_set(e, ERR_NOMEM, "out of memory reading a ledger");
        }
        ents = g;
        ents[n++] = *extra;
    }
    /* Stored interest rows are the replay's own postings: replay without them. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (ents[i].kind != CREDIT_INTEREST)
            ents[m++] = ents[i];
    for (size_t i = 0; i < m; i++)
        if (ents[i].day > through)
            through = ents[i].day;
    credit_terms t = {.day_count = f->day_count, .billing_day = f->billing_day};
    int rc = credit_replay(&t, ents, m, through, out, e);
    free(ents);
    return rc;
}

int credit_book_load(store *s, const store_credit_facility *f, int32_t through, credit_book *out,
                     err *e)
{
    store_credit_row *rows;
    size_t n;
    if (store_credit_rows(s, f->id, &rows, &n, e) < 0)
        return -1;
    int rc = replay_with(f, rows, n, NULL, through, out, e);
    free(rows);
    return rc;
}

/* The book of the rows dated up to `through`, replayed through exactly that day (an empty
 * book when there are none). */
static int book_upto(const store_credit_facility *f, const store_credit_row *rows, size_t n,
                     int32_t through, credit_book *out, err *e)
{
    memset(out, 0, sizeof *out);
    store_credit_row *keep = calloc(n ? n : 1, sizeof *keep);
    if (!keep)
        return err_set(e, ERR_NOMEM, "out of memory reading a ledger");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].day <= through && strcmp(rows[i].kind, "interest") != 0)
            keep[m++] = rows[i];
    int rc = 0;
    if (m)
        rc = replay_with(f, keep, m, NULL, through, out, e);
    else
        out->through = through;
    free(keep);
    return rc;
}

static int add_to(u256 *sum, const u256 *x, err *e)
{
    if (u256_add(sum, sum, x) < 0)
        return err_set(e, ERR_OVERFLOW, "the statement's totals overflow 256 bits");
    return 0;
}

int credit_statement_load(store *s, const store_credit_facility *f, int32_t from, int32_t to,
                          credit_statement *out, err *e)
{
    memset(out, 0, sizeof *out);
    out->from = from;
    out->to = to;
    if (to < from)
        return err_set(e, ERR_INVALID, "the statement's --to is before its --from");
    store_credit_row *rows;
    size_t n;
    if (store_credit_rows(s, f->id, &rows, &n, e) < 0)
        return -1;
    credit_book before = {0};
    int rc = -1;
    if (book_upto(f, rows, n, from - 1, &before, e) < 0 ||
        book_upto(f, rows, n, to, &out->book, e) < 0)
        goto out;
    out->opening_balance = before.drawn;
    out->opening_accrued = before.accrued;
    out->closing_balance = out->book.drawn;
    out->closing_accrued = out->book.accrued;
    out->first = out->book.n;
    for (size_t i = 0; i < out->book.n; i++)
        if (out->book.entries[i].day >= from) {
            out->first = i;
            break;
        }
    /* the period's movements, and the identity opening + in - out = closing */
    u256 up = out->opening_balance, down = u256_from_u64(0);
    for (size_t i = out->first; i < out->book.n; i++) {
        const credit_entry *x = &out->book.entries[i];
        u256 *tot = x->kind == CREDIT_DRAW       ? &out->draws
                    : x->kind == CREDIT_REPAY    ? &out->repayments
                    : x->kind == CREDIT_FEE      ? &out->fees
                    : x->kind == CREDIT_INTEREST ? &out->interest_posted
                                                 : NULL;
        if (!tot)
            continue;
        if (add_to(tot, &x->amount, e) < 0 ||
            add_to(x->kind == CREDIT_REPAY ? &down : &up, &x->amount, e) < 0)
            goto out;
    }
    u256 closing;
    if (u256_sub(&closing, &up, &down) < 0 || u256_cmp(&closing, &out->closing_balance) != 0) {
        err_set(e, ERR_INTERNAL, "facility %s: the statement's movements do not add up to its "
                                 "closing balance",
                f->name);
        goto out;
    }
    u256 acc = out->closing_accrued;
    if (add_to(&acc, &out->interest_posted, e) < 0)
        goto out;
    if (u256_sub(&out->interest_accrued, &acc, &out->opening_accrued) < 0) {
        err_set(e, ERR_INTERNAL, "facility %s: the accrued interest went down", f->name);
        goto out;
    }
    rc = 0;
out:
    credit_book_free(&before);
    free(rows);
    if (rc < 0)
        credit_statement_free(out);
    return rc;
}

void credit_statement_free(credit_statement *st)
{
    credit_book_free(&st->book);
    st->first = 0;
}

/* The facility's health after a draw of x: read before the write transaction (it calls
 * every chain of the facility's vaults), from the ledger with the draw replayed through
 * today: what is owed then is the balance plus the interest accrued. */
static int draw_health(store *s, const credit_actor *a, const char *facility, credit_entry *x,
                       const char *amount, const char *date, credit_health *h, err *e)
{
    store_credit_facility f;
    if (credit_facility_get(s, facility, &f, e) < 0)
        return -1;
    if (date && credit_date_parse(date, &x->day, e) < 0)
        return -1;
    if (amount_parse(&x->amount, amount, f.decimals, e) < 0)
        return err_prefix(e, "amount");
    store_credit_row *rows;
    size_t n;
    if (store_credit_rows(s, f.id, &rows, &n, e) < 0)
        return -1;
    credit_book book;
    int rc = replay_with(&f, rows, n, x, a->today, &book, e);
    free(rows);
    if (rc < 0)
        return err_prefix(e, "nothing recorded");
    u256 owed;
    rc = u256_add(&owed, &book.drawn, &book.accrued) < 0
             ? err_set(e, ERR_OVERFLOW, "the ledger's amounts overflow 256 bits")
             : 0;
    credit_book_free(&book);
    credit_position *pos = NULL;
    size_t np = 0;
    risk_limits lim;
    if (rc == 0)
        rc = risk_limits_of(a->home, NULL, &lim, e);
    if (rc == 0)
        rc = credit_health_load(s, &f, &owed, lim.price_max_age, h, &pos, &np, e);
    free(pos);
    return rc;
}

int credit_text_check(const char *option, const char *text, err *e)
{
    if (!text)
        return 0;
    size_t n = strlen(text), bad = text_unsafe_at(text, n);
    if (bad < n)
        return err_set(e, ERR_INVALID,
                       "%s has a control character, a bidi control or a byte that is not "
                       "UTF-8 at byte %zu: write one line of plain text (nothing recorded)",
                       option, bad + 1);
    return 0;
}

/* The checks and the write of a draw, repayment or fee; prep (a draw to be paid): the same
 * checks, then only the override's signed row is written and *prep is filled for the row
 * held beside the payment (credit_draw_settle posts it once the payment is mined). */
static int ledger_write(store *s, const credit_actor *a, const char *facility, credit_kind kind,
                        const char *amount, const char *date, const char *memo,
                        const char *override, store_credit_draw *prep, err *e)
{
    credit_health h = {0};
    credit_entry hx = {.kind = CREDIT_DRAW, .day = a->today};
    if (override && kind != CREDIT_DRAW)
        return err_set(e, ERR_USAGE, "--override is for a draw the health check refuses");
    if (override && (!*override || strlen(override) > 200))
        return err_set(e, ERR_INVALID, "an override needs a reason of 1 to 200 characters");
    if (credit_text_check("--override", override, e) < 0 ||
        credit_text_check("--memo", memo, e) < 0)
        return -1;
    if (kind == CREDIT_DRAW && (require_risk(s, a, e) < 0 ||
                                draw_health(s, a, facility, &hx, amount, date, &h, e) < 0))
        return -1;
    if (kind != CREDIT_DRAW && kind != CREDIT_REPAY && kind != CREDIT_FEE)
        return err_set(e, ERR_INVALID, "only draws, repayments and fees are recorded by hand");
    if (memo && strlen(memo) >= 128)
        return err_set(e, ERR_INVALID, "a memo is at most 127 characters");
    if (store_begin(s, e) < 0)
        return -1;
    int rc = -1;
    store_credit_row *rows = NULL;
    size_t n = 0;
    credit_book book = {0};
    json_t *details = NULL;
    store_credit_facility f;
    if (require_risk(s, a, e) < 0 || credit_facility_get(s, facility, &f, e) < 0)
        goto out;
    credit_entry x = {.kind = kind, .day = a->today};
    if (date && credit_date_parse(date, &x.day, e) < 0)
        goto out;
    if (amount_parse(&x.amount, amount, f.decimals, e) < 0) {
        err_prefix(e, "amount");
        goto out;
    }
    if (u256_is_zero(&x.amount)) {
        err_set(e, ERR_INVALID, "the amount must be above 0");
        goto out;
    }
    if (store_credit_rows(s, f.id, &rows, &n, e) < 0)
        goto out;
    bool rated = false;
    for (size_t i = 0; i < n; i++)
        rated = rated || (!strcmp(rows[i].kind, "rate") && rows[i].day <= x.day);
    if (!rated) {
        char d[11];
        credit_date_format(x.day, d);
        err_set(e, ERR_STATE, "facility %s has no rate in force on %s (its first rate is dated "
                              "later): nothing recorded", f.name, d);
        goto out;
    }
    /* The whole ledger with the new row must replay; a draw must stay within the limit at
     * every day from its own (balance with the interest accrued). */
    if (replay_with(&f, rows, n, &x, a->today, &book, e) < 0) {
        char m[ERR_MSG_MAX];
        snprintf(m, sizeof m, "%s", e->msg);
        err_set(e, e->code, "%.200s: nothing recorded", m);
        goto out;
    }
    /* A draw: the balance right after it (the replay's row with no id) within the limit. */
    for (size_t i = 0; kind == CREDIT_DRAW && i < book.n; i++) {
        if (book.entries[i].id != 0 || book.entries[i].kind != CREDIT_DRAW)
            continue;
        if (u256_cmp(&book.balance[i], &f.limit) > 0) {
            char o[AMOUNT_STR_MAX], l[AMOUNT_STR_MAX], b[AMOUNT_STR_MAX], am[AMOUNT_STR_MAX];
            char d[11];
            u256 before, head;
            if (u256_sub(&before, &book.balance[i], &x.amount) < 0 ||
                u256_sub(&head, &f.limit, &before) < 0)
                head = u256_from_u64(0);
            amount_format(o, &book.balance[i], f.decimals);
            amount_format(l, &f.limit, f.decimals);
            amount_format(b, &head, f.decimals);
            amount_format(am, &x.amount, f.decimals);
            credit_date_format(x.day, d);
            err_set(e, ERR_DENIED,
                    "the draw of %s %s on %s would take facility %s's balance to %s, above its "
                    "limit of %s (headroom %s): nothing recorded",
                    am, f.currency, d, f.name, o, l, b);
            goto out;
        }
    }
    /* The health check: a draw may not take HF below the initial level, unless a risk
     * officer overrides it with a reason (recorded, signed). */
    bool below = false;
    char hf[32], lvl[16];
    credit_hf_format(f.initial_e4, lvl);
    if (kind == CREDIT_DRAW) {
        below = h.health_factor < (double)f.initial_e4 / CREDIT_HF_ONE;
        snprintf(hf, sizeof hf, "%.4f", h.health_factor);
        if (below && !override) {
            err_set(e, ERR_DENIED,
                    "the draw would take facility %s's health factor to %s, below its initial "
                    "level %s (collateral %.2f USD, liquidation-threshold value %.2f USD, owed "
                    "after %.2f USD): nothing recorded; a risk officer may override with "
                    "--override REASON",
                    f.name, hf, lvl, h.collateral_usd, h.lt_value_usd, h.owed_usd);
            goto out;
        }
    }
    store_credit_row r = {.facility_id = f.id, .day = x.day, .amount = x.amount};
    snprintf(r.kind, sizeof r.kind, "%s", credit_kind_str(kind));
    if (below)
        snprintf(r.memo, sizeof r.memo, "override: %.90s%s%.20s", override, memo ? "; " : "",
                 memo ? memo : "");
    else
        snprintf(r.memo, sizeof r.memo, "%s", memo ? memo : "");
    snprintf(r.operator_name, sizeof r.operator_name, "%s", a->operator_name);
    int64_t id = 0;
    if (prep) {
        memset(prep, 0, sizeof *prep);
        prep->facility_id = f.id;
        prep->day = x.day;
        prep->amount = x.amount;
        snprintf(prep->memo, sizeof prep->memo, "%s", r.memo);
        snprintf(prep->operator_name, sizeof prep->operator_name, "%s", a->operator_name);
    } else if (store_credit_row_add(s, &r, &id, e) < 0) {
        goto out;
    }
    char d[11], amt[U256_DEC_MAX], bal[U256_DEC_MAX];
    credit_date_format(x.day, d);
    u256_to_dec(amt, &x.amount);
    u256_to_dec(bal, &book.drawn);
    details = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "facility", f.name, "row", (json_int_t)id,
                        "day", d, "amount_units", amt, "currency", f.currency,
                        "balance_after_units", bal);
    if (memo)
        json_object_set_new(details, "memo", json_string(memo));
    if (kind == CREDIT_DRAW) {
        json_object_set_new(details, "health_factor_after", json_string(hf));
        json_object_set_new(details, "initial_hf", json_string(lvl));
    }
    if (below) {
        json_t *ov = json_pack("{s:s, s:s, s:I, s:s, s:s, s:f, s:f, s:f}", "facility", f.name,
                               "reason", override, "row", (json_int_t)id, "health_factor_after",
                               hf, "initial_hf", lvl, "collateral_usd", h.collateral_usd,
                               "lt_value_usd", h.lt_value_usd, "owed_usd", h.owed_usd);
        if (prep) { /* signed with the draw, when its payment is recorded */
            json_object_del(ov, "row");
            json_object_set_new(details, "override", ov);
            ov = NULL;
        }
        int orc = ov ? store_audit(s, a->home, a->operator_name, "credit.override", ov, e) : 0;
        json_decref(ov);
        if (orc < 0)
            goto out;
    }
    char action[32];
    snprintf(action, sizeof action, "credit.%s", credit_kind_str(kind));
    if (prep) {
        json_object_del(details, "row");
        json_object_del(details, "balance_after_units");
        char *pt = json_dumps(details, JSON_COMPACT);
        if (!pt || strlen(pt) >= sizeof prep->details) {
            free(pt);
            err_set(e, ERR_INVALID, "the draw's details are too long to record");
            goto out;
        }
        snprintf(prep->details, sizeof prep->details, "%s", pt);
        free(pt);
    } else if (store_audit(s, a->home, a->operator_name, action, details, e) < 0) {
        goto out;
    }
    rc = store_commit(s, e);
out:
    if (rc < 0)
        store_rollback(s);
    json_decref(details);
    credit_book_free(&book);
    free(rows);
    return rc;
}

int credit_ledger_add(store *s, const credit_actor *a, const char *facility, credit_kind kind,
                      const char *amount, const char *date, const char *memo, const char *override,
                      err *e)
{
    return ledger_write(s, a, facility, kind, amount, date, memo, override, NULL, e);
}

int credit_draw_prepare(store *s, const credit_actor *a, const char *facility, const char *amount,
                        const char *memo, const char *override, store_credit_draw *out, err *e)
{
    return ledger_write(s, a, facility, CREDIT_DRAW, amount, NULL, memo, override, out, e);
}

int credit_draw_hold(store *s, const char *home, store_credit_draw *d, int64_t outbound_id,
                     uint64_t chain_id, const uint8_t hash[32], err *e)
{
    d->outbound_id = outbound_id;
    json_error_t je;
    json_t *det = json_loads(d->details, 0, &je);
    if (!det)
        return err_set(e, ERR_INTERNAL, "a held draw's details do not parse");
    char th[67] = "0x";
    for (size_t k = 0; k < 32; k++)
        snprintf(th + 2 + 2 * k, 3, "%02x", hash[k]);
    json_t *ov = json_incref(json_object_get(det, "override"));
    json_object_del(det, "override");
    json_object_set_new(det, "outbound_id", json_integer(outbound_id));
    json_object_set_new(det, "chain_id", json_integer((json_int_t)chain_id));
    json_object_set_new(det, "tx", json_string(th));
    json_object_set_new(det, "posted", json_string("when the payment is mined"));
    int rc = store_credit_draw_hold(s, d, e);
    if (rc == 0 && ov) {
        json_object_set_new(ov, "outbound_id", json_integer(outbound_id));
        rc = store_audit(s, home, d->operator_name, "credit.override", ov, e);
    }
    if (rc == 0)
        rc = store_audit(s, home, d->operator_name, "credit.draw", det, e);
    json_decref(ov);
    json_decref(det);
    return rc;
}

/* One held draw whose payment is mined: its ledger row (tied to the payment: the unique
 * index on outbound_id posts it once) and its signed credit.draw row. */
static int post_draw(store *s, const char *home, const store_credit_draw *d,
                     const store_outbound *o, err *e)
{
    store_credit_facility f;
    bool found = false;
    store_credit_facility *fs = NULL;
    size_t nf = 0;
    if (store_credit_facility_list(s, &fs, &nf, e) < 0)
        return -1;
    for (size_t i = 0; i < nf; i++)
        if (fs[i].id == d->facility_id) {
            f = fs[i];
            found = true;
        }
    free(fs);
    if (!found)
        return err_set(e, ERR_NOT_FOUND, "the facility of payment %lld is gone",
                       (long long)d->outbound_id);
    char th[67] = "0x";
    for (size_t k = 0; k < 32; k++)
        snprintf(th + 2 + 2 * k, 3, "%02x", o->hash[k]);
    store_credit_row r;
    memset(&r, 0, sizeof r);
    r.facility_id = f.id;
    r.day = d->day;
    snprintf(r.kind, sizeof r.kind, "draw");
    r.amount = d->amount;
    snprintf(r.memo, sizeof r.memo, "paid %s (chain %llu)%s%.40s", th,
             (unsigned long long)o->chain_id, d->memo[0] ? "; " : "", d->memo);
    snprintf(r.operator_name, sizeof r.operator_name, "%s", d->operator_name);
    r.outbound_id = d->outbound_id;
    int64_t id;
    if (store_credit_row_add(s, &r, &id, e) < 0)
        return -1;
    store_credit_row *rows = NULL;
    size_t n = 0;
    credit_book book = {0};
    char day[11], amt[U256_DEC_MAX], bal[U256_DEC_MAX] = "";
    credit_date_format(d->day, day);
    u256_to_dec(amt, &d->amount);
    if (store_credit_rows(s, f.id, &rows, &n, e) < 0)
        return -1;
    err re;
    err_clear(&re);
    if (replay_with(&f, rows, n, NULL, d->day, &book, &re) == 0)
        u256_to_dec(bal, &book.drawn);
    credit_book_free(&book);
    free(rows);
    /* an observation of the chain (the decision, credit.draw, was signed with the payment) */
    json_t *det =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:I, s:s}", "facility", f.name, "row",
                  (json_int_t)id, "day", day, "amount_units", amt, "balance_after_units", bal,
                  "outbound_id", (json_int_t)d->outbound_id, "tx", th, "chain_id",
                  (json_int_t)o->chain_id, "operator", d->operator_name);
    int rc = store_audit(s, home, "sync", "desk.credit_draw_posted", det, e);
    json_decref(det);
    return rc;
}

/* A held draw's payment still pending or sent in the desk's record (its process stopped
 * before it saw the receipt): the chain is asked, before the write transaction; a receipt
 * marks the payment mined (or failed). An unreachable chain leaves it for later. */
static void draw_receipts(store *s)
{
    store_credit_draw *ds = NULL;
    size_t n = 0;
    err e;
    err_clear(&e);
    if (store_credit_draws_pending(s, &ds, &n, &e) < 0) {
        free(ds);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        store_outbound o;
        uint8_t *raw = NULL;
        bool found = false, mined = false;
        int rc = store_outbound_get(s, ds[i].outbound_id, &o, &raw, &found, &e);
        free(raw);
        if (rc < 0 || !found || (o.state != OUTBOUND_PENDING && o.state != OUTBOUND_SENT))
            continue;
        rpc_client *rpc = NULL;
        rpc_receipt rr;
        if (rpc_chain_client(&rpc, s, o.chain_id, NULL, &e) < 0 ||
            rpc_eth_get_transaction_receipt(rpc, o.hash, &rr, &mined, &e) < 0) {
            LOG_W("credit", "the payment of a held draw (outbound %lld) was not checked: %s",
                  (long long)ds[i].outbound_id, e.msg);
        } else if (mined &&
                   store_outbound_set_state(s, o.id, rr.success ? OUTBOUND_MINED : OUTBOUND_FAILED,
                                            rr.block_number, time(NULL), &e) < 0) {
            LOG_W("credit", "the payment of a held draw (outbound %lld): %s",
                  (long long)ds[i].outbound_id, e.msg);
        }
        rpc_client_free(&rpc);
    }
    free(ds);
}

int credit_draw_settle(store *s, const char *home, size_t *posted, size_t *unpaid, err *e)
{
    size_t p = 0, u = 0;
    draw_receipts(s);
    if (store_begin(s, e) < 0)
        return -1;
    store_credit_draw *ds = NULL;
    size_t n = 0;
    int rc = store_credit_draws_pending(s, &ds, &n, e);
    for (size_t i = 0; i < n && rc == 0; i++) {
        store_outbound o;
        uint8_t *raw = NULL;
        bool found = false;
        rc = store_outbound_get(s, ds[i].outbound_id, &o, &raw, &found, e);
        free(raw);
        if (rc < 0)
            break;
        if (found && o.state == OUTBOUND_REPLACED) {
            /* replaced with the same nonce: a speed-up keeps the action ("pay") and the
             * bytes it pays with; a cancel ("cancel") pays nothing. Mined one of them? */
            store_outbound *all = NULL;
            size_t na = 0;
            rc = store_outbound_list(s, o.chain_id, &all, &na, e);
            int outcome = 0; /* 1: paid by a speed-up, -1: cancelled */
            for (size_t k = 0; rc == 0 && k < na; k++) {
                if (all[k].id == o.id || all[k].nonce != o.nonce ||
                    !addr_equal(&all[k].from, &o.from) ||
                    (all[k].state != OUTBOUND_MINED && all[k].state != OUTBOUND_CONFIRMED))
                    continue;
                outcome = strcmp(all[k].action, o.action) == 0 ? 1 : -1;
                if (outcome == 1)
                    memcpy(o.hash, all[k].hash, 32); /* the row names the mined transaction */
            }
            free(all);
            if (rc < 0)
                break;
            if (outcome == 0)
                continue;
            o.state = outcome == 1 ? OUTBOUND_MINED : OUTBOUND_DROPPED;
        }
        if (found && (o.state == OUTBOUND_MINED || o.state == OUTBOUND_CONFIRMED)) {
            rc = post_draw(s, home, &ds[i], &o, e);
            if (rc == 0)
                rc = store_credit_draw_done(s, ds[i].outbound_id, e);
            p++;
        } else if (!found || o.state == OUTBOUND_FAILED || o.state == OUTBOUND_DROPPED) {
            /* the money did not leave: no draw (the payment's own row says why) */
            json_t *det = json_pack("{s:I, s:s}", "outbound_id", (json_int_t)ds[i].outbound_id,
                                    "state", found ? outbound_state_str(o.state) : "missing");
            rc = store_audit(s, home, "sync", "desk.credit_draw_unpaid", det, e);
            json_decref(det);
            if (rc == 0)
                rc = store_credit_draw_done(s, ds[i].outbound_id, e);
            u++;
        }
        /* pending, sent or replaced: not decided yet, it waits */
    }
    free(ds);
    if (rc == 0)
        rc = store_commit(s, e);
    if (rc < 0) {
        store_rollback(s);
        return -1;
    }
    if (posted)
        *posted = p;
    if (unpaid)
        *unpaid = u;
    return 0;
}

/* ---- repayments recognised from Transfer events ---- */

/* A token amount of `from` decimals in base units of `to` decimals, exactly: -1 when it is
 * not a whole number of them (finer than the ledger's unit) or overflows. */
static int units_rescale(u256 *out, const u256 *in, unsigned from, unsigned to)
{
    u256 p = u256_from_u64(1), ten = u256_from_u64(10), rem;
    for (unsigned k = from > to ? to : from; k < (from > to ? from : to); k++)
        if (u256_mul(&p, &p, &ten) < 0)
            return -1;
    if (from <= to)
        return u256_mul(out, in, &p);
    if (u256_divmod(out, &rem, in, &p) < 0 || !u256_is_zero(&rem))
        return -1;
    return 0;
}

/* One facility's candidate transfers on chain_id: from a linked address of its entity, of
 * its currency's token, to its repayment address; each posted as a repayment dated its
 * block's day unless the replay refuses it (more than the balance: left for a person). */
static int recognise_facility(store *s, const store_credit_facility *f, uint64_t chain_id,
                              size_t *posted, err *e)
{
    addr to;
    if (!f->repay_to[0] || addr_parse(&to, f->repay_to, e) < 0)
        return 0;
    store_token *toks = NULL;
    size_t nt = 0;
    if (store_token_list(s, chain_id, &toks, &nt, e) < 0)
        return -1;
    addr token;
    unsigned token_decimals = 0;
    bool have_token = false;
    for (size_t i = 0; i < nt; i++)
        if (!strcmp(toks[i].symbol, f->currency)) {
            token = toks[i].address;
            token_decimals = toks[i].decimals;
            have_token = true;
        }
    free(toks);
    if (!have_token)
        return 0;
    store_inflow *c = NULL;
    store_entity_link *links = NULL;
    store_credit_row *rows = NULL;
    size_t nc = 0, nl = 0, nr = 0;
    int rc = -1;
    /* book: "" (desk.db's inflows), or the database of the book's (a row names it) */
    char book[STORE_CREDIT_BOOK_MAX];
    if (store_credit_repay_candidates(s, chain_id, &to, &token, book, sizeof book, &c, &nc, e) <
        0)
        goto out;
    if (nc == 0) {
        rc = 0;
        goto out;
    }
    if (store_entity_links(s, f->entity_id, &links, &nl, e) < 0)
        goto out;
    for (size_t i = 0; i < nc; i++) {
        bool linked = false;
        for (size_t l = 0; l < nl && !linked; l++)
            linked = (links[l].chain_id == 0 || links[l].chain_id == chain_id) &&
                     addr_equal(&links[l].address, &c[i].sender);
        if (!linked)
            continue;
        store_credit_row r;
        memset(&r, 0, sizeof r);
        r.facility_id = f->id;
        r.day = (int32_t)(c[i].block_time / 86400);
        snprintf(r.kind, sizeof r.kind, "repay");
        char th[67] = "0x";
        for (size_t k = 0; k < 32; k++)
            snprintf(th + 2 + 2 * k, 3, "%02x", c[i].tx_hash[k]);
        /* the token's base units are not the ledger's when their decimals differ */
        if (units_rescale(&r.amount, &c[i].amount, token_decimals, f->decimals) < 0) {
            char u[U256_DEC_MAX];
            u256_to_dec(u, &c[i].amount);
            LOG_W("credit", "facility %s: transfer %s of %s base units of %s (%u decimals) is "
                  "not a whole number of the ledger's base units (%u decimals): not posted as "
                  "a repayment; record it with credit repay",
                  f->name, th, u, f->currency, token_decimals, f->decimals);
            continue;
        }
        snprintf(r.memo, sizeof r.memo, "transfer %s (chain %llu)", th,
                 (unsigned long long)chain_id);
        snprintf(r.operator_name, sizeof r.operator_name, "sync");
        r.inflow_id = c[i].id;
        snprintf(r.inflow_book, sizeof r.inflow_book, "%s", book);
        r.inflow_chain = chain_id;
        /* the ledger with it must replay (a repayment above the balance is refused) */
        free(rows);
        rows = NULL;
        if (store_credit_rows(s, f->id, &rows, &nr, e) < 0)
            goto out;
        credit_entry x;
        memset(&x, 0, sizeof x);
        x.day = r.day;
        x.kind = CREDIT_REPAY;
        x.amount = r.amount;
        credit_book b = {0};
        err re;
        err_clear(&re);
        int ok = replay_with(f, rows, nr, &x, r.day, &b, &re);
        credit_book_free(&b);
        if (ok < 0) {
            LOG_W("credit", "facility %s: transfer %s not posted as a repayment: %s", f->name, th,
                  re.msg);
            continue;
        }
        if (store_credit_row_add(s, &r, NULL, e) < 0)
            goto out;
        (*posted)++;
    }
    rc = 0;
out:
    free(rows);
    free(links);
    free(c);
    return rc;
}

int credit_repay_recognise(store *s, uint64_t chain_id, size_t *posted, size_t *removed, err *e)
{
    size_t p = 0, r = 0;
    store_credit_facility *fs = NULL;
    size_t nf = 0;
    if (store_credit_repay_unwind(s, chain_id, &r, e) < 0 ||
        store_credit_facility_list(s, &fs, &nf, e) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < nf && rc == 0; i++)
        rc = recognise_facility(s, &fs[i], chain_id, &p, e);
    free(fs);
    if (posted)
        *posted = p;
    if (removed)
        *removed = r;
    return rc;
}
