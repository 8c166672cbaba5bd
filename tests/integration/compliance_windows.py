#!/usr/bin/python3
"""compliance_windows.py: the velocity and structuring windows count escrows by the time of
their creation block, wherever the desk keeps its book. On a real anvil node through the real
binary: one payer creates six escrows two hours apart on chain (evm_increaseTime), which
`fusion sync --once` stores and screens: at most one in any hour, so no velocity hit (the
rule trips above five an hour). Then six more in one burst: the same sync screens them
into a velocity hit. Under tests/lib/pg.py run the desk's book is on the test's server:
the creation blocks' times are read there (before: the pass took the current time for
every escrow of a server book, and the six spread escrows tripped the rule)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import SERVER, Chain, Desk, log, need_artifacts  # noqa: E402

SPREAD = 6


def velocity_hits(desk):
    return desk.query("SELECT count(*) FROM screening_hits WHERE rule = 'velocity'")[0][0]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = Desk()
        desk.add_chain(chain, confirmations=0)
        for _ in range(SPREAD):
            chain.create_escrow(via="rpc")
            chain.node.rpc("evm_increaseTime", 2 * 3600)
            chain.node.mine(1)
        r = desk.run("sync", "--once")
        assert f"screened {SPREAD} new escrows" in r.stderr, r.stderr
        # the escrows and their blocks are where the desk keeps its book
        assert desk.escrow_count() == SPREAD
        if SERVER:
            assert desk.book and os.path.exists(os.path.join(desk.home, "book.conf"))
            assert desk.query("SELECT count(*) FROM escrows")[0][0] == 0
            blocks = int(desk.server_rows("SELECT count(*) FROM blocks")[0][0])
            assert blocks > SPREAD, blocks
        assert velocity_hits(desk) == 0, desk.query("SELECT rule, evidence FROM screening_hits")
        log(f"{SPREAD} escrows of one payer two hours apart: no velocity hit: ok")

        for _ in range(SPREAD):
            chain.create_escrow(via="rpc")
        r = desk.run("sync", "--once")
        assert f"screened {SPREAD} new escrows" in r.stderr, r.stderr
        assert velocity_hits(desk) >= 1, desk.query("SELECT rule FROM screening_hits")
        log(f"{SPREAD} escrows of one payer in a burst: a velocity hit: ok")
        log("compliance_windows: all ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
