#!/usr/bin/python3
"""cli_json_ascii.py: the command line's JSON never puts a raw non-ASCII byte on the
terminal, through the real binary, on a desk without a chain.

Hostile text (U+202E RLO, U+2067 RLI, U+0085 NEL, ESC) is refused where it is typed:
`case rules --sanctions off --reason TEXT`, `credit fee|repay|draw --memo TEXT` and `credit
draw|withdrawal --override TEXT` exit 1 with one line naming the option, and write nothing
(no setting, no ledger row, no audit row). Printable text, a plain accented name ("Zoë
Müller") and a zero-width joiner included, is taken as typed.

Then hostile text and plain text are stored:
  - through the CLI: `entity add` of "Zoë Müller" and of a name with a zero-width joiner
    (names with bidi or C1 controls are refused there), `case rules --sanctions off
    --reason TEXT` and `credit fee --memo TEXT` with plain reasons and memos, `case note`;
  - as rows an older binary, or a synced chain, could have left: entities named with
    U+202E, U+2067 and U+0085 (refused by today's `entity add`, see raw_text.py), a case
    (cases come from screening synced escrows) with a note carrying the same, the fee's
    ledger memo with ESC, bidi and C1 controls (older binaries took them), and the
    sanctions decision with such a reason as an older binary recorded it (an EIP-191
    signature of the decision's text, made here by cast with the officer's key, so it
    verifies);
  - a proposal as the HTTP API stores it (its canonical body, raw UTF-8), with a
    `reference` holding bidi and C1 controls (today's API refuses it: api_serve.py).
Then every `--json` command that lists or shows them must print only ASCII (non-ASCII as
\\uXXXX escapes), and json.loads of it must give back exactly the stored strings. The text
of `case rules` (the reason), `proposal list` (the request), `credit ledger` and `credit
statement` (the memo) must show the controls as visible escapes; so must the text of
`credit facility list|show|statement`, `tx list|show`, `chain list`, `asset list` and
`escrow list|show` for rows written straight into desk.db (check_rows_text)."""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "lib"))
from signed_desk import ANVIL_KEYS  # noqa: E402
from sync_lib import A, FUSION, Desk, cast, log  # noqa: E402

ZOE = "Zoë Müller"
ZWJ = "Zero\u200dJoiner AG"
RLO = "Alice \u202ecod.exe"
RLI = "Iso\u2067late\u2069 Ltd"
NEL = "Next\u0085Line SA"
REASON = f"list feed stale \u202eevil\u202c, \u2067rli\u2069, nel\u0085, zw\u200dj, {ZOE}"
NOTE = f"met {ZOE} and {ZWJ}"
OLD_NOTE = f"older note {RLO} / {RLI} / {NEL}"
ESCROW = "0x" + "ab" * 20
MEMO = f"fee \x1b[31m red \u202eevil\u202c \u2067x\u2069 \u0085 zw\u200dj {ZOE}"
PLAIN_REASON = f"list feed stale, zw\u200dj, {ZOE}"
PLAIN_MEMO = f"fee red zw\u200dj {ZOE}"
OVERRIDE = "risk ok \u202eevil\u202c \u0085"
REFERENCE = f"inv 7 \u202e{ZOE}\u202c \u2067x\u2069 \u0085 zw\u200dj"

BIDI_C1 = ("\u202e", "\u2067", "\u0085")


def fusion(desk, *args):
    """fusion's stdout as bytes (exit 0 required)."""
    argv = [FUSION, "--home", desk.home, *desk.signed.sign_args(args), *map(str, args)]
    r = subprocess.run(argv, capture_output=True, timeout=120)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout


def ascii_json(desk, *args):
    """`fusion ARGS` printed as JSON: every byte ASCII; the document decoded."""
    out = fusion(desk, *args)
    bad = sorted({c for c in out if c >= 0x80})
    assert not bad, f"fusion {' '.join(args)}: raw non-ASCII bytes {bad[:8]}: {out[:400]!r}"
    return json.loads(out)


def strings(v):
    """Every string (keys too) in a decoded JSON document."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
    elif isinstance(v, str):
        yield v


def has(doc, s, what):
    assert s in set(strings(doc)), f"{what}: {s!r} not given back exactly: {doc!r}"[:2000]


def db(desk):
    return sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)


def written(desk):
    """What a refused command must leave as it was: the sanctions decision, the ledger rows
    and the audit trail."""
    con = db(desk)
    try:
        dec = con.execute("SELECT value FROM risk_settings WHERE key = "
                          "'compliance.sanctions_decision'").fetchall()
        rows = con.execute("SELECT id, memo FROM credit_ledger ORDER BY id").fetchall()
    finally:
        con.close()
    # the audit rows but key_unlock: the harness passes the signing operator's passphrase,
    # and unlocking their key is audited before the command runs
    audit = [r for r in json.loads(fusion(desk, "audit", "list", "--json"))
             if r["action"] != "key_unlock"]
    return dec, rows, audit


def refused(desk, what, option, *args):
    """`fusion ARGS` refuses hostile text: exit 1, one line on stderr naming the option,
    nothing written."""
    before = written(desk)
    r = desk.run(*args, check=False)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 1 and len(lines) == 1, (what, r.returncode, r.stderr)
    assert option in lines[0] and "bidi control" in lines[0] and "plain text" in lines[0], \
        (what, lines)
    for c in BIDI_C1 + ("\x1b",):
        assert c not in r.stderr, (what, r.stderr)
    assert written(desk) == before, f"{what}: something was written"
    log(f"{what}: refused, exit 1, one line, nothing written: ok")


def old_decision(desk, reason):
    """The sanctions decision as an older binary recorded it, with reason: the record
    today's binary wrote, its reason replaced and signed again as older records were (EIP-191
    personal_sign of the decision's text, compliance_sanctions_message) with the officer's
    key, so it still verifies."""
    con = db(desk)
    rec = json.loads(con.execute("SELECT value FROM risk_settings WHERE key = "
                                 "'compliance.sanctions_decision'").fetchone()[0])
    assert rec["reason"] == PLAIN_REASON, rec
    msg = (f"fusion desk decision\nsanctions screening: off\noperator: {rec['operator']}\n"
           f"time: {rec['at']}\nreason: {reason}\n")
    old = {k: rec[k] for k in ("off", "operator", "address", "at")}
    old["reason"] = reason
    old["signature"] = cast("wallet", "sign", "--private-key",
                            ANVIL_KEYS[rec["address"].lower()], msg)
    n = con.execute("UPDATE risk_settings SET value = ? WHERE key = "
                    "'compliance.sanctions_decision'",
                    (json.dumps(old, ensure_ascii=False, sort_keys=True,
                                separators=(",", ":")),)).rowcount
    con.commit()
    con.close()
    assert n == 1


def store(desk):
    op = ("--operator", "carol")
    desk.run("operator", "add", "carol", "--key", A[9], "--role", "compliance")
    desk.run(*op, "entity", "add", ZOE, "--type", "individual", "--jurisdiction", "CH")
    desk.run(*op, "entity", "add", ZWJ, "--type", "company", "--jurisdiction", "CH")
    refused(desk, "case rules --reason with bidi and C1 controls", "the reason",
            *op, "case", "rules", "--sanctions", "off", "--reason", REASON)
    refused(desk, "case rules --reason with ESC", "the reason",
            *op, "case", "rules", "--sanctions", "off", "--reason", "stale \x1b[2J")
    desk.run(*op, "case", "rules", "--sanctions", "off", "--reason", PLAIN_REASON)
    old_decision(desk, REASON)
    desk.run("operator", "add", "rita", "--key", A[8], "--role", "risk")
    rita = ("--operator", "rita", "credit")
    desk.run(*rita, "facility", "add", "zoe-usdc", "--entity", ZOE, "--currency", "USDC",
             "--limit", "1000", "--rate", "5", "--effective", "2026-01-01")
    refused(desk, "credit fee --memo with ESC, bidi and C1 controls", "--memo",
            *rita, "fee", "zoe-usdc", "1", "--date", "2026-01-02", "--memo", MEMO)
    refused(desk, "credit repay --memo with U+0085", "--memo",
            *rita, "repay", "zoe-usdc", "1", "--date", "2026-01-02", "--memo", "nel\u0085")
    refused(desk, "credit draw --by-hand --memo with U+202E", "--memo",
            *rita, "draw", "zoe-usdc", "1", "--by-hand", "--memo", "x \u202eevil")
    refused(desk, "credit draw --chain --memo with U+2067", "--memo",
            *rita, "draw", "zoe-usdc", "1", "--chain", "devnet-eth", "--memo", "\u2067x")
    refused(desk, "credit draw --override with bidi and C1 controls", "--override",
            *rita, "draw", "zoe-usdc", "1", "--by-hand", "--override", OVERRIDE)
    refused(desk, "credit withdrawal --override with bidi and C1 controls", "--override",
            *rita, "withdrawal", "zoe-usdc", "1", "--chain", "devnet-eth", "--approve",
            "--override", OVERRIDE)
    desk.run(*rita, "fee", "zoe-usdc", "1", "--date", "2026-01-02", "--memo", PLAIN_MEMO)
    con = db(desk)
    assert con.execute("UPDATE credit_ledger SET memo = ? WHERE memo = ?",
                       (MEMO, PLAIN_MEMO)).rowcount == 1
    now = int(time.time())
    for name in (RLO, RLI, NEL):
        con.execute("INSERT INTO entities (name, type, jurisdiction, created_at, updated_at) "
                    "VALUES (?, 'company', 'CH', ?, ?)", (name, now, now))
    ent = con.execute("SELECT id FROM entities WHERE name = ?", (RLO,)).fetchone()[0]
    con.execute("INSERT INTO cases (subject, entity_id, chain_id, escrow, priority, score, "
                "opened_at, due_at) VALUES (?, ?, 31337, ?, 1, 80, ?, ?)",
                (f"entity:{ent}", ent, ESCROW, now, now + 86400))
    case = con.execute("SELECT id FROM cases").fetchone()[0]
    con.execute("INSERT INTO case_events (case_id, at, operator, action, note) "
                "VALUES (?, ?, 'carol', 'note', ?)", (case, now, OLD_NOTE))
    body = json.dumps({"amount": "1000000", "chain": "devnet-eth", "payee": A[3].lower(),
                       "reference": REFERENCE, "token": "USDC"}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":"))
    con.execute("INSERT INTO api_proposals (client, kind, chain_id, body, body_hash, "
                "screening, created_at) VALUES ('erp', 'payment', 31337, ?, ?, '{}', ?)",
                (body, hashlib.sha256(body.encode()).hexdigest(), now))
    con.commit()
    con.close()
    desk.run(*op, "case", "note", case, NOTE)
    return case


def check_json(desk, case):
    names = (ZOE, ZWJ, RLO, RLI, NEL)
    doc = ascii_json(desk, "entity", "list", "--json")
    for n in names:
        has(doc, n, "entity list --json")
    for n in names:
        has(ascii_json(desk, "entity", "show", n, "--json"), n, f"entity show {n!r} --json")
    doc = ascii_json(desk, "audit", "list", "--json")
    # the audit rows hold what the CLI took: the plain reason and memo (the hostile ones
    # were refused; audit rows are hash-chained, so no older row is made up here)
    for s in (ZOE, ZWJ, PLAIN_REASON, PLAIN_MEMO):
        has(doc, s, "audit list --json")
    for args in (("case", "show", case, "--json"), ("case", "export", case, "--json")):
        doc = ascii_json(desk, *map(str, args))
        for s in (RLO, NOTE, OLD_NOTE):
            has(doc, s, " ".join(map(str, args)))
    for args in (("proposal", "list", "--json"), ("proposal", "show", "1")):
        has(ascii_json(desk, *args), REFERENCE, " ".join(args))
    has(ascii_json(desk, "credit", "facility", "list", "--json"), ZOE, "credit facility list")
    for args in (("credit", "ledger", "zoe-usdc", "--json"),
                 ("credit", "statement", "zoe-usdc", "--from", "2026-01-01", "--to", "2026-01-05",
                  "--json")):
        has(ascii_json(desk, *args), MEMO, " ".join(args))
    log("--json: only ASCII on stdout, every stored string given back exactly: ok")


def check_text(desk):
    out = fusion(desk, "case", "rules").decode("utf-8")
    for c in BIDI_C1:
        assert c not in out, f"case rules: raw U+{ord(c):04X} in {out[:600]!r}"
    assert "stale \\u202eevil\\u202c, \\u2067rli\\u2069, nel\\u0085" in out, out[:600]
    assert ZOE in out and "zw\u200dj" in out, out[:600]  # printable text stays as it is
    out = fusion(desk, "proposal", "list").decode("utf-8")
    for c in BIDI_C1:
        assert c not in out, f"proposal list: raw U+{ord(c):04X} in {out[:600]!r}"
    assert "\\u202eZoë Müller\\u202c \\u2067x\\u2069 \\u0085 zw\u200dj" in out, out[:600]
    for args in (("credit", "ledger", "zoe-usdc"),
                 ("credit", "statement", "zoe-usdc", "--from", "2026-01-01", "--to", "2026-01-05")):
        out = fusion(desk, *args).decode("utf-8")
        for c in BIDI_C1 + ("\x1b",):
            assert c not in out, f"{' '.join(args)}: raw U+{ord(c):04X} in {out[:600]!r}"
        assert ("fee \\x1b[31m red \\u202eevil\\u202c \\u2067x\\u2069 \\u0085 zw\u200dj "
                f"{ZOE}") in out, out[:600]
    log("case rules, proposal list, credit ledger/statement: controls shown as escapes: ok")


HOSTILE = "\x1b[31m red \u202eevil\u202c \u0085 nel"
HOSTILE_SHOWN = "\\x1b[31m red \\u202eevil\\u202c \\u0085 nel"


def text_has(out, shown, what):
    """A text output with no raw ESC, bidi or C1 control, and the escaped text in it."""
    out = out.decode("utf-8")
    for c in BIDI_C1 + ("\x1b", "\u202c"):
        assert c not in out, f"{what}: raw U+{ord(c):04X} in {out[:800]!r}"
    assert shown in out, f"{what}: {shown!r} not in {out[:800]!r}"


def check_rows_text(desk):
    """Rows an older binary or a synced chain could have left: a facility whose name,
    entity, currency and collateral asset carry ESC, U+202E and U+0085; an outbound
    transaction whose action, operator, summary (keys, strings, nested values) and error
    carry them; a chain, its endpoint URL, a token, a price feed and an escrow (native
    symbol, anomaly) and a bridge transfer's note with them. `credit facility
    list|show|statement`, `tx list|show`, `chain list`, `asset list`, `escrow list|show` and
    `bridge list|show` show them escaped."""
    rita = ("--operator", "rita", "credit")
    desk.run(*rita, "facility", "add", "evil-usdc", "--entity", ZOE, "--currency", "USDC",
             "--limit", "1000", "--rate", "5", "--effective", "2026-01-01", "--collateral",
             "WETH")
    con = db(desk)
    now = int(time.time())
    con.execute("INSERT INTO entities (name, type, jurisdiction, created_at, updated_at) "
                "VALUES (?, 'company', 'CH', ?, ?)", ("Ent " + HOSTILE, now, now))
    ent = con.execute("SELECT id FROM entities WHERE name = ?", ("Ent " + HOSTILE,)).fetchone()[0]
    coll = con.execute("SELECT collateral FROM credit_facilities WHERE name = 'evil-usdc'"
                       ).fetchone()[0]
    assert "WETH" in coll, coll
    assert con.execute("UPDATE credit_facilities SET name = ?, entity_id = ?, currency = ?, "
                       "collateral = ? WHERE name = 'evil-usdc'",
                       ("Fac " + HOSTILE, ent, "C" + HOSTILE,
                        coll.replace("WETH", json.dumps("W" + HOSTILE)[1:-1]))).rowcount == 1
    con.execute("INSERT INTO chains (chain_id, name, native_symbol, created_at) "
                "VALUES (31337, ?, ?, ?)", ("ch" + HOSTILE, "S" + HOSTILE, now))
    con.execute("INSERT INTO rpc_endpoints (chain_id, url) VALUES (31337, ?)",
                ("http://h\x1b[31m\u202e\u0085x.invalid/",))
    con.execute("INSERT INTO tokens (chain_id, symbol, address, decimals) VALUES (31337, ?, ?, 6)",
                ("T\x1b[2J\u202e\u0085", "0x" + "11" * 20))
    con.execute("INSERT INTO price_feeds (chain_id, address, asset, decimals) "
                "VALUES (31337, ?, ?, 8)", ("0x" + "22" * 20, "F\x1b[2J\u202e\u0085"))
    con.execute("INSERT INTO escrows (chain_id, address, factory, payer, payee, token, amount, "
                "approvers, threshold, arbiter, deadline, state, created_block, created_tx, "
                "last_event_block, events, anomaly) VALUES (31337, ?, ?, ?, ?, ?, '5', '[]', 0, "
                "?, 0, 'funded', 1, ?, 1, 1, ?)",
                (ESCROW, A[1].lower(), A[2].lower(), A[3].lower(), "0x" + "00" * 20,
                 A[4].lower(), "0x" + "ef" * 32, "anomaly " + HOSTILE))
    con.execute("INSERT INTO outbound_txs (id, chain_id, from_addr, nonce, hash, raw, state, "
                "action, created_at) VALUES (900, 31337, ?, 7, ?, x'00', 'failed', ?, ?)",
                (A[2].lower(), "0x" + "cd" * 32, "act " + HOSTILE, now))
    summary = json.dumps({"memo": "sum " + HOSTILE, "key " + HOSTILE: "plain",
                          "calls": [{"label": "nested " + HOSTILE}]})
    con.execute("INSERT INTO desk_txs (outbound_id, operator, asset, amount, summary, error) "
                "VALUES (900, ?, ?, '1', ?, ?)",
                ("op " + HOSTILE, "0x" + "00" * 20, summary, "err " + HOSTILE))
    # a bridge transfer whose note carries a node's words (a revert reason, say)
    con.execute("INSERT INTO bridge_transfers (id, protocol, state, src_chain, dst_chain, "
                "src_domain, dst_domain, sender, recipient, token_src, token_dst, amount, "
                "operator, note, created_at, updated_at) VALUES (70, 'cctp', 'failed', 31337, "
                "31337, 0, 0, ?, ?, ?, ?, '5000000', 'alice', ?, ?, ?)",
                (A[2].lower(), A[3].lower(), "0x" + "00" * 20, "0x" + "00" * 20,
                 "note " + HOSTILE, now, now))
    con.commit()
    con.close()
    fac = "Fac " + HOSTILE
    out = fusion(desk, "credit", "facility", "list")
    text_has(out, "Fac " + HOSTILE_SHOWN, "credit facility list (name)")
    text_has(out, "Ent " + HOSTILE_SHOWN[:14], "credit facility list (entity)")
    out = fusion(desk, "credit", "facility", "show", fac)
    for what in ("Fac ", "Ent ", "W"):
        text_has(out, what + HOSTILE_SHOWN, f"credit facility show ({what.strip()})")
    # the currency is kept to 15 bytes by the store: "C", ESC, "[31m red ", U+202E, "e"
    ccy = "C\\x1b[31m red \\u202ee"
    text_has(out, "currency         " + ccy + "\n", "credit facility show (currency)")
    out = fusion(desk, "credit", "statement", fac, "--from", "2026-01-01", "--to", "2026-01-05")
    text_has(out, "facility Fac " + HOSTILE_SHOWN, "credit statement (header)")
    text_has(out, "(" + ccy + ")", "credit statement (currency)")
    out = fusion(desk, "tx", "list")
    text_has(out, "act " + HOSTILE_SHOWN[:6], "tx list (action)")
    # the operator's column is 10 bytes: cut at a character or escape, and marked so
    text_has(out, " op \\x1b... ", "tx list (operator, cut)")
    out = fusion(desk, "tx", "show", "900")
    for shown in ("act ", "by op ", "sum ", "key ", "err "):
        text_has(out, shown + HOSTILE_SHOWN, f"tx show ({shown.strip()})")
    # a nested value is JSON (ASCII): its controls are JSON escapes
    text_has(out, '"nested \\u001B[31m red \\u202Eevil\\u202C \\u0085 nel"',
             "tx show (nested value)")
    out = fusion(desk, "chain", "list")
    text_has(out, "ch" + HOSTILE_SHOWN, "chain list (name)")
    text_has(out, "http://h\\x1b[31m\\u202e\\u0085x.invalid/ (", "chain list (URL)")
    out = fusion(desk, "asset", "list")
    text_has(out, "ch" + HOSTILE_SHOWN, "asset list (chain)")
    text_has(out, " T\\x1b[2J\\u202e\\u0085 ", "asset list (token symbol)")
    text_has(out, " F\\x1b[2J\\u202e\\u0085 ", "asset list (feed asset)")
    out = fusion(desk, "escrow", "list")
    text_has(out, "ch\\x1b[31", "escrow list (chain)")
    text_has(out, "S\\x1b[31", "escrow list (symbol)")
    out = fusion(desk, "escrow", "show", ESCROW)
    for shown in ("on ch", "anomaly    anomaly "):
        text_has(out, shown + HOSTILE_SHOWN, f"escrow show ({shown})")
    # a symbol is kept to 15 bytes, as the currency above
    text_has(out, "funded     0 S\\x1b[31m red \\u202ee\n", "escrow show (symbol)")
    out = fusion(desk, "bridge", "list")
    text_has(out, "note " + HOSTILE_SHOWN, "bridge list (note)")
    text_has(out, "ch" + HOSTILE_SHOWN, "bridge list (chain)")
    out = fusion(desk, "bridge", "show", "70")
    # each field is JSON (ASCII): its controls are JSON escapes
    text_has(out, '"note \\u001B[31m red \\u202Eevil\\u202C \\u0085 nel"', "bridge show (note)")
    log("credit facility list/show/statement, tx list/show, chain list, asset list, escrow "
        "list/show, bridge list/show: stored controls shown escaped: ok")


def main():
    desk = Desk()
    case = store(desk)
    check_json(desk, case)
    check_text(desk)
    check_rows_text(desk)
    log("cli_json_ascii: ok")


if __name__ == "__main__":
    main()
