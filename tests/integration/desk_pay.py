#!/usr/bin/python3
"""desk_pay.py: `fusion pay` (the desk's plain payment action) through the real binary on a
real anvil node: an ERC-20 transfer and a native-coin payment from alice's address, each
balance checked with `cast` (moved by exactly the amount); a payee on the desk's sanctions
list refused before signing (nothing sent, alice's nonce unchanged, no transaction
recorded), and the list edited or deleted without a compliance officer's signature refused
too; a payment over the default policy's limit refused; bad input a usage error.
Then a payment proposed over the API (POST /v1/proposals/payment), accepted by alice with
`fusion proposal accept` (the payee's balance checked with cast), and refused at proposal
time (422) for a sanctioned payee and at acceptance for a payee listed meanwhile."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, FUSION, Chain, artifact, cast, log, need_artifacts  # noqa: E402
from desk_escrow import DeskUser, eth_balance, nonce, token_balance  # noqa: E402
from api_lib import Server, request  # noqa: E402

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
    tx = desk.outbound_row("action, state")
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
    desk.run("--operator", "dave", "config", "sign", "sanctions")  # the officer's decision
    n0, t0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "pay", "--to", A[7], "--token", token, "--amount", "1", check=False)
    assert r.returncode == 1 and "sanction" in r.stderr.lower(), (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    log("ok: a sanctioned payee: refused before signing, nothing sent or recorded")
    # the list is a signed decision: an edit nobody signed that takes A[7] off it is not
    # obeyed (the desk refuses to screen with it), and neither is deleting the file
    sl = os.path.join(desk.home, "desk-sanctions.txt")
    with open(sl) as f:
        signed_list = f.read()
    for edit in ("# nobody here\n", None):
        if edit is None:
            os.unlink(sl)
        else:
            with open(sl, "w") as f:
                f.write(edit)
        r = desk.as_op("alice", "pay", "--to", A[7], "--token", token, "--amount", "1",
                       check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert ("changed since it was signed" in r.stderr if edit else
                "was signed" in r.stderr and "missing" in r.stderr), r.stderr
        assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    with open(sl, "w") as f:
        f.write(signed_list)
    os.chmod(sl, 0o600)
    log("ok: the desk's list edited or deleted without a signature: refused, nothing sent")
    r = desk.as_op("alice", "pay", "--to", PAYEE, "--token", token, "--amount", "1000001",
                   check=False)
    assert r.returncode == 1 and "polic" in r.stderr.lower(), (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    log("ok: over the default policy's limit: refused before signing")
    nb = nonce(chain, A[2])
    r = desk.as_op("bob", "pay", "--to", PAYEE, "--token", token, "--amount", "1", check=False)
    assert r.returncode == 1 and nonce(chain, A[2]) == nb, (r.returncode, r.stderr)
    log("ok: an approver may not pay (the default policy)")

    # ---- a payment proposed over the API, accepted by a person with their key ----
    out = json.loads(desk.run("api", "client", "add", "oms", "--scope", "propose",
                              "--json").stdout)
    token_api = out["token"]
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "TUSD", "--address", token,
             "--decimals", "6")
    srv = Server(desk.home)
    c = srv.conn()

    def propose(body, key=None):
        h = {"Idempotency-Key": key} if key else None
        return request(c, "POST", "/v1/proposals/payment", token=token_api, body=body,
                       headers=h)
    body = {"chain": "local", "payee": PAYEE, "token": token, "amount": "7250000",
            "operator": "alice", "reference": "INV-9"}
    st, _, p1 = propose(body, "inv-9")
    assert st == 201 and p1["kind"] == "payment" and p1["state"] == "pending", (st, p1)
    st, _, again = propose(body, "inv-9")
    assert st == 201 and again == p1, (st, again)
    log("ok: POST /v1/proposals/payment: 201, pending; the same key again: the same proposal")
    n_props = desk.query("SELECT count(*) FROM api_proposals")[0][0]
    st, _, bad = propose(dict(body, approvers=["bob"]))
    assert st == 422 and bad["type"].endswith("/unknown-field"), (st, bad)
    st, _, bad = propose(dict(body, payee=A[7]))
    assert st == 422 and bad["type"].endswith("/screening-refused"), (st, bad)
    st, _, bad = propose(dict(body, amount="2000000000000"))
    assert st == 422 and bad["type"].endswith("/policy-block"), (st, bad)
    assert desk.query("SELECT count(*) FROM api_proposals")[0][0] == n_props
    log("ok: an unknown field, a sanctioned payee, a payment over the policy: 422, not stored")
    pb = token_balance(chain, token, PAYEE)
    r = desk.as_op("alice", "--json", "proposal", "accept", p1["id"])
    acc = json.loads(r.stdout)
    assert acc["state"] == "accepted" and acc["escrow"] is None and acc["outbound_id"], acc
    assert token_balance(chain, token, PAYEE) - pb == 7250000
    tx = desk.outbound_row("action", acc["outbound_id"])
    assert tx[0] == "pay", tx
    st, _, got = request(c, "GET", "/v1/proposals/%d" % p1["id"], token=token_api)
    assert got["state"] == "accepted" and got["decided_by"] == "alice", got
    log("ok: fusion proposal accept pays it: the payee's balance rose by exactly 7250000 (cast)")
    # listed after it was proposed: refused when a person accepts it
    st, _, p2 = propose(dict(body, payee=A[8], reference="INV-10"))
    assert st == 201, (st, p2)
    with open(os.path.join(desk.home, "desk-sanctions.txt"), "a") as f:
        f.write(A[8].lower() + "   listed after the proposal\n")
    desk.run("--operator", "dave", "config", "sign", "sanctions")
    n0, t0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "proposal", "accept", p2["id"], check=False)
    assert r.returncode == 1 and "sanction" in r.stderr.lower(), (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t0
    st, _, got = request(c, "GET", "/v1/proposals/%d" % p2["id"], token=token_api)
    assert got["state"] == "pending", got
    log("ok: a payee listed after the proposal: the acceptance is refused before signing")
    # a crash between the payment's send and the acceptance's record: the proposal must not
    # stay pending (accepting it again would pay twice)
    st, _, p3 = propose(dict(body, reference="INV-11"), "inv-11")
    assert st == 201, (st, p3)
    chain.node.cast("rpc", "evm_setAutomine", "false")
    t0 = desk.outbound_count()
    proc = subprocess.Popen([FUSION, "--home", desk.home, "--operator", "alice",
                             "--passphrase-file", desk.pw, "--yes", "proposal", "accept",
                             str(p3["id"])], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(600):
        if desk.outbound_count(settled=False) > t0 and desk.query(
                "SELECT state FROM outbound_txs ORDER BY id DESC LIMIT 1")[0][0] == "sent":
            break
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    chain.node.cast("rpc", "evm_mine")
    chain.node.cast("rpc", "evm_setAutomine", "true")
    pb, n0 = token_balance(chain, token, PAYEE), nonce(chain, A[0])
    state = desk.query("SELECT state, outbound_id FROM api_proposals WHERE id = ?", p3["id"])[0]
    r = desk.as_op("alice", "proposal", "accept", p3["id"], check=False)
    assert state[0] == "accepted" and state[1], state
    assert r.returncode == 1 and nonce(chain, A[0]) == n0, (r.returncode, r.stderr)
    assert token_balance(chain, token, PAYEE) == pb
    log("ok: killed after the payment was sent: the proposal is accepted (with its outbound "
        "row), a second accept refused, nothing paid twice")
    # the same for an escrow proposal: killed after the create was sent, the proposal is
    # accepted (before, it stayed pending until the create was mined: a second accept
    # created a second escrow)
    st, _, p4 = request(c, "POST", "/v1/proposals/escrow", token=token_api, body={
        "chain": "local", "payee": PAYEE, "token": token, "amount": "1000000",
        "approvers": ["bob"], "threshold": 1, "deadline": "7d", "operator": "alice",
        "reference": "PO-12"}, headers={"Idempotency-Key": "po-12"})
    assert st == 201 and p4["kind"] == "escrow", (st, p4)
    chain.node.cast("rpc", "evm_setAutomine", "false")
    t0 = desk.outbound_count()
    proc = subprocess.Popen([FUSION, "--home", desk.home, "--operator", "alice",
                             "--passphrase-file", desk.pw, "--yes", "proposal", "accept",
                             str(p4["id"])], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(600):
        if desk.outbound_count(settled=False) > t0 and desk.query(
                "SELECT state FROM outbound_txs ORDER BY id DESC LIMIT 1")[0][0] == "sent":
            break
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    chain.node.cast("rpc", "evm_mine")
    chain.node.cast("rpc", "evm_setAutomine", "true")
    n0, t1 = nonce(chain, A[0]), desk.outbound_count()
    state = desk.query("SELECT state, outbound_id FROM api_proposals WHERE id = ?", p4["id"])[0]
    r = desk.as_op("alice", "proposal", "accept", p4["id"], check=False)
    assert state[0] == "accepted" and state[1], state
    assert r.returncode == 1 and "not pending" in r.stderr, (r.returncode, r.stderr)
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == t1, "a second create was sent"
    log("ok: killed after an escrow proposal's create was sent: accepted, a second accept "
        "refused, nothing sent twice")
    srv.stop()


if __name__ == "__main__":
    main()
