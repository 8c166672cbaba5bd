#!/usr/bin/python3
"""risk_gen.py DIR [ASSETS] [DAYS]: writes a seeded synthetic desk for the risk benchmark:
DIR/prices.csv (Date + one close column per asset; fat-tailed one-factor returns),
DIR/positions.json, DIR/collateral.csv and DIR/scenarios.csv (10 scenarios). Default
20 assets x 1,500 days. The same seed always gives the same files."""
import datetime as dt
import json
import os
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
days = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20240805)
names = [f"A{i + 1:02d}" for i in range(n)]
vol = rng.uniform(0.005, 0.06, n)
beta = rng.uniform(0.2, 1.0, n)
f = rng.standard_t(4, days - 1) / np.sqrt(2.0)          # unit-variance t(4) market factor
e = rng.standard_t(4, (days - 1, n)) / np.sqrt(2.0)
r = vol * (beta * f[:, None] + np.sqrt(1 - beta**2) * e)
p = rng.uniform(1, 1000, n) * np.exp(np.vstack([np.zeros(n), np.cumsum(r, axis=0)]))
d0 = dt.date(2020, 1, 1)
with open(os.path.join(out, "prices.csv"), "w") as fh:
    fh.write("Date," + ",".join(names) + "\n")
    for k in range(days):
        fh.write((d0 + dt.timedelta(days=k)).isoformat() + "," +
                 ",".join("%.10g" % x for x in p[k]) + "\n")
with open(os.path.join(out, "positions.json"), "w") as fh:
    json.dump({a: round(float(v), 2) for a, v in zip(names, rng.uniform(1e5, 5e6, n))}, fh)
with open(os.path.join(out, "collateral.csv"), "w") as fh:
    fh.write("# synthetic terms for the benchmark\nasset,haircut_pct,liq_threshold_pct\n")
    for a in names:
        h = round(float(rng.uniform(10, 50)), 1)
        fh.write(f"{a},{h},{min(100.0, 100 - h + 5)}\n")
with open(os.path.join(out, "scenarios.csv"), "w") as fh:
    fh.write("scenario,kind,asset,move_pct,low_pct\n")
    for s in range(10):
        for a in names:
            m = float(rng.uniform(-60, 5))
            fh.write(f"s{s:02d},synthetic,{a},{m:.1f},{m - 5:.1f}\n")
