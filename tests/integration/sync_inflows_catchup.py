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
screening pass reads them from the server and marks them in desk.db (inflows_screened)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, artifact, cast, log, need_artifacts, Chain  # noqa
from desk_escrow import DeskUser  # noqa

CONFIRMATIONS = 3


def count(desk, where):
    return int(desk.book_query(f"SELECT count(*) FROM inflows {where}")[0][0])


def cursor(desk):
    rows = desk.book_query("SELECT next_block FROM inflow_cursor WHERE chain_id = 31337")
    assert len(rows) == 1, rows
    return int(rows[0][0])


def put_inflow(desk, sender, n):
    """An unscreened inflow row written on the server by hand (sender: SQL text)."""
    desk.server_rows(
        "INSERT INTO inflows (chain_id, block_number, block_hash, tx_hash, log_index, token,"
        f" sender, recipient, amount, block_time, seen_at) VALUES (31337, 2, '0x{n:064x}',"
        f" '0x{n + 1:064x}', {n}, '0x{'0' * 40}', {sender}, '{A[0].lower()}', '5', 1, 1)")


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
