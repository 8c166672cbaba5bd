#!/usr/bin/python3
"""pg_migrate.py: `fusion db migrate --to postgresql://...` on a real server (tests/lib/pg.py)
with a desk that synced a real anvil chain (escrows created and driven by `cast`).

- The copy: every table's row count equals the desk's (counted here with Python's sqlite3
  and psql, not by fusion), and values read with psql equal the desk's: an escrow's state,
  amount and parties, an event's data (bytea) holding a dispute reason in non-ASCII
  characters (no decoded column on either side: fields are decoded on read), the checkpoint.
- One schema: every ordinary table of the SQLite desk has its PostgreSQL twin with the same
  columns, in order, of the mapped type and nullability, and the same primary key (read
  from SQLite's catalogue here and information_schema there), so a schema step whose
  table or column does not reach PostgreSQL fails here.
- The escrow filter on pg_trgm: the trigram index answers a substring filter.
- Refusals that leave the server as it was: a database that already holds tables; a server
  that changes rows as they are written (an event trigger installs a row trigger on
  escrows): the check finds the table differs, one line, and nothing is left (rolled back);
  the migrating process SIGKILLed while it copies the events: nothing is left either.
- A server made before the events' decoded column was dropped (the column added back): a
  sync into it writes no decoded text, and `escrow show --json` from it has the fields,
  decoded on read (the dispute reason's non-ASCII text whole).
- Credentials: a password in the URL works and is never printed (stdout, stderr, the log);
  a wrong one fails with one line without it; PGPASSFILE works."""
import os
import sqlite3
import subprocess
import sys

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from pg import PgServer, available  # noqa: E402
from sync_lib import Chain, Desk, log, need_artifacts, wait_until  # noqa: E402

PG_TYPE = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea", "REAL": "double precision"}


def sqlite_tables(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT s.name FROM sqlite_schema s JOIN pragma_table_list l ON l.schema = 'main'"
            " AND l.name = s.name WHERE s.type = 'table' AND l.type = 'table'"
            " AND s.name NOT LIKE 'sqlite%' ORDER BY s.name")]
        out = {}
        for n in names:
            cols = con.execute(f'SELECT name, type, "notnull", pk FROM pragma_table_info("{n}")'
                               " ORDER BY cid").fetchall()
            count = con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]
            out[n] = (cols, count)
        return out
    finally:
        con.close()


def check_twins(pg, db, tables):
    """Every SQLite table has its PostgreSQL twin: same columns, types, NOT NULL, key."""
    for name, (cols, _) in tables.items():
        got = pg.psql("SELECT column_name, data_type, is_nullable FROM information_schema.columns"
                      f" WHERE table_schema = 'public' AND table_name = '{name}'"
                      " ORDER BY ordinal_position", db=db)
        assert got, f"table {name} has no PostgreSQL twin"
        want = []
        for cname, ctype, notnull, pk in cols:
            nullable = "NO" if notnull or pk else "YES"
            want.append([cname, PG_TYPE[ctype.upper()], nullable])
        assert got == want, f"table {name}: PostgreSQL columns {got}, SQLite {want}"
        pk_pg = [r[0] for r in pg.psql(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            f" AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'public.\"{name}\"'::regclass"
            " AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)", db=db)]
        pk_sq = [c[0] for c in sorted((c for c in cols if c[3]), key=lambda c: c[3])]
        assert pk_pg == pk_sq, f"table {name}: primary key {pk_pg} on PostgreSQL, {pk_sq}"


def fusion_migrate(desk, url, env=None, check=True):
    r = subprocess.run([desk_bin(), "--home", desk.home, "db", "migrate", "--to", url],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, **(env or {})))
    if check:
        assert r.returncode == 0, f"db migrate exited {r.returncode}: {r.stderr}"
    return r


def desk_bin():
    from sync_lib import FUSION
    return FUSION


def public_tables(pg, db):
    return int(pg.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                       db=db)[0][0])


def main():
    if not available():
        log("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap (a skipped test proves nothing)")
        return 1
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    desk.add_chain(chain, confirmations=1)
    amount = 10**18
    e1 = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                             amount=amount)
    chain.act(e1, 0, "fund()", value=amount)
    chain.act(e1, 2, "approve()")
    chain.act(e1, 6, "release()")
    e2 = chain.create_escrow(payer=6, payee=7, approvers=(2,), threshold=1, arbiter=5,
                             amount=12345)
    chain.act(e2, 6, "fund()", value=12345)
    chain.act(e2, 7, "dispute(string)", "goods not delivered — 貨物未到")
    chain.act(e2, 5, "resolve(bool)", "true")
    desk.run("sync", "--once")
    db_path = os.path.join(desk.home, "desk.db")
    tables = sqlite_tables(db_path)
    assert tables["events"][1] >= 8 and tables["escrows"][1] == 2, \
        {k: v[1] for k, v in tables.items()}

    with PgServer() as pg:
        # --- the copy, checked independently ---
        r = fusion_migrate(desk, pg.url)
        assert "every table's rows verified" in r.stdout, r.stdout
        for name, (_, count) in tables.items():
            n = int(pg.psql(f'SELECT count(*) FROM "{name}"')[0][0])
            assert n == count, f"{name}: {n} rows on the server, {count} in the desk"
        check_twins(pg, "desk", tables)
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        for esc in (e1, e2):
            want = con.execute("SELECT state, amount, payer, payee, events FROM escrows"
                               " WHERE address = ?", (esc.lower(),)).fetchone()
            got = pg.psql("SELECT state, amount, payer, payee, events FROM escrows"
                          f" WHERE address = '{esc.lower()}'")
            assert got == [[str(v) for v in want]], (got, want)
        assert pg.psql(f"SELECT state FROM escrows WHERE address = '{e1.lower()}'") == \
            [["released"]]
        # the reason's UTF-8 bytes in the event's data (its fields are decoded on read:
        # neither desk.db nor the server keeps a decoded column)
        ev = con.execute("SELECT id, hex(data), hex(tx_hash), name FROM events"
                         " WHERE name = 'Disputed'").fetchone()
        assert ev and "貨物未到".encode().hex().upper() in ev[1], ev
        got = pg.psql("SELECT upper(encode(data, 'hex')), upper(encode(tx_hash, 'hex')), name"
                      f" FROM events WHERE id = {ev[0]}")
        assert got == [[ev[1], ev[2], ev[3]]], (got, ev)
        assert pg.psql("SELECT count(*) FROM information_schema.columns WHERE"
                       " table_name = 'events' AND column_name = 'decoded'") == [["0"]]
        cp = con.execute("SELECT synced_block, synced_hash FROM checkpoints").fetchall()
        assert pg.psql("SELECT synced_block, synced_hash FROM checkpoints") == \
            [[str(a), b] for a, b in cp]
        max_id = con.execute("SELECT max(id) FROM events").fetchone()[0]
        con.close()
        nxt = int(pg.psql("SELECT nextval(pg_get_serial_sequence('events', 'id'))")[0][0])
        assert nxt == max_id + 1, f"the events id sequence gives {nxt} after {max_id}"
        # --- the escrow filter on pg_trgm ---
        plan = "\n".join(r[0] for r in pg.psql(
            "SET enable_seqscan = off; SET enable_indexscan = off; "
            "SET enable_indexonlyscan = off; EXPLAIN SELECT address FROM escrows WHERE "
            "(address || ' ' || payer || ' ' || payee || ' ' || state) LIKE '%esolve%'"))
        assert "escrows_search_trgm" in plan, plan
        hits = pg.psql("SELECT address FROM escrows WHERE (address || ' ' || payer || ' ' || "
                       "payee || ' ' || state) LIKE '%esolve%'")
        assert hits == [[e2.lower()]], hits
        # --- the escrow table's default order (most recent first) served by an index: the
        # UI's first window, read again on every announced commit, costs a window's read
        # at any escrow count (pg_page_bench.py: 211 ms without it at 200,000 escrows) ---
        plan = "\n".join(r[0] for r in pg.psql(
            "SET enable_seqscan = off; SET enable_sort = off; EXPLAIN SELECT e.address FROM "
            "escrows e JOIN chains c ON c.chain_id = e.chain_id ORDER BY e.created_block DESC, "
            "e.chain_id DESC, e.address COLLATE \"C\" DESC LIMIT 129"))
        assert "escrows_recent" in plan, plan

        # --- a database that already holds tables: refused, left as it was ---
        before = public_tables(pg, "desk")
        r = fusion_migrate(desk, pg.url, check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert "already holds" in r.stderr and "empty database" in r.stderr, r.stderr
        assert public_tables(pg, "desk") == before

        # --- a server that changes rows as they are written: found, rolled back ---
        pg.psql("CREATE DATABASE tampered")
        pg.psql("""
CREATE FUNCTION tamper_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.amount := NEW.amount || '0'; RETURN NEW; END $$;
CREATE FUNCTION tamper_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
           WHERE command_tag = 'CREATE TABLE' AND object_identity = 'public.escrows' LOOP
    EXECUTE 'CREATE TRIGGER tamper BEFORE INSERT ON public.escrows'
            ' FOR EACH ROW EXECUTE FUNCTION tamper_row()';
  END LOOP;
END $$;
CREATE EVENT TRIGGER tamper ON ddl_command_end EXECUTE FUNCTION tamper_ddl();""",
                db="tampered")
        r = fusion_migrate(desk, pg.url_for(db="tampered"), check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert "table escrows differs" in r.stderr and "rolled back" in r.stderr, r.stderr
        assert public_tables(pg, "tampered") == 0, "a rolled-back migrate left tables"

        # --- the migrating process SIGKILLed mid-copy: the server keeps nothing ---
        pg.psql("CREATE DATABASE killed")
        pg.psql("""
CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$;
CREATE FUNCTION slow_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  FOR r IN SELECT * FROM pg_event_trigger_ddl_commands()
           WHERE command_tag = 'CREATE TABLE' AND object_identity = 'public.events' LOOP
    EXECUTE 'CREATE TRIGGER slow BEFORE INSERT ON public.events'
            ' FOR EACH ROW EXECUTE FUNCTION slow_row()';
  END LOOP;
END $$;
CREATE EVENT TRIGGER slow ON ddl_command_end EXECUTE FUNCTION slow_ddl();""", db="killed")
        mig = subprocess.Popen([desk_bin(), "--home", desk.home, "db", "migrate", "--to",
                                pg.url_for(db="killed")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                       " 'killed' AND query LIKE 'INSERT INTO \"events\"%'")
                       == [["1"]], "the copy of events under way")
            mig.kill()
            mig.wait(timeout=30)
        finally:
            if mig.poll() is None:
                mig.kill()
                mig.wait()
        wait_until(lambda: pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                   " 'killed' AND backend_type = 'client backend'") == [["0"]],
                   "the killed migrate's session to end")
        assert public_tables(pg, "killed") == 0, "a killed migrate left tables"

        # --- credentials: never printed ---
        pg.add_role("alice", "s3cret-pw")
        pg.psql("CREATE DATABASE bypass OWNER alice")
        r = fusion_migrate(desk, pg.url_for("alice", "s3cret-pw", db="bypass"))
        assert "alice:***@" in r.stdout and "s3cret" not in r.stdout + r.stderr, r
        assert public_tables(pg, "bypass") > 0
        r = fusion_migrate(desk, pg.url_for("alice", "wr0ng-pw", db="bypass"), check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, r
        assert "wr0ng" not in r.stderr and "password authentication failed" in r.stderr, r.stderr
        with open(os.path.join(desk.home, "fusion.log"), errors="replace") as f:
            text = f.read()
        assert "s3cret" not in text and "wr0ng" not in text, "a password reached fusion.log"
        pg.psql("CREATE DATABASE passfile OWNER alice")
        pf = os.path.join(desk.home, "..", os.path.basename(desk.home) + ".pgpass")
        with open(pf, "w") as f:
            f.write("*:*:passfile:alice:s3cret-pw\n")
        os.chmod(pf, 0o600)
        fusion_migrate(desk, pg.url_for("alice", db="passfile"), env={"PGPASSFILE": pf})
        assert public_tables(pg, "passfile") == public_tables(pg, "desk")
        os.unlink(pf)

        # --- usage ---
        r = subprocess.run([desk_bin(), "--home", desk.home, "db", "migrate", "--to",
                            "mysql://u:hidden@h/x"], capture_output=True, text=True)
        assert r.returncode == 2 and "hidden" not in r.stderr, r

        # --- a server made before the events lost their decoded column keeps it (nullable):
        # the desk's book on it syncs on without writing it, and the timelines read from it
        # decode the fields from the events' data ---
        pg.psql("ALTER TABLE events ADD COLUMN decoded text")
        conf = os.path.join(desk.home, "book.conf")
        with open(conf, "w") as f:
            f.write(f"db = {pg.url}\n")
        os.chmod(conf, 0o600)
        desk.signed.sign_config("book")
        e3 = chain.create_escrow(payer=0, payee=1, approvers=(2,), threshold=1, arbiter=5,
                                 amount=777)
        chain.act(e3, 0, "fund()", value=777)
        desk.run("sync", "--once")
        rows = pg.psql("SELECT count(*), count(decoded) FROM events"
                       f" WHERE escrow = '\\x{e3[2:].lower()}'")
        assert int(rows[0][0]) >= 2 and rows[0][1] == "0", rows
        fields = {t["name"]: t["fields"] for t in desk.json("escrow", "show", e3, "--json")["timeline"]}
        assert fields.get("Funded", {}).get("amount") == "777", fields
        fields = {t["name"]: t["fields"] for t in desk.json("escrow", "show", e2, "--json")["timeline"]}
        assert fields.get("Disputed", {}).get("reason") == "goods not delivered — 貨物未到", fields
    log("pg_migrate: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
