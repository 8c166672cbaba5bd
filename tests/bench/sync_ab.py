#!/usr/bin/python3
"""sync_ab.py: CPU of `fusion sync --once` on a fresh desk, two builds alternated in the same
run (not a test: it prints). Each desk is made by the binary it times (an older binary
refuses a desk a newer one made). The chain is the cached one of sync_bench.py.

  tests/bench/sync_ab.py NEW_BIN OLD_BIN [--runs N] [--state FILE] [-- SYNC_ARGS...]

e.g. `tests/bench/sync_ab.py build/fusion /work/main/build/fusion -- --range 50 --max-range 50`
prints each run's CPU (user + sys, GNU time), wall time and load average, then the medians
and the ratio NEW / OLD."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sync_bench  # noqa: E402,F401  (sets up the paths of sync_lib and devchain)
from sync_bench import devchain, sync_lib  # noqa: E402


def one(node, factory, binary, extra):
    sync_lib.FUSION = binary
    desk = sync_lib.Desk()
    try:
        desk.run("chain", "add", "--name", "bench", "--chain-id", "31337", "--rpc", node.url,
                 "--factory", factory, "--confirmations", "0", "--from-block", "0")
        args = ("sync", "--once", "--quiet", *extra)
        rep = os.path.join(desk.home, "time.txt")
        t0 = time.monotonic()
        r = subprocess.run(["/usr/bin/time", "-f", "%U %S", "-o", rep, binary, "--home",
                            desk.home, *desk.signed.sign_args(args), *args],
                           stderr=subprocess.DEVNULL)
        wall = time.monotonic() - t0
        assert r.returncode == 0, f"{binary} exited {r.returncode}"
        u, s = map(float, open(rep).read().split()[-2:])
        return u + s, wall, desk.event_count("31337")
    finally:
        shutil.rmtree(desk.home, ignore_errors=True)


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    ap = argparse.ArgumentParser()
    ap.add_argument("new")
    ap.add_argument("old")
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--state", default="/tmp/fusion-bench-state/100k.json")
    a = ap.parse_args(argv)
    bins = [os.path.abspath(a.new), os.path.abspath(a.old)]
    node = devchain.Anvil(chain_id=31337, args=["--gas-limit", "30000000",
                                                "--block-base-fee-per-gas", "0",
                                                "--prune-history", "16", "--load-state",
                                                a.state])
    node.start(timeout=600)
    factory = json.load(open(a.state + ".meta"))["factory"]
    res = {b: [] for b in bins}
    try:
        for i in range(a.runs):
            for b in (bins if i % 2 == 0 else bins[::-1]):
                cpu, wall, n = one(node, factory, b, extra)
                res[b].append(cpu)
                load = open("/proc/loadavg").read().split()[0]
                print(f"{b}: CPU {cpu:.2f} s, wall {wall:.2f} s, {n} events, load {load}",
                      flush=True)
    finally:
        node.stop()
    cn, co = (statistics.median(res[b]) for b in bins)
    print(f"median CPU: new {cn:.3f} s, old {co:.3f} s; new / old {cn / co:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
