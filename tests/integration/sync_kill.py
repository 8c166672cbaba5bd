#!/usr/bin/python3
"""sync_kill.py: `fusion sync` is killed with SIGKILL at >= 20 random instants during a
large sync. After every kill the desk is consistent: every node log at or below the
checkpoint is stored, nothing above it is, nothing is stored twice, and SQLite's own
integrity check passes. After the last kill a restart completes the sync and the desk
equals the node's eth_getLogs: no event missing, none duplicated."""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (FUSION, Chain, Desk, assert_db_matches_node, log, need_artifacts,  # noqa
                      rng)

KILLS = int(os.environ.get("FUSION_KILLS", "24"))
ESCROWS = int(os.environ.get("FUSION_KILL_ESCROWS", "250"))


def consistent(desk, chain, node_logs, what):
    cp = desk.checkpoint(chain.chain_id)
    got = desk.logs(chain.chain_id)
    if desk.duplicates(chain.chain_id):
        raise AssertionError(f"{what}: duplicated events")
    extra = got - node_logs
    if extra:
        raise AssertionError(f"{what}: {len(extra)} stored events the node does not have")
    synced = cp[0] if cp else -1
    below = {k for k in node_logs if k[2] <= synced}
    missing = below - got
    if missing:
        raise AssertionError(f"{what}: {len(missing)} events at or below checkpoint {synced} "
                             f"missing, e.g. {sorted(missing)[:1]}")
    above = {k for k in got if k[2] > synced}
    if above:
        raise AssertionError(f"{what}: {len(above)} events above checkpoint {synced}")
    bad = desk.search_index_errors()
    if bad:
        raise AssertionError(f"{what}: the escrow search index differs from the escrows: "
                             f"{bad[:3]}")
    ok = desk.query("PRAGMA integrity_check")[0][0]
    if ok != "ok":
        raise AssertionError(f"{what}: integrity_check says {ok}")
    return synced, len(got)


def main():
    need_artifacts()
    r = rng()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    for i in range(ESCROWS):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                                amount=1000, via="rpc")
        chain.act(e, 0, "fund()", value=1000, via="rpc")
        chain.act(e, 2, "approve()", via="rpc")
        chain.act(e, 3, "approve()", via="rpc")
    node_logs = chain.watched_logs()
    head = chain.node.block_number()
    log(f"history: {head} blocks, {len(node_logs)} events")

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    kills = mid_sync = attempts = 0
    while mid_sync < KILLS:
        attempts += 1
        assert attempts < 20 * KILLS, f"only {mid_sync} of {attempts} kills landed mid-sync"
        # Small and varied ranges: many commits, and kills inside and between them; now
        # and then a large one, whose commits create many escrows at once (the batch that
        # indexes them at its end: a kill must never leave rows without their index).
        rng_blocks = str(r.choice([2, 5, 11, 30, 400]))
        args = [FUSION, "--home", desk.home, "sync", "--range", rng_blocks, "--max-range",
                rng_blocks, "--quiet"]
        if r.random() < 0.3:
            args.append("--once")
        if r.random() < 0.5:
            args += ["--max-addresses", "0"]  # by event signature instead of by address
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(r.uniform(0.01, 0.4))
        finished = p.poll() is not None
        if finished:
            assert p.returncode == 0, p.returncode
        else:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
        synced, n = consistent(desk, chain, node_logs, f"after kill {kills}")
        if not finished and synced < head:
            mid_sync += 1
            log(f"kill {kills} ({mid_sync} mid-sync): checkpoint {synced}, {n} events, "
                "consistent")
        if synced >= head:
            # This desk is complete: the next kills go to a fresh one.
            desk = Desk()
            desk.add_chain(chain, confirmations=0)
    desk.run("sync", "--once")
    n = assert_db_matches_node(desk, chain, "after the final run")
    # Reindex rebuilds the same projections, and an exact search index, from the stored
    # events (hundreds of escrows: the rebuild writes them as one batch).
    before = desk.json("escrow", "list", "--json")
    # one escrow row made wrong in the book (desk.db, or the server's): reindex puts it back
    desk.tamper_escrow(before[0]["address"])
    assert desk.json("escrow", "list", "--json") != before, "the tampered row did not show"
    r = desk.run("reindex")
    assert f"rebuilt {len(before)} escrows" in r.stdout, (r.stdout, len(before))
    assert desk.json("escrow", "list", "--json") == before
    assert_db_matches_node(desk, chain, "after reindex")
    log(f"{kills} SIGKILLs ({mid_sync} during a sync); final: {n} events, no event missing, none duplicated")
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
