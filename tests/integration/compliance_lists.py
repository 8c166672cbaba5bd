#!/usr/bin/python3
"""compliance_lists.py: `fusion lists import` through the real binary on anvil.

A small SDN.CSV in OFAC's published layout (tests/vectors/lists/sdn-v1.csv: 12 fields,
nulls as unquoted "-0- ", CR LF, the DOS end-of-file byte; remarks with several "Digital
Currency Address - ASSET ADDR" statements, "alt." prefixes, mixed-case EVM addresses and
Bitcoin/Tron/Monero addresses that must be skipped) is imported as version 1: its counts
are checked. An escrow to a payee of a verified entity is created and funded on chain and
screened by `fusion sync --once` (no case). Then an update (version 2) lists the payee in
mixed case with "alt.": the next `fusion sync --once` opens a high-priority case whose
evidence names list version 2, and the version is marked re-screened. Malformed files
(wrong field count, a broken address, an unclosed quote, a plain list without a name or
with a bad line, an older publication, the same file again) are refused with one line
naming the line and the reason, and nothing of them is stored (no version, no audit row).
The advanced XML and the FATF file are imported too, and a list older than
lists.max_age_days raises a "list:" alert."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, artifact, cast, log, need_artifacts, Chain  # noqa
from desk_escrow import DeskUser  # noqa
from compliance_e2e import create_on_chain, AMOUNT  # noqa

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors", "lists")
PAYEE = A[5]  # anvil dev account 5
PAYEE_MIXED = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
BORROWER = A[6]  # the linked address of a credit facility's entity


def write(path, text, mode=0o600):
    with open(path, "w", newline="") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def expect_refused(r, *contains):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for c in contains:
        assert c in r.stderr, (c, r.stderr)
    return r.stderr


def inflows(chain, desk):
    """A[8] is on the plain list "old-list" (imported above); A[9] is nobody's. Transfers
    into the desk's own accounts (alice A[0], bob A[2]: operators): an ERC-20 transfer and
    a native one from A[8], an ERC-20 one from A[9], and alice paying bob (the desk's own
    money, no case). One `fusion sync --once` stores them and its screening opens a case
    per sender and desk account, with the transfer as evidence."""
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:]).lower()
    for who in (A[8], A[9], A[0]):
        chain.cast_send(A[0], token, "mint(address,uint256)", who, "5000000000")
    r1 = chain.cast_send(A[8], token, "transfer(address,uint256)", A[0], "100000000")
    r2 = chain.node.cast("send", "--unlocked", "--from", A[8], A[2], "--value", "12345",
                         "--json")
    r2 = json.loads(r2)
    chain.cast_send(A[9], token, "transfer(address,uint256)", A[0], "7000000")
    chain.cast_send(A[0], token, "transfer(address,uint256)", A[2], "1000000")
    before = {c["id"] for c in desk.json("case", "list", "--json")}
    desk.run("sync", "--once")
    rows = desk.query("SELECT sender, recipient, token, amount, tx_hash, reorged_at, "
                      "screened_at FROM inflows ORDER BY id")
    got = {(s, r, t, a) for s, r, t, a, _h, _re, _sc in rows}
    zero = "0x" + "0" * 40
    assert (A[8].lower(), A[0].lower(), token, "100000000") in got, rows
    assert (A[8].lower(), A[2].lower(), zero, "12345") in got, rows
    assert (A[9].lower(), A[0].lower(), token, "7000000") in got, rows
    assert (A[0].lower(), A[2].lower(), token, "1000000") in got, rows
    assert all(sc for *_x, sc in rows), rows
    new = [c for c in desk.json("case", "list", "--json") if c["id"] not in before]
    # an inflow case is about the transfer, not an escrow: the desk account and tx hash
    assert all(c["escrow"] is None and c["about"]["kind"] == "inflow" for c in new), new
    by = {(c["subject"], c["about"]["account"].lower()): c for c in new}
    assert (A[8].lower(), A[0].lower()) in by and (A[8].lower(), A[2].lower()) in by, new
    assert by[(A[8].lower(), A[0].lower())]["priority"] == "high", new
    assert (A[9].lower(), A[0].lower()) in by, new
    assert not any(c["subject"] == A[0].lower() for c in new), new  # the desk's own money
    shown = desk.json("case", "show", str(by[(A[8].lower(), A[0].lower())]["id"]), "--json")
    ev = " ".join(h["evidence"] for h in shown["evidence"])
    assert r1["transactionHash"] in ev and "sanctions" in ev, shown["evidence"]
    assert by[(A[8].lower(), A[0].lower())]["about"]["tx"] == r1["transactionHash"], new
    text = desk.run("case", "show", str(by[(A[8].lower(), A[0].lower())]["id"])).stdout
    assert "inflow " + r1["transactionHash"] in text and "escrow" not in text, text
    shown = desk.json("case", "show", str(by[(A[8].lower(), A[2].lower())]["id"]), "--json")
    ev = " ".join(h["evidence"] for h in shown["evidence"])
    assert r2["transactionHash"] in ev and "native coin" in ev, shown["evidence"]
    unknown = desk.json("case", "show", str(by[(A[9].lower(), A[0].lower())]["id"]), "--json")
    assert [h["rule"] for h in unknown["evidence"]] == ["unknown_counterparty"], unknown
    # a second pass screens nothing twice
    n = len(desk.json("case", "list", "--json"))
    desk.run("sync", "--once")
    assert len(desk.json("case", "list", "--json")) == n
    assert desk.query("SELECT count(*) FROM inflows")[0][0] == len(rows)
    # ... and takes nothing for gone: an inflow's case is keyed by the desk account, which is
    # no escrow (the reorg sweep of a later pass took it for a vanished one: its hits marked
    # reorged, its case noted "escrow_vanished")
    text = desk.run("case", "show", str(by[(A[8].lower(), A[0].lower())]["id"])).stdout
    assert "escrow" not in text and "reorg" not in text, text
    assert desk.query("SELECT count(*) FROM screening_hits WHERE evidence LIKE 'inflow tx %'"
                      " AND reorged_at IS NOT NULL")[0][0] == 0
    assert desk.query("SELECT count(*) FROM case_events WHERE action = 'escrow_vanished'")[0][0] \
        == 0
    log("inflows: a sanctioned sender's ERC-20 and native transfers and an unknown sender "
        "open cases with the transfer as evidence; the desk's own transfer does not: ok")

    # a reorg that removes an inflow marks it (evidence is append-only), never deletes it
    snap = chain.node.rpc("evm_snapshot")
    chain.node.cast("send", "--unlocked", "--from", A[9], A[2], "--value", "777", "--json")
    desk.run("sync", "--once")
    q = "SELECT count(*), sum(reorged_at IS NOT NULL) FROM inflows WHERE amount = '777'"
    assert desk.query(q)[0] == (1, 0), desk.query(q)
    assert chain.node.rpc("evm_revert", snap) is True
    chain.node.mine(3)
    desk.run("sync", "--once")
    assert desk.query(q)[0] == (1, 1), desk.query(q)
    total = desk.query("SELECT count(*) FROM inflows WHERE reorged_at IS NULL")[0][0]
    assert total == len(rows), (total, rows)
    log("inflows: a reorged transfer is marked reorged, kept as evidence: ok")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)
        dave = ("--operator", "dave")
        for name, who in (("Payer AG", A[0]), ("Payee GmbH", PAYEE)):
            desk.run(*dave, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                     "--kyc", "verified", "--kyc-expires", "2099-12-31")
            desk.run(*dave, "entity", "link", name, "--chain", "local", "--address", who)
        payee_entity = [x for x in desk.json("entity", "list", "--json")
                        if x["name"] == "Payee GmbH"][0]["id"]
        # a credit facility of another verified entity: no escrow, its money is in the loan
        desk.run(*dave, "entity", "add", "Borrower SA", "--type", "company", "--jurisdiction",
                 "CH", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run(*dave, "entity", "link", "Borrower SA", "--chain", "local", "--address",
                 BORROWER)
        borrower_entity = [x for x in desk.json("entity", "list", "--json")
                           if x["name"] == "Borrower SA"][0]["id"]
        desk.signed.add("rita", "risk")
        desk.run("--operator", "rita", "credit", "facility", "add", "borrower-line", "--entity",
                 "Borrower SA", "--currency", "USDC", "--limit", "25000", "--rate", "5")

        with open(os.path.join(VEC, "sdn-v1.csv"), newline="") as f:
            v1_text = f.read()
        d = os.path.join(desk.home, "lists")
        os.makedirs(d, exist_ok=True)
        v1 = write(os.path.join(d, "SDN.CSV"), v1_text)

        def versions():
            return desk.json("lists", "list", "--all", "--json")

        def audit_imports():
            return desk.run("audit", "list").stdout.count("compliance.list_import")

        # SDN.CSV has no publication date: it must be given
        expect_refused(desk.run(*dave, "lists", "import", v1, "--format", "sdn-csv",
                                check=False), "--published")
        r = desk.run(*dave, "lists", "import", v1, "--format", "sdn-csv", "--published",
                     "2026-11-02")
        assert "version 1" in r.stdout, r.stdout
        vs = versions()
        assert len(vs) == 1, vs
        # 4 distinct EVM addresses (one listed twice in two cases), 5 other-chain ones
        assert vs[0]["name"] == "ofac-sdn" and vs[0]["entries"] == 4, vs
        assert vs[0]["skipped"] == 5 and vs[0]["added"] == 4 and vs[0]["removed"] == 0, vs
        assert audit_imports() == 1
        log("SDN.CSV v1: 4 EVM addresses, 5 other-chain addresses skipped: ok")

        # an escrow with money in flight to a payee not (yet) listed: no case
        esc = create_on_chain(chain, PAYEE)
        chain.act(esc, 0, "fund()", value=AMOUNT)
        desk.run("sync", "--once")
        assert desk.json("case", "list", "--json") == [], desk.json("case", "list", "--json")
        assert versions()[0]["rescreened_at"] > 0

        # malformed files: refused with line and reason, nothing stored
        bad = {
            "fields.csv": (v1_text.replace('"SDGT",-0- ,', '"SDGT",', 1), ":2:", "fields"),
            "addr.csv": (v1_text.replace("0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff",
                                         "0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4d"), ":3:",
                         "not an EVM address"),
            "quote.csv": (v1_text.replace('"individual"', '"individual', 1), ":2:", "quote"),
        }
        for name, (text, line, why) in bad.items():
            p = write(os.path.join(d, name), text)
            expect_refused(desk.run(*dave, "lists", "import", p, "--format", "sdn-csv",
                                    "--published", "2026-11-03", check=False),
                           name + line, why)
        plain = write(os.path.join(d, "desk-extra.txt"), f"# ours\n{A[7]}\n0x1234 short\n")
        expect_refused(desk.run(*dave, "lists", "import", plain, "--format", "plain",
                                "--published", "2026-11-03", check=False), "--name")
        expect_refused(desk.run(*dave, "lists", "import", plain, "--format", "plain", "--name",
                                "extra", "--published", "2026-11-03", check=False),
                       "desk-extra.txt:3:", "not an EVM address")
        expect_refused(desk.run(*dave, "lists", "import", v1, "--format", "sdn-csv",
                                "--published", "2026-11-02", check=False), "same SHA-256")
        # a trader cannot import
        r = desk.run("--operator", "alice", "--passphrase-file", desk.pw, "lists", "import", v1,
                     "--format", "sdn-csv", "--published", "2026-11-05", check=False)
        assert r.returncode != 0 and "compliance" in r.stderr, r.stderr
        assert len(versions()) == 1 and audit_imports() == 1
        log("malformed list files refused with line and reason; nothing stored: ok")

        # the update: the payee, mixed case behind "alt.", and one address removed
        rec = (f'40001,"NEW LISTING LTD",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
               f'"Digital Currency Address - XBT bc1qexampleexampleexample; alt. Digital '
               f'Currency Address - ETH {PAYEE_MIXED}; alt. Digital Currency Address - ETH '
               f'{BORROWER}."')
        v2_text = v1_text.replace("\x1a", rec + "\r\n\x1a").replace(
            "; alt. Digital Currency Address - ETH 0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff",
            "")
        v2 = write(os.path.join(d, "SDN-2.CSV"), v2_text)
        older = desk.run(*dave, "lists", "import", v2, "--format", "sdn-csv", "--published",
                         "2026-11-01", check=False)
        expect_refused(older, "before version 1")
        desk.run(*dave, "lists", "import", v2, "--format", "sdn-csv", "--published",
                 "2026-11-09")
        vs = versions()
        assert len(vs) == 2 and vs[1]["version"] == 2, vs
        assert vs[1]["added"] == 2 and vs[1]["removed"] == 1 and vs[1]["entries"] == 5, vs
        assert vs[1]["rescreened_at"] == 0, vs
        # the next screening pass: a high-severity case naming the list version
        desk.run("sync", "--once")
        cases = desk.json("case", "list", "--json")
        assert len(cases) == 2, cases
        c = [c for c in cases if c["subject"] == f"entity:{payee_entity}"][0]
        assert c["escrow"].lower() == esc.lower() and c["priority"] == "high", c
        assert c["subject"] == f"entity:{payee_entity}", c
        shown = desk.json("case", "show", str(c["id"]), "--json")
        ev = [h for h in shown["evidence"] if h["rule"] == "sanctions"]
        assert ev and "list version 2" in ev[0]["evidence"], shown["evidence"]
        assert PAYEE.lower() in ev[0]["evidence"], ev
        assert versions()[1]["rescreened_at"] > 0
        # the facility's entity is re-screened too: its own high-severity case
        fc = [c for c in cases if c["subject"] == f"entity:{borrower_entity}"]
        assert len(fc) == 1 and fc[0]["priority"] == "high", cases
        assert fc[0]["about"] == {"kind": "facility", "facility": "borrower-line"}, fc
        assert fc[0]["escrow"] is None, fc
        shown = desk.json("case", "show", str(fc[0]["id"]), "--json")
        ev = [h for h in shown["evidence"] if h["rule"] == "sanctions"]
        assert ev and "list version 2" in ev[0]["evidence"], shown["evidence"]
        assert BORROWER.lower() in ev[0]["evidence"], ev
        text = desk.run("case", "show", str(fc[0]["id"])).stdout
        assert "credit facility borrower-line" in text, text
        log(f"update v2: facility case #{fc[0]['id']} naming list version 2: ok")
        # the gate refuses to move the money now
        r = desk.as_op("bob", "escrow", "approve", esc, check=False, screen=False)
        assert r.returncode == 1 and "sanctions" in r.stderr, r.stderr
        rules = desk.run("case", "rules").stdout
        assert "# sanctions list 2026-11-09/" in rules, rules
        log(f"update v2: case #{c['id']} opened in the next pass naming list version 2: ok")

        # OFAC's advanced XML and the FATF file
        xml = write(os.path.join(d, "sdn_advanced.xml"), open(
            os.path.join(VEC, "sdn_advanced.xml")).read())
        desk.run(*dave, "lists", "import", xml, "--format", "ofac-xml", "--name", "ofac-adv")
        vx = [v for v in versions() if v["name"] == "ofac-adv"][0]
        assert vx["published"] == "2026-11-10" and vx["entries"] == 2 and vx["skipped"] == 1, vx
        fatf_src = os.path.join(HERE, "..", "..", "data", "compliance", "fatf-jurisdictions.csv")
        fatf = write(os.path.join(d, "fatf.csv"), open(fatf_src).read())
        desk.run(*dave, "lists", "import", fatf, "--format", "fatf")
        vf = [v for v in versions() if v["name"] == "fatf"][0]
        assert vf["kind"] == "jurisdictions" and vf["entries"] == 23, vf
        # a list older than lists.max_age_days raises an alert
        old = write(os.path.join(d, "old.txt"), f"{A[8]}\n")
        desk.run(*dave, "lists", "import", old, "--format", "plain", "--name", "old-list",
                 "--published", "2020-01-01")
        desk.run("sync", "--once")
        alerts = desk.json("alerts", "--json")
        keys = [a["key"] for a in alerts]
        assert "list:old-list:stale" in keys, keys
        assert audit_imports() == 5
        log("advanced XML, FATF and a stale plain list: ok")

        # inflows: transfers into the desk's accounts are synced and screened like parties
        inflows(chain, desk)
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
