#!/usr/bin/python3
"""ledger_decimal.py: a year of a credit facility's ledger through the real binary, compared
to the base unit with an independent computation written with Python's `decimal` module
from docs/credit.md (the model, not the C code):

- two facilities on a signed desk (risk officer rita): ACT/365 in a 6-decimal stablecoin
  billed on the 15th, and ACT/360 in an 18-decimal one billed on the 1st; each with a fixed
  rate, then base + spread, then another fixed rate (rate changes mid-period);
- draws, repayments and a fee on pseudo-random days of 2025 (fixed seed);
- `credit ledger --asof 2025-12-31 --json`: every row (date, kind, amount, balance), the
  drawn balance and the interest accrued and not yet posted equal the model's exactly;
- refusals write nothing (ledger and audit log unchanged): a repayment above the balance
  and a draw above the limit (the message names the numbers), a credit decision by an
  operator without the risk role; `audit verify` passes (every change a signed decision).
"""
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal, getcontext, ROUND_HALF_EVEN

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from signed_desk import SignedDesk  # noqa

FUSION = os.environ.get("FUSION_BIN") or os.path.join(HERE, "..", "..", "build", "fusion")
ENV = dict(os.environ, FUSION_KDF="interactive")
getcontext().prec = 120


def run(home, *args, ok=True):
    r = subprocess.run([FUSION, "--home", home, *map(str, args)], capture_output=True,
                       text=True, env=ENV, timeout=300)
    if ok and r.returncode != 0:
        raise AssertionError(f"fusion {' '.join(map(str, args))}: exit {r.returncode}: "
                             f"{r.stderr.strip()}")
    return r


def day(s):
    return datetime.date.fromisoformat(s)


def model(events, rates, day_count, billing_day, asof):
    """The ledger from docs/credit.md, in decimal: interest accrues every day on the balance
    at the end of that day at the rate of that day (percent / 100 / day_count); on a
    billing date the exact interest accrued since the first day, rounded half-even to a base
    unit, minus what was posted before, is posted (before that day's rows)."""
    by_day = {}
    for ev in events:
        by_day.setdefault(ev[0], []).append(ev)
    first = min(d for d, *_ in events + rates)
    acc = Decimal(0)  # exact interest in base units * 100 * day_count
    posted, bal = 0, 0
    rows = []
    d = first
    while d <= asof:
        if d > first and d.day == billing_day:
            q, r = divmod(acc, Decimal(100 * day_count))
            target = int(q) + (1 if 2 * r > 100 * day_count or
                               (2 * r == 100 * day_count and int(q) % 2) else 0)
            # cross-check the tie rule with decimal's own rounding where it is exact
            assert target == int((acc / Decimal(100 * day_count)).quantize(
                Decimal(1), rounding=ROUND_HALF_EVEN)) or 2 * r == 100 * day_count
            if target != posted:
                bal += target - posted
                rows.append((d, "interest", target - posted, bal))
                posted = target
        for (_, kind, units) in by_day.get(d, []):
            bal += -units if kind == "repay" else units
            assert bal >= 0
            rows.append((d, kind, units, bal))
        pct = [p for (rd, p) in sorted(rates) if rd <= d]
        acc += Decimal(bal) * (pct[-1] if pct else Decimal(0))
        d += datetime.timedelta(days=1)
    q, r = divmod(acc, Decimal(100 * day_count))
    target = int(q) + (1 if 2 * r > 100 * day_count or
                       (2 * r == 100 * day_count and int(q) % 2) else 0)
    return rows, bal, target - posted


def to_units(s, dec):
    return int(Decimal(s) * (Decimal(10) ** dec))


def ledger(home, name, asof):
    return json.loads(run(home, "credit", "ledger", name, "--asof", asof, "--json").stdout)


def audit_rows(home):
    """The decisions of the audit log (a refused command may still log its key unlock)."""
    with open(os.path.join(home, "audit.log")) as f:
        return [r for r in map(json.loads, f) if r["action"].startswith("credit.")]


def one_facility(sd, home, name, ccy, dec, day_count, billing, seed):
    rita = sd.as_("rita")
    run(home, *rita, "credit", "facility", "add", name, "--entity", "Acme", "--currency", ccy,
        "--decimals", dec, "--limit", "5000000", "--rate", "5.25", "--effective", "2025-01-01",
        "--day-count", day_count, "--billing-day", billing, "--collateral", "ETH,WBTC")
    rates = [(day("2025-01-01"), Decimal("5.25"))]
    run(home, *rita, "credit", "facility", "edit", name, "--base", "4.33", "--spread", "1.75",
        "--effective", "2025-04-10")
    rates.append((day("2025-04-10"), Decimal("4.33") + Decimal("1.75")))
    run(home, *rita, "credit", "facility", "edit", name, "--rate", "7.123456",
        "--effective", "2025-09-01")
    rates.append((day("2025-09-01"), Decimal("7.123456")))

    rng = random.Random(seed)
    days = sorted(rng.sample(range(3, 360), 16))
    events, bal = [], 0
    for i, k in enumerate(days):
        d = day("2025-01-01") + datetime.timedelta(days=k)
        if i % 3 == 2 and bal > 0:
            units = rng.randrange(1, bal // 2 + 2)
            kind = "repay"
        elif i == 7:
            units, kind = to_units("250.5", dec), "fee"
        else:
            units = rng.randrange(10 ** dec, 400000 * 10 ** dec)
            kind = "draw"
        amount = str(Decimal(units) / (Decimal(10) ** dec))
        extra = ["--by-hand", "--override", "unsecured test facility"] if kind == "draw" else []
        run(home, *rita, "credit", kind, name, amount, "--date", d.isoformat(), *extra)
        events.append((d, kind, units))
        bal += -units if kind == "repay" else units
    asof = day("2025-12-31")
    want_rows, want_bal, want_acc = model(events, rates, int(day_count), int(billing), asof)
    got = ledger(home, name, asof.isoformat())
    got_rows = [(day(r["date"]), r["kind"], int(r["amount_units"]), int(r["balance_units"]))
                for r in got["rows"]]
    assert got_rows == want_rows, f"{name}: rows differ:\n{got_rows}\n!=\n{want_rows}"
    assert int(got["drawn_units"]) == want_bal, (got["drawn_units"], want_bal)
    assert int(got["accrued_units"]) == want_acc, (got["accrued_units"], want_acc)
    n_interest = sum(1 for r in got_rows if r[1] == "interest")
    assert n_interest >= 10, n_interest
    print(f"{name}: {len(got_rows)} rows ({n_interest} interest postings) agree; drawn "
          f"{want_bal} units, accrued {want_acc} units")
    return events


def main():
    tmp = tempfile.mkdtemp(prefix="fusion-credit-")
    try:
        home = os.path.join(tmp, "desk")
        sd = SignedDesk(FUSION, home)
        sd.genesis()
        sd.add("rita", "risk")
        sd.add("carl", "compliance")
        run(home, *sd.as_("carl"), "entity", "add", "Acme", "--type", "company",
            "--jurisdiction", "CH")
        one_facility(sd, home, "acme-usdc", "USDC", 6, "365", "15", 19)
        one_facility(sd, home, "acme-dai", "DAI", 18, "360", "1", 20)

        # refusals write nothing
        before = (ledger(home, "acme-usdc", "2025-12-31"), audit_rows(home))
        r = run(home, *sd.as_("rita"), "credit", "repay", "acme-usdc", "999999999",
                "--date", "2025-12-30", ok=False)
        assert r.returncode == 1 and "more than the balance" in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        r = run(home, *sd.as_("rita"), "credit", "draw", "acme-usdc", "4999999", "--by-hand",
                "--date", "2025-12-30", ok=False)
        assert r.returncode == 1 and "above its limit of 5000000" in r.stderr, r.stderr
        assert "headroom" in r.stderr, r.stderr
        r = run(home, *sd.as_("carl"), "credit", "draw", "acme-usdc", "1", "--by-hand", ok=False)
        assert r.returncode == 1 and "lacks the risk role" in r.stderr, r.stderr
        r = run(home, *sd.as_("carl"), "credit", "facility", "edit", "acme-usdc",
                "--limit", "1", ok=False)
        assert r.returncode == 1 and "lacks the risk role" in r.stderr, r.stderr
        after = (ledger(home, "acme-usdc", "2025-12-31"), audit_rows(home))
        assert before == after, "a refused credit action wrote something"

        v = run(home, "audit", "verify")
        assert "signatures ok" in v.stdout, v.stdout
        log = open(os.path.join(home, "audit.log")).read()
        for action in ("credit.facility_add", "credit.facility_edit", "credit.draw",
                       "credit.repay", "credit.fee"):
            assert action in log, action
        print("ok: ledger_decimal")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tmp + "-pw", ignore_errors=True)


if __name__ == "__main__":
    main()
