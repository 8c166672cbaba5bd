"""New-escrow form on a real anvil node: alice (trader) presses n on the Escrows screen,
fills the form (a bad payee and a threshold above the approver count are refused with one
line naming the field), submits, gives her passphrase (not echoed), reads the pre-sign
summary and signs. The escrow is then read from the contract with `cast call` (payer,
payee, amount in wei, threshold, arbiter default) and appears in the table after sync
without a key press."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ENV, PASS, devchain, escrow_summary, fusion, on_anvil,  # noqa: E402
                     operator, travel_rule_off)
from test_actions import OPS  # noqa: E402
OFFICER = ("--operator", "dave")  # entities are written by a compliance officer


def main():
    on_anvil(run)


def field(t, label, text):
    """Focus is on `label`: replace its text (C-u clears the line) and move on with Tab."""
    t.wait_for(lambda s: re.search(r"> %s\b" % label, s) is not None, "focus on " + label)
    t.send("C-u")
    t.type(text)
    t.send("Tab")


def run(chain):
    A = devchain.ACCOUNTS
    payee = A[1]
    t = tmuxh.Tmux("escrowform", cols=120, rows=40)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)  # secrets must be the operator's alone
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc",
           chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    # dave (compliance) is the desk's default arbiter: neither payer nor payee.
    for name, (i, role) in OPS.items():
        operator(t, home, pw, name, i, role)
    travel_rule_off(home, "dave")
    # KYC-verified parties, so the compliance gate lets the escrow be funded and resolved.
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", payee)):
        fusion(home, *OFFICER, "entity", "add", name, "--type", "company", "--jurisdiction", "US",
               "--kyc", "verified", "--kyc-expires", "2099-12-31")
        fusion(home, *OFFICER, "entity", "link", name, "--chain", "local", "--address", who)

    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("2")
    t.wait_for("No escrows on the configured chains yet", "the empty Escrows screen")
    t.send("n")
    # the whole form (its last field painted: under ASan a capture can catch it half drawn)
    text = t.wait_for(lambda x: "New escrow" in x and "Arbiter" in x, "the form")
    t.check(re.search(r"> Chain\s+local", text) is not None, "the chain is pre-filled")
    t.check(re.search(r"Asset\s+ETH", text) is not None, "the asset defaults to the native coin")
    field(t, "Chain", "local")
    field(t, "Payee", "nobody")
    t.wait_for('Payee: "nobody" is neither an address nor an operator', "the payee complaint")
    t.send("Up")
    field(t, "Payee", payee)
    field(t, "Asset", "ETH")
    field(t, "Amount", "0.25")
    field(t, "Approvers", "bob, carol")
    field(t, "Threshold", "3")
    t.wait_for("Threshold: 3 is more than the 2 approvers", "the threshold complaint")
    tmuxh.save_capture(t, "escrow-form")
    t.send("Up")
    field(t, "Threshold", "2")
    field(t, "Deadline", "3d")
    t.wait_for(lambda s: re.search(r"> Arbiter", s) is not None, "focus on the arbiter")
    t.send("Enter")  # the last field: submit with the default arbiter
    t.wait_for("Passphrase of alice", "the passphrase prompt")
    t.type(PASS)
    t.send("Enter")
    text = t.wait_for("Sign and send", "the pre-sign summary")
    t.check(PASS not in text, "the passphrase was echoed")
    t.check("0.25" in text, "the summary shows the amount in units")
    t.send("y")
    pat = re.compile(r"create (0x[0-9a-fA-F]{40}): (mined|confirmed)")
    text = t.wait_for(lambda s: pat.search(s) is not None, "the result of create")
    escrow = pat.search(text).group(1)
    s = escrow_summary(chain, escrow)
    t.check(s["state"] == "created" and s["payer"] == A[0].lower() and
            s["payee"] == payee.lower() and s["amount"] == str(25 * 10**16) and
            s["threshold"] == 2, "on chain: %r" % (s,))
    t.check(s["arbiter"] == A[4].lower(), "the default arbiter is the officer: %r" % (s,))
    row = re.compile(r"0x%s\S*%s\s+local\s.*\s0\.25\s+created\s+0/2" % (escrow[2:6], escrow[-4:]))
    t.wait_for(lambda x: row.search(x) is not None, "the new escrow in the table after sync")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")

    # dave, the arbiter: after a fund and a dispute (CLI), v resolves it to the payee.
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")
    fusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes", "escrow", "fund", escrow)
    fusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes", "escrow", "dispute",
           escrow, "--reason", "goods not delivered")
    t.check(escrow_summary(chain, escrow)["state"] == "disputed", "setup: not disputed")
    before = int(chain.node.cast("balance", payee))
    t2 = tmuxh.Tmux("escrowform2", cols=120, rows=40)
    t2.start("%s --home %s --operator dave" % (tmuxh.FUSION_BIN, home), ENV)
    t2.wait_for("Fusion Prime Workstation", "the title bar")
    t2.send("2")
    t2.wait_for(lambda x: escrow[2:6].lower() in x.lower() and "disputed" in x,
                "the disputed escrow")
    t2.send("v")
    t2.wait_for("resolve escrow", "the resolve form")
    t2.send("C-u")
    t2.type("nobody")
    t2.send("Enter")
    t2.wait_for("To: type payee (release to the payee) or payer", "the complaint")
    t2.send("C-u")
    t2.type("payee")
    t2.send("Enter")
    t2.wait_for("Passphrase of dave", "the passphrase prompt")
    t2.type(PASS)
    t2.send("Enter")
    t2.wait_for("Sign and send", "the pre-sign summary of resolve")
    t2.send("y")
    t2.wait_for(lambda x: re.search(r"resolve 0x[0-9a-fA-F]+: (mined|confirmed)", x) is not None,
                "the result of resolve")
    t2.check(escrow_summary(chain, escrow)["state"] == "resolved", "not resolved on chain")
    t2.check(int(chain.node.cast("balance", payee)) - before == 25 * 10**16,
             "the payee did not receive 0.25 ETH")
    t2.send("q")
    t2.check(t2.wait_dead() == 0, "dave's UI exits with status 0")
    print("ok: escrow %s created from the form and resolved by the arbiter" % escrow)


if __name__ == "__main__":
    tmuxh.run(main)
