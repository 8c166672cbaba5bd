"""Signing in: on a desk whose genesis is signed, the UI's operator records decisions only
with their own key unlocked. The title shows "operator dave (locked)"; taking a case is
refused; dave's key unlocked on the Keys screen (his passphrase) signs: the title says
"(signed in)" and the case is taken with a signed audit row; after the idle time
(FUSION_IDLE_LOCK=12 here, long enough for the steps in between on a loaded machine;
15 minutes by default) the key locks itself and the title says
"(locked)" again. `fusion audit verify` then checks every signature."""
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402
from anvil_ui import on_anvil  # noqa: E402


def fusion(home, *args, check=True):
    env = dict(os.environ, FUSION_KDF="interactive")
    r = subprocess.run([tmuxh.FUSION_BIN, "--home", home] + list(args), capture_output=True,
                       text=True, env=env, timeout=120)
    if check and r.returncode != 0:
        raise tmuxh.TestFailure("fusion %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def main():
    on_anvil(run)


def run(chain):
    t = tmuxh.Tmux("signin", cols=140, rows=30)
    home = t.home
    os.makedirs(home, mode=0o700)
    pws = {}
    for who in ("alice", "dave", "frank"):
        pws[who] = os.path.join(t.tmp, "pw-" + who)
        with open(pws[who], "w") as f:
            f.write("pw-%s-1\n" % who)
        os.chmod(pws[who], 0o600)
    keys = {w: fusion(home, "--passphrase-file", pws[w], "key", "new", "--label", w)
            .stdout.strip() for w in ("alice", "dave", "frank")}
    fusion(home, "--operator", "alice", "--passphrase-file", pws["alice"], "operator", "genesis",
           "--key", keys["alice"])
    # a chain, so the risk worker runs and the Dashboard lists alerts (configuration is a
    # decision too: alice's, signed; a desk without a genesis would refuse it)
    fusion(home, "--operator", "alice", "--passphrase-file", pws["alice"], "chain", "add",
           "--name", "local", "--chain-id", "31337", "--rpc", chain.node.url, "--factory",
           chain.factory, "--confirmations", "0")
    fusion(home, "--operator", "alice", "--passphrase-file", pws["alice"], "operator", "add",
           "dave", "--key", keys["dave"], "--role", "compliance")
    fusion(home, "--operator", "alice", "--passphrase-file", pws["alice"], "operator", "add",
           "frank", "--key", keys["frank"], "--role", "compliance")
    # alice's key leaves this key store
    fusion(home, "key", "rm", keys["alice"], "--yes")
    now = int(time.time())
    con = sqlite3.connect(os.path.join(home, "desk.db"))
    con.execute("INSERT INTO cases (id, subject, chain_id, escrow, priority, score, opened_at,"
                " due_at) VALUES (1, ?, 31337, ?, 3, 40, ?, ?)",
                ("0x" + "ab" * 20, "0x" + "01" * 20, now - 80 * 3600, now - 8 * 3600))
    con.commit()
    con.close()

    t.start("%s --home %s --operator dave" % (tmuxh.FUSION_BIN, home),
            {"FUSION_IDLE_LOCK": "12"})
    t.wait_for("operator dave (locked)", "the title: dave, key locked")
    t.send("4")
    t.wait_for("Compliance", "the compliance screen")
    t.send("t")
    t.wait_for("signed with dave's own key", "taking a case refused while locked")
    # signing in is `:operator NAME` and NAME's passphrase (a wrong one changes nothing)
    t.send(":")
    t.type("operator dave")
    t.send("Enter")
    t.wait_for("(typing is not shown)", "the passphrase prompt")
    t.type("pw-frank-1")
    t.send("Enter")
    t.wait_for("wrong passphrase", "the wrong passphrase refused")
    t.check("operator dave (signed in)" not in t.capture(), "not signed in with frank's pass")
    t.send(":")
    t.type("operator dave")
    t.send("Enter")
    t.wait_for("(typing is not shown)", "the passphrase prompt")
    t.type("pw-dave-1")
    t.send("Enter")
    t.wait_for("operator dave (signed in)", "the title: signed in")
    t.wait_for("it signs your decisions", "the unlock message")
    t.send("4")
    t.send("t")
    t.wait_for("case #1 assigned to dave", "the case taken, signed")
    # an alert acknowledged on the Dashboard is a signed decision with its audit row too
    # (the case is past its SLA: the screening of this process raises the alert)
    t.send("1")
    t.wait_for("past its SLA", "the SLA alert on the Dashboard")
    t.send("a")
    t.wait_for("alert acknowledged", "the acknowledgement")
    # idle: the key locks itself, the title follows
    t.wait_for("operator dave (locked)", "the title after the idle lock", tries=6000)
    # switching operator: frank signs in with his own passphrase (O opens ":operator ")
    t.send("O")
    t.wait_for(":operator", "the command line ready for the name")
    t.type("frank")
    t.send("Enter")
    t.wait_for("Sign in as frank", "frank's sign-in prompt")
    t.type("pw-frank-1")
    t.send("Enter")
    t.wait_for("operator frank (signed in)", "the title: frank signed in")
    t.send(":")
    t.type("operator mallory")
    t.send("Enter")
    t.wait_for("not an operator of this desk", "an unknown operator refused")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")

    rows = [json.loads(x) for x in open(os.path.join(home, "audit.log"))]
    take = [r for r in rows if r["action"] == "case.take"]
    if len(take) != 1 or take[0]["operator"] != "dave" or "_sig" not in take[0]["details"]:
        raise tmuxh.TestFailure("no signed case.take row of dave: %r" % take)
    if take[0]["details"]["_sig"]["operator"].lower() != keys["dave"].lower():
        raise tmuxh.TestFailure("case.take not signed by dave's key: %r" % take)
    # the unlock of frank's key, signing in as frank, is recorded in frank's name
    unl = [r for r in rows if r["action"] == "key_unlock" and
           r["details"]["address"].lower() == keys["frank"].lower()]
    if len(unl) != 1 or unl[0]["operator"] != "frank":
        raise tmuxh.TestFailure("frank's unlock not in frank's name: %r" % unl)
    ack = [r for r in rows if r["action"] == "alert.ack"]
    if len(ack) != 1 or ack[0]["operator"] != "dave" or "_sig" not in ack[0]["details"]:
        raise tmuxh.TestFailure("no signed alert.ack row of dave: %r" % ack)
    r = fusion(home, "audit", "verify", check=False)
    if r.returncode != 0 or "signatures ok" not in r.stdout:
        raise tmuxh.TestFailure("audit verify: %s %s" % (r.stdout, r.stderr))
    t.close()
    print("ok: locked title, refusal, unlock signs, idle lock, audit verify")


if __name__ == "__main__":
    tmuxh.run(main)
