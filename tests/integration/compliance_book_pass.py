#!/usr/bin/python3
"""compliance_book_pass.py: the sync's screening pass on a desk whose book is on a
PostgreSQL server reads the server's escrows only when they may have changed, through the
real binary on anvil and a real server (tests/lib/pg.py run: compliance_book_pass_pg).

A `fusion sync` left running (FUSION_LOG_LEVEL=debug) screens the chain's two escrows;
then blocks without escrows are mined, and the screening thread's next wake-ups find the
escrows' version on the server (their count, the change feed's last id) as the last
complete pass read it and do not read the escrows again (the debug line
"unchanged since the last pass"; no further "reading the book's escrows"). An escrow row
then written on the server by another process (as another workstation's syncer writes
one) moves the version: the next wake-up reads the escrows and marks it in desk.db; its
row then removed there (as a reorg's rewind removes one) moves it again: the next
wake-up's sweep drops its mark."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import SERVER, Chain, Desk, log, need_artifacts, wait_until  # noqa

OTHER = "0x" + "ab" * 20


def marks(desk):
    return {a for (a,) in desk.query("SELECT escrow FROM screened_escrows")}


def main():
    need_artifacts()
    if not SERVER:
        log("compliance_book_pass: a desk whose book is on a server only (tests/lib/pg.py run)")
        return
    os.environ["FUSION_LOG_LEVEL"] = "debug"
    chain = Chain(chain_id=31337).start()
    desk = Desk()
    try:
        chain.deploy()
        chain.create_escrow(via="rpc")
        chain.create_escrow(via="rpc")
        chain.node.mine(2)
        desk.add_chain(chain, confirmations=0)
        desk.follow("--poll-ms", "100")
        desk.wait_follower()
        wait_until(lambda: len(marks(desk)) == 2, "the two escrows screened")

        def count(text):
            return desk.fusion_log().count(text)

        # (a pass already running when the marks appeared may read them once more)
        wait_until(lambda: count("unchanged since the last pass") >= 1,
                   "a pass that skips the unchanged escrows", timeout=200)
        reads = count("screening pass: reading the book's escrows")
        skips = count("unchanged since the last pass")
        chain.node.mine(2)
        wait_until(lambda: count("unchanged since the last pass") >= skips + 2,
                   "two more passes that skip the unchanged escrows", timeout=200)
        assert count("screening pass: reading the book's escrows") == reads, \
            desk.fusion_log()[-3000:]
        log("passes after blocks without escrows: the server's escrows not read again: ok")

        # another process writes an escrow on the server: the next wake-up reads and marks it
        desk.server_rows("CREATE TEMP TABLE t AS SELECT * FROM escrows LIMIT 1;"
                         f" UPDATE t SET address = '{OTHER}';"
                         " INSERT INTO escrows SELECT * FROM t")
        chain.node.mine(1)
        wait_until(lambda: OTHER in marks(desk), "the escrow written by another process screened",
                   timeout=200)
        assert count("screening pass: reading the book's escrows") > reads
        log("an escrow written on the server by another process: screened at the next "
            "wake-up: ok")

        # its row removed there (as a reorg's rewind removes one): the next wake-up sweeps
        desk.server_rows(f"DELETE FROM escrows WHERE address = '{OTHER}'")
        chain.node.mine(1)
        wait_until(lambda: OTHER not in marks(desk), "the removed escrow's mark swept",
                   timeout=200)
        log("an escrow removed on the server: its mark swept at the next wake-up: ok")
    finally:
        desk.stop_follow()
        chain.node.stop()


if __name__ == "__main__":
    main()
