"""Entities screen on a desk with a real anvil chain: entities added with the CLI (one with
a CJK name, a document and a related party, linked on the chain), a sanctions case opened
by screening an escrow created with cast. In tmux: screen 5 lists them with type,
jurisdiction, KYC, expiry, tier, risk and the linked-address count; `/` filters; `s` sorts
by risk; Enter opens the detail with the addresses per chain, the document's hash, the
related party and the open case. Expected values come from the CLI's JSON, not the UI."""
import datetime
import hashlib
import json
import os
import re
import sqlite3
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import SANCTIONED, create, devchain, fusion, on_anvil  # noqa: E402

PAYEE = "Payee 有限公司"
OFFICER = ("--operator", "officer")  # entities are written by a compliance officer


def main():
    on_anvil(run)


def run(chain):
    A = devchain.ACCOUNTS
    t = tmuxh.Tmux("entities", cols=120, rows=40)
    home = t.home
    os.makedirs(home, mode=0o700)
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc",
           chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    fusion(home, "operator", "add", "officer", "--key", A[9], "--role", "compliance")
    fusion(home, *OFFICER, "entity", "add", "Payer AG", "--type", "company", "--jurisdiction", "CH",
           "--kyc", "verified", "--kyc-expires", "2099-12-31", "--tier", "2", "--risk", "low")
    fusion(home, *OFFICER, "entity", "link", "Payer AG", "--chain", "local", "--address", A[0])
    fusion(home, *OFFICER, "entity", "link", "Payer AG", "--chain", "any", "--address", A[8])
    scan = os.path.join(t.tmp, "register.pdf")
    with open(scan, "wb") as f:
        f.write(b"certificate of incorporation\n")
    digest = hashlib.sha256(b"certificate of incorporation\n").hexdigest()
    fusion(home, *OFFICER, "entity", "add", "Jane Director", "--type", "individual",
           "--jurisdiction", "GB", "--kyc", "pending")
    fusion(home, *OFFICER, "entity", "add", PAYEE, "--type", "company", "--jurisdiction", "HK",
           "--kyc", "verified", "--kyc-expires", "2027-03-31", "--tier", "4", "--risk", "high",
           "--doc", "registry:" + scan, "--party", "Jane Director:director")
    fusion(home, *OFFICER, "entity", "link", PAYEE, "--chain", "local", "--address", SANCTIONED)
    escrow = create(chain, SANCTIONED)
    fusion(home, "sync", "--once")
    fusion(home, "case", "screen")
    cases = json.loads(fusion(home, "case", "list", "--json"))
    t.check(len(cases) == 1 and cases[0]["escrow"].lower() == escrow.lower(), "setup: %r" % cases)
    cid = cases[0]["id"]
    # Jane's review is due in 10 days: a case about that date, not an escrow
    soon = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    fusion(home, *OFFICER, "entity", "edit", "Jane Director", "--review-due", soon)
    fusion(home, "case", "screen")

    t.start("%s --home %s --operator nobody" % (tmuxh.FUSION_BIN, home))
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("5")
    # A whole frame: tmux can be captured while the table is half painted (seen under
    # ASan: the payee row cut after its jurisdiction), so wait for its last column too.
    row_re = re.compile(r"company\s+HK\s+verified\s+2027-03-31\s+4\s+high\s+-\s+1\s*$")

    def whole_table(s):
        rows = [l for l in s.split("\n") if PAYEE in l]
        payer = [l for l in s.split("\n") if "Payer AG" in l]
        return ("3 entities" in s and rows and row_re.search(rows[0].rstrip()) and payer and
                re.search(r"\s2\s*$", payer[0].rstrip()))

    text = t.wait_for(whole_table, "the entity table, painted whole")
    row = [l for l in text.split("\n") if PAYEE in l][0]
    t.check(re.search(r"company\s+HK\s+verified\s+2027-03-31\s+4\s+high\s+-\s+1\s*$", row.rstrip())
            is not None, "the payee row: %r" % row)
    row = [l for l in text.split("\n") if "Payer AG" in l][0]
    t.check(re.search(r"\s2\s*$", row.rstrip()) is not None, "Payer AG has 2 addresses: %r" % row)
    # The CJK name takes two columns per character: the columns after it still line up.
    lines = text.split("\n")
    hdr = [l for l in lines if "Jurisdiction" in l][0]
    prow = [l for l in lines if PAYEE in l][0]
    t.check(tmuxh.display_width(prow[:prow.index(" HK ") + 1]) == hdr.index("Jurisdiction"),
            "the jurisdiction column is aligned after the CJK name:\n%s\n%s" % (hdr, prow))

    t.send("/")
    t.type("jane")
    t.send("Enter")
    text = t.wait_for(lambda s: "1 matching /jane" in s, "the filter")
    body = text.split("\n")[5:t.rows - 2]
    t.check(any("Jane Director" in l for l in body) and
            not any(PAYEE in l or "Payer AG" in l for l in body), "the filter keeps only Jane")
    t.send("Escape")
    t.wait_for(lambda s: "3 entities" in s and "matching" not in s, "the filter cleared")
    t.send("s")
    text = t.wait_for("by risk (high first)", "sorted by risk")
    body = text.split("\n")
    first = body[5]  # title, tabs, heading, rule, column headers, then the rows
    t.check(PAYEE in first, "the high-risk entity comes first: %r" % first)
    t.check("Risk \u25bc" in body[4], "the Risk header marked descending: %r" % body[4])
    t.send("S")  # reversed: the low-risk entity first, the header says ascending
    text = t.wait_for(lambda s: "reversed" in s and "Risk \u25b2" in s.split("\n")[4],
                      "the order reversed")
    t.check("Payer AG" in text.split("\n")[5], "low risk first: %r" % text.split("\n")[5])
    t.send("S")
    t.wait_for(lambda s: "Risk \u25bc" in s.split("\n")[4] and PAYEE in s.split("\n")[5],
               "high risk first again")

    t.send("Enter")
    text = t.wait_for(lambda s: "ADDRESSES" in s and "OPEN CASES" in s, "the detail pane")
    tmuxh.save_capture(t, "entities-detail")
    t.check(re.search(r"local\s+%s" % SANCTIONED, text) is not None, "the linked address")
    t.check(("sha256 %s" % digest[:16]) in text and "registry" in text, "the document's hash")
    t.check(re.search(r"director\s+Jane Director", text) is not None, "the related party")
    t.check(re.search(r"#%d\s+high\s+new\s+escrow %s" % (cid, re.escape(escrow)), text, re.I)
            is not None, "the open case")
    t.send("q")  # q closes the detail pane first (like Esc), then quits
    t.wait_for(lambda s: "ADDRESSES" not in s, "q closed the detail pane")
    t.send("/")
    t.type("jane")
    t.send("Enter")
    t.wait_for(lambda s: "1 matching /jane" in s, "the filter on Jane")
    t.send("Enter")
    text = t.wait_for(lambda s: "OPEN CASES" in s and "Jane Director" in s and "KYC" in s,
                      "Jane's detail pane")
    t.check(re.search(r"#\d+\s+\w+\s+new\s+KYC review %s" % soon, text) is not None
            and "0x02" not in text, "Jane's case is about her review date:\n%s" % text)
    t.send("q")
    t.wait_for(lambda s: "OPEN CASES" not in s, "q closed the detail pane")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    print("ok: entities table, filter, sort and detail")
    legacy_names(t, home)


def legacy_names(t, home):
    """Names stored before control and bidi characters were refused (written into desk.db
    directly, as an older binary could have) are drawn with those characters as '?': the
    terminal is not retitled and the reading order is not reversed."""
    now = int(time.time())
    con = sqlite3.connect(os.path.join(home, "desk.db"))
    for name in ("Evil\x1b]0;pwned\x07 Corp", "Alice \u202ecod.exe"):
        con.execute("INSERT INTO entities (name, type, jurisdiction, created_at, updated_at) "
                    "VALUES (?, 'company', 'CH', ?, ?)", (name, now, now))
    con.commit()
    con.close()
    t.tmux("kill-session", "-t", "t")
    t.start("%s --home %s --operator nobody" % (tmuxh.FUSION_BIN, home))
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("5")
    text = t.wait_for(lambda s: "5 entities" in s, "the entity table with the stored names")
    t.check("\u202e" not in text, "no bidi override reaches the terminal: %r" % text)
    t.check("Alice ?cod.exe" in text, "the override drawn as '?': %r" % text)
    t.check("Evil?]0;pwned? Corp" in text, "ESC and BEL drawn as '?': %r" % text)
    t.check("pwned" not in t.fmt("#{pane_title}"), "the pane title is untouched")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    print("ok: stored names with control and bidi characters drawn as '?'")


if __name__ == "__main__":
    tmuxh.run(main)
