#!/usr/bin/python3
"""devnet_updown.py: `fusion devnet up|status|down` against real anvil nodes.

Brings the four-chain devnet up on free ports in a temporary desk home, then checks it
independently of fusion: the nodes answer with their chain ids (cast), every recorded
contract has code (cast code), tokens and feeds answer (cast call decimals / symbol /
latestRoundData; the feeds' answers against the last close of data/prices computed here
from the CSV text), the deployer's nonce shows that fusion sent the deployments; `up`
twice starts no duplicates; a taken port is refused; `down` leaves no anvil behind
(checked in /proc).
"""
import decimal
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import (N_CHAINS, CAST, ROOT, anvils_on, cast, check, free_ports, fusion,  # noqa: E402
                        report)

DEPLOYER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"  # anvil dev account #0


# which price history drives each feed (docs/demo.md): wrapped tokens follow their coin
SERIES = {"ETH": "ETH", "BTC": "BTC", "USDC": "USDC", "WETH": "ETH", "WBTC": "BTC",
          "POL": "MATIC", "AVAX": "AVAX"}


def last_close_8(asset):
    """The last daily close of data/prices as an 8-decimal integer, truncated (from text)."""
    path = os.path.join(ROOT, "data", "prices", "yf_%s-USD_1d.csv" % SERIES[asset])
    with open(path) as f:
        rows = [l.split(",") for l in f.read().splitlines()[1:] if l.strip()]
    q = decimal.Decimal(rows[-1][1]).scaleb(8).to_integral_value(rounding=decimal.ROUND_DOWN)
    return int(q)


def main():
    home = tempfile.mkdtemp(prefix="fusion-devnet-")
    ports = free_ports(N_CHAINS)
    port_arg = ",".join(map(str, ports))
    try:
        run(home, ports, port_arg)
    finally:
        fusion(home, "devnet", "down", rc=None)
        left = anvils_on(ports)
        check(not left, "anvil processes left on our ports after down: %s" % left)
    return report()


def run(home, ports, port_arg):
    p = fusion(home, "devnet", "up", "--ports", port_arg)
    print(p.stdout, end="")
    check(p.stdout.count("started on") == N_CHAINS, "four nodes started: %r" % p.stdout)

    st = json.loads(fusion(home, "--json", "devnet", "status").stdout)
    check(len(st) == N_CHAINS, "status lists four nodes")
    ids = set()
    for n, port in zip(st, ports):
        check(n["healthy"] and n["running"] and n["answering"], "%s healthy" % n["name"])
        check(n["port"] == port, "%s on port %d" % (n["name"], port))
        real = int(cast("chain-id", "--rpc-url", n["url"]))
        check(real == n["chain_id"], "%s answers as chain %d (cast: %d)" % (n["name"],
                                                                         n["chain_id"], real))
        ids.add(real)
    check(len(ids) == N_CHAINS, "four distinct chain ids: %s" % ids)
    pids_before = sorted(n["pid"] for n in st)
    check(sorted(anvils_on(ports)) == pids_before, "exactly our four anvils run")

    db = sqlite3.connect(os.path.join(home, "desk.db"))
    chains = db.execute("SELECT c.chain_id, c.name, e.url FROM chains c JOIN rpc_endpoints e"
                        " USING (chain_id) ORDER BY c.chain_id").fetchall()
    check(len(chains) == N_CHAINS, "four chains recorded with endpoints")
    want_tokens = {"USDC": 6, "WBTC": 8, "WETH": 18}
    for chain_id, name, url in chains:
        kinds = {}
        for kind, address in db.execute("SELECT kind, address FROM contracts WHERE chain_id=?",
                                        (chain_id,)):
            kinds[kind] = kinds.get(kind, 0) + 1
            code = cast("code", "--rpc-url", url, address)
            check(len(code) > 2, "%s %s %s has code" % (name, kind, address))
        # the CollateralVault is a synced contract (its events are the facilities' collateral)
        check(kinds == {"factory": 2, "htlc": 1, "token": 3, "feed": 7, "vault": 1},
              "%s contracts by kind: %s" % (name, kinds))
        # EscrowFactoryV2 (new escrows) beside version 1 (the demo's seeded trading).
        versions = {}
        for address, version in db.execute("SELECT address, version FROM contracts"
                                           " WHERE chain_id=? AND kind='factory'", (chain_id,)):
            versions[version] = address
            r = subprocess.run([CAST, "call", "--rpc-url", url, address, "version()(uint256)"],
                               capture_output=True, text=True, timeout=60)
            said = r.stdout.split()[0] if r.returncode == 0 and r.stdout.split() else None
            check(said == ("2" if version == 2 else None),
                  "%s factory %s version %s answers version() %s" % (name, address, version, said))
        check(sorted(versions) == [1, 2], "%s factory versions: %s" % (name, versions))
        # the credit facilities' CollateralVault: 2 of 2 by the demo's approvers (#2, #3)
        row = db.execute("SELECT value FROM risk_settings WHERE key=?",
                         ("credit_vault:%d" % chain_id,)).fetchone()
        check(row is not None, "%s has no credit_vault setting" % name)
        th = cast("call", "--rpc-url", url, row[0], "threshold()(uint256)").split()[0]
        aps = cast("call", "--rpc-url", url, row[0], "approvers()(address[])").lower()
        check(th == "2" and "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc" in aps and
              "0x90f79bf6eb2c4f870365e785982e1f101e93b906" in aps,
              "%s vault %s: threshold %s approvers %s" % (name, row[0], th, aps))
        toks = dict(db.execute("SELECT symbol, address FROM tokens WHERE chain_id=?",
                               (chain_id,)).fetchall())
        check(set(toks) == set(want_tokens), "%s tokens %s" % (name, sorted(toks)))
        for sym, address in toks.items():
            dec = int(cast("call", "--rpc-url", url, address, "decimals()(uint8)"))
            check(dec == want_tokens[sym], "%s %s decimals %d" % (name, sym, dec))
            s = cast("call", "--rpc-url", url, address, "symbol()(string)").strip('"')
            check(s == sym, "%s token symbol %s == %s" % (name, s, sym))
        feeds = db.execute("SELECT asset, 'USD', decimals, address FROM price_feeds"
                           " WHERE chain_id=?", (chain_id,)).fetchall()
        check(sorted(f[0] for f in feeds) == sorted(SERIES), "%s feeds" % name)
        for asset, quote, decs, address in feeds:
            check(db.execute("SELECT kind FROM contracts WHERE chain_id=? AND address=?",
                             (chain_id, address)).fetchone() == ("feed",),
                  "%s feed %s is a contracts row of kind feed" % (name, asset))
            d = int(cast("call", "--rpc-url", url, address, "decimals()(uint8)"))
            check(d == 8 and decs == 8, "%s %s feed decimals %d" % (name, asset, d))
            desc = cast("call", "--rpc-url", url, address, "description()(string)").strip('"')
            check(desc == "%s / %s" % (asset, quote), "%s feed description %s" % (name, desc))
            out = cast("call", "--rpc-url", url, address,
                       "latestRoundData()(uint80,int256,uint256,uint256,uint80)").splitlines()
            answer = int(out[1].split()[0])
            check(answer == last_close_8(asset), "%s %s answer %d == last close %d" %
                  (name, asset, answer, last_close_8(asset)))
        nonce = int(cast("nonce", "--rpc-url", url, DEPLOYER))
        # 13 deployments (the vault included), the CCTP set-up (2 contracts, 8 calls) and the
        # CCIP router's (1 contract; 3 tokens, 3 lanes of 1 + 3 links, fees, 3 mints: 19 calls)
        check(nonce == 44, "%s: deployer sent the 13 deployments, the CCTP set-up (10) and the "
              "CCIP set-up (20) (nonce %d)" % (name, nonce))
    db.close()

    # idempotent: a second up starts nothing and deploys nothing
    p = fusion(home, "devnet", "up", "--ports", port_arg)
    check(p.stdout.count("already running") == N_CHAINS and "deployed" not in p.stdout,
          "second up reuses the nodes: %r" % p.stdout)
    check(sorted(anvils_on(ports)) == pids_before, "no duplicate anvil after a second up")

    # a port taken by someone else is refused with a clear message
    other = tempfile.mkdtemp(prefix="fusion-devnet-busy-")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    bport = busy.getsockname()[1]
    fp = free_ports(N_CHAINS - 1)
    # the taken port is the last one: the three nodes started before it must be stopped again
    p = fusion(other, "devnet", "up", "--ports", ",".join(map(str, fp + [bport])),
               rc=None)
    busy.close()
    check(p.returncode == 1 and "taken" in p.stderr, "taken port refused: %d %r" %
          (p.returncode, p.stderr))
    check(not anvils_on([bport] + fp), "refused up left no anvil")
    fusion(other, "devnet", "down", rc=None)

    p = fusion(home, "devnet", "down")
    check("%d nodes stopped" % N_CHAINS in p.stdout, "down stopped four nodes: %r" % p.stdout)
    check(not anvils_on(ports), "no anvil on our ports after down")
    check(not [f for f in os.listdir(os.path.join(home, "devnet")) if f.endswith(".pid")],
          "pid files removed")
    p = fusion(home, "devnet", "status", rc=None)
    check(p.returncode == 1 and "stopped" in p.stdout, "status after down says stopped")


if __name__ == "__main__":
    sys.exit(main())
