#!/usr/bin/python3
"""risk_live.py: the live risk service on a real anvil node (issue 7 acceptance, integration).

A desk with one key-store account holds native ETH (anvil_setBalance), minted USDC (a
TestToken) and 10 ETH locked as payer in a funded escrow; MockPriceFeeds price ETH and USDC.
`fusion risk report --json` must show the exact balances the node reports (read with cast,
an independent client), value them with the feed answers, and give the health factor and
the historical VaR that an independent computation gives (numpy over the shipped closes,
tests/risk/reference.py). Moving the ETH feed with `cast send setAnswer` must move VaR and
health factor; crossing the VaR limit and the margin-call level raises alerts that
`fusion alerts` shows, not duplicated while they persist, acknowledged with an audit row,
and cleared when the price comes back. A stale feed raises a stale-price alert."""
import csv
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (A, ROOT, Chain, Desk, artifact, cast, log, need_artifacts,  # noqa: E402
                      topic)

sys.path.insert(0, os.path.join(ROOT, "tests", "risk"))
import reference  # noqa: E402

PATHS = "2000"           # Monte Carlo paths: the MC figures are not what this test checks
ETH_HI, ETH_LO = 3000, 1500


def rel_close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(abs(a), abs(b), 1e-300)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def lt_of(asset):
    for row in reference.read_table(os.path.join(ROOT, "data", "risk", "collateral.csv")):
        if row["asset"] == asset:
            return float(row["liq_threshold_pct"]) / 100.0
    raise AssertionError(f"no collateral row for {asset}")


def hist_var(values):
    """numpy: 1-day 99 % historical VaR of {asset: usd} over the shipped closes (window 500)."""
    series = {}
    for a in values:
        series.update(reference.read_price_file(
            f"{a}=" + os.path.join(ROOT, "data", "prices", f"yf_{a}-USD_1d.csv")))
    assets = sorted(values)
    _, P = reference.build_panel(series, assets, None, None, 500 + 250 + 1)
    r = np.log(P[1:] / P[:-1])[-500:]
    V = np.array([values[a] for a in assets])
    loss = -(np.expm1(r) @ V)
    return reference.var_es(loss, 0.99, 0.975)[0]


def write_limits(path, var_limit):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["limit", "value"])
        for k, v in [("var_1d_usd", var_limit), ("es_1d_usd", 0), ("asset_share", 0),
                     ("chain_share", 0), ("counterparty_share", 0), ("margin_call_hf", 1.10),
                     ("price_max_age_s", 3600), ("sync_lag_blocks", 100)]:
            w.writerow([k, v])


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    usdc_init = artifact("TestToken")["bytecode"] + cast(
        "abi-encode", "constructor(string,string,uint8)", "USD Coin", "USDC", 6)[2:]
    usdc = node.deploy(usdc_init)
    feed_init = artifact("MockPriceFeed")["bytecode"]
    eth_feed = node.deploy(feed_init + cast("abi-encode", "constructor(uint8,string,int256)", 8,
                                            "ETH / USD", ETH_HI * 10**8)[2:])
    usdc_feed = node.deploy(feed_init + cast("abi-encode", "constructor(uint8,string,int256)", 8,
                                             "USDC / USD", 10**8)[2:])

    desk = Desk()
    work = tempfile.mkdtemp(prefix="fusion-risk-live-")
    pw = os.path.join(work, "pass")
    with open(pw, "w") as f:
        f.write("risk live test passphrase\n")
    os.chmod(pw, 0o600)  # secrets must be the operator's alone
    acct = desk.json("--passphrase-file", pw, "key", "new", "--kdf", "interactive",
                     "--label", "desk", "--json")["address"]
    desk.add_chain(chain, confirmations=0)
    # alice sets the drawn amount and bob acknowledges alerts: operators of the desk, each
    # with their own key (decisions are signed)
    desk.signed.add("alice", "trader")
    desk.signed.add("bob", "approver")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "ETH", "--address", eth_feed)
    desk.run("asset", "add-feed", "--chain", "31337", "--asset", "USDC", "--address", usdc_feed)
    listed = desk.json("asset", "list", "--json")
    check([t["symbol"] for t in listed["tokens"]] == ["USDC"] and
          sorted(f["asset"] for f in listed["feeds"]) == ["ETH", "USDC"], f"asset list: {listed}")
    # A feed address without code is refused before anything is stored.
    r = desk.run("asset", "add-feed", "--chain", "local", "--asset", "BTC", "--address", A[7],
                 check=False)
    check(r.returncode == 1 and "no contract" in r.stderr, f"add-feed without code: {r.stderr}")

    # Balances: 100 ETH, 200,000 USDC, then 10 ETH locked in a funded escrow (desk = payer).
    node.rpc("anvil_setBalance", acct, hex(100 * 10**18))
    chain.cast_send(A[0], usdc, "mint(address,uint256)", acct, str(200_000 * 10**6))
    node.rpc("anvil_impersonateAccount", acct)
    deadline = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16) + 86400
    r = chain.cast_send(acct, chain.factory,
                        "createEscrow(address,address,uint256,address[],uint256,address,uint64)",
                        A[1], "0x" + "00" * 20, str(10 * 10**18), f"[{A[2]},{A[3]}]", "1", A[4],
                        str(deadline))
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    escrow = "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]
    chain.cast_send(acct, escrow, "fund()", value=10 * 10**18)
    desk.run("sync", "--once")

    # the desk's own limits: an admin's signed decision (a signed desk acts on no other)
    limits = os.path.join(desk.home, "risk-limits.csv")

    def sign_limits(var_limit):
        write_limits(limits, var_limit)
        os.chmod(limits, 0o600)
        desk.signed.sign_config("risk-limits")

    sign_limits(0)

    def report(*extra):
        return desk.json("risk", "report", "--json", "--paths", PATHS, *extra)

    def set_eth(price):
        chain.cast_send(A[0], eth_feed, "setAnswer(int256)", str(price * 10**8))

    # ---- run 1: ETH at 3000. Exact balances, as cast reads them.
    r1 = report()
    eth_wallet = int(node.cast("balance", acct))
    usdc_bal = int(node.cast("call", usdc, "balanceOf(address)(uint256)", acct).split()[0])
    pos = {(p["kind"], p["asset"]): p for p in r1["positions"]}
    check(pos[("wallet", "ETH")]["amount"] == str(eth_wallet),
          f"wallet ETH {pos[('wallet', 'ETH')]['amount']} != node {eth_wallet}")
    check(pos[("wallet", "USDC")]["amount"] == str(usdc_bal), "wallet USDC differs from the node")
    lk = pos[("escrow_locked", "ETH")]
    check(lk["amount"] == str(10 * 10**18) and lk["escrow"].lower() == escrow.lower() and
          lk["counterparty"].lower() == A[1].lower(), f"escrow exposure: {lk}")
    prices = {p["asset"]: p for p in r1["prices"]}
    check(prices["ETH"]["source"] == "oracle" and prices["ETH"]["usd"] == ETH_HI and
          not prices["ETH"]["stale"], f"ETH price: {prices['ETH']}")
    log("run 1: balances equal the node's, escrow exposure and oracle price seen")

    def expected(eth_price):
        eth_units = (eth_wallet + 10 * 10**18) / 1e18
        return {"ETH": eth_units * eth_price, "USDC": usdc_bal / 1e6 * 1.0}

    v_hi = expected(ETH_HI)
    for a in v_hi:
        check(rel_close(r1["exposure"][a], v_hi[a]), f"exposure {a}: {r1['exposure'][a]} vs "
              f"{v_hi[a]}")
    var_hi = r1["historical"]["var_1d"]
    check(rel_close(var_hi, hist_var(v_hi)), f"VaR {var_hi} vs numpy {hist_var(v_hi)}")

    # The drawn amount puts the health factor between 1.0 and 1.10 at the low price.
    lt_lo = expected(ETH_LO)["ETH"] * lt_of("ETH") + expected(ETH_LO)["USDC"] * lt_of("USDC")
    drawn = round(lt_lo / 1.05, 2)
    desk.run("--operator", "alice", "risk", "set-drawn", f"{drawn:.2f}")
    r1 = report()
    hf_hi = r1["credit_line"]["health_factor"]
    lt_hi = v_hi["ETH"] * lt_of("ETH") + v_hi["USDC"] * lt_of("USDC")
    check(rel_close(hf_hi, lt_hi / drawn), f"HF {hf_hi} vs {lt_hi / drawn}")
    check(not [a for a in r1["alerts"] if a["kind"] in ("margin_call", "liquidation")],
          "no margin call expected at the high price")

    # ---- run 2: ETH feed moved down: VaR and health factor move as recomputed.
    set_eth(ETH_LO)
    r2 = report()
    v_lo = expected(ETH_LO)
    var_lo = r2["historical"]["var_1d"]
    hf_lo = r2["credit_line"]["health_factor"]
    check(var_lo < var_hi and rel_close(var_lo, hist_var(v_lo)),
          f"VaR after the move {var_lo} (before {var_hi}, numpy {hist_var(v_lo)})")
    check(hf_lo < hf_hi and rel_close(hf_lo, lt_lo / drawn), f"HF after the move {hf_lo}")
    log(f"feed 3000 -> 1500: VaR {var_hi:.2f} -> {var_lo:.2f}, HF {hf_hi:.4f} -> {hf_lo:.4f}")
    mc = [a for a in r2["alerts"] if a["key"] == "health_factor"]
    check(len(mc) == 1 and mc[0]["kind"] == "margin_call" and mc[0]["severity"] == "warning",
          f"margin call alert: {r2['alerts']}")
    shown = desk.json("alerts", "--json")
    check([a["id"] for a in shown if a["key"] == "health_factor"] == [mc[0]["id"]],
          f"fusion alerts does not show the margin call: {shown}")
    # Still below: the same alert, not a new one.
    r2b = report()
    check([a["id"] for a in r2b["alerts"] if a["key"] == "health_factor"] == [mc[0]["id"]] and
          r2b["alerts_raised"] == 0, "a persisting condition must not raise a second alert")
    # Acknowledge it: operator recorded, audit row written.
    desk.run("--operator", "bob", "alerts", "ack", str(mc[0]["id"]))
    acked = [a for a in desk.json("alerts", "--json") if a["id"] == mc[0]["id"]][0]
    check(acked["acked_by"] == "bob" and acked["acked_at"], f"ack: {acked}")
    audit = desk.run("audit", "list", "--json").stdout
    check('"alert.ack"' in audit and '"bob"' in audit, "no audit row for the acknowledgement")
    check(desk.run("audit", "verify").returncode == 0, "audit chain broken")

    # ---- the VaR limit between the two levels: crossing up raises, coming back clears.
    sign_limits(round((var_hi + var_lo) / 2, 2))
    r3 = report()
    check(not [a for a in r3["alerts"] if a["key"] == "var_limit"], "VaR below the limit")
    set_eth(ETH_HI)
    r4 = report()
    vl = [a for a in r4["alerts"] if a["key"] == "var_limit"]
    check(len(vl) == 1 and vl[0]["value"] == r4["historical"]["var_1d"],
          f"VaR limit alert: {r4['alerts']}")
    check(not [a for a in r4["alerts"] if a["key"] == "health_factor"],
          "the margin call must clear when the price comes back")
    shown = desk.json("alerts", "--json")
    check([a["key"] for a in shown if a["key"] in ("var_limit", "health_factor")] ==
          ["var_limit"], f"fusion alerts after the price came back: {shown}")
    hist = {a["id"]: a for a in desk.json("alerts", "--all", "--json")}
    check(hist[mc[0]["id"]]["state"] == "cleared" and hist[mc[0]["id"]]["acked_by"] == "bob",
          "the cleared margin call keeps its history")
    txt = desk.run("alerts").stdout
    check("VaR" in txt and "above the limit" in txt, f"fusion alerts text: {txt}")
    # a report over other limits (or another drawn amount) is a what-if: it shows what holds
    # under them and leaves the desk's alerts alone (changing them is a signed decision)
    loose = os.path.join(work, "loose.csv")
    write_limits(loose, 10**12)
    for extra in (("--limits", loose), ("--drawn", "0")):
        rw = report(*extra)
        check(rw["what_if"] and rw["alerts_cleared"] == 0 and rw["alerts_raised"] == 0,
              f"what-if {extra}: {rw['what_if']}, {rw['alerts_raised']}, {rw['alerts_cleared']}")
        check(("--drawn" in extra) == any(c["key"] == "var_limit" for c in rw["conditions"]),
              f"what-if {extra} conditions: {rw['conditions']}")
        check([a["key"] for a in desk.json("alerts", "--json") if a["key"] == "var_limit"] ==
              ["var_limit"], f"what-if {extra} cleared the VaR alert")
    check(not report()["what_if"], "the desk's own report is no what-if")
    set_eth(ETH_LO)
    r5 = report()
    check(not [a for a in r5["alerts"] if a["key"] == "var_limit"] and r5["alerts_cleared"] >= 1,
          "the VaR alert must clear when the price goes back down")
    log("limits: VaR and margin-call alerts raised, kept, acknowledged and cleared")

    # ---- a stale feed: updatedAt older than price_max_age_s at the report's --now.
    upd = int(node.cast("call", eth_feed,
                        "latestRoundData()(uint80,int256,uint256,uint256,uint80)").split("\n")[3]
              .split()[0])
    r6 = report("--now", str(upd + 7200))
    stale = [a for a in r6["alerts"] if a["kind"] == "stale_price"]
    check(len(stale) == 2 and all(p["stale"] for p in r6["prices"] if p["source"] == "oracle"),
          f"stale price alerts: {r6['alerts']}")
    r7 = report("--now", str(upd + 60))
    check(not [a for a in r7["alerts"] if a["kind"] == "stale_price"], "stale alerts must clear")
    # Every oracle round seen is stored once.
    rounds = desk.query("SELECT feed, round_id, answer FROM price_observations ORDER BY "
                        "updated_at, CAST(round_id AS INTEGER)")
    eth_rounds = [r for r in rounds if r[0] == eth_feed.lower()]
    check([r[2] for r in eth_rounds] == [str(p * 10**8) for p in
                                         (ETH_HI, ETH_LO, ETH_HI, ETH_LO)] and
          len({r[1] for r in eth_rounds}) == len(eth_rounds), f"stored rounds: {eth_rounds}")
    log("stale prices raise and clear; oracle rounds stored once each")

    # ---- balances are read at the synced block, not at latest: 5 ETH sent to the desk after
    # the last sync are not in the report until `fusion sync` has reached their block.
    synced = desk.json("risk", "report", "--json", "--paths", PATHS)["chains"][0]
    check(synced["balances_block"] == synced["synced_block"],
          f"balances must be read at the synced block: {synced}")
    at_sync = int(node.cast("balance", acct, "--block", str(synced["synced_block"])))
    node.cast("send", "--unlocked", "--from", A[5], acct, "--value", str(5 * 10**18))
    check(int(node.cast("balance", acct)) == at_sync + 5 * 10**18, "the transfer must be mined")
    wallet = {(p["kind"], p["asset"]): p for p in report()["positions"]}[("wallet", "ETH")]
    check(wallet["amount"] == str(at_sync),
          f"before sync the wallet must be the synced block's {at_sync}, not {wallet['amount']}")
    desk.run("sync", "--once")
    wallet = {(p["kind"], p["asset"]): p for p in report()["positions"]}[("wallet", "ETH")]
    check(wallet["amount"] == str(at_sync + 5 * 10**18),
          f"after sync the wallet must include the transfer: {wallet['amount']}")
    log("balances follow the sync checkpoint")
    chain.node.stop()
    log("ok")


if __name__ == "__main__":
    main()
