#!/usr/bin/python3
"""desk_pay.py: `fusion pay` (the desk's plain payment action) through the real binary on a
real anvil node: an ERC-20 transfer and a native-coin payment from alice's address, each
balance checked with `cast` (moved by exactly the amount); a payee on the desk's sanctions
list refused before signing (nothing sent, alice's nonce unchanged, no transaction
recorded); a payment over the default policy's limit refused; bad input a usage error."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, artifact, cast, log, need_artifacts  # noqa: E402
from desk_escrow import DeskUser, eth_balance, nonce, token_balance  # noqa: E402

PAYEE = A[1]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:]).lower()
    chain.cast_send(A[0], token, "mint(address,uint256)", A[0], "5000000000")  # 5000 TUSD
    desk = DeskUser()
    desk.setup(chain)

    r = desk.as_op("alice", "pay", "--to", PAYEE, "--token", token, check=False)
    assert r.returncode == 2 and "--amount" in r.stderr, (r.returncode, r.stderr)
    log("ok: pay without --amount: a usage error")

    # ---- ERC-20: transfer(payee, amount) from alice's address ----
    pb, ab = token_balance(chain, token, PAYEE), token_balance(chain, token, A[0])
    r = desk.as_op("alice", "--json", "pay", "--to", PAYEE, "--token", token, "--amount",
                   "12.5")
    out = json.loads(r.stdout)
    assert out["state"] in ("mined", "confirmed"), out
    assert token_balance(chain, token, PAYEE) - pb == 12500000
    assert ab - token_balance(chain, token, A[0]) == 12500000
    tx = desk.query("SELECT action, state FROM outbound_txs ORDER BY id DESC LIMIT 1")[0]
    assert tx[0] == "pay" and tx[1] in ("mined", "confirmed"), tx
    log("ok: fusion pay 12.5 TUSD: the payee's balance rose by exactly 12500000 (cast)")
    typ = json.loads(chain.node.cast("tx", out["hash"], "--json"))["type"]
    assert typ in ("0x2", 2), typ
    log("ok: the payment is an EIP-1559 transaction")

    # ---- the native coin: a value transfer ----
    pb = eth_balance(chain, PAYEE)
    desk.as_op("alice", "pay", "--to", PAYEE, "--token", "ETH", "--amount", "0.25")
    assert eth_balance(chain, PAYEE) - pb == 25 * 10**16
    log("ok: fusion pay 0.25 ETH: the payee's balance rose by exactly 0.25 ETH (cast)")

    # ---- refusals before signing: a sanctioned payee, the policy's limit ----
    with open(os.path.join(desk.home, "desk-sanctions.txt"), "w") as f:
        f.write(A[7].lower() + "   pay test: a blocked counterparty\n")
    os.chmod(os.path.join(desk.home, "desk-sanctions.txt"), 0o600)
    n0, t0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "pay", "--to", A[7], "--token", token, "--amount", "1", check=False)
    assert r.returncode == 1 and "sanction" in r.stderr.lower(), (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    log("ok: a sanctioned payee: refused before signing, nothing sent or recorded")
    r = desk.as_op("alice", "pay", "--to", PAYEE, "--token", token, "--amount", "1000001",
                   check=False)
    assert r.returncode == 1 and "polic" in r.stderr.lower(), (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    log("ok: over the default policy's limit: refused before signing")
    nb = nonce(chain, A[2])
    r = desk.as_op("bob", "pay", "--to", PAYEE, "--token", token, "--amount", "1", check=False)
    assert r.returncode == 1 and nonce(chain, A[2]) == nb, (r.returncode, r.stderr)
    log("ok: an approver may not pay (the default policy)")


if __name__ == "__main__":
    main()
