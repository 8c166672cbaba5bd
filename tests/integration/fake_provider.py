#!/usr/bin/python3
"""fake_provider.py: a FAKE hosted RPC provider for tests, in front of a real anvil that
gives every correct answer. It behaves the way Alchemy- and Infura-like services do,
deterministically (every Nth request), which anvil alone never does:

- the API key sits in the URL path (/v2/KEY): any other path is refused with 401;
- eth_getLogs is capped: a range of more than max_blocks blocks is refused
  (profile "alchemy": code -32602 "Log response size exceeded ... this block range
  should work: [0x.., 0x..]"; profile "infura": code -32005 "query returned more than
  10000 results" without a hint), and so is an answer of more than max_results logs;
- every rate_every-th request is rate limited: HTTP 429 with Retry-After, alternately in
  seconds and as an HTTP date, and a provider's JSON-RPC error body;
- every drop_every-th request has its connection dropped without an answer;
- every slow_every-th request is answered after slow_seconds;
- answers are gzip-compressed when the client accepts it (Accept-Encoding);
- every eth_getLogs block range asked is recorded (p.log_ranges(): (from, to) pairs).

As a module: p = FakeProvider(upstream, key, profile="alchemy", ...); p.url_for(key_text);
p.stats(); p.stop()."""
import email.utils
import gzip
import http.server
import json
import threading
import time
import urllib.error
import urllib.request


class FakeProvider:
    def __init__(self, upstream, key, profile="alchemy", max_blocks=5, max_results=10000,
                 rate_every=0, retry_after=1, drop_every=0, slow_every=0, slow_seconds=0.5):
        self.upstream = upstream
        self.key = key
        self.profile = profile
        self.max_blocks = max_blocks
        self.max_results = max_results
        self.rate_every = rate_every
        self.retry_after = retry_after
        self.drop_every = drop_every
        self.slow_every = slow_every
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.counts = {"requests": 0, "unauthorized": 0, "capped": 0, "rate_limited": 0,
                       "dropped": 0, "slow": 0, "gzip": 0, "plain": 0, "early": 0}
        self.limited_until = 0.0
        self.n = 0
        self.ranges = []
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
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url_for(self, key_text):
        """The endpoint URL with key_text (the key or a ${env:...} template) in its path."""
        return f"{self.base}/v2/{key_text}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def stats(self):
        with self.lock:
            return dict(self.counts)

    def log_ranges(self):
        with self.lock:
            return list(self.ranges)

    def _bump(self, k):
        with self.lock:
            self.counts[k] += 1

    # ---- serving ----

    def _send(self, h, status, obj, headers=()):
        body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        zipped = "gzip" in (h.headers.get("Accept-Encoding") or "")
        if zipped:
            body = gzip.compress(body)
        self._bump("gzip" if zipped else "plain")
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json")
            if zipped:
                h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(body)))
            for k, v in headers:
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _error(req, code, message):
        one = lambda r: {"jsonrpc": "2.0", "id": r.get("id") if isinstance(r, dict) else None,  # noqa: E731
                         "error": {"code": code, "message": message}}
        return [one(r) for r in req] if isinstance(req, list) else one(req)

    def _forward(self, body):
        req = urllib.request.Request(self.upstream, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _cap(self, req):
        """The provider's refusal of an eth_getLogs over its limits, or None."""
        if not isinstance(req, dict) or req.get("method") != "eth_getLogs":
            return None
        f = (req.get("params") or [{}])[0]
        try:
            a, b = int(f["fromBlock"], 16), int(f["toBlock"], 16)
        except (KeyError, ValueError, TypeError):
            return None
        with self.lock:
            self.ranges.append((a, b))
        if b - a + 1 > self.max_blocks:
            if self.profile == "alchemy":
                return self._error(req, -32602, (
                    f"Log response size exceeded. You can make eth_getLogs requests with up to "
                    f"a {self.max_blocks} block range and no limit on the response size, or you "
                    f"can request any block range with a cap of {self.max_results} logs in the "
                    f"response. Based on your parameters, this block range should work: "
                    f"[{hex(a)}, {hex(a + self.max_blocks - 1)}]"))
            return self._error(req, -32005, "query returned more than 10000 results")
        return None

    def handle(self, h, body):
        with self.lock:
            self.counts["requests"] += 1
            self.n += 1
            n = self.n
            early = time.time() < self.limited_until
        if early:  # asked again before its Retry-After was up
            self._bump("early")
        if h.path != f"/v2/{self.key}":
            self._bump("unauthorized")
            return self._send(h, 401, {"jsonrpc": "2.0", "id": None, "error": {
                "code": -32600, "message": "Must be authenticated!"}})
        try:
            req = json.loads(body)
        except ValueError:
            return self._send(h, 400, {"jsonrpc": "2.0", "id": None,
                                       "error": {"code": -32700, "message": "parse error"}})
        if self.rate_every and n % self.rate_every == 0:
            self._bump("rate_limited")
            with self.lock:
                self.limited_until = time.time() + self.retry_after
            if (n // self.rate_every) % 2:
                ra = str(self.retry_after)
            else:  # an HTTP date has a resolution of a second: round up
                ra = email.utils.formatdate(int(time.time()) + self.retry_after + 1, usegmt=True)
                with self.lock:
                    self.limited_until = time.time() + self.retry_after
            return self._send(h, 429, self._error(
                req, 429, "Your app has exceeded its compute units per second capacity."),
                [("Retry-After", ra)])
        if self.drop_every and n % self.drop_every == 0:
            self._bump("dropped")
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return None
        capped = self._cap(req)
        if capped:
            self._bump("capped")
            return self._send(h, 200, capped)
        if self.slow_every and n % self.slow_every == 0:
            self._bump("slow")
            time.sleep(self.slow_seconds)
        status, out = self._forward(body)
        if isinstance(req, dict) and req.get("method") == "eth_getLogs" and status == 200:
            try:
                res = json.loads(out).get("result")
            except ValueError:
                res = None
            if isinstance(res, list) and len(res) > self.max_results:
                self._bump("capped")
                return self._send(h, 200, self._error(
                    req, -32005, f"query returned more than {self.max_results} results"))
        return self._send(h, status, out)
