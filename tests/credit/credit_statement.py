#!/usr/bin/python3
"""credit_statement.py: `fusion credit statement FACILITY --from --to [--csv|--json]` against
an independent computation with Python's `decimal` module (the model of docs/credit.md in
ledger_decimal.py, not the C code).

The year of two facilities of ledger_decimal.py (ACT/365 in 6 decimals billed on the 15th,
ACT/360 in 18 decimals billed on the 1st; rate changes, draws, repayments, a fee). For
several periods (a quarter, a period across rate changes, a single billing day, a period
before the first draw, one that ends before later rows): the opening balance and interest
accrued not yet posted at the end of the day before `from`, every row of the period with the
balance after it, the totals per kind, the interest accrued in the period and the closing
balance and accrual must equal the model's to the base unit; opening + draws + fees +
interest posted - repayments = closing. The CSV is one RFC 4180 table (CRLF rows) with a
fixed header, an `opening` row, the period's rows, an `accrued` and a `closing` row, the same
numbers as the JSON. Bad input: a usage error (exit 2) for missing or inverted dates, exit 1
for an unknown facility, one line each.
"""
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from ledger_decimal import ENV, FUSION, day, model, one_facility, run  # noqa: E402
from signed_desk import SignedDesk  # noqa: E402

HEADER = ["date", "kind", "amount", "amount_units", "balance", "balance_units", "memo"]


def expect(events, rates, day_count, billing, start, end):
    """The statement of [start, end] from the decimal model."""
    before = start - datetime.timedelta(days=1)
    ev_open = [e for e in events if e[0] <= before]
    if ev_open:
        _, bal_open, acc_open = model(ev_open, rates, day_count, billing, before)
    else:
        bal_open, acc_open = 0, 0
    ev_close = [e for e in events if e[0] <= end]
    if ev_close:
        rows, bal_close, acc_close = model(ev_close, rates, day_count, billing, end)
    else:
        rows, bal_close, acc_close = [], 0, 0
    rows = [r for r in rows if r[0] >= start]
    tot = {k: sum(r[2] for r in rows if r[1] == k) for k in ("draw", "repay", "fee", "interest")}
    return {"opening": bal_open, "opening_accrued": acc_open, "rows": rows, "totals": tot,
            "closing": bal_close, "closing_accrued": acc_close,
            "interest_accrued": acc_close + tot["interest"] - acc_open}


def check_period(home, name, events, rates, day_count, billing, start, end):
    want = expect(events, rates, day_count, billing, day(start), day(end))
    got = json.loads(run(home, "credit", "statement", name, "--from", start,
                                       "--to", end, "--json").stdout)
    rows = [(day(r["date"]), r["kind"], int(r["amount_units"]), int(r["balance_units"]))
            for r in got["rows"]]
    assert rows == want["rows"], f"{name} {start}..{end}: rows\n{rows}\n!=\n{want['rows']}"
    pairs = [("opening_balance", want["opening"]), ("opening_accrued", want["opening_accrued"]),
             ("closing_balance", want["closing"]), ("closing_accrued", want["closing_accrued"]),
             ("interest_accrued", want["interest_accrued"]),
             ("draws", want["totals"]["draw"]), ("repayments", want["totals"]["repay"]),
             ("fees", want["totals"]["fee"]), ("interest_posted", want["totals"]["interest"])]
    for key, v in pairs:
        assert int(got[key + "_units"]) == v, f"{name} {start}..{end}: {key} {got[key + '_units']}" \
                                              f" != {v}"
    t = want["totals"]
    assert want["opening"] + t["draw"] + t["fee"] + t["interest"] - t["repay"] == want["closing"]
    assert (got["from"], got["to"], got["facility"]) == (start, end, name), got

    # bytes: text mode would turn the CRLF row ends into LF
    raw = subprocess.run([FUSION, "--home", home, "credit", "statement", name, "--from", start,
                          "--to", end, "--csv"], capture_output=True, check=True,
                         env=ENV).stdout.decode()
    assert raw.endswith("\r\n") and "\n" not in raw.replace("\r\n", ""), repr(raw[:200])
    table = list(csv.reader(io.StringIO(raw, newline="")))
    assert table[0] == HEADER, table[0]
    body = table[1:]
    assert len(body) == len(rows) + 3, (len(body), len(rows))
    assert body[0][1] == "opening" and body[0][0] == start and body[0][3] == "" and \
        int(body[0][5]) == want["opening"], body[0]
    assert body[-2][1] == "accrued" and int(body[-2][3]) == want["closing_accrued"], body[-2]
    assert body[-1][1] == "closing" and body[-1][0] == end and \
        int(body[-1][5]) == want["closing"], body[-1]
    csv_rows = [(day(r[0]), r[1], int(r[3]), int(r[5])) for r in body[1:-2]]
    assert csv_rows == rows, f"CSV rows differ from JSON: {csv_rows} != {rows}"
    print(f"{name} {start}..{end}: {len(rows)} rows, opening {want['opening']}, closing "
          f"{want['closing']}, interest accrued {want['interest_accrued']} units: agree")


def main():
    tmp = tempfile.mkdtemp(prefix="fusion-credit-stmt-")
    try:
        home = os.path.join(tmp, "desk")
        sd = SignedDesk(FUSION, home)
        sd.genesis()
        sd.add("rita", "risk")
        sd.add("carl", "compliance")
        run(home, *sd.as_("carl"), "entity", "add", "Acme", "--type", "company",
            "--jurisdiction", "CH")
        from decimal import Decimal
        rates = [(day("2025-01-01"), Decimal("5.25")),
                 (day("2025-04-10"), Decimal("4.33") + Decimal("1.75")),
                 (day("2025-09-01"), Decimal("7.123456"))]
        for name, ccy, dec, dc, billing, seed in (("acme-usdc", "USDC", 6, 365, 15, 19),
                                                   ("acme-dai", "DAI", 18, 360, 1, 20)):
            events = one_facility(sd, home, name, ccy, dec, str(dc), str(billing), seed)
            first_event = min(e[0] for e in events)
            periods = [("2025-01-01", "2025-03-31"), ("2025-04-01", "2025-09-30"),
                       ("2025-06-15", "2025-06-15"), ("2025-10-01", "2025-12-31"),
                       ("2025-01-01", (first_event - datetime.timedelta(days=1)).isoformat()),
                       ("2025-07-01", "2025-08-14"), ("2025-01-01", "2025-12-31")]
            if billing == 1:
                periods.append(("2025-05-01", "2025-05-01"))
            for start, end in periods:
                check_period(home, name, events, rates, dc, billing, start, end)

        for args, code, what in (
                (["acme-usdc", "--from", "2025-02-01"], 2, "--to"),
                (["acme-usdc", "--from", "2025-02-01", "--to", "2025-01-01"], 2, "before"),
                (["acme-usdc", "--from", "2025-02-30", "--to", "2025-03-01"], 2, "--from"),
                (["acme-usdc", "--from", "2025-02-01", "--to", "2025-03-01", "--csv", "--json"],
                 2, "alternatives"),
                (["nosuch", "--from", "2025-02-01", "--to", "2025-03-01"], 1, "nosuch")):
            r = run(home, "credit", "statement", *args, ok=False)
            assert r.returncode == code and what in r.stderr and \
                len(r.stderr.strip().splitlines()) == 1 and r.stdout == "", \
                (args, r.returncode, r.stderr)
        # A facility name is shown by every credit command and the Credit screen: one with
        # control or escape bytes is refused, never stored and printed raw later.
        bad = "x\033]0;pwn\007"
        r = run(home, *sd.as_("rita"), "credit", "facility", "add", bad, "--entity", "Acme",
                "--currency", "USDC", "--limit", "1000", "--rate", "5", ok=False)
        assert r.returncode == 1 and "\033" not in r.stderr and "\007" not in r.stderr and \
            len(r.stderr.strip().splitlines()) == 1, (r.returncode, r.stderr)
        listed = run(home, "credit", "facility", "list", "--json").stdout
        assert "pwn" not in listed, listed
        print("ok: credit_statement")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tmp + "-pw", ignore_errors=True)


if __name__ == "__main__":
    main()
