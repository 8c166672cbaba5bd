#!/usr/bin/python3
"""pretrade_bridge.py: the pre-trade risk check of a bridge send on the four-chain devnet
(integration).

The demo desk's limits with chain_share set between devnet-avax's share before and after a
transfer of up to 1,000,000 of alice's USDC on devnet-eth (the policy's
limit per transaction) (signed by the demo's admin): `bridge send`
devnet-eth -> devnet-avax to alice is refused with the numbers (devnet-avax's share before
and after, the limit) and nothing is signed (alice's nonce on devnet-eth, the outbound rows,
the transfers unchanged; no override row); alice, a trader, cannot override; made a risk
officer (`operator roles`, the admin's decision), her `--override REASON` burns (cast: her
USDC on devnet-eth fell by the amount) and the override is a signed `risk.override` row
(`audit verify`: signatures ok)."""
import json
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from devnet_lib import N_CHAINS, ROOT, check, free_ports, fusion, report  # noqa: E402
import bridge_cctp as bc  # noqa: E402

ALICE = bc.ALICE


def overrides(home):
    rows = json.loads(fusion(home, "audit", "list", "--json").stdout)
    return [r for r in rows if r.get("action") == "risk.override"]


def chain_values(home):
    rep = json.loads(fusion(home, "risk", "report", "--json", "--paths", "200").stdout)
    v = {}
    for p in rep["positions"]:
        if p["kind"] != "escrow_incoming" and p.get("usd") is not None:
            v[p["chain"]] = v.get(p["chain"], 0.0) + p["usd"]
    usdc = [x["usd"] for x in rep["prices"] if x["asset"] == "USDC"]
    return v, rep["gross_usd"], usdc[0]


def main():
    home = tempfile.mkdtemp(prefix="fusion-pretrade-bridge-")
    pw = os.path.join(tempfile.mkdtemp(prefix="fusion-pretrade-pass-"), "pass")
    with open(pw, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(pw, 0o600)
    bc.PASSFILE = pw
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    admin = ["--operator", "admin", "--passphrase-file", pw]
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        desk = bc.Desk(home)
        # whole USDC, within the demo policy's 1,000,000 per transaction
        amount = min(desk.bal("devnet-eth") // 2 // 10**6, 1_000_000)
        check(amount > 0, "alice holds USDC on devnet-eth")
        # the demo's last price update can land after `demo` returns (the first valuation
        # then differs from every later one): wait for two equal readings, so the test's
        # figures and the desk's check value the same book
        v, gross, px = chain_values(home)
        for _ in range(60):
            time.sleep(1)
            v2, gross2, px2 = chain_values(home)
            if (v2, gross2, px2) == (v, gross, px):
                break
            v, gross, px = v2, gross2, px2
        else:
            check(False, "the desk's valuation did not settle after the demo")
        before = v["devnet-avax"] / gross
        after = (v["devnet-avax"] + amount * px) / gross
        limit = round((before + after) / 2, 6)
        check(before < limit < after, f"a limit between {before} and {after}: {limit}")
        with open(os.path.join(ROOT, "data", "demo", "risk-limits.csv")) as f:
            text = f.read()
        text = re.sub(r"(?m)^chain_share,.*$", f"chain_share,{limit}", text)
        path = os.path.join(home, "risk-limits.csv")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        fusion(home, *admin, "config", "sign", "risk-limits")

        send = bc.send_args(ALICE, str(amount))
        n0, nonce0, t0 = bc.n_outbound(home), desk.nonce("devnet-eth"), len(bc.transfers(home))
        p = fusion(home, *send, rc=None)
        m = re.search(r"bridge transfer of ([0-9.]+) USDC \(([0-9.]+) USD est\.; gross after "
                      r"([0-9.]+) USD\) breaches chain devnet-avax ([0-9.]+)% -> ([0-9.]+)% "
                      r"\(limit ([0-9.]+)%\); nothing signed", p.stderr)
        check(p.returncode == 1 and m, f"bridge send not refused with the numbers: {p.stderr}")
        if m:
            check(abs(float(m.group(4)) - before * 100) < 0.051 and
                  abs(float(m.group(5)) - after * 100) < 0.051 and
                  abs(float(m.group(6)) - limit * 100) < 0.051, f"numbers {m.groups()} vs "
                  f"{before} {after} {limit}")
        check(chain_values(home) == (v, gross, px),
              "the valuation changed during the test: its figures are not the desk's")
        check("about to send" not in p.stdout, "a summary was shown (something signed)")
        check(bc.n_outbound(home) == n0 and desk.nonce("devnet-eth") == nonce0 and
              len(bc.transfers(home)) == t0, "a refused bridge send signed something")
        check(overrides(home) == [], "an override row without an override")

        p = fusion(home, *send, "--override", "x", "--no-wait", rc=None)
        check(p.returncode == 1 and "lacks the risk role" in p.stderr, f"alice: {p.stderr}")
        check(desk.nonce("devnet-eth") == nonce0, "alice's refused override signed")

        fusion(home, *admin, "operator", "roles", "alice", "--role", "trader,risk")
        reason = "treasury moves liquidity to avax for the quarter end"
        bal0 = desk.bal("devnet-eth")
        p = fusion(home, *send, "--override", reason, "--no-wait", rc=None)
        check(p.returncode == 0, f"override: {p.returncode} {p.stderr}")
        check("RISK OVERRIDE by alice" in p.stdout + p.stderr, "the summary names the override")
        for _ in range(600):  # --no-wait: the burn is sent, mined with the chain's next block
            if desk.bal("devnet-eth") != bal0:
                break
            time.sleep(0.1)
        check(desk.bal("devnet-eth") == bal0 - amount * 10**6, "burned on devnet-eth (cast)")
        ov = overrides(home)
        check(len(ov) == 1 and ov[0].get("operator") == "alice", f"override rows: {ov}")
        if ov:
            d = ov[0]["details"]
            check(d["reason"] == reason and d["action"] == "bridge transfer" and
                  [b["limit"] for b in d["breaches"]] == ["chain"] and
                  d["breaches"][0]["name"] == "devnet-avax", f"override row: {d}")
        v = fusion(home, "audit", "verify")
        check("signatures ok" in v.stdout, v.stdout)
    finally:
        fusion(home, "devnet", "down", rc=None)
    return report()


if __name__ == "__main__":
    sys.exit(main())
