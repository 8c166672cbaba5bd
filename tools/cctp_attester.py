#!/usr/bin/python3
"""cctp_attester.py: the devnet's stand-in for Circle's attestation service (Iris).

DEVNET ONLY. Serves GET /attestations/<0xmessageHash> in the shape of Circle's attestation
API: {"status": "pending_confirmations", "attestation": "PENDING"} while the burn's block
has fewer than --confirmations confirmations, {"status": "complete", "attestation": "0x.."}
(one 65-byte signature over keccak256(message) by the attester key) after; 404
{"error": "Message hash not found"} for a message no chain emitted. It finds the message in
the MessageSent logs of --transmitter on every --rpc (with Foundry's cast), and signs with
cast as well. The key is the devnet's public attester key (anvil dev key #8) unless
--key-file names another. Faults for tests: --delay S answers each request S seconds late;
--fail-first N answers HTTP 503 to the first N requests.

    cctp_attester.py --port P --transmitter 0xMT --rpc URL [--rpc URL ...]
                     [--confirmations N] [--delay S] [--fail-first N] [--port-file F]

--port 0 takes a free port; --port-file F receives the port once the service listens
(written whole: `fusion devnet up` starts the service that way and waits for the file).
"""
import argparse
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time

# anvil's dev key #8 (mnemonic "test test ... junk"; public, devnets only): the devnet's
# attester, as src/devnet (DEVNET_ATTESTER_KEY) enables it on every MessageTransmitter
DEV_KEY_8 = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"

HERE = os.path.dirname(os.path.abspath(__file__))
CAST = os.environ.get("FUSION_CAST") or os.path.join(HERE, "bin", "cast")


def cast(*args):
    p = subprocess.run([CAST, *args], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("cast %s: %s" % (args[0], p.stderr.strip()[:200]))
    return p.stdout.strip()


class Index:
    """message hash -> (rpc url, block number, message hex), from the MessageSent logs."""

    def __init__(self, rpcs, transmitter):
        self.rpcs, self.transmitter = rpcs, transmitter
        self.seen = {}
        self.scanned = {u: 0 for u in rpcs}
        self.lock = threading.Lock()

    def refresh(self):
        for url in self.rpcs:
            head = int(cast("block-number", "--rpc-url", url))
            start = self.scanned[url]
            if start > head:
                continue
            logs = json.loads(cast("logs", "--json", "--rpc-url", url, "--from-block", str(start),
                                   "--to-block", str(head), "--address", self.transmitter,
                                   "MessageSent(bytes)"))
            for lg in logs:
                data = lg["data"][2:]
                n = int(data[64:128], 16)
                msg = "0x" + data[128:128 + 2 * n]
                h = cast("keccak", msg).lower()
                self.seen[h] = (url, int(lg["blockNumber"], 16), msg)
            self.scanned[url] = head + 1

    def find(self, h):
        with self.lock:
            if h not in self.seen:
                self.refresh()
            return self.seen.get(h)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--transmitter", required=True)
    ap.add_argument("--rpc", action="append", required=True)
    ap.add_argument("--confirmations", type=int, default=2)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--key-file")
    ap.add_argument("--port-file")
    a = ap.parse_args()
    key = DEV_KEY_8
    if a.key_file:
        with open(a.key_file) as f:
            key = f.read().strip()
    index = Index(a.rpc, a.transmitter)
    state = {"requests": 0}

    class H(http.server.BaseHTTPRequestHandler):
        def answer(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            state["requests"] += 1
            if a.delay:
                time.sleep(a.delay)
            if state["requests"] <= a.fail_first:
                return self.answer(503, {"error": "unavailable (fault injected)"})
            m = re.fullmatch(r"/attestations/(0x[0-9a-fA-F]{64})", self.path)
            if not m:
                return self.answer(404, {"error": "not found"})
            try:
                hit = index.find(m.group(1).lower())
            except Exception as e:  # a node down: the service is degraded, not wrong
                return self.answer(503, {"error": str(e)[:200]})
            if not hit:
                return self.answer(404, {"error": "Message hash not found"})
            url, block, msg = hit
            head = int(cast("block-number", "--rpc-url", url))
            if head - block + 1 < a.confirmations:
                return self.answer(200, {"status": "pending_confirmations",
                                         "attestation": "PENDING"})
            sig = cast("wallet", "sign", "--no-hash", "--private-key", key, m.group(1).lower())
            return self.answer(200, {"status": "complete", "attestation": sig})

        def log_message(self, fmt, *args):
            sys.stderr.write("attester: " + (fmt % args) + "\n")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), H)
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)
    print("attester: listening on http://127.0.0.1:%d" % port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
