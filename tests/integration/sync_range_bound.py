#!/usr/bin/python3
"""sync_range_bound.py: what a catch-up holds in memory is bounded per range, not by the
chain's length, through the real binary on anvil.

A pipelined catch-up (--max-addresses 0) holds a range's logs until it commits, and the
escrows it folds from one commit to the next. With `--range-logs N` an eth_getLogs answer
of more than N logs over more than one block is cut short while it arrives and the range
comes down to the blocks read whole; one block is always read whole (a block of more than
N logs here). The first range asked for covers the whole chain (--range 1000), so the
unbounded reader would hold every log of the chain at once.

The chain thread's debug log names what each range held (`blocks a..b: n logs`) and, at
the end of the catch-up, the most logs and folded escrows one range held. Two fresh desks
sync the same chain at two lengths (the second with three times the escrows): every range
of more than one block holds at most N logs, the most one range held is the same at both
lengths, and the folded escrows stay within what two ranges touch (not all the escrows of
the chain). Counters, not resident memory or time: the test cannot flake on a busy machine.
Exactness: each desk's events equal the node's eth_getLogs, and its escrows equal those of
a desk synced with the default limit."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (A, CREATE_SIG, ZERO, Chain, Desk, assert_db_matches_node, log,  # noqa
                      need_artifacts)

RANGE_LOGS = 6
HEAVY = 9  # escrows created in one block: more logs than RANGE_LOGS


def create_many(chain, n):
    """n escrows, one block each; every other one funded in a later block (touched again)."""
    made = [chain.create_escrow(payer=0, payee=1, amount=1000, via="rpc") for _ in range(n)]
    for x in made[::2]:
        chain.act(x, 0, "fund()", value=1000, via="rpc")
    return made


def heavy_block(chain):
    """HEAVY escrows created in one block (automine off, then one block mined)."""
    node = chain.node
    node.rpc("evm_setAutomine", False)
    try:
        deadline = 2_000_000_000
        appr = "[" + ",".join(A[i] for i in (2, 3, 4)) + "]"
        data = chain.calldata(CREATE_SIG, A[1], ZERO, "1000", appr, "2", A[5], str(deadline))
        txs = [node.send(chain.factory, data, sender=A[0], gas=3_000_000, wait=False)
               for _ in range(HEAVY)]
        node.mine(1)
    finally:
        node.rpc("evm_setAutomine", True)
    for t in txs:
        r = node.receipt(t)
        assert int(r["status"], 16) == 1, r
    return int(node.receipt(txs[0])["blockNumber"], 16)


def catch_up(chain, limit=True):
    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    args = ["sync", "--once", "--range", "1000", "--max-range", "1000", "--max-addresses", "0"]
    if limit:
        args += ["--range-logs", str(RANGE_LOGS)]
    desk.run(*args)
    return desk


def held(desk, heavy):
    """(most logs of one range, most folded escrows) from the debug log; checks each range."""
    text = desk.fusion_log()
    ranges = [(int(a), int(b), int(n)) for a, b, n in
              re.findall(r"blocks (\d+)\.\.(\d+): (\d+) logs in", text)]
    assert ranges, "no range in the debug log"
    for a, b, n in ranges:
        if a == b == heavy:
            assert n >= HEAVY, (a, b, n)  # one block: read whole
        else:
            assert n <= RANGE_LOGS, \
                f"blocks {a}..{b} held {n} logs at once (limit {RANGE_LOGS}): {ranges}"
    m = re.findall(r"catch-up held at most (\d+) logs and (\d+) folded escrows", text)
    assert m, "no catch-up summary in the debug log"
    logs, escrows = map(int, m[-1])
    assert logs == max(n for _, _, n in ranges), (logs, ranges)
    return logs, escrows, len(ranges)


def same_escrows(a, b):
    q = "SELECT * FROM escrows ORDER BY chain_id, address"
    ra, rb = a.book_query(q), b.book_query(q)
    assert ra, "no escrows to compare"
    assert ra == rb, "the escrows differ between a bounded and an unbounded catch-up"


def main():
    need_artifacts()
    os.environ["FUSION_LOG_LEVEL"] = "debug"
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        create_many(chain, 4)
        heavy = heavy_block(chain)
        create_many(chain, 4)
        short = catch_up(chain)
        s_logs, s_escrows, s_ranges = held(short, heavy)
        assert_db_matches_node(short, chain, "bounded catch-up, short chain")
        same_escrows(short, catch_up(chain, limit=False))

        create_many(chain, 26)  # three times the escrows (17 + 26), twice the blocks and more
        long_ = catch_up(chain)
        l_logs, l_escrows, l_ranges = held(long_, heavy)
        assert_db_matches_node(long_, chain, "bounded catch-up, long chain")
        same_escrows(long_, catch_up(chain, limit=False))

        total = int(long_.book_query("SELECT count(*) FROM escrows")[0][0])
        assert total == 4 + HEAVY + 4 + 26, total
        assert l_ranges > s_ranges, (s_ranges, l_ranges)
        assert l_logs == s_logs, f"one range held {s_logs} logs, then {l_logs} on a longer chain"
        # a range's own escrows plus what the last one touched: at most two ranges' logs
        bound = 2 * max(RANGE_LOGS, s_logs)
        assert s_escrows <= bound and l_escrows <= bound < total, \
            f"folded escrows held: {s_escrows} then {l_escrows} (bound {bound}, {total} escrows)"
        log(f"ranges bounded: at most {l_logs} logs and {l_escrows} folded escrows in a range "
            f"at {total} escrows, as at {4 + HEAVY + 4} ({s_logs}, {s_escrows}): ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
