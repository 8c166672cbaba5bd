#!/usr/bin/python3
"""sync_screen_early.py: the automatic screening of a pipelined catch-up starts after the
catch-up's first commit, not after its last one, through the real binary on anvil.

Escrows are created in the first blocks of a chain of more than 400 blocks; one `fusion
sync --once` with small ranges read ahead of their commits (--range 100 --max-addresses 0:
the pipelined catch-up) stores them. The chain thread's log (FUSION_LOG_LEVEL=debug) shows
the after-commit hook (which wakes the screening thread) called right after the first
range's commit, before the second range's; the screening then covers every escrow, and
--once still waits for it. Under tests/lib/pg.py run the desk's book is on the test's
server: the escrows are read there, the screened marks in desk.db."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import SERVER, Chain, Desk, log, need_artifacts  # noqa

ESCROWS = 6


def main():
    need_artifacts()
    os.environ["FUSION_LOG_LEVEL"] = "debug"
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        for _ in range(ESCROWS):
            chain.create_escrow(via="rpc")
        chain.node.mine(420)
        desk = Desk()
        desk.add_chain(chain, confirmations=0)
        desk.run("sync", "--once", "--range", "100", "--max-range", "100",
                 "--max-addresses", "0")
        text = desk.fusion_log()
        assert "with reads ahead of commits" in text, "no pipelined catch-up"
        lines = [ln for ln in text.splitlines()
                 if re.search(r"blocks \d+\.\.\d+: \d+ logs in .* commit", ln)
                 or "after-commit hook after blocks" in ln]
        commits = [i for i, ln in enumerate(lines) if "after-commit hook" not in ln]
        assert len(commits) >= 3, lines
        first = re.search(r"blocks (\d+\.\.\d+):", lines[commits[0]]).group(1)
        hook = [i for i, ln in enumerate(lines) if "after-commit hook" in ln]
        assert hook, f"the hook was never called during the catch-up: {lines}"
        assert hook[0] == commits[0] + 1 and lines[hook[0]].endswith(f"blocks {first}"), \
            f"the hook did not follow the first commit ({first}): {lines}"
        # the escrows where the desk keeps its book (desk.db, or the test's server under
        # tests/lib/pg.py run), the screened marks in desk.db
        if SERVER:
            assert desk.book and os.path.exists(os.path.join(desk.home, "book.conf"))
            assert desk.query("SELECT count(*) FROM escrows")[0][0] == 0
        book = {(int(c), a) for c, a in desk.escrow_rows("chain_id, address")}
        marks = {(int(c), a) for c, a in desk.query("SELECT chain_id, escrow "
                                                    "FROM screened_escrows")}
        unscreened = book - marks
        assert len(book) == ESCROWS and not unscreened, (book, unscreened)
        log("screening woken after the first commit of a pipelined catch-up, every escrow "
            "screened when --once returns: ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
