#!/usr/bin/python3
"""sync_stale_rows.py: a catch-up of many ranges writes an escrow's row when the escrow is
created and again at the catch-up's end, not at every commit; the escrows whose rows lag
behind the stored events are listed in escrows_stale in the same commit.

1. Killed (SIGKILL) while rows lag: the list names them and each listed row holds fewer
   events than are stored for it; the next `fusion sync --once` rebuilds them from their
   events and empties the list. The escrows then equal what `fusion reindex` rebuilds from
   the events, row for row, and the events equal the node's.
2. Stopped (SIGTERM) while rows lag: it writes them before it exits, the list is empty.
3. A catch-up that ends by itself leaves the list empty and the same rows as a reindex."""
import os
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import Chain, Desk, assert_db_matches_node, log, need_artifacts  # noqa: E402

ESCROWS = int(os.environ.get("FUSION_STALE_ESCROWS", "24"))
# Two blocks a range, by event signature: a pipelined catch-up of dozens of commits, and
# every escrow touched again by ranges after the one that created it.
SYNC = ("sync", "--range", "2", "--max-range", "2", "--max-addresses", "0", "--quiet")


def escrow_rows(desk):
    return desk.query("SELECT * FROM escrows ORDER BY chain_id, address")


def same_as_reindex(desk, what):
    before = escrow_rows(desk)
    assert before, f"{what}: no escrows"
    desk.run("reindex")
    after = escrow_rows(desk)
    if before != after:
        diff = [(b, a) for b, a in zip(before, after) if b != a]
        raise AssertionError(f"{what}: {len(diff)} escrow rows differ from their rebuild from "
                             f"the events, e.g. {diff[:1]}")


def lagging(desk, chain_id):
    """(listed escrows, how many of them hold fewer events than stored), one snapshot."""
    con = sqlite3.connect(f"file:{desk.home}/desk.db?mode=ro", uri=True, timeout=30)
    try:
        con.execute("BEGIN")
        listed = [bytes(r[0]) for r in con.execute(
            "SELECT address FROM escrows_stale WHERE chain_id = ?", (chain_id,))]
        stored = {bytes(r[0]): r[1] for r in con.execute(
            "SELECT escrow, count(*) FROM events WHERE chain_id = ? AND escrow IS NOT NULL"
            " GROUP BY escrow", (chain_id,))}
        rows = {bytes.fromhex(r[0][2:]): r[1] for r in con.execute(
            "SELECT address, events FROM escrows WHERE chain_id = ?", (chain_id,))}
        con.execute("COMMIT")
    finally:
        con.close()
    behind = sum(1 for a in listed if rows.get(a, 0) < stored.get(a, 0))
    return listed, behind


def stop_while_lagging(chain, head, sig, counts):
    """Follows the chain on a new desk until a look finds escrow rows listed and behind
    their events, then stops the sync with sig; counts(desk, exit status) says whether the
    stop landed where the test wants it. Up to eight desks; the desk, or None."""
    for attempt in range(8):
        desk = Desk()
        desk.add_chain(chain, confirmations=0)
        p = desk.follow(*SYNC[1:])
        found = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and p.poll() is None:
            listed, behind = lagging(desk, chain.chain_id)
            if listed and behind:
                found = True
                break
            cp = desk.checkpoint(chain.chain_id)
            if cp and cp[0] >= head:
                break  # caught up before a look found rows behind: again, on a new desk
            time.sleep(0.002)
        rc = desk.stop_follow(sig=sig)
        if counts(desk, rc) and found:
            return desk
        log(f"attempt {attempt}: the stop found no rows behind, again")
    return None


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    # Created, then funded, then approved twice, each phase over all escrows: every
    # escrow has events in ranges well after the one that creates it.
    escrows = [chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2,
                                   arbiter=5, amount=1000, via="rpc") for _ in range(ESCROWS)]
    for e in escrows:
        chain.act(e, 0, "fund()", value=1000, via="rpc")
    for who in (2, 3):
        for e in escrows:
            chain.act(e, who, "approve()", via="rpc")
    head = chain.node.block_number()
    log(f"history: {head} blocks, {len(chain.watched_logs())} events")

    # 1. killed while rows lag behind
    def killed_behind(desk, rc):
        listed, behind = lagging(desk, chain.chain_id)
        cp = desk.checkpoint(chain.chain_id)
        return bool(listed and cp and cp[0] < head)
    desk = stop_while_lagging(chain, head, signal.SIGKILL, killed_behind)
    assert desk, "no kill landed while escrow rows lagged behind their events"
    listed, behind = lagging(desk, chain.chain_id)
    synced = desk.checkpoint(chain.chain_id)[0]
    assert behind > 0, "the listed escrows' rows are not behind their events"
    log(f"killed at checkpoint {synced}: {len(listed)} escrows listed, {behind} rows behind")
    desk.run(*SYNC[:1], "--once", *SYNC[1:])
    listed, _ = lagging(desk, chain.chain_id)
    assert not listed, f"{len(listed)} escrows still listed after the sync that resumed"
    assert_db_matches_node(desk, chain, "after the resumed sync")
    same_as_reindex(desk, "after the resumed sync")
    assert "left behind, rebuilt from their events" in desk.fusion_log(), \
        "the resumed sync did not rebuild the rows left behind"

    # 2. stopped (SIGTERM) while rows lag: the rows are written before it exits
    def stopped_cleanly(desk, rc):
        assert rc == 0, f"fusion sync exited {rc} on SIGTERM"
        return True
    stopped = stop_while_lagging(chain, head, signal.SIGTERM, stopped_cleanly)
    assert stopped, "no stop landed while escrow rows lagged behind their events"
    listed, _ = lagging(stopped, chain.chain_id)
    assert not listed, f"{len(listed)} escrows still listed after a stopped catch-up"
    cp = stopped.checkpoint(chain.chain_id)
    log(f"stopped at checkpoint {cp[0] if cp else None}: no row left behind")
    same_as_reindex(stopped, "after a stopped catch-up")

    # 3. a catch-up that ends by itself
    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.run(*SYNC[:1], "--once", *SYNC[1:])
    listed, _ = lagging(desk, chain.chain_id)
    assert not listed, f"{len(listed)} escrows listed after a complete catch-up"
    assert "catching up from block" in desk.fusion_log(), "the catch-up was not pipelined"
    assert_db_matches_node(desk, chain, "after a whole catch-up")
    same_as_reindex(desk, "after a whole catch-up")
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
