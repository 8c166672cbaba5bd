#!/usr/bin/python3
"""desk_escrow_v2.py: version-2 escrows through the fusion binary on a real anvil node,
beside version 1 on the same chain. `chain add` records the factory's version(); a desk
that also holds a version-1 factory syncs both. Create refuses a payee or non-operator
approver and a dispute window outside 1-90 days before signing; approve sends the terms
hash, which is checked here with `cast abi-encode`/`cast keccak` and the contract's
termsHash(); sweep returns stray tokens to the payer. Every on-chain state is read with
`cast`, never with fusion's own view."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, artifact, cast, log, need_artifacts  # noqa: E402
from desk_escrow import DeskUser, PAYEE, nonce, token_balance  # noqa: E402


def v2_state(chain, escrow):
    out = chain.node.cast("call", escrow, "state()(uint8)")
    return ["created", "funded", "released", "refunded", "disputed", "resolved"][int(out.split()[0])]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    v1 = chain.deploy()
    v2 = chain.node.deploy(artifact("EscrowFactoryV2")["bytecode"]).lower()
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:]).lower()
    chain.cast_send(A[0], token, "mint(address,uint256)", A[0], "5000000000")
    desk = DeskUser()
    chain.factory = v2
    desk.setup(chain)
    rows = desk.query("SELECT address, version FROM contracts WHERE kind = 'factory'")
    assert [(r[0].lower(), r[1]) for r in rows] == [(v2, 2)], rows
    # An existing desk's version-1 factory stays beside it (what the schema step gives a
    # desk made before version 2).
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    con.execute("INSERT INTO contracts (chain_id, kind, address, deployed_block, version)"
                " VALUES (31337, 'factory', ?, 0, 1)", (v1,))
    con.commit()
    con.close()
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", PAYEE)):
        desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run("--operator", "dave", "entity", "link", name, "--chain", "local", "--address",
                 who)
    # A version-1 escrow made outside the desk, on the version-1 factory.
    chain.factory = v1
    e_v1 = chain.create_escrow()
    chain.factory = v2

    base = ("escrow", "create", "--payee", PAYEE, "--token", token, "--amount", "100",
            "--threshold", "1", "--deadline", "7d")
    # Refusals before signing: payee as approver, a stranger as approver, a bad window.
    n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", *base, "--approvers", PAYEE, check=False)
    assert r.returncode == 1 and "the payee" in r.stderr and r.stderr.count("\n") == 1, r
    r = desk.as_op("alice", *base, "--approvers", A[6], check=False)
    assert r.returncode == 1 and "approver role" in r.stderr and r.stderr.count("\n") == 1, r
    r = desk.as_op("alice", *base, "--approvers", "bob", "--dispute-window", "91d", check=False)
    assert r.returncode == 2 and "--dispute-window" in r.stderr, r
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
    log("create refusals before signing: ok")

    r = desk.as_op("alice", "--json", *base, "--approvers", "bob,carol", "--dispute-window", "2d")
    esc = json.loads(r.stdout)["escrow"].lower()
    assert chain.node.cast("call", esc, "version()(uint256)").split()[0] == "2"
    assert chain.node.cast("call", esc, "disputeWindow()(uint64)").split()[0] == "172800"
    desk.run("sync", "--once")
    rows = desk.query("SELECT address, version, dispute_window, terms_hash, state FROM escrows"
                      " ORDER BY version")
    got = {r[0].lower(): r[1:] for r in rows}
    assert got[e_v1.lower()][0] == 1 and got[e_v1.lower()][3] == "created", got
    on_chain_hash = chain.node.cast("call", esc, "termsHash()(bytes32)").strip()
    assert got[esc][:3] == (2, 172800, on_chain_hash), (got[esc], on_chain_hash)
    log("both factories synced side by side: ok")

    # The documented encoding, with cast, against the contract.
    deadline = chain.node.cast("call", esc, "deadline()(uint64)").split()[0]
    enc = cast("abi-encode",
               "f(uint256,address,address,address,address,uint256,address[],uint256,uint64,"
               "address,uint64)", "31337", esc, A[0], PAYEE, token, "100000000",
               f"[{A[2]},{A[3]}]", "1", deadline, A[4], "172800")
    assert cast("keccak", enc).strip() == on_chain_hash, (enc, on_chain_hash)

    desk.as_op("alice", "escrow", "fund", esc)
    assert v2_state(chain, esc) == "funded"
    r = desk.as_op("bob", "escrow", "approve", esc)
    assert on_chain_hash in r.stdout, r.stdout
    txs = desk.json("tx", "list", "--json")
    appr = [t for t in txs if t["action"] == "approve"]
    assert appr and appr[-1]["summary"]["function"] == "approve(bytes32)", appr
    assert list(appr[-1]["summary"]["arguments"].values())[0] == on_chain_hash, appr
    assert chain.node.cast("call", esc, "approvals()(uint256)").split()[0] == "1"
    before = token_balance(chain, token, PAYEE)
    desk.as_op("carol", "escrow", "release", esc)
    assert v2_state(chain, esc) == "released"
    assert token_balance(chain, token, PAYEE) - before == 100000000
    log("approve(termsHash) -> release: ok")

    # Stray tokens sent to the finished escrow go back to the payer with sweep.
    chain.cast_send(A[0], token, "transfer(address,uint256)", esc, "5000000")
    before = token_balance(chain, token, A[0])
    r = desk.as_op("bob", "escrow", "sweep", esc, "--token", token, check=False)
    assert r.returncode == 1 and "only the payer" in r.stderr, r
    desk.as_op("alice", "escrow", "sweep", esc, "--token", token)
    assert token_balance(chain, token, A[0]) - before == 5000000
    assert token_balance(chain, token, esc) == 0
    desk.run("sync", "--once")
    st = desk.query("SELECT state, inconsistent FROM escrows WHERE address = ?", esc)
    assert st == [("released", 0)], st
    log("sweep of stray funds: ok")

    # A version-1 escrow refuses version-2 actions before signing.
    r = desk.as_op("alice", "escrow", "sweep", e_v1, check=False)
    assert r.returncode == 1 and "version-2" in r.stderr, r
    log("ok")


if __name__ == "__main__":
    main()
