#!/usr/bin/python3
"""sync_inflows_catchup.py: transfers into the desk's own accounts found during a long
catch-up, through the real binary on anvil.

Native-coin transfers to two operators' accounts (alice A[0], bob A[2]) lie far apart on a
chain of more than 700 blocks, the second beyond the first 500 blocks; an ERC-20 transfer
lies in between. One `fusion sync --once` with small ranges read ahead of their commits
(--range 100 --max-addresses 0: the pipelined catch-up) stores all three, and the inflow
cursor stands past the last confirmed block: the inflows of a catch-up range are read with
it (on the helper thread) and committed in its transaction, and the scan once caught up
reads the rest; none is stored twice by a second run. A rollback of the block of the last
transfer then marks its row reorged (kept: evidence) and moves the cursor back.

With the desk's book on a PostgreSQL server (tests/lib/pg.py run: sync_inflows_catchup_pg)
the inflows and their cursor are the server's, written in the range's (or the scan's)
transaction there and marked by the server's rewind, and desk.db holds none; the sync's
screening pass reads them from the server and marks them in desk.db (inflows_screened),
each mark naming the server's database it was made on: book.conf switched to another
database (one on the same server, its inflows' ids those of the first's, marked or below
its marks) has every inflow of that one screened, none counted screened by the first's
marks, which stay."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, SERVER, artifact, cast, log, need_artifacts, Chain  # noqa
from desk_escrow import DeskUser  # noqa

CONFIRMATIONS = 3


def count(desk, where):
    return int(desk.book_query(f"SELECT count(*) FROM inflows {where}")[0][0])


def cursor(desk):
    rows = desk.book_query("SELECT next_block FROM inflow_cursor WHERE chain_id = 31337")
    assert len(rows) == 1, rows
    return int(rows[0][0])


def put_inflow(desk, sender, n, row_id=None):
    """An unscreened inflow row written on the server by hand (sender: SQL text; row_id:
    its id there, else the next one drawn)."""
    idc, idv = ("id, ", f"{row_id}, ") if row_id is not None else ("", "")
    desk.server_rows(
        f"INSERT INTO inflows ({idc}chain_id, block_number, block_hash, tx_hash, log_index,"
        " token, sender, recipient, amount, block_time, seen_at) VALUES"
        f" ({idv}31337, 2, '0x{n:064x}', '0x{n + 1:064x}', {n}, '0x{'0' * 40}', {sender},"
        f" '{A[0].lower()}', '5', 1, 1)")


def identity(url):
    """The identity of the database at url as the book's reader names it (pg_read.c's
    rd_feed_state: cluster system identifier / database oid / name)."""
    (ident,), = DeskUser._psql(
        url, "SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/'"
        " || (SELECT oid::text FROM pg_database WHERE datname = current_database()) || '/'"
        " || current_database()")
    return ident


def another_database(desk):
    """book.conf switched to another database on the server: a copy of the book, its
    inflows replaced by others, some with the ids of inflows marked on the first (which
    those marks must not count as screened), one with an id below the first's cursor that
    was never marked there (which that cursor must not skip). A pass screens every one
    (an unknown sender each: a case each), marks them as of the second database, and keeps
    the first's marks; the next pass reads none of them again."""
    first = desk.book
    marked = {int(i) for (i,) in desk.query("SELECT book_id FROM inflows_screened")}
    n_marks = len(marked)
    top = max(marked)
    low = [i for i in range(1, top) if i not in marked]
    assert low, ("no id below the first's cursor left unmarked", sorted(marked))
    name = first.split("@/", 1)[1].split("?", 1)[0]
    other = name + "_b"
    DeskUser._psql(SERVER, f"CREATE DATABASE {other} TEMPLATE {name}")
    url = first.replace(f"@/{name}?", f"@/{other}?")
    with open(os.path.join(desk.home, "book.conf"), "w") as f:
        f.write(f"db = {url}\n")
    desk.signed.sign_config("book")
    desk.book = url
    desk.server_rows("DELETE FROM inflows")
    ids = [top, min(marked), low[0]]
    senders = [f"0x{0xe1 + k:040x}" for k in range(len(ids))]
    for k, (row_id, sender) in enumerate(zip(ids, senders)):
        put_inflow(desk, f"'{sender}'", 2000 + 10 * k, row_id)
    desk.run("case", "screen")
    cases = desk.json("case", "list", "--json")
    seen = {c["subject"] for c in cases if c["about"]["kind"] == "inflow"}
    missed = [(i, s) for i, s in zip(ids, senders) if s not in seen]
    assert not missed, ("inflows of the second database not screened (id, sender)", missed)
    mine = {int(i) for (i,) in desk.query("SELECT book_id FROM inflows_screened WHERE book = ?",
                                          identity(url))}
    assert mine == set(ids), (mine, ids)
    kept = desk.query("SELECT count(*) FROM inflows_screened WHERE book = ?", identity(first))
    assert kept[0][0] == n_marks, (kept, n_marks)
    desk.server_rows(f"UPDATE inflows SET sender = 'not an address' WHERE id = {top}")
    r = desk.run("case", "screen", check=False)
    assert r.returncode == 0, ("a marked inflow of the second database read again", r.stderr)
    log("book.conf switched to another database: every inflow of it screened, none counted "
        "screened by the first's marks (kept): ok")


def case_screen_reads_the_server(desk):
    """`fusion case screen` (the command line's store, the book's reads attached) screens
    the server's inflows too, and a server's row is outside input."""
    put_inflow(desk, f"'{A[7].lower()}'", 900)
    r = desk.run("case", "screen")
    cases = desk.json("case", "list", "--json")
    assert any(c["subject"] == A[7].lower() and c["about"]["kind"] == "inflow"
               for c in cases), (r.stdout, cases)
    (sid,), = desk.server_rows("SELECT id FROM inflows WHERE log_index = 900")
    assert desk.query("SELECT count(*) FROM inflows_screened WHERE book_id = ?",
                      int(sid))[0][0] == 1
    put_inflow(desk, "E'0x\\x1b[2J" + "1" * 36 + "'", 910)
    r = desk.run("case", "screen", check=False)
    out = r.stdout + r.stderr
    assert r.returncode == 1 and "inflow row" in r.stderr, (r.returncode, out)
    assert "\x1b" not in out and len(r.stderr.strip().splitlines()) == 1, out
    desk.server_rows("DELETE FROM inflows WHERE log_index = 910")
    assert desk.run("case", "screen").returncode == 0
    log("case screen: the server's inflows screened into desk.db, a malformed row refused "
        "in one line: ok")
    marked_not_read_again(desk)


def marked_not_read_again(desk):
    """A pass reads only the server's inflows after each chain's last one desk.db marked:
    many inflows marked, then made unreadable on the server (a row read is checked as
    outside input, and these would be refused), and the next passes still succeed; a new
    inflow after them is read and marked."""
    many = range(1000, 1060)
    for n in many:
        put_inflow(desk, f"'{A[6].lower()}'", n)
    desk.run("case", "screen")
    ids = [int(i) for (i,) in desk.server_rows(
        "SELECT id FROM inflows WHERE log_index BETWEEN 1000 AND 1059")]
    marked = {i for (i,) in desk.query("SELECT book_id FROM inflows_screened WHERE chain_id"
                                       " = 31337")}
    assert len(ids) == len(many) and set(ids) <= marked, (ids, marked)
    desk.server_rows("UPDATE inflows SET sender = 'not an address'"
                     " WHERE log_index BETWEEN 1000 AND 1059")
    r = desk.run("case", "screen", check=False)
    assert r.returncode == 0, ("a marked inflow read again", r.stderr)
    put_inflow(desk, f"'{A[5].lower()}'", 1100)
    desk.run("case", "screen")
    (sid,), = desk.server_rows("SELECT id FROM inflows WHERE log_index = 1100")
    assert desk.query("SELECT count(*) FROM inflows_screened WHERE book_id = ?",
                      int(sid))[0][0] == 1
    desk.server_rows("DELETE FROM inflows WHERE log_index BETWEEN 1000 AND 1059")
    log("case screen: the server's inflows after each chain's last marked one are read, "
        "none of the marked ones: ok")
    another_database(desk)


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain, confirmations=CONFIRMATIONS)
        chain.node.mine(40)
        r1 = json.loads(chain.node.cast("send", "--unlocked", "--from", A[8], A[2], "--value",
                                        "12345", "--json"))
        tok = artifact("TestToken")
        ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
        token = chain.node.deploy(tok["bytecode"] + ctor[2:]).lower()
        chain.cast_send(A[0], token, "mint(address,uint256)", A[9], "5000000000")
        chain.node.mine(300)
        r2 = chain.cast_send(A[9], token, "transfer(address,uint256)", A[0], "7000000")
        chain.node.mine(300)
        r3 = json.loads(chain.node.cast("send", "--unlocked", "--from", A[9], A[0], "--value",
                                        "777", "--json"))
        chain.node.mine(CONFIRMATIONS + 5)
        head = chain.node.block_number()
        assert int(r3["blockNumber"], 16) > 500, r3["blockNumber"]
        desk.run("sync", "--once", "--range", "100", "--max-addresses", "0")
        assert "with reads ahead of commits" in desk.fusion_log(), "no pipelined catch-up"
        rows = [tuple(r) for r in desk.book_query(
            "SELECT sender, recipient, token, amount, tx_hash FROM inflows "
            "WHERE reorged_at IS NULL ORDER BY block_number")]
        zero = "0x" + "0" * 40
        got = [(s, r, t, a) for s, r, t, a, _h in rows]
        want = [(A[8].lower(), A[2].lower(), zero, "12345"),
                (A[9].lower(), A[0].lower(), token, "7000000"),
                (A[9].lower(), A[0].lower(), zero, "777")]
        assert got == want, rows
        hashes = [h for *_x, h in rows]
        assert hashes == [r1["transactionHash"], r2["transactionHash"],
                          r3["transactionHash"]], hashes
        cur = cursor(desk)
        assert cur == head - CONFIRMATIONS + 1, (cur, head)
        # The sync's screening pass read them where they are: each screened once (desk.db's
        # mark, on a server-book desk by the server's id), the unknown senders' cases open.
        ids = sorted(int(i) for (i,) in desk.book_query("SELECT id FROM inflows"))
        if desk.book:
            marked = sorted(i for (i,) in desk.query("SELECT book_id FROM inflows_screened"))
        else:
            marked = sorted(i for (i,) in desk.query(
                "SELECT id FROM inflows WHERE screened_at IS NOT NULL"))
        assert marked == ids and len(ids) == 3, (marked, ids)
        cases = desk.json("case", "list", "--json")
        about = sorted((c["subject"], c["about"]["account"].lower()) for c in cases
                       if c["about"]["kind"] == "inflow")
        assert about == sorted([(A[8].lower(), A[2].lower()), (A[9].lower(), A[0].lower())]), \
            cases
        desk.run("sync", "--once", "--range", "100", "--max-addresses", "0")
        assert count(desk, "") == 3
        assert len(desk.json("case", "list", "--json")) == len(cases)  # none screened twice
        if desk.book:  # the server's alone: this workstation's desk.db has none
            assert desk.query("SELECT count(*) FROM inflows")[0][0] == 0
            assert desk.query("SELECT count(*) FROM inflow_cursor")[0][0] == 0
        log("inflows of a long pipelined catch-up: all three found, cursor past the last "
            "confirmed block, none twice: ok")

        # The block of the last transfer rolled back: its row is marked, not deleted.
        b3 = int(r3["blockNumber"], 16)
        chain.node.rpc("anvil_rollback", head - b3 + 1)
        chain.node.mine(CONFIRMATIONS + 2)
        desk.run("sync", "--once", "--range", "100", "--max-addresses", "0")
        assert ": reorg: " in desk.fusion_log(), "no reorg noticed"
        gone = desk.book_query("SELECT tx_hash FROM inflows WHERE reorged_at IS NOT NULL")
        assert [tuple(g) for g in gone] == [(r3["transactionHash"],)], gone
        assert count(desk, "WHERE reorged_at IS NULL AND block_number < %d" % b3) == 2
        assert cursor(desk) <= chain.node.block_number() - CONFIRMATIONS + 1
        log("a rolled-back block's inflow marked reorged, the others kept: ok")
        if desk.book:
            case_screen_reads_the_server(desk)
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
