#!/usr/bin/python3
"""signed_config.py: the rest of the desk's decisions as signed statements, on a real desk
through the real binary (no chain needed).

- the configuration files (policy.conf, risk-limits.csv, compliance.conf) are decisions:
  on a signed desk an unsigned or changed file is refused by what loads it (one line naming
  the file and `fusion config sign KIND`); `config sign` is refused without the file's role
  (admin; compliance for the rules), without the operator's passphrase and for a file that
  does not parse, each with nothing written; once signed the desk acts on it, `audit
  verify` checks the signature and names a row whose recorded content was edited;
- every kind of decision (case, entity and KYC, operator, alert ack, risk set-drawn, chain
  and asset configuration, entity import, configuration, the sanctions switch) attempted
  on a signed desk without the operator's passphrase, or with a wrong one, is refused and
  writes nothing (audit log and desk.db);
- a desk from before signatures: `audit list` marks its earlier decisions as recorded
  before signatures and `audit verify` says how many there are;
- desk.db deleted and rebuilt: `audit adopt` restores the desk id from the signed genesis,
  the operators and the configuration records from the signed log, so `audit verify`
  keeps checking signatures and decisions are refused or accepted as before;
- a log with a forged (unsigned) configuration row: `audit adopt` refuses it and leaves no
  configuration record of it in desk.db, so the desk does not act on the forged file.
"""
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from signed_decisions import Desk, nothing_written, one_line_fail, open_case, rewrite  # noqa


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def db_dump(desk):
    """desk.db's content but the audit head (a refused unlock is audited and moves it)."""
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    try:
        return [x for x in con.iterdump() if "audit_head" not in x]
    finally:
        con.close()


def set_up(root, name="desk"):
    d = Desk(root, name)
    for who in ("alice", "dave", "frank", "erin"):
        d.import_key(who)
    d.run("operator", "genesis", "--key", d.addr["alice"], op="alice", pw="alice")
    d.run("operator", "add", "dave", "--key", d.addr["dave"], "--role", "compliance",
          op="alice", pw="alice")
    d.run("operator", "add", "frank", "--key", d.addr["frank"], "--role", "compliance,trader",
          op="alice", pw="alice")
    return d


def config_files(root):
    d = set_up(root)
    # ---- the signing policy: the desk writes the shipped default, which needs no signature
    d.run("tx", "check", op="alice", pw="alice")
    policy = os.path.join(d.home, "policy.conf")
    assert os.path.exists(policy)
    st = d.run("config", "status").stdout
    assert "policy.conf" in st and "default" in st, st
    with open(policy) as f:
        default = f.read()
    write(policy, default + "# stricter: reviewed by the risk committee\n")
    r = d.run("tx", "check", op="alice", pw="alice", check=False)
    one_line_fail(r, "policy.conf is not signed", "config sign policy")
    # dave (compliance) may not sign the policy; nothing written
    before = d.log()
    r = d.run("config", "sign", "policy", op="dave", pw="dave", check=False)
    one_line_fail(r, "admin role", "nothing recorded")
    nothing_written(d, before)
    # alice without her passphrase, then with frank's: refused, nothing written
    r = d.run("config", "sign", "policy", op="alice", check=False)
    assert r.returncode == 1, r.stderr
    r = d.run("config", "sign", "policy", op="alice", pw="frank", check=False)
    assert r.returncode == 1, r.stderr
    nothing_written(d, before)
    assert not d.sql("SELECT name FROM sqlite_master WHERE name = 'audit_config'") or \
        not d.sql("SELECT * FROM audit_config")
    # a policy that does not parse is not signed (from --file), nothing written
    bad = os.path.join(d.root, "bad.policy")
    write(bad, "this is not a policy line\n")
    r = d.run("config", "sign", "policy", "--file", bad, op="alice", pw="alice", check=False)
    assert r.returncode == 1 and "bad.policy" in r.stderr, r.stderr
    nothing_written(d, before)
    r = d.run("config", "sign", "policy", op="alice", pw="alice")
    assert "signed policy.conf" in r.stdout, r.stdout
    row = d.rows()[-1]
    assert row["action"] == "config.policy" and row["operator"] == "alice", row
    assert row["details"]["content"].endswith("risk committee\n"), row
    assert row["details"]["_sig"]["subject"] == "config:policy.conf", row
    d.run("tx", "check", op="alice", pw="alice")  # the desk acts on it now
    assert "signed" in d.run("config", "status").stdout
    # edited afterwards: refused again, naming the row that signed it
    write(policy, default + "# loosened by someone with the shell\n")
    r = d.run("tx", "check", op="alice", pw="alice", check=False)
    one_line_fail(r, "policy.conf has changed since it was signed", f"audit row {row['seq']}",
                  "config sign policy")
    # a new version from a file: validated, signed, installed
    good = os.path.join(d.root, "good.policy")
    write(good, default + "# v2\n")
    d.run("config", "sign", "policy", "--file", good, op="alice", pw="alice")
    with open(policy) as f:
        assert f.read().endswith("# v2\n")
    d.run("tx", "check", op="alice", pw="alice")
    # a signed policy that goes missing is not replaced by the default
    os.unlink(policy)
    r = d.run("tx", "check", op="alice", pw="alice", check=False)
    one_line_fail(r, "policy.conf was signed", "is missing", "config sign policy")
    assert not os.path.exists(policy)
    # the signed content given again with --file: nothing recorded, the file put back
    n_rows = len(d.rows())
    r = d.run("config", "sign", "policy", "--file", good, op="alice", pw="alice")
    assert "nothing recorded" in r.stdout and "installed" in r.stdout, r.stdout
    assert not [x for x in d.rows()[n_rows:] if x["action"].startswith("config.")]
    d.run("tx", "check", op="alice", pw="alice")
    # usage errors
    for args in (("config", "sign", "nonsense"), ("config", "sign"), ("config", "frob")):
        assert d.run(*args, op="alice", pw="alice", check=False).returncode == 2, args

    # ---- the desk's risk limits: the admin's decision
    limits = os.path.join(d.home, "risk-limits.csv")
    write(limits, "limit,value\nvar_1d_usd,1000000\n")
    r = d.run("risk", "report", check=False)
    one_line_fail(r, "risk-limits.csv is not signed", "config sign risk-limits")
    r = d.run("config", "sign", "risk-limits", op="dave", pw="dave", check=False)
    one_line_fail(r, "admin role")
    write(limits, "limit,value\nvar_99_usd,1000000\n")  # no such limit: not signed
    r = d.run("config", "sign", "risk-limits", op="alice", pw="alice", check=False)
    assert r.returncode == 1 and "var_99_usd" in r.stderr, r.stderr
    write(limits, "limit,value\nvar_1d_usd,1000000\n")
    d.run("config", "sign", "risk-limits", op="alice", pw="alice")
    d.run("risk", "report")
    write(limits, "limit,value\nvar_1d_usd,99000000\n")
    r = d.run("risk", "report", check=False)
    one_line_fail(r, "risk-limits.csv has changed since it was signed")
    write(limits, "limit,value\nvar_1d_usd,1000000\n")

    # ---- the compliance rules: an officer's decision (alice is admin, not compliance)
    conf = os.path.join(d.home, "compliance.conf")
    write(conf, "sla.low_hours = 100\n")
    r = d.run("case", "rules", check=False)
    one_line_fail(r, "compliance.conf is not signed", "config sign compliance")
    r = d.run("case", "screen", check=False)
    one_line_fail(r, "compliance.conf is not signed")
    r = d.run("config", "sign", "compliance", op="alice", pw="alice", check=False)
    one_line_fail(r, "compliance role")
    d.run("config", "sign", "compliance", op="dave", pw="dave")
    assert "sla.low_hours = 100" in d.run("case", "rules").stdout
    # a rules file given with --config is held to the signed one too
    other = os.path.join(d.root, "other.conf")
    write(other, "sla.low_hours = 1000\n")
    r = d.run("case", "screen", "--config", other, check=False)
    one_line_fail(r, "compliance.conf")
    # removed: refused until its removal is signed
    os.unlink(conf)
    r = d.run("case", "rules", check=False)
    one_line_fail(r, "compliance.conf was signed", "is missing")
    d.run("config", "sign", "compliance", op="dave", pw="dave")
    assert "sla.low_hours = 72" in d.run("case", "rules").stdout
    write(conf, "sla.low_hours = 100\n")
    d.run("config", "sign", "compliance", op="frank", pw="frank")

    # ---- verification: signatures of the configuration rows; an edited content is named
    r = d.verify()
    assert r.returncode == 0 and "signatures ok" in r.stdout, (r.stdout, r.stderr)
    good_rows = d.rows()
    i = next(k for k, x in enumerate(good_rows) if x["action"] == "config.risk_limits")
    rows = json.loads(json.dumps(good_rows))
    rows[i]["details"]["content"] = "limit,value\nvar_1d_usd,99000000\n"
    rewrite(d, rows)
    r = d.verify()
    assert r.returncode == 1 and f"row seq {rows[i]['seq']} " in r.stderr, r.stderr
    rows = json.loads(json.dumps(good_rows))
    rows[i]["operator"] = "dave"  # claimed by someone else (without the admin role anyway)
    rewrite(d, rows)
    r = d.verify()
    assert r.returncode == 1 and f"row seq {rows[i]['seq']} " in r.stderr, r.stderr
    rewrite(d, good_rows)
    assert d.verify().returncode == 0
    # desk.db's record made to match a changed file: the desk loads it, audit verify says so
    write(limits, "limit,value\nvar_1d_usd,99000000\n")
    import hashlib
    with open(limits, "rb") as f:
        forged = hashlib.sha256(f.read()).hexdigest()
    (orig,) = d.sql("SELECT sha256 FROM audit_config WHERE file = 'risk-limits.csv'")[0]
    d.sql("UPDATE audit_config SET sha256 = ? WHERE file = 'risk-limits.csv'", forged)
    d.run("risk", "report")
    r = d.verify()
    one_line_fail(r, "risk-limits.csv", "desk.db was edited")
    d.sql("DELETE FROM audit_config WHERE file = 'risk-limits.csv'")
    one_line_fail(d.verify(), "desk.db was edited")
    d.sql("INSERT INTO audit_config (file, sha256, seq, operator) VALUES "
          "('risk-limits.csv', ?, ?, 'alice')", orig, good_rows[i]["seq"])
    write(limits, "limit,value\nvar_1d_usd,1000000\n")
    d.run("risk", "report")
    assert d.verify().returncode == 0
    return d


def every_decision_needs_the_key(root):
    d = set_up(root, "keys")
    open_case(d, 1, "0x" + "ab" * 20)
    d.run("entity", "add", "Acme", "--type", "company", "--jurisdiction", "DE", op="dave",
          pw="dave")
    now = int(time.time())
    # a configured chain (as `chain add` leaves it; its node need not run for these refusals)
    d.sql("INSERT INTO chains (chain_id, name, created_at) VALUES (7, 'x', ?)", now)
    d.sql("INSERT INTO rpc_endpoints (chain_id, url) VALUES (7, 'http://127.0.0.1:9')")
    d.sql("INSERT INTO risk_alerts (key, kind, severity, message, raised_at, updated_at) "
          "VALUES ('var_limit', 'var_limit', 'warning', 'VaR over limit', ?, ?)", now, now)
    alert = d.sql("SELECT id FROM risk_alerts")[0][0]
    csv = os.path.join(d.root, "entities.csv")
    write(csv, "name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"
          "Good One,company,GB,verified,2031-01-01,1,low,,,\n")
    write(os.path.join(d.home, "compliance.conf"), "sla.low_hours = 100\n")
    attempts = [
        ("dave", ("case", "take", 1)),
        ("dave", ("case", "note", 1, "looked")),
        ("dave", ("case", "snooze", 1, "2031-01-01")),
        ("dave", ("case", "escalate", 1)),
        ("dave", ("case", "clear", 1)),
        ("dave", ("case", "block", 1)),
        ("dave", ("case", "report", 1)),
        ("dave", ("case", "next",)),
        ("dave", ("case", "rules", "--sanctions", "off", "--reason", "no lists")),
        ("dave", ("entity", "add", "Other", "--type", "company", "--jurisdiction", "FR")),
        ("dave", ("entity", "edit", "Acme", "--kyc", "verified")),  # a KYC change
        ("dave", ("entity", "edit", "Acme", "--jurisdiction", "AT")),
        ("dave", ("entity", "link", "Acme", "--chain", 7, "--address", "0x" + "cd" * 20)),
        ("dave", ("entity", "import", csv)),
        ("dave", ("config", "sign", "compliance")),
        ("alice", ("operator", "add", "erin", "--key", d.addr["erin"], "--role", "trader")),
        ("alice", ("operator", "roles", "frank", "--role", "trader")),
        ("alice", ("operator", "remove", "frank")),
        ("alice", ("alerts", "ack", alert)),
        ("alice", ("risk", "set-drawn", 1000)),
        ("alice", ("chain", "add", "--name", "y", "--chain-id", 8, "--rpc",
                   "http://127.0.0.1:9", "--factory", "0x" + "22" * 20)),
        ("alice", ("chain", "add-factory", "x", "--factory", "0x" + "33" * 20)),
        ("alice", ("chain", "remove", "x")),
        ("alice", ("asset", "add-token", "--chain", "x", "--symbol", "T", "--address",
                   "0x" + "44" * 20)),
        ("alice", ("asset", "add-feed", "--chain", "x", "--asset", "ETH", "--address",
                   "0x" + "55" * 20)),
        ("alice", ("config", "sign", "risk-limits")),
        ("alice", ("config", "sign", "policy")),
    ]
    write(os.path.join(d.home, "risk-limits.csv"), "limit,value\nvar_1d_usd,1000000\n")
    write(os.path.join(d.home, "policy.conf"), "# nothing allowed\n")
    for who, args in attempts:
        for pw in (None, "erin"):  # no passphrase (no terminal), another's passphrase
            log_before, db_before = d.log(), db_dump(d)
            r = d.run(*args, op=who, pw=pw, check=False)
            assert r.returncode == 1, (args, pw, r.returncode, r.stdout, r.stderr)
            assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
            assert who in r.stderr or "passphrase" in r.stderr or "terminal" in r.stderr, \
                (args, r.stderr)
            nothing_written(d, log_before)
            assert db_dump(d) == db_before, (args, pw)
    # with the passphrase each kind is recorded and verifies (a few, as a control)
    d.run("entity", "edit", "Acme", "--kyc", "verified", op="dave", pw="dave")
    d.run("alerts", "ack", alert, op="alice", pw="alice")
    d.run("risk", "set-drawn", 1000, op="alice", pw="alice")
    acts = [x["action"] for x in d.rows()]
    assert "alert.ack" in acts and "risk.set_drawn" in acts, acts
    assert d.verify().returncode == 0


def before_signatures(root):
    """A desk from before signatures: its decisions were recorded unsigned. Made here as an
    earlier version left it (operators and a re-hashed log of unsigned rows)."""
    m = Desk(root, "legacy")
    for who in ("dave", "frank"):
        m.import_key(who)
    m.run("operator", "list")  # creates desk.db
    now = int(time.time())
    t = m.rows()[-1]["time"] if os.path.exists(os.path.join(m.home, "audit.log")) and \
        m.log() else time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    legacy = []
    stored_fmt = str.lower
    for name, roles in (("dave", "compliance"), ("frank", "compliance,admin")):
        m.sql("INSERT INTO operators (name, address, roles, created_at) VALUES (?, ?, ?, ?)",
              name, stored_fmt(m.addr[name]), roles, now)
        legacy.append({"time": t, "operator": "unknown", "action": "operator.add",
                       "details": {"name": name, "key": m.addr[name], "roles": roles}})
    rows = m.rows() if os.path.exists(os.path.join(m.home, "audit.log")) else []
    rewrite(m, rows + legacy)
    n_before = len(rows + legacy)
    m.run("operator", "genesis", op="frank", pw="frank")
    r = m.verify()
    assert r.returncode == 0 and "2 recorded before signatures" in r.stdout, r.stdout
    assert "before the genesis row" in r.stdout, r.stdout
    listed = m.run("audit", "list").stdout.splitlines()
    marked = [x for x in listed if "[recorded before signatures]" in x]
    assert len(marked) == 2 and all("operator.add" in x for x in marked), listed
    assert not any("[recorded before" in x for x in listed[n_before:]), listed
    js = json.loads(m.run("audit", "list", "--json").stdout)
    assert [x["seq"] for x in js if x.get("recorded_before_signatures")] == \
        [x["seq"] for x in js[:n_before] if x["action"] == "operator.add"], js


def rebuilt_desk_db(root, d):
    """desk.db deleted: `audit adopt` brings the signed state back from the log."""
    for suffix in ("", "-wal", "-shm"):
        p = os.path.join(d.home, "desk.db" + suffix)
        if os.path.exists(p):
            os.unlink(p)
    r = d.run("audit", "adopt", op="alice")
    assert "restored" in r.stdout, r.stdout
    r = d.verify()
    assert r.returncode == 0 and "signatures ok" in r.stdout, (r.stdout, r.stderr)
    ops = d.sql("SELECT name, roles FROM operators ORDER BY name")
    assert ops == [("alice", "admin"), ("dave", "compliance"), ("frank", "trader,compliance")] \
        or ops == [("alice", "admin"), ("dave", "compliance"), ("frank", "compliance,trader")], ops
    # the signed configuration holds as before: the signed files are accepted...
    d.run("tx", "check", op="alice", pw="alice")
    d.run("risk", "report")
    d.run("case", "rules")
    # ... a changed one refused
    limits = os.path.join(d.home, "risk-limits.csv")
    with open(limits) as f:
        signed = f.read()
    write(limits, "limit,value\nvar_1d_usd,99000000\n")
    r = d.run("risk", "report", check=False)
    one_line_fail(r, "risk-limits.csv has changed since it was signed")
    write(limits, signed)
    # decisions: with the key accepted and signed, without it refused; dave is no admin
    open_case(d, 1, "0x" + "ab" * 20)
    r = d.run("case", "take", 1, op="dave", check=False)
    assert r.returncode == 1, r.stderr
    d.run("case", "take", 1, op="dave", pw="dave")
    r = d.run("operator", "add", "erin", "--key", d.addr["erin"], "--role", "admin",
              op="dave", pw="dave", check=False)
    one_line_fail(r, "admin")
    assert d.verify().returncode == 0
    # adopting again changes nothing
    r = d.run("audit", "adopt", op="alice", check=False)
    assert r.returncode == 1 and "nothing to adopt" in r.stderr, r.stderr


def forged_config_adopt(root):
    """desk.db deleted and the log given a configuration row nobody signed (with a valid
    hash chain: what the OS account could write): `audit adopt` must not record that hash
    before it has checked the signatures, or the desk acts on the forged file."""
    d = set_up(root, "forged")
    limits = os.path.join(d.home, "risk-limits.csv")
    forged = "limit,value\nvar_1d_usd,99000000\n"
    write(limits, forged)
    r = d.run("risk", "report", check=False)
    one_line_fail(r, "risk-limits.csv is not signed")
    with open(os.path.join(d.home, "audit.log")) as f:
        rows = [json.loads(x) for x in f if x.strip()]
    rows.append({"time": rows[-1]["time"], "operator": "alice", "action": "config.risk_limits",
                 "details": {"file": "risk-limits.csv", "bytes": len(forged), "previous": None,
                             "sha256": hashlib.sha256(forged.encode()).hexdigest()}})
    for suffix in ("", "-wal", "-shm"):
        p = os.path.join(d.home, "desk.db" + suffix)
        if os.path.exists(p):
            os.unlink(p)
    out, prev = [], "0" * 64
    for i, row in enumerate(rows):
        row = dict(row)
        row["seq"], row["prev"] = i + 1, prev
        row.pop("hash", None)
        body = "{" + ",".join(json.dumps(k) + ":" + json.dumps(
            row[k], separators=(",", ":"), sort_keys=True, ensure_ascii=True)
            for k in ["seq", "time", "operator", "action", "details", "prev"])
        line = body + ',"hash":"' + hashlib.sha256(body.encode()).hexdigest() + '"}'
        out.append(line)
        prev = hashlib.sha256(line.encode()).hexdigest()
    with open(os.path.join(d.home, "audit.log"), "w") as f:
        f.write("\n".join(out) + "\n")
    r = d.run("audit", "adopt", op="alice", check=False)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "do not verify" in r.stderr, r.stderr
    assert d.sql("SELECT count(*) FROM sqlite_master WHERE name = 'audit_config'") == [(0,)] or \
        d.sql("SELECT count(*) FROM audit_config") == [(0,)], d.sql("SELECT * FROM audit_config")
    r = d.run("risk", "report", check=False)
    assert r.returncode != 0 or "99000000" not in r.stdout and "99,000,000" not in r.stdout, \
        r.stdout


def main():
    root = tempfile.mkdtemp(prefix="fusion-signed-config-")
    os.chmod(root, 0o700)
    try:
        d = config_files(root)
        every_decision_needs_the_key(root)
        before_signatures(root)
        rebuilt_desk_db(root, d)
        forged_config_adopt(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("signed configuration and decisions: ok")


if __name__ == "__main__":
    main()
