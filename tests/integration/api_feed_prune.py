#!/usr/bin/python3
"""api_feed_prune.py: the change feed keeps what `fusion serve --feed-keep N --feed-days D`
says (pruned at start and every minute, always its oldest rows), and a client resuming
after a pruned event is told so: its stream starts with one `reset` event whose id is the
newest pruned one, then goes on with the oldest event kept; a resume from a kept id and a
new subscriber get no reset. With the book on a server (tests/lib/pg.py run): the server's
rows are copied into desk.db's feed from the cursor desk.db keeps, and a server feed pruned
past it or another database than its own starts the copy over, with a reset."""
import os
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, PSQL, SERVER, Chain, Desk, need_artifacts, wait_until  # noqa: E402
from api_lib import EventStream, Server, request  # noqa: E402
import api_serve  # noqa: E402

check = api_serve.check


def feed_ids(desk):
    return [r[0] for r in desk.query("SELECT id FROM api_feed ORDER BY id")]


def propose(c, token, i):
    st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token, body={
        "chain": "local", "payee": A[1], "token": "ETH", "amount": str(100 + i),
        "approvers": ["bob"], "threshold": 1, "deadline": "7d", "operator": "alice",
        "reference": "FP-%d" % i})
    assert st == 201, (st, out)
    return out["id"]


def until(es, pid):
    """The events up to the proposal.created of proposal pid: [(id, kind)]."""
    out = []
    while True:
        eid, kind, data = es.next()
        out.append((eid, kind))
        if kind == "proposal.created" and data["ref"] == str(pid):
            return out


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    api_serve.setup(desk, chain)
    token = api_serve.add_client(desk, "oms", "propose")
    r = desk.run("serve", "--feed-keep", "0", check=False)
    check(r.returncode == 2 and "--feed-keep" in r.stderr, "--feed-keep 0: a usage error")
    r = desk.run("serve", "--feed-days", "x", check=False)
    check(r.returncode == 2 and "--feed-days" in r.stderr, "--feed-days x: a usage error")

    srv = Server(desk.home)
    c = srv.conn()
    for i in range(10):
        propose(c, token, i)
    srv.stop()
    before = feed_ids(desk)
    check(len(before) >= 10, "ten proposals: at least ten events in the feed")

    # (the server's risk worker may add alert events at any time: they are newer than what
    # is checked here, and are read past)
    srv = Server(desk.home, "--feed-keep", "3")
    after = feed_ids(desk)
    check(after[:3] == before[-3:] and all(i > before[-1] for i in after[3:]),
          "--feed-keep 3: the server prunes the oldest at start, the newest three stay")
    horizon = before[-4]

    es = EventStream(srv, token, last_id=before[0])
    eid, kind, data = es.next()
    check(kind == "reset" and eid == horizon and data["after"] == before[0] and
          "pruned" in data["reason"], "a resume after a pruned event: a reset event first, "
          "with the newest pruned id")
    got = [es.next()[0] for _ in range(3)]
    check(got == before[-3:], "then the events kept, in order")
    es.close()

    es = EventStream(srv, token, last_id=before[-3])
    c = srv.conn()
    got = until(es, propose(c, token, 10))
    check("reset" not in [g[1] for g in got] and [g[0] for g in got][:2] == before[-2:],
          "a resume after a kept event: no reset, every event after it")
    es.close()

    es = EventStream(srv, token)
    got = until(es, propose(c, token, 11))
    check("reset" not in [g[1] for g in got], "a new subscriber: no reset, the present on")
    es.close()
    srv.stop()

    # everything pruned: the empty feed still knows its horizon
    last = feed_ids(desk)[-1]
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    with con:  # two days pass (the rows' times moved back)
        con.execute("UPDATE api_feed SET at = at - 2 * 86400")
    con.close()
    srv = Server(desk.home, "--feed-days", "1")
    check(all(i > last for i in feed_ids(desk)), "--feed-days 1: events older than a day are "
          "pruned")
    es = EventStream(srv, token, last_id=before[0])
    eid, kind, _ = es.next()
    check(kind == "reset" and eid == last, "an empty feed: a reset naming the last id pruned")
    es.close()
    es = EventStream(srv, token, last_id=last)
    got = until(es, propose(srv.conn(), token, 12))
    check("reset" not in [g[1] for g in got] and got[0][0] == feed_ids(desk)[0] == last + 1,
          "resuming at the horizon of an empty feed: no reset, the next event")
    es.close()
    srv.stop()
    if desk.book:
        on_server(desk, token)
        out_of_order(desk, chain, token)
        server_bounded(desk, token)


def on_server(desk, token):
    """Under tests/lib/pg.py run (the desk's book on a server): the escrows' rows are the
    server's, copied into desk.db's feed by `fusion serve` from the cursor desk.db keeps. A
    server feed pruned past that cursor, and another database than the cursor's, start the
    copy over with one line and a `reset` for the streams behind it: nothing is skipped or
    repeated silently."""
    def put(url, ref):
        Desk._psql(url, "INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES "
                        f"('escrow.created', 31337, '{ref}', 'created', 1)")

    def refs_until(es, ref):
        out = []
        while True:
            eid, kind, data = es.next()
            out.append((kind, data.get("ref")))
            if data.get("ref") == ref:
                return out

    ref = ["0x%040x" % (0xfeed0 + i) for i in range(6)]
    srv = Server(desk.home)
    es = EventStream(srv, token)
    put(desk.book, ref[0])
    check(refs_until(es, ref[0])[-1] == ("escrow.created", ref[0]),
          "a row of the server's feed is streamed")
    es.close()
    srv.stop()
    # while no `fusion serve` runs the server's feed gets three rows and loses two of them
    last = feed_ids(desk)[-1]
    for r in ref[1:4]:
        put(desk.book, r)
    # pruned as a feed is, its oldest rows: through the second of the three
    Desk._psql(desk.book, "DELETE FROM api_feed WHERE id <= "
                          f"(SELECT id FROM api_feed WHERE ref = '{ref[2]}')")
    srv = Server(desk.home)
    es = EventStream(srv, token, last_id=last)
    eid, kind, data = es.next()
    check(kind == "reset" and data["after"] == last and eid >= last,
          "the server's feed pruned past the copy's cursor: a stream behind it gets a reset")
    got = refs_until(es, ref[3])
    check(("escrow.created", ref[1]) not in got and ("escrow.created", ref[2]) not in got and
          got.count(("escrow.created", ref[3])) == 1, "then the rows after the server's pruned "
          "ones, once")
    es.close()
    srv.stop()
    said = [ln for ln in desk.fusion_log().splitlines() if "were pruned" in ln]
    check(len(said) == 1 and "starts over" in said[0], "said in one line: " + repr(said))
    # book.conf names another database: a copy of this one (the same feed, its same ids)
    name = desk.book.split("@/", 1)[1].split("?", 1)[0]
    other = name + "_b"
    Desk._psql(SERVER, f"CREATE DATABASE {other} TEMPLATE {name}")
    url = desk.book.replace(f"@/{name}?", f"@/{other}?")
    with open(os.path.join(desk.home, "book.conf"), "w") as f:
        f.write(f"db = {url}\n")
    desk.signed.sign_config("book")
    desk.book = url
    last = feed_ids(desk)[-1]
    srv = Server(desk.home)
    es = EventStream(srv, token, last_id=last)
    eid, kind, data = es.next()
    check(kind == "reset" and data["after"] == last,
          "another database than the cursor's: a stream behind it gets a reset")
    put(url, ref[4])
    got = refs_until(es, ref[4])
    check(got.count(("escrow.created", ref[4])) == 1 and
          not any(r in (ref[0], ref[3]) for _, r in got),
          "then that database's new rows, none of its earlier ones")
    es.close()
    srv.stop()
    said = [ln for ln in desk.fusion_log().splitlines() if "another database" in ln]
    check(len(said) == 1 and "starts over" in said[0], "said in one line: " + repr(said))


def out_of_order(desk, chain, token):
    """Two transactions on the server change two escrows' states; the one that got the
    lower feed id commits last (two chains' syncers, or a syncer and a reindex, do this).
    The copy reads the server's feed by id: the later id must not become visible first,
    or the copy's cursor passes the lower one and that change is never streamed."""
    xs = [chain.create_escrow(payee=1 + i) for i in range(2)]
    desk.run("sync", "--once")
    xs = [x.lower() for x in xs]
    assert all(desk.escrow_count(x) == 1 for x in xs), "the escrows are on the server"
    srv = Server(desk.home)
    es = EventStream(srv, token)
    a = subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", desk.book],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    a.stdin.write("BEGIN;\n"
                  f"UPDATE escrows SET state = 'disputed' WHERE address = '{xs[0]}';\n"
                  "SELECT 'held';\n")
    a.stdin.flush()
    # the first transaction has written its feed row (its id the lower): it waits, open
    while not Desk._psql(desk.book, "SELECT 1 FROM pg_locks l JOIN pg_stat_activity s ON"
                                    " s.pid = l.pid WHERE s.state = 'idle in transaction'"
                                    " AND l.relation = 'api_feed'::regclass"):
        time.sleep(0.05)
    b = subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", desk.book, "-c",
                          f"UPDATE escrows SET state = 'disputed' WHERE address = '{xs[1]}'"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    got = []
    try:
        # the second one's change, if it could commit past the first (a bound, then on);
        # the two escrows' creations, copied since the stream began, come first
        while ("escrow.state", xs[1]) not in got:
            eid, kind, data = es.next(bound=8)
            got.append((kind, data.get("ref")))
    except TimeoutError:
        pass
    a.stdin.write("COMMIT;\n")
    a.stdin.close()
    assert a.wait(60) == 0, a.stderr.read()
    assert b.wait(60) == 0, b.stderr.read()
    want = [("escrow.state", xs[0]), ("escrow.state", xs[1])]
    while not all(w in got for w in want):
        eid, kind, data = es.next(bound=30)
        got.append((kind, data.get("ref")))
    check(all(got.count(w) == 1 for w in want), "two state changes committed out of their "
          "feed ids' order: both streamed, once each")
    es.close()
    srv.stop()


def server_bounded(desk, token):
    """The server's feed is bounded: `fusion serve` prunes it with desk.db's policy (here
    --feed-keep 3) once it has copied it, never past its copy nor the newest row; a serve
    restarted from its cursor goes on with no reset."""
    def ids():
        return [int(i) for (i,) in Desk._psql(desk.book, "SELECT id FROM api_feed ORDER BY id")]

    refs = ["0x%040x" % (0xb0d0 + i) for i in range(8)]
    for r in refs:
        Desk._psql(desk.book, "INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES "
                              f"('escrow.created', 31337, '{r}', 'created',"
                              " extract(epoch FROM now())::bigint)")
    before = ids()
    check(len(before) > 3, "the server's feed holds more rows than --feed-keep 3")
    srv = Server(desk.home, "--feed-keep", "3")
    es = EventStream(srv, token)
    while es.next()[2].get("ref") != refs[-1]:
        pass
    wait_until(lambda: len(ids()) == 3, "the server's feed pruned to three rows")
    check(ids() == before[-3:], "--feed-keep 3: the server's feed keeps its newest three rows")
    es.close()
    srv.stop()
    last = feed_ids(desk)[-1]
    srv = Server(desk.home)
    es = EventStream(srv, token, last_id=last)
    Desk._psql(desk.book, "INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES "
                          "('escrow.created', 31337, '0x" + "cd" * 20 + "', 'created',"
                          " extract(epoch FROM now())::bigint)")
    eid, kind, data = es.next()
    check(kind == "escrow.created" and data.get("ref") == "0x" + "cd" * 20,
          "a serve restarted after the server's prune: no reset, the next row")
    es.close()
    srv.stop()


if __name__ == "__main__":
    main()
