#!/usr/bin/python3
"""pg_sync.py: `fusion sync --db postgresql://...`, the chain's events kept on a real server
(tests/lib/pg.py) from a real anvil chain, checked against the node's own eth_getLogs (not
against fusion).

takeover: two workstation processes (two desk homes configured alike, one server). The
  first takes the chain's lock and catches up in small ranges (logs asked for by address);
  the second (by event signature, reading ranges ahead of its commits) waits for the lock
  and says so. The first is SIGKILLed mid-catch-up: the second takes the lock, resumes
  from the server's checkpoint (not from the start), and catches up; the server's events
  equal the node's logs, none lost or duplicated; then it follows new escrows live. The
  desks' own desk.db hold no events (the book is the server); the password in the URL shows
  in no output or log.
restart: bad --db values are refused first (not a URL, a database holding no desk, no
  server, a book without the chain, the option twice): one line, no password, nothing
  written. Then the server is restarted (pg_ctl restart -m fast: every session ended, the lock
  with it) three times while one syncer catches up (a commit per block), then twice while
  it follows the head with escrows made before and during the restart; each time the
  syncer connects again, takes the lock again, and the server's events equal the node's,
  no gap or duplicate.
reorg: reorgs of depths 1 to 32 (anvil_reorg with new transactions) under a syncer
  writing to the server: each rolled back there, the events equal the node's after each,
  and at the end the server's escrows are the contracts' own (state, approvals, amount),
  counted in escrow_totals and in the feed;
  a workstation listening on the server hears the rewind announced (and, in takeover,
  each range's commit).
bulk: ranges of hundreds of events (several of the insert's batches of rows): stored each
  once, counted as new once; read again (the server's checkpoint deleted), nothing stored
  or counted twice. The same events synced into a desk.db and copied by `db migrate` (its
  batches of rows) equal the node's too.
escrows: the escrow projection on the server. One chain (escrows released, refunded,
  disputed and resolved, disputed, only created, funded with approvals pending, and
  build_history's random ones) synced once into a SQLite desk and once with --db: the
  server's escrows (every column), escrow_totals, search text and the api_feed rows of the
  escrows equal the desk's (as SQLite's triggers keep them there). Then a reorg (anvil
  evm_snapshot/evm_revert) that removes an escrow's creation and takes back another's
  funding, and a new branch that resolves a dispute: both backends agree again. Then a
  pipelined catch-up (by event signature, ranges of 3 blocks: escrows span ranges, the
  desk's fold carried between commits, the book reading earlier events back) into a second
  database and a second desk: alike again (the feed's rows as a multiset: inside one commit
  the two write escrows in different orders).
vault: a CollateralVault's deposits, withdrawal and seizure (a facility names the vault, on
  both desks) synced into a SQLite desk and with --db: the server's vault_flows equal the
  desk's, each tied to its stored event; a reorg (anvil_reorg) drops a deposit and its flow
  goes with its event on both."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from pg import PgServer, available  # noqa: E402
from sync_lib import (FUSION, Chain, Desk, escrow_summary, log, log_key,  # noqa: E402
                      need_artifacts, rng, wait_until)

CHAIN = 31337
PASSWORD = "Sync-s3cret-word"
ESCROWS = int(os.environ.get("FUSION_PG_SYNC_ESCROWS", "30"))
GAP = int(os.environ.get("FUSION_PG_SYNC_GAP", "150"))  # empty blocks between escrows
BULK = int(os.environ.get("FUSION_PG_SYNC_BULK", "110"))  # escrows of 3 events, no gap
_procs = []
NOTIFY_TOOL = os.path.join(ROOT, "build", "tests", "pgstore", "pg_notify_tool")


def server_logs(pg, db="desk"):
    """The server's events as the node prints logs, and how many rows there are."""
    rows = pg.psql("SELECT encode(block_hash, 'hex'), log_index, block_number,"
                   " encode(address, 'hex'), coalesce(encode(topic0, 'hex'), ''),"
                   " coalesce(encode(topic1, 'hex'), ''), coalesce(encode(topic2, 'hex'), ''),"
                   " coalesce(encode(topic3, 'hex'), ''), encode(data, 'hex')"
                   f" FROM events WHERE chain_id = {CHAIN}", db=db)
    out = set()
    for r in rows:
        topics = ["0x" + t for t in r[4:8] if t]
        out.add(log_key("0x" + r[0], int(r[1]), int(r[2]), "0x" + r[3], topics, "0x" + r[8]))
    return out, len(rows)


def server_checkpoint(pg):
    r = pg.psql(f"SELECT synced_block FROM checkpoints WHERE chain_id = {CHAIN}")
    return int(r[0][0]) if r else -1


def server_at_head(pg, chain):
    """The server's checkpoint is the node's head block, by number and hash."""
    head = chain.node.rpc("eth_getBlockByNumber", "latest", False)
    r = pg.psql(f"SELECT synced_block, synced_hash FROM checkpoints WHERE chain_id = {CHAIN}")
    return bool(r) and int(r[0][0]) == int(head["number"], 16) and \
        r[0][1].lower() == head["hash"].lower()


def assert_server_matches_node(pg, chain, what):
    want = chain.watched_logs()
    got, n_rows = server_logs(pg)
    missing, extra = want - got, got - want
    assert not missing and not extra, (
        f"{what}: the server differs from the node: {len(missing)} missing "
        f"(e.g. {sorted(missing)[:1]}), {len(extra)} extra (e.g. {sorted(extra)[:1]})")
    assert n_rows == len(got), f"{what}: {n_rows} rows for {len(got)} distinct logs (duplicates)"
    dups = pg.psql("SELECT count(*) FROM (SELECT 1 FROM events GROUP BY chain_id, tx_hash,"
                   " log_index HAVING count(*) > 1) d")
    assert dups == [["0"]], f"{what}: duplicated events {dups}"
    log(f"{what}: the server holds the node's {len(want)} logs, no more, none twice")
    return len(want)


def make_history(chain, n, gap):
    for _ in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                                amount=1000, via="rpc")
        chain.act(e, 0, "fund()", value=1000, via="rpc")
        chain.act(e, 2, "approve()", via="rpc")
        if gap:
            chain.node.mine(gap)


def start_sync(home, url, tag, *extra):
    err = open(os.path.join(home, f"sync-{tag}.stderr"), "wb")
    poll = [] if "--poll-ms" in extra else ["--poll-ms", "100"]
    p = subprocess.Popen([FUSION, "--home", home, "sync", "--db", url, "--no-subscribe", *poll,
                          *extra], stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    _procs.append(p)
    return p


def read(path):
    try:
        with open(path, errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def setup(pg, escrows, gap, history=None, confirmations=0):
    """A chain with history, desk A configured for it, its desk migrated to the server."""
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    if history:
        history(chain)
    else:
        make_history(chain, escrows, gap)
    desk = Desk()
    desk.add_chain(chain, confirmations=confirmations)
    pg.add_role("desk", PASSWORD)
    url = pg.url_for(user="desk", password=PASSWORD)
    r = subprocess.run([FUSION, "--home", desk.home, "db", "migrate", "--to", url],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"db migrate: {r.stderr}"
    assert server_checkpoint(pg) == -1, "a checkpoint on the server before any sync"
    return chain, desk, url


def no_password(homes):
    for h in homes:
        for name in os.listdir(h):
            if name.endswith(".stderr") or name == "fusion.log":
                assert PASSWORD not in read(os.path.join(h, name)), f"password in {h}/{name}"


def local_events(home):
    import sqlite3
    con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        con.close()


def takeover(pg):
    chain, desk_a, url = setup(pg, ESCROWS, GAP)
    head = chain.node.block_number()
    log(f"history: {head} blocks")
    home_b = tempfile.mkdtemp(prefix="fusion-pgsync-b-")
    shutil.rmtree(home_b)
    shutil.copytree(desk_a.home, home_b)  # the second workstation: the same configuration
    rng = ["--range", "1", "--max-range", "1"]  # many commits: a kill lands among them
    listener = listen(url, 5)
    a = start_sync(desk_a.home, url, "a", *rng)
    wait_until(lambda: server_checkpoint(pg) >= 0, "the first syncer's first commit", 120)
    got = heard(listener)
    assert got == [f"events:{CHAIN}"] * 5, f"announced {got}"
    # the second asks by event signature, reading ahead of its commits (the pipelined path)
    b = start_sync(home_b, url, "b", *rng, "--max-addresses", "0")
    wait_until(lambda: "another syncer holds the chain's lock" in read(f"{home_b}/fusion.log"),
               "the second syncer to wait for the lock", 60)
    wait_until(lambda: "waiting for the chain's lock" in read(f"{home_b}/sync-b.stderr"),
               "the second syncer's status to show it waits", 60)
    wait_until(lambda: server_checkpoint(pg) >= head // 4, "a quarter of the catch-up", 300,
               interval=0.01)
    a.kill()  # SIGKILL: no unlock, no goodbye; its session ends with it
    a.wait(timeout=30)
    assert a.returncode == -signal.SIGKILL
    at_kill = server_checkpoint(pg)
    log(f"first syncer killed with the server's checkpoint at {at_kill} of {head}")
    assert 0 <= at_kill < head, f"the kill did not land mid-catch-up ({at_kill} of {head})"
    wait_until(lambda: server_checkpoint(pg) >= head, "the second syncer to catch up", 300)
    blog = read(f"{home_b}/fusion.log")
    resumed = [int(line.rsplit("resuming from block ", 1)[1].split()[0])
               for line in blog.splitlines() if "resuming from block" in line]
    assert len(resumed) == 1, f"the second syncer took the lock {len(resumed)} times"
    assert resumed[0] >= at_kill + 1 > 1, (
        f"the second syncer resumed from block {resumed[0]}, the checkpoint was {at_kill}")
    assert "with reads ahead of commits" in blog, "the second syncer did not read ahead"
    assert b.poll() is None, "the second syncer ended"
    assert_server_matches_node(pg, chain, "after the takeover")
    # live: new escrows, followed by the syncer that took over
    make_history(chain, 3, 0)
    head = chain.node.block_number()
    wait_until(lambda: server_checkpoint(pg) >= head, "the live escrows", 120)
    assert_server_matches_node(pg, chain, "live after the takeover")
    b.send_signal(signal.SIGTERM)
    assert b.wait(timeout=60) == 0, f"the second syncer exited {b.returncode}"
    assert local_events(desk_a.home) == 0 and local_events(home_b) == 0, \
        "events written to a desk.db (the book is the server)"
    no_password([desk_a.home, home_b])
    shutil.rmtree(home_b, ignore_errors=True)
    shutil.rmtree(desk_a.home, ignore_errors=True)
    print("pg_sync takeover: ok")


def refusals(pg, desk, url):
    """Bad --db values: one line each, exit 2 for usage, 1 otherwise, no password shown,
    nothing written to the server."""
    pg.psql("CREATE DATABASE empty")
    pg.psql("CREATE DATABASE nochain TEMPLATE desk")
    pg.psql("DELETE FROM chains", db="nochain")
    cases = [
        (["--db", "http://127.0.0.1:1/x"], 2, "postgresql:// URL"),
        (["--db", pg.url_for(user="desk", password=PASSWORD, db="empty")], 1, "holds no desk"),
        (["--db", url.replace(f"port={pg.port}", "port=1")], 1, "cannot connect"),
        (["--db", pg.url_for(user="desk", password=PASSWORD, db="nochain")], 1,
         "chain 31337 is not configured in the book"),
        (["--db", url, "--db", url], 2, "given twice"),
    ]
    for args, want_rc, want in cases:
        r = subprocess.run([FUSION, "--home", desk.home, "sync", "--once", *args],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == want_rc and want in r.stderr, \
            f"sync {args[:2]}: exit {r.returncode}, {r.stderr!r}"
        assert PASSWORD not in r.stderr + r.stdout, f"password shown: {r.stderr!r}"
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert want_rc == 2 or len(lines) == 1, f"more than one line: {r.stderr!r}"
    assert server_checkpoint(pg) == -1, "a refused sync wrote to the server"
    log("refusals: one line each, no password, nothing written")


def restart(pg):
    chain, desk, url = setup(pg, 10, GAP)
    refusals(pg, desk, url)
    head = chain.node.block_number()
    # during the catch-up (a commit every block: a restart lands among transactions)
    p = start_sync(desk.home, url, "a", "--range", "1", "--max-range", "1")

    def lost():
        return read(f"{desk.home}/fusion.log").count("was lost: connecting again")

    for q in (1, 2, 3):
        wait_until(lambda: server_checkpoint(pg) >= head * q // 4, f"{q}/4 of the catch-up",
                   300, interval=0.01)
        n = lost()
        pg.restart()  # every session ended, the lock with it
        log(f"server restarted with the checkpoint at {server_checkpoint(pg)} of {head}")
        # the syncer notices before the next restart (a catch-up past the next quarter
        # would otherwise restart the server again before it had: one loss seen for two)
        wait_until(lambda: lost() > n, f"the syncer noticing restart {q}", 120)
    wait_until(lambda: server_checkpoint(pg) >= head, "the catch-up", 300)
    assert p.poll() is None, f"the syncer ended after a restart: {p.returncode}"
    assert_server_matches_node(pg, chain, "after restarts during the catch-up")
    # while following the head
    for i in range(2):
        make_history(chain, 1, 0)       # before the restart
        pg.restart()
        make_history(chain, 1, 0)       # while the syncer reconnects
        head = chain.node.block_number()
        wait_until(lambda: server_checkpoint(pg) >= head, f"the sync after live restart {i + 1}",
                   120)
        assert p.poll() is None, f"the syncer ended after a restart: {p.returncode}"
        assert_server_matches_node(pg, chain, f"after live restart {i + 1}")
    flog = read(f"{desk.home}/fusion.log")
    for line in flog.splitlines():
        if "lock" in line or "connection" in line or "book on the server" in line:
            log("  " + line)
    assert flog.count("was lost: connecting again") >= 5, "the syncer missed restarts"
    assert flog.count("holds the chain's lock") >= 6, "the syncer did not take the lock again"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 0, f"the syncer exited {p.returncode}"
    assert local_events(desk.home) == 0, "events written to desk.db (the book is the server)"
    no_password([desk.home])
    shutil.rmtree(desk.home, ignore_errors=True)
    print("pg_sync restart: ok")


def listen(url, n):
    """Another workstation listening for announcements: the first n, one per line."""
    p = subprocess.Popen([NOTIFY_TOOL, url, "listen", str(n)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _procs.append(p)
    assert p.stdout.readline().strip() == "listening", f"listener: {p.stderr.read()}"
    return p


def heard(p):
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, f"listener exited {p.returncode}: {err}"
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("commit ")]


def reorgs(pg):
    """Reorgs (anvil_reorg with new transactions, depths 1 to 32) under a syncer writing to
    the server: each is rolled back there in one transaction and the events equal the
    node's again."""
    from sync_reorg import build_history, reorg
    r = rng()
    known = []
    chain, desk, url = setup(pg, 0, 0, history=lambda ch: known.extend(build_history(ch, r, 20)),
                             confirmations=2)
    p = start_sync(desk.home, url, "a", "--poll-ms", "50")
    wait_until(lambda: server_logs(pg)[0] == chain.watched_logs(), "the first catch-up", 120)
    head = chain.node.block_number()
    wait_until(lambda: server_checkpoint(pg) >= head, "the first catch-up's last commit", 120)
    # the server announces the rewind to a listening workstation (nothing moves meanwhile:
    # the first announcement after the reorg is its own)
    listener = listen(url, 1)
    depths = [1, 32] + [r.randint(1, 32) for _ in range(10)]
    # A reorg made while the server's checkpoint is the head, and waited for before the next
    # one, must be rolled back on its own: the syncer cannot fold it into another. Those are
    # counted (the first two rounds always are); the unwaited ones may fold into the next.
    must, at_head = 0, True
    for i, depth in enumerate(depths):
        d = reorg(chain, r, depth, known)
        if listener:
            got = heard(listener)
            assert got == [f"reorg:{CHAIN}"], f"announced {got}, not the reorg"
            listener = None
        waited = i < 2 or i == len(depths) - 1 or r.random() < 0.6
        must += at_head and waited
        at_head = waited
        if waited:
            # the events alike, and the checkpoint on the new branch's head (a reorg that
            # moved no log leaves the events alike before the syncer has seen it)
            wait_until(lambda: server_logs(pg)[0] == chain.watched_logs() and
                       server_at_head(pg, chain),
                       f"the server to match after reorg depth {d}", 120)
        log(f"round {i + 1}/{len(depths)}: reorg depth {d}")
    chain.node.mine(3)
    wait_until(lambda: server_logs(pg)[0] == chain.watched_logs(), "the server after all reorgs",
               120)
    assert_server_matches_node(pg, chain, "after reorgs")
    head = chain.node.block_number()
    wait_until(lambda: server_checkpoint(pg) >= head, "the last commit after the reorgs", 120)
    assert_server_escrows_match_contracts(pg, chain, "after reorgs")
    n = read(f"{desk.home}/fusion.log").count("rolled back in the book")
    log(f"{n} reorgs rolled back in the book")
    assert must >= 2 and n >= must, f"only {n} reorgs were noticed, {must} had to be"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 0, f"the syncer exited {p.returncode}"
    no_password([desk.home])
    shutil.rmtree(desk.home, ignore_errors=True)
    print("pg_sync reorg: ok")


def assert_server_escrows_match_contracts(pg, chain, what):
    """The server's escrows are the node's (those its factory created on the canonical
    chain), each in the state, with the approvals and amount, the contract itself reports;
    escrow_totals counts them; the feed created each once more than it removed it."""
    on_chain = sorted(chain.escrow_addresses())
    rows = {r[0]: r[1:] for r in pg.psql("SELECT address, state, approvals, amount FROM escrows"
                                        f" WHERE chain_id = {CHAIN}")}
    assert sorted(rows) == on_chain, (
        f"{what}: escrows only on the server {sorted(set(rows) - set(on_chain))[:3]}, only on"
        f" the chain {sorted(set(on_chain) - set(rows))[:3]}")
    for a in on_chain:
        s = escrow_summary(chain, a)
        got = tuple(rows[a])
        assert got == (s["state"], str(s["approvals"]), s["amount"]), \
            f"{what}: escrow {a}: the server says {got}, the contract {s}"
    assert pg.psql("SELECT n FROM escrow_totals WHERE id = 1") == [[str(len(rows))]], \
        f"{what}: escrow_totals differs from {len(rows)} rows"
    feed = pg.psql("SELECT ref, sum(CASE kind WHEN 'escrow.created' THEN 1 WHEN"
                   " 'escrow.removed' THEN -1 ELSE 0 END) FROM api_feed GROUP BY ref"
                   " HAVING sum(CASE kind WHEN 'escrow.created' THEN 1 WHEN 'escrow.removed'"
                   " THEN -1 ELSE 0 END) <> 0")
    assert sorted(r[0] for r in feed) == on_chain and all(r[1] == "1" for r in feed), \
        f"{what}: the feed's created/removed rows do not add up to the escrows: {feed[:3]}"
    log(f"{what}: the server's {len(rows)} escrows are the contracts' own states")


def bulk(pg):
    """Ranges of hundreds of events (the insert's batches of 128 rows, and a last shorter
    one): one `sync --once --db` stores the node's logs, each once, and counts them as new;
    with the server's checkpoint and block hashes deleted, a second one reads the same
    range again and stores nothing, counting no new event (every row a conflict)."""
    chain, desk, url = setup(pg, BULK, 0)
    want = len(chain.watched_logs())
    assert want > 2 * 128, f"only {want} logs: not a range of several batches"

    def once(tag):
        r = subprocess.run([FUSION, "--home", desk.home, "sync", "--once", "--db", url,
                            "--no-subscribe", "--range", "100000"], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, f"sync --once ({tag}) exited {r.returncode}: {r.stderr}"
        return r.stderr
    out = once("first")
    assert_server_matches_node(pg, chain, "one sync --once of ranges of many events")
    last = [ln for ln in out.splitlines() if " events, ETA " in ln][-1]
    assert f", {want} events, " in last, f"counted as new: {last!r}, the node has {want}"
    pg.psql(f"DELETE FROM checkpoints WHERE chain_id = {CHAIN};"
            f" DELETE FROM blocks WHERE chain_id = {CHAIN}")
    out = once("again")
    assert_server_matches_node(pg, chain, "the same ranges stored again")
    last = [ln for ln in out.splitlines() if " events, ETA " in ln][-1]
    assert ", 0 events, " in last, f"stored again, counted as new: {last!r}"
    assert server_checkpoint(pg) >= chain.node.block_number() - 1, "the checkpoint not restored"
    # the same events synced into a desk.db, copied by `db migrate` (its batches of rows)
    local = Desk()
    local.add_chain(chain, confirmations=0)
    local.run("sync", "--once", "--no-subscribe")
    assert local.event_count(CHAIN) == want, f"{local.event_count(CHAIN)} events in desk.db"
    pg.psql("CREATE DATABASE copied")
    r = subprocess.run([FUSION, "--home", local.home, "db", "migrate", "--to",
                        pg.url_for(db="copied")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"db migrate: {r.stderr}"
    got, n_rows = server_logs(pg, db="copied")
    assert got == chain.watched_logs() and n_rows == want, \
        f"db migrate copied {n_rows} events, {len(got)} distinct, the node has {want}"
    no_password([desk.home])
    shutil.rmtree(desk.home, ignore_errors=True)
    shutil.rmtree(local.home, ignore_errors=True)
    print("pg_sync bulk: ok")


def desk_escrows(desk):
    """The SQLite desk's projection as text: escrows (every column, key order), the count in
    escrow_totals, the search rows (the FTS5 table's text), the api_feed rows of escrows."""
    con = desk.db()
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(escrows)")]
        rows = []
        for r in con.execute(f"SELECT {', '.join(cols)} FROM escrows ORDER BY chain_id, address"):
            rows.append(tuple(None if v is None else bytes(v).hex() if isinstance(v, bytes)
                              else str(v) for v in r))
        total = con.execute("SELECT n FROM escrow_totals WHERE id = 1").fetchall()
        search = sorted(tuple(r) for r in con.execute(
            "SELECT address, payer, payee, state, chain, asset FROM escrow_search"))
        feed = [tuple(str(v) for v in r) for r in con.execute(
            "SELECT kind, chain_id, ref, state FROM api_feed WHERE kind LIKE 'escrow.%'"
            " ORDER BY id")]
    finally:
        con.close()
    return cols, rows, [str(total[0][0])] if total else [], search, feed


def server_escrows(pg, cols, db="desk"):
    """The same of the server: its escrows' columns named as the desk's (bytea as hex), the
    search text as the trigram index covers it with the chain and asset joined as the FTS5
    rows hold them, and api_feed."""
    import json
    sel = ", ".join(f"encode({c}, 'hex')" if c == "approval_list" else f"{c}::text"
                    for c in cols)
    got = pg.psql(f"SELECT coalesce(json_agg(json_build_array({sel}) ORDER BY chain_id, address),"
                  " '[]') FROM escrows", db=db)
    rows = [tuple(r) for r in json.loads(got[0][0])]
    total = [r[0] for r in pg.psql("SELECT n FROM escrow_totals WHERE id = 1", db=db)]
    got = pg.psql("SELECT coalesce(json_agg(json_build_array(e.address, e.payer, e.payee,"
                  " e.state, c.name, coalesce((SELECT symbol FROM tokens t WHERE t.chain_id ="
                  " e.chain_id AND t.address = e.token), CASE WHEN e.token ="
                  " '0x0000000000000000000000000000000000000000' THEN c.native_symbol END))),"
                  " '[]') FROM escrows e JOIN chains c ON c.chain_id = e.chain_id", db=db)
    search = sorted(tuple(r) for r in json.loads(got[0][0]))
    feed = [tuple(r) for r in pg.psql("SELECT kind, chain_id, ref, state FROM api_feed"
                                      " WHERE kind LIKE 'escrow.%' ORDER BY id", db=db)]
    return rows, total, search, feed


def assert_same_escrows(pg, desk, what, db="desk", feed_order=True):
    """feed_order False: the feed's rows compared as a multiset (a pipelined catch-up writes
    a commit's escrows in the order it first met them in any of its ranges, the book in the
    order of the range's events: the same rows, another order inside one commit)."""
    cols, d_rows, d_total, d_search, d_feed = desk_escrows(desk)
    s_rows, s_total, s_search, s_feed = server_escrows(pg, cols, db)
    if not feed_order:
        d_feed, s_feed = sorted(d_feed), sorted(s_feed)
    assert d_rows, f"{what}: the desk has no escrows (nothing compared)"
    d_by = {r[1]: r for r in d_rows}
    s_by = {r[1]: r for r in s_rows}
    assert sorted(d_by) == sorted(s_by), (
        f"{what}: escrows only in the desk {sorted(set(d_by) - set(s_by))[:3]}, only on the"
        f" server {sorted(set(s_by) - set(d_by))[:3]} ({len(d_by)} and {len(s_by)})")
    for a, dr in d_by.items():
        for c, dv, sv in zip(cols, dr, s_by[a]):
            assert dv == sv, f"{what}: escrow {a}: {c} is {dv!r} in the desk, {sv!r} on the server"
    assert d_total == s_total == [str(len(d_rows))], \
        f"{what}: escrow_totals {d_total} in the desk, {s_total} on the server, {len(d_rows)} rows"
    assert d_search == s_search, f"{what}: search rows differ: {d_search[:2]} / {s_search[:2]}"
    assert d_feed == s_feed, (f"{what}: api_feed differs ({len(d_feed)} rows in the desk,"
                              f" {len(s_feed)} on the server): "
                              f"{[x for x in zip(d_feed, s_feed) if x[0] != x[1]][:2]}")
    log(f"{what}: {len(d_rows)} escrows, their totals, search rows and {len(d_feed)} feed rows"
        " alike in the desk and on the server")
    return {a: r[cols.index("state")] for a, r in d_by.items()}, d_feed


def escrows(pg):
    """The escrow projection on the server equals the SQLite desk's, after a catch-up and
    after a reorg that removes an escrow's creation and changes another's state."""
    from sync_reorg import build_history
    r = rng()
    st = {}

    def history(chain):
        amount = 10**15
        e1 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                                 amount=amount, via="rpc")
        chain.act(e1, 0, "fund()", value=amount, via="rpc")
        chain.act(e1, 2, "approve()", via="rpc")
        chain.act(e1, 4, "approve()", via="rpc")
        chain.act(e1, 6, "release()", via="rpc")
        e2 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                 amount=7, via="rpc")
        chain.act(e2, 0, "fund()", value=7, via="rpc")
        chain.act(e2, 5, "refund()", via="rpc")
        e3 = chain.create_escrow(payer=6, payee=7, approvers=(2,), threshold=1, arbiter=5,
                                 amount=12345, via="rpc")
        chain.act(e3, 6, "fund()", value=12345, via="rpc")
        chain.act(e3, 7, "dispute(string)", "goods not delivered", via="rpc")
        chain.act(e3, 5, "resolve(bool)", "true", via="rpc")
        e4 = chain.create_escrow(payer=6, payee=7, approvers=(2, 3), threshold=2, arbiter=5,
                                 amount=99, via="rpc")
        chain.act(e4, 6, "fund()", value=99, via="rpc")
        chain.act(e4, 6, "dispute(string)", "late", via="rpc")
        e5 = chain.create_escrow(payer=8, payee=9, approvers=(2, 3, 4), threshold=3, arbiter=5,
                                 amount=5, via="rpc")
        e6 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=2, arbiter=5,
                                 amount=31, via="rpc")
        chain.act(e6, 0, "fund()", value=31, via="rpc")
        chain.act(e6, 3, "approve()", via="rpc")
        build_history(chain, r, 12)
        chain.node.mine(5)
        st.update(e1=e1, e2=e2, e3=e3, e4=e4, e5=e5, e6=e6)
        # what the reorg takes back: e5 funded, a new escrow eX created and funded
        st["snap"] = chain.node.rpc("evm_snapshot")
        chain.act(e5, 8, "fund()", value=5, via="rpc")
        st["ex"] = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1,
                                       arbiter=5, amount=3, via="rpc")
        chain.act(st["ex"], 0, "fund()", value=3, via="rpc")

    chain, desk, url = setup(pg, 0, 0, history=history, confirmations=2)
    local = Desk()
    local.add_chain(chain, confirmations=2)

    def sync_both(tag):
        local.run("sync", "--once", "--no-subscribe", "--range", "100000")
        rr = subprocess.run([FUSION, "--home", desk.home, "sync", "--once", "--db", url,
                             "--no-subscribe", "--range", "100000"], capture_output=True,
                            text=True, timeout=600)
        assert rr.returncode == 0, f"sync --once --db ({tag}) exited {rr.returncode}: {rr.stderr}"
        assert_server_matches_node(pg, chain, tag)
        assert local.logs(CHAIN) == chain.watched_logs(), f"{tag}: the desk differs from the node"

    sync_both("the catch-up")
    rows, feed = assert_same_escrows(pg, local, "after the catch-up")
    state = {k: rows[st[k]] for k in ("e1", "e2", "e3", "e4", "e5", "e6", "ex")}
    assert state == {"e1": "released", "e2": "refunded", "e3": "resolved", "e4": "disputed",
                     "e5": "funded", "e6": "funded", "ex": "funded"}, state
    assert ("escrow.created", str(CHAIN), st["ex"], "funded") in feed, feed[-4:]
    # the reorg: back to before e5's funding and eX's creation; the new branch resolves e4
    assert chain.node.rpc("evm_revert", st["snap"]) is True
    chain.act(st["e4"], 5, "resolve(bool)", "false", via="rpc")
    chain.node.mine(8)
    sync_both("after the reorg")
    rows, feed = assert_same_escrows(pg, local, "after the reorg")
    assert st["ex"] not in rows, "the escrow whose creation the reorg removed is still there"
    assert rows[st["e5"]] == "created" and rows[st["e4"]] == "resolved", \
        (rows[st["e5"]], rows[st["e4"]])
    assert ("escrow.removed", str(CHAIN), st["ex"], "funded") in feed, feed[-6:]
    assert "rolled back in the book" in read(f"{desk.home}/fusion.log"), "no reorg on the server"
    # a book whose escrows lack the triggers (copied by an older fusion) is refused: escrow
    # rows would be written without their count and feed
    before = pg.psql("SELECT count(*) FROM api_feed")
    pg.psql("DROP TRIGGER escrows_changed ON escrows")
    chain.node.mine(2)
    rr = subprocess.run([FUSION, "--home", desk.home, "sync", "--once", "--db", url,
                         "--no-subscribe"], capture_output=True, text=True, timeout=120)
    assert rr.returncode == 1 and rr.stderr.count("\n") == 1, rr
    assert "escrow_totals" in rr.stderr and "db migrate" in rr.stderr, rr.stderr
    assert PASSWORD not in rr.stderr, rr.stderr
    assert pg.psql("SELECT count(*) FROM api_feed") == before
    # a pipelined catch-up (escrows asked for by event signature, the next range read while
    # one commits, the desk's fold carried from commit to commit) in ranges of 3 blocks, so
    # that escrows span ranges: the book reads their earlier events back
    piped = Desk()
    piped.add_chain(chain, confirmations=2)
    pg.psql("CREATE DATABASE piped OWNER desk")
    rr = subprocess.run([FUSION, "--home", piped.home, "db", "migrate", "--to",
                         pg.url_for(user="desk", password=PASSWORD, db="piped")],
                        capture_output=True, text=True, timeout=600)
    assert rr.returncode == 0, f"db migrate: {rr.stderr}"
    small = ("--once", "--no-subscribe", "--max-addresses", "2", "--range", "3", "--max-range",
             "3")
    local2 = Desk()
    local2.add_chain(chain, confirmations=2)
    local2.run("sync", *small)
    rr = subprocess.run([FUSION, "--home", piped.home, "sync", "--db",
                         pg.url_for(user="desk", password=PASSWORD, db="piped"), *small],
                        capture_output=True, text=True, timeout=600)
    assert rr.returncode == 0, f"sync --db (pipelined) exited {rr.returncode}: {rr.stderr}"
    for h in (local2.home, piped.home):
        assert "with reads ahead of commits" in read(f"{h}/fusion.log"), f"{h}: not pipelined"
    assert_same_escrows(pg, local2, "a pipelined catch-up in ranges of 3 blocks", db="piped",
                        feed_order=False)
    no_password([desk.home, piped.home])
    shutil.rmtree(piped.home, ignore_errors=True)
    shutil.rmtree(local2.home, ignore_errors=True)
    shutil.rmtree(desk.home, ignore_errors=True)
    shutil.rmtree(local.home, ignore_errors=True)
    print("pg_sync escrows: ok")


def vault(pg):
    """Vault flows on the server equal the SQLite desk's, through a reorg that drops one."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "credit"))
    from credit_lib import collateral_vault, token, usd_feed
    from sync_lib import A, cast
    env = {}

    def history(chain):
        node = chain.node
        weth = token(node, "Wrapped Ether", "WETH", 18)
        usdc = token(node, "USD Coin", "USDC", 6)
        feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
        v = collateral_vault(node, [A[2], A[3], A[4]], 2)
        for who in (A[1], A[6]):
            chain.cast_send(A[0], weth, "mint(address,uint256)", who, str(100 * 10**18))
            chain.cast_send(who, weth, "approve(address,uint256)", v, str(100 * 10**18))
        chain.cast_send(A[1], v, "deposit(address,uint256)", weth, str(10 * 10**18))
        chain.cast_send(A[6], v, "deposit(address,uint256)", weth, str(2 * 10**18 + 7))
        env.update(weth=weth, usdc=usdc, feed=feed, vault=v)

    chain, desk, url = setup(pg, 0, 0, history=history, confirmations=0)
    local = Desk()
    local.add_chain(chain, confirmations=0)
    for d in (desk, local):  # the facility makes the vault a synced contract of the chain
        d.signed.add("rita", "risk")
        d.signed.add("carl", "compliance")
        d.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address",
              env["weth"])
        d.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address",
              env["usdc"])
        d.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address",
              env["feed"])
        d.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
              "--jurisdiction", "CH")
        d.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
              "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
              "--vault", f"local={env['vault']}")
    v = env["vault"]

    def sync_both(tag):
        local.run("sync", "--once", "--no-subscribe")
        rr = subprocess.run([FUSION, "--home", desk.home, "sync", "--once", "--db", url,
                             "--no-subscribe"], capture_output=True, text=True, timeout=600)
        assert rr.returncode == 0, f"sync --once --db ({tag}) exited {rr.returncode}: {rr.stderr}"

    flow_cols = ("f.chain_id, f.vault, f.block_number, f.kind, f.owner, f.token, f.amount,"
                 " f.request_id")

    def same_flows(tag):
        want = [tuple("" if x is None else str(x) for x in r) for r in local.query(
            f"SELECT {flow_cols}, e.log_index, hex(e.block_hash) FROM vault_flows f"
            " JOIN events e ON e.id = f.event_id ORDER BY f.block_number, e.log_index")]
        got = [tuple(r) for r in pg.psql(
            f"SELECT {flow_cols}, e.log_index, upper(encode(e.block_hash, 'hex'))"
            " FROM vault_flows f JOIN events e ON e.id = f.event_id"
            " ORDER BY f.block_number, e.log_index")]
        assert want, f"{tag}: the desk has no vault flows (nothing compared)"
        assert got == want, f"{tag}: vault flows differ:\n desk   {want}\n server {got}"
        n = pg.psql("SELECT count(*) FROM vault_flows")[0][0]
        assert n == str(len(want)), f"{tag}: {n} flows on the server, {len(want)} joined"
        log(f"{tag}: the server's {len(got)} vault flows equal the desk's")
        return [r[3] for r in want]

    sync_both("the deposits")
    assert same_flows("the deposits") == ["deposit", "deposit"]
    # a withdrawal (2 of 3) and a seizure
    chain.cast_send(A[1], v, "requestWithdrawal(address,uint256)", env["weth"], str(10**18))
    chain.cast_send(A[2], v, "approve(uint256)", "0")
    chain.cast_send(A[3], v, "approve(uint256)", "0")
    chain.cast_send(A[4], v, "execute(uint256)", "0")
    chain.cast_send(A[2], v, "proposeSeizure(address,address,uint256,address)", A[6],
                    env["weth"], str(2 * 10**18), A[9])
    chain.cast_send(A[2], v, "approve(uint256)", "1")
    chain.cast_send(A[4], v, "approve(uint256)", "1")
    chain.cast_send(A[4], v, "execute(uint256)", "1")
    chain.cast_send(A[1], v, "deposit(address,uint256)", env["weth"], str(5 * 10**18))
    sync_both("a withdrawal, a seizure and a deposit")
    assert same_flows("a withdrawal, a seizure and a deposit") == [
        "deposit", "deposit", "withdrawal", "seizure", "deposit"]
    # a reorg drops the last deposit: its flow goes with its event
    chain.node.rpc("anvil_reorg", 1, [])
    chain.node.mine(1)
    sync_both("the reorg")
    assert same_flows("the reorg") == ["deposit", "deposit", "withdrawal", "seizure"]
    assert "rolled back in the book" in read(f"{desk.home}/fusion.log"), "no reorg on the server"
    no_password([desk.home])
    shutil.rmtree(desk.home, ignore_errors=True)
    shutil.rmtree(local.home, ignore_errors=True)
    print("pg_sync vault: ok")


def main(argv):
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap (a skipped test "
              "proves nothing)")
        return 1
    need_artifacts()
    mode = argv[0] if argv else "takeover"
    global NOTIFY_TOOL
    if len(argv) > 1:
        NOTIFY_TOOL = argv[1]
    return run_mode({"takeover": takeover, "restart": restart, "reorg": reorgs, "bulk": bulk,
                     "escrows": escrows, "vault": vault}[mode])


def run_mode(fn):
    """fn(pg) against a real server of its own; every syncer it started is killed after."""
    try:
        with PgServer() as pg:
            fn(pg)
    finally:
        for p in _procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
