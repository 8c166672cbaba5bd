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
  writing to the server: each rolled back there, the events equal the node's after each;
  a workstation listening on the server hears the rewind announced (and, in takeover,
  each range's commit).
bulk: ranges of hundreds of events (several of the insert's batches of rows): stored each
  once, counted as new once; read again (the server's checkpoint deleted), nothing stored
  or counted twice. The same events synced into a desk.db and copied by `db migrate` (its
  batches of rows) equal the node's too."""
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
from sync_lib import (FUSION, Chain, Desk, log, log_key, need_artifacts, rng,  # noqa: E402
                      wait_until)

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
    for i, depth in enumerate(depths):
        d = reorg(chain, r, depth, known)
        if listener:
            got = heard(listener)
            assert got == [f"reorg:{CHAIN}"], f"announced {got}, not the reorg"
            listener = None
        if r.random() < 0.6:
            wait_until(lambda: server_logs(pg)[0] == chain.watched_logs(),
                       f"the server to match after reorg depth {d}", 120)
        log(f"round {i + 1}/{len(depths)}: reorg depth {d}")
    chain.node.mine(3)
    wait_until(lambda: server_logs(pg)[0] == chain.watched_logs(), "the server after all reorgs",
               120)
    assert_server_matches_node(pg, chain, "after reorgs")
    n = read(f"{desk.home}/fusion.log").count("rolled back in the book")
    log(f"{n} reorgs rolled back in the book")
    assert n >= len(depths) // 2, f"only {n} reorgs were noticed"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 0, f"the syncer exited {p.returncode}"
    no_password([desk.home])
    shutil.rmtree(desk.home, ignore_errors=True)
    print("pg_sync reorg: ok")


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
    try:
        with PgServer() as pg:
            {"takeover": takeover, "restart": restart, "reorg": reorgs, "bulk": bulk}[mode](pg)
    finally:
        for p in _procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
