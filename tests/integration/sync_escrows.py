#!/usr/bin/python3
"""sync_escrows.py: escrows created and driven by `cast send` (an independent client)
appear with the right state after `fusion sync --once` and while `fusion sync` follows
the head. Expected states are what each scenario did, cross-checked against the contract's
own view (`cast call summary()`); the desk's events must equal the node's eth_getLogs.
Also: chain add refuses a wrong chain id, one syncer per desk, reindex is a no-op on a
consistent desk, and SIGTERM stops the follower cleanly."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (A, ZERO, Chain, cast, Desk, assert_db_matches_node, escrow_summary, log,  # noqa
                      need_artifacts, wait_until, artifact)


def check_escrow(desk, chain, escrow, want):
    """want: expected fields of `escrow show --json`; also compared with the contract."""
    got = desk.json("escrow", "show", escrow, "--json")
    for k, v in want.items():
        if got[k] != v:
            raise AssertionError(f"escrow {escrow}: {k} is {got[k]!r}, expected {v!r}")
    onchain = escrow_summary(chain, escrow)
    for k in ("state", "payer", "payee", "token", "amount", "arbiter", "deadline", "threshold",
              "approvals"):
        if str(got[k]).lower() != str(onchain[k]).lower():
            raise AssertionError(f"escrow {escrow}: {k} is {got[k]!r} in the desk, "
                                 f"{onchain[k]!r} on chain")
    return got


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()

    # First contact: a wrong chain id is refused with one clear line naming both ids.
    r = desk.run("chain", "add", "--name", "wrong", "--chain-id", "5", "--rpc", chain.node.url,
                 "--factory", chain.factory, check=False)
    assert r.returncode == 1, r
    assert "31337" in r.stderr and " 5" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = desk.run("chain", "add", "--name", "x", "--chain-id", "31337", "--rpc", chain.node.url,
                 "--factory", A[9], check=False)
    assert r.returncode == 1 and "no contract" in r.stderr, r.stderr
    desk.add_chain(chain, confirmations=2)
    lst = desk.json("chain", "list", "--json")
    assert lst[0]["name"] == "local" and lst[0]["chain_id"] == 31337, lst

    amount = 10**18
    # 1: released after 2 of 3 approvals
    e1 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                             amount=amount)
    chain.act(e1, 0, "fund()", value=amount)
    chain.act(e1, 2, "approve()")
    chain.act(e1, 4, "approve()")
    chain.act(e1, 6, "release()")
    # 2: refunded by the arbiter
    e2 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                             amount=7)
    chain.act(e2, 0, "fund()", value=7)
    chain.act(e2, 5, "refund()")
    # 3: disputed by the payee, resolved to the payee
    e3 = chain.create_escrow(payer=6, payee=7, approvers=(2,), threshold=1, arbiter=5,
                             amount=12345)
    chain.act(e3, 6, "fund()", value=12345)
    chain.act(e3, 7, "dispute(string)", "goods not delivered — 貨物未到")
    chain.act(e3, 5, "resolve(bool)", "true")
    # 4: disputed by the payer, resolved to the payer
    e4 = chain.create_escrow(payer=6, payee=7, approvers=(2, 3), threshold=2, arbiter=5,
                             amount=99)
    chain.act(e4, 6, "fund()", value=99)
    # the reason is outside text: a bidi override, ESC and a C1 CSI reach no terminal raw
    hostile = "late \u202e\x1b[2J\u009b1m"
    chain.act(e4, 6, "dispute(string)", hostile)
    chain.act(e4, 5, "resolve(bool)", "false")
    # 5: only created
    e5 = chain.create_escrow(payer=8, payee=9, approvers=(2, 3, 4), threshold=3, arbiter=5,
                             amount=5)
    # 6: an ERC20 (6 decimals) escrow, funded and approved once
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD",
                           "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:])
    chain.cast_send(A[0], token, "mint(address,uint256)", A[0], "5000000000")
    e6 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=2, arbiter=5,
                             amount=1250500000, token=token)
    chain.cast_send(A[0], token, "approve(address,uint256)", e6, "1250500000")
    chain.act(e6, 0, "fund()")
    chain.act(e6, 3, "approve()")

    r = desk.run("sync", "--once")
    assert "done" in r.stderr, r.stderr
    n = assert_db_matches_node(desk, chain, "after sync --once")
    log(f"sync --once: {n} events match the node")

    check_escrow(desk, chain, e1, {"state": "released", "approvals": 2, "released": str(amount),
                                   "funded": str(amount), "refunded": "0", "anomaly": None})
    check_escrow(desk, chain, e2, {"state": "refunded", "refunded": "7", "released": "0"})
    g3 = check_escrow(desk, chain, e3, {"state": "resolved", "resolved_to": "payee",
                                        "released": "12345"})
    reasons = [ev["fields"].get("reason") for ev in g3["timeline"] if ev["name"] == "Disputed"]
    assert reasons == ["goods not delivered — 貨物未到"], reasons
    g4 = check_escrow(desk, chain, e4, {"state": "resolved", "resolved_to": "payer",
                                        "refunded": "99"})
    reasons = [ev["fields"].get("reason") for ev in g4["timeline"] if ev["name"] == "Disputed"]
    assert reasons == [hostile], reasons
    shown = desk.run("escrow", "show", e4).stdout
    assert "Disputed" in shown and "late " in shown, shown
    raw = [c for c in shown if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) < 0xa0 or
           ord(c) in (0x061c, 0x200e, 0x200f, 0x2028, 0x2029) or 0x202a <= ord(c) <= 0x202e or
           0x2066 <= ord(c) <= 0x2069]
    assert not raw, f"escrow show printed raw {raw!r}: {shown!r}"
    check_escrow(desk, chain, e5, {"state": "created", "approvals": 0, "funded": "0"})
    g6 = check_escrow(desk, chain, e6, {"state": "funded", "approvals": 1, "token": token.lower(),
                                        "amount": "1250500000"})
    assert [a["approver"] for a in g6["approved_by"]] == [A[3]], g6["approved_by"]
    # The last events are within the confirmation depth: pending, then final.
    assert g6["pending"] is True, g6
    lst = desk.json("escrow", "list", "--json")
    assert sorted(x["address"] for x in lst) == sorted([e1, e2, e3, e4, e5, e6]), lst
    assert len(desk.json("escrow", "list", "--json", "--state", "resolved")) == 2
    text = desk.run("escrow", "list").stdout
    assert e1 in text.lower() and "released" in text and "ETH" in text, text

    # Asking by event signature instead of by address gives the same desk.
    other = Desk()
    other.add_chain(chain, confirmations=2)
    other.run("sync", "--once", "--max-addresses", "0")
    assert other.logs(chain.chain_id) == desk.logs(chain.chain_id)
    assert other.json("escrow", "list", "--json") == lst
    # ...and so does a catch-up pipelined over ranges of two blocks, whose escrows are
    # carried in memory from commit to commit: the same projection, events and approvals
    # (with their pending marks) as the first desk and as a fold of the stored events.
    piped = Desk()
    piped.add_chain(chain, confirmations=2)
    piped.run("sync", "--once", "--max-addresses", "0", "--range", "2", "--max-range", "2")
    assert "with reads ahead of commits" in piped.fusion_log()
    assert piped.logs(chain.chain_id) == desk.logs(chain.chain_id)
    assert piped.json("escrow", "list", "--json") == lst
    shows = {x: desk.json("escrow", "show", x, "--json") for x in (e1, e5, e6)}
    for x, want in shows.items():
        assert piped.json("escrow", "show", x, "--json") == want, (x, want)
    piped.run("reindex")
    assert piped.json("escrow", "list", "--json") == lst
    for x, want in shows.items():
        assert piped.json("escrow", "show", x, "--json") == want, (x, want)

    # Unknown escrow: one line, exit 1.
    r = desk.run("escrow", "show", A[9], check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r

    # SQLite is configured before its first use in the process (the audit head opens the
    # desk before the store does): no global memory statistics, a mutex on every allocation.
    os.environ["FUSION_LOG_LEVEL"] = "debug"
    try:
        desk.run("sync", "--once")
    finally:
        del os.environ["FUSION_LOG_LEVEL"]
    assert "sync --once started" in desk.fusion_log()
    assert "SQLite was initialised elsewhere first" not in desk.fusion_log(), desk.fusion_log()

    # Reindex rebuilds the same projections from the stored events.
    before = desk.json("escrow", "list", "--json")
    r = desk.run("reindex")
    assert "rebuilt 6 escrows" in r.stdout, r.stdout
    assert desk.json("escrow", "list", "--json") == before

    # Following the head: new activity shows up without restarting anything.
    desk.follow("--poll-ms", "100")
    desk.wait_follower()
    # One syncer per desk: a second one is refused while the first runs.
    r = desk.run("sync", "--once", check=False)
    assert r.returncode == 1 and "already syncing" in r.stderr, r.stderr
    chain.node.mine(3)  # make e6's events final
    wait_until(lambda: not desk.json("escrow", "show", e6, "--json")["pending"],
               "e6 to become final")
    latencies = []
    e7 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                             amount=3)
    t0 = time.monotonic()
    wait_until(lambda: any(x["address"] == e7 for x in desk.json("escrow", "list", "--json")),
               "the new escrow to appear")
    latencies.append(time.monotonic() - t0)
    chain.act(e7, 0, "fund()", value=3)
    chain.act(e7, 2, "approve()")
    t0 = time.monotonic()
    wait_until(lambda: desk.json("escrow", "show", e7, "--json")["approvals"] == 1,
               "the approval to appear")
    latencies.append(time.monotonic() - t0)
    chain.act(e7, 2, "release()")
    wait_until(lambda: desk.json("escrow", "show", e7, "--json")["state"] == "released",
               "the release to appear")
    check_escrow(desk, chain, e7, {"state": "released", "released": "3"})
    log("follower picked up new events (observed after " +
        ", ".join(f"{t:.2f} s" for t in latencies) + "; informational, not asserted)")
    rc = desk.stop_follow()
    assert rc == 0, f"fusion sync exited {rc} on SIGTERM"
    assert "fusion sync stopped by a signal" in desk.fusion_log()
    assert_db_matches_node(desk, chain, "after following")

    # Endpoint health is recorded.
    lst = desk.json("chain", "list", "--json")
    assert lst[0]["endpoints"][0]["health"] == "ok", lst
    assert lst[0]["synced"] == chain.node.block_number(), lst
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
