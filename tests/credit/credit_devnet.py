#!/usr/bin/python3
"""credit_devnet.py: the unified credit line's acceptance on three real anvil chains.

Chains A and B each have a CollateralVault (approvers anvil #2, #3, #4; 2 of 3) and WETH;
chain C has USDC. The counterparty (entity Acme, anvil #1, linked on every chain) deposits
4 WETH into A's vault and 6 WETH into B's (cast). The facility names both vaults and a
repayment address, the desk account of bob (anvil #2). The draw is paid on chain C through
the desk pipeline: `credit draw acme 15000 --chain cc` by bob (risk officer and trader) sends
15000 USDC from bob's address to the counterparty and posts the ledger row once mined; the
counterparty repays 5000.123456 USDC by a real ERC-20 transfer to the repayment address,
which the sync recognises. Then `cast` and the desk agree to the base unit: each chain's
collateral (synced vault flows) is the vault's balanceOf, the ledger's draw and repayment
are the transfers. The WETH feed is pushed down: a margin call opens, then a liquidation
proposal; bob and carol (two of the vault's approvers) propose, approve and execute the
seizure through the desk pipeline, it lands on chain (cast), the sync records it, the
proceeds are repaid, and the facility is healthy again with both calls closed.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, artifact, cast, need_artifacts  # noqa: E402
from credit_lib import check  # noqa: E402


def main():
    need_artifacts()
    tok = artifact("TestToken")["bytecode"]
    chains = {}
    for name, cid in (("ca", 31337), ("cb", 412346), ("cc", 1337)):
        ch = Chain(chain_id=cid).start()
        ch.deploy()
        chains[name] = ch
    cp, bob_a, carol_a, dest = A[1], A[2], A[3], A[9]
    weth, vault = {}, {}
    for name in ("ca", "cb"):
        ch = chains[name]
        weth[name] = ch.node.deploy(tok + cast("abi-encode", "constructor(string,string,uint8)",
                                               "Wrapped Ether", "WETH", 18)[2:])
        vault[name] = ch.node.deploy(artifact("CollateralVault")["bytecode"] + cast(
            "abi-encode", "constructor(address[],uint256)", f"[{A[2]},{A[3]},{A[4]}]", 2)[2:])
    cc = chains["cc"]
    usdc = cc.node.deploy(tok + cast("abi-encode", "constructor(string,string,uint8)",
                                     "USD Coin", "USDC", 6)[2:])
    weth_feed = chains["ca"].node.deploy(artifact("MockPriceFeed")["bytecode"] + cast(
        "abi-encode", "constructor(uint8,string,int256)", 8, "WETH / USD", 3000 * 10**8)[2:])
    cc.cast_send(A[0], usdc, "mint(address,uint256)", bob_a, str(10**6 * 10**6))

    desk = Desk()
    for name, ch in chains.items():
        desk.add_chain(ch, name=name, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    # USDC has no price here and the Travel Rule fails closed without one: carl, the
    # compliance officer, turns the rule off (a signed decision)
    conf = os.path.join(desk.home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("travel_rule.enabled = no\n")
    os.chmod(conf, 0o600)
    desk.run("--operator", "carl", "config", "sign", "compliance")
    desk.run("operator", "add", "bob", "--key", bob_a, "--role", "approver,risk,trader")
    desk.run("operator", "add", "carol", "--key", carol_a, "--role", "approver")
    bob, carol = desk.signed.as_("bob"), desk.signed.as_("carol")
    for name in ("ca", "cb"):
        desk.run("asset", "add-token", "--chain", name, "--symbol", "WETH", "--address",
                 weth[name])
    desk.run("asset", "add-token", "--chain", "cc", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "ca", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    for name in chains:
        desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", name, "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"ca={vault['ca']},cb={vault['cb']}", "--repay-to", bob_a)

    # deposits on two chains (the counterparty, with cast)
    for name, amount in (("ca", 4 * 10**18), ("cb", 6 * 10**18)):
        ch = chains[name]
        ch.cast_send(A[0], weth[name], "mint(address,uint256)", cp, str(amount))
        ch.cast_send(cp, weth[name], "approve(address,uint256)", vault[name], str(amount))
        ch.cast_send(cp, vault[name], "deposit(address,uint256)", weth[name], str(amount))
    desk.run("sync", "--once")

    def vault_units(name):
        return int(chains[name].node.cast("call", vault[name],
                                          "balanceOf(address,address)(uint256)", cp,
                                          weth[name]).split()[0])

    def usdc_of(who):
        return int(cc.node.cast("call", usdc, "balanceOf(address)(uint256)", who).split()[0])

    def positions():
        h = desk.json("credit", "health", "acme", "--json")
        return h, {p["chain_id"]: int(p["units"]) for p in h["positions"]}

    h, pos = positions()
    check(pos == {31337: vault_units("ca"), 412346: vault_units("cb")} and
          sum(pos.values()) == 10 * 10**18, f"collateral by chain {pos}")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6, f"collateral {h['collateral_usd']}")

    # the draw, paid on the third chain; a part repaid by a real transfer, found by sync
    bob_before = usdc_of(bob_a)
    desk.run(*bob, "--yes", "credit", "draw", "acme", "15000", "--chain", "cc", "--memo",
             "paid on chain cc", "--wait", "30")
    cc.cast_send(cp, usdc, "transfer(address,uint256)", bob_a, "5000123456")
    desk.run("sync", "--once")
    rows = desk.json("credit", "ledger", "acme", "--json")["rows"]
    draws = sum(int(r["amount_units"]) for r in rows if r["kind"] == "draw")
    repays = sum(int(r["amount_units"]) for r in rows if r["kind"] == "repay")
    check(draws == 15000 * 10**6 == usdc_of(cp) + repays, f"draw {draws} vs cast {usdc_of(cp)}")
    check(repays == 5000123456 == usdc_of(bob_a) - (bob_before - 15000 * 10**6),
          f"repaid {repays} vs cast {usdc_of(bob_a)}")
    h, pos = positions()
    check(pos == {31337: vault_units("ca"), 412346: vault_units("cb")}, f"{pos}")
    check(h["status"] == "ok" and 2.4 < h["health_factor"] < 2.5, f"after the repayment: {h}")

    # prices fall: margin call, then liquidation proposal
    feed_chain = chains["ca"]
    feed_chain.cast_send(A[0], weth_feed, "setAnswer(int256)", str(1300 * 10**8))
    desk.run("risk", "report", "--json", "--paths", "200")
    c = desk.json("credit", "check", "--json")
    check(c["opened"] == 1 and [x["kind"] for x in c["calls"]] == ["margin_call"], f"{c}")
    feed_chain.cast_send(A[0], weth_feed, "setAnswer(int256)", str(1200 * 10**8))
    desk.run("risk", "report", "--json", "--paths", "200")
    c = desk.json("credit", "check", "--json")
    liq = [x for x in c["calls"] if x["kind"] == "liquidation"]
    check(c["opened"] == 1 and len(liq) == 1, f"{c}")
    plan, cid = liq[0]["plan"], liq[0]["id"]
    check(plan["asset"] == "WETH" and plan["chain_id"] == 412346, f"plan {plan}")
    units = int(plan["units"])
    check(0 < units < vault_units("cb"), f"units {units} (less than the position)")

    # the seizure through the desk pipeline, M of N, lands on chain B
    cb_before = vault_units("cb")
    desk.run(*bob, "--yes", "credit", "seize", cid, "--propose", "--to", dest, "--wait", "30")
    desk.run(*carol, "--yes", "credit", "seize", cid, "--approve", "--wait", "30")
    desk.run(*bob, "--yes", "credit", "seize", cid, "--approve", "--wait", "30")
    desk.run(*bob, "--yes", "credit", "seize", cid, "--execute", "--wait", "30")
    got = int(chains["cb"].node.cast("call", weth["cb"], "balanceOf(address)(uint256)",
                                     dest).split()[0])
    check(got == units and vault_units("cb") == cb_before - units, f"seized {got} of {units}")
    desk.run("sync", "--once")
    flows = desk.query("SELECT kind, amount FROM vault_flows WHERE chain_id = 412346"
                       " ORDER BY block_number")
    check(flows[-1] == ("seizure", str(units)), f"the seizure synced: {flows}")
    h, pos = positions()
    check(pos == {31337: vault_units("ca"), 412346: vault_units("cb")}, f"after seizure {pos}")
    # the proceeds (seized WETH at 1200, in USDC base units, rounded down) repay the loan
    proceeds = units * 1200 // 10**12
    desk.run("--operator", "rita", "credit", "repay", "acme",
             f"{proceeds // 10**6}.{proceeds % 10**6:06d}", "--memo", "seizure proceeds")
    c = desk.json("credit", "check", "--json")
    check(c["closed"] == 2 and c["calls"] == [], f"after the seizure: {c}")
    h, _ = positions()
    check(h["status"] == "ok" and h["health_factor"] > 1.24, f"healthy again: {h}")
    for ch in chains.values():
        ch.node.stop()
    print("ok: credit_devnet")


if __name__ == "__main__":
    main()
