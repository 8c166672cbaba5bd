"""The workstation on a desk synced from a real anvil node: fusion in tmux runs the sync
itself; an escrow created by `cast send` while it runs appears on the Escrows screen
without a key press; the detail pane shows its timeline; `/` narrows the table in SQL;
Chains, Keys (unlock with the no-echo prompt, then lock) and Audit show the desk's real
data; a second fusion on the same desk follows the first one's commits."""
import json
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tmuxh  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import signed_desk  # noqa: E402
from anvil_ui import sign_in  # noqa: E402

try:
    from sync_lib import ARTIFACTS, Chain  # noqa: E402
except Exception as exc:  # pragma: no cover
    print("SKIP: cannot load the anvil harness: %s" % exc)
    sys.exit(77)

PASS = "correct horse battery staple"


def fusion(home, *args):
    # the desk's configuration is signed by its admin (tests/lib/signed_desk.py)
    pre = signed_desk.for_home(tmuxh.FUSION_BIN, home).sign_args(args)
    if not pre:
        pre = ["--operator", "tester"]
    r = subprocess.run([tmuxh.FUSION_BIN, "--home", home, *pre, *args],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise tmuxh.TestFailure("fusion %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def checksum(address):
    out = subprocess.run([os.path.join(os.environ.get("FUSION_TOOLS", ""), "cast"),
                          "to-check-sum-address", address], capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


CAPTURE_DIR = os.environ.get("FUSION_UI_CAPTURE_DIR")  # set: save the captures for the docs


def save(t, name):
    if CAPTURE_DIR:
        os.makedirs(CAPTURE_DIR, exist_ok=True)
        with open(os.path.join(CAPTURE_DIR, name + ".txt"), "w") as f:
            f.write("\n".join(line.rstrip() for line in t.capture().split("\n")[: t.rows]))


def main():
    tmuxh.skip_unless_ready()
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        print("SKIP: no contract artifacts")
        sys.exit(77)
    chain = Chain(chain_id=31337).start()
    chain.deploy()

    t = tmuxh.Tmux("live", cols=100 if CAPTURE_DIR else 120, rows=30 if CAPTURE_DIR else 40)
    os.makedirs(t.home, mode=0o700)
    fusion(t.home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc",
           chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    passfile = os.path.join(t.tmp, "pass")
    with open(passfile, "w") as f:
        f.write(PASS + "\n")
    os.chmod(passfile, 0o600)
    fusion(t.home, "--passphrase-file", passfile, "key", "new", "--label", "trader-one",
           "--kdf", "interactive")
    key_addr = [k for k in json.loads(fusion(t.home, "key", "list", "--json"))
                if k["label"] == "trader-one"][0]["address"]
    # tester, who acknowledges alerts in the UI, is an operator signing with their own key
    sd = signed_desk.for_home(tmuxh.FUSION_BIN, t.home)
    sd.add("tester", "trader")
    fusion(t.home, "key", "rm", sd.keys["admin"], "--yes")  # the admin's key lives elsewhere
    # The desk account holds 2 ETH: a wallet position on the Dashboard.
    chain.node.cast("send", "--unlocked", "--from", tmuxh_account(0), key_addr, "--value",
                    str(2 * 10**18))
    first = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=2, amount=10**18)

    t.start_fusion()
    t.wait_for("Fusion Prime Workstation", "the title bar")
    # Dashboard: the risk worker's snapshot with the wallet position (2 ETH).
    t.wait_for(lambda s: "Gross" in s and "local" in s, "the Dashboard's figures")
    row = [ln for ln in t.lines() if " local " in ln and "ETH" in ln]
    t.check(len(row) >= 1 and " 2 " in row[0] + " ", "the 2 ETH wallet position")
    save(t, "dashboard")
    t.wait_for("of the gross value", "a concentration alert from the risk service")
    # acknowledging is a decision: tester signs in (then back to the Dashboard)
    sign_in(t, "tester", sd.pwfile("tester"))
    t.send("1")
    t.wait_for("of the gross value", "the Dashboard again")
    # Alerts come and go with each refresh: pick the asset concentration one by filter.
    t.send("/")
    t.type("asset ETH is")
    t.send("Enter")
    t.wait_for(lambda s: "Alerts matching /asset ETH is" in s, "the alert list filtered")
    t.send("a")
    t.wait_for(lambda s: "alert acknowledged: asset ETH" in s and "warning ack" in s,
               "the alert acknowledged")
    t.send("Escape")
    t.send("2")
    e1 = checksum(first)
    t.wait_for(lambda s: e1[:6] in s and e1[-4:] in s and "1 escrows" in s,
               "the escrow synced before start on screen 2")
    payee = checksum(tmuxh_account(1))
    t.wait_for(payee, "the counterparty (payee) of the first escrow")
    row = [ln for ln in t.lines() if e1[:6] in ln][0]
    t.check(" local " in row and " ETH " in row and " created " in row and " 0/2 " in row,
            "the first escrow's row: chain, asset, state, approvals")

    # Created while the UI runs: appears without any key press.
    second = chain.create_escrow(payer=0, payee=4, approvers=(2,), threshold=1, amount=7)
    e2 = checksum(second)
    t.wait_for(lambda s: e2[:6] in s and e2[-4:] in s and "2 escrows" in s,
               "the escrow created by cast send, without a key press")
    # Newest activity first: the new escrow is the first row.
    t.check(e2[:6] in t.lines()[5], "the new escrow is the first row")

    # The selection is the escrow, not the row number: the cursor went down with the
    # first escrow; k moves up to the new one.
    t.wait_for(lambda s: "escrows 2/2" in s.split("\n")[t.rows - 2],
               "the cursor following the first escrow to the second row")
    t.send("k")
    t.wait_for(lambda s: "escrows 1/2" in s.split("\n")[t.rows - 2], "the cursor on the new one")
    # Detail pane: parties and the event timeline.
    t.send("Enter")
    t.wait_for(lambda s: "Timeline (1 events)" in s and "EscrowCreated" in s and e2 in s,
               "the detail pane with the timeline")
    chain.act(second, 0, "fund()", value=7)
    t.wait_for(lambda s: "Timeline (2 events)" in s and "Funded" in s,
               "the detail pane following the Funded event")
    save(t, "escrow-detail")
    t.send("Enter")

    # Filter pushed down to SQL: a part of the first escrow's address.
    t.send("/")
    t.type(first[2:10])
    t.send("Enter")
    t.wait_for(lambda s: "1 escrows matching /" in s and e1[:6] in s and e2[:6] not in s,
               "the filtered table")
    save(t, "escrows-filtered")
    t.send("Escape")
    t.wait_for("2 escrows", "the filter cleared")
    t.send("s")
    t.wait_for("by escrow", "sorted by the escrow column")

    # Chains: this process syncs; head, synced block, endpoint health (with the latency of
    # the endpoint's last answer, recorded by the sync).
    t.send("7")
    t.wait_for(lambda s: "local" in s and "31337" in s and "synced by this process" in s
               and chain.node.url in s and "following" in s
               and re.search(r"\bok \d+ms\b", s), "the Chains screen")
    save(t, "chains")

    # Keys: unlock with the passphrase (never echoed), then lock.
    t.send("6")
    text = t.wait_for(lambda s: "trader-one" in s and "locked" in s, "the Keys screen")
    # tester's key (unlocked by the sign-in) is locked first: the trader's is the one shown
    rows = [l.strip() for l in text.split("\n")
            if l.strip().startswith("trader-one ") or l.strip().startswith("tester ")]
    tester_first = rows[0].startswith("tester ")
    if not tester_first:
        t.send("j")
    t.send("l")
    t.wait_for("tester locked and wiped", "tester's key locked")
    if tester_first:
        t.send("j")
    else:
        t.send("k")
    t.send("u")
    t.wait_for("(typing is not shown)", "the passphrase prompt")
    t.type(PASS)
    t.send("Enter")
    t.wait_for(lambda s: "unlocked;" in s and "1 unlocked" in s, "the key unlocked")
    save(t, "keys")
    t.check(PASS not in t.history(), "the passphrase never reaches the screen")
    t.send("l")
    t.wait_for(lambda s: "locked and wiped" in s and "0 unlocked" in s, "the key locked")

    # Audit: the key's creation and the unlock are rows; the chain verifies.
    t.send("8")
    t.wait_for(lambda s: "hash chain verified" in s and "tester" in s, "the Audit screen")
    save(t, "audit")

    # A second process on the same desk follows the first one's commits.
    t2 = tmuxh.Tmux("live2", cols=120, rows=40)
    t2.home = t.home
    t2.start_fusion()
    t2.send("7")
    t2.wait_for("followed:", "the second process following the syncing one")
    save(t2, "chains-follower")
    t2.send("2")
    t2.wait_for("2 escrows", "the second process's escrow table")
    third = chain.create_escrow(payer=0, payee=6, approvers=(2,), threshold=1, amount=9)
    e3 = checksum(third)
    t2.wait_for(lambda s: e3[:6] in s and "3 escrows" in s,
                "the follower seeing the new escrow by data_version")
    t2.send("q")
    t2.check(t2.wait_dead() == 0, "the follower exits with status 0")
    t.send("q")
    t.check(t.wait_dead() == 0, "the syncing process exits with status 0")
    # The syncing UI process screened every escrow it synced (automatic screening); the
    # unregistered payees opened cases.
    import sqlite3
    db = sqlite3.connect("file:%s/desk.db?mode=ro" % t.home, uri=True)
    n_escrows = db.execute("SELECT count(*) FROM escrows").fetchone()[0]
    n_screened = db.execute("SELECT count(*) FROM screened_escrows").fetchone()[0]
    n_cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
    db.close()
    t.check(n_escrows == 3 and n_screened == 3 and n_cases >= 3,
            "the UI process screened its escrows (%d escrows, %d screened, %d cases)"
            % (n_escrows, n_screened, n_cases))
    print("ok: live desk on anvil %s, escrows %s %s %s" % (chain.node.url, first, second, third))


def tmuxh_account(i):
    import devchain
    return devchain.ACCOUNTS[i]


if __name__ == "__main__":
    tmuxh.run(main)
