#!/usr/bin/python3
"""sync_reorg.py: reorgs of depths 1 to 64, many times, made with anvil_reorg (with
replacement transactions that create, fund and approve escrows in the new branch) and
anvil_rollback, both while `fusion sync` follows the head and between `fusion sync
--once` runs. Afterwards the desk's events equal the node's own eth_getLogs, escrows
that only existed on a dropped branch are gone, and every escrow's state equals what
the contract itself reports. Reorgs are detected by block hash (anvil's eth_getLogs
never sets `removed`)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (A, Chain, Desk, assert_db_matches_node, escrow_summary, log,  # noqa
                      need_artifacts, rng, wait_until, CREATE_SIG)

ROUNDS_FOLLOW = int(os.environ.get("FUSION_REORG_ROUNDS", "40"))
ROUNDS_ONCE = 12


def random_actions(chain, r, n, known):
    """Transactions for a new branch: escrow creations and actions on known escrows.
    Some revert on the new branch (e.g. approving what is not funded there): fine."""
    txs = []
    for _ in range(n):
        kind = r.random()
        if kind < 0.4 or not known:
            payer = r.choice([0, 6, 7])
            args = (A[1], "0x" + "00" * 20, str(r.randint(1, 10**6)),
                    f"[{A[2]},{A[3]},{A[4]}]", "2", A[5], "4102444800")
            txs.append({"from": A[payer], "to": chain.factory,
                        "data": chain.calldata(CREATE_SIG, *args)})
        elif kind < 0.7:
            e, payer, amount = r.choice(known)
            txs.append({"from": A[payer], "to": e, "data": chain.calldata("fund()"),
                        "value": hex(amount)})
        else:
            e, payer, amount = r.choice(known)
            txs.append({"from": A[r.choice([2, 3, 4])], "to": e,
                        "data": chain.calldata("approve()")})
    return txs


def build_history(chain, r, n_escrows):
    known = []
    for i in range(n_escrows):
        payer = r.choice([0, 6, 7])
        amount = r.randint(1, 10**6)
        e = chain.create_escrow(payer=payer, payee=1, approvers=(2, 3, 4), threshold=2,
                                arbiter=5, amount=amount, via="rpc")
        known.append((e, payer, amount))
        if r.random() < 0.8:
            chain.act(e, payer, "fund()", value=amount, via="rpc")
            for who in r.sample([2, 3, 4], r.randint(0, 2)):
                chain.act(e, who, "approve()", via="rpc")
        if r.random() < 0.3:
            chain.node.mine(r.randint(1, 5))
    return known


def reorg(chain, r, depth, known):
    head = chain.node.block_number()
    depth = min(depth, head - 2)
    txs = random_actions(chain, r, r.randint(0, max(1, depth // 4)), known)
    chain.node.rpc("anvil_reorg", depth, [[tx, r.randint(0, depth - 1)] for tx in txs])
    return depth


def check_escrows(desk, chain):
    on_chain = sorted(chain.escrow_addresses())
    listed = desk.json("escrow", "list", "--json")
    got = sorted(x["address"] for x in listed)
    if got != on_chain:
        raise AssertionError(f"escrows differ: desk has {len(got)}, chain {len(on_chain)}: "
                             f"only desk {sorted(set(got) - set(on_chain))[:3]}, only chain "
                             f"{sorted(set(on_chain) - set(got))[:3]}")
    for x in listed:
        s = escrow_summary(chain, x["address"])
        if (x["state"], x["approvals"], x["amount"]) != (s["state"], s["approvals"], s["amount"]):
            raise AssertionError(f"escrow {x['address']}: desk says {x['state']}/"
                                 f"{x['approvals']}/{x['amount']}, contract says {s}")
        if x["anomaly"]:
            raise AssertionError(f"escrow {x['address']}: anomaly {x['anomaly']}")
    return len(listed)


def matches(desk, chain):
    return desk.logs(chain.chain_id) == chain.watched_logs()


def main():
    need_artifacts()
    r = rng()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    desk.add_chain(chain, confirmations=2)
    known = build_history(chain, r, 30)
    chain.node.mine(70)  # old, settled escrows below the deepest reorg
    known += build_history(chain, r, 30)
    log(f"history: {chain.node.block_number()} blocks, {len(known)} escrows")

    # Phase 1: reorgs while the follower runs. Depths 1 and 64 always, the rest random.
    desk.follow("--poll-ms", "50")
    wait_until(lambda: matches(desk, chain), "the initial sync")
    depths = [1, 64] + [r.randint(1, 64) for _ in range(ROUNDS_FOLLOW - 2)]
    for i, depth in enumerate(depths):
        op = r.random()
        if op < 0.75:
            d = reorg(chain, r, depth, known)
            what = f"reorg depth {d}"
        else:
            k = min(depth, chain.node.block_number() - 2)
            chain.node.rpc("anvil_rollback", k)
            # Grow back to the old height on the new branch, with new activity.
            new = random_actions(chain, r, r.randint(1, 4), known)
            for tx in new:
                chain.node.send(tx["to"], tx["data"], sender=tx["from"],
                                value=int(tx.get("value", "0x0"), 16), wait=True)
            if k > len(new):
                chain.node.mine(k - len(new))
            what = f"rollback {k} + {len(new)} new txs"
        # Sometimes let the follower settle, sometimes hit it with the next reorg at once.
        if r.random() < 0.6:
            wait_until(lambda: matches(desk, chain), f"the desk to match after {what}")
        log(f"round {i + 1}/{len(depths)}: {what}")
    chain.node.mine(3)
    wait_until(lambda: matches(desk, chain), "the desk to match after all reorgs")
    n = assert_db_matches_node(desk, chain, "after reorgs under the follower")
    rc = desk.stop_follow()
    assert rc == 0, f"fusion sync exited {rc}"
    ne = check_escrows(desk, chain)
    reorgs = desk.fusion_log().count(": reorg: ")
    log(f"phase 1: {len(depths)} rounds, {reorgs} reorgs handled, {n} events and {ne} escrows "
        "match the chain")
    assert reorgs >= len(depths) // 2, f"only {reorgs} reorgs were noticed"

    # Phase 2: reorgs between one-shot syncs (the desk sees only the end result).
    for i in range(ROUNDS_ONCE):
        depth = r.choice([1, 2, 3, 16, 32, 63, 64]) if i else 64
        for _ in range(r.randint(1, 3)):
            reorg(chain, r, depth, known)
        # Alternate the two ways of asking for logs: by address and by event signature.
        desk.run("sync", "--once", "--max-addresses", "0" if i % 2 else "500")
        assert_db_matches_node(desk, chain, f"one-shot round {i + 1}")
    ne = check_escrows(desk, chain)
    log(f"phase 2: {ROUNDS_ONCE} rounds ok, {ne} escrows")

    # Desk transactions that relied on rolled-back events are flagged; others are not.
    # (The escrow-workflow code writes outbound_txs; here the rows are written directly.)
    fresh = chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                                amount=77, via="rpc")
    chain.act(fresh, 0, "fund()", value=77, via="rpc")
    desk.run("sync", "--once")
    head = chain.node.block_number()
    last = ("SELECT '0x' || {hex}, max(block_number) FROM events"
            " WHERE escrow IS NOT NULL GROUP BY escrow")
    if desk.book:  # the book on a server: its events, and its outbound rows it flags
        rows = [(e, int(b)) for e, b in desk.server_rows(last.format(hex="encode(escrow, 'hex')"))]
    else:
        rows = desk.query(last.format(hex="lower(hex(escrow))"))
    recent = [fresh]
    settled = [e for e, b in rows if b < head - 100]
    assert settled, rows
    insert = ("INSERT INTO outbound_txs (chain_id, from_addr, nonce, hash, raw, state, escrow,"
              " action, created_at) VALUES ({}, '{}', {}, '{}', {}, 'sent', '{}', 'approve', 0)")
    import sqlite3
    con = None if desk.book else sqlite3.connect(f"{desk.home}/desk.db")
    for i, e in enumerate([recent[0], settled[0]]):
        if desk.book:
            desk.server_rows(insert.format(chain.chain_id, A[2], i, "0x%064x" % (i + 1),
                                           "'\\x02'::bytea", e))
        else:
            con.execute(insert.format(chain.chain_id, A[2], i, "0x%064x" % (i + 1), "x'02'", e))
    if con:
        con.commit()
        con.close()
    reorg(chain, r, 10, known)
    desk.run("sync", "--once")
    assert_db_matches_node(desk, chain, "after the flagging reorg")
    if desk.book:
        flags = {e: int(f) for e, f in desk.server_rows("SELECT escrow, reorged FROM outbound_txs")}
    else:
        flags = dict(desk.query("SELECT escrow, reorged FROM outbound_txs"))
    assert flags == {recent[0]: 1, settled[0]: 0}, flags
    log("a desk transaction about a reorged escrow was flagged, an unrelated one was not")
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
