"""The desk session: a key the operator unlocked in this process signs without its
passphrase being asked again. The UI starts without an operator; `:operator alice` signs
alice in (her passphrase, once); funding her escrow from the Escrows screen then shows the
pre-sign summary and asks for the confirmation only (no passphrase prompt), and the fund is
on chain, recorded in alice's name. After the idle lock (FUSION_IDLE_LOCK) the next action
asks for the passphrase again. On-chain effects are checked with `cast`, not fusion's
view."""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ARTIFACTS, ENV, PASS, Chain, devchain, escrow_summary,  # noqa: E402
                      fusion, operator, travel_rule_off)

OPS = {"alice": (0, "trader"), "bob": (2, "approver"), "carol": (3, "approver"),
       "dave": (4, "compliance")}
IDLE = 25  # seconds: long enough for the steps in between on a loaded machine


def main():
    tmuxh.skip_unless_ready()
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        print("SKIP: no contract artifacts")
        sys.exit(77)
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    A = devchain.ACCOUNTS
    payee = A[1]

    t = tmuxh.Tmux("session", cols=120, rows=40)
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
    travel_rule_off(home, "dave")  # this desk prices nothing: the rule would refuse the fund
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
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")
    t.check(escrow_summary(chain, escrow)["state"] == "created", "setup")

    t.start("%s --home %s" % (tmuxh.FUSION_BIN, home), dict(ENV, FUSION_IDLE_LOCK=str(IDLE)))
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send(":")
    t.type("operator alice")
    t.send("Enter")
    t.wait_for("Sign in as alice", "alice's sign-in prompt")
    t.type(PASS)
    t.send("Enter")
    t.wait_for("operator alice (signed in)", "the title: alice signed in")
    t.send("2")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "created" in s.lower(),
               "alice's escrow on Escrows")
    nonce0 = int(chain.node.cast("nonce", A[0]))
    t.send("f")
    text = t.wait_for(lambda s: "Sign and send" in s or "Passphrase of" in s,
                      "the fund's summary (or a passphrase prompt)")
    t.check("Passphrase of" not in text and "typing is not shown" not in text,
            "the passphrase was asked again although alice's key is unlocked:\n%s" % text)
    t.check(escrow[2:10].lower() in text.lower(), "the summary does not name the escrow")
    t.check(int(chain.node.cast("nonce", A[0])) == nonce0, "sent before the confirmation")
    t.send("y")
    t.wait_for(lambda s: "fund 0x" in s and ("mined" in s or "confirmed" in s),
               "the fund's result")
    t.check(escrow_summary(chain, escrow)["state"] == "funded", "the fund is not on chain")
    # the key stays in the session: the title still says signed in
    t.wait_for("operator alice (signed in)", "still signed in after the fund")

    # idle: the key locks itself; the next action asks for the passphrase again
    t.wait_for("operator alice (locked)", "the title after the idle lock", tries=6000)
    t.send("D")
    t.wait_for(lambda s: "Passphrase of" in s and "typing is not shown" in s,
               "the dispute asks the passphrase after the idle lock")
    nonce1 = int(chain.node.cast("nonce", A[0]))
    t.send("Escape")
    t.wait_for(lambda s: "typing is not shown" not in s and "cancelled" in s,
               "the prompt cancelled")
    t.check(int(chain.node.cast("nonce", A[0])) == nonce1, "a cancelled dispute was sent")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")

    # One desk for every action of this UI process: the fund and the dispute ran on the
    # desk the first action opened (desk_open logs each opening).
    log = open(os.path.join(home, "fusion.log")).read().splitlines()
    starts = [i for i, x in enumerate(log) if "[ui] started" in x]
    t.check(starts, "the UI's start is not in fusion.log")
    opens = [x for x in log[starts[-1]:] if "desk opened for actions" in x]
    t.check(len(opens) == 1, "two actions of one UI process opened the desk %d times "
            "(want once):\n%s" % (len(opens), "\n".join(opens)))

    rows = [json.loads(x) for x in open(os.path.join(home, "audit.log"))]
    signs = [r for r in rows if r["action"] == "sign_tx" and
             r["details"].get("to", "").lower() == escrow.lower()]
    t.check(len(signs) == 1 and signs[-1]["operator"] == "alice",
            "the fund's signature is not recorded in alice's name: %r" % signs[-1:])
    t.close()
    print("ok: signed in once, the fund confirmed without a passphrase, asked again after "
          "the idle lock")


if __name__ == "__main__":
    tmuxh.run(main)
