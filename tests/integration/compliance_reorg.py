#!/usr/bin/python3
"""compliance_reorg.py: a different escrow at a screened address is screened again. Escrows
are clones whose address follows from the factory's nonce, so a reorg can put another
escrow at the address of one already screened. On a real anvil node through the real
binary: alice creates a 1-wei escrow to a KYC-verified payee; `fusion sync --once` screens
it (no case). A depth-2 reorg (evm_snapshot / evm_revert, then a longer branch) replaces it
with a 10 ETH escrow at the same address, from another payer, to a payee on the shipped
OFAC list, funded and approved on chain. The next `fusion sync --once` must screen it
(one new escrow, a high-priority sanctions case) and a real `fusion escrow release` must be
refused naming the case, with nothing signed and the payee not paid (read with cast).
Before that sync, while the desk's copy still is the old escrow, the release is refused
too: the gate does not decide on a copy whose terms differ from the chain's. A second reorg
replaces the sanctioned escrow by a clean one at the same address: the next sync's sweep
marks its hit reorged and notes its case `escrow_replaced`. Under tests/lib/pg.py run the
desk's book (the escrows) is on the test's server, the marks, hits and cases in desk.db."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, SERVER, ZERO, CREATE_SIG, Chain, log, need_artifacts, topic  # noqa: E402
from desk_escrow import PAYEE, DeskUser, eth_balance, nonce  # noqa: E402

SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # data/sanctions, ETH list line 90
CREATED = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                "address,uint64)")


def create_on_chain(chain, payer, payee, amount):
    deadline = int(time.time()) + 30 * 86400
    r = chain.cast_send(payer, chain.factory, CREATE_SIG, payee, ZERO, str(amount),
                        f"[{A[2]},{A[3]}]", "2", A[4], str(deadline))
    lg = [x for x in r["logs"] if x["topics"][0] == CREATED][0]
    return "0x" + lg["topics"][1][-40:], r["transactionHash"]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)
        # under tests/lib/pg.py run the desk's book is on the test's server
        assert bool(SERVER) == os.path.exists(os.path.join(desk.home, "book.conf"))
        for name, who in (("Payer AG", A[0]), ("Payee Trading Ltd", PAYEE),
                          ("Other Payer SA", A[7]), ("Listed Payee Ltd", SANCTIONED)):
            desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                     "--jurisdiction", "CH", "--kyc", "verified", "--kyc-expires", "2099-12-31")
            desk.run("--operator", "dave", "entity", "link", name, "--chain", "local",
                     "--address", who)

        snap = chain.node.rpc("evm_snapshot")
        small, small_tx = create_on_chain(chain, A[0], PAYEE, 1)
        chain.node.mine(1)
        r = desk.run("sync", "--once")
        assert "screened 1 new escrows: 0 hits, 0 cases opened" in r.stderr, r.stderr
        assert desk.json("case", "list", "--json") == []

        # depth-2 reorg: the branch from before the create is replaced by a longer one
        assert chain.node.rpc("evm_revert", snap) is True
        snap2 = chain.node.rpc("evm_snapshot")
        big, big_tx = create_on_chain(chain, A[7], SANCTIONED, 10 * 10**18)
        assert big.lower() == small.lower() and big_tx != small_tx, (small, big)
        chain.act(big, 7, "fund()", value=10 * 10**18)
        chain.act(big, 2, "approve()")
        chain.act(big, 3, "approve()")
        # before the desk has synced the reorg, its copy is the old escrow (screened, both
        # parties verified): the gate must not pass the chain's escrow on that copy
        n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
        paid0 = eth_balance(chain, SANCTIONED)
        r = desk.as_op("bob", "escrow", "release", big, check=False, screen=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert "compliance gate" in r.stderr and "fusion sync" in r.stderr, r.stderr
        assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
        assert eth_balance(chain, SANCTIONED) == paid0
        log("release on the desk's stale copy of a replaced escrow refused: ok")
        r = desk.run("sync", "--once")
        assert "screened 1 new escrows" in r.stderr and "1 cases opened" in r.stderr, r.stderr
        # the book (desk.db or the server) holds the replacing escrow, desk.db's mark names it
        assert desk.escrow_rows("created_tx", big) == [[big_tx.lower()]] or \
            desk.escrow_rows("created_tx", big) == [(big_tx.lower(),)], desk.escrow_rows("*", big)
        assert desk.query("SELECT created_tx FROM screened_escrows WHERE escrow = ?",
                          big.lower()) == [(big_tx.lower(),)]
        cases = [c for c in desk.json("case", "list", "--json")
                 if c["escrow"].lower() == big.lower()]
        assert len(cases) == 1 and cases[0]["priority"] == "high", cases
        cid = cases[0]["id"]
        log(f"the escrow that replaced a screened one at {big} was screened: case #{cid}")

        n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
        paid0 = eth_balance(chain, SANCTIONED)
        r = desk.as_op("bob", "escrow", "release", big, check=False, screen=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert f"case #{cid}" in r.stderr and "compliance" in r.stderr, r.stderr
        assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
        assert eth_balance(chain, SANCTIONED) == paid0
        assert eth_balance(chain, big) == 10 * 10**18
        log("release of the replacing escrow refused before signing: ok")

        # another reorg replaces the sanctioned escrow by a clean one at the same address:
        # the next sync's sweep marks its hit (kept as evidence) and notes its case
        assert chain.node.rpc("evm_revert", snap2) is True
        clean, clean_tx = create_on_chain(chain, A[0], PAYEE, 1)
        assert clean.lower() == big.lower() and clean_tx != big_tx, (clean, big)
        chain.node.mine(6)
        r = desk.run("sync", "--once")
        assert "screened 1 new escrows" in r.stderr, r.stderr
        assert desk.escrow_rows("created_tx", big) in ([[clean_tx.lower()]],
                                                        [(clean_tx.lower(),)])
        shown = desk.json("case", "show", str(cid), "--json")
        assert len(shown["evidence"]) == 1 and shown["evidence"][0].get("reorged_at"), shown
        assert [t["action"] for t in shown["timeline"]][-1] == "escrow_replaced", shown
        assert desk.query("SELECT created_tx FROM screened_escrows WHERE escrow = ?",
                          big.lower()) == [(clean_tx.lower(),)]
        log("the sanctioned escrow replaced in turn: its hit marked, its case noted: ok")
        desk.run("audit", "verify")
        log("compliance_reorg: all ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
