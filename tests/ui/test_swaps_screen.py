#!/usr/bin/python3
"""test_swaps_screen.py: screen 9, Swaps, on a real swap between two anvil nodes.

The demo seeds a desk on a devnet of its own (free ports, kept running), alice starts a
swap with `fusion xswap new` (2500 USDC on devnet-eth against 1.5 POL on devnet-pol), and
`fusion ui` in tmux shows it on screen 9 (key `9`, and `:swaps` from another screen):
its id, state x_locked, both sides with chain, asset and amount, T1 counting down, no T2
yet and the counterparty's lock as the next step. Bob then locks with `xswap respond`
and, while the UI stays open, the row follows the desk to `done` with a T2. The devnet is
stopped at the end and no anvil is left on its ports.
"""
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
sys.path.insert(0, os.path.join(tmuxh.FUSION_ROOT, "tests", "integration"))
from devnet_lib import N_CHAINS, TOOLS, anvils_on, cast, free_ports  # noqa: E402

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil dev key #1, "alice (trader)"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"    # anvil dev key #2, "bob (approver)"
ENV = dict(os.environ, FUSION_TOOLS=TOOLS)


def fusion(home, *args):
    p = subprocess.run([tmuxh.FUSION_BIN, "--home", home, *args], capture_output=True,
                       text=True, env=ENV, timeout=240)
    if p.returncode != 0:
        raise tmuxh.TestFailure("fusion %s: exit %d: %s%s" % (" ".join(args), p.returncode,
                                                             p.stdout, p.stderr))
    return p.stdout


def row_of(text, sid):
    for line in text.split("\n"):
        if re.match(r"^\s*%d\s+(new|x_locked|y_locked|y_claimed|y_refunded|done|refunded)\s"
                    % sid, line):
            return line
    return ""


def main():
    ports = free_ports(N_CHAINS)
    t = tmuxh.Tmux("swaps", cols=160, rows=30)
    home = t.home
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports",
               ",".join(map(str, ports)), "--keep-devnet")
        # swaps sign through the desk: the demo keys' passphrase from a file, --yes, and
        # bob (the counterparty, who locks on Y) a trader as the policy wants for a lock
        passfile = os.path.join(os.path.dirname(home), "swaps-pass")
        with open(passfile, "w") as f:
            f.write("fusion-demo\n")
        os.chmod(passfile, 0o600)
        sign = ["--passphrase-file", passfile, "--yes"]
        # the demo desk's admin (who signed its genesis) grants it, with the demo passphrase
        fusion(home, "--operator", "admin", "--passphrase-file", passfile, "operator", "roles",
               "bob", "--role", "approver,trader")
        fusion(home, *sign, "xswap", "new", "--x", "devnet-eth", "--y", "devnet-pol", "--initiator",
               ALICE, "--counterparty", BOB, "--give", "2500:USDC", "--get", "1.5")
        swaps = json.loads(fusion(home, "xswap", "list", "--json"))
        t.check(len(swaps) == 1, "one swap in the desk")
        sid = swaps[0]["id"]

        t.start_fusion(env={"FUSION_TOOLS": TOOLS}, extra="ui")
        t.wait_for("1 Dashboard", "the UI")
        t.send("9")
        t.wait_for(lambda s: row_of(s, sid) != "", "swap %d on screen 9" % sid)
        row = row_of(t.last, sid)
        t.check("Swaps" in t.last and "9 Swaps" in t.last, "screen 9 is Swaps")
        t.check("x_locked" in row, "state x_locked: %r" % row)
        t.check("2500 USDC on devnet-eth" in row, "chain X, asset and amount: %r" % row)
        t.check("1.5 POL on devnet-pol" in row, "chain Y, asset and amount: %r" % row)
        t.check(re.search(r"\s\d+(m\d\ds|h\d\dm)\s+-\s", row) is not None,
                "T1 counts down, no T2 yet: %r" % row)
        t.check("counterparty locks on Y" in row, "next step: the counterparty's lock: %r" % row)
        print("\n".join(t.last.split("\n")[:6]))

        t.send("1")
        t.wait_for(lambda s: row_of(s, sid) == "", "back on the Dashboard")
        t.type(":swaps")
        t.send("Enter")
        t.wait_for(lambda s: row_of(s, sid) != "", ":swaps opens screen 9")

        # bob locks; the swap completes in another process while the UI shows it
        for _ in range(3):  # the lock on X must be final (2 confirmations)
            cast("rpc", "--rpc-url", "http://127.0.0.1:%d" % ports[0], "evm_mine")
        fusion(home, *sign, "xswap", "respond", str(sid))
        t.wait_for(lambda s: "done" in row_of(s, sid), "the row follows the swap to done")
        row = row_of(t.last, sid)
        t.check(re.search(r"\s\d+(m\d\ds|h\d\dm)\s+\d+(m\d\ds|h\d\dm)\s", row) is not None,
                "T1 and T2 both shown: %r" % row)
        t.send("q")
        t.check(t.wait_dead() == 0, "the UI exits 0")
    finally:
        subprocess.run([tmuxh.FUSION_BIN, "--home", home, "devnet", "down"],
                       capture_output=True, env=ENV, timeout=60)
    t.check(not anvils_on(ports), "no anvil left on the test's ports")


if __name__ == "__main__":
    tmuxh.run(main)
