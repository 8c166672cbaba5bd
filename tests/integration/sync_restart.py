#!/usr/bin/python3
"""sync_restart.py: the node goes away during sync and comes back; sync resumes by
itself. Three cases: (1) the node is stopped and restarted with its state (--state:
the same chain continues) while `fusion sync` follows and while a large initial sync
runs; (2) the node is killed and a fresh chain with the same id takes its place (all
stored blocks are foreign now: the desk resyncs from the start and drops what no longer
exists); (3) `fusion sync --once` against a node that stays down gives up with a clear
error instead of hanging. Endpoint health is recorded in the desk."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (Chain, Desk, assert_db_matches_node, log, need_artifacts, wait_until)  # noqa


def matches(desk, chain):
    return desk.logs(chain.chain_id) == chain.watched_logs()


def activity(chain, n, via="rpc"):
    made = []
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=100 + i, via=via)
        chain.act(e, 0, "fund()", value=100 + i, via=via)
        chain.act(e, 2, "approve()", via=via)
        made.append(e)
    return made


def main():
    need_artifacts()
    state = os.path.join(tempfile.mkdtemp(prefix="fusion-anvil-state-"), "state.json")
    chain = Chain(chain_id=31337, state=state).start()
    chain.deploy()
    desk = Desk()
    desk.add_chain(chain, confirmations=1)
    activity(chain, 5)

    # (1a) restart with state while following.
    desk.follow("--poll-ms", "100")
    wait_until(lambda: matches(desk, chain), "the first sync")
    chain.node.stop()
    wait_until(lambda: "retrying" in desk.fusion_log(), "the follower to notice the outage")
    wait_until(lambda: desk.json("chain", "list", "--json")[0]["endpoints"][0]["health"]
               in ("degraded", "down"), "the endpoint to be marked unhealthy")
    chain.node.start()
    activity(chain, 3)
    wait_until(lambda: matches(desk, chain), "the follower to resume after the restart")
    wait_until(lambda: desk.json("chain", "list", "--json")[0]["endpoints"][0]["health"] == "ok",
               "the endpoint to be healthy again")
    assert "recovered after" in desk.fusion_log()
    log("1a: follower resumed after a node restart")

    # (1b) the node goes away in the middle of a large initial sync of a second desk
    # (one block per step, so that the sync takes a while; retried on a fresh desk in the
    # unlikely case that it was already complete when the node went down).
    activity(chain, 150)
    total = len(chain.watched_logs())
    for attempt in range(3):
        big = Desk()
        big.add_chain(chain, confirmations=1)
        big.follow("--poll-ms", "100", "--range", "1", "--max-range", "1")
        wait_until(lambda: big.event_count(chain.chain_id) > 20, "the second desk to start")
        chain.node.stop()
        partial = big.event_count(chain.chain_id)
        chain.node.start()
        wait_until(lambda: matches(big, chain), "the second desk to finish after the restart")
        if partial < total:
            break
        assert big.stop_follow() == 0
    assert partial < total, "the outage never fell inside the sync"
    log(f"1b: initial sync interrupted at {partial} of {total} events, finished after the "
        "restart")
    assert big.stop_follow() == 0
    assert desk.stop_follow() == 0
    n = assert_db_matches_node(desk, chain, "after restarts")

    # (2) a different chain with the same id replaces the node.
    desk.follow("--poll-ms", "100")
    desk.wait_follower()
    chain.node.kill()
    os.unlink(state)
    chain.node.start()
    chain.deploy()          # same deployer, same nonce: the same factory address
    fresh = activity(chain, 2)
    wait_until(lambda: matches(desk, chain), "the desk to follow the replacement chain")
    listed = sorted(x["address"] for x in desk.json("escrow", "list", "--json"))
    assert listed == sorted(fresh), (listed, fresh)
    assert "resyncing from block" in desk.fusion_log()
    assert desk.stop_follow() == 0
    log(f"2: replaced chain detected; {n} old events dropped, {len(fresh)} escrows resynced")

    # (3) --once against a node that stays down: a clear failure, not a hang.
    chain.node.stop()
    r = desk.run("sync", "--once", check=False, timeout=300)
    assert r.returncode == 1, r
    assert "local" in r.stderr and ("connect" in r.stderr or "transport" in r.stderr), r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("fusion: "), r.stderr
    log("3: sync --once gave up on a dead node with: " + r.stderr.strip().splitlines()[-1])
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
