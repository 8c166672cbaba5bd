#!/usr/bin/python3
"""api_bench.py: `fusion serve` under load from wrk (Debian's HTTP load generator), on
loopback TCP (no TLS), on a desk that syncs a local anvil while it is measured (not a test:
it prints numbers; results go to docs/benchmarks.md).

1. Reads: GET /v1/escrows?limit=20 (a page of the escrow view, the Escrows screen's query)
   and GET /v1/escrows/local/ADDR (one escrow with its timeline, rotating over the desk's
   escrows), each for --seconds with wrk -t2 -c16 --latency, while a background thread makes
   an escrow on the chain every 100 ms and `fusion sync` follows it into the desk.
2. Proposals: POST /v1/proposals/escrow with a fresh Idempotency-Key each (a wrk Lua
   script), each checked (parties, token, deadline, policy, compliance screening) and
   committed durably (synchronous=FULL) with its audit row before the 201. Afterwards the
   rows in desk.db are counted against wrk's count of 201s: accepted means on disk.

With --baseline BIN the reads and the proposals are measured twice on the same desk in the
same run: with BIN's `fusion serve` (an earlier build) and with this build's (the reads
alternate baseline, this build, baseline, this build, so the machine's load falls on both
alike), the proposals each counted against desk.db.

Usage (from the source root, after a build):
  tests/bench/api_bench.py [--escrows N] [--seconds S] [--connections C] [--baseline BIN]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from sync_lib import A, Chain, Desk, wait_until  # noqa: E402
from api_lib import Server  # noqa: E402
import api_serve  # noqa: E402


def wrk(url, token, seconds, conns, script=None):
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-H",
           "Authorization: Bearer " + token]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    lat["max"] = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", out, re.M).group(1)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "lat": lat, "total": total, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "raw": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--escrows", type=int, default=300)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--baseline", help="an earlier build's fusion binary: proposals measured "
                    "with it too")
    a = ap.parse_args()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    api_serve.setup(desk, chain)
    token = api_serve.add_client(desk, "bench", "propose")
    escrows = [chain.create_escrow(amount=10**15 * (i + 1), via="rpc") for i in range(a.escrows)]
    desk.follow("--poll-ms", "100")
    desk.wait_follower()
    wait_until(lambda: desk.query("SELECT count(*) FROM escrows")[0][0] >= a.escrows,
               "the escrows synced", timeout=600)
    stop = threading.Event()
    made = [0]

    def traffic():  # the desk syncs while it is measured
        while not stop.is_set():
            chain.create_escrow(amount=7, via="rpc")
            made[0] += 1
            time.sleep(0.1)
    th = threading.Thread(target=traffic, daemon=True)
    th.start()
    tmp = tempfile.mkdtemp(prefix="fusion-api-bench-")
    rot = os.path.join(tmp, "rotate.lua")
    with open(rot, "w") as f:
        f.write("local paths = {%s}\nlocal i = 0\nrequest = function()\n"
                "  i = i + 1\n  return wrk.format('GET', paths[(i %% #paths) + 1])\nend\n"
                % ",".join("'/v1/escrows/local/%s'" % e for e in escrows[:200]))
    results = {}
    reads = []
    for kind in ("page", "detail"):
        for sfx, binary in ([(" (baseline)", a.baseline)] if a.baseline else []) + [("", None)]:
            srv = Server(desk.home, "--no-socket", "--tcp", "127.0.0.1:0", "--insecure-tcp",
                         "--rate", "1000000", "--burst", "1000000", fusion=binary)
            base = f"http://127.0.0.1:{srv.port}"
            if kind == "page":
                results[kind + sfx] = wrk(base + "/v1/escrows?limit=20", token, a.seconds,
                                          a.connections)
            else:
                results[kind + sfx] = wrk(base, token, a.seconds, a.connections, rot)
            srv.stop()
            reads.append(kind + sfx)
    stop.set()
    th.join()
    synced_during = made[0]

    prop = {"chain": "local", "payee": A[1], "token": "ETH", "amount": "1000",
            "approvers": ["bob", "carol"], "threshold": 1, "deadline": "7d", "arbiter": A[5],
            "operator": "alice"}
    post = os.path.join(tmp, "propose.lua")
    with open(post, "w") as f:
        # each wrk thread its own id (setup runs in the main state), so keys never collide
        f.write("local threads = 0\nfunction setup(thread)\n  threads = threads + 1\n"
                "  thread:set('tid', tostring(threads) .. '-' .. tostring(os.time()))\nend\n"
                "local n = 0\n"
                "wrk.method = 'POST'\nwrk.body = '%s'\n"
                "wrk.headers['Content-Type'] = 'application/json'\n"
                "request = function()\n  n = n + 1\n"
                "  wrk.headers['Idempotency-Key'] = 'b-' .. tid .. '-' .. n\n"
                "  return wrk.format(nil, '/v1/proposals/escrow')\nend\n" % json.dumps(prop))
    stored = {}
    runs = [("propose (baseline)", a.baseline)] if a.baseline else []
    runs.append(("propose", None))
    for name, binary in runs:
        s = Server(desk.home, "--no-socket", "--tcp", "127.0.0.1:0", "--insecure-tcp", "--rate",
                   "1000000", "--burst", "1000000", fusion=binary)
        before = desk.query("SELECT count(*) FROM api_proposals")[0][0]
        results[name] = wrk("http://127.0.0.1:%d" % s.port, token, a.seconds, a.connections,
                            post)
        s.stop()
        stored[name] = desk.query("SELECT count(*) FROM api_proposals")[0][0] - before
    desk.stop_follow()
    print("escrows on the desk: %d (+%d made and synced during the read runs)"
          % (a.escrows, synced_during))
    for k in reads + [n for n, _ in runs]:
        r = results[k]
        print("%-19s %8.0f req/s  p50 %s  p75 %s  p90 %s  p99 %s  max %s  (%d requests, %d non-2xx)"
              % (k, r["rps"], r["lat"].get("50"), r["lat"].get("75"), r["lat"].get("90"),
                 r["lat"].get("99"), r["lat"].get("max"), r["total"], r["non2xx"]))
    for n, _ in runs:
        p = results[n]
        print("%s: answered 201: %d, rows in desk.db: %d" % (n, p["total"] - p["non2xx"],
                                                             stored[n]))


if __name__ == "__main__":
    main()
