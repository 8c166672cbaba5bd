#!/usr/bin/python3
"""pg_page_bench.py: what a window of the escrow table costs on the server at a large escrow
count, read at an OFFSET (as src/pgstore/pg_read.c's escrow_page does today) and by key
(keyset paging: the rows after the last one shown), without and with an index on the order's
key. Not a test and not a measure of fusion's code: the server's time for the statements,
so that docs/scale.md can say what keyset paging would buy before it is built.

A private server (tests/lib/pg.py), a desk's schema on it (`fusion db migrate` of a desk
synced from an anvil chain with 2 escrows, as tests/pgstore/pg_sync.py prepares it), its
escrows cloned to --n rows by SQL (new addresses, created blocks 1..n; the triggers and the
trigram index kept by the server as for synced rows). Then, for the UI's default order (most
recent: created_block, chain, address; descending) and windows of 129 rows (128 and the
"more?" row), at the top, the middle and the end of the table: the page by OFFSET, and by
key after the row before it (checked to be the same rows); each 5 times through one psql session (`\\timing`, a unix
socket), the median. Then the same after CREATE INDEX on the order's key.

Usage: tests/bench/pg_page_bench.py [--n N]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True

COLS = ("e.chain_id, c.name, e.address, e.payer, e.payee, e.amount, e.state, e.approvals,"
        " e.threshold, e.last_event_block, e.pending, t.symbol, t.decimals")
FROM = (" FROM escrows e JOIN chains c ON c.chain_id = e.chain_id"
        " LEFT JOIN tokens t ON t.chain_id = e.chain_id AND t.address = e.token")
ORDER = " ORDER BY e.created_block DESC, e.chain_id DESC, e.address COLLATE \"C\" DESC"
KEY = "(e.created_block, e.chain_id, e.address COLLATE \"C\")"
TIME = re.compile(r"^Time: ([0-9.]+) ms", re.M)


def timed(pg, psql, stmts, reps=5):
    """Median server round trip of each statement (psql's \\timing), in ms."""
    script = "\\timing on\n" + "".join(s + ";\n" for s in stmts for _ in range(reps))
    r = subprocess.run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", pg.dir,
                        "-p", str(pg.port), "-U", "fusion", "-d", "desk", "-o", "/dev/null"],
                       input=script, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"psql: {r.stderr.strip()}")
    ts = [float(x) for x in TIME.findall(r.stdout + r.stderr)]
    if len(ts) != len(stmts) * reps:
        raise SystemExit(f"psql timed {len(ts)} statements of {len(stmts) * reps}")
    return [statistics.median(ts[i * reps:(i + 1) * reps]) for i in range(len(stmts))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200000, help="escrows on the server")
    a = ap.parse_args()
    os.environ.setdefault("FUSION_BIN", os.path.join(ROOT, "build", "fusion"))
    os.environ.setdefault("FUSION_ROOT", ROOT)
    for d in ("tests/pgstore", "tests/lib", "tests/integration"):
        sys.path.insert(0, os.path.join(ROOT, d))
    import pg_sync
    from pg import PG_BIN
    psql = os.path.join(PG_BIN, "psql")
    pg_sync.need_artifacts()

    def bench(pg):
        chain, desk, url = pg_sync.setup(pg, 2, 0)
        r = subprocess.run([pg_sync.FUSION, "--home", desk.home, "sync", "--once", "--quiet",
                            "--db", url], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        cols = [x[0] for x in pg.psql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'escrows'"
            " ORDER BY ordinal_position")]
        gen = {"address": "'0x' || lpad(to_hex(g), 40, '0')", "created_block": "g",
               "last_event_block": "g"}
        sel = ", ".join(gen.get(c, f"e.{c}") for c in cols)
        t0 = time.monotonic()
        pg.psql(f"INSERT INTO escrows ({', '.join(cols)}) SELECT {sel} FROM"
                " (SELECT * FROM escrows ORDER BY address LIMIT 1) e,"
                f" generate_series(1, {a.n - 2}) g")
        pg.psql("ANALYZE escrows")
        n = int(pg.psql("SELECT count(*) FROM escrows")[0][0])
        print(f"{n} escrows on the server ({time.monotonic() - t0:.0f} s to make them)",
              flush=True)
        at = {"top": 0, "middle": n // 2, "end": n - 129}
        keys = {}
        for name, off in at.items():
            if off == 0:
                continue
            row = pg.psql(f"SELECT e.created_block, e.chain_id, e.address {FROM}{ORDER}"
                          f" LIMIT 1 OFFSET {off - 1}")[0]
            keys[name] = f"({row[0]}, {row[1]}, '{row[2]}' COLLATE \"C\")"
        for name, k in keys.items():  # the same window either way
            by_off = pg.psql(f"SELECT e.address {FROM}{ORDER} LIMIT 129 OFFSET {at[name]}")
            by_key = pg.psql(f"SELECT e.address {FROM} WHERE {KEY} < {k}{ORDER} LIMIT 129")
            if by_off != by_key:
                raise SystemExit(f"{name}: the page by key is not the page by OFFSET")
        for label in ("no index on the order's key", "an index on the order's key"):
            if label.startswith("an index"):
                pg.psql("CREATE INDEX escrows_recent ON escrows"
                        " (created_block, chain_id, address COLLATE \"C\")")
                pg.psql("ANALYZE escrows")
            stmts, names = [], []
            for name, off in at.items():
                stmts.append(f"SELECT {COLS}{FROM}{ORDER} LIMIT 129 OFFSET {off}")
                names.append(f"{name}, OFFSET {off}")
                if name in keys:
                    stmts.append(f"SELECT {COLS}{FROM} WHERE {KEY} < {keys[name]}{ORDER}"
                                 " LIMIT 129")
                    names.append(f"{name}, by key")
            print(f"{label}:")
            for nm, ms in zip(names, timed(pg, psql, stmts)):
                print(f"  {nm:<24} {ms:9.2f} ms", flush=True)
        import shutil
        shutil.rmtree(desk.home, ignore_errors=True)
        shutil.rmtree(desk.home.rstrip("/") + "-pw", ignore_errors=True)

    return pg_sync.run_mode(bench)


if __name__ == "__main__":
    sys.exit(main())
