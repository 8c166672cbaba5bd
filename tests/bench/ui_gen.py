#!/usr/bin/python3
"""ui_gen.py: a synthetic desk for the UI benchmark: N escrows written straight into
desk.db (the schema is the real one: `fusion chain list` creates and migrates the file
first). Seeded, so two runs make the same desk. Not a test fixture: no chain behind it.

Usage: ui_gen.py FUSION_BIN HOME N [SEED]
"""
import os
import random
import sqlite3
import subprocess
import sys
import time

STATES = ["created", "funded", "released", "refunded", "disputed", "resolved"]


def main():
    fusion, home, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    os.makedirs(home, mode=0o700, exist_ok=True)
    # an empty desk.db: read-only commands refuse a home without a desk; this one is then
    # given the current schema by `chain list` (store_open migrates an empty file)
    path = os.path.join(home, "desk.db")
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    subprocess.run([fusion, "--home", home, "chain", "list"], check=True,
                   stdout=subprocess.DEVNULL)
    rnd = random.Random(seed)
    con = sqlite3.connect(os.path.join(home, "desk.db"), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("INSERT INTO chains (chain_id, name, confirmations, native_symbol,"
                " native_decimals, start_block, created_at) VALUES (31337, 'local', 2, 'ETH',"
                " 18, 0, ?)", (int(time.time()),))
    con.execute("INSERT INTO tokens (chain_id, symbol, address, decimals) VALUES"
                " (31337, 'TUSD', '0x' || ?, 6)", ("11" * 20,))
    tokens = ["0x" + "00" * 20, "0x" + "11" * 20]

    def addr():
        return "0x%040x" % rnd.getrandbits(160)

    factory = addr()
    people = [addr() for _ in range(5000)]

    def rows():
        for i in range(n):
            approvers = rnd.sample(people, 3)
            yield (31337, addr(), factory, rnd.choice(people), rnd.choice(people),
                   rnd.choice(tokens), str(rnd.randrange(1, 10**22)),
                   "[" + ",".join('"%s"' % a for a in approvers) + "]", 2, rnd.choice(people),
                   1800000000, rnd.choice(STATES), rnd.randrange(0, 3), i + 1, "0x" + "ab" * 32,
                   i + 1 + rnd.randrange(0, 50), rnd.randrange(1, 8))

    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO escrows (chain_id, address, factory, payer, payee, token, amount,"
        " approvers, threshold, arbiter, deadline, state, approvals, created_block,"
        " created_tx, last_event_block, events) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows())
    con.execute("COMMIT")
    con.close()


if __name__ == "__main__":
    main()
