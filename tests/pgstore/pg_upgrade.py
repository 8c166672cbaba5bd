#!/usr/bin/python3
"""pg_upgrade.py: the server's own steps (src/pgstore/pg_upgrade.c, `fusion db upgrade`) on a
real server (tests/lib/pg.py) holding a desk's book synced from a real anvil chain.

- A fresh `db migrate` makes a server at this fusion's server version (fusion_meta's
  server_version), its escrows' trigger taking the feed's advisory lock, with the index
  escrows_recent; `db upgrade` there
  has nothing to do and writes nothing (the function's pg_proc row keeps its xmin).
- The server set back as one copied before session 10 was: the trigger function without the
  lock (a second writer of a state change is not held behind the first: seen), no
  escrows_recent, no bridge_legs, no server_version. `fusion sync` refuses it in one line naming both versions and `fusion db
  upgrade`, exit 1.
- Two `fusion db upgrade` at once (both seen waiting on the upgrade lock, held here first):
  both exit 0, each step applied by exactly one of them; the function now has the lock
  (its text, and a second writer is seen waiting behind the first), escrows_recent is
  back, bridge_legs is as a fresh copy has it (columns, constraints, indexes in the
  catalog), the version is this fusion's, and the
  sync runs again. Run again: nothing to do, nothing written.
- A server at a version newer than this fusion: `db upgrade` and `fusion sync` refuse it in
  one line naming both versions, exit 1, nothing written; the desk's reads (`escrow list`)
  check no version and read it, and an older one, but when a column they read is renamed
  there they fail in one line naming both versions and "use a newer fusion"; a
  server_version that is not a number (with a terminal escape) is refused in one printable
  line.
- `db upgrade` on a desk whose book is desk.db: a usage error (exit 2); on a desk whose
  signed book.conf names the old server, `chain remove` is refused in one line, nothing
  removed on either side, and `db upgrade` without --db upgrades that server.
- A running `fusion sync` whose server is set back to the version before (no bridge_legs)
  and restarted: the chain thread is refused, logged once (not per try), its status line
  says `server refused` with both versions, and `fusion db upgrade` wakes it (resumed
  within 4 s, its backoff being 8 s then) to store what the node made meanwhile; the reads
  of `fusion serve` and `escrow list` there name the version and `fusion db upgrade`,
  within the reader's retry window too (not `book server unreachable`). The same refusal
  under the UI's own sync threads: its Chains screen (`server refused`) and status line
  (`book server refused the sync: 1 of 1 chains`), cleared by `fusion db upgrade`."""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pg_sync  # noqa: E402
from pg_sync import FUSION, available, log, need_artifacts, setup  # noqa: E402

PSQL = os.path.join(os.environ.get("FUSION_PG_BIN") or "/usr/lib/postgresql/15/bin", "psql")
LOCK_A, LOCK_FEED, LOCK_UPGRADE = 1717920612, 0, 1
LATEST = 3  # PG_SERVER_VERSION: the steps this fusion has

# the escrows' trigger function as `db migrate` made it before session 10 (8a6464a^)
OLD_FUNCTION = """CREATE OR REPLACE FUNCTION fusion_escrows_changed() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE escrow_totals SET n = n + 1 WHERE id = 1;
    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.created',
      NEW.chain_id, NEW.address, NEW.state, extract(epoch FROM now())::bigint);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE escrow_totals SET n = n - 1 WHERE id = 1;
    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.removed',
      OLD.chain_id, OLD.address, OLD.state, extract(epoch FROM now())::bigint);
  ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO api_feed (kind, chain_id, ref, state, at) VALUES ('escrow.state',
      NEW.chain_id, NEW.address, NEW.state, extract(epoch FROM now())::bigint);
  END IF;
  RETURN NULL;
END $f$"""


def fusion(home, *args):
    return subprocess.run([FUSION, "--home", home, *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def one_line(r, rc, wants, what):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == rc, f"{what}: exit {r.returncode}, want {rc}: {r.stderr}"
    assert len(lines) == 1, f"{what}: not one line: {r.stderr!r}"
    for w in wants:
        assert w in lines[0], f"{what}: {w!r} not in {lines[0]!r}"
    assert "\x1b" not in r.stderr + r.stdout, f"{what}: an escape byte printed"
    return lines[0]


def version(pg):
    rows = pg.psql("SELECT value FROM fusion_meta WHERE key = 'server_version'")
    return rows[0][0] if rows else None


def function_row(pg):
    """The function's pg_proc row version (xmin changes with every CREATE OR REPLACE) and
    its text."""
    return pg.psql("SELECT xmin::text, replace(pg_get_functiondef(oid), E'\\n', ' ')"
                   " FROM pg_proc"
                   " WHERE proname = 'fusion_escrows_changed'")[0]


def has_recent(pg):
    return pg.psql("SELECT count(*) FROM pg_indexes WHERE indexname = 'escrows_recent'"
                   " AND indexdef LIKE '%(created_block, chain_id, address COLLATE \"C\")%'"
                   ) == [["1"]]


def legs_shape(pg):
    """bridge_legs as the catalog has it: columns (type, null, identity), constraints,
    indexes; None when the table is missing."""
    if pg.psql("SELECT to_regclass('bridge_legs') IS NULL") == [["t"]]:
        return None
    return (pg.psql("SELECT column_name, data_type, is_nullable, is_identity"
                    " FROM information_schema.columns WHERE table_name = 'bridge_legs'"
                    " ORDER BY ordinal_position"),
            pg.psql("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = 'bridge_legs'::regclass ORDER BY 1"),
            pg.psql("SELECT indexdef FROM pg_indexes WHERE tablename = 'bridge_legs'"
                    " ORDER BY 1"))


def held_session(pg, sql):
    """A psql session of its own that ran sql and stays open until its stdin closes."""
    p = subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.dir, "-p",
                          str(pg.port), "-U", "fusion", "-d", "desk"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    p.stdin.write(sql + "\n")
    p.stdin.flush()
    return p


def advisory(pg, objid, granted):
    return int(pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                       f" AND classid = {LOCK_A} AND objid = {objid} AND objsubid = 2"
                       f" AND granted = {'true' if granted else 'false'}")[0][0])


def wait_for(what, cond, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def second_writer_waits(pg, a, b):
    """Escrow a's state changed in an open transaction; then b's, by another session: True
    when that second writer is seen waiting on the feed's advisory lock, False when it
    finished without waiting. Both changes are undone after."""
    first = held_session(pg, f"BEGIN; UPDATE escrows SET state = 'x-first' WHERE address = '{a}';"
                             " SELECT 1;")
    try:
        # the first writer's transaction holds the feed lock (new body) or wrote its feed
        # row (old body): either way its UPDATE ran once a row lock on a is held
        wait_for("the first writer's update", lambda: int(pg.psql(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE c.relname = 'escrows' AND l.mode = 'RowExclusiveLock'"
            " AND l.pid <> pg_backend_pid()")[0][0]) >= 1)
        old = pg.psql(f"SELECT state FROM escrows WHERE address = '{b}'")[0][0]
        second = subprocess.Popen(
            [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg.dir, "-p", str(pg.port), "-U",
             "fusion", "-d", "desk", "-c",
             f"UPDATE escrows SET state = 'x-second' WHERE address = '{b}'"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        waited = None

        def settled():
            nonlocal waited
            if advisory(pg, LOCK_FEED, False) == 1:
                waited = True
            elif second.poll() is not None:
                waited = False
            return waited is not None
        wait_for("the second writer to wait or finish", settled)
        first.stdin.write("ROLLBACK;\n")
        first.stdin.close()
        assert first.wait(timeout=60) == 0, first.stderr.read()
        assert second.wait(timeout=60) == 0, second.stderr.read()
        pg.psql(f"UPDATE escrows SET state = '{old}' WHERE address = '{b}'")
        return waited
    finally:
        for p in (first,):
            if p.poll() is None:
                p.kill()
                p.wait()


def upgrade_json(home, url):
    db = ["--db", url] if url else []
    return subprocess.Popen([FUSION, "--home", home, "db", "upgrade", *db, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def refused_while_running(pg, chain, desk, url):
    """A running `fusion sync` whose server is set back to version LATEST - 1 (as a server
    restored from before step 3: no bridge_legs) and restarted under it: the chain thread is
    refused on connecting again. Not an outage: logged once (not once per try), its status
    line says `server refused` with the versions, and `fusion db upgrade` wakes it (the
    step's announcement), well before its backoff would have tried again; it then stores
    the events the node made meanwhile. The reads of `fusion serve` on that server name the
    version and `fusion db upgrade`, the cached failure too (not `book server unreachable`),
    and read again once upgraded."""
    import api_lib
    home = desk.home
    old = LATEST - 1
    # a long URL (options in its query, as a firm's may have): its status line, cut at 150
    # characters, must still say what to do
    long_url = url + "&application_name=" + "fusion-treasury-workstation-" * 6
    p = pg_sync.start_sync(home, long_url, "refused")
    errpath = os.path.join(home, "sync-refused.stderr")
    flog = os.path.join(home, "fusion.log")
    wait_for("fusion sync following", lambda: "sync local: following" in pg_sync.read(errpath),
             120)

    def refusals():
        return [x for x in pg_sync.read(flog).splitlines() if "[sync] local: the book server is at server version" in x
                and f"is at server version {old}, this fusion's is {LATEST}" in x]
    assert not refusals(), refusals()
    pg.psql("DROP TABLE bridge_legs")
    pg.psql(f"UPDATE fusion_meta SET value = '{old}' WHERE key = 'server_version'")
    pg.restart()  # every session ended: the thread connects again, and is refused
    pg_sync.make_history(chain, 1, 0)  # events the sync must store once it may
    wait_for("the refusal logged", refusals, 60)
    seen = time.monotonic()
    status = wait_for("the status line", lambda: [
        x for x in pg_sync.read(errpath).splitlines()
        if x.startswith("sync local: server refused: ")], 30)
    # (the status line cuts the reason at 150 characters; the log has all of it): what to
    # do comes before the long URL
    log(f"  the status line: {status[0]}")
    assert f"is at server version {old}, this fusion's is {LATEST}" in status[0] and \
        "fusion db upgrade" in status[0], status
    assert "fusion-treasury-workstation-" * 6 in refusals()[0], "the log cut the URL"
    assert "fusion db upgrade" in refusals()[0], refusals()

    # the reads of `fusion serve` (book.conf): the first read's failure and the cached one
    # within the reader's retry window both name the version, neither says unreachable
    token = json.loads(desk.run("api", "client", "add", "vers", "--scope", "read",
                                "--json").stdout)["token"]
    srv = api_lib.Server(home, "--rate", "1000", "--burst", "1000")
    pg_sync._procs.append(srv.proc)
    # its own problem type: 503 book-server-version, no Retry-After (not an outage to wait
    # out), the detail naming both versions and what to do
    got = []
    for path in ["/v1/escrows?limit=50"] * 3:
        st, hd, body = api_lib.request(srv.conn(), "GET", path, token=token)
        got.append((st, "retry-after" in hd, body.get("type", "") if isinstance(body, dict)
                    else "", body.get("detail", "") if isinstance(body, dict) else body))
    log(f"  the API on a server at version {old}: {got[-1]}"[:300])
    for st, retry, typ, detail in got:
        assert st == 503 and not retry and \
            typ == "https://fusion.invalid/problems/book-server-version" and \
            "unreachable" not in detail and \
            f"is at server version {old}, this fusion's is {LATEST}" in detail and \
            "fusion db upgrade" in detail, got
    r = fusion(home, "escrow", "list")
    one_line(r, 1, [f"is at server version {old}, this fusion's is {LATEST}",
                    "fusion db upgrade"], "escrow list on a server at an older version")

    # ~8.5 s refused: tried again after 1, 2, 4 s (then 8 s), logged once
    time.sleep(max(0.0, seen + 8.5 - time.monotonic()))
    assert p.poll() is None, f"the sync ended: {pg_sync.read(errpath)}"
    assert len(refusals()) == 1, "the refusal logged %d times in 8.5 s: %s" % (
        len(refusals()), "\n".join(refusals()))
    assert not pg_sync.server_at_head(pg, chain), "the refused sync stored events"
    r = fusion(home, "db", "upgrade", "--db", url)
    assert r.returncode == 0 and f"server version {old}" in r.stdout, (r.stdout, r.stderr)
    upgraded = time.monotonic()
    wait_for("the sync resuming after the upgrade", lambda: pg_sync.server_at_head(pg, chain), 60)
    took = time.monotonic() - upgraded
    log(f"  resumed {took:.1f} s after `fusion db upgrade`")
    assert took < 4, f"the sync resumed {took:.1f} s after the upgrade: not woken by it"
    assert p.poll() is None, "the sync ended"
    pg_sync.assert_server_matches_node(pg, chain, "after the upgrade under a running sync")
    assert "accepts this fusion again: resuming" in pg_sync.read(flog)
    # the reader tries the server again after its window: read again
    wait_for("the API reading again", lambda: api_lib.request(
        srv.conn(), "GET", "/v1/escrows?limit=50", token=token)[0] == 200, 30)
    srv.stop()
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 0, pg_sync.read(errpath)
    assert pg_sync.PASSWORD not in pg_sync.read(flog) + pg_sync.read(errpath)

    # the UI syncing itself (no other process holds the desk) on a server at that version:
    # the Chains screen's row and the status line say the server refused, then clear
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh
    pg.psql("DROP TABLE bridge_legs")
    pg.psql(f"UPDATE fusion_meta SET value = '{old}' WHERE key = 'server_version'")
    t = tmuxh.Tmux("pgupgrade", cols=200, rows=30)
    t.start(f"{FUSION} --home {home} --operator admin", env={"PGPASSWORD": pg_sync.PASSWORD})
    try:
        t.wait_for("Fusion Prime Workstation", "the title bar")
        t.send("7")

        def row(s):
            rows = [x for x in s.split("\n") if " local " in x and "31337" in x]
            return rows[0] if rows else ""

        def status(s):
            lines = s.split("\n")
            return lines[t.rows - 2].lstrip() if len(lines) >= t.rows else ""
        text = t.wait_for(lambda s: "server refused" in row(s) and "server version" in row(s)
                          and status(s).startswith("book server refused the sync: 1 of 1 "
                                                   "chains (7 Chains)"),
                          "the UI's Chains screen and status line: the server refused")
        assert "unreachable" not in text and pg_sync.PASSWORD not in text, text
        r = fusion(home, "db", "upgrade")
        assert r.returncode == 0, r.stderr
        pg_sync.make_history(chain, 1, 0)
        t.wait_for(lambda s: "following" in row(s) and "refused" not in s,
                   "the UI's sync resumed after the upgrade")
        wait_for("the UI's sync storing the new escrow", lambda: pg_sync.server_at_head(pg, chain),
                 60)
    finally:
        t.close()


def run(pg):
    chain, desk, url = setup(pg, 2, 0)
    home = desk.home
    r = fusion(home, "sync", "--db", url, "--once", "--no-subscribe", "--quiet")
    assert r.returncode == 0, f"sync on the fresh server: {r.stderr}"
    esc = [x[0] for x in pg.psql("SELECT address FROM escrows ORDER BY address")]
    assert len(esc) == 2, esc
    # a desk whose book is desk.db: nothing to upgrade without --db
    r = fusion(home, "db", "upgrade")
    assert r.returncode == 2 and "no book.conf" in r.stderr, (r.returncode, r.stderr)

    # a fresh copy is at this fusion's version: nothing to do, nothing written
    assert version(pg) == str(LATEST), version(pg)
    assert has_recent(pg), "no escrows_recent on a fresh copy"
    fresh_legs = legs_shape(pg)  # as db migrate derives it from desk.db's table
    assert fresh_legs is not None, "no bridge_legs on a fresh copy"
    xmin, body = function_row(pg)
    assert f"pg_advisory_xact_lock({LOCK_A}, {LOCK_FEED})" in body, body
    r = fusion(home, "db", "upgrade", "--db", url)
    assert r.returncode == 0, f"upgrade of a fresh server: {r.stderr}"
    assert f"server version {LATEST}, this fusion's: nothing to do" in r.stdout, r.stdout
    assert function_row(pg)[0] == xmin, "a server at this fusion's version was written"
    assert pg_sync.PASSWORD not in r.stdout + r.stderr, "the password printed"

    # set back: the function before session 10, no escrows_recent, no server_version
    pg.psql(OLD_FUNCTION)
    pg.psql("DROP INDEX escrows_recent")
    pg.psql("DROP TABLE bridge_legs")
    pg.psql("DELETE FROM fusion_meta WHERE key = 'server_version'")
    assert "pg_advisory_xact_lock" not in function_row(pg)[1]
    assert second_writer_waits(pg, esc[0], esc[1]) is False, \
        "the old body held a second writer back (the set-back did not take)"
    r = fusion(home, "sync", "--db", url, "--once", "--no-subscribe", "--quiet")
    one_line(r, 1, [f"is at server version 0, this fusion's is {LATEST}", "fusion db upgrade"],
             "sync on an old server")
    assert pg_sync.PASSWORD not in r.stderr, "the password printed"
    # the desk's book on that server (book.conf, signed): chain remove refused, nothing
    # removed on either side
    path = os.path.join(home, "book.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    os.environ["PGPASSWORD"] = pg_sync.PASSWORD  # what each workstation gives, not the file
    r = desk.run("chain", "remove", "local", check=False)
    one_line(r, 1, ["chain local not removed", "server version 0", "fusion db upgrade"],
             "chain remove on an old server")
    assert desk.query("SELECT count(*) FROM chains") == [(1,)], "desk.db lost the chain"
    assert pg.psql("SELECT count(*) FROM escrows") == [["2"]], "the server lost escrows"

    # two upgraders at once (one of the desk's book.conf, one of --db), held behind the upgrade lock until both wait on it
    holder = held_session(pg, f"SELECT pg_advisory_lock({LOCK_A}, {LOCK_UPGRADE});")
    try:
        wait_for("the lock held here", lambda: advisory(pg, LOCK_UPGRADE, True) == 1)
        ups = [upgrade_json(home, url), upgrade_json(home, None)]
        wait_for("both upgraders waiting on the lock",
                 lambda: advisory(pg, LOCK_UPGRADE, False) == 2)
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0, holder.stderr.read()
        outs = []
        for p in ups:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, f"an upgrader exited {p.returncode}: {err}"
            outs.append(json.loads(out))
    finally:
        for p in [holder]:
            if p.poll() is None:
                p.kill()
                p.wait()
    # each step applied by exactly one of them (which one may differ from step to step)
    applied = sorted(s["version"] for o in outs for s in o["applied"])
    assert applied == list(range(1, LATEST + 1)), f"steps applied {applied}: {outs}"
    assert min(o["from"] for o in outs) == 0, outs
    assert all(o["to"] == LATEST for o in outs), outs
    assert version(pg) == str(LATEST), version(pg)
    assert has_recent(pg), "escrows_recent not made again"
    assert legs_shape(pg) == fresh_legs, \
        f"bridge_legs after the upgrade {legs_shape(pg)} is not a fresh copy's {fresh_legs}"
    xmin, body = function_row(pg)
    assert f"pg_advisory_xact_lock({LOCK_A}, {LOCK_FEED})" in body, body
    assert second_writer_waits(pg, esc[0], esc[1]) is True, \
        "after the upgrade a second writer was not held behind the first"
    r = fusion(home, "sync", "--db", url, "--once", "--no-subscribe", "--quiet")
    assert r.returncode == 0, f"sync on the upgraded server: {r.stderr}"

    # run again: nothing to do, nothing written
    r = fusion(home, "db", "upgrade", "--db", url)
    assert r.returncode == 0 and "nothing to do" in r.stdout, (r.stdout, r.stderr)
    assert function_row(pg)[0] == xmin, "a rerun wrote the function again"
    assert version(pg) == str(LATEST)

    # a newer server: refused, named, nothing written
    pg.psql("UPDATE fusion_meta SET value = '7' WHERE key = 'server_version'")
    r = fusion(home, "db", "upgrade", "--db", url)
    one_line(r, 1, [f"is at server version 7, newer than this fusion's {LATEST}"],
             "upgrade of newer")
    assert version(pg) == "7" and function_row(pg)[0] == xmin, "a newer server was written"
    r = fusion(home, "sync", "--db", url, "--once", "--no-subscribe", "--quiet")
    one_line(r, 1, [f"is at server version 7, newer than this fusion's {LATEST}"],
             "sync on newer")
    # the desk's reads (its book.conf names the server) check no version: they read a newer
    # server whose tables they find, and an older one; when a newer server's tables changed
    # (a column they read renamed) they fail in one line naming both versions
    r = desk.run("escrow", "list", check=False)
    assert r.returncode == 0 and all(a in r.stdout.lower() for a in esc), \
        f"escrow list on a newer server with the same tables: {r.stderr}"
    pg.psql("ALTER TABLE escrows RENAME COLUMN terms_hash TO terms_digest")
    r = desk.run("escrow", "list", check=False)
    log("  " + one_line(r, 1, [f"is at server version 7, newer than this fusion's {LATEST}",
                               "use a newer fusion"],
                        "escrow list on a newer server, a column renamed")[:300])
    assert pg_sync.PASSWORD not in r.stderr, "the password printed"
    pg.psql("ALTER TABLE escrows RENAME COLUMN terms_digest TO terms_hash")
    pg.psql(f"UPDATE fusion_meta SET value = '{LATEST - 1}' WHERE key = 'server_version'")
    r = desk.run("escrow", "list", check=False)
    assert r.returncode == 0 and all(a in r.stdout.lower() for a in esc), \
        f"escrow list on an older server: {r.stderr}"
    # the outbound transactions on an older server whose outbound_txs is not this fusion's
    # (a column renamed, as a later step might): `tx list` names both versions and `fusion
    # db upgrade` in one line
    pg.psql("ALTER TABLE outbound_txs RENAME COLUMN last_seen TO seen_last")
    for args in (["tx", "list"],):
        r = desk.run(*args, check=False)
        log("  " + one_line(r, 1, [f"is at server version {LATEST - 1}, this fusion's is "
                                   f"{LATEST}", "fusion db upgrade",
                                   "cannot write its outbound transactions"],
                            f"{' '.join(args)} on an older server, outbound_txs changed")[:300])
        assert pg_sync.PASSWORD not in r.stderr, "the password printed"
    pg.psql("ALTER TABLE outbound_txs RENAME COLUMN seen_last TO last_seen")
    # a version that is no number, with an escape in it
    pg.psql("UPDATE fusion_meta SET value = E'1\\x1b[31m' WHERE key = 'server_version'")
    r = fusion(home, "db", "upgrade", "--db", url)
    one_line(r, 1, ["server_version is '1\\x1b[31m', not a version"], "upgrade of garbage")

    pg.psql(f"UPDATE fusion_meta SET value = '{LATEST}' WHERE key = 'server_version'")
    refused_while_running(pg, chain, desk, url)
    log("pg_upgrade: ok")


def main():
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap")
        return 1
    need_artifacts()
    return pg_sync.run_mode(run)


if __name__ == "__main__":
    sys.exit(main())
