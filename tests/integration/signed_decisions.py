#!/usr/bin/python3
"""signed_decisions.py: every desk decision is an EIP-712 statement signed by its operator's
key, on a real desk through the real binary (no chain needed).

- genesis: alice (key in the desk's key store) signs the desk's genesis and is its admin;
- operator changes need an admin's signature: without it, a self-grant, and removing the
  last admin are refused with nothing written (operators table and audit log unchanged);
- four-eyes: dave proposes closing a high-priority case; `--operator dave` confirming is
  refused (exit 1, one line naming the four-eyes rule); acting as frank without frank's
  passphrase is refused; frank confirms with his own passphrase; `audit verify` passes;
- an independent check: `fusion audit export` writes typed data that Foundry's cast
  verifies against the operator's address (and cast's own signature of it is ours);
- tamper tests, the chain re-hashed each time so only the signatures can tell: a field of a
  decision row edited, two signatures swapped, a decision replayed into another case and
  into another desk: each is named by `audit verify` (the row's seq);
- a desk without a signed genesis refuses every decision (one line naming `operator
  genesis`, nothing written); one from before signatures migrates by its admin signing it.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import FUSION  # noqa

TOOLS = os.environ.get("FUSION_TOOLS") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "bin")
CAST = os.path.join(TOOLS, "cast")
KEYS = {  # raw secrets of the test operators (any valid secp256k1 keys)
    "alice": "11" * 32, "dave": "22" * 32, "frank": "33" * 32, "erin": "44" * 32,
}


class Desk:
    def __init__(self, root, name):
        self.home = os.path.join(root, name)
        self.root = root
        self.addr = {}

    def run(self, *args, op=None, pw=None, check=True):
        argv = [FUSION, "--home", self.home]
        if op:
            argv += ["--operator", op]
        if pw:
            argv += ["--passphrase-file", self.pwfile(pw)]
        r = subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True,
                           timeout=120, env=dict(os.environ, FUSION_KDF="interactive"))
        if check and r.returncode != 0:
            raise AssertionError(f"fusion {args} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def pwfile(self, who):
        p = os.path.join(self.root, f"pw-{who}")
        with open(p, "w") as f:
            f.write(f"passphrase of {who}\n")
        os.chmod(p, 0o600)
        return p

    def import_key(self, who):
        raw = os.path.join(self.root, f"raw-{who}")
        with open(raw, "w") as f:
            f.write(KEYS[who] + "\n")
        os.chmod(raw, 0o600)
        r = self.run("key", "import", "--raw-file", raw, "--label", who,
                     "--new-passphrase-file", self.pwfile(who))
        self.addr[who] = r.stdout.strip().split()[-1]
        return self.addr[who]

    def sql(self, q, *p):
        con = sqlite3.connect(os.path.join(self.home, "desk.db"), timeout=30)
        try:
            rows = con.execute(q, p).fetchall()
            con.commit()
            return rows
        finally:
            con.close()

    def log(self):
        with open(os.path.join(self.home, "audit.log"), "rb") as f:
            return f.read()

    def rows(self):
        return [json.loads(x) for x in self.log().splitlines()]

    def verify(self):
        return self.run("audit", "verify", check=False)


def nothing_written(desk, log_before, ops_before=None):
    """Only the unlock of the key that was asked for (audited as key_unlock) may follow."""
    now = desk.log()
    assert now.startswith(log_before), "rows before the refusal changed"
    added = [json.loads(x)["action"] for x in now[len(log_before):].splitlines()]
    assert all(a == "key_unlock" for a in added), added
    if ops_before is not None:
        assert desk.sql("SELECT name, roles, address FROM operators ORDER BY name") == ops_before


def one_line_fail(r, *words):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def rewrite(desk, rows):
    """Writes rows back as a valid hash chain and moves desk.db's audit head: what the OS
    account that owns the desk home could do. Only the signatures can tell then."""
    out, prev = [], "0" * 64
    for i, r in enumerate(rows):
        r = dict(r)
        r["seq"] = i + 1
        r["prev"] = prev
        r.pop("hash", None)
        body = ("{" + ",".join(json.dumps(k) + ":" + json.dumps(
            r[k], separators=(",", ":"), sort_keys=True, ensure_ascii=True)
            for k in ["seq", "time", "operator", "action", "details", "prev"]))
        h = hashlib.sha256(body.encode()).hexdigest()
        line = body + ',"hash":"' + h + '"}'
        out.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    with open(os.path.join(desk.home, "audit.log"), "w") as f:
        f.write("\n".join(out) + "\n")
    desk.sql("UPDATE audit_head SET seq = ?, hash = ?", len(out), h)


def open_case(desk, cid, subject):
    now = int(time.time())
    desk.sql("INSERT INTO cases (id, subject, chain_id, escrow, priority, score, opened_at, "
             "due_at) VALUES (?, ?, 31337, ?, 1, 90, ?, ?)", cid, subject,
             "0x" + f"{cid:040x}", now, now + 4 * 3600)


def main():
    root = tempfile.mkdtemp(prefix="fusion-signed-")
    os.chmod(root, 0o700)
    try:
        run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("signed decisions: ok")


def run(root):
    d = Desk(root, "desk")
    for who in ("alice", "dave", "frank", "erin"):
        d.import_key(who)
    # ---- genesis: alice's own passphrase makes her the first admin ----
    r = d.run("operator", "genesis", "--key", d.addr["alice"], op="alice", pw="dave",
              check=False)
    assert r.returncode == 1 and "alice" in r.stderr, r.stderr  # wrong passphrase
    assert not os.path.exists(os.path.join(d.home, "audit.log")) or b"desk.genesis" not in d.log()
    d.run("operator", "genesis", "--key", d.addr["alice"], op="alice", pw="alice")
    assert [x["action"] for x in d.rows()][-1] == "desk.genesis"
    # ---- operator changes need an admin's signature ----
    r = d.run("operator", "add", "dave", "--key", d.addr["dave"], "--role", "compliance",
              op="alice", pw="frank", check=False)
    assert r.returncode == 1, r.stderr  # alice's key with someone else's passphrase
    d.run("operator", "add", "dave", "--key", d.addr["dave"], "--role", "compliance",
          op="alice", pw="alice")
    d.run("operator", "add", "frank", "--key", d.addr["frank"], "--role", "compliance",
          op="alice", pw="alice")
    before_log = d.log()
    before_ops = d.sql("SELECT name, roles, address FROM operators ORDER BY name")
    # dave (not an admin) adding an admin: refused, nothing written
    r = d.run("operator", "add", "mallory", "--key", d.addr["erin"], "--role",
              "compliance,admin", op="dave", pw="dave", check=False)
    one_line_fail(r, "admin")
    nothing_written(d, before_log, before_ops)
    # dave granting himself admin: refused (not an admin, and a self-grant)
    r = d.run("operator", "roles", "dave", "--role", "compliance,admin", op="dave", pw="dave",
              check=False)
    one_line_fail(r, "admin")
    # no operator named at all ($USER): refused before anything is written
    r = d.run("operator", "roles", "dave", "--role", "compliance,admin", check=False)
    assert r.returncode == 1, r.stderr
    nothing_written(d, before_log, before_ops)
    # an admin granting roles to themselves: refused
    r = d.run("operator", "roles", "alice", "--role", "admin,compliance,trader", op="alice",
              pw="alice", check=False)
    one_line_fail(r, "themselves")
    # the last admin cannot be removed (nor lose admin): by another admin-to-be, via roles
    d.run("operator", "add", "erin", "--key", d.addr["erin"], "--role", "trader", op="alice",
          pw="alice")
    r = d.run("operator", "remove", "alice", op="alice", pw="alice", check=False)
    one_line_fail(r, "themselves")
    d.run("operator", "roles", "erin", "--role", "trader,admin", op="alice", pw="alice")
    d.run("operator", "roles", "alice", "--role", "compliance", op="erin", pw="erin")
    r = d.run("operator", "roles", "erin", "--role", "trader", op="erin", pw="erin",
              check=False)
    one_line_fail(r, "themselves")
    r = d.run("operator", "remove", "erin", op="alice", pw="alice", check=False)
    one_line_fail(r, "admin")  # alice is no admin now
    before_log = d.log()
    before_ops = d.sql("SELECT name, roles, address FROM operators ORDER BY name")
    r = d.run("operator", "remove", "erin", op="erin", pw="erin", check=False)
    one_line_fail(r)
    nothing_written(d, before_log, before_ops)
    # a key already bound to another operator is refused
    r = d.run("operator", "add", "dave2", "--key", d.addr["dave"], "--role", "trader",
              op="erin", pw="erin", check=False)
    one_line_fail(r, "own key")
    nothing_written(d, before_log, before_ops)

    # configuration decisions need a signing operator too: $USER is none here
    for args in (("chain", "add", "--name", "x", "--chain-id", "7", "--rpc",
                  "http://127.0.0.1:9", "--factory", "0x" + "11" * 20),
                 ("asset", "add-token", "--chain", "x", "--symbol", "T", "--address",
                  "0x" + "22" * 20)):
        r = d.run(*args, check=False)
        one_line_fail(r, "not an operator")
        nothing_written(d, before_log, before_ops)

    # ---- four-eyes: two officers, two keys ----
    open_case(d, 1, "0x" + "ab" * 20)
    open_case(d, 2, "0x" + "cd" * 20)
    d.run("case", "take", 1, op="dave", pw="dave")
    r = d.run("case", "clear", 1, "--note", "counterparty verified", op="dave", pw="dave")
    assert "propos" in r.stdout.lower() or "second" in r.stdout.lower(), r.stdout
    r = d.run("case", "clear", 1, op="dave", pw="dave", check=False)
    one_line_fail(r, "four-eyes")
    # dave playing frank without frank's passphrase: refused, nothing written
    log_before = d.log()
    r = d.run("case", "clear", 1, op="frank", pw="dave", check=False)
    assert r.returncode == 1 and "frank" in r.stderr, r.stderr
    nothing_written(d, log_before)
    assert d.sql("SELECT state FROM cases WHERE id = 1")[0][0] != "closed"
    d.run("case", "clear", 1, op="frank", pw="frank")
    assert d.sql("SELECT state, outcome, closed_by FROM cases WHERE id = 1")[0] == \
        ("closed", "cleared", "frank")
    d.run("case", "take", 2, op="dave", pw="dave")
    d.run("case", "note", 2, "looking into it", op="dave", pw="dave")
    # the sanctions decision: an EIP-712 statement of dave's, checked at every rules load
    r = d.run("case", "rules", "--sanctions", "off", "--reason", "desk list only, approved",
              op="dave", pw="dave")
    assert "decision of dave" in r.stdout, r.stdout
    rec = json.loads(d.sql("SELECT value FROM risk_settings WHERE key = "
                           "'compliance.sanctions_decision'")[0][0])
    assert rec["salt"] != "0x" + "00" * 32 and "message" not in rec, rec
    assert "SANCTIONS SCREENING IS OFF" not in d.run("case", "rules").stdout  # still on
    assert "decision of dave" in d.run("case", "rules").stdout
    conf = os.path.join(d.home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("sanctions.enabled = no\n")
    os.chmod(conf, 0o600)
    d.run("config", "sign", "compliance", op="dave", pw="dave")  # the rules file: dave's too
    assert "SANCTIONS SCREENING IS OFF" in d.run("case", "rules").stdout
    forged = dict(rec, reason="someone else's reason")
    d.sql("UPDATE risk_settings SET value = ? WHERE key = 'compliance.sanctions_decision'",
          json.dumps(forged))
    r = d.run("case", "rules", check=False)
    assert r.returncode == 1 and "does not verify" in r.stderr, (r.stdout, r.stderr)
    d.sql("UPDATE risk_settings SET value = ? WHERE key = 'compliance.sanctions_decision'",
          json.dumps(rec))
    assert "SANCTIONS SCREENING IS OFF" in d.run("case", "rules").stdout
    os.unlink(conf)
    d.run("config", "sign", "compliance", op="dave", pw="dave")  # its removal
    r = d.verify()
    assert r.returncode == 0, r.stderr
    assert "signatures ok" in r.stdout, r.stdout

    # ---- an independent check with cast ----
    out = os.path.join(root, "export")
    d.run("audit", "export", "--out", out)
    idx = [json.loads(x) for x in open(os.path.join(out, "statements.jsonl"))]
    confirm = [x for x in idx if x["action"] == "case.clear"]
    assert confirm and confirm[0]["operator"] == "frank", idx
    for x in idx:
        td = os.path.join(out, x["typed_data"])
        r = subprocess.run([CAST, "wallet", "verify", "--data", "--from-file", td, "--address",
                            d.addr[x["operator"]], x["signature"]], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, (x, r.stdout, r.stderr)
    # and not against another operator's address
    x = confirm[0]
    r = subprocess.run([CAST, "wallet", "verify", "--data", "--from-file",
                        os.path.join(out, x["typed_data"]), "--address", d.addr["dave"],
                        x["signature"]], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0, r.stdout
    # cast signing the same typed data with frank's key gives our signature (RFC 6979)
    r = subprocess.run([CAST, "wallet", "sign", "--data", "--from-file",
                        os.path.join(out, x["typed_data"]), "--private-key",
                        "0x" + KEYS["frank"]], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == x["signature"], (r.stdout, x)
    r = subprocess.run(["sh", os.path.join(out, "verify.sh")], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, PATH=TOOLS + ":" + os.environ["PATH"]))
    assert r.returncode == 0, r.stderr

    # ---- tampering, with the chain re-hashed each time ----
    good = d.rows()
    seq_of = {x["action"]: x["seq"] for x in good}
    clear_seq, note_seq = seq_of["case.clear"], seq_of["case.note"]

    def expect_bad(rows, seq, what):
        rewrite(d, rows)
        r = d.verify()
        assert r.returncode == 1, (what, r.stdout)
        assert f"row seq {seq} " in r.stderr, (what, r.stderr)
        rewrite(d, good)
        assert d.verify().returncode == 0, what

    # 1. a field of a decision row edited (the note of the proposal, then the outcome)
    rows = [dict(x) for x in good]
    i = next(k for k, x in enumerate(rows) if x["action"] == "case.propose")
    rows[i] = json.loads(json.dumps(rows[i]))
    rows[i]["details"]["note"] = "counterparty NOT verified"
    expect_bad(rows, rows[i]["seq"], "edited note")
    rows = json.loads(json.dumps(good))
    rows[clear_seq - 1]["details"]["after"] = rows[clear_seq - 1]["details"]["after"].replace(
        "cleared", "blocked")
    expect_bad(rows, clear_seq, "edited outcome")
    # the row's own time moved (a decision back-dated)
    rows = json.loads(json.dumps(good))
    rows[note_seq - 1]["time"] = "2020-01-01T00:00:00.000Z"
    expect_bad(rows, note_seq, "time moved")
    # the operator named in the row changed to another officer
    rows = json.loads(json.dumps(good))
    rows[note_seq - 1]["operator"] = "frank"
    expect_bad(rows, note_seq, "operator swapped")
    # 2. two signatures swapped
    rows = json.loads(json.dumps(good))
    a, b = rows[clear_seq - 1]["details"]["_sig"], rows[note_seq - 1]["details"]["_sig"]
    rows[clear_seq - 1]["details"]["_sig"], rows[note_seq - 1]["details"]["_sig"] = b, a
    expect_bad(rows, min(clear_seq, note_seq), "signatures swapped")
    # 3. replayed into another case: the note on case 2 moved to case 1 (subject kept)
    rows = json.loads(json.dumps(good))
    rows[note_seq - 1]["details"]["case"] = 1
    expect_bad(rows, note_seq, "another case")
    rows = json.loads(json.dumps(good))
    rows[note_seq - 1]["details"]["case"] = 1
    rows[note_seq - 1]["details"]["_sig"]["subject"] = "case:1"
    expect_bad(rows, note_seq, "another case, subject too")
    # replayed as a later row of the same desk (a copy appended)
    rows = json.loads(json.dumps(good)) + [json.loads(json.dumps(good[note_seq - 1]))]
    expect_bad(rows, len(good) + 1, "replayed row")
    # 4. replayed into another desk: same operators, same keys, another desk id
    e = Desk(root, "other")
    for who in ("alice", "dave"):
        e.import_key(who)
    e.run("operator", "genesis", "--key", e.addr["alice"], op="alice", pw="alice")
    e.run("operator", "add", "dave", "--key", e.addr["dave"], "--role", "compliance",
          op="alice", pw="alice")
    assert e.verify().returncode == 0
    theirs = e.rows() + [json.loads(json.dumps(good[note_seq - 1]))]
    rewrite(e, theirs)
    r = e.verify()
    assert r.returncode == 1 and f"row seq {len(theirs)} " in r.stderr, r.stderr
    # the whole log of one desk under another desk's desk.db: the genesis is named
    shutil.copy(os.path.join(d.home, "audit.log"), os.path.join(e.home, "audit.log"))
    last = d.rows()[-1]
    e.sql("UPDATE audit_head SET seq = ?, hash = ?", last["seq"], last["hash"])
    r = e.verify()
    assert r.returncode == 1 and "genesis" in r.stderr, r.stderr
    # finally the untouched desk verifies
    rewrite(d, good)
    assert d.verify().returncode == 0

    # ---- roles as the signed log defines them, not as desk.db says ----
    # erin (trader, admin) is given the compliance role by editing desk.db, not by an admin's
    # signed decision: the desk lets her take a case, `audit verify` names the row
    open_case(d, 3, "0x" + "ef" * 20)
    d.sql("UPDATE operators SET roles = 'trader,admin,compliance' WHERE name = 'erin'")
    d.run("case", "take", 3, op="erin", pw="erin")
    r = d.verify()
    seq = d.rows()[-1]["seq"]
    assert r.returncode == 1 and f"row seq {seq} " in r.stderr and "compliance role" in \
        r.stderr, r.stderr

    # ---- a desk without a signed genesis records no decision at all ----
    # (it used to record them unsigned: then anyone with the shell could act as anyone)
    m = Desk(root, "legacy")
    for who in ("dave", "frank"):
        m.import_key(who)
    r = m.run("operator", "list")  # read-only: allowed, and it says how a desk starts
    assert "operator genesis --key ADDRESS" in r.stdout, r.stdout
    open_case(m, 1, "0x" + "ab" * 20)
    before = m.log()
    for args, op, pw in ((("operator", "add", "dave", "--key", m.addr["dave"], "--role",
                           "compliance"), "frank", "frank"),
                         (("case", "take", 1), "dave", None),
                         (("case", "take", 1), "dave", "dave"),
                         (("entity", "add", "Acme", "--type", "company", "--jurisdiction", "DE"), "frank",
                          None),
                         (("chain", "add", "--name", "x", "--chain-id", 5, "--rpc",
                           "http://127.0.0.1:1", "--factory", "0x" + "12" * 20), None, None)):
        r = m.run(*args, op=op, pw=pw, check=False)
        line = one_line_fail(r, "this desk has no signed genesis: an admin signs it with "
                             "`fusion --operator NAME operator genesis --key ADDRESS`")
        assert len(line) < 160, line
    nothing_written(m, before, [])
    assert m.sql("SELECT state, assignee FROM cases WHERE id = 1") == [("new", None)]
    assert m.sql("SELECT count(*) FROM chains") == [(0,)]

    # ---- a desk from before signatures migrates: an operator signs its genesis ----
    # What an earlier version left on such a desk: operators and unsigned decisions (made
    # here as it wrote them: the operators table and a re-hashed log of its rows).
    stored = d.sql("SELECT address FROM operators WHERE name = 'alice'")[0][0]
    fmt = (lambda a: a) if stored == d.addr["alice"] else (lambda a: a.lower())
    now = int(time.time())
    t = m.rows()[-1]["time"]
    legacy = []
    for name, roles in (("dave", "compliance"), ("frank", "compliance,admin")):
        m.sql("INSERT INTO operators (name, address, roles, created_at) VALUES (?, ?, ?, ?)",
              name, fmt(m.addr[name]), roles, now)
        legacy.append({"time": t, "operator": "unknown", "action": "operator.add",
                       "details": {"name": name, "key": m.addr[name], "roles": roles}})
    m.sql("UPDATE cases SET state = 'assigned', assignee = 'dave' WHERE id = 1")
    legacy.append({"time": t, "operator": "dave", "action": "case.take",
                   "details": {"case": 1, "before": "state=new", "after": "state=assigned"}})
    rewrite(m, m.rows() + legacy)
    r = m.verify()
    assert r.returncode == 0 and "no signed genesis" in r.stdout, r.stdout
    # frank is the desk's admin: dave may not sign the genesis, frank does
    r = m.run("operator", "genesis", op="dave", pw="dave", check=False)
    one_line_fail(r, "not an admin")
    m.run("operator", "genesis", op="frank", pw="frank")
    r = m.verify()
    assert r.returncode == 0 and "signatures ok" in r.stdout, r.stdout
    assert "3 recorded before signatures" in r.stdout, r.stdout  # 2 operator.add, 1 take
    # from now on dave's decisions need dave's key
    r = m.run("case", "note", 1, "checked", op="dave", check=False)
    assert r.returncode == 1, r.stderr
    m.run("case", "note", 1, "checked", op="dave", pw="dave")
    assert m.verify().returncode == 0


if __name__ == "__main__":
    main()
