#!/usr/bin/python3
"""sync_bench.py: chain sync benchmarks against a local anvil (not a test: it prints
numbers and ratios measured in the same run; results go to docs/benchmarks.md).

1. Initial sync: escrows with 32 approvers each, created, funded and approved by all
   32 (34 events each; >= 100,000 events by default), made in bulk by the helper
   contracts in tests/bench/sync_bench_helpers.sol (compiled here with the pinned npm
   solc) through the real EscrowFactory and Escrow. Baseline: one raw
   `curl` eth_getLogs of the same logs (the node's own limit). Second baseline, in the
   same run: the naive Python ingest a user would write in ten minutes (urllib + json,
   one SQLite table, executemany in one transaction). Measured: `fusion sync --once` on a
   fresh desk, wall time, and its peak resident memory. Reported: events/s and the ratios.
2. Live latency: `fusion sync` follows the head; LIVE transactions are mined one at a
   time (automine) at random gaps; for each, the time from its block becoming visible
   on the node (eth_blockNumber polled every 0.5 ms) to its row appearing in the desk
   database (polled every millisecond on a read-only connection). Reported: p50, p99,
   max; once polling (--no-subscribe, every --poll-ms) and once following by subscription
   (eth_subscribe newHeads over anvil's WebSocket).

Usage (from the source root, after a build):
  tests/bench/sync_bench.py [--events N] [--live N] [--runs N] [--state FILE] [--baseline BIN]
--baseline BIN also times another build's `fusion sync --once` in each run, right after
this one's or right before it (the order swaps every run), and prints both medians.
--state caches the generated chain (anvil --dump-state/--load-state), so that later runs
skip the generation step.
"""
import argparse
import gzip
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import devchain  # noqa: E402
import sync_lib  # noqa: E402
from sync_lib import A, CREATE_SIG, cast, topic  # noqa: E402

FUSION = os.environ.get("FUSION_BIN") or os.path.join(ROOT, "build", "fusion")
EVENT_SIGS = [
    "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64)",
    "Funded(address,uint256)", "Approved(address,uint256)", "Released(address,uint256)",
    "Refunded(address,uint256,address)", "Disputed(address,string)",
    "Resolved(bool,address,uint256)",
]


def compile_helpers():
    """tests/bench/sync_bench_helpers.sol with the pinned npm solc (no download)."""
    out = tempfile.mkdtemp(prefix="fusion-bench-solc-")
    src = os.path.join(ROOT, "tests", "bench", "sync_bench_helpers.sol")
    subprocess.run(["node", os.path.join(ROOT, "tools", "node_modules", "solc", "solc.js"),
                    "--optimize", "--bin", "-o", out, src], check=True, capture_output=True)
    bins = {}
    for f in os.listdir(out):
        for name in ("BenchPayer", "BenchApprover"):
            if f.endswith(f"_{name}.bin"):
                bins[name] = "0x" + open(os.path.join(out, f)).read().strip()
    return bins


def send(node, sender, to, data, value=0):
    r = node.send(to, data, sender=sender, value=value, gas=16_000_000)
    if int(r["status"], 16) != 1:
        raise RuntimeError(f"benchmark transaction reverted: {r['transactionHash']}")
    return r


APPROVERS = 32  # Escrow.MAX_APPROVERS: the most events one escrow can have


def generate(node, factory, events, per_tx=8, per_approve=250):
    """Escrows with 32 approver contracts each (threshold 32), created and funded by the
    payer contract (EscrowCreated + Funded) and approved by all 32 approvers (32 x
    Approved): 34 events per escrow, as many escrows as `events` needs. Approvals are
    the cheapest escrow events in gas, which keeps building the chain short."""
    t0 = time.monotonic()
    per = APPROVERS + 2
    n = -(-events // per)
    bins = compile_helpers()
    payer = node.deploy(bins["BenchPayer"])
    approvers = [node.deploy(bins["BenchApprover"]) for _ in range(APPROVERS)]
    amount = 1000
    done = 0
    while done < n:
        k = min(per_tx, n - done)
        data = cast("calldata", "createAndFund(address,uint256,address,uint256,address[],"
                    "uint256,address,uint64)", factory, k, A[1], amount,
                    "[" + ",".join(approvers) + "]", APPROVERS, A[5], 4102444800)
        send(node, A[0], payer, data, value=k * amount)
        done += k
    created_topic = topic(EVENT_SIGS[0])
    logs = node.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest",
                                    "address": factory, "topics": [created_topic]})
    escrows = ["0x" + lg["topics"][1][-40:] for lg in logs]
    assert len(escrows) == n, (len(escrows), n)
    for c in approvers:
        for i in range(0, n, per_approve):
            part = "[" + ",".join(escrows[i:i + per_approve]) + "]"
            send(node, A[0], c, cast("calldata", "approveAll(address[])", part))
    print(f"generated {n} escrows ({per * n} events) in {time.monotonic() - t0:.1f} s, head "
          f"{node.block_number()}", flush=True)


class FakeChain:  # calldata() without a Chain object
    _calldata = {}


def curl_baseline(node, head):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{
        "fromBlock": "0x0", "toBlock": hex(head),
        "topics": [[topic(s) for s in EVENT_SIGS]]}]})
    path = os.path.join(tempfile.mkdtemp(prefix="fusion-bench-"), "filter.json")
    with open(path, "w") as fh:
        fh.write(body)
    out = path + ".out"
    r = subprocess.run(["curl", "-s", "-o", out, "-w", "%{time_total}", "-H",
                        "Content-Type: application/json", "--data-binary", "@" + path,
                        node.url], check=True, capture_output=True, text=True)
    t = float(r.stdout)
    with open(out) as fh:
        n = len(json.load(fh)["result"])
    return t, n


def python_baseline(node, head):
    """The naive ingest: fetch the same logs with urllib + json and insert them into one
    SQLite table (hex text, as the node prints them) with executemany, one transaction."""
    import urllib.request
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_getLogs", "params": [{
        "fromBlock": "0x0", "toBlock": hex(head),
        "topics": [[topic(s) for s in EVENT_SIGS]]}]}).encode()
    path = os.path.join(tempfile.mkdtemp(prefix="fusion-bench-py-"), "naive.db")
    import resource
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    req = urllib.request.Request(node.url, data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        logs = json.load(r)["result"]
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE events (block_number INTEGER, block_hash TEXT, tx_hash TEXT,"
                " tx_index INTEGER, log_index INTEGER, address TEXT, topic0 TEXT, topic1 TEXT,"
                " topic2 TEXT, topic3 TEXT, data TEXT, UNIQUE (block_hash, log_index))")
    rows = []
    for lg in logs:
        t = lg["topics"] + [None] * (4 - len(lg["topics"]))
        rows.append((int(lg["blockNumber"], 16), lg["blockHash"], lg["transactionHash"],
                     int(lg["transactionIndex"], 16), int(lg["logIndex"], 16), lg["address"],
                     t[0], t[1], t[2], t[3], lg["data"]))
    with con:
        con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    con.close()
    t = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    python_baseline.cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    os.unlink(path)
    return t, len(logs)


def fusion_initial(node, factory, chain_id, binary=None):
    # The desk is made by the binary that syncs it: a build with an older schema (a
    # --baseline) refuses a desk that a newer one made.
    made_by = sync_lib.FUSION
    sync_lib.FUSION = binary or FUSION
    try:
        desk = sync_lib.Desk(keep=True)  # kept for tests/bench/pass_bench.c
        desk.run("chain", "add", "--name", "bench", "--chain-id", chain_id, "--rpc", node.url,
                 "--factory", factory, "--confirmations", "0", "--from-block", "0")
    finally:
        sync_lib.FUSION = made_by
    t0 = time.monotonic()
    args = ("sync", "--once", "--quiet")
    # Peak resident memory and CPU time through GNU time: a direct child of this process
    # would report this (large) process's memory, which a fork copies and exec records.
    rep = os.path.join(desk.home, "time.txt")
    r = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", rep, binary or FUSION, "--home",
                        desk.home, *desk.signed.sign_args(args), *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError(f"fusion sync --once failed: {r.stderr}")
    kb, user, sys_ = open(rep).read().split()[-3:]
    fusion_initial.cpu = float(user) + float(sys_)
    return t, desk.event_count(chain_id), desk, int(kb) / 1024


def baseline_run(node, factory, chain_id, binary, n, t, tp, out):
    """The same initial sync with another build, in the same run as this one's."""
    tf, nf, _, mb = fusion_initial(node, factory, chain_id, binary)
    assert nf == n, f"the baseline stored {nf} events, the node returned {n}"
    out.append((tf, fusion_initial.cpu, mb))
    print(f"  baseline {binary}: {tf:.2f} s ({nf / tf:,.0f} events/s, ratio to curl {tf / t:.2f}, "
          f"Python / baseline {tp / tf:.2f}; CPU {fusion_initial.cpu:.2f} s; peak RSS {mb:.0f} MB)",
          flush=True)


def live_latency(node, factory, desk, n, poll_ms, subscribe):
    create = sync_lib.Chain.calldata(FakeChain, CREATE_SIG, A[1], sync_lib.ZERO, "1000",
                                     f"[{A[2]},{A[3]},{A[4]}]", "2", A[5], "4102444800")
    subscribed = desk.fusion_log().count("following the head by subscription")
    desk.follow("--poll-ms", str(poll_ms), "--quiet", *([] if subscribe else ["--no-subscribe"]))
    desk.wait_follower()
    if subscribe:
        sync_lib.wait_until(lambda: desk.fusion_log().count("following the head by "
                                                            "subscription") > subscribed,
                            "the follower to subscribe to new heads")
    con = sqlite3.connect(f"file:{desk.home}/desk.db?mode=ro", uri=True)
    last = con.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
    rnd = random.Random(5)
    lat = []
    for i in range(n):
        time.sleep(rnd.uniform(0.0, 0.3))
        head = node.block_number()
        txh = node.rpc("eth_sendTransaction", {"from": A[0], "to": factory, "data": create})
        # Mined: the block is visible on the node (anvil returns the hash before it has
        # built the block, which takes it a while on a large state).
        deadline = time.monotonic() + 30
        while node.block_number() == head and time.monotonic() < deadline:
            time.sleep(0.0005)
        t_mined = time.monotonic()
        deadline = t_mined + 30
        seen = None
        while time.monotonic() < deadline:
            rows = con.execute("SELECT id, tx_hash FROM events WHERE id > ?", (last,)).fetchall()
            for rid, h in rows:
                last = max(last, rid)
                if sync_lib.hexb(h) == txh:
                    seen = time.monotonic()
            if seen:
                break
            time.sleep(0.001)
        if not seen:
            raise RuntimeError(f"transaction {txh} never reached the desk")
        lat.append(seen - t_mined)
    con.close()
    assert desk.stop_follow() == 0
    return lat


def pct(xs, p):
    import numpy
    return float(numpy.percentile(numpy.array(xs), p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100000)
    ap.add_argument("--live", type=int, default=250)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll-ms", type=int, default=200)
    ap.add_argument("--state", help="cache the generated chain in this file")
    ap.add_argument("--baseline", help="another fusion binary, timed in the same runs")
    a = ap.parse_args()
    sync_lib.need_artifacts()
    chain_id = 31337
    # Base fee 0: blocks of heavy transactions would otherwise raise it without end.
    args = ["--gas-limit", "30000000", "--block-base-fee-per-gas", "0", "--prune-history", "16"]
    cached = a.state and os.path.exists(a.state)
    if cached:
        args += ["--load-state", a.state]
    node = devchain.Anvil(chain_id=chain_id, args=args)
    node.start(timeout=600)
    if cached:
        factory = json.load(open(a.state + ".meta"))["factory"]
        print(f"loaded the chain from {a.state}, head {node.block_number()}")
    else:
        factory = node.deploy(sync_lib.artifact("EscrowFactory")["bytecode"])
        generate(node, factory, a.events)
        if a.state:
            dump = node.rpc("anvil_dumpState", timeout=600)  # hex of gzipped JSON
            with open(a.state, "wb") as fh:
                fh.write(gzip.decompress(bytes.fromhex(dump[2:])))
            json.dump({"factory": factory}, open(a.state + ".meta", "w"))
    head = node.block_number()

    base, naive, fus, rss = [], [], [], []
    base_runs = []
    desk = None
    for run in range(a.runs):
        t, n = curl_baseline(node, head)
        base.append(t)
        tp, np_ = python_baseline(node, head)
        naive.append(tp)
        assert np_ == n, f"the Python ingest stored {np_} logs, curl read {n}"
        if a.baseline and run % 2 == 1:
            baseline_run(node, factory, chain_id, a.baseline, n, t, tp, base_runs)
        tf, nf, desk, mb = fusion_initial(node, factory, chain_id)
        fus.append(tf)
        rss.append(mb)
        assert nf == n, f"fusion stored {nf} events, the node returned {n}"
        print(f"run {run + 1}: curl {t:.2f} s for {n} logs; naive Python {tp:.2f} s; "
              f"fusion sync --once {tf:.2f} s ({nf / tf:,.0f} events/s, ratio to curl "
              f"{tf / t:.2f}, Python / fusion {tp / tf:.2f}; CPU: fusion {fusion_initial.cpu:.2f} s, "
              f"Python {python_baseline.cpu:.2f} s; fusion peak RSS {mb:.0f} MB)", flush=True)
        if a.baseline and run % 2 == 0:
            baseline_run(node, factory, chain_id, a.baseline, n, t, tp, base_runs)
    tb, tp, tf = statistics.median(base), statistics.median(naive), statistics.median(fus)
    print(f"initial sync: {n} events over {head} blocks; median curl {tb:.2f} s, "
          f"median naive Python {tp:.2f} s, median fusion {tf:.2f} s: {n / tf:,.0f} events/s, "
          f"ratio to curl {tf / tb:.2f}, Python / fusion {tp / tf:.2f}, "
          f"peak RSS {max(rss):.0f} MB")
    if base_runs:
        bf = statistics.median(r[0] for r in base_runs)
        print(f"baseline {a.baseline}: median {bf:.2f} s: {n / bf:,.0f} events/s, ratio to curl "
              f"{bf / tb:.2f}, median CPU {statistics.median(r[1] for r in base_runs):.2f} s, "
              f"peak RSS {max(r[2] for r in base_runs):.0f} MB; this build / baseline "
              f"{tf / bf:.2f}")

    if a.live <= 0:
        node.stop()
        return 0
    for subscribe in (False, True):
        lat = live_latency(node, factory, desk, a.live, a.poll_ms, subscribe)
        how = "by subscription (newHeads)" if subscribe else f"polling every {a.poll_ms} ms"
        print(f"live latency over {len(lat)} transactions, {how}: "
              f"p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, "
              f"max {max(lat) * 1000:.0f} ms", flush=True)
    node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
