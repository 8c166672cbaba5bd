#!/usr/bin/python3
"""credit_chain.py: a facility's collateral in a CollateralVault on a real anvil node, its
health, and the pre-trade check of a draw (integration).

A counterparty (entity Acme, its address linked) deposits 10 WETH into the vault; the desk
prices WETH with a MockPriceFeed observed by the risk service. `credit health --json` must
give the vault balance cast reads (an independent client) valued at the feed price, and the
health factor sum(V * LT) / owed. A draw that would take the health factor below the
facility's initial level is refused with the numbers and nothing is signed (no credit row in
the audit log, the ledger unchanged); with `--override REASON` by the risk officer it goes
through, the override (reason and numbers) is a signed `credit.override` row of the audit
log, and the ledger row says so. The feed pushed down: `credit check` opens a margin call
(24 h to cure, an alert), then a liquidation proposal whose plan (asset, chain, units) brings
the health factor back to the initial level; the desk's approvers propose, approve (M of N:
one approval is not enough) and execute the seizure through the desk pipeline, it lands on
chain (cast), the proceeds repay the loan, and `credit check` closes both calls.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, cast, need_artifacts  # noqa: E402
from credit_lib import check, credit_rows, token, usd_feed, collateral_vault  # noqa: E402


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
    usdc = token(node, "USD Coin", "USDC", 6)
    weth_feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
    vault = collateral_vault(node, A[2:5], 2)
    cp = A[1]
    chain.cast_send(A[0], weth, "mint(address,uint256)", cp, str(10 * 10**18))
    chain.cast_send(cp, weth, "approve(address,uint256)", vault, str(10 * 10**18))
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))
    onchain = int(node.cast("call", vault, "balanceOf(address,address)(uint256)", cp, weth)
                  .split()[0])
    check(onchain == 10 * 10**18, f"vault balance {onchain}")

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")  # observes the oracle rounds
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")

    h = desk.json("credit", "health", "acme", "--json")
    pos = [p for p in h["positions"] if p["asset"] == "WETH"]
    check(len(pos) == 1 and int(pos[0]["units"]) == onchain, f"positions: {h['positions']}")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6, f"collateral {h['collateral_usd']}")
    check(abs(h["lt_value_usd"] - 30000.0 * 0.83) < 1e-6, f"LT value {h['lt_value_usd']}")
    check(h["health_factor"] is None and h["status"] == "ok", f"nothing owed: {h}")

    # 15000 USDC: HF = 24900 / 15000 (plus a day's interest) = 1.66
    desk.run("--operator", "rita", "credit", "draw", "acme", "15000", "--by-hand")
    h = desk.json("credit", "health", "acme", "--json")
    check(1.6 < h["health_factor"] < 1.66, f"after the first draw: {h}")
    check(abs(h["health_factor"] - h["lt_value_usd"] / h["owed_usd"]) < 1e-9, "HF formula")
    # the desk's credit line (risk report, the Dashboard's gauge) reads the ledger, not
    # `risk set-drawn` (a desk setting it still has, and ignores once there are facilities)
    desk.run("--operator", "rita", "risk", "set-drawn", "1")
    rep = desk.json("risk", "report", "--json", "--paths", "200")
    check(abs(rep["drawn"] - h["owed_usd"]) < 1e-6, f"risk report drawn {rep['drawn']} vs "
          f"ledger {h['owed_usd']}")

    # 5000 more: HF about 1.245 < 1.25: refused with the numbers, nothing signed
    before_rows, before_ledger = credit_rows(desk), desk.json("credit", "ledger", "acme", "--json")
    r = desk.run("--operator", "rita", "credit", "draw", "acme", "5000", "--by-hand", check=False)
    check(r.returncode == 1, f"refused draw exit {r.returncode}: {r.stderr}")
    m = re.search(r"health factor to ([0-9.]+), below its initial level 1\.25 \(collateral "
                  r"([0-9.]+) USD, liquidation-threshold value ([0-9.]+) USD, owed after "
                  r"([0-9.]+) USD\)", r.stderr)
    check(m, f"refusal without the numbers: {r.stderr}")
    hf, coll, ltv, owed = map(float, m.groups())
    check(abs(coll - 30000) < 0.01 and abs(ltv - 24900) < 0.01 and 20000 < owed < 20010,
          f"numbers: {m.groups()}")
    check(abs(hf - ltv / owed) < 1e-4 and hf < 1.25, f"HF {hf} vs {ltv}/{owed}")
    check("--override" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)
    check(credit_rows(desk) == before_rows, "a refused draw signed something")
    check(desk.json("credit", "ledger", "acme", "--json") == before_ledger,
          "a refused draw changed the ledger")

    # an operator without the risk role cannot override
    r = desk.run("--operator", "carl", "credit", "draw", "acme", "5000", "--by-hand", "--override", "x",
                 check=False)
    check(r.returncode == 1 and "lacks the risk role" in r.stderr, r.stderr)

    # the risk officer overrides with a reason: recorded, signed, shown
    reason = "client wires 5 WETH top-up today"
    desk.run("--operator", "rita", "credit", "draw", "acme", "5000", "--by-hand", "--override", reason)
    rows = credit_rows(desk)
    ov = [x for x in rows if x["action"] == "credit.override"]
    check(len(ov) == 1 and ov[0]["operator"] == "rita" and ov[0]["details"]["reason"] == reason,
          f"override row: {ov}")
    check(float(ov[0]["details"]["health_factor_after"]) < 1.25, ov[0])
    led = desk.json("credit", "ledger", "acme", "--json")
    draws = [x for x in led["rows"] if x["kind"] == "draw"]
    check(len(draws) == 2 and draws[1]["memo"] == f"override: {reason}", f"ledger: {draws}")
    v = desk.run("audit", "verify")
    check("signatures ok" in v.stdout, v.stdout)

    # a collateral withdrawal: the counterparty asks 1 WETH back on chain; approving it would
    # take HF below the initial level: refused with the numbers and nothing signed; an
    # approver without the risk role cannot override; bob (approver and risk officer) does,
    # with a reason that is a signed audit row, and his approval lands on chain
    desk.run("operator", "add", "bob", "--key", A[2], "--role", "approver,risk")
    desk.run("operator", "add", "carol", "--key", A[3], "--role", "approver")
    bob, carol = desk.signed.as_("bob"), desk.signed.as_("carol")
    chain.cast_send(cp, vault, "requestWithdrawal(address,uint256)", weth, str(10**18))
    before_rows = credit_rows(desk)
    before_tx = desk.run("tx", "list", "--json").stdout
    r = desk.run(*bob, "--yes", "credit", "withdrawal", "acme", "0", "--chain", "local",
                 "--approve", "--wait", "30", check=False)
    m = re.search(r"health factor to ([0-9.]+), below its initial level 1\.25 \(collateral "
                  r"([0-9.]+) -> ([0-9.]+) USD", r.stderr)
    check(r.returncode == 1 and m, f"withdrawal not refused with the numbers: {r.stderr}")
    check(abs(float(m.group(2)) - 30000) < 0.01 and abs(float(m.group(3)) - 27000) < 0.01,
          f"collateral before/after: {m.groups()}")
    check(credit_rows(desk) == before_rows and desk.run("tx", "list", "--json").stdout ==
          before_tx, "a refused withdrawal signed something")
    r = desk.run(*carol, "--yes", "credit", "withdrawal", "acme", "0", "--chain", "local",
                 "--approve", "--override", "x", "--wait", "30", check=False)
    check(r.returncode == 1 and "lacks the risk role" in r.stderr, r.stderr)
    check(credit_rows(desk) == before_rows, "carol's refused override signed something")
    wreason = "withdrawal against a wire received today"
    desk.run(*bob, "--yes", "credit", "withdrawal", "acme", "0", "--chain", "local",
             "--approve", "--override", wreason, "--wait", "30")
    ovw = [x for x in credit_rows(desk) if x["action"] == "credit.override" and
           x["details"].get("action") == "withdrawal"]
    check(len(ovw) == 1 and ovw[0]["operator"] == "bob" and ovw[0]["details"]["reason"] == wreason
          and float(ovw[0]["details"]["health_factor_after"]) < 1.25, f"override: {ovw}")
    appr = node.cast("call", vault, "getRequest(uint256)((uint8,uint8,address,address,address,"
                     "uint256,uint256))", "0")
    check(appr.strip().rstrip(")").split(",")[-1].strip().split()[0] == "1",
          f"bob's approval on chain: {appr}")
    v = desk.run("audit", "verify")
    check("signatures ok" in v.stdout, v.stdout)

    # prices fall: margin call (HF < 1.10), then liquidation (< 1.00); `credit check` opens a
    # margin call with an alert, then a liquidation proposal with its plan; back up, both close
    c = desk.json("credit", "check", "--json")
    check(c["opened"] == 0 and c["calls"] == [], f"healthy facility has calls: {c}")
    chain.cast_send(A[0], weth_feed, "setAnswer(int256)", str(2600 * 10**8))
    desk.run("risk", "report", "--json", "--paths", "200")
    h = desk.json("credit", "health", "acme", "--json")
    check(h["status"] == "margin call", f"at 2600: {h['health_factor']} {h['status']}")
    c = desk.json("credit", "check", "--json")
    check(c["opened"] == 1 and [x["kind"] for x in c["calls"]] == ["margin_call"], f"{c}")
    check(c["calls"][0]["cure_by"] - c["calls"][0]["opened_at"] == 24 * 3600, c)
    c = desk.json("credit", "check", "--json")
    check(c["opened"] == 0 and len(c["calls"]) == 1, f"a second check opened again: {c}")
    alerts = desk.run("alerts").stdout
    check("credit:margin:acme" in alerts or "margin-call level" in alerts, alerts)
    chain.cast_send(A[0], weth_feed, "setAnswer(int256)", str(2350 * 10**8))
    desk.run("risk", "report", "--json", "--paths", "200")
    h = desk.json("credit", "health", "acme", "--json")
    check(h["status"] == "liquidation", f"at 2350: {h['health_factor']} {h['status']}")
    c = desk.json("credit", "check", "--json")
    liq = [x for x in c["calls"] if x["kind"] == "liquidation"]
    check(c["opened"] == 1 and len(liq) == 1, f"{c}")
    plan = liq[0]["plan"]
    # the plan: S = (1.25 * owed - LTV) / (1.25 - 0.83) USD of WETH at 2350 (less than all of it)
    want_usd = (1.25 * h["owed_usd"] - h["lt_value_usd"]) / (1.25 - 0.83)
    check(0 < want_usd < 23500, want_usd)
    check(plan["asset"] == "WETH" and plan["chain_id"] == 31337 and
          abs(plan["usd"] - want_usd) < 1e-6 * want_usd, f"plan {plan} want {want_usd}")
    units = int(plan["units"])
    check(units <= onchain and abs(units - want_usd / 2350 * 10**18) <= 10**6, f"units {units}")
    # the plan, seized and repaid, restores HF >= 1.25 (checked on the numbers)
    seized_usd = units / 10**18 * 2350
    hf_after = (h["lt_value_usd"] - seized_usd * 0.83) / (h["owed_usd"] - seized_usd)
    check(hf_after >= 1.25 - 1e-9, f"plan leaves HF {hf_after}")
    alerts = desk.run("alerts").stdout
    check("liquidation level" in alerts, alerts)

    # the seizure, through the desk pipeline: approvers bob and carol (anvil keys #2 and #3,
    # two of the vault's three, M = 2) propose, approve and execute it; it lands on chain
    dest = A[9]
    cid = liq[0]["id"]
    desk.run(*bob, "--yes", "credit", "seize", cid, "--propose", "--to", dest, "--wait", "30")
    plan = [x for x in desk.json("credit", "calls", "--json")["calls"] if x["id"] == cid][0]["plan"]
    check(plan["request_id"] == 1 and plan["owner"].lower() == cp.lower() and
          plan["to"].lower() == dest.lower(), f"plan after propose: {plan}")
    desk.run(*carol, "--yes", "credit", "seize", cid, "--approve", "--wait", "30")
    r = desk.run(*bob, "--yes", "credit", "seize", cid, "--execute", "--wait", "30", check=False)
    check(r.returncode == 1 and "ThresholdNotReached" in r.stderr,
          f"execute with one approval: {r.returncode} {r.stdout} {r.stderr}")
    desk.run(*bob, "--yes", "credit", "seize", cid, "--approve", "--wait", "30")
    desk.run(*bob, "--yes", "credit", "seize", cid, "--execute", "--wait", "30")
    got = int(node.cast("call", weth, "balanceOf(address)(uint256)", dest).split()[0])
    left = int(node.cast("call", vault, "balanceOf(address,address)(uint256)", cp, weth)
               .split()[0])
    check(got == units and left == onchain - units, f"seized {got} of {units}; left {left}")
    h = desk.json("credit", "health", "acme", "--json")
    check(int(h["positions"][0]["units"]) == left, f"health reads the vault: {h}")
    # the proceeds repay the loan (seized WETH at 2350, in USDC, rounded down): healthy again
    proceeds = units * 2350 // 10**12  # base units of USDC (6 decimals) from 18-decimal WETH
    desk.run("--operator", "rita", "credit", "repay", "acme",
             f"{proceeds // 10**6}.{proceeds % 10**6:06d}", "--memo", "seizure proceeds")
    c = desk.json("credit", "check", "--json")
    check(c["closed"] == 2 and c["calls"] == [], f"after the seizure: {c}")
    h = desk.json("credit", "health", "acme", "--json")
    check(h["status"] == "ok" and h["health_factor"] > 1.24, f"after the seizure: {h}")
    allc = desk.json("credit", "calls", "--all", "--json")["calls"]
    check(sorted(x["closed"] for x in allc) == ["cured", "cured"], allc)
    alerts = desk.run("alerts").stdout
    check("liquidation level" not in alerts and "margin-call level" not in alerts, alerts)
    node.stop()
    print("ok: credit_chain")


if __name__ == "__main__":
    main()
