#!/usr/bin/python3
"""credit_vault_sync.py: the CollateralVault's deposits, withdrawals and seizures synced into
desk.db, and a facility's collateral read at the synced block (integration, a real anvil).

A facility names a vault (`--vault`): the vault becomes a synced contract of its chain. Its
Deposited, Withdrawn and Seized events are stored by `fusion sync` as vault flows in the
transaction that stores the events; `credit health` values the flows through the chain's
synced block (a deposit made after the last sync is not collateral yet, though `cast` sees
it at the head), and each figure equals the vault's own balanceOf at that block (cast). A
reorg that drops a deposit drops its flow with the event. A vault registered after sync has
passed its deployment has unsynced history: health refuses with a line that says so, never a
silent zero.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, artifact, cast, need_artifacts  # noqa: E402
from credit_lib import check, token, usd_feed  # noqa: E402


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
    usdc = token(node, "USD Coin", "USDC", 6)
    weth_feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
    vault_code = artifact("CollateralVault")["bytecode"] + cast(
        "abi-encode", "constructor(address[],uint256)", f"[{A[2]},{A[3]},{A[4]}]", 2)[2:]
    vault = node.deploy(vault_code)
    cp, cp2 = A[1], A[6]
    for who in (cp, cp2):
        chain.cast_send(A[0], weth, "mint(address,uint256)", who, str(100 * 10**18))
        chain.cast_send(who, weth, "approve(address,uint256)", vault, str(100 * 10**18))

    def onchain(owner, block="latest"):
        return int(node.cast("call", "--block", str(block), vault,
                             "balanceOf(address,address)(uint256)", owner, weth).split()[0])

    # deposits before the desk exists: sync finds them from the chain's start block
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))
    chain.cast_send(cp2, vault, "deposit(address,uint256)", weth, str(2 * 10**18 + 7))

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    for who in (cp, cp2):
        desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local",
                 "--address", who)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")
    kinds = desk.query("SELECT kind FROM contracts WHERE lower(address) = lower(?)", vault)
    check(kinds == [("vault",)], f"the facility's vault is not a synced contract: {kinds}")

    def synced():
        return desk.checkpoint(31337)[0]

    def health_units():
        h = desk.json("credit", "health", "acme", "--json")
        pos = [p for p in h["positions"] if p["asset"] == "WETH"]
        check(len(pos) == 1, f"positions: {h['positions']}")
        return int(pos[0]["units"]), pos[0]["synced_block"]

    def flows():
        return desk.query("SELECT kind, amount FROM vault_flows ORDER BY block_number, event_id")

    desk.run("sync", "--once")
    b = synced()
    units, at = health_units()
    check(at == b, f"health read at {at}, the synced block is {b}")
    check(units == onchain(cp, b) + onchain(cp2, b) == 12 * 10**18 + 7,
          f"synced collateral {units} vs cast {onchain(cp, b)} + {onchain(cp2, b)}")
    check(flows() == [("deposit", str(10 * 10**18)), ("deposit", str(2 * 10**18 + 7))],
          f"flows {flows()}")

    # a deposit after the last sync is not collateral until it is synced
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(3 * 10**18))
    units, at = health_units()
    check(at == b and units == 12 * 10**18 + 7,
          f"health read past the synced block: {units} at {at} (synced {b})")
    check(onchain(cp) + onchain(cp2) == 15 * 10**18 + 7, "cast at the head")
    desk.run("sync", "--once")
    units, at = health_units()
    check(units == 15 * 10**18 + 7 and at == synced(), f"after sync: {units} at {at}")

    # a withdrawal (M of N) and a seizure, on chain with cast, synced as flows
    chain.cast_send(cp, vault, "requestWithdrawal(address,uint256)", weth, str(10**18))
    chain.cast_send(A[2], vault, "approve(uint256)", "0")
    chain.cast_send(A[3], vault, "approve(uint256)", "0")
    chain.cast_send(A[4], vault, "execute(uint256)", "0")
    chain.cast_send(A[2], vault, "proposeSeizure(address,address,uint256,address)", cp2, weth,
                    str(2 * 10**18), A[9])
    chain.cast_send(A[2], vault, "approve(uint256)", "1")
    chain.cast_send(A[4], vault, "approve(uint256)", "1")
    chain.cast_send(A[4], vault, "execute(uint256)", "1")
    desk.run("sync", "--once")
    b = synced()
    units, at = health_units()
    check(units == onchain(cp, b) + onchain(cp2, b) == 12 * 10**18 + 7 and at == b,
          f"after withdrawal and seizure: {units} at {at} vs cast "
          f"{onchain(cp, b) + onchain(cp2, b)}")
    kinds = [k for k, _ in flows()]
    check(kinds == ["deposit", "deposit", "deposit", "withdrawal", "seizure"], f"flows {kinds}")
    check(desk.query("SELECT request_id FROM vault_flows WHERE kind != 'deposit'"
                     " ORDER BY block_number") == [(0,), (1,)], "request ids")

    # a reorg drops a synced deposit: its flow goes with its event
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(5 * 10**18))
    desk.run("sync", "--once")
    units, _ = health_units()
    check(units == 17 * 10**18 + 7, f"before the reorg: {units}")
    node.rpc("anvil_reorg", 1, [])
    node.mine(1)
    desk.run("sync", "--once")
    b = synced()
    units, at = health_units()
    check(units == onchain(cp, b) + onchain(cp2, b) == 12 * 10**18 + 7 and at == b,
          f"after the reorg: desk {units}, cast {onchain(cp, b) + onchain(cp2, b)}")
    check(len(flows()) == 5, f"the dropped deposit's flow survived: {flows()}")
    orphans = desk.query("SELECT count(*) FROM vault_flows f LEFT JOIN events e"
                         " ON e.id = f.event_id WHERE e.id IS NULL")[0][0]
    check(orphans == 0, f"{orphans} flows without their event")

    # a second vault with history before the sync, registered only now: refused, not zero
    vault2 = node.deploy(vault_code)
    chain.cast_send(cp, weth, "approve(address,uint256)", vault2, str(10**18))
    chain.cast_send(cp, vault2, "deposit(address,uint256)", weth, str(10**18))
    desk.run("sync", "--once")
    desk.run("--operator", "rita", "credit", "facility", "add", "acme2", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault2}")
    r = desk.run("credit", "health", "acme2", "--json", check=False)
    check(r.returncode == 1 and "events are missing" in r.stderr
          and len(r.stderr.strip().splitlines()) == 1, f"unsynced history: {r.returncode} "
          f"{r.stderr}")
    print("credit vault sync: ok")


if __name__ == "__main__":
    main()
