/* credit.c: the unified credit line (borrowing base, LTV, health factor, margin) and the
 * stress scenarios applied to it. Aave-style terms: haircut h = 1 - LTV, liquidation
 * threshold LT. */
#include "risk/risk.h"

#include <math.h>

const char *risk_status_str(risk_status s)
{
    switch (s) {
    case RISK_OK: return "ok";
    case RISK_MARGIN_CALL: return "margin call";
    case RISK_LIQUIDATION: return "liquidation";
    }
    return "?";
}

static risk_status status_of(double hf, double margin_call_hf)
{
    if (hf < 1.0)
        return RISK_LIQUIDATION;
    if (hf < margin_call_hf)
        return RISK_MARGIN_CALL;
    return RISK_OK;
}

static int check_terms(const double *value, const risk_collateral *terms, size_t n,
                       double drawn, double margin_call_hf, err *e)
{
    if (!isfinite(drawn) || drawn < 0.0)
        return err_set(e, ERR_INVALID, "drawn amount must be a finite number >= 0");
    if (!isfinite(margin_call_hf) || margin_call_hf < 1.0)
        return err_set(e, ERR_INVALID, "margin call health factor must be >= 1.0");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(value[i]))
            return err_set(e, ERR_INVALID, "position %zu is not a finite number", i);
        if (!terms)
            continue;
        if (value[i] < 0.0)
            return err_set(e, ERR_INVALID,
                           "position %zu is negative: a credit line needs collateral >= 0", i);
        double h = terms[i].haircut, lt = terms[i].liq_threshold;
        if (!(h >= 0.0 && h <= 1.0) || !(lt >= 0.0 && lt <= 1.0))
            return err_set(e, ERR_INVALID, "collateral terms of asset %zu are outside [0, 1]", i);
    }
    return 0;
}

int risk_credit_line(const double *value, const risk_collateral *terms, size_t n_assets,
                     double drawn, double im_var, double margin_call_hf, risk_credit *out,
                     err *e)
{
    if (!terms)
        return err_set(e, ERR_INVALID, "credit line needs collateral terms");
    if (check_terms(value, terms, n_assets, drawn, margin_call_hf, e) < 0)
        return -1;
    if (!isfinite(im_var))
        return err_set(e, ERR_INVALID, "VaR-based initial margin is not finite");
    risk_credit c = {0};
    for (size_t i = 0; i < n_assets; i++) {
        c.collateral += value[i];
        c.borrowing_base += value[i] * (1.0 - terms[i].haircut);
        c.lt_value += value[i] * terms[i].liq_threshold;
        c.im_haircut += value[i] * terms[i].haircut;
    }
    c.drawn = drawn;
    c.available = c.borrowing_base > drawn ? c.borrowing_base - drawn : 0.0;
    c.ltv = c.collateral > 0.0 ? drawn / c.collateral : NAN;
    c.max_ltv = c.collateral > 0.0 ? c.borrowing_base / c.collateral : NAN;
    c.health_factor = drawn > 0.0 ? c.lt_value / drawn : INFINITY;
    c.im_var = im_var > 0.0 ? im_var : 0.0;
    c.margin_requirement = c.im_var > c.im_haircut ? c.im_var : c.im_haircut;
    c.margin_excess = (c.collateral - drawn) - c.margin_requirement;
    c.status = status_of(c.health_factor, margin_call_hf);
    *out = c;
    return 0;
}

int risk_stress_apply(const double *value, const double *move, const risk_collateral *terms,
                      size_t n_assets, double drawn, double margin_call_hf, risk_stress *out,
                      err *e)
{
    if (check_terms(value, terms, n_assets, drawn, margin_call_hf, e) < 0)
        return -1;
    risk_stress s = {0};
    double lt_value = 0.0;
    for (size_t i = 0; i < n_assets; i++) {
        if (!isfinite(move[i]) || move[i] < -1.0)
            return err_set(e, ERR_INVALID, "stress move of asset %zu must be a number >= -100 %%",
                           i);
        double after = value[i] * (1.0 + move[i]);
        s.pnl += value[i] * move[i];
        s.collateral_after += after;
        if (terms) {
            s.borrowing_base_after += after * (1.0 - terms[i].haircut);
            lt_value += after * terms[i].liq_threshold;
        }
    }
    if (terms) {
        s.health_factor_after = drawn > 0.0 ? lt_value / drawn : INFINITY;
        s.shortfall = drawn > s.borrowing_base_after ? drawn - s.borrowing_base_after : 0.0;
        s.status = status_of(s.health_factor_after, margin_call_hf);
    } else {
        s.borrowing_base_after = NAN;
        s.health_factor_after = NAN;
        s.shortfall = NAN;
        s.status = RISK_OK;
    }
    *out = s;
    return 0;
}
