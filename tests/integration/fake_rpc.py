#!/usr/bin/python3
"""fake_rpc.py: a FAKE JSON-RPC server for tests: it forwards requests to a real node
(anvil) and, on command or at random, answers badly instead: garbage, truncated JSON,
HTTP 429 and 500 (RETRY_AFTER_KINDS: with an hour's Retry-After), a provider's rate-limit error, numbers too large for their type, wrong
ids, "query returned more than 10000 results", dropped connections, slow answers;
(never at random: not in KINDS) answers carrying terminal control sequences, bidi
overrides and bytes that are not UTF-8 (ESCAPE_KINDS); or (CONTENT_KINDS) well-formed
answers that do not answer the request: logs of another address, topic or block range,
logs flagged removed, two hashes for one block, log block hashes that match none of the
node's headers, another block or receipt than asked for, another chain id.

Control (JSON-RPC on the same URL, never forwarded):
  fake_script  [[{"kind": K, "method": M or null, "count": N}, ...]]  queue faults
  fake_chaos   [{"rate": 0.3, "kinds": [...], "seed": 1, "methods": [...] or null}]
  fake_stats   []   -> {"requests": n, "faults": {kind: count}}

As a module: server = FakeRpc(upstream_url); server.url; server.script(...); server.stop()
As a command: fake_rpc.py run [--chain-id N] -- CMD  (an anvil behind a fake; CMD gets
FUSION_TEST_RPC = the anvil, FUSION_TEST_FAKE_RPC = the fake)."""
import email.utils
import http.server
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

# A hostile error text: retitles the terminal (OSC 0 ... BEL), colours it red, clears the
# screen (also with the one-byte C1 CSI, U+009B) and reverses the reading order (U+202E).
ESCAPE_MESSAGE = "boom\x1b]0;pwned\x07\x1b[31m red \x1b[2J\u009b2J \u202eevil"
# The same as an answer that is not JSON, with a byte that is not UTF-8.
ESCAPE_GARBAGE = b"\x1b]0;pwned\x07\x1b[31m\xff\x1b[2J"
ESCAPE_KINDS = ["rpc_error_escape", "rate_limit_escape", "garbage_escape"]
KINDS = ["garbage", "truncated", "http429", "rate_limit", "oversized", "wrong_id", "too_many",
         "http500", "drop", "empty", "rpc_error", "slow"]
# Rate limits with a long Retry-After (seconds, HTTP date); never at random.
RETRY_AFTER_KINDS = ["http429_long", "http429_date"]
# Well-formed answers with the wrong content (see _content); not part of KINDS' chaos.
CONTENT_KINDS = ["foreign_logs", "foreign_topic", "removed_logs", "split_hash",
                 "outside_range", "bad_hash", "other_block", "wrong_receipt", "other_chain"]


class FakeRpc:
    def __init__(self, upstream, slow_seconds=3.0):
        self.upstream = upstream
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.queue = []
        self.chaos = None
        self.rng = random.Random(1)
        self.requests = 0
        self.faults = {}
        self.journal = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                fake.handle(self, body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---- control ----

    def script(self, faults):
        with self.lock:
            for f in faults:
                self.queue.append({"kind": f["kind"], "method": f.get("method"),
                                   "count": int(f.get("count", 1))})

    def set_chaos(self, rate, kinds=None, seed=1, methods=None):
        with self.lock:
            self.chaos = {"rate": rate, "kinds": kinds or KINDS, "methods": methods}
            self.rng = random.Random(seed)

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "faults": dict(self.faults),
                    "pending": sum(f["count"] for f in self.queue)}

    def _pick(self, method):
        with self.lock:
            self.requests += 1
            for f in self.queue:
                if f["count"] > 0 and (f["method"] in (None, method)):
                    f["count"] -= 1
                    self.queue = [q for q in self.queue if q["count"] > 0]
                    return f["kind"]
            c = self.chaos
            if c and (not c["methods"] or method in c["methods"]) and self.rng.random() < c["rate"]:
                return self.rng.choice(c["kinds"])
        return None

    def _count(self, kind, method):
        with self.lock:
            self.faults[kind] = self.faults.get(kind, 0) + 1
            self.journal.append((time.time(), kind, method))

    # ---- serving ----

    def _send(self, h, status, body, ctype="application/json", headers=()):
        try:
            self._write(h, status, body, ctype, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up first (a timeout it was meant to hit)

    @staticmethod
    def _write(h, status, body, ctype, headers):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _forward(self, body):
        req = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError as e:
            return 502, json.dumps({"error": str(e)}).encode()

    def handle(self, h, body):
        try:
            req = json.loads(body)
        except ValueError:
            return self._send(h, 400, b'{"error":"bad request"}')
        first = req[0] if isinstance(req, list) and req else req
        method = first.get("method") if isinstance(first, dict) else None
        if method in ("fake_script", "fake_chaos", "fake_stats"):
            params = first.get("params") or []
            if method == "fake_script":
                self.script(params[0] if params else [])
                result = True
            elif method == "fake_chaos":
                p = params[0] if params else {}
                self.set_chaos(p.get("rate", 0), p.get("kinds"), p.get("seed", 1),
                               p.get("methods"))
                result = True
            else:
                result = self.stats()
            return self._send(h, 200, json.dumps({"jsonrpc": "2.0", "id": first.get("id"),
                                                  "result": result}).encode())
        kind = self._pick(method)
        if kind == "too_many" and not self._range_wide(first):
            kind = None
        if kind:
            self._count(kind, method)
        if kind == "garbage":
            return self._send(h, 200, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                              "text/html")
        if kind == "http429":
            return self._send(h, 429, b"Too Many Requests", "text/plain", [("Retry-After", "1")])
        if kind == "http429_long":  # an hour's wait: the client must not ask again meanwhile
            return self._send(h, 429, b"Too Many Requests", "text/plain",
                              [("Retry-After", "3600")])
        if kind == "http429_date":  # the same as an HTTP date, with a JSON-RPC error body
            when = email.utils.formatdate(time.time() + 3600, usegmt=True)
            return self._send(h, 429, self._error(req, -32005, "daily request count exceeded"),
                              headers=[("Retry-After", when)])
        if kind == "http500":
            return self._send(h, 500, b"internal server error", "text/plain")
        if kind == "empty":
            return self._send(h, 200, b"")
        if kind == "drop":
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return None
        if kind == "rate_limit":
            return self._send(h, 200, self._error(req, 429, "Your app has exceeded its compute "
                                                  "units per second capacity."))
        if kind == "rpc_error":
            return self._send(h, 200, self._error(req, -32603, "internal error"))
        if kind == "garbage_escape":
            return self._send(h, 200, ESCAPE_GARBAGE)
        if kind == "rpc_error_escape":
            return self._send(h, 200, self._error(req, -32603, ESCAPE_MESSAGE))
        if kind == "rate_limit_escape":
            return self._send(h, 200, self._error(req, 429, ESCAPE_MESSAGE))
        if kind == "too_many":
            f = first["params"][0]
            a, b = int(f["fromBlock"], 16), int(f["toBlock"], 16)
            mid = a + (b - a) // 2
            return self._send(h, 200, self._error(
                req, -32005, f"query returned more than 10000 results. Try with this block "
                f"range [{hex(a)}, {hex(mid)}]."))
        if kind == "slow":
            time.sleep(self.slow_seconds)
        status, out = self._forward(body)
        if kind == "truncated":
            out = out[: max(1, len(out) // 2)]
        elif kind == "wrong_id":
            out = self._mutate(out, self._wrong_id)
        elif kind == "oversized":
            out = self._mutate(out, self._oversize)
        elif kind in CONTENT_KINDS:
            out = self._mutate(out, lambda r: self._content(kind, first, r))
        return self._send(h, status, out)

    @staticmethod
    def _range_wide(req):
        if not isinstance(req, dict) or req.get("method") != "eth_getLogs":
            return False
        try:
            f = req["params"][0]
            return int(f["toBlock"], 16) > int(f["fromBlock"], 16)
        except (KeyError, IndexError, ValueError, TypeError):
            return False

    @staticmethod
    def _error(req, code, message):
        one = lambda r: {"jsonrpc": "2.0", "id": r.get("id"),  # noqa: E731
                         "error": {"code": code, "message": message}}
        if isinstance(req, list):
            return json.dumps([one(r) for r in req]).encode()
        return json.dumps(one(req)).encode()

    @staticmethod
    def _mutate(out, fn):
        try:
            ans = json.loads(out)
        except ValueError:
            return out
        target = ans[0] if isinstance(ans, list) and ans else ans
        if isinstance(target, dict):
            fn(target)
        return json.dumps(ans).encode()

    @staticmethod
    def _content(kind, req, r):
        """Keeps the answer well-formed JSON-RPC but makes it answer another question."""
        res = r.get("result")
        params = req.get("params") or [None]
        if kind == "other_block" and isinstance(res, dict) and "number" in res:
            res["number"] = hex(int(res["number"], 16) + 1)
            return
        if kind == "other_chain" and req.get("method") == "eth_chainId":
            r["result"] = "0x1"
            return
        if kind == "wrong_receipt" and isinstance(res, dict) and "transactionHash" in res:
            res["transactionHash"] = "0x" + "5e" * 32
            return
        if not isinstance(res, list) or not isinstance(params[0], dict):
            return
        f = params[0]
        lo = int(f.get("fromBlock", "0x0"), 16)
        hi = int(f.get("toBlock", hex(lo)), 16)
        addrs = f.get("address") or ["0x" + "11" * 20]
        addrs = addrs if isinstance(addrs, list) else [addrs]
        topics = f.get("topics") or [None]
        t0 = topics[0] if isinstance(topics[0], list) else [topics[0] or "0x" + "22" * 32]
        if not res:  # nothing to spoil: make up a log that the filter would admit
            res.append({"address": addrs[0], "topics": [t0[0]], "data": "0x",
                        "blockNumber": hex(lo), "blockHash": "0x" + "ab" * 32,
                        "transactionHash": "0x" + "cd" * 32, "transactionIndex": "0x0",
                        "logIndex": "0x0", "removed": False})
        if kind == "foreign_logs":
            for lg in res:
                lg["address"] = "0x" + "de" * 20
        elif kind == "foreign_topic":
            for lg in res:
                lg["topics"] = ["0x" + "ee" * 32] + lg["topics"][1:]
        elif kind == "removed_logs":
            for lg in res:
                lg["removed"] = True
        elif kind == "outside_range":
            res[-1]["blockNumber"] = hex(hi + 1)
        elif kind == "split_hash":
            twin = dict(res[0])
            twin["logIndex"] = hex(max(int(lg["logIndex"], 16) for lg in res) + 1)
            twin["blockHash"] = "0x" + twin["blockHash"][2:][::-1]
            res.append(twin)
        elif kind == "bad_hash":  # the same wrong hash for every log of a block
            for lg in res:
                lg["blockHash"] = "0x" + lg["blockHash"][2:][::-1]

    @staticmethod
    def _wrong_id(r):
        if isinstance(r.get("id"), int):
            r["id"] += 1000

    @staticmethod
    def _oversize(r):
        res = r.get("result")
        big = "0x1" + "0" * 16  # 2^64: fits no block number
        if isinstance(res, str) and res.startswith("0x") and len(res) <= 66:
            r["result"] = "0x1" + "0" * 64  # beyond 256 bits
        elif isinstance(res, dict) and "number" in res:
            res["number"] = big
        elif isinstance(res, list) and res and isinstance(res[0], dict):
            res[0]["blockNumber"] = big
        else:
            r["result"] = "0x1" + "0" * 64


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--chain-id", type=int, default=31337)
    run.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    root = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    sys.path.insert(0, os.path.join(root, "tests", "lib"))
    import devchain
    with devchain.Anvil(chain_id=a.chain_id) as node:
        fake = FakeRpc(node.url, slow_seconds=2.0)
        try:
            env = dict(os.environ, FUSION_TEST_RPC=node.url, FUSION_TEST_FAKE_RPC=fake.url,
                       FUSION_TEST_CHAIN_ID=str(a.chain_id))
            return subprocess.call(cmd, env=env)
        finally:
            fake.stop()


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
