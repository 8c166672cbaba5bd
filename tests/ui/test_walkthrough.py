"""The maker-checker walkthrough of docs/user-guide.md, in ONE workstation on a real anvil
node: alice (trader) creates an escrow with the form and funds it; bob and carol
(approvers) approve it, carol releases it; dave proposes to clear a high-priority case
and frank confirms it from his Confirm queue. Operators switch with `:operator NAME` and
their passphrase. Every key sent is counted per step (the counts the guide prints) and,
with FUSION_UI_CAPTURE_DIR set, each step's screen is saved for the guide. On-chain
effects are checked with cast."""
import json
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ENV, PASS, SANCTIONED, create, devchain, escrow_summary,  # noqa: E402
                      fusion, on_anvil, operator, travel_rule_off)

OPS = {"alice": (0, "trader"), "bob": (2, "approver"), "carol": (3, "approver"),
       "dave": (4, "compliance"), "frank": (1, "compliance")}
COUNTS = []


class Keys:
    """Sends keys to t and counts them: a named key is one keystroke, text one per
    character."""

    def __init__(self, t):
        self.t, self.keys, self.chars = t, 0, 0

    def send(self, *keys):
        self.keys += len(keys)
        self.t.send(*keys)

    def type(self, text):
        self.chars += len(text)
        self.t.type(text)

    def step(self, name):
        COUNTS.append((name, self.keys, self.chars))
        self.keys = self.chars = 0


def switch(k, t, name):
    """`:operator NAME`, Enter, the passphrase, Enter."""
    k.send(":")
    k.type("operator %s" % name)
    k.send("Enter")
    t.wait_for("(typing is not shown)", "the passphrase prompt of " + name)
    k.type(PASS)
    k.send("Enter")
    t.wait_for("operator %s (signed in)" % name, name + " signed in")


def sign(k, t, what):
    """Answers what an action asks (the key's passphrase when it is locked) and confirms
    the pre-sign summary; returns the result line's capture."""
    text = t.wait_for(lambda s: "Sign and send" in s or "Passphrase of" in s,
                      "the prompt of " + what)
    if "Sign and send" not in text:
        k.type(PASS)
        k.send("Enter")
        t.wait_for("Sign and send", "the pre-sign summary of " + what)
    tmuxh.save_capture(t, "walk-%s-summary" % what)
    k.send("y")
    pat = re.compile(r"%s 0x[0-9a-fA-F]+: (mined|confirmed)" % what)
    return t.wait_for(lambda s: pat.search(s) is not None, "the result of " + what)


def field(k, t, label, text):
    t.wait_for(lambda s: re.search(r"> %s\b" % label, s) is not None, "focus on " + label)
    k.send("C-u")
    k.type(text)
    k.send("Tab")


def run(chain):
    A = devchain.ACCOUNTS
    payee = A[6]  # a counterparty: no key of the desk
    t = tmuxh.Tmux("walk", cols=120, rows=40)
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
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", payee)):
        fusion(home, "--operator", "dave", "entity", "add", name, "--type", "company",
               "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        fusion(home, "--operator", "dave", "entity", "link", name, "--chain", "local",
               "--address", who)
    # an escrow paying a sanctioned address: the high-priority case of the four-eyes step
    create(chain, SANCTIONED)
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")

    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("Fusion Prime Workstation", "the title bar")
    k = Keys(t)
    switch(k, t, "alice")
    k.step("sign in as alice")

    # 1. alice creates the escrow with the form.
    k.send("2")
    t.wait_for(lambda s: "1 escrows" in s, "the Escrows screen")
    k.send("n")
    t.wait_for(lambda s: "New escrow" in s and "Arbiter" in s, "the form")
    k.send("Tab")  # the chain is pre-filled
    field(k, t, "Payee", payee)
    k.send("Tab")  # the asset defaults to the native coin
    field(k, t, "Amount", "1.5")
    field(k, t, "Approvers", "bob, carol")
    field(k, t, "Threshold", "2")
    tmuxh.save_capture(t, "walk-create-form")
    k.send("Enter")  # the deadline keeps its default (7d): Enter moves on
    t.wait_for(lambda s: re.search(r"> Arbiter", s) is not None, "focus on the arbiter")
    k.send("Enter")  # the last field: submit with the desk's default arbiter
    text = sign(k, t, "create")
    t.wait_for(lambda s: "2 escrows" in s, "the new escrow synced")
    k.step("create (form)")
    m = re.search(r"create (0x[0-9a-fA-F]+): (mined|confirmed)", text)
    # the new escrow is the newest: the first row
    escrows = json.loads(fusion(home, "escrow", "list", "--json"))
    mine = [x for x in escrows if x["payee"].lower() == payee.lower()]
    t.check(len(mine) == 1 and m is not None, "one escrow to the payee: %r" % mine)
    escrow = mine[0]["address"]
    t.check(escrow_summary(chain, escrow)["state"] == "created", "created on chain")

    # 2. alice funds it.
    k.send("g")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower().split("\n")[5], "the escrow selected")
    k.send("f")
    sign(k, t, "fund")
    k.step("fund")
    t.check(escrow_summary(chain, escrow)["state"] == "funded", "funded on chain")

    # 3. bob approves from his Approvals screen.
    switch(k, t, "bob")
    k.step("switch to bob")
    k.send("3")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "0/2" in s, "bob's Approvals")
    tmuxh.save_capture(t, "walk-approvals")
    k.send("Enter")
    sign(k, t, "approve")
    k.step("approve (bob)")
    t.check(escrow_summary(chain, escrow)["approvals"] == 1, "bob's approval on chain")

    # 4. carol approves and releases.
    switch(k, t, "carol")
    k.step("switch to carol")
    k.send("3")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "1/2" in s, "carol's Approvals")
    k.send("Enter")
    sign(k, t, "approve")
    k.step("approve (carol)")
    t.check(escrow_summary(chain, escrow)["approvals"] == 2, "carol's approval on chain")
    k.send("2")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "2/2" in s, "approved on Escrows")
    k.send("g")
    k.send("r")
    sign(k, t, "release")
    k.step("release (carol)")
    t.check(escrow_summary(chain, escrow)["state"] == "released", "released on chain")

    # 5. four eyes: dave proposes to clear the sanctioned payee's case, frank confirms.
    switch(k, t, "dave")
    k.step("switch to dave")
    k.send("4")
    t.wait_for(lambda s: "queue New" in s and "New 1 " in s, "the case in New")
    k.send("t")
    t.wait_for(lambda s: "assigned to dave" in s and "TIMELINE" in s, "dave took it")
    tmuxh.save_capture(t, "walk-case")
    k.send("c")
    t.wait_for("clear case #", "the clear form")
    k.type("name match only: a different party, see the registry extract")
    k.send("Enter")
    t.wait_for("proposed, waiting for a second officer", "dave's proposal")
    k.step("take and propose (dave)")
    switch(k, t, "frank")
    k.step("switch to frank")
    k.send("4")  # back on the screen after the sign-in, in Mine (where dave's case was)
    t.wait_for("queue Mine", "still in Mine")
    k.send("[", "[", "[")  # Mine -> New -> Closed -> Confirm
    t.wait_for(lambda s: "queue Confirm" in s and "proposed cleared by dave" in s,
               "frank's Confirm queue")
    k.send("Escape", "Enter")  # Esc closes a pane left open, Enter opens this case's
    t.wait_for(lambda s: "TIMELINE" in s and "see the registry extract" in s,
               "dave's whole note in frank's timeline")
    tmuxh.save_capture(t, "walk-confirm")
    k.send("c")
    t.wait_for("clear case #", "frank's clear form")
    k.type("agree")
    k.send("Enter")
    t.wait_for(lambda s: re.search(r"case #\d+ closed as cleared by frank", s), "closed")
    k.step("confirm (frank)")
    k.send("q")
    t.wait_for(lambda s: "TIMELINE" not in s, "q closed the pane")
    k.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    k.step("quit")
    for name, keys, chars in COUNTS:
        print("keys: %-26s %3d = %2d keys + %3d typed characters" % (name, keys + chars, keys,
                                                                       chars))
    print("ok: the maker-checker flow in one UI, escrow %s" % escrow)


def main():
    on_anvil(run)


if __name__ == "__main__":
    tmuxh.run(main)
