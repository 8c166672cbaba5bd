/* about.c: what a case is about. A case is keyed by subject, chain and an address in the
 * escrow's place; only an escrow case has an escrow there. A KYC date's case holds a
 * marker (chain 0: which date and its day), a credit facility's case a marker (chain 0:
 * the facility id), and an inflow's case the desk account the transfer went to (its hits'
 * evidence names the transfer). This reads the key back into what the case is about. */
#include "compliance/compliance.h"

#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "compliance/internal.h"

addr compliance_kyc_marker(int which, int32_t day)
{
    addr m;
    memset(&m, 0, sizeof m);
    m.b[0] = (uint8_t)which;
    uint32_t d = (uint32_t)day;
    m.b[16] = (uint8_t)(d >> 24);
    m.b[17] = (uint8_t)(d >> 16);
    m.b[18] = (uint8_t)(d >> 8);
    m.b[19] = (uint8_t)d;
    return m;
}

addr compliance_facility_marker(int64_t facility_id)
{
    addr m;
    memset(&m, 0, sizeof m);
    m.b[0] = 3;
    uint64_t v = (uint64_t)facility_id;
    for (int i = 0; i < 8; i++)
        m.b[19 - i] = (uint8_t)(v >> (8 * i));
    return m;
}

/* The marker's kind (1 KYC expiry, 2 KYC review, 3 facility) when a chain-0 key is one,
 * else 0; *value is the day or the facility id. */
static int marker_of(const store_case *c, int64_t *value)
{
    if (c->chain_id != 0)
        return 0;
    const uint8_t *b = c->escrow.b;
    if (b[0] == 1 || b[0] == 2) {
        for (int i = 1; i < 16; i++)
            if (b[i])
                return 0;
        uint32_t d = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
        *value = (int32_t)d;
        return b[0];
    }
    if (b[0] == 3) {
        for (int i = 1; i < 12; i++)
            if (b[i])
                return 0;
        uint64_t v = 0;
        for (int i = 12; i < 20; i++)
            v = v << 8 | b[i];
        *value = (int64_t)v;
        return 3;
    }
    return 0;
}

int compliance_case_about_of(store *s, const store_case *c, compliance_case_about *out, err *e)
{
    memset(out, 0, sizeof *out);
    int64_t v = 0;
    int m = marker_of(c, &v);
    if (m == 1 || m == 2) {
        out->kind = COMPLIANCE_ABOUT_KYC;
        snprintf(out->which, sizeof out->which, "%s", m == 1 ? "expiry" : "review");
        screen_date_format(out->date, (int32_t)v);
        snprintf(out->text, sizeof out->text, "KYC %s %s", out->which, out->date);
        return 0;
    }
    if (m == 3) {
        out->kind = COMPLIANCE_ABOUT_FACILITY;
        out->facility_id = v;
        store_credit_facility *fs = NULL;
        size_t n = 0;
        if (s && store_credit_facility_list(s, &fs, &n, e) < 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (fs[i].id == v)
                text_safe_str(out->facility, sizeof out->facility, fs[i].name);
        free(fs);
        if (out->facility[0])
            snprintf(out->text, sizeof out->text, "credit facility %s", out->facility);
        else
            snprintf(out->text, sizeof out->text, "credit facility #%lld", (long long)v);
        return 0;
    }
    /* an inflow's case: its hits name the transfer */
    store_hit *hs = NULL;
    size_t nh = 0;
    if (s && store_hit_list_case(s, c->id, &hs, &nh, e) < 0)
        return -1;
    const size_t pl = strlen(COMPLIANCE_INFLOW_EVIDENCE);
    for (size_t i = 0; i < nh && out->kind != COMPLIANCE_ABOUT_INFLOW; i++) {
        const char *ev = hs[i].evidence;
        if (strncmp(ev, COMPLIANCE_INFLOW_EVIDENCE, pl) != 0 || strlen(ev) < pl + 66)
            continue;
        out->kind = COMPLIANCE_ABOUT_INFLOW;
        memcpy(out->tx, ev + pl, 66);
        out->tx[66] = '\0';
    }
    free(hs);
    if (out->kind == COMPLIANCE_ABOUT_INFLOW) {
        addr_to_lower(out->account, &c->escrow);
        snprintf(out->text, sizeof out->text, "inflow %s to desk account %s", out->tx,
                 out->account);
        return 0;
    }
    out->kind = COMPLIANCE_ABOUT_ESCROW;
    char esc[ADDR_STR_MAX];
    addr_to_checksum(esc, &c->escrow);
    snprintf(out->text, sizeof out->text, "escrow %s (chain %llu)", esc,
             (unsigned long long)c->chain_id);
    return 0;
}

json_t *compliance_case_about_json(const compliance_case_about *a)
{
    switch (a->kind) {
    case COMPLIANCE_ABOUT_KYC:
        return json_pack("{s:s,s:s,s:s}", "kind", "kyc", "which", a->which, "date", a->date);
    case COMPLIANCE_ABOUT_FACILITY:
        if (a->facility[0])
            return json_pack("{s:s,s:s}", "kind", "facility", "facility", a->facility);
        return json_pack("{s:s,s:I}", "kind", "facility", "facility_id",
                         (json_int_t)a->facility_id);
    case COMPLIANCE_ABOUT_INFLOW:
        return json_pack("{s:s,s:s,s:s}", "kind", "inflow", "tx", a->tx, "account", a->account);
    default:
        return json_pack("{s:s}", "kind", "escrow");
    }
}
