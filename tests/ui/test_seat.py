"""The checker's seat, in ONE workstation on a real anvil node, switching operators with
`:operator NAME` (no second terminal):

1. type-ahead: alice (trader) presses r (refused: she is no approver) and types a
   passphrase blind in the same burst ("xfund-pw", Enter): nothing starts (no prompt, no
   fund job in the log, her nonce unchanged);
2. the approval card: bob (approver) finds the escrow paying a sanctioned address with
   `/Helios` (the filter matches the address book's names); the detail pane names the
   payee and shows its sanctions case, the policy's decision for bob (evaluated for the
   pane, read only) and the amount in USD from the desk's latest observed oracle price
   (a MockPriceFeed at 900 USD per ETH); Enter is refused BEFORE any passphrase prompt
   with the card and every blocking reason on one screen;
3. selection bound to identity: bob's cursor is on the second escrow; a new escrow is
   created on chain and lands at the top; `a` still acts on the escrow under the cursor
   (the message and the card name it), and bob approves it under the card;
4. maker-checker: alice creates an escrow from the form with the payee given by its
   entity name, funds it; bob and carol approve it (each under the card, "after this
   signature" counting), carol releases it; each step checked on chain with cast;
5. names: `/helios` on Escrows finds the escrow by its payee's entity name, whose detail
   pane names payer and payee; at 80x24 the title bar still names the operator."""
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import (ENV, PASS, SANCTIONED, artifact, cast, create, devchain,  # noqa: E402
                      escrow_summary, fusion, on_anvil, operator)
from test_actions import OPS  # noqa: E402

import signed_desk  # noqa: E402  (on the path once anvil_ui is loaded)

OFFICER = ("--operator", "dave")


def main():
    on_anvil(run)


def switch(t, name):
    """`:operator NAME` and NAME's passphrase, in the running UI."""
    t.send(":")
    t.type("operator %s" % name)
    t.send("Enter")
    t.wait_for("Sign in as %s" % name, "the sign-in prompt of %s" % name)
    t.type(PASS)
    t.send("Enter")
    t.wait_for("operator %s (signed in)" % name, "%s signed in" % name)


def sign_under_card(t, what, escrow, after=None):
    """The operator signed in (`:operator NAME`): the key is unlocked in this session, so no
    passphrase is asked; the card (policy and gate passed) comes with the pre-sign summary
    in one dialog, then y, and the result."""
    text = t.wait_for(lambda s: "Sign and send" in s and "policy and gate passed" in s,
                      "the card and the pre-sign summary of " + what)
    t.check("Passphrase of" not in text and "typing is not shown" not in text,
            "a passphrase was asked although the key is unlocked:\n%s" % text)
    t.check(escrow[2:10].lower() in text.lower(), "the card does not name the escrow")
    t.check("Payee" in text and "Northwind Trading" in text, "the card names the payee")
    t.check("Policy" in text and "allow" in text, "the card shows the policy's decision")
    if after:
        t.check(after in text, "the card does not say %r:\n%s" % (after, text))
    t.check(re.search(r"payee\s+Northwind Trading 0x", text) is not None,
            "the pre-sign summary does not name the payee:\n%s" % text)
    t.send("y")
    pat = re.compile(r"%s 0x[0-9a-fA-F]+: (mined|confirmed)" % what)
    return t.wait_for(lambda s: pat.search(s) is not None, "the result of " + what)


def field(t, label, text):
    t.wait_for(lambda s: re.search(r"> %s\b" % label, s) is not None, "focus on " + label)
    t.send("C-u")
    t.type(text)
    t.send("Tab")


def table_rows(text):
    """The escrow addresses' short forms in the order the table shows them."""
    return re.findall(r"0x[0-9a-fA-F]{4}\S*[0-9a-fA-F]{4}(?=\s+local)", text)


def short(escrow, row):
    return row.lower().startswith(escrow[:6].lower()) and row.lower().endswith(escrow[-4:].lower())


def run(chain):
    A = devchain.ACCOUNTS
    t = tmuxh.Tmux("seat", cols=150, rows=50)
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
    for name, who in (("Alice Treasury LLC", A[0]), ("Northwind Trading", A[1]),
                      ("Helios Shipping", SANCTIONED)):
        fusion(home, *OFFICER, "entity", "add", name, "--type", "company", "--jurisdiction",
               "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        fusion(home, *OFFICER, "entity", "link", name, "--chain", "local", "--address", who)
    # --payee takes an entity's name; an unknown one is refused with one line, exit 1
    pre = signed_desk.for_home(tmuxh.FUSION_BIN, home).sign_args(("escrow", "create"))
    args = [tmuxh.FUSION_BIN, "--home", home, *pre, "--operator", "alice", "--passphrase-file",
            pw, "--yes", "escrow", "create", "--token", "ETH", "--amount", "1", "--approvers",
            "bob,carol", "--threshold", "2", "--deadline", "7d", "--wait", "0", "--payee"]
    bad_name = subprocess.run(args + ["Nobody Inc"], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ, **ENV))
    t.check(bad_name.returncode == 1 and len(bad_name.stderr.strip().split("\n")) == 1 and
            "Nobody Inc" in bad_name.stderr, "--payee with an unknown name: %r" % (bad_name,))
    # three funded escrows of alice's account (bob and carol approve): one pays the
    # sanctioned address, two pay Northwind; funded in this order (newest activity first)
    bad = create(chain, SANCTIONED)
    e1 = create(chain, A[1])
    e2 = create(chain, A[1])
    for x in (bad, e1, e2):
        chain.act(x, 0, "fund()", value=10**18)
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")
    # the CLI's text names the parties from the same address book
    listing = fusion(home, "escrow", "list")
    row = [ln for ln in listing.split("\n") if bad[2:].lower() in ln.lower()]
    t.check(len(row) == 1 and row[0].rstrip().endswith("Helios Shipping"),
            "escrow list does not name the payee:\n%s" % listing)
    shown = fusion(home, "escrow", "show", bad)
    for what, name in (("payer", "Alice Treasury LLC"), ("payee", "Helios Shipping"),
                       ("", "bob"), ("", "carol")):
        t.check(re.search(r"^%s +%s 0x" % (what, name) if what else r"^ +%s 0x" % name,
                          shown, re.M) is not None,
                "escrow show does not name the %s %s:\n%s" % (what or "approver", name, shown))
    # an oracle pricing ETH at 900 USD (the UI's risk worker records its rounds; under the
    # Travel Rule threshold, 1,000 USD, so the flow below needs no originator data)
    feed = chain.node.deploy(artifact("MockPriceFeed")["bytecode"] + cast(
        "abi-encode", "constructor(uint8,string,int256)", 8, "ETH / USD", 900 * 10**8)[2:])
    fusion(home, "asset", "add-feed", "--chain", "local", "--asset", "ETH", "--address", feed)

    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("operator alice", "the title names alice")
    t.send("2")
    t.wait_for(lambda s: len(table_rows(s)) == 3, "the three escrows")

    # 1. a refused key, then a passphrase typed blind in the same burst
    nonce0 = int(chain.node.cast("nonce", A[0]))
    # (the role check is the policy's: a trader may not approve)
    t.send("a", "xfund-pw", "Enter")
    t.wait_for("approve: the desk policy (policy.conf line", "the refusal")
    t.wait_for("does not let alice (trader) approve", "the refusal names who and what")
    t.send("?")
    t.wait_for(" Help ", "the help screen (a key pressed after the refusal works)")
    t.send("Escape")
    t.wait_for(lambda s: len(table_rows(s)) == 3, "back on Escrows")
    text = t.capture()
    t.check("typing is not shown" not in text, "a passphrase prompt opened after a refusal")
    log = open(os.path.join(home, "fusion.log"), errors="replace").read()
    t.check(re.search(r"\bfund(:| 0x| not| cancelled)", log) is None,
            "a fund started from keys typed blind after a refusal:\n%s" % log[-2000:])
    t.check(int(chain.node.cast("nonce", A[0])) == nonce0, "alice's account sent something")

    # 1b. the policy lets anyone on the desk trigger a release: alice (trader) is not
    # refused by role; the desk runs her release up to its estimate (after the policy), where
    # the contract says no approvals are in yet, and nothing is signed
    t.send("r")
    text = t.wait_for(lambda s: "release would fail" in s and "ThresholdNotReached" in s,
                      "alice's release reaches the desk's estimate")
    t.check("approver role" not in text and "does not let" not in text,
            "a trader's release was refused by role:\n%s" % text)
    t.check(int(chain.node.cast("nonce", A[0])) == nonce0, "a refused release sent something")

    # 2. bob: the card of the escrow paying the sanctioned address, before any passphrase
    switch(t, "bob")
    t.send("3")
    t.wait_for(lambda s: s.count("Alice Treasury LLC ->") == 3, "three requests for bob, by name")
    t.send("/")
    t.type("Helios")
    t.send("Enter")
    text = t.wait_for(lambda s: s.count("Alice Treasury LLC ->") == 1 and "Approval card" in s
                      and "hits" in s, "the filtered request and its card")
    t.check(bad[2:6].lower() in text.lower(), "the filter by name found the wrong escrow")
    t.check("Helios Shipping" in text and "sanctions" in text,
            "the card does not flag the sanctioned payee:\n%s" % text)
    t.check("BLOCKED BY COMPLIANCE" in text, "the card does not say the gate refuses")
    pol = re.search(r"Policy +(.*)", text)
    t.check(pol is not None and "decided when you act" not in pol.group(1) and
            re.search(r"^(allow|require|block)\b.*(line \d+ of policy\.conf|built-in default)",
                      pol.group(1)) is not None,
            "the pane's card does not give the policy's decision:\n%s" % text)
    usd = re.compile(r"Amount +1 ETH \(10+ base units\) = \$ 900\.00 \(oracle price of 20")
    text = t.wait_for(lambda s: usd.search(s) is not None,
                      "the amount in USD at the latest observed price")
    # a later round answering 1e30 USD is no price: the card says so instead of valuing it
    absurd = ("INSERT INTO price_observations SELECT chain_id, feed, CAST(CAST(round_id AS "
              "INTEGER) + 1000 AS TEXT), '1' || substr('000000000000000000000000000000000000000',"
              " 1, 38), updated_at + 1, observed_at + 1 FROM price_observations WHERE chain_id ="
              " 31337 ORDER BY updated_at DESC LIMIT 1")
    con = sqlite3.connect(os.path.join(home, "desk.db"), timeout=30)
    with con:
        t.check(con.execute(absurd).rowcount == 1, "setup: no price observation to follow")
    text = t.wait_for(lambda s: "the oracle's answer is out of range" in s and "Approval card" in s,
                      "the card refusing an absurd oracle answer")
    t.check(not re.search(r"Amount +1 ETH .*= \$", text),
            "the card valued the amount at an absurd price:\n%s" % text)
    with con:
        con.execute("DELETE FROM price_observations WHERE round_id = (SELECT round_id FROM "
                    "price_observations WHERE chain_id = 31337 ORDER BY updated_at DESC LIMIT 1)")
    con.close()
    text = t.wait_for(lambda s: usd.search(s) is not None, "the USD value back at the real price")
    t.send("Enter")
    text = t.wait_for("approve refused: nothing was signed", "the refusal with the card")
    t.check("typing is not shown" not in text, "a passphrase was asked for a refused approval")
    t.check("Helios Shipping" in text and "sanctions" in text, "the refusal's card")
    tmuxh.save_capture(t, "approval-card-refused")
    t.send("y")
    t.wait_gone("approve refused: nothing was signed")
    t.check(escrow_summary(chain, bad)["approvals"] == 0, "the refused approval is on chain")
    t.send("Escape")

    # 3. an escrow inserted above the cursor does not change what `a` acts on
    t.send("2")
    text = t.wait_for(lambda s: len(table_rows(s)) == 3, "bob's Escrows")
    rows = table_rows(text)
    t.check(short(e2, rows[0]) and short(e1, rows[1]), "setup: the order is %r" % rows)
    t.send("j")
    t.wait_for("escrows 2/3", "the cursor on the second row")
    create(chain, A[1])  # lands at the top once the UI's sync sees it
    text = t.wait_for(lambda s: len(table_rows(s)) == 4, "the new escrow in the table")
    t.check(short(e1, table_rows(text)[2]), "the new escrow is not above: %r" % table_rows(text))
    t.wait_for("escrows 3/4", "the cursor followed its escrow to the third row")
    t.send("a")
    text = t.wait_for(lambda s: re.search(r"approve (escrow )?0x", s) is not None,
                      "the approval of the selected escrow starts")
    t.check(re.search(r"approve (escrow )?%s" % e1[:10], text, re.I) is not None,
            "a acts on another escrow than the one under the cursor:\n%s" % text)
    sign_under_card(t, "approve", e1, after="1 of 1 after this signature")
    t.check(escrow_summary(chain, e1)["approvals"] == 1, "bob's approval is not on chain")
    t.check(escrow_summary(chain, e2)["approvals"] == 0, "the escrow now on row 2 was approved")

    # 4. maker-checker in this one UI: alice creates (payee by entity name) and funds
    switch(t, "alice")
    t.send("2")
    t.wait_for(lambda s: len(table_rows(s)) == 4, "alice's Escrows")
    t.send("n")
    t.wait_for(lambda s: "New escrow" in s and "Arbiter" in s, "the form")
    field(t, "Chain", "local")
    field(t, "Payee", "Northwind Trading")
    field(t, "Asset", "ETH")
    field(t, "Amount", "0.5")
    field(t, "Approvers", "bob, carol")
    field(t, "Threshold", "2")
    field(t, "Deadline", "3d")
    t.wait_for(lambda s: re.search(r"> Arbiter", s) is not None, "focus on the arbiter")
    t.send("Enter")
    # alice signed in: her key is unlocked, the summary after the checks is the one question
    text = t.wait_for(lambda s: "Sign and send" in s and "policy and gate passed" in s,
                      "the pre-sign summary of create after the checks")
    t.check("Passphrase of" not in text, "alice's passphrase asked again:\n%s" % text)
    t.send("y")
    pat = re.compile(r"create (0x[0-9a-fA-F]{40}): (mined|confirmed)")
    text = t.wait_for(lambda s: pat.search(s) is not None, "the result of create")
    new = pat.search(text).group(1)
    s = escrow_summary(chain, new)
    t.check(s["payee"] == A[1].lower() and s["payer"] == A[0].lower(),
            "the payee given by name is not Northwind's address: %r" % (s,))
    t.wait_for(lambda x: len(table_rows(x)) == 5 and short(new, table_rows(x)[0]),
               "the new escrow at the top")
    t.send("g")
    # the UI's own screening must see it before the gate lets it be funded
    deadline = time.time() + 60
    while True:
        t.send("f")
        text = t.wait_for(lambda x: "Sign and send" in x or "Passphrase of alice" in x or
                          "fund refused" in x, "fund: the summary or a refusal")
        if "Sign and send" in text or "Passphrase of alice" in text:
            break
        t.check("not been screened" in text and time.time() < deadline,
                "fund refused for another reason:\n%s" % text)
        t.send("y")
        t.wait_gone("fund refused")
        time.sleep(1)  # the screener runs on its own clock; asking again is the operator's move
    # alice is signed in: the summary, no passphrase
    t.check("Passphrase of alice" not in text, "alice's passphrase asked again:\n%s" % text)
    t.send("y")
    t.wait_for(lambda x: re.search(r"fund 0x[0-9a-fA-F]+: (mined|confirmed)", x) is not None,
               "the result of fund")
    t.check(escrow_summary(chain, new)["state"] == "funded", "not funded on chain")
    for who, after in (("bob", "1 of 2 after this signature"),
                       ("carol", "2 of 2 after this signature")):
        switch(t, who)
        t.send("3")
        t.wait_for(lambda x: new[2:6].lower() in x.lower(), "the new escrow in %s's queue" % who)
        t.send("/")
        t.type(new[:12])
        t.send("Enter")
        t.wait_for(lambda x: "Approval card" in x and new[2:10].lower() in x.lower(),
                   "the card of the new escrow")
        t.send("Enter")
        sign_under_card(t, "approve", new, after=after)
        t.send("Escape")
    t.check(escrow_summary(chain, new)["approvals"] == 2, "two approvals not on chain")
    t.send("2")
    t.wait_for(lambda x: re.search(r"%s.*2/2" % new[2:6], x, re.I) is not None,
               "the escrow with two approvals")
    t.send("g")
    before = int(chain.node.cast("balance", A[1]))
    t.send("r")
    sign_under_card(t, "release", new)
    t.check(escrow_summary(chain, new)["state"] == "released", "not released on chain")
    t.check(int(chain.node.cast("balance", A[1])) - before == 5 * 10**17,
            "Northwind did not receive 0.5 ETH")
    # names on the Escrows screen: `/` by an entity's name, the detail pane's parties
    t.send("/")
    t.type("helios")
    t.send("Enter")
    text = t.wait_for(lambda x: "1 escrows matching /helios" in x and len(table_rows(x)) == 1,
                      "the escrow paying Helios found by name")
    t.check(short(bad, table_rows(text)[0]) and "Helios Shipping 0x" in text,
            "the filter by name or the counterparty's name:\n%s" % text)
    t.send("Enter")
    t.wait_for(lambda x: re.search(r"Payee\s+Helios Shipping 0x8589", x) is not None and
               re.search(r"Payer\s+Alice Treasury LLC 0x", x) is not None and
               re.search(r"EscrowCreated +\{.*\"payer\":\"Alice Treasury LLC 0xf39Fd6e5", x)
               is not None,
               "the detail pane names the parties, in the timeline's events too")
    t.send("Enter")
    t.send("Escape")
    t.wait_for(lambda x: len(table_rows(x)) == 5, "the filter cleared")
    # at 80x24 the title still says who is signed in (the name comes first)
    t.resize(80, 24)
    t.wait_for(lambda s: s.split("\n")[0].startswith(" operator carol (signed in)"),
               "the signed-in operator on the title bar at 80x24")
    # the officer's case detail names the escrow's parties, also inside the evidence
    t.resize(150, 50)
    t.wait_for(lambda x: "9 Swaps  0 Outbound" in x, "the full tab titles at 150 columns")
    # the Audit screen names the addresses in a row's details, and its filter finds them
    t.send("8")
    t.wait_for(lambda x: x.split("\n")[2].startswith(" Audit"), "the Audit screen")
    t.send("/")
    t.type("Alice Treasury LLC 0x")
    t.send("Enter")
    text = t.wait_for(lambda x: "matching /Alice Treasury LLC 0x" in x and re.search(
        r"key_unlock +\{\"address\":\"Alice Treasury LLC 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        x) is not None, "audit rows naming alice's account")
    t.send("Escape")
    # the Outbound screen's detail names the sending account (the oldest: bob's approve)
    t.send("0")
    t.wait_for(lambda x: x.split("\n")[2].startswith(" Outbound"), "the Outbound screen")
    t.send("G")
    t.send("Enter")
    t.wait_for(lambda x: re.search(r"tx 1 0x[0-9a-f]{64} from bob 0x3C44CdDdB6a900fa2b585dd2", x)
               is not None, "the first transaction's sender (bob's approve) by name")
    switch(t, "dave")
    t.send("4")
    t.send("/")
    t.type("Helios")
    t.send("Enter")
    t.wait_for(lambda x: "matching /Helios" in x, "dave's cases filtered by the party's name")
    t.send("Enter")
    text = t.wait_for(lambda x: "EVIDENCE" in x and "Case #" in x, "the case detail")
    t.check(re.search(r"payer: +Alice Treasury LLC 0x[0-9a-fA-F]{40}", text) is not None and
            re.search(r"payee: +Helios Shipping 0x8589427373D6D84E98730D7795D8f6f8731FDA16", text)
            is not None, "the case detail does not name the parties:\n%s" % text)
    ev = [ln for ln in text.split("\n") if "sanctions" in ln and "0x8589" in ln.lower()]
    t.check(ev and all("Helios Shipping 0x8589" in ln for ln in ev),
            "an address in the evidence without its name:\n%s" % "\n".join(ev))
    t.send("Escape")
    t.wait_gone("EVIDENCE")
    t.send("Escape")
    t.resize(80, 24)
    # a resize while the passphrase prompt is open neither loses nor shows what was typed
    t.send(":")
    t.type("operator alice")
    t.send("Enter")
    t.wait_for("Sign in as alice", "the sign-in prompt of alice")
    half = len(PASS) // 2
    t.type(PASS[:half])
    t.resize(40, 12)
    text = t.wait_for("too small: need 80x24, have 40x12", "too small with the prompt open")
    t.check(PASS[:4] not in text, "the typed passphrase is on screen")
    t.resize(80, 24)
    text = t.wait_for(lambda s: "Sign in as alice" in s and "typing is not shown" in s,
                      "the prompt again at 80x24")
    t.check(PASS[:4] not in text, "the typed passphrase is on screen after the resize")
    t.type(PASS[half:])
    t.send("Enter")
    t.wait_for(lambda s: s.split("\n")[0].startswith(" operator alice (signed in)"),
               "alice signed in with the passphrase typed across the resizes")
    log = open(os.path.join(home, "fusion.log"), errors="replace").read()
    t.check(PASS[:half] not in log and PASS[half:] not in log, "the passphrase is in the log")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    print("ok: type-ahead dropped, card before the passphrase, selection by identity, "
          "maker-checker in one UI (%s)" % new)


if __name__ == "__main__":
    tmuxh.run(main)
