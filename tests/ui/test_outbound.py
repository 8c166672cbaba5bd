"""The Outbound screen (0) on a real anvil node with automine off: alice's fund sent with
`--wait 0` waits in the pool; another transaction from her account takes its nonce (cast,
higher fees) and is mined. On screen 0 the fund is `sent`; `c` checks what is in flight
and says, in words, that it was "replaced by another transaction from this account"; the
row turns `dropped`; `M` (:messages) shows the message history. A second fund waits in
the pool; `S` speeds it up (the passphrase under "policy and gate passed", the pre-sign
summary, y) and the replacement is mined: the escrow is funded on chain."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ENV, PASS, create, devchain, escrow_summary, fusion,  # noqa: E402
                      on_anvil, operator, travel_rule_off)
from test_actions import OPS  # noqa: E402


def main():
    on_anvil(run)


def run(chain):
    A = devchain.ACCOUNTS
    t = tmuxh.Tmux("outbound", cols=150, rows=40)
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
    for name, who in (("Alice Treasury LLC", A[0]), ("Northwind Trading", A[1])):
        fusion(home, "--operator", "dave", "entity", "add", name, "--type", "company",
               "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        fusion(home, "--operator", "dave", "entity", "link", name, "--chain", "local",
               "--address", who)
    e1 = create(chain, A[1])
    e2 = create(chain, A[1])
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")

    chain.node.cast("rpc", "evm_setAutomine", "false")
    alice = ("--operator", "alice", "--passphrase-file", pw, "--yes")
    fusion(home, *alice, "escrow", "fund", e1, "--wait", "0")
    nonce = int(chain.node.cast("nonce", A[0]))  # latest: the fund's nonce, not mined
    chain.node.cast("send", "--unlocked", "--from", A[0], A[0], "--value", "0", "--nonce",
                    str(nonce), "--gas-price", "200gwei", "--priority-gas-price", "100gwei",
                    "--async")
    chain.node.cast("rpc", "evm_mine")
    t.check(int(chain.node.cast("nonce", A[0])) == nonce + 1, "setup: the nonce was not taken")

    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("operator alice", "the title")
    t.send("0")
    t.wait_for(lambda s: "Outbound transactions" in s and re.search(r"\bfund\b.*\bsent\b", s),
               "the fund, sent, on screen 0")
    t.send("c")
    t.wait_for("replaced by another transaction from this account", "the check's verdict")
    t.wait_for(lambda s: re.search(r"\bfund\b.*\bdropped\b", s) is not None, "the row dropped")
    t.check(escrow_summary(chain, e1)["state"] == "created", "the replaced fund was mined")
    # the verdict shows in the table (the desk records it) before the worker's result line
    # reaches the message line and its history: wait for the result itself
    t.wait_for(lambda s: re.search(r"check: tx \d+ \(fund", s) is not None,
               "the check's result on the message line")
    t.send("M")
    text = t.wait_for("Messages (newest last)", "the message history")
    t.check("replaced by another transaction from this account" in text,
            "the verdict is not in the history")
    t.send("y")
    t.wait_gone("Messages (newest last)")

    # speed up a fund waiting in the pool
    fusion(home, *alice, "escrow", "fund", e2, "--wait", "0")
    t.wait_for(lambda s: len(re.findall(r"\bfund\b", s)) >= 2 and "1 in flight" in s,
               "the second fund in flight")
    t.send("g")
    t.send("S")
    t.wait_for(lambda s: "Passphrase of alice" in s and "policy and gate passed" in s,
               "the passphrase after the policy and the gate")
    t.type(PASS)
    t.send("Enter")
    t.wait_for("Sign and send", "the pre-sign summary of the speed-up")
    t.send("y")
    pat = re.compile(r"speedup of tx \d+: (mined|confirmed)")
    for _ in range(200):
        chain.node.cast("rpc", "evm_mine")
        if pat.search(t.capture()):
            break
    t.wait_for(lambda s: pat.search(s) is not None, "the speed-up mined")
    t.check(escrow_summary(chain, e2)["state"] == "funded", "the sped-up fund is not on chain")
    t.wait_for(lambda s: re.search(r"\bfund\b.*\breplaced\b", s) is not None,
               "the original fund marked replaced")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    print("ok: replaced fund said so, :messages, speed-up mined")


if __name__ == "__main__":
    tmuxh.run(main)
