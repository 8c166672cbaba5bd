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

Then a node that is slow but answers (the Arbitrum stand-in's anvil stopped 1.5 s of every
1.55, a starved node) while the demo is stopped: its worker's step takes longer than the
5 s a silent node is given, yet it must end whole — no step cut short, and its ETH feed shows
the close of the day the summary names. A stop that cancelled calls after 5 s whatever the
node did left that chain's feeds on a day the summary did not name (devnet-demo failed so
once on a loaded machine: "feed ETH on 412346 shows the close of 2024-01-13 ...").
"""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import N_CHAINS, ENV, FUSION, cast, check, free_ports, fusion, report  # noqa: E402
from devnet_demo import closes_by_day  # noqa: E402

STOPPED = "devnet-pol"
SLOW = "devnet-arb"  # answers, slowly, while the demo stops
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
        # A starved node: 1.5 s stopped in every 1.55, from 3 s before the stop until the demo
        # has returned. Every call still gets its answer within 2 s (the driver's
        # calls time out after 5).
        with open(os.path.join(home, "devnet", SLOW + ".pid")) as f:
            slow_pid = int(f.read().split()[0])
        done = threading.Event()

        def throttle():
            while not done.is_set():
                os.kill(slow_pid, signal.SIGSTOP)
                time.sleep(1.5)
                os.kill(slow_pid, signal.SIGCONT)
                time.sleep(0.003)
        throttler = threading.Thread(target=throttle)
        throttler.start()
        try:
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            out.extend(proc.stdout)
            proc.wait(timeout=180)
        finally:
            done.set()
            throttler.join()
            os.kill(slow_pid, signal.SIGCONT)
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
    slow = [l for l in text.splitlines() if l.startswith("demo: %s:" % SLOW)]
    check(len(slow) == 1 and ", 0 steps cut short," in slow[0] and " 0 errors" in slow[0],
          "the slow node's worker ended its step whole: %s" % slow)
    # and its ETH feed shows the close of the day its line names
    day = slow[0].split("(last ")[1].split(")")[0] if slow else "-"
    eth = closes_by_day("ETH")
    db = sqlite3.connect(os.path.join(home, "desk.db"))
    cid = dict(db.execute("SELECT name, chain_id FROM chains"))[SLOW]
    url = dict(db.execute("SELECT chain_id, url FROM rpc_endpoints"))[cid]
    feeds = [a for a, in db.execute("SELECT address FROM price_feeds WHERE chain_id = ? AND "
                                     "asset IN ('ETH', 'WETH')", (cid,))]
    db.close()
    check(len(feeds) >= 1 and day in eth, "%s has an ETH feed and a day (%s)" % (SLOW, day))
    for f in feeds:
        out = cast("call", "--rpc-url", url, f,
                   "latestRoundData()(uint80,int256,uint256,uint256,uint80)").splitlines()
        answer = int(out[1].split()[0])
        check(answer == eth.get(day), "%s's feed %s shows the close of %s, the day its line "
              "names (%d, want %s)" % (SLOW, f, day, answer, eth.get(day)))


if __name__ == "__main__":
    sys.exit(main())
