#!/usr/bin/python3
"""sync_fake.py: sync through fake_rpc.py, a fake JSON-RPC server in front of a real
anvil that answers with garbage, truncated JSON, 429s, provider rate-limit errors,
oversized numbers, wrong ids, "too many results", HTTP 500, dropped connections, empty
bodies, JSON-RPC errors and slow answers. Every kind is served, each leaves a clear line
in the log, and sync carries on: `--once` completes and the follower keeps up, with the
desk equal to the node's own eth_getLogs. With a second, healthy endpoint, failover keeps
sync going while the broken one is recorded as down."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_rpc import KINDS, FakeRpc  # noqa: E402
from sync_lib import (Chain, Desk, assert_db_matches_node, log, need_artifacts,  # noqa: E402
                      wait_until)

# What the log must say for each kind (a fragment of the one-line message).
EXPECT = {
    "garbage": "response is not valid JSON",
    "truncated": "response is not valid JSON",
    "http429": "rate limited: HTTP 429",
    "rate_limit": "rate limited: code 429",
    "oversized": ("does not fit", "exceeds 256 bits"),
    "wrong_id": ("does not match request id", "unknown id"),
    "too_many": "query returned more than 10000 results",
    "http500": "transport error: HTTP 500",
    "drop": "transport error",
    "empty": "empty response",
    "rpc_error": "JSON-RPC error: code -32603",
    "slow": "timeout: no complete answer",
}


def activity(chain, n):
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=50 + i, via="rpc")
        chain.act(e, 0, "fund()", value=50 + i, via="rpc")
        chain.act(e, 3, "approve()", via="rpc")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    fake = FakeRpc(chain.node.url, slow_seconds=1.5)
    desk = Desk()
    desk.run("chain", "add", "--name", "local", "--chain-id", 31337, "--rpc", fake.url,
             "--factory", chain.factory, "--confirmations", 1)
    activity(chain, 40)

    # Every kind once for sure (at the methods sync uses), then chaos on top.
    fake.script([{"kind": k, "method": "eth_getLogs" if k == "too_many" else None}
                 for k in KINDS])
    fake.set_chaos(0.2, seed=7)
    r = desk.run("sync", "--once", "--range", "8", "--rpc-timeout-ms", "700", timeout=600)
    assert "done" in r.stderr, r.stderr
    assert_db_matches_node(desk, chain, "sync --once through the fake")
    stats = fake.stats()
    log(f"--once: {stats['requests']} requests, faults served: {stats['faults']}")
    for k in KINDS:
        assert stats["faults"].get(k, 0) >= 1, f"fault {k} was never served"

    text = desk.fusion_log()
    for k, frag in EXPECT.items():
        frags = frag if isinstance(frag, tuple) else (frag,)
        assert any(f in text for f in frags), f"no log line for {k} (looked for {frags})"
    assert "blocks at a time" in text  # the range shrank after "too many results"
    for line in text.splitlines():
        assert len(line) < 600, f"overlong log line: {line[:200]}"

    # Following through the fake while new escrows arrive.
    desk.follow("--poll-ms", "100", "--rpc-timeout-ms", "700", "--max-addresses", "0")
    activity(chain, 15)
    wait_until(lambda: desk.logs(chain.chain_id) == chain.watched_logs(),
               "the follower to keep up through the faults", timeout=180)
    assert desk.stop_follow() == 0
    assert_db_matches_node(desk, chain, "following through the fake")
    log(f"follower: faults served so far {fake.stats()['faults']}")

    # Failover: a broken endpoint first, a healthy one second.
    fake.set_chaos(0)
    two = Desk()
    two.run("chain", "add", "--name", "local", "--chain-id", 31337, "--rpc", fake.url,
            "--rpc", chain.node.url, "--factory", chain.factory, "--confirmations", 1)
    fake.set_chaos(1.0, kinds=["garbage", "http500", "drop"], seed=3)
    two.run("sync", "--once", "--rpc-timeout-ms", "700")
    assert_db_matches_node(two, chain, "failover")
    eps = two.json("chain", "list", "--json")[0]["endpoints"]
    assert eps[0]["health"] in ("degraded", "down") and eps[0]["last_error"], eps
    assert eps[1]["health"] == "ok", eps
    log(f"failover: {eps[0]['url']} {eps[0]['health']} ({eps[0]['last_error']}), "
        f"{eps[1]['url']} ok")
    fake.stop()
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
