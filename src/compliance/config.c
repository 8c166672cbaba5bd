/* config.c: the desk's rule configuration file (<home>/compliance.conf): simple
 * "key = value" lines over the documented defaults, so a desk can switch rules on and off
 * and tune thresholds, windows and SLA hours without a rebuild. Errors name file:line. */
#include "compliance/compliance.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/fsperm.h"

typedef enum { CFG_BOOL, CFG_SCORE, CFG_COUNT, CFG_USD, CFG_RATIO, CFG_HOURS, CFG_MINUTES,
               CFG_SLA_HOURS, CFG_DAYS } cfg_type;

#define R_(field) offsetof(compliance_config, rules.field)

/* X(key, type, offset): the keys in the order `fusion case rules` prints them. */
#define CFG_KEYS(X)                                                                                \
    X("threshold_usd", CFG_USD, R_(threshold_usd))                                                 \
    X("sanctions.enabled", CFG_BOOL, R_(sanctions.on))                                             \
    X("sanctions.score", CFG_SCORE, R_(sanctions.score))                                           \
    X("prior_hit.enabled", CFG_BOOL, R_(prior_hit.on))                                             \
    X("prior_hit.score", CFG_SCORE, R_(prior_hit.score))                                           \
    X("unknown_counterparty.enabled", CFG_BOOL, R_(unknown.on))                                    \
    X("unknown_counterparty.score", CFG_SCORE, R_(unknown.score))                                  \
    X("kyc.enabled", CFG_BOOL, R_(kyc.on))                                                         \
    X("kyc.score", CFG_SCORE, R_(kyc.score))                                                       \
    X("kyc.score_rejected", CFG_SCORE, R_(kyc.score_rejected))                                     \
    X("kyc.require_expiry", CFG_BOOL, R_(kyc.require_expiry))                                     \
    X("jurisdiction.enabled", CFG_BOOL, R_(jurisdiction.on))                                       \
    X("jurisdiction.score_high", CFG_SCORE, R_(jurisdiction.score_high))                           \
    X("jurisdiction.score_medium", CFG_SCORE, R_(jurisdiction.score_medium))                       \
    X("large_amount.enabled", CFG_BOOL, R_(large.on))                                              \
    X("large_amount.score", CFG_SCORE, R_(large.score))                                            \
    X("structuring.enabled", CFG_BOOL, R_(structuring.on))                                         \
    X("structuring.score", CFG_SCORE, R_(structuring.score))                                       \
    X("structuring.min_count", CFG_COUNT, R_(structuring.min_count))                               \
    X("structuring.window_hours", CFG_HOURS, R_(structuring.window_s))                             \
    X("structuring.band_low", CFG_RATIO, R_(structuring.band_low))                                 \
    X("structuring.band_high", CFG_RATIO, R_(structuring.band_high))                               \
    X("velocity.enabled", CFG_BOOL, R_(velocity.on))                                               \
    X("velocity.score", CFG_SCORE, R_(velocity.score))                                             \
    X("velocity.window_minutes", CFG_MINUTES, R_(velocity.window_s))                               \
    X("velocity.max_count", CFG_COUNT, R_(velocity.max_count))                                     \
    X("velocity.max_usd", CFG_USD, R_(velocity.max_usd))                                           \
    X("own.exempt", CFG_BOOL, offsetof(compliance_config, own_exempt))                             \
    X("lists.max_age_days", CFG_DAYS, offsetof(compliance_config, list_max_age_days))              \
    X("kyc.lead_days", CFG_DAYS, offsetof(compliance_config, kyc_lead_days))                       \
    X("travel_rule.enabled", CFG_BOOL, offsetof(compliance_config, travel_on))                     \
    X("travel_rule.threshold_usd", CFG_USD, offsetof(compliance_config, travel_threshold_usd))     \
    X("sla.high_hours", CFG_SLA_HOURS, offsetof(compliance_config, sla_s[0]))                      \
    X("sla.medium_hours", CFG_SLA_HOURS, offsetof(compliance_config, sla_s[1]))                    \
    X("sla.low_hours", CFG_SLA_HOURS, offsetof(compliance_config, sla_s[2]))

static const struct cfg_key {
    const char *key;
    cfg_type type;
    size_t off;
} keys[] = {
#define CFG_ROW_(k, t, o) {k, t, o},
    CFG_KEYS(CFG_ROW_)
#undef CFG_ROW_
};
#define N_KEYS (sizeof keys / sizeof keys[0])

void compliance_config_default(compliance_config *c)
{
    memset(c, 0, sizeof *c);
    screen_config_default(&c->rules);
    for (int p = 1; p <= 3; p++)
        c->sla_s[p - 1] = compliance_sla_seconds(p);
    c->own_exempt = true;
    c->list_max_age_days = 30;
    c->kyc_lead_days = 30;
    c->travel_on = true;
    c->travel_threshold_usd = 1000;
}

int64_t compliance_config_sla(const compliance_config *c, int priority)
{
    if (!c || priority < 1 || priority > 3)
        return compliance_sla_seconds(priority);
    return c->sla_s[priority - 1];
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A whole non-negative integer up to max; false otherwise. */
static bool parse_uint(const char *v, unsigned long long max, unsigned long long *out)
{
    if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 12)
        return false;
    errno = 0;
    *out = strtoull(v, NULL, 10);
    return errno == 0 && *out <= max;
}

/* Sets one key from its text; the message says what the value must be. */
static int set_key(compliance_config *c, const struct cfg_key *k, const char *v, char *why,
                   size_t cap)
{
    char *base = (char *)c + k->off;
    unsigned long long u;
    switch (k->type) {
    case CFG_BOOL:
        if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1")) {
            *(bool *)(void *)base = true;
            return 0;
        }
        if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0")) {
            *(bool *)(void *)base = false;
            return 0;
        }
        snprintf(why, cap, "must be yes or no");
        return -1;
    case CFG_SCORE:
        if (!parse_uint(v, 100, &u)) {
            snprintf(why, cap, "must be a whole score from 0 to 100");
            return -1;
        }
        *(int *)(void *)base = (int)u;
        return 0;
    case CFG_COUNT:
        if (!parse_uint(v, 1000000, &u) || u < 1) {
            snprintf(why, cap, "must be a whole count from 1 to 1000000");
            return -1;
        }
        *(unsigned *)(void *)base = (unsigned)u;
        return 0;
    case CFG_HOURS:
    case CFG_MINUTES:
    case CFG_SLA_HOURS:
        if (!parse_uint(v, 100000, &u) || u < 1) {
            snprintf(why, cap, "must be a whole number of %s from 1 to 100000",
                     k->type == CFG_MINUTES ? "minutes" : "hours");
            return -1;
        }
        u *= k->type == CFG_MINUTES ? 60 : 3600;
        if (k->type == CFG_SLA_HOURS)
            *(int64_t *)(void *)base = (int64_t)u;
        else
            *(uint64_t *)(void *)base = u;
        return 0;
    case CFG_DAYS:
        if (!parse_uint(v, 100000, &u)) {
            snprintf(why, cap, "must be a whole number of days from 0 (no limit) to 100000");
            return -1;
        }
        *(int *)(void *)base = (int)u;
        return 0;
    case CFG_USD:
    case CFG_RATIO: {
        char *end = NULL;
        errno = 0;
        double d = strtod(v, &end);
        bool ok = *v && end && !*end && !errno && isfinite(d) && d >= 0 &&
                  strspn(v, "0123456789.") == strlen(v);
        if (!ok || (k->type == CFG_RATIO && d > 10)) {
            snprintf(why, cap, "must be a plain decimal number%s",
                     k->type == CFG_RATIO ? " from 0 to 10 (a fraction of threshold_usd)"
                                          : " of US dollars");
            return -1;
        }
        *(double *)(void *)base = d;
        return 0;
    }
    }
    snprintf(why, cap, "has an unknown type");
    return -1;
}

int compliance_config_load(compliance_config *c, const char *path, err *e)
{
    if (fsperm_check_private(path, "compliance configuration", e) < 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_IO, "cannot read %.200s: %s", path, strerror(errno));
    int rc = compliance_config_read(c, path, f, e);
    fclose(f);
    return rc;
}

int compliance_config_read(compliance_config *c, const char *path, FILE *f, err *e)
{
    compliance_config work = *c;
    char shown[48];
    bool seen[N_KEYS] = {false};
    char line[512];
    size_t lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = err_set(e, ERR_INVALID, "%.200s:%zu: line too long (at most 510 bytes)", path,
                         lineno);
            break;
        }
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = err_set(e, ERR_INVALID, "%.200s:%zu: expected key = value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        size_t i = 0;
        while (i < N_KEYS && strcmp(keys[i].key, key) != 0)
            i++;
        if (i == N_KEYS) {
            rc = err_set(e, ERR_INVALID,
                         "%.200s:%zu: unknown key '%s' (fusion case rules lists the keys)",
                         path, lineno, text_safe_str(shown, 41, key));
            break;
        }
        if (seen[i]) {
            rc = err_set(e, ERR_INVALID, "%.200s:%zu: %s is set twice", path, lineno, key);
            break;
        }
        seen[i] = true;
        if (keys[i].off == offsetof(compliance_config, rules.sanctions.on))
            work.sanctions_line = lineno;
        char why[96];
        if (set_key(&work, &keys[i], val, why, sizeof why) < 0)
            rc = err_set(e, ERR_INVALID, "%.200s:%zu: %s '%s' %s", path, lineno, key,
                         text_safe_str(shown, 25, val), why);
    }
    if (rc < 0)
        return -1;
    err ce;
    if (screen_config_check(&work.rules, &ce) < 0)
        return err_set(e, ERR_INVALID, "%.200s: %s", path, ce.msg);
    *c = work;
    return 0;
}

char *compliance_config_text(const compliance_config *c)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (size_t i = 0; i < N_KEYS; i++) {
        const void *v = (const char *)c + keys[i].off;
        fprintf(f, "%s = ", keys[i].key);
        switch (keys[i].type) {
        case CFG_BOOL:
            fputs(*(const bool *)v ? "yes" : "no", f);
            break;
        case CFG_SCORE:
            fprintf(f, "%d", *(const int *)v);
            break;
        case CFG_COUNT:
            fprintf(f, "%u", *(const unsigned *)v);
            break;
        case CFG_HOURS:
            fprintf(f, "%llu", (unsigned long long)(*(const uint64_t *)v / 3600));
            break;
        case CFG_MINUTES:
            fprintf(f, "%llu", (unsigned long long)(*(const uint64_t *)v / 60));
            break;
        case CFG_SLA_HOURS:
            fprintf(f, "%lld", (long long)(*(const int64_t *)v / 3600));
            break;
        case CFG_USD:
        case CFG_RATIO:
            fprintf(f, "%.15g", *(const double *)v);
            break;
        case CFG_DAYS:
            fprintf(f, "%d", *(const int *)v);
            break;
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        free(out);
        return NULL;
    }
    return out;
}
