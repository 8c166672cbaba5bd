#!/usr/bin/python3
"""pg_sync_bench.py: initial sync of the bench chain into PostgreSQL against the SQLite desk,
in the same run (not a test: it prints numbers and ratios; results go to docs/benchmarks.md).

The chain is sync_bench.py's (escrows with 32 approvers, >= 100,000 events), loaded from its
cached state (--state, made by `sync_bench.py --state FILE`; this script never builds it).
The server is a private one from tests/lib/pg.py (fsync off, as in the tests). N pairs, the
order alternating within each pair:

- SQLite: `fusion sync --once` on a fresh desk home with the chain added;
- PostgreSQL: a fresh desk home configured alike, its desk copied into a fresh database on
  the server with `fusion db migrate --to` (the desk's schema and the chain, as
  tests/pgstore/pg_sync.py prepares it; not timed), then `fusion sync --once --db URL`.
  With --old BIN, a third run per pair syncs with BIN too (a before/after of the same run).

Measured per run: wall time of the fusion process, events/s, fusion's CPU (GNU time), the
server's CPU over the run (every process of the postmaster's tree, the backends it reaped
included), and after each run the stored event count, which must equal the node's own log
count (curl eth_getLogs): a run that lost or duplicated rows stops the benchmark rather
than being reported. Reported: medians and the PG/SQLite ratio of each pair.

Usage (from the source root, after a build):
  tests/bench/pg_sync_bench.py [--pairs N] [--state FILE] [--old BIN] [--migrate]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
import devchain  # noqa: E402
import sync_bench  # noqa: E402
import sync_lib  # noqa: E402
from pg import PgServer  # noqa: E402

FUSION = sync_bench.FUSION
CHAIN = 31337
TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, utime + stime, cutime + cstime, state) in seconds, or None when pid is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # rest[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
    return int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK, \
        (int(rest[13]) + int(rest[14])) / TICK, rest[0]


def server_children(pm):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            s = proc_stat(int(d))
            if s and s[0] == pm:
                out.append((int(d), s))
    return out


def server_cpu(pm):
    """CPU seconds of the postmaster, its live children, and the children it has reaped (read
    again when it reaped one during the scan of its children, which would miss that one)."""
    while True:
        s = proc_stat(pm)
        kids = server_children(pm)
        after = proc_stat(pm)
        if after[2] == s[2]:
            return after[1] + after[2] + sum(c[1][1] for c in kids)


def backends_of(pm, db):
    """Live backends connected to database db (their title names it), and any child not yet
    reaped (a zombie's CPU is counted in neither the children nor the postmaster's)."""
    out = []
    for pid, st in server_children(pm):
        if st[3] == "Z":
            out.append(pid)
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                title = f.read().decode(errors="replace")
        except OSError:
            continue
        if f" {db} " in title:
            out.append(pid)
    return out


def timed(argv, rep):
    """Runs argv under GNU time; returns wall seconds and fusion's CPU seconds."""
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rep, *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[3:])} failed ({r.returncode}): {r.stderr.strip()}")
    _kb, user, sys_ = open(rep).read().split()[-3:]
    return t, float(user) + float(sys_)


def run_sqlite(node, factory):
    t, n, desk, _mb = sync_bench.fusion_initial(node, factory, str(CHAIN))
    return {"wall": t, "cpu": sync_bench.fusion_initial.cpu, "server": 0.0, "rows": n,
            "home": desk.home}


def run_pg(pg, node, factory, binary, tag):
    db = f"bench_{tag}"
    pg.psql(f"CREATE DATABASE {db}")
    url = pg.url_for(db=db)
    desk = sync_lib.Desk()
    desk.run("chain", "add", "--name", "bench", "--chain-id", CHAIN, "--rpc", node.url,
             "--factory", factory, "--confirmations", "0", "--from-block", "0")
    r = subprocess.run([binary, "--home", desk.home, "db", "migrate", "--to", url],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"db migrate: {r.stderr.strip()}")
    sync_lib.wait_until(lambda: not backends_of(pg.pid, db), "the migrate's backend to end", 30)
    args = ("sync", "--once", "--quiet", "--db", url)
    c0 = server_cpu(pg.pid)
    t, cpu = timed([binary, "--home", desk.home, *desk.signed.sign_args(args), *args],
                   os.path.join(desk.home, "time.txt"))
    # the sync's backend ends when fusion closes its connection: counted once reaped
    sync_lib.wait_until(lambda: not backends_of(pg.pid, db), "the sync's backend to end", 30)
    server = server_cpu(pg.pid) - c0
    rows = int(pg.psql(f"SELECT count(*) FROM events WHERE chain_id = {CHAIN}", db=db)[0][0])
    dist = int(pg.psql("SELECT count(*) FROM (SELECT DISTINCT block_hash, log_index FROM events"
                       f" WHERE chain_id = {CHAIN}) d", db=db)[0][0])
    local = desk.event_count(CHAIN)
    pg.psql(f"DROP DATABASE {db}")
    if dist != rows:
        raise RuntimeError(f"{tag}: {rows} rows on the server for {dist} distinct events")
    if local != 0:
        raise RuntimeError(f"{tag}: {local} events in the desk's own desk.db with --db")
    return {"wall": t, "cpu": cpu, "server": server, "rows": rows, "home": desk.home}


def run_migrate(pg, home, binary, tag, want):
    """`db migrate` of the synced SQLite desk into a fresh database: wall time, fusion's CPU,
    the server's; the server's event count must be the node's."""
    db = f"mig_{tag}"
    pg.psql(f"CREATE DATABASE {db}")
    c0 = server_cpu(pg.pid)
    t, cpu = timed([binary, "--home", home, "db", "migrate", "--to", pg.url_for(db=db)],
                   os.path.join(home, f"time-{tag}.txt"))
    sync_lib.wait_until(lambda: not backends_of(pg.pid, db), "the migrate's backend to end", 30)
    server = server_cpu(pg.pid) - c0
    rows = int(pg.psql(f"SELECT count(*) FROM events WHERE chain_id = {CHAIN}", db=db)[0][0])
    pg.psql(f"DROP DATABASE {db}")
    if rows != want:
        raise RuntimeError(f"{tag}: db migrate copied {rows} events, the node has {want}")
    return {"wall": t, "cpu": cpu, "server": server}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--state", default="/tmp/fusion-bench-state/100k.json")
    ap.add_argument("--old", help="a second fusion binary synced into PostgreSQL too (before)")
    ap.add_argument("--migrate", action="store_true",
                    help="also time `db migrate` of each pair's synced SQLite desk (with --old: "
                         "by both binaries, alternating)")
    a = ap.parse_args()
    # a binary outside the build directory (--old) finds the shipped data here
    os.environ.setdefault("FUSION_DATA", os.path.join(ROOT, "data"))
    sync_lib.need_artifacts()
    if not os.path.exists(a.state):
        print(f"no chain state {a.state}: make it once with "
              f"`tests/bench/sync_bench.py --state {a.state} --live 0 --runs 1`", file=sys.stderr)
        return 1
    node = devchain.Anvil(chain_id=CHAIN, args=[
        "--gas-limit", "30000000", "--block-base-fee-per-gas", "0", "--prune-history", "16",
        "--load-state", a.state])
    node.start(timeout=600)
    factory = json.load(open(a.state + ".meta"))["factory"]
    head = node.block_number()
    _t, want = sync_bench.curl_baseline(node, head)
    print(f"loaded the chain from {a.state}: head {head}, {want} logs (curl eth_getLogs)",
          flush=True)
    pg = PgServer().start()
    kinds = [("sqlite", None), ("pg", FUSION)] + ([("pg-old", a.old)] if a.old else [])
    res = {k: [] for k, _ in kinds}
    ratios, ratios_old = [], []
    migs = {}
    try:
        for i in range(a.pairs):
            order = kinds if i % 2 == 0 else kinds[::-1]
            got = {}
            for kind, binary in order:
                if kind == "sqlite":
                    m = run_sqlite(node, factory)
                else:
                    m = run_pg(pg, node, factory, binary, f"{kind.replace('-', '_')}_{i}")
                if m["rows"] != want:
                    raise RuntimeError(f"pair {i + 1}, {kind}: {m['rows']} events stored, the "
                                       f"node has {want}: not reported")
                got[kind] = m
                res[kind].append(m)
                if kind == "sqlite" and a.migrate:
                    bins = [("new", FUSION)] + ([("old", a.old)] if a.old else [])
                    for tag, b in (bins if i % 2 == 0 else bins[::-1]):
                        mm = run_migrate(pg, m["home"], b, f"{tag}_{i}", want)
                        migs.setdefault(tag, []).append(mm)
                        print(f"pair {i + 1}: db migrate ({tag}) of the synced desk "
                              f"{mm['wall']:.2f} s (CPU fusion {mm['cpu']:.2f} s, server "
                              f"{mm['server']:.2f} s)", flush=True)
                subprocess.run(["rm", "-rf", m["home"], m["home"].rstrip("/") + "-pw"])
            ratios.append(got["pg"]["wall"] / got["sqlite"]["wall"])
            line = (f"pair {i + 1}: SQLite {got['sqlite']['wall']:.2f} s "
                    f"({want / got['sqlite']['wall']:,.0f} events/s, CPU "
                    f"{got['sqlite']['cpu']:.2f} s); PostgreSQL {got['pg']['wall']:.2f} s "
                    f"({want / got['pg']['wall']:,.0f} events/s, CPU fusion "
                    f"{got['pg']['cpu']:.2f} s, server {got['pg']['server']:.2f} s); "
                    f"PG/SQLite {ratios[-1]:.2f}")
            if a.old:
                ratios_old.append(got["pg-old"]["wall"] / got["pg"]["wall"])
                line += (f"; old PostgreSQL {got['pg-old']['wall']:.2f} s (CPU fusion "
                         f"{got['pg-old']['cpu']:.2f} s, server {got['pg-old']['server']:.2f} "
                         f"s), old/new {ratios_old[-1]:.2f}")
            print(line + f"; load {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        pg.stop()
        node.stop()

    def med(kind, key):
        return statistics.median(m[key] for m in res[kind])
    print(f"median over {a.pairs} pairs, {want} events over {head} blocks: "
          f"SQLite {med('sqlite', 'wall'):.2f} s ({want / med('sqlite', 'wall'):,.0f} events/s, "
          f"CPU {med('sqlite', 'cpu'):.2f} s); PostgreSQL {med('pg', 'wall'):.2f} s "
          f"({want / med('pg', 'wall'):,.0f} events/s, CPU fusion {med('pg', 'cpu'):.2f} s, "
          f"server {med('pg', 'server'):.2f} s); PG/SQLite median {statistics.median(ratios):.2f}"
          f" (range {min(ratios):.2f} - {max(ratios):.2f})")
    if a.old:
        print(f"old binary into PostgreSQL: median {med('pg-old', 'wall'):.2f} s (CPU fusion "
              f"{med('pg-old', 'cpu'):.2f} s, server {med('pg-old', 'server'):.2f} s); old/new "
              f"median {statistics.median(ratios_old):.2f} (range {min(ratios_old):.2f} - "
              f"{max(ratios_old):.2f})")
    for tag, ms in migs.items():
        print(f"db migrate ({tag}) of the synced desk: median "
              f"{statistics.median(m['wall'] for m in ms):.2f} s (CPU fusion "
              f"{statistics.median(m['cpu'] for m in ms):.2f} s, server "
              f"{statistics.median(m['server'] for m in ms):.2f} s)")
    if len(migs) == 2:
        r = [o["wall"] / n["wall"] for o, n in zip(migs["old"], migs["new"])]
        print(f"db migrate old/new: median {statistics.median(r):.2f} (range {min(r):.2f} - "
              f"{max(r):.2f})")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
