#!/usr/bin/python3
"""reference.py: an independent numpy implementation of `fusion risk calc` (issue 7's
"Conventions"), used by the cross-check test and the benchmark. It reads the same files with
its own loader (csv module, by header name) and prints the same JSON keys as
`fusion risk calc --json`. Run with Debian's /usr/bin/python3 (it has numpy).

Only numpy and the standard library: np.quantile (default 'linear' method) for VaR, np.cov-style
matrix products for EWMA, np.linalg.cholesky, numpy's own PCG64 generator for Monte Carlo (so the
MC numbers agree with the C engine statistically, not bit for bit).
"""
import argparse
import csv
import datetime as dt
import json
import math
import os
import sys
from statistics import NormalDist

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

STABLE_NOTE = "USD, floating-point estimates"


def parse_date(s):
    # "YYYY-MM-DD" or Yahoo's "YYYY-MM-DD 00:00:00+00:00"
    return dt.date.fromisoformat(s.strip()[:10])


def read_price_file(spec):
    """Returns {asset: {date: close}} from a panel CSV or a single-asset Yahoo export."""
    asset = None
    path = spec
    if "=" in spec and ("/" not in spec or spec.index("=") < spec.index("/")):
        asset, path = spec.split("=", 1)
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    di = lower.index("date")
    if "close" in lower:
        if asset is None:
            base = os.path.basename(path)
            if base.startswith("yf_"):
                base = base[3:]
            for i, ch in enumerate(base):
                if ch in "-_.":
                    base = base[:i]
                    break
            asset = base
        cols = {asset: lower.index("close")}
    else:
        cols = {h: i for i, h in enumerate(header) if i != di}
    out = {a: {} for a in cols}
    for r in rows[1:]:
        d = parse_date(r[di])
        for a, i in cols.items():
            cell = r[i].strip()
            if cell == "" or cell.lower() == "null":
                continue
            out[a][d] = float(cell)
    return out


def build_panel(series, assets, date_from, date_to, keep):
    lo = max(min(series[a]) for a in assets)
    hi = min(max(series[a]) for a in assets)
    if date_from:
        lo = max(lo, date_from)
    if date_to:
        hi = min(hi, date_to)
    n_days = (hi - lo).days + 1
    if keep and n_days > keep:
        lo = hi - dt.timedelta(days=keep - 1)
        n_days = keep
    days = [lo + dt.timedelta(days=k) for k in range(n_days)]
    P = np.array([[series[a][d] for a in assets] for d in days], dtype=float)
    return days, P


def read_table(path):
    with open(path, newline="") as f:
        lines = [ln for ln in f if ln.strip() and not ln.lstrip().startswith("#")]
    return list(csv.DictReader(lines))


def np_quantile(x, c):
    return float(np.quantile(x, c))


def var_es(loss, var_level, es_level):
    var = np_quantile(loss, var_level)
    thr = np_quantile(loss, es_level)
    es = float(loss[loss >= thr].mean())
    return var, es


def measures(var1, es1, horizon):
    k = math.sqrt(horizon)
    return {"var_1d": var1, "es_1d": es1, "var_10d": k * var1, "es_10d": k * es1}


def kupiec(n, x, level):
    p = 1.0 - level

    def xlogy(a, b):
        return 0.0 if a == 0 else a * math.log(b)

    pi = x / n
    lr = -2.0 * ((xlogy(n - x, 1 - p) + xlogy(x, p)) - (xlogy(n - x, 1 - pi) + xlogy(x, pi)))
    lr = max(lr, 0.0)
    pval = math.erfc(math.sqrt(lr / 2.0))
    cdf = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1))
    zone = "green" if cdf < 0.95 else "yellow" if cdf < 0.9999 else "red"
    return lr, pval, zone


def chol_psd(S):
    try:
        return np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        w, Q = np.linalg.eigh(S)
        return Q * np.sqrt(np.clip(w, 0.0, None))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prices", action="append", required=True)
    ap.add_argument("--positions", required=True)
    ap.add_argument("--window", type=int, default=500)
    ap.add_argument("--from", dest="date_from")
    ap.add_argument("--to", dest="date_to")
    ap.add_argument("--paths", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--drawn", type=float)
    ap.add_argument("--margin-call", type=float, default=1.10)
    ap.add_argument("--collateral")
    ap.add_argument("--scenarios")
    ap.add_argument("--stress", action="store_true")
    ap.add_argument("--stress-lows", action="store_true")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "data"))
    ap.add_argument("--json", action="store_true", help="accepted for symmetry; output is JSON")
    ap.add_argument("--bench", type=int, default=0, metavar="R",
                    help="time R full runs (after start-up) and R Monte Carlo runs; print "
                         "the medians as JSON instead of the results")
    a = ap.parse_args(argv)
    if a.bench:
        import time
        full, mc, full_cpu, mc_cpu = [], [], [], []
        for _ in range(a.bench):
            t0, c0 = time.perf_counter(), time.process_time()
            out, S, V = compute(a)
            full.append(time.perf_counter() - t0)
            full_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            monte_carlo(S, V, a.paths, a.seed)
            mc.append(time.perf_counter() - t0)
            mc_cpu.append(time.process_time() - c0)
        json.dump({"full_s": float(np.median(full)), "full_cpu_s": float(np.median(full_cpu)),
                   "mc_s": float(np.median(mc)), "mc_cpu_s": float(np.median(mc_cpu)),
                   "paths": a.paths, "assets": len(V)}, sys.stdout)
        sys.stdout.write("\n")
        return
    out, _, _ = compute(a)
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


def monte_carlo(S, V, paths, seed):
    rng = np.random.default_rng(seed)
    C = chol_psd(S)
    Z = rng.standard_normal((paths, len(V)))
    Rm = Z @ C.T
    return -(np.expm1(Rm) @ V), -(Rm @ V)


def compute(a):

    var_level, es_level, horizon, lam, bt_days = 0.99, 0.975, 10.0, 0.94, 250
    N = a.window

    series = {}
    for spec in a.prices:
        series.update(read_price_file(spec))
    with open(a.positions) as f:
        pos = json.load(f)
    assets = list(pos)
    V = np.array([float(pos[k]) for k in assets])
    days, P = build_panel(
        series, assets,
        dt.date.fromisoformat(a.date_from) if a.date_from else None,
        dt.date.fromisoformat(a.date_to) if a.date_to else None,
        N + bt_days + 1)
    R = np.log(P[1:] / P[:-1])
    T = R.shape[0]
    if T < N:
        sys.exit(f"reference: too few rows ({len(days)}) for window {N}")
    L = -(np.expm1(R) @ V)
    W = R[T - N:]

    out = {"units": STABLE_NOTE}
    out["prices"] = {"first_date": days[0].isoformat(), "last_date": days[-1].isoformat(),
                     "closes": len(days)}
    out["window"] = {"returns": N, "first_date": days[len(days) - N].isoformat(),
                     "last_date": days[-1].isoformat()}
    out["levels"] = {"var": var_level, "es": es_level, "horizon_days": horizon}
    out["positions"] = {k: float(pos[k]) for k in assets}
    out["total_value"] = float(V.sum())

    hv, he = var_es(L[T - N:], var_level, es_level)
    out["historical"] = measures(hv, he, horizon)

    # EWMA: Sigma_0 = zero-mean sample covariance of the window; unrolling the recursion
    # Sigma_t = lam Sigma_{t-1} + (1 - lam) r_t r_t' over t = 1..N gives
    # Sigma_N = lam^N Sigma_0 + (1 - lam) sum_t lam^(N-t) r_t r_t'.
    S0 = W.T @ W / N
    wts = (1 - lam) * lam ** np.arange(N - 1, -1, -1, dtype=float)
    S = lam**N * S0 + (W.T * wts) @ W
    sigma = math.sqrt(max(float(V @ S @ V), 0.0))
    nd = NormalDist()
    zv, ze = nd.inv_cdf(var_level), nd.inv_cdf(es_level)
    ew = measures(zv * sigma, nd.pdf(ze) / (1 - es_level) * sigma, horizon)
    ew["lambda"] = lam
    ew["sigma_1d"] = sigma
    out["ewma"] = ew

    Lm, Ll = monte_carlo(S, V, a.paths, a.seed)
    mv, me = var_es(Lm, var_level, es_level)
    lv, le = var_es(Ll, var_level, es_level)
    mc = measures(mv, me, horizon)
    mc.update({"paths": a.paths, "seed": a.seed, "var_1d_linear": lv, "es_1d_linear": le})
    out["monte_carlo"] = mc

    if T >= N + bt_days:
        # Day t's VaR comes from the N losses before it: windows L[t-N:t], t = T-250..T-1.
        wins = sliding_window_view(L[T - bt_days - N:T - 1], N)
        bvar = np.quantile(wins, var_level, axis=1)
        x = int(np.count_nonzero(L[T - bt_days:] > bvar))
        lr, pv, zone = kupiec(bt_days, x, var_level)
        out["backtest"] = {"days": bt_days, "window": N, "exceptions": x,
                           "expected": bt_days * (1 - var_level), "lr": lr, "p_value": pv,
                           "zone": zone}
    else:
        out["backtest"] = None

    h = lt = None
    if a.drawn is not None:
        terms = {r["asset"]: r for r in read_table(a.collateral or
                                                    os.path.join(a.data, "risk", "collateral.csv"))}
        h = np.array([float(terms[k]["haircut_pct"]) / 100 for k in assets])
        lt = np.array([float(terms[k]["liq_threshold_pct"]) / 100 for k in assets])
        D = a.drawn
        coll = float(V.sum())
        base = float(V @ (1 - h))
        ltv_val = float(V @ lt)
        hf = ltv_val / D if D > 0 else None
        im_var = max(out["historical"]["var_10d"], 0.0)
        im_h = float(V @ h)
        req = max(im_var, im_h)

        def status(x):
            if x is None:
                return "ok"
            return "liquidation" if x < 1.0 else "margin call" if x < a.margin_call else "ok"

        out["credit_line"] = {
            "collateral": coll, "borrowing_base": base, "lt_value": ltv_val, "drawn": D,
            "available": max(base - D, 0.0), "ltv": D / coll if coll > 0 else None,
            "max_ltv": base / coll if coll > 0 else None, "health_factor": hf,
            "margin_call_below": a.margin_call, "im_var": im_var, "im_haircut": im_h,
            "margin_requirement": req, "margin_excess": (coll - D) - req, "status": status(hf)}

    if a.stress or a.stress_lows or a.scenarios or a.drawn is not None:
        rows = read_table(a.scenarios or os.path.join(a.data, "risk", "scenarios.csv"))
        order, moves, meta = [], {}, {}
        for r in rows:
            s = r["scenario"]
            if s not in moves:
                order.append(s)
                moves[s] = {}
                meta[s] = (r.get("kind", ""), r.get("window", ""))
            m = float(r["move_pct"])
            if a.stress_lows and r.get("low_pct", "").strip():
                m = float(r["low_pct"])
            moves[s][r["asset"]] = m / 100
        st = []
        for s in order:
            m = np.array([moves[s][k] for k in assets])
            after = V * (1 + m)
            e = {"scenario": s, "kind": meta[s][0], "window": meta[s][1],
                 "pnl": float(V @ m), "collateral_after": float(after.sum())}
            if a.drawn is not None:
                D = a.drawn
                base_after = float(after @ (1 - h))
                hf = float(after @ lt) / D if D > 0 else None
                e["borrowing_base_after"] = base_after
                e["health_factor_after"] = hf
                e["shortfall"] = max(D - base_after, 0.0)
                e["status"] = ("ok" if hf is None else "liquidation" if hf < 1.0 else
                               "margin call" if hf < a.margin_call else "ok")
            st.append(e)
        out["stress"] = st
    return out, S, V


if __name__ == "__main__":
    main()
