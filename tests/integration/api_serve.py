#!/usr/bin/python3
"""api_serve.py: `fusion serve` end to end with real HTTP clients (Python's http.client over
the unix socket, curl over TCP with TLS) on a desk that syncs a real anvil node.

Clients and scopes (401 without or with a bad or revoked token, 403 outside the scope, 429
with Retry-After over the rate), paging the escrows, an escrow with its timeline, the event
stream delivering a cast-made escrow the desk synced and resuming by Last-Event-ID after a
reconnect and after a server restart with nothing missed, proposals (validated, screened,
stored once per idempotency key, audited with the client's name; bad requests written
nowhere), accepting one with the operator's key (`fusion proposal accept`) and rejecting one
(a signed decision), and TLS with a self-signed certificate made by openssl."""
import datetime
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, Desk, log, need_artifacts, wait_until  # noqa: E402
from api_lib import EventStream, Server, closed_by_server, request  # noqa: E402
import devchain  # noqa: E402

K = devchain.KEYS
PASS = "correct horse battery staple"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    log("ok: " + what)


def setup(desk, chain):
    os.environ["FUSION_KDF"] = "interactive"
    desk.pw = os.path.join(desk.home, "pw")
    with open(desk.pw, "w") as fh:
        fh.write(PASS + "\n")
    os.chmod(desk.pw, 0o600)
    desk.run("chain", "add", "--name", "local", "--chain-id", chain.chain_id, "--rpc",
             chain.node.url, "--factory", chain.factory, "--confirmations", 0)
    desk.book_on_server()  # under tests/lib/pg.py run: the book on the test's server
    keyfile = os.path.join(desk.home, "alice.key")
    with open(keyfile, "w") as fh:
        fh.write(K[0] + "\n")
    os.chmod(keyfile, 0o600)
    desk.run("--passphrase-file", desk.pw, "key", "import", "--raw-file", keyfile, "--label",
             "alice")
    os.unlink(keyfile)
    desk.signed.known("alice", A[0], desk.pw)
    desk.run("operator", "add", "alice", "--key", A[0], "--role", "trader")
    desk.run("operator", "add", "bob", "--key", A[2], "--role", "approver")
    desk.run("operator", "add", "carol", "--key", A[3], "--role", "approver")


def add_client(desk, name, scope):
    out = json.loads(desk.run("api", "client", "add", name, "--scope", scope, "--json").stdout)
    check(out["token"].startswith("fpa_") and len(out["token"]) == 68,
          f"client {name} gets a token once")
    return out["token"]


def counts(desk):
    return (desk.query("SELECT count(*) FROM api_proposals")[0][0],
            desk.query("SELECT count(*) FROM api_feed WHERE kind LIKE 'proposal.%'")[0][0])


def escrow_rows_copied(desk):
    """The escrows' rows of desk.db's feed (on a server-book desk: the copies of the
    server's), in desk.db's order."""
    return [(k, str(c), r, s or "") for k, c, r, s in
            desk.query("SELECT kind, chain_id, ref, state FROM api_feed"
                       " WHERE kind LIKE 'escrow.%' ORDER BY id")]


def copy_whole(desk):
    """On a server-book desk: desk.db's copy is the server's feed since the copy began (the
    first `fusion serve` began at the server's last row), every row once, in order, up to
    its last row."""
    copied = escrow_rows_copied(desk)
    server = [tuple(r) for r in desk.server_rows("SELECT kind, chain_id, ref,"
                                                 " coalesce(state, '') FROM api_feed"
                                                 " WHERE kind LIKE 'escrow.%' ORDER BY id")]
    return len(copied) > 0 and server[len(server) - len(copied):] == copied


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    setup(desk, chain)
    reader = add_client(desk, "accounting", "read")
    proposer = add_client(desk, "oms", "propose")
    stored = desk.query("SELECT token_hash FROM api_clients ORDER BY id")
    check(all(reader not in r[0] and proposer not in r[0] for r in stored) and
          all(len(r[0]) == 64 for r in stored), "only hashes of the tokens are stored")
    listed = json.loads(desk.run("api", "client", "list", "--json").stdout)
    check([(c["name"], c["scope"], c["revoked"]) for c in listed] ==
          [("accounting", "read", False), ("oms", "propose", False)], "api client list")

    escrows = [chain.create_escrow(amount=10**18 * (i + 1)) for i in range(5)]
    desk.follow("--poll-ms", "100")
    desk.wait_follower()
    wait_until(lambda: desk.escrow_count() == 5, "5 escrows synced")

    srv = Server(desk.home, "--rate", "1000", "--burst", "1000")
    check(oct(os.stat(srv.sock).st_mode & 0o777) == "0o600", "the socket is 0600")
    c = srv.conn()

    # ---- tokens and scopes ----
    st, hd, body = request(c, "GET", "/v1/escrows")
    check(st == 401 and hd["content-type"] == "application/problem+json" and
          body["status"] == 401, "no token: 401 with a problem body")
    st, _, _ = request(c, "GET", "/v1/escrows", token="fpa_" + "0" * 64)
    check(st == 401, "an unknown token: 401")
    st, _, _ = request(c, "GET", "/v1/escrows", headers={"Authorization": "Bearer junk"})
    check(st == 401, "a malformed token: 401")
    st, _, body = request(c, "POST", "/v1/proposals/escrow", token=reader, body={})
    check(st == 403 and "propose" in body["detail"], "a read client proposing: 403")
    st, _, body = request(c, "GET", "/v1/entities", token=reader)
    check(st == 403, "a read client reading the entity registry: 403")
    st, _, body = request(c, "GET", "/v1/entities", token=proposer)
    check(st == 200 and body["items"] == [], "a propose client reads the entities")
    # an entity whose KYC expires in 10 days: its case is about the date, not an escrow
    desk.signed.add("dave", "compliance")
    soon = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    desk.run("--operator", "dave", "entity", "add", "Soon Expiring AG", "--type", "company",
             "--jurisdiction", "CH", "--kyc", "verified", "--kyc-expires", soon)
    desk.run("case", "screen")
    st, _, _ = request(c, "DELETE", "/v1/escrows", token=reader)
    check(st == 405, "a method a path does not take: 405")
    st, _, _ = request(c, "GET", "/v1/nothing", token=reader)
    check(st == 404, "no such resource: 404")

    # ---- paging: every escrow exactly once over the pages, in the order asked ----
    seen, offset, pages = [], 0, 0
    while True:
        st, _, body = request(c, "GET", f"/v1/escrows?limit=2&offset={offset}&sort=amount"
                                        "&order=asc", token=reader)
        check(st == 200 and body["total"] == 5 and len(body["items"]) <= 2,
              f"page at offset {offset}")
        seen += body["items"]
        pages += 1
        if "next_offset" not in body:
            break
        offset = body["next_offset"]
    check(pages == 3 and sorted(x["address"] for x in seen) == sorted(e.lower() for e in escrows),
          "three pages hold the five escrows, each once")
    check([x["address"] for x in seen] == [e.lower() for e in escrows],
          "sorted by amount ascending (the escrows were made with growing amounts)")

    # ---- reads side by side: the server's read connections (a pool) answer concurrent
    # clients, each query on its own view, the same as one client alone would see
    queries = ["/v1/escrows?limit=2&sort=amount&order=asc", "/v1/escrows?limit=5&sort=amount"
               "&order=desc", "/v1/escrows?limit=1&offset=3&sort=amount&order=asc",
               f"/v1/escrows/local/{escrows[0].lower()}"]
    alone = {q: request(c, "GET", q, token=reader)[2] for q in queries}
    got, errs = [], []

    def reads(k):
        try:
            cc = srv.conn()
            for i in range(12):
                q = queries[(k + i) % len(queries)]
                st, _, body = request(cc, "GET", q, token=reader)
                got.append((q, st, body))
            cc.close()
        except Exception as ex:  # noqa: BLE001 (reported as a check)
            errs.append(repr(ex))
    ts = [threading.Thread(target=reads, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = [(q, st) for q, st, body in got if st != 200 or body != alone[q]]
    check(not errs and len(got) == 96 and not bad,
          f"96 reads from 8 clients at once: each as one client alone sees it ({errs} {bad[:3]})")
    st, _, body = request(c, "GET", "/v1/escrows?limit=0", token=reader)
    check(st == 400 and "limit" in body["detail"], "limit=0: 400")
    st, _, body = request(c, "GET", "/v1/escrows?colour=red", token=reader)
    check(st == 400 and "colour" in body["detail"], "an unknown parameter: 400")
    st, _, body = request(c, "GET", "/v1/escrows?limit=1&limit=2", token=reader)
    check(st == 400, "a repeated parameter: 400")
    st, _, body = request(c, "GET", f"/v1/escrows/local/{escrows[0]}", token=reader)
    check(st == 200 and body["address"] == escrows[0].lower() and
          body["amount"] == str(10**18) and body["timeline"][0]["event"] == "EscrowCreated",
          "an escrow with its timeline, the amount exact as a decimal string")
    st, _, body = request(c, "GET", f"/v1/escrows/31337/{escrows[0]}", token=reader)
    check(st == 200, "an escrow by chain id")
    st, _, body = request(c, "GET", "/v1/escrows/local/0x" + "11" * 20, token=reader)
    check(st == 404, "an unknown escrow: 404")
    st, _, body = request(c, "GET", "/v1/chains", token=reader)
    check(st == 200 and body["items"][0]["name"] == "local", "chains and sync status")
    # the portfolio and risk report: the risk service's snapshot, refreshed by a worker
    st, hd, body = wait_until(lambda: (lambda r: r if r[0] != 503 else None)(
        request(c, "GET", "/v1/portfolio", token=reader)), "the first risk refresh")
    check(st == 200, "the portfolio: %d" % st)
    wallet = [p for p in body["positions"] if p["kind"] == "wallet" and
              p["account"] == A[0].lower() and p["token"] is None]
    check(A[0].lower() in body["accounts"] and len(wallet) == 1 and
          wallet[0]["amount"].isdigit() and int(wallet[0]["amount"]) > 0,
          "alice's account and her ETH, exact, as a decimal string")
    check(set(body) <= {"units", "as_of", "accounts", "chains", "positions", "prices",
                        "exposure", "gross_usd", "drawn"}, "the portfolio is the snapshot's "
          "positions part")
    st, _, body = request(c, "GET", "/v1/risk", token=reader)
    check(st == 200 and "gross_usd" in body and "limits" in body and "alerts" in body,
          "the risk report, as fusion risk report --json")
    for path in ("/v1/transactions", "/v1/cases", "/v1/alerts?state=all", "/v1/proposals"):
        st, _, body = request(c, "GET", path, token=reader)
        check(st == 200 and isinstance(body["items"], list), f"GET {path}")
    st, _, body = request(c, "GET", "/v1/cases", token=reader)
    kyc = [k for k in body["items"] if k["chain_id"] == 0]
    check(len(kyc) == 1 and kyc[0]["escrow"] is None and
          kyc[0]["about"] == {"kind": "kyc", "which": "expiry", "date": soon},
          "a KYC case is about the date, with no escrow: %s" % kyc)

    # ---- the event stream: a cast-made escrow arrives; resuming misses nothing ----
    es = EventStream(srv, reader)
    t0 = time.monotonic()
    new = chain.create_escrow(amount=7)
    while True:
        eid, kind, data = es.next()
        if kind == "escrow.created" and data["ref"] == new.lower():
            break
    log(f"the cast-made escrow arrived on the stream {time.monotonic() - t0:.3f} s after its "
        "transaction was mined (measured, not asserted)")
    check(data["id"] == eid and data["chain_id"] == 31337, "the event names its id and chain")
    es.close()
    # a quiet stream stays open past the server's idle timeout (10 s): keep-alives
    es = EventStream(srv, reader)
    time.sleep(12)
    quiet = chain.create_escrow(amount=6)
    while True:
        qid, kind, data = es.next()
        if kind == "escrow.created" and data["ref"] == quiet.lower():
            break
    es.close()
    check(qid > eid, "a stream quiet for longer than the idle timeout still delivers")
    eid = qid
    check(closed_by_server(c), "the server dropped the keep-alive connection left idle as long")
    c.close()
    c = srv.conn()
    # while nobody listens: a state change and another escrow
    chain.act(new, 0, "fund()", value=7)
    other = chain.create_escrow(amount=8)
    wait_until(lambda: desk.escrow_count(other) == 1, "the next escrow synced")
    wait_until(lambda: desk.escrow_rows("state", new)[0][0] == "funded", "the fund synced")
    both = {("escrow.state", new.lower()), ("escrow.created", other.lower())}
    if desk.book:
        # desk.db's feed gets the server's rows as a stream polls (the service copies them,
        # docs/scale.md): the ids since are known once both changes are delivered
        es = EventStream(srv, reader, last_id=eid)
        got = []
        while not both <= {(g[1], g[2]["ref"]) for g in got}:
            got.append(es.next())
        es.close()
        want = [r[0] for r in desk.query("SELECT id FROM api_feed WHERE id > ? AND id <= ?"
                                         " ORDER BY id", eid, got[-1][0])]
    else:
        want = [r[0] for r in desk.query("SELECT id FROM api_feed WHERE id > ? ORDER BY id",
                                         eid)]
        es = EventStream(srv, reader, last_id=eid)
        got = [es.next() for _ in want]
        es.close()
    check(len(want) >= 2, f"the feed holds the changes made while nobody listened: {want}")
    check([g[0] for g in got] == want, "after a reconnect with Last-Event-ID every event "
          "since is delivered, in order, none missed")
    kinds = {(g[1], g[2]["ref"]) for g in got}
    check(both <= kinds,
          "the state change and the new escrow are among them")

    # ---- proposals ----
    before = counts(desk)
    bad = [
        (b"{not json", 400, "malformed JSON"),
        (json.dumps({"payee": A[1], "token": "ETH", "amount": 5, "approvers": ["alice"],
                     "threshold": 1, "deadline": "7d"}), 422, "an amount as a number"),
        (json.dumps({"payee": A[1], "token": "ETH", "amount": "5", "approvers": ["alice"],
                     "threshold": 1, "deadline": "7d", "colour": "red"}), 422,
         "an unknown field"),
        (json.dumps({"payee": A[1], "token": "ETH", "amount": "5", "approvers": ["alice"],
                     "threshold": 2, "deadline": "7d"}), 422, "a threshold above the approvers"),
        (json.dumps({"payee": "nobody", "token": "ETH", "amount": "5", "approvers": ["alice"],
                     "threshold": 1, "deadline": "7d"}), 422, "a payee that is no party"),
        (b"[" * 5000, 413, "a huge body"),
        (b"[]", 400, "an array"),
    ]
    # a proposal that is good but for its reference: a bidi control (U+202E) or a C1
    # control (U+0085, NEL) in it is refused, naming the field, like C0 controls
    good = {"chain": "local", "payee": A[1], "token": "ETH", "amount": str(2 * 10**17),
            "approvers": ["bob", "carol"], "threshold": 1, "deadline": "7d",
            "operator": "alice", "arbiter": A[5]}
    hostile = [(json.dumps(dict(good, reference=ref)), 422, what) for ref, what in (
        ("PO-4711 \u202e1174-OP", "a reference with a bidi control (U+202E)"),
        ("PO-4711\u0085second line", "a reference with a C1 control (U+0085)"))]
    for raw, status, what in bad + hostile:
        st, hd, body = request(c, "POST", "/v1/proposals/escrow", token=proposer, body=raw,
                               headers={"Content-Type": "application/json"})
        check(st == status and hd["content-type"] == "application/problem+json" and
              body["status"] == status, f"{what}: {status} with a problem body")
    for raw, _, what in hostile:
        st, _, body = request(c, "POST", "/v1/proposals/escrow", token=proposer, body=raw,
                              headers={"Content-Type": "application/json"})
        check(st == 422 and body["type"].endswith("/bad-field") and
              "\"reference\"" in body["detail"] and "bidi control" in body["detail"] and
              body["detail"].isascii(), f"{what}: bad-field naming it: {body}")
    st, _, _ = request(c, "POST", "/v1/proposals/escrow", token=proposer, body=b"{}",
                       headers={"Content-Type": "text/plain"})
    check(st == 415, "a body that is not JSON by its type: 415")
    st, _, body = request(c, "GET", "/v1/chains", token=proposer, body=b"{}",
                          headers={"Content-Type": "application/json"})
    check(st == 400 and body["status"] == 400, "a GET with a body: 400")
    # a slow client: a proposal whose body never comes holds one connection until the
    # server drops it; everyone else is served meanwhile, and nothing is written
    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(srv.sock)
    slow.sendall(("POST /v1/proposals/escrow HTTP/1.1\r\nHost: desk\r\nAuthorization: Bearer "
                  + proposer + "\r\nContent-Type: application/json\r\nContent-Length: 300"
                  "\r\n\r\n{\"payee\":").encode())
    st, _, _ = request(c, "GET", "/v1/chains", token=reader)
    check(st == 200, "others are served while a client stalls in its body")
    slow.settimeout(120)
    check(slow.recv(4096) == b"", "the server drops the stalled connection")
    slow.close()
    c.close()  # idle as long: the server dropped this keep-alive connection too
    c = srv.conn()
    check(counts(desk) == before, "nothing was written by the bad requests")
    # a sanctioned payee (the desk's own list): refused by the compliance screening
    with open(os.path.join(desk.home, "desk-sanctions.txt"), "w") as f:
        f.write(A[7].lower() + "   api test: a blocked counterparty\n")
    os.chmod(os.path.join(desk.home, "desk-sanctions.txt"), 0o600)
    desk.run("--operator", "dave", "config", "sign", "sanctions")  # a signed decision
    st, _, body = request(c, "POST", "/v1/proposals/escrow", token=proposer, body={
        "payee": A[7], "token": "ETH", "amount": "5", "approvers": ["bob"], "threshold": 1,
        "deadline": "7d", "operator": "alice"})
    check(st == 422 and body["type"].endswith("/screening-refused") and
          "sanction" in body["detail"].lower(), "a sanctioned payee: 422 from the screening")
    check(counts(desk)[0] == before[0], "no proposal was stored for it")
    st, _, body = request(c, "POST", "/v1/proposals/bridge", token=proposer, body={})
    check(st == 422 and "\"to\" is required" in body["detail"],
          "a bridge proposal without its destination: 422 naming the field: %s" % body)

    prop = {"chain": "local", "payee": A[1], "token": "ETH", "amount": str(2 * 10**17),
            "approvers": ["bob", "carol"], "threshold": 1, "deadline": "7d", "operator": "alice",
            "arbiter": A[5], "reference": "PO-4711"}
    key = {"Idempotency-Key": "po-4711"}
    st, _, p1 = request(c, "POST", "/v1/proposals/escrow", token=proposer, body=prop,
                        headers=key)
    check(st == 201 and p1["state"] == "pending" and p1["client"] == "oms", "a proposal: 201")
    st, _, p2 = request(c, "POST", "/v1/proposals/escrow", token=proposer, body=prop,
                        headers=key)
    check(st == 201 and p2 == p1, "the same proposal sent twice: the same response")
    check(desk.query("SELECT count(*) FROM api_proposals")[0][0] == 1, "one proposal stored")
    st, _, body = request(c, "POST", "/v1/proposals/escrow", token=proposer,
                          body=dict(prop, amount="3"), headers=key)
    check(st == 409, "the same key with another body: 409")
    alog = desk.run("audit", "list", "--json").stdout
    rows = [r for r in json.loads(alog) if r.get("action") == "proposal.create"]
    check(len(rows) == 1 and rows[0]["operator"] == "api:oms", "the proposal is in the audit "
          "log under the client's name")
    st, _, body = request(c, "GET", f"/v1/proposals/{p1['id']}", token=reader)
    check(st == 200 and body["request"]["reference"] == "PO-4711", "GET the proposal")

    # a person accepts it: the desk's pipeline with alice's key
    r = desk.run("--operator", "alice", "--passphrase-file", desk.pw, "--yes", "--json",
                 "proposal", "accept", p1["id"])
    out = json.loads(r.stdout)
    check(out["state"] == "accepted" and out["escrow"], "fusion proposal accept signs it")
    onchain = [e.lower() for e in chain.escrow_addresses()]
    check(out["escrow"] in onchain, "the escrow is on the chain")
    st, _, body = request(c, "GET", f"/v1/proposals/{p1['id']}", token=reader)
    check(body["state"] == "accepted" and body["escrow"] == out["escrow"] and
          body["decided_by"] == "alice", "the proposal says who accepted it and the escrow")
    r = desk.run("--operator", "alice", "--passphrase-file", desk.pw, "--yes", "proposal",
                 "accept", p1["id"], check=False)
    check(r.returncode == 1 and "not pending" in r.stderr, "accepted twice: refused")

    st, _, p3 = request(c, "POST", "/v1/proposals/escrow", token=proposer,
                        body=dict(prop, reference="PO-4712"))
    check(st == 201, "another proposal")
    desk.run("--operator", "alice", "--passphrase-file", desk.pw, "proposal", "reject",
             p3["id"], "--reason", "duplicate order")
    st, _, body = request(c, "GET", f"/v1/proposals/{p3['id']}", token=reader)
    check(body["state"] == "rejected" and body["reason"] == "duplicate order",
          "a rejection with its reason")
    v = json.loads(desk.run("audit", "verify", "--json").stdout)
    check(v["ok"] is True, "the audit log verifies with the signed rejection")

    # ---- revoking: the token is refused from then on, and its open stream ends ----
    es = EventStream(srv, reader)
    desk.run("api", "client", "revoke", "accounting")
    st, _, _ = request(c, "GET", "/v1/escrows", token=reader)
    check(st == 401, "a revoked token: 401")
    ended = False
    try:
        while True:
            es.next(bound=60)
    except AssertionError as ex:
        ended = "ended" in str(ex)
    except TimeoutError:
        ended = False
    es.close()
    check(ended, "the revoked client's open event stream ends")
    c.close()

    # ---- resuming across a restart of the server ----
    if desk.book:
        # the escrows' rows are the server's (its triggers), copied into desk.db's feed while
        # a stream polls: the copy catches up before the stop
        es = EventStream(srv, proposer)
        wait_until(lambda: copy_whole(desk),
                   "desk.db's feed holds a copy of every row of the server's")
        es.close()
    last = desk.query("SELECT max(id) FROM api_feed")[0][0]
    srv.stop()
    third = chain.create_escrow(amount=9)
    wait_until(lambda: desk.escrow_count(third) == 1, "an escrow synced while no server")
    srv = Server(desk.home, "--rate", "1000", "--burst", "1000")
    es = EventStream(srv, proposer, last_id=last)
    if desk.book:
        # desk.db's own rows (cases, alerts) may come first; the server's escrow row follows
        # once the restarted service has copied it
        got = [es.next()]
        while (got[-1][1], got[-1][2].get("ref")) != ("escrow.created", third.lower()):
            got.append(es.next())
        es.close()
        want = [r[0] for r in desk.query("SELECT id FROM api_feed WHERE id > ? AND id <= ?"
                                         " ORDER BY id", last, got[-1][0])]
        check(got[0][0] == last + 1 and [g[0] for g in got] == want,
              "after a restart the stream resumes at the next id, every event since in order, "
              "the escrow synced to the server while no server ran among them")
    else:
        eid, kind, data = es.next()
        es.close()
        check(eid == last + 1 and kind == "escrow.created" and data["ref"] == third.lower(),
              "after a restart the stream resumes at the next id")
    if desk.book:
        # the copy went on from where it stopped: every row of the server's once, in order
        check(copy_whole(desk),
              "after a restart of fusion serve desk.db's copy of the server's feed has every "
              "row once, in the server's order (none lost, none copied twice)")

    # ---- rate limit: 429 with Retry-After ----
    slow = Server(desk.home, "--no-socket", "--tcp", "127.0.0.1:0", "--insecure-tcp", "--rate",
                  "1", "--burst", "3")
    import http.client
    tc = http.client.HTTPConnection("127.0.0.1", slow.port, timeout=30)
    sts = [request(tc, "GET", "/v1/chains", token=proposer) for _ in range(4)]
    check([s[0] for s in sts[:3]] == [200] * 3 and sts[3][0] == 429 and
          int(sts[3][1]["retry-after"]) >= 1, "over the rate: 429 with Retry-After")
    tc.close()
    slow.stop()

    # ---- TLS with a self-signed certificate (openssl), curl as the client ----
    cert, keyf = os.path.join(desk.home, "cert.pem"), os.path.join(desk.home, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyf,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(keyf, 0o600)
    tls = Server(desk.home, "--no-socket", "--tcp", "127.0.0.1:0", "--tls-cert", cert,
                 "--tls-key", keyf)
    r = subprocess.run(["curl", "-sS", "--cacert", cert, "-H", "Authorization: Bearer " + proposer,
                        f"https://127.0.0.1:{tls.port}/v1/chains"], capture_output=True, text=True)
    check(r.returncode == 0 and json.loads(r.stdout)["items"][0]["name"] == "local",
          "TLS: curl verifies the certificate and reads the chains")
    r = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{tls.port}/v1/health"],
                       capture_output=True, text=True)
    check(r.returncode != 0 or "ok" not in r.stdout, "plain HTTP on the TLS port gets nothing")
    tls.stop()
    srv.stop()

    # ---- fusion serve --sync: the server is the syncing process too ----
    check(desk.stop_follow() == 0, "the separate follower stops")
    last = desk.query("SELECT max(id) FROM api_feed")[0][0]
    srv = Server(desk.home, "--sync")
    es = EventStream(srv, proposer, last_id=last)
    fourth = chain.create_escrow(amount=11)
    while True:
        eid, kind, data = es.next()
        if kind == "escrow.created" and data["ref"] == fourth.lower():
            break
    es.close()
    check(desk.escrow_count(fourth) == 1,
          "fusion serve --sync synced a cast-made escrow and streamed it")
    srv.stop()
    log("api_serve: all checks passed")


if __name__ == "__main__":
    main()
