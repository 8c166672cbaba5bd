#!/usr/bin/python3
"""sync_chain_remove.py: `fusion chain remove` while a real `fusion sync` follows two
chains (two anvil nodes); under tests/lib/pg.py run (sync_chain_remove_pg) the desk's
book is on a server, whose copy of the second chain `chain add` made and `chain remove`
takes away with its rows. The follower notices that one of its chains is gone, stops that
chain's thread with one line in the log (no endless "FOREIGN KEY constraint failed"
retries), writes nothing more for it, and keeps following the other chain; with its last
chain removed it ends by itself, exit 0."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import Chain, Desk, assert_db_matches_node, log, need_artifacts, wait_until  # noqa: E402,E501


def activity(chain, n):
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=70 + i, via="rpc")
        chain.act(e, 0, "fund()", value=70 + i, via="rpc")


def main():
    need_artifacts()
    one = Chain(chain_id=31337).start()
    two = Chain(chain_id=31338).start()
    for c in (one, two):
        c.deploy()
        activity(c, 2)
    desk = Desk()
    desk.add_chain(one, name="one", confirmations=1)
    desk.add_chain(two, name="two", confirmations=1)
    desk.follow("--poll-ms", "50")
    desk.wait_follower()
    wait_until(lambda: desk.logs(one.chain_id) == one.watched_logs()
               and desk.logs(two.chain_id) == two.watched_logs(), "both chains to be synced")

    # Removed under the follower, while its chain keeps producing blocks.
    desk.run("chain", "remove", "two")
    activity(two, 2)
    wait_until(lambda: "two: sync thread stopped" in desk.fusion_log(),
               "the follower to stop the removed chain's thread", timeout=120)
    assert desk.follower.poll() is None, "the follower ended with a chain still configured"
    text = desk.fusion_log()
    assert "two: the chain was removed from the desk" in text, text[-2000:]
    assert text.count("FOREIGN KEY") <= 1, "retried a write for a removed chain"
    assert desk.event_count(two.chain_id) == 0
    assert desk.checkpoint(two.chain_id) is None
    if desk.book:  # the server's chain went with its rows, in the command's transaction
        assert not desk.server_rows(f"SELECT 1 FROM chains WHERE chain_id = {two.chain_id}")
        assert not desk.server_rows(f"SELECT 1 FROM escrows WHERE chain_id = {two.chain_id}")
        assert not desk.server_rows(f"SELECT 1 FROM blocks WHERE chain_id = {two.chain_id}")
    names = [c["name"] for c in desk.json("chain", "list", "--json")]
    assert names == ["one"], names

    # The other chain is still followed.
    activity(one, 2)
    wait_until(lambda: desk.logs(one.chain_id) == one.watched_logs(),
               "the follower to keep following the other chain")
    assert_db_matches_node(desk, one, "after removing the other chain")

    # Its last chain removed, the follower has nothing left to do and ends by itself.
    desk.run("chain", "remove", "one")
    wait_until(lambda: desk.follower.poll() is not None,
               "the follower to end with no chain left", timeout=120)
    assert desk.follower.returncode == 0, desk.follower.returncode
    assert desk.event_count(one.chain_id) == 0
    if desk.book:
        assert not desk.server_rows("SELECT 1 FROM chains")
    assert desk.fusion_log().count("FOREIGN KEY") <= 2
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
