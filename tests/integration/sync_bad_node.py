#!/usr/bin/python3
"""sync_bad_node.py: sync from a node whose answers are well-formed but wrong, served by
fake_rpc.py (a FAKE JSON-RPC server in front of a real anvil; a real node cannot be made
to answer like this), with the real anvil as the healthy second endpoint.

- eth_getLogs answers with logs of another address: the answer is malformed, the sync
  fails over to the healthy endpoint and stores every event; with the bad endpoint alone,
  `sync --once` exits 1 with one line and the checkpoint does not move.
- Log block hashes that match none of the node's headers ("the chain changed while ...
  were read" on every read): the reads are bounded, the sync fails over to the healthy
  endpoint; alone, `sync --once` exits 1 with one line, and a follower backs off and
  reports the chain as retrying and its endpoint as failed instead of spinning.
- A second endpoint whose URL serves another chain since `chain add` (a second fake that
  forwards to a real anvil with another chain id): when the first endpoint fails, sync
  must not read the other chain's logs and blocks through it: that endpoint is set aside,
  nothing is stored, the checkpoint does not move."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_rpc import FakeRpc  # noqa: E402
from sync_lib import Chain, Desk, assert_db_matches_node, log, need_artifacts, wait_until  # noqa: E402,E501


def activity(chain, n):
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=50 + i, via="rpc")
        chain.act(e, 0, "fund()", value=50 + i, via="rpc")
        chain.act(e, 3, "approve()", via="rpc")


def add(desk, chain, *urls):
    args = []
    for u in urls:
        args += ["--rpc", u]
    desk.run("chain", "add", "--name", "local", "--chain-id", chain.chain_id, *args,
             "--factory", chain.factory, "--confirmations", 1)


def once(desk, *extra):
    """sync --once, bounded: a sync that never ends fails here."""
    try:
        return desk.run("sync", "--once", "--quiet", *extra, check=False, timeout=240)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"sync --once {' '.join(extra)} did not end") from None


def failover(chain, fake, kind):
    desk = Desk()
    add(desk, chain, fake.url, chain.node.url)
    fake.set_chaos(1.0, kinds=[kind], methods=["eth_getLogs"])
    r = once(desk)
    fake.set_chaos(0)
    assert r.returncode == 0, f"{kind}: sync --once exited {r.returncode}: {r.stderr}"
    n = assert_db_matches_node(desk, chain, f"{kind}, failover")
    cp = desk.checkpoint(chain.chain_id)
    assert cp and cp[0] >= chain.node.block_number() - 1, cp
    eps = desk.json("chain", "list", "--json")[0]["endpoints"]
    assert eps[0]["health"] in ("degraded", "down") and eps[0]["last_error"], eps
    assert eps[1]["health"] == "ok", eps
    log(f"{kind}: {n} events stored through the second endpoint; first: "
        f"{eps[0]['health']} ({eps[0]['last_error']})")


def alone(chain, fake, kind, expect):
    desk = Desk()
    add(desk, chain, fake.url)
    fake.set_chaos(1.0, kinds=[kind], methods=["eth_getLogs"])
    r = once(desk)
    fake.set_chaos(0)
    assert r.returncode == 1, f"{kind}: sync --once exited {r.returncode}: {r.stderr}"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], f"{kind}: stderr {r.stderr!r}"
    assert desk.checkpoint(chain.chain_id) is None, desk.checkpoint(chain.chain_id)
    assert desk.event_count(chain.chain_id) == 0
    log(f"{kind}, alone: exit 1: {lines[0]}")
    return desk


def wrong_chain_endpoint(chain, fake):
    other = Chain(chain_id=chain.chain_id + 1).start()
    other.node.mine(30)
    moved = FakeRpc(chain.node.url)
    desk = Desk()
    add(desk, chain, fake.url, moved.url)
    moved.upstream = other.node.url  # the URL now serves another chain
    fake.set_chaos(1.0, kinds=["http500"], methods=["eth_getLogs"])
    r = once(desk)
    fake.set_chaos(0)
    assert r.returncode == 1, f"wrong chain: sync --once exited {r.returncode}: {r.stderr}"
    assert desk.checkpoint(chain.chain_id) is None, desk.checkpoint(chain.chain_id)
    assert desk.event_count(chain.chain_id) == 0
    eps = desk.json("chain", "list", "--json")[0]["endpoints"]
    assert eps[1]["health"] in ("degraded", "down") and "chain id" in eps[1]["last_error"], eps
    log(f"wrong chain behind the second endpoint: exit 1, nothing stored; "
        f"{eps[1]['url']}: {eps[1]['last_error']}")
    moved.stop()
    other.node.stop()


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    activity(chain, 6)
    fake = FakeRpc(chain.node.url)
    assert len(chain.watched_logs()) == 18

    failover(chain, fake, "foreign_logs")
    alone(chain, fake, "foreign_logs", "outside the filter")
    failover(chain, fake, "bad_hash")
    desk = alone(chain, fake, "bad_hash", "do not match")
    text = desk.fusion_log()
    reads = text.count("were read; reading again")
    assert 0 < reads <= 40, f"{reads} reads of a node whose logs and headers disagree"

    # A follower on the bad endpoint alone: it backs off, says so, and never commits.
    desk = Desk()
    add(desk, chain, fake.url)
    fake.set_chaos(1.0, kinds=["bad_hash"], methods=["eth_getLogs"])
    desk.follow("--poll-ms", "50")
    wait_until(lambda: desk.fusion_log().count("(retrying)") >= 2,
               "the follower to report its failed steps", timeout=120)
    eps = desk.json("chain", "list", "--json")[0]["endpoints"]
    assert eps[0]["health"] in ("degraded", "down") and "do not match" in eps[0]["last_error"], eps
    assert desk.checkpoint(chain.chain_id) is None
    # Following resumes once the node answers consistently again.
    fake.set_chaos(0)
    wait_until(lambda: desk.logs(chain.chain_id) == chain.watched_logs(),
               "the follower to catch up once the node is consistent", timeout=120)
    assert desk.stop_follow() == 0
    text = desk.fusion_log()
    assert text.count("were read; reading again") <= text.count("(retrying)") * 4 + 4, \
        "the follower re-read without backing off"
    wrong_chain_endpoint(chain, fake)
    fake.stop()
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
