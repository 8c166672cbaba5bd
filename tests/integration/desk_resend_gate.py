#!/usr/bin/python3
"""desk_resend_gate.py: a stored transaction is re-sent or replaced only if its action
passes the desk policy and the compliance gate again at that moment, on a real anvil node
through the real binary. A release is signed and sent, then dropped from the node's pool
(automine off, anvil_dropTransaction); the payee's KYC is then set to rejected, so
`escrow release` refuses. `fusion tx check` (which re-sends the same signed bytes) and
`fusion tx speedup` (which re-signs the call) must refuse too, with one line naming the
reason, exit 1, nothing sent (the node never sees the transaction, the payee is not paid,
the escrow stays funded) and an audit row. `fusion tx cancel` (0 to the sender itself,
moves no money) stays possible and frees the nonce. Then the resend inside the follow loop
of a fresh release (the node loses it while fusion waits for the receipt) is refused the
same way. Every on-chain fact is read with cast / JSON-RPC, never through fusion."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, escrow_summary, log, need_artifacts  # noqa: E402
from desk_escrow import PAYEE, DeskUser, create, eth_balance, nonce  # noqa: E402

AMOUNT = 10**18


def expect_refused(r, *contains):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    for c in contains:
        assert c in r.stderr, (c, r.stderr)


def audit_actions(desk):
    out = subprocess.run([os.environ["FUSION_BIN"], "--home", desk.home, "audit", "list",
                          "--json"], capture_output=True, text=True, check=True).stdout
    return [row["action"] for row in json.loads(out)]


def funded_escrow(desk, chain):
    e = create(desk, "ETH", "1")
    desk.as_op("alice", "escrow", "fund", e)
    desk.as_op("bob", "escrow", "approve", e)
    desk.as_op("carol", "escrow", "approve", e)
    assert escrow_summary(chain, e)["state"] == "funded"
    return e


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)
        desk.run("operator", "add", "erin", "--key", A[6], "--role", "compliance")
        for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", PAYEE)):
            desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                     "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
            desk.run("--operator", "dave", "entity", "link", name, "--chain", "local",
                     "--address", who)
        e = funded_escrow(desk, chain)

        # bob's release is signed and sent, then the node drops it from its pool
        chain.node.rpc("evm_setAutomine", False)
        r = desk.as_op("bob", "--json", "escrow", "release", e, "--wait", "0")
        rel = json.loads(r.stdout)
        h, rid = rel["hash"], str(rel["outbound_id"])
        assert chain.node.rpc("eth_getTransactionByHash", h) is not None
        chain.node.rpc("anvil_dropTransaction", h)
        assert chain.node.rpc("eth_getTransactionByHash", h) is None
        chain.node.rpc("evm_setAutomine", True)

        # the payee's KYC is rejected: the gate refuses a new release
        desk.run("--operator", "dave", "entity", "edit", "Payee Trading Ltd", "--kyc",
                 "rejected")
        n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
        r = desk.as_op("bob", "escrow", "release", e, check=False, screen=False)
        expect_refused(r, "compliance gate")
        paid0 = eth_balance(chain, PAYEE)

        # tx check would send the same signed bytes: refused, nothing sent
        audit0 = len(audit_actions(desk))
        for who in ("bob", "alice"):  # the signer, and another operator running the check
            r = desk.as_op(who, "tx", "check", check=False)
            expect_refused(r, "compliance gate", "tx " + rid, "not sent")
            assert chain.node.rpc("eth_getTransactionByHash", h) is None
            assert chain.node.rpc("eth_getTransactionReceipt", h) is None
        actions = audit_actions(desk)[audit0:]
        assert "desk.resend_refused" in actions, actions
        # speedup re-signs the release: refused, nothing signed or sent
        r = desk.as_op("bob", "tx", "speedup", rid, "--wait", "0", check=False)
        expect_refused(r, "compliance gate")
        chain.node.mine(1)
        assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
        assert escrow_summary(chain, e)["state"] == "funded"
        assert eth_balance(chain, PAYEE) == paid0 and eth_balance(chain, e) == AMOUNT
        log("tx check and tx speedup of a release the gate now refuses: refused, not sent: ok")

        # cancel moves no money: allowed, it takes the nonce; the release can never be mined
        r = desk.as_op("bob", "tx", "cancel", rid)
        assert "cancel" in r.stdout, r.stdout
        assert nonce(chain, A[2]) == n_bob + 1
        desk.as_op("bob", "tx", "check")
        states = {str(t["id"]): t["state"] for t in desk.json("tx", "list", "--json")}
        assert states[rid] == "replaced", states
        assert escrow_summary(chain, e)["state"] == "funded"
        assert eth_balance(chain, PAYEE) == paid0
        log("tx cancel of the refused release: allowed, nonce freed, nobody paid: ok")

        # the follow loop of a release: the node loses it while fusion waits for the receipt;
        # meanwhile the payee's KYC was rejected; the resend is refused
        desk.run("--operator", "dave", "entity", "edit", "Payee Trading Ltd", "--kyc",
                 "verified")
        for c in desk.json("case", "list", "--json"):  # closed four-eyes (dave, erin)
            if c["state"] != "closed":
                desk.run("--operator", "dave", "case", "take", str(c["id"]), check=False)
                for officer in ("dave", "erin"):
                    desk.run("--operator", officer, "case", "clear", str(c["id"]), "--note",
                             "KYC verified again", check=False)
        assert all(c["state"] == "closed" for c in desk.json("case", "list", "--json"))
        chain.node.rpc("evm_setAutomine", False)
        rows0 = desk.outbound_count()
        cmd = [os.environ["FUSION_BIN"], "--home", desk.home, "--operator", "carol",
               "--passphrase-file", desk.pw, "--yes", "--json", "escrow", "release", e,
               "--wait", "120"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        h2 = None
        for _ in range(600):
            rows = desk.query("SELECT hash, state FROM outbound_txs ORDER BY id")
            if len(rows) > rows0 and rows[-1][1] == "sent":
                h2 = rows[-1][0]
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert h2, "the release was never sent"
        desk.run("--operator", "dave", "entity", "edit", "Payee Trading Ltd", "--kyc",
                 "rejected")
        chain.node.rpc("anvil_dropTransaction", h2)
        out, err = proc.communicate(timeout=300)
        # (with --json the pre-sign summary went to stderr first; the refusal is one line)
        assert proc.returncode == 1, (proc.returncode, out, err)
        last = err.rstrip("\n").split("\n")[-1]
        assert "compliance gate" in last and "not sent" in last and "fusion:" in last, err
        chain.node.mine(1)
        assert chain.node.rpc("eth_getTransactionReceipt", h2) is None
        assert escrow_summary(chain, e)["state"] == "funded"
        assert eth_balance(chain, PAYEE) == paid0 and eth_balance(chain, e) == AMOUNT
        log("a release lost while followed is not re-sent past the gate: ok")

        # a release waiting in the pool when the gate starts refusing it: tx check says so
        # (exit 1, naming the cancel) and the cancel keeps it from being mined
        desk.as_op("carol", "tx", "cancel", desk.query(
            "SELECT id FROM outbound_txs WHERE hash = ?", h2)[0][0], "--wait", "0")
        chain.node.mine(1)
        desk.run("--operator", "dave", "entity", "edit", "Payee Trading Ltd", "--kyc",
                 "verified")
        for c in desk.json("case", "list", "--json"):
            if c["state"] != "closed":
                desk.run("--operator", "dave", "case", "take", str(c["id"]), check=False)
                for officer in ("dave", "erin"):
                    desk.run("--operator", officer, "case", "clear", str(c["id"]), "--note",
                             "KYC verified again", check=False)
        r = desk.as_op("bob", "--json", "escrow", "release", e, "--wait", "0", screen=False)
        rel = json.loads(r.stdout)
        h3, rid3 = rel["hash"], str(rel["outbound_id"])
        assert chain.node.rpc("eth_getTransactionByHash", h3) is not None
        desk.run("--operator", "dave", "entity", "edit", "Payee Trading Ltd", "--kyc",
                 "rejected")
        r = desk.as_op("bob", "tx", "check", check=False)
        expect_refused(r, "tx " + rid3, "pool", "compliance gate", "fusion tx cancel " + rid3)
        desk.as_op("bob", "tx", "cancel", rid3, "--wait", "0")
        chain.node.rpc("evm_setAutomine", True)
        chain.node.mine(1)
        assert chain.node.rpc("eth_getTransactionReceipt", h3) is None
        assert escrow_summary(chain, e)["state"] == "funded"
        assert eth_balance(chain, PAYEE) == paid0 and eth_balance(chain, e) == AMOUNT
        log("a release waiting in the pool and refused now: tx check names the cancel: ok")

        r = subprocess.run([os.environ["FUSION_BIN"], "--home", desk.home, "audit", "verify"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        log("desk_resend_gate: all ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
