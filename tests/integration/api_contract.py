#!/usr/bin/python3
"""api_contract.py: docs/api.yaml is kept true. Stoplight Prism (an independent OpenAPI 3.1
validator from npm, pinned in tools/package.json) runs in proxy mode in front of `fusion
serve` on TCP; every request below goes through it to the real server on a desk that syncs
a real anvil node, and Prism reports in its `sl-violations` header where a request or a
response departs from the contract. Requests that are meant to be valid must have no
violation at all; requests that are meant to be bad must be refused by the server (4xx,
problem+json) and the server's response must still match the contract. The event stream is
left out (Prism buffers a response; the stream never ends): api_serve checks it."""
import http.client
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, ROOT, Chain, Desk, log, need_artifacts, wait_until  # noqa: E402
from api_lib import Server  # noqa: E402
import api_serve  # noqa: E402


def prism_bin():
    for p in (os.environ.get("FUSION_PRISM"),
              os.path.join(ROOT, "tools", "node_modules", ".bin", "prism")):
        if p and os.access(p, os.X_OK):
            return p
    # A failure, not a skip: scripts/bootstrap installs Prism with the rest of the toolchain,
    # so a missing validator is a broken set-up, and a skipped contract test proves nothing.
    log("FAIL: Stoplight Prism is not installed: run scripts/bootstrap (it installs it into "
        "tools/ from tools/package-lock.json), or set FUSION_PRISM")
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    need_artifacts()
    prism = prism_bin()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    api_serve.setup(desk, chain)
    desk.run("--operator", "admin", "entity", "add", "Payee Trading Ltd", "--type", "company",
             "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31",
             check=False)
    reader = api_serve.add_client(desk, "accounting", "read")
    proposer = api_serve.add_client(desk, "oms", "propose")
    escrows = [chain.create_escrow(amount=10**18 * (i + 1)) for i in range(3)]
    desk.run("sync", "--once")
    desk.run("case", "screen", check=False)

    srv = Server(desk.home, "--no-socket", "--tcp", "127.0.0.1:0", "--insecure-tcp", "--rate",
                 "1000", "--burst", "1000")
    port = free_port()
    plog = open(os.path.join(desk.home, "prism.log"), "wb")
    pp = subprocess.Popen([prism, "proxy", os.path.join(ROOT, "docs", "api.yaml"),
                           f"http://127.0.0.1:{srv.port}", "-h", "127.0.0.1", "-p", str(port)],
                          stdout=plog, stderr=subprocess.STDOUT)

    def up():
        if pp.poll() is not None:
            with open(os.path.join(desk.home, "prism.log")) as f:
                raise AssertionError("prism exited: " + f.read()[-1500:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/v1/health")
            return c.getresponse().status == 200
        except OSError:
            return False
    try:
        wait_until(up, "prism to listen", timeout=120, interval=0.5)
        failures = []
        n = 0

        def send(method, path, token=None, body=None, headers=None, valid=True, status=None):
            nonlocal n
            n += 1
            h = dict(headers or {})
            if token:
                h["Authorization"] = "Bearer " + token
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
                h.setdefault("Content-Type", "application/json")
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            viol = json.loads(r.getheader("sl-violations") or "[]")
            c.close()
            if not valid:
                viol = [v for v in viol if v.get("location", [""])[0] != "request"]
            what = f"{method} {path} -> {r.status}"
            if viol:
                failures.append(f"{what}: {json.dumps(viol)[:600]}")
                log("VIOLATION: " + failures[-1])
            elif status is not None and r.status != status:
                failures.append(f"{what}: expected {status}")
                log("WRONG STATUS: " + failures[-1])
            else:
                log("ok: " + what)
            return r.status, (json.loads(data) if data and "json" in
                              (r.getheader("Content-Type") or "") else None)

        send("GET", "/v1/health", status=200)
        send("GET", "/v1/risk?x=1", reader, valid=False, status=400)
        send("GET", "/v1/escrows", reader, status=200)
        send("GET", "/v1/escrows?limit=2&offset=1&sort=amount&order=desc", reader, status=200)
        send("GET", "/v1/escrows?q=funded", reader, status=200)
        send("GET", f"/v1/escrows/local/{escrows[0]}", reader, status=200)
        send("GET", "/v1/escrows/local/0x" + "11" * 20, reader, status=404)
        send("GET", "/v1/chains", reader, status=200)
        send("GET", "/v1/cases", reader, status=200)
        send("GET", "/v1/alerts?state=all", reader, status=200)
        send("GET", "/v1/entities", proposer, status=200)
        prop = {"chain": "local", "payee": A[1], "token": "ETH", "amount": "200000000000000000",
                "approvers": ["bob", "carol"], "threshold": 1, "deadline": "7d",
                "arbiter": A[5], "operator": "alice", "reference": "PO-1"}
        st, p1 = send("POST", "/v1/proposals/escrow", proposer, prop,
                      {"Idempotency-Key": "po-1"}, status=201)
        send("POST", "/v1/proposals/escrow", proposer, prop, {"Idempotency-Key": "po-1"},
             status=201)
        send("POST", "/v1/proposals/escrow", proposer, dict(prop, reference="PO-2"), status=201)
        desk.run("--operator", "alice", "--passphrase-file", desk.pw, "--yes", "proposal",
                 "accept", p1["id"])
        pay = {"chain": "local", "payee": A[1], "token": "ETH", "amount": "1000",
               "operator": "alice", "reference": "INV-1"}
        st, pay1 = send("POST", "/v1/proposals/payment", proposer, pay,
                      {"Idempotency-Key": "inv-1"}, status=201)
        send("GET", f"/v1/proposals/{pay1['id']}", reader, status=200)
        send("POST", "/v1/proposals/payment", proposer, dict(pay, approvers=["bob"]),
             valid=False, status=422)
        # a bridge proposal as the contract describes it: this one-chain desk has no route
        bridge = {"chain": "local", "to": "local", "token": "USDC", "amount": "1000",
                  "recipient": A[1], "operator": "alice"}
        send("POST", "/v1/proposals/bridge", proposer, bridge, status=422)
        send("POST", "/v1/proposals/bridge", proposer, dict(bridge, payee=A[1]), valid=False,
             status=422)
        send("GET", f"/v1/proposals/{p1['id']}", reader, status=200)
        send("GET", "/v1/proposals?limit=1", reader, status=200)
        send("GET", "/v1/proposals?state=pending", reader, status=200)
        send("GET", "/v1/transactions", reader, status=200)
        send("GET", "/v1/transactions?state=confirmed", reader, status=200)
        # refused ones: the server's answer must still be the contract's problem
        send("GET", "/v1/escrows", None, valid=False, status=401)
        send("GET", "/v1/escrows", "fpa_" + "0" * 64, valid=False, status=401)
        send("POST", "/v1/proposals/escrow", reader, prop, valid=False, status=403)
        send("GET", "/v1/entities", reader, valid=False, status=403)
        send("GET", "/v1/escrows?limit=0", reader, valid=False, status=400)
        send("GET", "/v1/escrows?colour=red", reader, valid=False, status=400)
        send("POST", "/v1/proposals/escrow", proposer, dict(prop, colour="red"), valid=False,
             status=422)
        send("POST", "/v1/proposals/escrow", proposer, dict(prop, amount=5), valid=False,
             status=422)
        send("POST", "/v1/proposals/escrow", proposer, dict(prop, reference="PO-3"),
             {"Idempotency-Key": "po-1"}, valid=False, status=409)
        # Prism cannot forward a body that is not JSON: that goes to the server directly,
        # its problem body checked against the contract's Problem schema by hand
        wait_until(lambda: send("GET", "/v1/portfolio", reader)[0] == 200,
                   "the first risk refresh")
        send("GET", "/v1/risk", reader, status=200)
        for method, path, body in (("POST", "/v1/proposals/escrow", b"{bad"),):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            c.request(method, path, body=body, headers={"Authorization": "Bearer " + proposer,
                                                        "Content-Type": "application/json"})
            r = c.getresponse()
            pb = json.loads(r.read())
            c.close()
            want = 400
            ok = (r.status == want and r.getheader("Content-Type") == "application/problem+json"
                  and sorted(pb) == ["detail", "status", "title", "type"] and pb["status"] == want)
            n += 1
            if not ok:
                failures.append(f"{method} {path} -> {r.status} {pb}")
            log(("ok: " if ok else "BAD: ") + f"{method} {path} -> {r.status} (direct)")
        if failures:
            raise AssertionError(f"{len(failures)} of {n} exchanges depart from docs/api.yaml:\n"
                                 + "\n".join(failures))
        log(f"api_contract: {n} exchanges match docs/api.yaml (Prism proxy)")
    finally:
        pp.terminate()
        pp.wait(timeout=30)
        plog.close()
        srv.stop()


if __name__ == "__main__":
    main()
