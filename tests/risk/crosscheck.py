#!/usr/bin/python3
"""crosscheck.py: `fusion risk calc --json` against the numpy reference (reference.py) on the
shipped price files and on 20 seeded random portfolios (issue 7 acceptance):
  historical VaR/ES             1e-9 relative
  EWMA VaR/ES and sigma         1e-6 relative
  backtest                      same exception count; LR and p-value 1e-9 relative
  credit line, stress           1e-9 relative (plain arithmetic), same status
  Monte Carlo                   the delta P&L of the C engine's 100,000 paths within 2 % of the
                                parametric VaR (and ES); the full revaluation VaR/ES within 2 %
                                of numpy's own full revaluation Monte Carlo at 1,000,000 paths
                                (full revaluation is not normal, so the parametric VaR is not its
                                target: see docs/risk.md)
Needs FUSION_BIN and FUSION_ROOT (meson's test_env)."""
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys
import tempfile

BIN = os.environ["FUSION_BIN"]
ROOT = os.environ["FUSION_ROOT"]
REF = os.path.join(ROOT, "tests", "risk", "reference.py")
PRICES = os.path.join(ROOT, "data", "prices")
REF_PATHS = 1000000

LONG = ["BTC", "ETH", "WBTC", "USDC", "USDT", "LINK", "MATIC", "AVAX"]  # 2020-09-22..2024-12-07
FILES = {a: f"yf_{a}-USD_1d.csv" for a in LONG + ["USTC", "ARB"]}
FILES["DAI"] = "yf_DAI-USD_1d_2021-2023.csv"

failures = 0
checks = 0


def fail(label, msg):
    global failures
    failures += 1
    print(f"FAIL {label}: {msg}")


def rel_close(label, key, got, want, tol, floor=1e-6):
    global checks
    checks += 1
    if got is None or want is None:
        if got is not want:
            fail(label, f"{key}: {got!r} vs reference {want!r}")
        return
    if abs(got - want) > max(tol * max(abs(got), abs(want)), floor):
        fail(label, f"{key}: {got!r} vs reference {want!r} (rel {abs(got - want) / abs(want):.3g},"
                    f" tolerance {tol})")


def same(label, key, got, want):
    global checks
    checks += 1
    if got != want:
        fail(label, f"{key}: {got!r} vs reference {want!r}")


def run_case(label, assets, pos, extra, tmp):
    pos_path = os.path.join(tmp, label + ".json")
    with open(pos_path, "w") as f:
        json.dump(pos, f, indent=1)
    args = []
    for a in assets:
        args += ["--prices", f"{a}={os.path.join(PRICES, FILES[a])}"]
    args += ["--positions", pos_path] + extra
    c = subprocess.run([BIN, "risk", "calc", "--json"] + args, capture_output=True, text=True,
                       timeout=120)
    if c.returncode != 0:
        fail(label, f"fusion exit {c.returncode}: {c.stderr.strip()}")
        return
    r = subprocess.run([sys.executable, REF, "--paths", str(REF_PATHS)] + args,
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail(label, f"reference exit {r.returncode}: {r.stderr.strip()}")
        return
    C, R = json.loads(c.stdout), json.loads(r.stdout)
    compare(label, C, R)


def compare(label, C, R):
    for k in ("prices", "window", "positions", "levels"):
        same(label, k, C[k], R[k])
    rel_close(label, "total_value", C["total_value"], R["total_value"], 1e-12)
    for k in ("var_1d", "es_1d", "var_10d", "es_10d"):
        rel_close(label, "historical." + k, C["historical"][k], R["historical"][k], 1e-9)
    for k in ("var_1d", "es_1d", "var_10d", "es_10d", "sigma_1d"):
        rel_close(label, "ewma." + k, C["ewma"][k], R["ewma"][k], 1e-6)
    mc = C["monte_carlo"]
    same(label, "monte_carlo.paths", mc["paths"], 100000)
    rel_close(label, "monte_carlo.var_1d_linear vs parametric", mc["var_1d_linear"],
              R["ewma"]["var_1d"], 0.02)
    rel_close(label, "monte_carlo.es_1d_linear vs parametric", mc["es_1d_linear"],
              R["ewma"]["es_1d"], 0.02)
    rel_close(label, "monte_carlo.var_1d vs numpy MC (1M paths)", mc["var_1d"],
              R["monte_carlo"]["var_1d"], 0.02)
    rel_close(label, "monte_carlo.es_1d vs numpy MC (1M paths)", mc["es_1d"],
              R["monte_carlo"]["es_1d"], 0.02)
    rel_close(label, "monte_carlo.var_10d scaling", mc["var_10d"], math.sqrt(10) * mc["var_1d"],
              1e-12)
    if (C["backtest"] is None) != (R["backtest"] is None):
        fail(label, f"backtest presence: {C['backtest']!r} vs {R['backtest']!r}")
    elif C["backtest"] is not None:
        for k in ("days", "window", "exceptions", "zone"):
            same(label, "backtest." + k, C["backtest"][k], R["backtest"][k])
        for k in ("lr", "p_value", "expected"):
            rel_close(label, "backtest." + k, C["backtest"][k], R["backtest"][k], 1e-9, 1e-12)
    if ("credit_line" in C) != ("credit_line" in R):
        fail(label, "credit line presence differs")
    elif "credit_line" in C:
        for k, v in R["credit_line"].items():
            if isinstance(v, str):
                same(label, "credit_line." + k, C["credit_line"][k], v)
            else:
                rel_close(label, "credit_line." + k, C["credit_line"][k], v, 1e-9)
    if ("stress" in C) != ("stress" in R):
        fail(label, "stress presence differs")
    elif "stress" in C:
        same(label, "stress count", len(C["stress"]), len(R["stress"]))
        for cs, rs in zip(C["stress"], R["stress"]):
            for k, v in rs.items():
                if isinstance(v, str) or v is None:
                    same(label, f"stress.{rs['scenario']}.{k}", cs.get(k), v)
                else:
                    rel_close(label, f"stress.{rs['scenario']}.{k}", cs[k], v, 1e-9)
    print(f"ok   {label}: hist VaR {C['historical']['var_1d']:.2f}, EWMA VaR "
          f"{C['ewma']['var_1d']:.2f}, MC VaR {mc['var_1d']:.2f} "
          f"(numpy {R['monte_carlo']['var_1d']:.2f}, delta {mc['var_1d_linear']:.2f}), backtest "
          f"{'-' if C['backtest'] is None else C['backtest']['exceptions']}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        # The shipped data, as the docs show it.
        desk = {"BTC": 4e6, "ETH": 2.5e6, "WBTC": 5e5, "USDC": 2e6, "USDT": 5e5, "LINK": 2e5,
                "MATIC": 1.5e5, "AVAX": 1.5e5}
        run_case("shipped-desk", LONG, desk, ["--drawn", "5000000"], tmp)
        run_case("shipped-desk-lows", LONG, desk, ["--drawn", "7000000", "--stress-lows",
                                                  "--margin-call", "1.2"], tmp)
        run_case("shipped-dai-2023", ["BTC", "ETH", "DAI", "USDC"],
                 {"DAI": 3e6, "USDC": 3e6, "ETH": 1e6, "BTC": 1e6}, ["--drawn", "4000000"], tmp)
        run_case("shipped-ust-2022", ["USTC", "ETH", "USDT"],
                 {"USTC": 1e6, "ETH": 1e6, "USDT": 1e6}, ["--window", "250", "--stress"], tmp)
        run_case("shipped-arb", ["ARB", "ETH"], {"ARB": 2e6, "ETH": 1e6},
                 ["--window", "100", "--drawn", "1000000"], tmp)

        # Random portfolios over random subsets, seeded.
        rng = random.Random(20240805)
        last = dt.date(2024, 12, 7)
        for k in range(20):
            n = rng.randint(1, len(LONG))
            assets = rng.sample(LONG, n)
            extra = []
            if rng.random() < 0.3:
                short = rng.choice(["DAI", "USTC", "ARB"])
                assets.append(short)
                window = {"DAI": rng.randint(100, 500), "USTC": rng.randint(50, 400),
                          "ARB": rng.randint(30, 300)}[short]
            else:
                window = rng.randint(30, 500)
                to = last - dt.timedelta(days=rng.randint(0, 600))
                extra += ["--to", to.isoformat()]
            pos = {a: round(10 ** rng.uniform(4, 7), 2) for a in assets}
            if rng.random() < 0.25 and n > 1:
                pos[assets[0]] = -pos[assets[0]]  # a short: VaR only
                extra += ["--stress"]
            else:
                drawn = round(sum(pos.values()) * rng.uniform(0.05, 0.9), 2)
                extra += ["--drawn", str(drawn), "--margin-call", f"{rng.uniform(1.0, 1.5):.3f}"]
                if rng.random() < 0.5:
                    extra += ["--stress-lows"]
            extra += ["--window", str(window), "--seed", str(rng.randint(0, 2**40))]
            run_case(f"random-{k:02d}", assets, pos, extra, tmp)
    print(f"{checks} checks, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
