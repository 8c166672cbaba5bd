#!/usr/bin/python3
"""compliance_e2e.py: the issue's acceptance end to end on anvil, through the real binary.
An escrow whose payee is on the shipped OFAC list is created, funded and approved on chain
with cast (the desk itself would refuse to create it); `fusion sync --once` stores it and
its automatic screening opens one high-priority case (no `fusion case screen` is run); a
real `fusion escrow release` is refused naming the case and signs nothing; the case is
cleared by two different compliance officers (four-eyes; the proposer cannot confirm;
an operator without the compliance role cannot act); the same `fusion escrow release` then
goes through and the node (cast) shows the payee's balance grown by the escrow's amount.
Screening before desk actions: a `fusion escrow create` to the sanctioned payee, and to an
address on the desk's own list, is refused naming the rule and the list version, with no
transaction sent. A reorg (anvil_rollback) that removes a screened escrow drops its hits
at the next sync and keeps its case with an "escrow_vanished" note. The SAR export and
the audit chain are checked too."""
import json
import os
import sqlite3
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, SERVER, ZERO, CREATE_SIG, Chain, log, need_artifacts, topic  # noqa
from desk_escrow import DeskUser, eth_balance, nonce  # noqa

SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # data/sanctions, ETH list line 90
LIST_VERSION = "2024-09-27/fff25e4a7748464d"  # the shipped manifest's snapshot
AMOUNT = 10**18


def create_on_chain(chain, payee):
    """alice (A[0]) creates a native-coin escrow with cast: approvers bob and carol (2 of
    2), arbiter dave."""
    deadline = int(time.time()) + 30 * 86400
    r = chain.cast_send(A[0], chain.factory, CREATE_SIG, payee, ZERO, str(AMOUNT),
                        f"[{A[2]},{A[3]}]", "2", A[4], str(deadline))
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    return "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]


def expect_fail(r, *contains):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    for c in contains:
        assert c in r.stderr, (c, r.stderr)
    return r.stderr


def chain_escrows(desk):
    return desk.json("escrow", "list", "--json")


def escrow_state(chain, escrow):
    return int(chain.node.cast("call", escrow, "state()(uint8)").split()[0])


def raw_controls(text):
    """Characters a terminal or a reader's eye acts on: C0 but newline, DEL, C1, bidi
    controls, line separators."""
    return [hex(ord(c)) for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0
            or ord(c) in (0x061c, 0x200e, 0x200f, 0x2028, 0x2029)
            or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]


def check_notes(desk, cid, officer):
    """Case notes are other operators' text: refused with one line when they hold
    control sequences or bidi controls; a note stored before that check (written into
    desk.db directly, as an older binary could have) is escaped by `case show` and in the
    SAR text of `case export`."""
    events = len(desk.json("case", "show", str(cid), "--json")["timeline"])
    for args in (("note", str(cid), "see \x1b]0;pwned\x07\x1b[2J here"),
                 ("note", str(cid), "payee \u202elanigiro"),
                 ("note", str(cid), "two\u2028lines"),
                 ("escalate", str(cid), "--note", "\x1b[31murgent"),
                 ("block", str(cid), "--note", "RLO \u202e")):
        r = desk.run(*officer, "case", *args, check=False)
        assert r.returncode == 1, (args, r.returncode, r.stdout, r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and "note" in lines[0], (args, r.stderr)
        assert not raw_controls(r.stderr), (args, raw_controls(r.stderr), r.stderr)
    assert len(desk.json("case", "show", str(cid), "--json")["timeline"]) == events
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"))
    con.execute("INSERT INTO case_events (case_id, at, operator, action, note) "
                "VALUES (?, ?, 'dave', 'note', ?)",
                (cid, int(time.time()), "old \x1b]0;pwned\x07\x1b[31m \u202eevil\u009b2J"))
    con.commit()
    con.close()
    shown = "old \\x1b]0;pwned\\x07\\x1b[31m \\u202eevil\\u009b2J"
    out = desk.run("case", "show", str(cid)).stdout
    assert not raw_controls(out), (raw_controls(out), out)
    assert shown in out, out
    report = os.path.join(desk.home, "sar-notes.txt")
    desk.run("case", "export", str(cid), "--out", report)
    with open(report) as f:
        text = f.read()
    assert not raw_controls(text), (raw_controls(text), text)
    assert shown in text, text
    # the JSON export keeps the exact note (JSON escapes its control bytes)
    with open(report + ".json") as f:
        notes = [t.get("note") for t in json.load(f)["timeline"]]
    assert "old \x1b]0;pwned\x07\x1b[31m \u202eevil\u009b2J" in notes, notes
    log("case notes: refused with one line; a stored raw note shown escaped: ok")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)  # alice trader, bob/carol approvers, dave compliance (keys imported)
        # under tests/lib/pg.py run the desk's book is on the test's server
        assert bool(SERVER) == os.path.exists(os.path.join(desk.home, "book.conf"))
        desk.run("operator", "add", "erin", "--key", A[6], "--role", "compliance")
        dave, erin = ("--operator", "dave"), ("--operator", "erin")
        for name, who in (("Payer AG", A[0]), ("Payee 有限公司 🐉", SANCTIONED)):
            desk.run(*dave, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                     "--kyc", "verified", "--kyc-expires", "2099-12-31")
            desk.run(*dave, "entity", "link", name, "--chain", "local", "--address", who)

        bad = create_on_chain(chain, SANCTIONED)
        chain.act(bad, 0, "fund()", value=AMOUNT)
        chain.act(bad, 2, "approve()")
        chain.act(bad, 3, "approve()")
        r = desk.run("sync", "--once")
        assert "screened 1 new escrows: 1 hits, 1 cases opened" in r.stderr, r.stderr

        cases = desk.json("case", "list", "--json")
        assert len(cases) == 1 and cases[0]["escrow"].lower() == bad.lower(), cases
        case = cases[0]
        assert case["priority"] == "high" and case["state"] == "new", case
        cid = case["id"]
        shown = desk.json("case", "show", str(cid), "--json")
        assert [h["rule"] for h in shown["evidence"]] == ["sanctions"], shown["evidence"]
        assert shown["evidence"][0]["list_version"] == LIST_VERSION, shown["evidence"]
        assert "screened 0 new escrows" in desk.run("case", "screen").stdout
        log(f"case #{cid} opened by the automatic screening of fusion sync for {bad}")
        check_notes(desk, cid, dave)

        # a real release is refused before signing, naming the case
        n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
        r = desk.as_op("bob", "escrow", "release", bad, check=False, screen=False)
        expect_fail(r, f"case #{cid}", "compliance")
        assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
        assert escrow_state(chain, bad) == 1, "still funded on chain"  # 1: Funded
        log("release refused while the case is open: ok")

        # four-eyes: dave proposes, dave cannot confirm, a trader cannot act, erin confirms
        expect_fail(desk.run("--operator", "bob", "case", "take", str(cid), check=False),
                    "bob", "compliance role")
        out = desk.run(*dave, "case", "next").stdout
        assert f"case #{cid} assigned to dave" in out, out
        out = desk.run(*dave, "case", "clear", str(cid), "--note", "name match only").stdout
        assert "four-eyes" in out, out
        expect_fail(desk.run(*dave, "case", "clear", str(cid), check=False), "four-eyes")
        r = desk.as_op("bob", "escrow", "release", bad, check=False, screen=False)
        expect_fail(r, f"case #{cid}")
        out = desk.run(*erin, "case", "clear", str(cid)).stdout
        assert f"case #{cid} closed as cleared by erin" in out, out

        # the same release now goes through; the node shows the payee's balance
        before = eth_balance(chain, SANCTIONED)
        desk.as_op("bob", "escrow", "release", bad, screen=False)
        assert escrow_state(chain, bad) == 2, "released on chain"  # 2: Released
        assert eth_balance(chain, SANCTIONED) - before == AMOUNT
        log("release after four-eyes clearing: ok, payee paid on chain")

        # screening before a desk action: a create to the sanctioned payee is refused,
        # although create is not otherwise gated; nothing is signed; the hit opens a case
        n_alice, rows0 = nonce(chain, A[0]), desk.outbound_count()
        args = ("escrow", "create", "--token", "ETH", "--amount", "1", "--approvers",
                "bob,carol", "--threshold", "2", "--deadline", "7d", "--arbiter", A[4])
        r = desk.as_op("alice", *args, "--payee", SANCTIONED, check=False, screen=False)
        expect_fail(r, "sanctions list " + LIST_VERSION, "rule sanctions", "payee")
        assert nonce(chain, A[0]) == n_alice and desk.outbound_count() == rows0
        # ... and to an address on the desk's own list (a new list version)
        with open(os.path.join(desk.home, "desk-sanctions.txt"), "w") as f:
            f.write(f"{A[7]} desk decision 2026-11-27\n")
        os.chmod(os.path.join(desk.home, "desk-sanctions.txt"), 0o600)
        desk.run("--operator", "dave", "config", "sign", "sanctions")  # a signed decision
        r = desk.as_op("alice", *args, "--payee", A[7], check=False, screen=False)
        err = expect_fail(r, "sanctions list", "rule sanctions")
        assert LIST_VERSION not in err, err
        assert nonce(chain, A[0]) == n_alice and desk.outbound_count() == rows0
        refusals = [c for c in desk.json("case", "list", "--json")
                    if c["escrow"] == "0x0000000000000000000000000000000000000000"]
        assert len(refusals) == 2, refusals
        refused_evidence = {str(c["id"]): desk.json("case", "show", str(c["id"]), "--json")
                            ["evidence"] for c in refusals}
        assert all(len(v) == 1 for v in refused_evidence.values()), refused_evidence
        log("create to a sanctioned payee refused before signing: ok")

        # a reorg removes a screened escrow: the next sync drops its hits (a projection)
        # and keeps its case, noting that the escrow vanished
        gone = create_on_chain(chain, SANCTIONED)
        r = desk.run("sync", "--once")
        assert "screened 1 new escrows" in r.stderr and "1 cases opened" in r.stderr, r.stderr
        gcase = [c for c in desk.json("case", "list", "--json")
                 if c["escrow"].lower() == gone.lower()]
        assert len(gcase) == 1, gcase
        gid = str(gcase[0]["id"])
        assert len(desk.json("case", "show", gid, "--json")["evidence"]) == 1
        chain.node.rpc("anvil_rollback", 1)
        chain.node.mine(2)
        desk.run("sync", "--once")
        if desk.book:
            # with the book on the test's server (tests/lib/pg.py run): the sync's rewind
            # there wakes its screener too, whose sweep below reads the server
            assert desk.escrow_count(gone) == 0
        assert gone.lower() not in [x["address"].lower() for x in chain_escrows(desk)]
        shown = desk.json("case", "show", gid, "--json")
        # evidence is append-only: the reorg marks the hit, it does not delete it
        assert len(shown["evidence"]) == 1, shown["evidence"]
        assert shown["evidence"][0].get("reorged_at"), shown["evidence"]
        assert [t["action"] for t in shown["timeline"]][-1] == "escrow_vanished", shown["timeline"]
        assert any(c["id"] == int(gid) for c in desk.json("case", "list", "--json"))
        # the gate-refused creates never had an escrow: their hits and evidence stay as
        # recorded through the screening passes and the reorg, with no "vanished" note
        desk.run("case", "screen")
        for rid, ev in refused_evidence.items():
            now = desk.json("case", "show", rid, "--json")
            assert now["evidence"] == ev, (rid, ev, now["evidence"])
            assert "escrow_vanished" not in [t["action"] for t in now["timeline"]], now
        log("reorg: hits of the vanished escrow marked (kept), its case kept with a note; "
            "the gate-refused creates keep their evidence: ok")

        report = os.path.join(desk.home, "sar.txt")
        desk.run("case", "export", str(cid), "--out", report)
        with open(report + ".json") as f:
            rep = json.load(f)
        assert [d["operator"] for d in rep["decisions"]] == ["dave", "erin"], rep["decisions"]
        with open(report) as f:
            assert "SUSPICIOUS ACTIVITY REPORT" in f.read()
        for path in (report, report + ".json"):  # a report names people: 0600
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, (path, oct(os.stat(path).st_mode))
        desk.run("audit", "verify")
        log("compliance e2e: ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
