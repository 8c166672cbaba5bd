"""Resume from the Bridges screen (B, then R) on the four-chain devnet: the demo desk's
alice bridges 250,000 USDC from devnet-eth to devnet-avax with `fusion bridge send
--no-wait` while the attestation service (tools/cctp_attester.py) is down, so the transfer
stays `sent`: burned, not minted. The service comes back and the operator resumes the
transfer from the screen, through the UI's action worker: the attestation fetched, the
passphrase asked once the checks passed (the card's title names the mint), the pre-sign
summary with y/N (declined once: nothing sent, the transfer stays attested; then, signed
in with `:operator alice`, R asks only the y/N, with the session's unlocked key);
the result on the message line and in its history (M). Then: the
transfer is delivered (`fusion bridge list --json`, its mint tx the one on the message
line), `cast` shows alice's USDC on devnet-avax rose by exactly the amount, one outbound
row more (the mint). A second R says the transfer is delivered already and signs nothing:
no passphrase asked, the outbound row count and the balance unchanged. The UI process
opened its desk once (fusion.log): the bridge service used the session's."""
import os
import re
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tmuxh  # noqa: E402
import bridge_cctp  # noqa: E402
from bridge_cctp import ALICE, Attester, Desk, br, n_outbound, transfers  # noqa: E402
from devnet_lib import fusion  # noqa: E402

ROWS = 44
PASS = "fusion-demo"  # the passphrase the demo seed gives its dev keys


def screen_b(text):
    lines = text.split("\n")
    return (len(lines) >= ROWS and lines[2].startswith(" Bridges")
            and lines[ROWS - 2].startswith(" B Bridges"))


def row_state(tid, state):
    def pred(text):
        if not screen_b(text):
            return False
        row = [ln for ln in text.split("\n")[4:14] if re.match(r"^\s+%d\s" % tid, ln)]
        return len(row) == 1 and re.search(r"\b%s\b" % state, row[0]) is not None
    return pred


def main():
    tmuxh.skip_unless_ready()
    home, ports = bridge_cctp.demo_home("fusion-ui-bresume-")
    att = None
    try:
        failed = bridge_cctp.demo_up(home, ports)
        if failed:
            raise tmuxh.TestFailure("fusion demo: %s" % failed)
        desk = Desk(home)
        att = Attester(desk)
        fusion(home, "--operator", "admin", "--passphrase-file", bridge_cctp.PASSFILE, "bridge",
               "config", "--attestation-url", att.url)
        # the attestation service is down: the transfer stays sent (burned, not minted)
        fusion(home, *br("send", "--no-wait", "--from", "devnet-eth", "--to", "devnet-avax",
                         "--amount", "250000", "--recipient", ALICE), rc=None)
        tid = max(transfers(home))
        tr = transfers(home)[tid]
        # --no-wait may return before the burn is mined: resume (still without the
        # service) reads the burn's message once it is
        for _ in range(120):
            if tr["message_hash"]:
                break
            time.sleep(0.5)
            fusion(home, *br("resume", "--no-wait", str(tid)), rc=None)
            tr = transfers(home)[tid]
        if tr["state"] != "sent" or not tr["burn_tx"] or not tr["message_hash"]:
            raise tmuxh.TestFailure("setup: the transfer is not sent and burned: %s" % tr)
        amount = int(tr["amount"])

        t = tmuxh.Tmux("bresume", cols=150, rows=ROWS)
        t.home = home
        t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home),
                {"FUSION_KDF": "interactive"})
        t.wait_for("operator alice", "the title")
        t.send("B")
        t.wait_for(row_state(tid, "sent"), "the transfer, sent, on screen B")

        # the service is back; the operator resumes from the screen
        att.start()
        bal0 = desk.bal("devnet-avax", ALICE)
        out0 = n_outbound(home)
        t.send("R")
        t.wait_for(lambda s: screen_b(s) and "mint of bridge %d: policy and gate passed" % tid in s
                   and "Passphrase of alice's signing key" in s,
                   "the passphrase, once the attestation is fetched and the checks passed")
        if transfers(home)[tid]["state"] != "attested":
            raise tmuxh.TestFailure("asked for the passphrase before the attestation: %s"
                                    % transfers(home)[tid])
        if n_outbound(home) != out0 or desk.bal("devnet-avax", ALICE) != bal0:
            raise tmuxh.TestFailure("something was signed before the passphrase")
        t.type(PASS)
        t.send("Enter")
        t.wait_for(lambda s: screen_b(s) and "Sign the mint of bridge %d?" % tid in s
                   and "Sign and send" in s and "devnet-avax" in s,
                   "the pre-sign summary of the mint, with y/N")
        if n_outbound(home) != out0:
            raise tmuxh.TestFailure("the mint was sent before the y")
        # N: not sent; the transfer waits, attested, for the next resume
        t.send("n")
        t.wait_for(lambda s: screen_b(s) and "resume bridge %d failed: not confirmed" % tid in s
                   and "Sign the mint" not in s, "the declined mint on the message line")
        t.check(transfers(home)[tid]["state"] == "attested", "declined: not attested any more")
        t.check(n_outbound(home) == out0, "declined: an outbound row was recorded")
        t.check(desk.bal("devnet-avax", ALICE) == bal0, "declined: minted")
        # signed in (the key unlocked in the session): the mint asks only y/N
        t.send(":")
        t.type("operator alice")
        t.send("Enter")
        t.wait_for("Sign in as alice", "alice's sign-in prompt")
        t.type(PASS)
        t.send("Enter")
        t.wait_for("operator alice (signed in)", "the title: alice signed in")
        t.send("B")  # the sign-in shows the Keys screen
        t.wait_for(lambda s: row_state(tid, "attested")(s) and "operator alice (signed in)" in s,
                   "back on screen B, the transfer attested, alice signed in")
        t.send("R")
        text = t.wait_for(lambda s: screen_b(s) and (
            ("Sign the mint of bridge %d? policy and gate passed; your key is unlocked" % tid in s
             and "Sign and send" in s) or "Passphrase of" in s),
            "the pre-sign summary with the session's key (or a passphrase prompt)")
        t.check("Passphrase of" not in text,
                "the passphrase was asked although alice's key is unlocked:\n%s" % text)
        t.check(n_outbound(home) == out0, "the mint was sent before the y")
        t.send("y")
        done = re.compile(r"resume bridge %d: delivered \(mint tx (0x[0-9a-f]{16})" % tid)
        text = t.wait_for(lambda s: row_state(tid, "delivered")(s) and done.search(s) is not None,
                          "delivered: the row and the result on the message line",
                          tries=4 * tmuxh.TRIES)
        tr = transfers(home)[tid]
        if tr["state"] != "delivered" or not tr["mint_tx"]:
            raise tmuxh.TestFailure("the transfer is not delivered: %s" % tr)
        if not tr["mint_tx"].startswith(done.search(text).group(1)):
            raise tmuxh.TestFailure("the message line's mint tx is not the transfer's: %s vs %s"
                                    % (done.search(text).group(1), tr["mint_tx"]))
        bal1 = desk.bal("devnet-avax", ALICE)
        if bal1 - bal0 != amount:
            raise tmuxh.TestFailure("alice's USDC on devnet-avax rose by %d, not %d"
                                    % (bal1 - bal0, amount))
        out1 = n_outbound(home)
        if out1 != out0 + 1:
            raise tmuxh.TestFailure("outbound rows: %d before, %d after (one mint)" % (out0, out1))

        # in the message history too
        t.send("M")
        t.wait_for(lambda s: "Messages (newest last)" in s and done.search(s) is not None,
                   "the result in the message history")
        t.send("y")
        t.wait_gone("Messages (newest last)")

        # again: nothing to do, nothing signed, no passphrase asked
        t.send("R")
        t.wait_for(lambda s: screen_b(s) and "resume bridge %d: delivered already: nothing to "
                   "do, nothing signed" % tid in s, "the second resume: one line")
        t.check("Passphrase" not in t.capture(), "the second resume asked for a passphrase")
        t.check(n_outbound(home) == out1, "the second resume signed something")
        t.check(desk.bal("devnet-avax", ALICE) == bal1, "the second resume minted again")
        t.send("q")
        t.check(t.wait_dead() == 0, "fusion did not exit cleanly")
        # one desk for the UI process: the bridge service signed on the session's desk, not
        # on one of its own per resume (desk_open logs each opening)
        log = open(os.path.join(home, "fusion.log")).read().splitlines()
        starts = [i for i, x in enumerate(log) if "[ui] started" in x]
        t.check(starts, "the UI's start is not in fusion.log")
        opens = [x for x in log[starts[-1]:] if "desk opened for actions" in x]
        t.check(len(opens) == 1, "the resumes of one UI process opened the desk %d times "
                "(want once):\n%s" % (len(opens), "\n".join(opens)))
        print("ok: resumed from screen B: attested, minted once, balance +%d; again: nothing"
              % amount)
    finally:
        if att:
            att.stop()
        fusion(home, "devnet", "down", rc=None)


if __name__ == "__main__":
    tmuxh.run(main)
