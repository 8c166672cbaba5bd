"""Escrow actions from the workstation on a real anvil node: alice (trader) creates and
funds a native-coin escrow with the CLI; bob (approver) approves it in the UI from the
Approvals screen (Enter, no-echo passphrase, the pre-sign summary in the confirm dialog,
y); carol (approver) approves and then releases it from the Escrows screen (a, r). Every
on-chain effect is checked with `cast call` / `cast balance`, not with fusion's view."""
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ARTIFACTS, ENV, PASS, Chain, devchain, escrow_summary,  # noqa: E402
                      fusion, operator, travel_rule_off)

OPS = {"alice": (0, "trader"), "bob": (2, "approver"), "carol": (3, "approver"),
       "dave": (4, "compliance")}


def sign_in_ui(t, what, escrow):
    """Answers the passphrase prompt and the confirm dialog of one action; returns the
    result line."""
    t.wait_for("Passphrase of", "the passphrase prompt of " + what)
    t.type(PASS)
    t.send("Enter")
    text = t.wait_for(lambda s: "Sign and send" in s, "the pre-sign summary of " + what)
    # The summary is decoded from the signed bytes: it names the escrow contract.
    t.check(escrow[2:10].lower() in text.lower(), "the summary does not name the escrow")
    t.check(PASS not in text, "the passphrase was echoed")
    t.send("y")
    pat = re.compile(r"%s 0x[0-9a-fA-F]+: (mined|confirmed)" % what)
    return t.wait_for(lambda s: pat.search(s) is not None, "the result of " + what)


def main():
    tmuxh.skip_unless_ready()
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        print("SKIP: no contract artifacts")
        sys.exit(77)
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    A = devchain.ACCOUNTS
    payee = A[1]

    t = tmuxh.Tmux("actions", cols=120, rows=40)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)  # secrets must be the operator's alone
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc",
           chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    for name, (i, role) in OPS.items():
        operator(t, home, pw, name, i, role)
    travel_rule_off(home, "dave")
    # The parties are KYC-verified entities, so screening clears them and the compliance
    # gate lets the escrow move.
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", payee)):
        fusion(home, "--operator", "dave", "entity", "add", name, "--type", "company",
               "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        fusion(home, "--operator", "dave", "entity", "link", name, "--chain", "local",
               "--address", who)

    out = json.loads(fusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes",
                            "--json", "escrow", "create", "--payee", payee, "--token", "ETH",
                            "--amount", "1.5", "--approvers", "bob,carol", "--threshold", "2",
                            "--deadline", "7d", "--arbiter", A[4]))
    escrow = out["escrow"]
    fusion(home, "sync", "--once")  # what a live desk's sync and screening do meanwhile
    fusion(home, "case", "screen")
    fusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes", "escrow", "fund",
           escrow)
    s = escrow_summary(chain, escrow)
    t.check((s["state"], s["approvals"]) == ("funded", 0), "setup: %r" % (s,))

    # bob: the Approvals screen lists it; Enter reviews, confirms and signs.
    cmd = "%s --home %s --operator %%s" % (tmuxh.FUSION_BIN, home)
    t.start(cmd % "bob", ENV)
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("3")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "approve" in s and "0/2" in s,
               "the escrow waiting for bob on Approvals")
    t.send("Enter")
    sign_in_ui(t, "approve", escrow)
    t.check(escrow_summary(chain, escrow)["approvals"] == 1, "bob's approval is not on chain")
    t.wait_for("Nothing waits for your signature", "the approval leaves bob's queue")
    t.send("q")
    t.check(t.wait_dead() == 0, "bob's UI exits with status 0")

    # carol: cancelling signs nothing; then approve and release from the Escrows screen.
    t2 = tmuxh.Tmux("actions2", cols=120, rows=40)
    t2.start(cmd % "carol", ENV)
    t2.wait_for("Fusion Prime Workstation", "the title bar")
    t2.send("2")
    t2.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "1/2" in s,
                "the escrow with one approval on Escrows")
    nonce0 = int(chain.node.cast("nonce", A[3]))
    t2.send("a")
    t2.wait_for("Passphrase of", "the passphrase prompt")
    t2.type(PASS)
    t2.send("Enter")
    t2.wait_for("Sign and send", "the pre-sign summary")
    t2.send("n")
    t2.wait_for("not confirmed", "the refusal on the message line")
    t2.check(int(chain.node.cast("nonce", A[3])) == nonce0, "a cancelled approval was sent")
    t2.send("a")
    sign_in_ui(t2, "approve", escrow)
    t2.check(escrow_summary(chain, escrow)["approvals"] == 2, "carol's approval is not on chain")
    before = int(chain.node.cast("balance", payee))
    t2.send("r")
    sign_in_ui(t2, "release", escrow)
    t2.check(escrow_summary(chain, escrow)["state"] == "released", "not released on chain")
    t2.check(int(chain.node.cast("balance", payee)) - before == 15 * 10**17,
             "the payee did not receive 1.5 ETH")
    t2.send("q")
    t2.check(t2.wait_dead() == 0, "carol's UI exits with status 0")
    print("ok: escrow %s approved by bob and carol and released from the UI" % escrow)


if __name__ == "__main__":
    tmuxh.run(main)
