"""An API proposal in the workstation's Approvals queue: a client with the propose scope
posts an escrow proposal to `fusion serve` (Python's http.client over the desk's unix
socket); alice (trader) sees it on Approvals (screen 3) as "accept", from "api:oms", and
accepts it there (A, her passphrase, the pre-sign summary, y). The escrow is then on the
chain (cast) and the API says the proposal was accepted by alice, naming the escrow. Then a
payment proposal: on the same queue, accepted with A, the payee's balance (cast) rose by
exactly its amount. Then a bridge proposal taken before the desk lost its route: listed on
the queue too, and A refuses it in one line naming the missing destination chain, before any
passphrase or summary, leaving it pending. This one-chain desk has no bridge route, so the
server would refuse to take one: its row is written into desk.db as the server writes it.
(A bridge proposal accepted on the queue end to end, on the four-chain devnet:
test_api_bridge_approvals.py.)"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ARTIFACTS, ENV, PASS, Chain, devchain, fusion, operator,  # noqa: E402
                      travel_rule_off)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "integration"))
from api_lib import Server, request  # noqa: E402

OPS = {"alice": (0, "trader"), "bob": (2, "approver"), "carol": (3, "approver"),
       "dave": (4, "compliance")}  # dave turns the Travel Rule off (no prices here)


# 1,234.5 ETH: large enough that the Approvals table groups it by thousands
AMOUNT = 12345 * 10**17



def in_queue(frame, row):
    """The proposal's row in the Approvals table (the message line names it too, without
    the client)."""
    return any(row in line and "api:oms" in line for line in frame.splitlines())

def main():
    tmuxh.skip_unless_ready()
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        print("SKIP: no contract artifacts")
        sys.exit(77)
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    A = devchain.ACCOUNTS

    t = tmuxh.Tmux("apiappr", cols=120, rows=40)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc",
           chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    for name, (i, role) in OPS.items():
        operator(t, home, pw, name, i, role)
    travel_rule_off(home, "dave")
    token = json.loads(fusion(home, "api", "client", "add", "oms", "--scope", "propose",
                              "--json"))["token"]
    srv = Server(home)
    c = srv.conn()
    st, _, p = request(c, "POST", "/v1/proposals/escrow", token=token, body={
        "chain": "local", "payee": A[1], "token": "ETH", "amount": str(AMOUNT),
        "approvers": ["bob", "carol"], "threshold": 2, "deadline": "7d", "arbiter": A[4],
        "operator": "alice", "reference": "PO-77"}, headers={"Idempotency-Key": "po-77"})
    t.check(st == 201 and p["state"] == "pending", "the proposal was not taken: %r" % (p,))

    before = chain.escrow_addresses()
    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("3")
    row = "proposal %d" % p["id"]
    # the table groups the whole part by thousands (1,234.5); the card under it is exact
    t.wait_for(lambda s: row in s and "accept" in s and "api:oms" in s and "1,234.5 " in s,
               "the proposal on Approvals, its amount grouped")
    t.send("A")
    t.wait_for("Passphrase of", "the passphrase prompt")
    t.type(PASS)
    t.send("Enter")
    text = t.wait_for(lambda s: "Sign and send" in s, "the pre-sign summary")
    t.check(PASS not in text, "the passphrase was echoed")
    t.send("y")
    pat = re.compile(r"accept proposal %d: escrow 0x[0-9a-fA-F]+ (mined|confirmed)" % p["id"])
    t.wait_for(lambda s: pat.search(s) is not None, "the result of the acceptance")
    t.wait_for(lambda s: not in_queue(s, row), "the proposal leaves the queue")
    after = chain.escrow_addresses()
    t.check(len(after) == len(before) + 1, "no new escrow on the chain")
    st, _, p2 = request(c, "GET", "/v1/proposals/%d" % p["id"], token=token)
    t.check(p2["state"] == "accepted" and p2["decided_by"] == "alice" and
            p2["escrow"] == after[-1].lower(), "the API does not say accepted: %r" % (p2,))
    s = subprocess.run([os.path.join(devchain.TOOLS, "cast"), "call", "--rpc-url",
                        chain.node.url, after[-1], "amount()(uint256)"], capture_output=True,
                       text=True)
    t.check(s.returncode == 0 and s.stdout.split()[0] == str(AMOUNT),
            "the escrow's amount on chain is not the proposal's: %r" % s.stdout)
    # a payment proposal: the same queue, the same A, the desk's pay action
    bal = lambda: int(subprocess.run([os.path.join(devchain.TOOLS, "cast"), "balance",  # noqa
                                      "--rpc-url", chain.node.url, A[6]], capture_output=True,
                                     text=True, check=True).stdout.split()[0])
    b0 = bal()
    st, _, q = request(c, "POST", "/v1/proposals/payment", token=token, body={
        "chain": "local", "payee": A[6], "token": "ETH", "amount": str(5 * 10**17),
        "operator": "alice", "reference": "INV-78"})
    t.check(st == 201 and q["kind"] == "payment", "the payment proposal was not taken: %r" % (q,))
    row = "proposal %d" % q["id"]
    t.wait_for(lambda s: row in s and "accept" in s and "api:oms" in s,
               "the payment proposal on Approvals")
    t.send("A")
    text = t.wait_for(lambda s: "Passphrase of" in s or "Sign and send" in s,
                      "the passphrase prompt or the summary")
    if "Sign and send" not in text:
        t.type(PASS)
        t.send("Enter")
        t.wait_for(lambda s: "Sign and send" in s, "the pre-sign summary of the payment")
    t.send("y")
    # the result names the proposal, not an escrow (a payment makes none)
    pat = re.compile(r"accept proposal %d: (mined|confirmed)" % q["id"])
    t.wait_for(lambda s: pat.search(s) is not None, "the result of the payment's acceptance")
    t.wait_for(lambda s: not in_queue(s, row), "the payment proposal leaves the queue")
    st, _, q2 = request(c, "GET", "/v1/proposals/%d" % q["id"], token=token)
    t.check(q2["state"] == "accepted" and q2["decided_by"] == "alice",
            "the API does not say the payment was accepted: %r" % (q2,))
    t.check(bal() - b0 == 5 * 10**17, "the payee's balance did not rise by exactly 0.5 ETH")
    # a bridge proposal: listed, and refused here in one line naming the CLI command
    body = json.dumps({"amount": "1000000", "chain": "local", "operator": "alice",
                       "recipient": A[6], "to": "local-2", "token": "USDC"},
                      sort_keys=True, separators=(",", ":"))
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=10)
    with db:
        cur = db.execute("INSERT INTO api_proposals (client, idem_key, kind, chain_id, body,"
                         " body_hash, screening, created_at) VALUES ('oms', NULL, 'bridge',"
                         " 31337, ?, ?, '{}', ?)", (body, "0" * 64, int(time.time())))
        bid = cur.lastrowid
    db.close()
    row = "proposal %d" % bid
    t.send("3")
    t.wait_for(lambda s: in_queue(s, row) and "accept" in s, "the bridge proposal on Approvals")
    t.send("A")
    t.wait_for(lambda s: re.search(r"accept proposal %d failed: proposal %d: no chain \"local-2\"" % (bid, bid), s) is not None,
               "the one line saying the destination is no chain of the desk")
    t.check("Sign and send" not in t.capture() and "Passphrase of" not in t.capture(),
            "a summary or a passphrase prompt for a transfer with no route")
    st, _, b2 = request(c, "GET", "/v1/proposals/%d" % bid, token=token)
    t.check(st == 200 and b2["state"] == "pending" and b2["kind"] == "bridge",
            "the bridge proposal is no longer pending: %r" % (b2,))
    c.close()
    t.send("q")
    t.check(t.wait_dead() == 0, "alice's UI exits with status 0")
    srv.stop()
    print("ok: proposal %d accepted from the Approvals queue: escrow %s" % (p["id"], after[-1]))


if __name__ == "__main__":
    tmuxh.run(main)
