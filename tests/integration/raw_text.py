#!/usr/bin/python3
"""raw_text.py: outside text never reaches the terminal, a text output or the log raw,
through the real binary. A node's JSON-RPC error carrying OSC 0 (retitle), SGR (colour),
ED (clear) and U+202E, served by tests/integration/fake_rpc.py (a FAKE node: no real one
sends that on demand), shows on stderr and in fusion.log as visible escapes; argv with
\\xff and ESC[2J is echoed escaped in usage errors; entity names with ESC or a bidi
override are refused with one line (exit 1), and a name stored before that check (written
into desk.db directly, as an older binary could have) is escaped by `entity list` and
`entity show`; a stress scenario's name read from a CSV file is escaped by `risk calc`,
a stored chain's name by `fusion sync`'s progress lines.
Case notes are covered in compliance_e2e.py, which has a real case."""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_rpc import FakeRpc  # noqa: E402
from sync_lib import A, FUSION, Desk, log  # noqa: E402
import devchain  # noqa: E402

ESC_NAME = "Evil\x1b]0;pwned\x07\x1b[31m Corp"
RLO_NAME = "Alice \u202ecod.exe"
BIDI = "\u202e".encode()


def raw_bytes(b):
    """The bytes a terminal would act on: C0 but newline, DEL, bytes that are not UTF-8,
    C1 as UTF-8, bidi controls."""
    bad = [c for c in b if (c < 0x20 and c != 0x0a) or c == 0x7f]
    try:
        text = b.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 at {e.start}: {b[e.start:e.start + 4]!r}"
    bad += [ord(c) for c in text if 0x80 <= ord(c) < 0xa0 or ord(c) in (
        0x061c, 0x200e, 0x200f, 0x2028, 0x2029) or 0x202a <= ord(c) <= 0x202e or
        0x2066 <= ord(c) <= 0x2069]
    return bad


def assert_safe(b, what):
    bad = raw_bytes(b)
    assert not bad, f"{what}: raw bytes {bad}: {b!r}"


def run(desk, *args, code=None):
    """fusion with bytes or str arguments; stdout and stderr as bytes."""
    argv = [FUSION.encode(), b"--home", desk.home.encode()]
    # signed as on a real desk (the operator's passphrase file; the admin's genesis)
    argv += [a.encode() for a in desk.signed.sign_args(
        [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in args])]
    argv += [a if isinstance(a, bytes) else str(a).encode() for a in args]
    r = subprocess.run(argv, capture_output=True, timeout=120)
    if code is not None:
        assert r.returncode == code, (args, r.returncode, r.stdout, r.stderr)
    return r


def one_line(r, what):
    lines = r.stderr.splitlines()
    assert len(lines) == 1, f"{what}: {len(lines)} lines: {r.stderr!r}"
    return lines[0]


def check_argv(desk):
    evil = b"\xff\x1b[2J"
    for args, code in [((evil,), 2), ((b"case", evil), 2), ((b"entity", evil), 2),
                       ((b"chain", b"list", evil), 2), ((b"--bogus\x1b[2J",), 2),
                       ((b"risk", b"calc", b"--window", evil), 2)]:
        r = run(desk, *args, code=code)
        assert_safe(r.stderr, f"fusion {args!r}")
        assert b"\\x1b[2J" in r.stderr, (args, r.stderr)
    r = run(desk, evil, code=2)
    assert b"unknown command '\\xff\\x1b[2J'" in r.stderr, r.stderr
    log("argv: echoed with visible escapes: ok")


def check_entities(desk):
    op = ("--operator", "carol")
    desk.run("operator", "add", "carol", "--key", A[9], "--role", "compliance")
    for name in (ESC_NAME, RLO_NAME, "Zero\u200fWidth", "Two\u2028Lines", "C1\u009b2J"):
        r = run(desk, *op, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                code=1)
        line = one_line(r, f"entity add {name!r}")
        assert_safe(r.stderr, f"entity add {name!r}")
        assert b"name" in line and b"control" in line, line
    r = run(desk, *op, "entity", "add", b"Bad\xffByte", "--type", "company", "--jurisdiction",
            "CH", code=1)
    assert_safe(r.stderr, "entity add with a byte that is not UTF-8")
    assert desk.json("entity", "list", "--json") == [], "a refused entity was stored"
    # document file names come from the operator's disk
    desk.run(*op, "entity", "add", "Plain AG", "--type", "company", "--jurisdiction", "CH")
    doc = os.path.join(desk.home, "scan\x1b[2J\u202efdp.exe")
    with open(doc, "wb") as f:
        f.write(b"%PDF")
    r = run(desk, *op, "entity", "edit", "Plain AG", "--doc", f"passport:{doc}", code=1)
    one_line(r, "a document whose file name holds ESC and U+202E")
    assert_safe(r.stderr, "entity edit --doc")
    assert desk.json("entity", "show", "Plain AG", "--json")["documents"] == []

    # Rows an older binary stored before names were checked: shown escaped.
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"))
    now = int(time.time())
    for name in (ESC_NAME, RLO_NAME):
        con.execute("INSERT INTO entities (name, type, jurisdiction, created_at, updated_at) "
                    "VALUES (?, 'company', 'CH', ?, ?)", (name, now, now))
    ent_id = con.execute("SELECT id FROM entities WHERE name = ?", (RLO_NAME,)).fetchone()[0]
    con.execute("INSERT INTO entity_documents (entity_id, doc_type, file_name, sha256, "
                "added_at) VALUES (?, 'passport', ?, ?, ?)",
                (ent_id, "scan\x1b[2J\u202efdp.exe", "00" * 32, now))
    con.commit()
    con.close()
    r = run(desk, "entity", "list", code=0)
    assert_safe(r.stdout, "entity list")
    assert b"Evil\\x1b]0;pwned\\x07\\x1b[31m Corp" in r.stdout, r.stdout
    assert b"Alice \\u202ecod.exe" in r.stdout, r.stdout
    for name, shown in ((ESC_NAME, b"Evil\\x1b]0;pwned\\x07"), (RLO_NAME, b"Alice \\u202e")):
        r = run(desk, "entity", "show", name, code=0)
        assert_safe(r.stdout, f"entity show {name!r}")
        assert shown in r.stdout, r.stdout
    assert b"scan\\x1b[2J\\u202efdp.exe" in r.stdout, r.stdout
    # JSON keeps the exact data (a machine reads it; JSON escapes its control bytes)
    got = {x["name"] for x in desk.json("entity", "list", "--json")}
    assert ESC_NAME in got and RLO_NAME in got, got
    log("entities: refused with one line; stored rows shown escaped: ok")


def check_rpc(desk):
    with devchain.Anvil(chain_id=31337) as node:
        fake = FakeRpc(node.url)
        try:
            # chain add asks eth_chainId up to three times (3 attempts); every answer is hostile
            fake.script([{"kind": "rate_limit_escape", "method": "eth_chainId", "count": 3}])
            r = run(desk, "chain", "add", "--name", "evil", "--chain-id", 31337, "--rpc",
                    fake.url, "--factory", A[1], code=1)
            line = one_line(r, "chain add through a node answering escapes")
            assert_safe(r.stderr, "chain add stderr")
            assert b"boom\\x1b]0;pwned\\x07\\x1b[31m red \\x1b[2J\\u009b2J \\u202eevil" in line, line
            fake.script([{"kind": "garbage_escape", "method": "eth_chainId", "count": 3}])
            r = run(desk, "chain", "add", "--name", "evil", "--chain-id", 31337, "--rpc",
                    fake.url, "--factory", A[1], code=1)
            one_line(r, "chain add through a node answering raw bytes")
            assert_safe(r.stderr, "chain add stderr (not JSON)")
            assert fake.stats()["faults"].get("rate_limit_escape") == 3, fake.stats()
        finally:
            fake.stop()
    with open(os.path.join(desk.home, "fusion.log"), "rb") as f:
        text = f.read()
    assert_safe(text, "fusion.log")
    assert b"boom\\x1b]0;pwned\\x07" in text, text[-2000:]
    log("rpc: a node's escape-laden error is escaped on stderr and in fusion.log: ok")


def check_risk_files():
    """A stress scenario's name comes from a CSV file (--scenarios): `risk calc` shows it
    with its controls (ESC, U+202E, U+0085) escaped."""
    import datetime as dt
    import tempfile
    name = "crash \x1b[31m red \u202eevil\u202c \u0085 nel"
    d0 = dt.date(2024, 1, 1)
    rows = [f"{d0 + dt.timedelta(days=k)},{40000 + 10 * k},{2000 + k % 7}" for k in range(40)]
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "prices.csv"), "w") as f:
            f.write("Date,BTC,ETH\n" + "\n".join(rows) + "\n")
        with open(os.path.join(tmp, "pos.json"), "w") as f:
            f.write('{"BTC": 1000000, "ETH": 500000}\n')
        with open(os.path.join(tmp, "scen.csv"), "w", encoding="utf-8") as f:
            f.write(f"scenario,asset,move_pct\n{name},BTC,-30\n{name},ETH,-40\n")
        r = subprocess.run([FUSION, "risk", "calc", "--prices", "prices.csv", "--positions",
                            "pos.json", "--window", "20", "--paths", "200", "--stress",
                            "--scenarios", "scen.csv"], cwd=tmp, capture_output=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert_safe(r.stdout, "risk calc --scenarios")
    assert b"crash \\x1b[31m red \\u202eevil\\u202c \\u0085 nel" in r.stdout, r.stdout[-800:]
    log("risk calc: a scenario's name from a file shown escaped: ok")


def check_sync_progress():
    """`fusion sync` prints each chain's progress line (its name, its last error) on
    stderr: a chain row an older binary left with ESC, U+202E and U+0085 in its name is
    shown escaped. Its endpoint refuses connections, so --once gives up (exit 1)."""
    desk = Desk()
    desk.run("operator", "add", "carol", "--key", A[9], "--role", "compliance")
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"))
    con.execute("INSERT INTO chains (chain_id, name, created_at) VALUES (31337, ?, ?)",
                ("ch\x1b[31m\u202e\u0085x", int(time.time())))
    con.execute("INSERT INTO rpc_endpoints (chain_id, url) VALUES (31337, 'http://127.0.0.1:9')")
    con.commit()
    con.close()
    r = subprocess.run([FUSION, "--home", desk.home, "sync", "--once"], capture_output=True,
                       timeout=300)
    assert r.returncode == 1, (r.returncode, r.stderr[-800:])
    assert_safe(r.stderr, "sync progress")
    assert b"sync ch\\x1b[31m\\u202e\\u0085x: " in r.stderr, r.stderr[-800:]
    log("sync: a chain's name shown escaped in the progress lines: ok")


def main():
    desk = Desk()
    check_argv(desk)
    check_entities(desk)
    check_risk_files()
    check_sync_progress()
    check_rpc(desk)
    log("raw_text: ok")


if __name__ == "__main__":
    main()
