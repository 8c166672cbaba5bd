#!/usr/bin/python3
"""pg_live_bench.py: live latency of follower UIs on a desk whose book is on a PostgreSQL
server (issue 22's benchmark; not a test: it prints numbers and ratios, results go to
docs/benchmarks.md; nothing here asserts on time).

One private server (tests/lib/pg.py), one anvil chain with --escrows escrows synced there,
one syncer (`fusion sync` on the desk's home, holding the chain's lock on the server) and
terminal UIs in tmux (160x30) on copies of the desk's home (five workstations of one desk,
each with its signed book.conf naming the server; each copy's sync lock held by the bench,
so the UIs only follow). Every UI shows the Escrows screen, read from the server.

- notification-to-frame: the bench commits on the server (a persistent psql: one
  transaction that rewrites an escrow row and announces `events:31337`, as the sync's
  commits do), taking CLOCK_MONOTONIC just before; each UI logs, at debug level, the
  CLOCK_MONOTONIC time of the frame that followed the announcement (its watcher thread
  woke the loop, the screens read the server again, doupdate). The difference, per UI.
- key-to-frame: `j` and `k` in turn (the selection moves) sent to each UI in turn; the UI logs the time
  from reading the key to the end of its frame.

The baseline, in the same run: the first UI alone (its four peers not started yet), then
the same measurements with all five running, each announcement drawn by all five. Prints
p50/p99 of each and the ratio five / alone.

Usage: tests/bench/pg_live_bench.py [--build DIR] [--n N] [--escrows N]
"""
import argparse
import fcntl
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True

BOOK = re.compile(r"frame ([0-9.]+) ms after book announcement, at ([0-9]+) ns monotonic")
KEY = re.compile(r"frame ([0-9.]+) ms after key")


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


class Follower:
    def __init__(self, tmuxh, src, i, env):
        self.home = src.rstrip("/") + f"-ws{i}"
        shutil.copytree(src, self.home, symlinks=True,
                        ignore=shutil.ignore_patterns("*.sock", "fusion.log*", "*.stderr",
                                                      "sync.lock"))
        self.log = os.path.join(self.home, "fusion.log")
        self.lock = open(os.path.join(self.home, "sync.lock"), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # follow, never sync
        self.t = tmuxh.Tmux(f"live{i}", cols=160, rows=30)
        self.env = env
        self.fusion = None

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self, fusion):
        self.t.start(f"{fusion} --home {self.home} --operator admin", env=self.env)
        self.t.wait_for("Fusion Prime Workstation", "the title bar")
        self.t.send("2")
        self.t.wait_for(lambda s: "escrows 1/" in s, "the Escrows screen")

    def counts(self):
        s = self.text()
        return len(BOOK.findall(s)), len(KEY.findall(s))

    def book_frame(self, before, deadline):
        while time.monotonic() < deadline:
            got = BOOK.findall(self.text())
            if len(got) > before:
                return int(got[before][1])
            time.sleep(0.002)
        raise SystemExit(f"no frame after the announcement in {self.log}")

    def key(self, down):
        before = self.counts()[1]
        self.t.send("j" if down else "k")  # down and up again: every key moves
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = KEY.findall(self.text())
            if len(got) > before:
                return float(got[before])
            time.sleep(0.002)
        raise SystemExit(f"no frame after the key in {self.log}")


class Committer:
    """A psql session kept open: each commit is one line on its stdin (no process start)."""

    def __init__(self, pg, psql):
        self.p = subprocess.Popen([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                                   pg.dir, "-p", str(pg.port), "-U", "fusion", "-d", "desk"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)

    def commit(self, k):
        sql = ("BEGIN; UPDATE escrows SET last_event_block = last_event_block"
               " WHERE address = (SELECT address FROM escrows ORDER BY address"
               f" OFFSET {k} % (SELECT count(*) FROM escrows) LIMIT 1);"
               " SELECT pg_notify('fusion_commit', 'events:31337'); COMMIT;\n")
        t0 = time.monotonic_ns()
        self.p.stdin.write(sql)
        self.p.stdin.flush()
        return t0

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=60)


def measure(fs, com, n, k0):
    """n commits drawn by every follower of fs, then n keys to each; per-follower lists."""
    note = {id(f): [] for f in fs}
    keys = {id(f): [] for f in fs}
    for k in range(n):
        before = [f.counts()[0] for f in fs]
        t0 = com.commit(k0 + k)
        deadline = time.monotonic() + 60
        for f, b in zip(fs, before):
            note[id(f)].append((f.book_frame(b, deadline) - t0) / 1e6)
        time.sleep(random.uniform(0.05, 0.15))  # off any rhythm of the UIs' ticks
    for k in range(n):
        for f in fs:
            keys[id(f)].append(f.key(k % 2 == 0))
    return note, keys


def row(name, xs, base=None):
    p50, p99 = pct(xs, 50), pct(xs, 99)
    s = f"  {name:<34} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  (n={len(xs)})"
    if base:
        s += f"  ratio p50 {p50 / pct(base, 50):.2f}  p99 {p99 / pct(base, 99):.2f}"
    print(s, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--n", type=int, default=60, help="commits and keys per phase")
    ap.add_argument("--escrows", type=int, default=12, help="escrows made on the chain")
    a = ap.parse_args()
    fusion = os.path.join(os.path.abspath(a.build), "fusion")
    os.environ["FUSION_BIN"] = fusion
    os.environ.setdefault("FUSION_ROOT", ROOT)
    for d in ("tests/pgstore", "tests/ui", "tests/lib", "tests/integration"):
        sys.path.insert(0, os.path.join(ROOT, d))
    import pg_sync
    import tmuxh
    from pg import PG_BIN
    tmuxh.FUSION_BIN = fusion
    if not pg_sync.available():
        print("PostgreSQL 15 is not installed: run scripts/bootstrap", file=sys.stderr)
        return 1
    pg_sync.need_artifacts()
    random.seed(22)

    def bench(pg):
        chain, desk, url = pg_sync.setup(pg, a.escrows, 0)
        home = desk.home
        with open(os.path.join(home, "book.conf"), "w") as f:
            f.write(f"db = {pg.url_for(user='desk')}\n")
        os.chmod(os.path.join(home, "book.conf"), 0o600)
        desk.signed.sign_config("book")
        env = dict(os.environ, PGPASSWORD=pg_sync.PASSWORD)
        errpath = os.path.join(home, "sync.stderr")
        err = open(errpath, "wb")
        p = subprocess.Popen([fusion, "--home", home, "sync", "--no-subscribe", "--poll-ms",
                              "100"], stdout=subprocess.DEVNULL, stderr=err, env=env)
        err.close()
        pg_sync._procs.append(p)
        pg_sync.wait_until(lambda: "sync local: following" in pg_sync.read(errpath),
                           "fusion sync", 120)
        print(f"server, a syncer, {a.escrows} escrows on the server; {a.n} commits and keys "
              "per phase", flush=True)
        uienv = {"PGPASSWORD": pg_sync.PASSWORD}
        fs = [Follower(tmuxh, home, i, uienv) for i in range(5)]
        com = Committer(pg, os.path.join(PG_BIN, "psql"))
        try:
            fs[0].start(fusion)
            time.sleep(1)
            note1, keys1 = measure(fs[:1], com, a.n, 0)
            for f in fs[1:]:
                f.start(fusion)
            time.sleep(1)
            note5, keys5 = measure(fs, com, a.n, a.n)
        finally:
            com.close()
            for f in fs:
                f.t.close()
            p.terminate()
            p.wait(timeout=60)
        base_n = note1[id(fs[0])]
        base_k = keys1[id(fs[0])]
        print("notification-to-frame (a commit on the server to the follower's frame):")
        row("one follower alone (baseline)", base_n)
        for i, f in enumerate(fs):
            row(f"follower {i + 1} of five", note5[id(f)], base_n)
        row("all five together", sum((note5[id(f)] for f in fs), []), base_n)
        print("key-to-frame (j, k on the Escrows screen):")
        row("one follower alone (baseline)", base_k)
        for i, f in enumerate(fs):
            row(f"follower {i + 1} of five", keys5[id(f)], base_k)
        row("all five together", sum((keys5[id(f)] for f in fs), []), base_k)
        spread = [max(x) - min(x) for x in zip(*(note5[id(f)] for f in fs))]
        print(f"last minus first follower's frame per commit: p50 {statistics.median(spread):.2f}"
              f" ms, p99 {pct(spread, 99):.2f} ms")
        for f in fs:
            shutil.rmtree(f.home, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)

    return pg_sync.run_mode(bench)


if __name__ == "__main__":
    sys.exit(main())
