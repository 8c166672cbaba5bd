#!/usr/bin/python3
"""devnet_demo_stall.py: one devnet node that stops answering stalls only its own chain.

`fusion demo --no-ui` runs on free ports; once the market driver runs, the Polygon
stand-in's anvil is stopped (SIGSTOP: the kernel still accepts connections, nothing
answers, as with a hung or starved node), then continued. While it is stopped the other
two chains' feeds must keep moving, day after day (read with `cast` from their nodes);
after it continues, its own feeds must move again; and the demo's summary (after SIGINT)
must say which chain skipped days. A driver that serves the chains one call after another
waits out every timeout of the stopped node with all chains frozen and reports no error:
the picture of devnet-demo's failure "0 days replayed (last -), 1 feed updates, 0 escrows".
"""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import N_CHAINS, ENV, FUSION, cast, check, free_ports, fusion, report  # noqa: E402

STOPPED = "devnet-pol"
STEP_MS = 500
MOVES = 4        # rounds the answering chains must move while the other node is stopped
PATIENCE = 60.0  # how long to wait for that (a bound for failing, not a speed test)


def rounds(url, feeds):
    return [int(cast("call", "--rpc-url", url, f, "latestRound()(uint80)").split()[0])
            for f in feeds]


def wait_moved(url, feeds, base, k):
    """Polls until every feed is k rounds past base; the last reading."""
    deadline = time.monotonic() + PATIENCE
    while True:
        now = rounds(url, feeds)
        if all(b - a >= k for a, b in zip(base, now)) or time.monotonic() > deadline:
            return now
        time.sleep(0.25)


def main():
    home = tempfile.mkdtemp(prefix="fusion-demo-stall-")
    ports = free_ports(N_CHAINS)
    try:
        run(home, ports)
    finally:
        fusion(home, "devnet", "down", rc=None)
    return report()


def run(home, ports):
    proc = subprocess.Popen([FUSION, "--home", home, "demo", "--no-ui", "--duration", "10m",
                             "--step-ms", str(STEP_MS), "--ports", ",".join(map(str, ports)),
                             "--keep-devnet"], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out = []
    pid = None
    try:
        for line in proc.stdout:
            out.append(line)
            if "market driver running" in line:
                break
        db = sqlite3.connect(os.path.join(home, "desk.db"))
        chains = dict(db.execute("SELECT name, chain_id FROM chains"))
        urls = dict(db.execute("SELECT chain_id, url FROM rpc_endpoints"))
        feeds = {}
        for cid, address in db.execute("SELECT chain_id, address FROM price_feeds"):
            feeds.setdefault(cid, []).append(address)
        db.close()
        with open(os.path.join(home, "devnet", STOPPED + ".pid")) as f:
            pid = int(f.read().split()[0])
        running = [c for n, c in chains.items() if n != STOPPED]
        stopped = chains[STOPPED]

        os.kill(pid, signal.SIGSTOP)
        for c in running:
            before = rounds(urls[c], feeds[c])
            during = wait_moved(urls[c], feeds[c], before, MOVES)
            check(all(b - a >= MOVES for a, b in zip(before, during)),
                  "chain %d's feeds moved >= %d rounds while %s was stopped (rounds %s -> %s)" %
                  (c, MOVES, STOPPED, before, during))
        os.kill(pid, signal.SIGCONT)
        pid = None
        resumed = rounds(urls[stopped], feeds[stopped])
        after = wait_moved(urls[stopped], feeds[stopped], resumed, 1)
        check(all(b > a for a, b in zip(resumed, after)),
              "%s's feeds moved again after it continued (rounds %s -> %s)" % (STOPPED, resumed,
                                                                              after))
        proc.send_signal(signal.SIGINT)
        out.extend(proc.stdout)
        proc.wait(timeout=120)
    finally:
        if pid:
            os.kill(pid, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = "".join(out)
    print(text, end="")
    check(proc.returncode == 0, "demo exited %s" % proc.returncode)
    line = [l for l in text.splitlines() if l.startswith("demo: %s:" % STOPPED)]
    check(len(line) == 1 and " 0 days skipped" not in line[0],
          "the summary says %s skipped days: %s" % (STOPPED, line))


if __name__ == "__main__":
    sys.exit(main())
