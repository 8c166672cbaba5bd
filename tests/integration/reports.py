#!/usr/bin/python3
"""reports.py: the book leaves the desk in formats other people read, on anvil through the
real binary. A desk with escrows (one released, one open), transactions, entities (names a
spreadsheet would run as formulas among them) and a case cleared four-eyes writes its daily
report: the totals equal what the listings (`escrow list`, `tx list`, `case list`, `risk
report` --json) say for the same day, with the blocks' times read from the node by `cast`;
the CSV tables hold the JSON's rows; the audit head is the one before the report's own audit
row; files are 0600 and not overwritten without --force. `--csv` on every listing gives the
same rows as its `--json`, with cells that start a formula prefixed by a quote.
`case export --from/--to` exports every case with activity in the range."""
import csv
import io
import json
import os
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, ZERO, CREATE_SIG, FUSION, Chain, log, need_artifacts, topic  # noqa
from desk_escrow import DeskUser, create  # noqa

SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"
FORMULAS = ('=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1,2)")


def one_line(r, code):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    return r.stderr


def cell(v):
    """What the CSV writer makes of a JSON value."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, (list, dict)):
        v = json.dumps(v, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return "'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r") else v


def same_rows(what, rows_json, text):
    rows_csv = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows_csv) == len(rows_json), (what, len(rows_csv), len(rows_json))
    for rj, rc in zip(rows_json, rows_csv):
        for k, v in rj.items():
            want = cell(v)
            if isinstance(want, float):
                assert abs(float(rc[k]) - want) <= 1e-9 * max(1.0, abs(want)), (what, k, rc[k], v)
            else:
                assert rc[k] == str(want), (what, k, rc[k], want)
    return rows_csv


def block_time(chain, n, cache={}):
    if n not in cache:
        cache[n] = int(chain.node.cast("block", str(n), "--field", "timestamp"))
    return cache[n]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)
        desk.run("operator", "add", "erin", "--key", A[6], "--role", "compliance")
        dave, erin = ("--operator", "dave"), ("--operator", "erin")
        names = ("Payer, \"Quoted\" Ltd",) + FORMULAS
        for name, who in zip(names, (A[0], A[1])):
            desk.run(*dave, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                     "--kyc", "verified", "--kyc-expires", "2099-12-31")
            desk.run(*dave, "entity", "link", name, "--chain", "local", "--address", who)
        for name in names[2:]:
            desk.run(*dave, "entity", "add", "--type", "individual", "--jurisdiction", "DE", "--",
                     name)
        # escrows: one released, one left open; transactions by the desk
        e1 = create(desk, "ETH", "1.5")
        desk.as_op("alice", "escrow", "fund", e1)
        desk.as_op("bob", "escrow", "approve", e1)
        desk.as_op("carol", "escrow", "approve", e1)
        desk.as_op("bob", "escrow", "release", e1)
        e2 = create(desk, "ETH", "0.25")
        desk.as_op("alice", "escrow", "fund", e2)
        # a case opened by screening, cleared four-eyes today
        deadline = int(time.time()) + 30 * 86400
        r = chain.cast_send(A[0], chain.factory, CREATE_SIG, SANCTIONED, ZERO, "1000",
                            f"[{A[2]},{A[3]}]", "2", A[4], str(deadline))
        bad = "0x" + [lg for lg in r["logs"] if lg["topics"][0] == topic(
            "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,"
            "uint64)")][0]["topics"][1][-40:]
        desk.run("sync", "--once")
        cid = str([c for c in desk.json("case", "list", "--json", "--all")
                   if c["escrow"].lower() == bad.lower()][0]["id"])
        desk.run(*dave, "case", "take", cid)
        desk.run(*dave, "case", "clear", cid, "--note", "name match only")
        desk.run(*erin, "case", "clear", cid)
        desk.run("sync", "--once")

        # ---- the daily report ----
        out = os.path.join(desk.home, "out")
        r = desk.run("--json", "report", "daily", "--out", out)
        made = json.loads(r.stdout)
        date = made["date"]
        with open(os.path.join(out, f"fusion-daily-{date}.json")) as fh:
            rep = json.load(fh)
        lo, hi = rep["from"], rep["to"]
        assert hi - lo == 86400 and lo <= rep["generated_at"] < hi, rep
        tot = rep["totals"]
        # escrows opened and settled that day, from the listing and the node's block times
        escrows = desk.json("escrow", "list", "--json")
        opened = [x for x in escrows if lo <= block_time(chain, x["created_block"]) < hi]
        settled = [x for x in escrows if x["state"] in ("released", "refunded", "resolved")
                   and lo <= block_time(chain, x["last_event_block"]) < hi]
        assert tot["escrows_opened"] == len(opened) == 3, (tot, len(opened))
        assert tot["escrows_settled"] == len(settled) == 1, (tot, len(settled))
        assert sum(int(a["amount"]) for a in tot["opened_by_asset"]) == \
            sum(int(x["amount"]) for x in opened), tot["opened_by_asset"]
        assert sum(int(a["amount"]) for a in tot["settled_by_asset"]) == \
            sum(int(x["amount"]) for x in settled) == 1500000000000000000
        assert sorted(x["address"] for x in rep["escrows"] if x["event"] == "opened") == \
            sorted(x["address"] for x in opened)
        # transactions signed that day
        txs = [t for t in desk.json("tx", "list", "--json") if lo <= t["created_at"] < hi]
        assert tot["transactions"] == len(txs) >= 7, (tot, len(txs))
        by_state = {}
        for t in txs:
            by_state[t["state"]] = by_state.get(t["state"], 0) + 1
        assert tot["transactions_by_state"] == by_state, (tot, by_state)
        # cases opened and closed that day
        cases = desk.json("case", "list", "--json", "--all")
        c_open = [c for c in cases if lo <= c["opened_at"] < hi]
        c_closed = [c for c in cases if c["closed_at"] and lo <= c["closed_at"] < hi]
        assert tot["cases_opened"] == len(c_open) >= 1, (tot, len(c_open))
        assert tot["cases_closed"] == len(c_closed) >= 1, (tot, len(c_closed))
        # positions: the risk service's, grouped by chain, asset and kind
        risk = desk.json("risk", "report", "--json")
        want = {}
        for p in risk["positions"]:
            k = (p["chain_id"], p["asset"], p["kind"])
            want[k] = want.get(k, 0) + int(p["amount"])
        got = {(p["chain_id"], p["asset"], p["kind"]): int(p["amount"]) for p in rep["positions"]}
        assert got == want and got, (got, want)
        # the audit head is the one before the report's own row
        rows = desk.json("audit", "list", "--json")
        assert rows[-1]["action"] == "report.daily", rows[-1]
        assert rep["audit_head"]["verified"] and rep["audit_head"]["seq"] == rows[-2]["seq"]
        assert rep["audit_head"]["hash"] == rows[-2]["hash"]
        log(f"daily report {date}: totals equal the listings ({tot['escrows_opened']} opened, "
            f"{tot['escrows_settled']} settled, {tot['transactions']} transactions)")
        # the CSV tables hold the JSON's rows; files are the operator's alone
        for suffix, rows_j in (("-escrows.csv", rep["escrows"]),
                               ("-transactions.csv", rep["transactions"]),
                               ("-cases.csv", rep["cases"]),
                               ("-positions.csv", rep["positions"])):
            with open(os.path.join(out, f"fusion-daily-{date}{suffix}"), newline="") as fh:
                same_rows(suffix, rows_j, fh.read())
        with open(os.path.join(out, f"fusion-daily-{date}-summary.csv"), newline="") as fh:
            summary = {r["metric"]: r["value"] for r in csv.DictReader(fh)}
        assert summary["escrows_opened"] == "3" and summary["audit_head_seq"] == \
            str(rep["audit_head"]["seq"]), summary
        for f in made["files"]:
            assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
        one_line(desk.run("report", "daily", "--out", out, check=False), 1)
        desk.run("report", "daily", "--out", out, "--force")
        one_line(desk.run("report", "daily", "--date", "2026-02-30", check=False), 2)
        r = json.loads(desk.run("--json", "report", "daily", "--date", "2001-01-01", "--out",
                                out).stdout)
        t0 = r["totals"]
        assert (t0["escrows_opened"], t0["escrows_settled"], t0["transactions"],
                t0["cases_opened"], t0["cases_closed"]) == (0, 0, 0, 0, 0), t0
        log("report files: CSV rows equal the JSON, 0600, --force to replace, other days empty")

        # ---- --csv on every listing: the rows of --json ----
        listings = [("entity", "list"), ("operator", "list"), ("key", "list"),
                    ("case", "list", "--all"), ("escrow", "list"), ("tx", "list"),
                    ("chain", "list"), ("audit", "list"), ("alerts", "--all"),
                    ("asset", "list"), ("xswap", "list")]
        for args in listings:
            j = json.loads(desk.run(*args, "--json").stdout)
            if args[0] == "asset":
                j = [dict(kind="token", **x) for x in j["tokens"]] + \
                    [dict(kind="feed", **x) for x in j["feeds"]]
            text = desk.run(*args, "--csv").stdout
            rows = same_rows(" ".join(args), j, text)
            if args[0] == "entity":
                shown = [r["name"] for r in rows]
                for f in FORMULAS:
                    assert "'" + f in shown, (f, shown)
                assert names[0] in shown
            one_line(desk.run(*args, "--json", "--csv", check=False), 2)
        log(f"--csv on {len(listings)} listings equals --json; formula cells prefixed")

        # ---- case export for a date range ----
        day = time.strftime("%Y-%m-%d", time.gmtime(lo))
        dest = os.path.join(desk.home, "q")
        desk.run("case", "export", "--from", day, "--to", day, "--out", dest)
        with open(dest + ".json") as fh:
            ex = json.load(fh)
        assert len(ex["cases"]) == len(cases), (len(ex["cases"]), len(cases))
        assert ex["audit_head"]["verified"], ex["audit_head"]
        with open(dest + ".csv", newline="") as fh:
            assert len(list(csv.DictReader(fh))) == len(cases)
        for p in (dest, dest + ".json", dest + ".csv"):
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
        r = desk.json("case", "export", "--from", "2001-01-01", "--to", "2001-12-31", "--json")
        assert r["cases"] == [], r
        one_line(desk.run("case", "export", "--from", day, "--to", "2001-01-01", check=False), 2)
        one_line(desk.run("case", "export", "1", "--from", day, "--to", day, check=False), 2)
        log("case export --from/--to: every case of the range, 0600 files")
        desk.run("audit", "verify")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
