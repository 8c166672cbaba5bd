#!/usr/bin/python3
"""pg_book.py: a desk's book location as a desk decision (<home>/book.conf, pgstore/pg_desk.h),
with a real server (tests/lib/pg.py) and a real anvil chain, checked against the node.

conf: a signed desk. book.conf naming the server with a password in the URL is refused by
  `fusion sync`, `config sign book` and `db status`, one line saying where the password goes,
  the password shown nowhere; the file without a password but not signed is refused (the desk
  acts on it only once an admin signs it); signed, `fusion sync --once` (no --db, the password
  from PGPASSWORD) keeps the chain's events on that server and none in desk.db, and `db status`
  says what is where; `--db` on the command line still overrides (another database gets the
  events, the desk's server none); `fusion serve --sync` keeps them on the desk's server
  too; a backup carries the signed book.conf (the restored desk's book is on the server); a
  desk without book.conf syncs into desk.db as before.
ui: the terminal UI (tmux, tests/ui/tmuxh.py) on a desk whose signed book.conf names the
  server: its own sync threads keep the events there (equal to the node's, none in desk.db),
  the Chains screen says so; the server stopped (pg_ctl stop): the chain's row shows `server
  unreachable` with the reason and the status line leads with `book server unreachable`, no
  password anywhere; started again: both clear, and the escrows made meanwhile reach the
  server, no gap or duplicate.
cli: the same outage under `fusion sync`: its status lines say `server unreachable` with the
  reason, then `following` again.
reads: a desk whose signed book.conf names the server, synced there (desk.db holds no escrow):
  the terminal UI's Escrows screen lists the escrows a SQLite desk synced from the same chain
  has, its filter finds one by an address prefix, its detail shows that escrow's events and
  approvals; an approver's Approvals screen lists the escrows awaiting her; the Chains screen and the Dashboard say the chain is synced (the server's
  checkpoint); `fusion serve` lists the same escrows and one with its events, and so do
  `fusion escrow list` and `escrow show`; the server stopped: the screen's status line, the
  API (503) and `escrow list` (exit 1) say `book server unreachable` in one line, nothing
  crashes; started again: all read the escrows again."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pg_sync  # noqa: E402
from pg_sync import (CHAIN, FUSION, PASSWORD, assert_server_matches_node,  # noqa: E402
                     available, local_events, log, need_artifacts, setup)


def fusion(home, *args, env=None):
    return subprocess.run([FUSION, "--home", home, *args], capture_output=True, text=True,
                          timeout=600, env=env)


def write_book(home, text):
    path = os.path.join(home, "book.conf")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def one_line(r, want_rc, want, what):
    out = r.stdout + r.stderr
    assert r.returncode == want_rc and want in r.stderr, \
        f"{what}: exit {r.returncode}, {r.stderr!r}"
    assert PASSWORD not in out, f"{what}: password shown: {out!r}"
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, f"{what}: more than one line: {r.stderr!r}"


def checkpoint(pg, db):
    r = pg.psql(f"SELECT synced_block FROM checkpoints WHERE chain_id = {CHAIN}", db=db)
    return int(r[0][0]) if r else -1


def conf(pg):
    chain, desk, url = setup(pg, 3, 5)
    pg.psql("CREATE DATABASE other TEMPLATE desk OWNER desk")
    plain = pg.url_for(user="desk")  # no password: PGPASSWORD gives it
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    home = desk.home

    r = fusion(home, "db", "status")
    assert r.returncode == 0 and "everything is in desk.db" in r.stdout, f"db status: {r}"

    # a password in the desk's file: refused wherever it is read
    write_book(home, f"# the desk's book\ndb = {url}\n")
    for args in (["sync", "--once"], ["db", "status"]):
        one_line(fusion(home, *args, env=env), 1, "the URL carries a password", " ".join(args))
        assert "PGPASSWORD" in fusion(home, *args, env=env).stderr
    r = desk.run(*desk.signed.as_("admin"), "config", "sign", "book", check=False)
    one_line(r, 1, "the URL carries a password", "config sign book")
    for bad, want in (("db = http://x/y\n", "postgresql:// URL"),
                      ("server = " + plain + "\n", "the only key"),
                      (f"db = {plain}\ndb = {plain}\n", "a second db line")):
        write_book(home, bad)
        one_line(fusion(home, "sync", "--once", env=env), 1, want, bad.strip())
    assert checkpoint(pg, "desk") == -1 and checkpoint(pg, "other") == -1, "a refusal wrote"
    assert local_events(home) == 0, "a refusal synced into desk.db"

    # the desk's decision: not acted on until signed
    write_book(home, f"db = {plain}\n")
    one_line(fusion(home, "sync", "--once", env=env), 1, "is not signed on this desk",
             "unsigned book.conf")
    assert checkpoint(pg, "desk") == -1, "an unsigned book.conf was used"
    desk.signed.sign_config("book")
    r = fusion(home, "config", "status")
    assert any(x.startswith("book.conf") and "signed" in x for x in r.stdout.splitlines()), r.stdout

    # --db still overrides it
    r = fusion(home, "sync", "--once", "--quiet", "--db",
               pg.url_for(user="desk", db="other"), env=env)
    assert r.returncode == 0, f"sync --db other: {r.stderr}"
    assert checkpoint(pg, "other") >= 0 and checkpoint(pg, "desk") == -1, \
        "--db did not override book.conf"

    # no --db: the desk's server
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync with book.conf: {r.stderr}"
    head = chain.node.block_number()
    assert checkpoint(pg, "desk") >= head, f"the desk's server at {checkpoint(pg, 'desk')} of {head}"
    assert_server_matches_node(pg, chain, "sync without --db, book.conf signed")
    assert local_events(home) == 0, "events written to desk.db (the book is the server)"
    assert "the book on postgresql://desk@/desk" in open(f"{home}/fusion.log").read()
    r = fusion(home, "db", "status")
    assert r.returncode == 0, r.stderr
    assert f"book: {plain} (" in r.stdout, r.stdout
    assert "on the server: each chain's events, block hashes and checkpoint, the escrows" in r.stdout, r.stdout
    assert "in desk.db: everything else" in r.stdout, r.stdout

    # `fusion serve --sync`: its threads keep the book where the desk decided too
    pg_sync.make_history(chain, 1, 0)
    head = chain.node.block_number()
    err = open(os.path.join(home, "serve.stderr"), "wb")
    p = subprocess.Popen([FUSION, "--home", home, "serve", "--sync", "--socket",
                          os.path.join(home, "t.sock")], stdout=subprocess.DEVNULL, stderr=err,
                         env=env)
    err.close()
    pg_sync._procs.append(p)
    pg_sync.wait_until(lambda: checkpoint(pg, "desk") >= head or local_events(home) > 0
                       or p.poll() is not None, "serve --sync", 120)
    assert p.poll() is None, f"serve --sync exited {p.returncode}"
    p.terminate()
    assert p.wait(timeout=60) == 0, f"serve --sync exited {p.returncode}"
    assert local_events(home) == 0, "serve --sync wrote events to desk.db (the book is the server)"
    assert_server_matches_node(pg, chain, "fusion serve --sync")
    pg_sync.no_password([home])

    # a backup carries the signed book.conf: the restored desk keeps its book on the server
    tmp = tempfile.mkdtemp(prefix="fusion-pgbook-")
    pw = os.path.join(tmp, "backup.pw")
    fd = os.open(pw, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"backup passphrase for the test\n")
    os.close(fd)
    archive, restored = os.path.join(tmp, "desk.fbk"), os.path.join(tmp, "restored")
    for args in ((home, "backup", "--out", archive, "--passphrase-file", pw, "--kdf",
                  "interactive"),
                 (home, "restore", archive, "--home", restored, "--passphrase-file", pw,
                  "--no-chain-check")):
        r = fusion(*args)
        assert r.returncode == 0, f"{args[1]}: {r.stderr}"
    r = fusion(restored, "db", "status")
    assert r.returncode == 0 and f"book: {plain} (" in r.stdout, f"restored desk: {r}"
    shutil.rmtree(tmp, ignore_errors=True)

    # a desk without book.conf: desk.db as before
    os.unlink(os.path.join(home, "book.conf"))
    desk.signed.sign_config("book")  # its removal, signed
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync without book.conf: {r.stderr}"
    assert local_events(home) > 0, "a desk without book.conf did not sync into desk.db"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book conf: ok")


def ui(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh
    chain, desk, url = setup(pg, 3, 5)
    home = desk.home
    plain = pg.url_for(user="desk")
    write_book(home, f"db = {plain}\n")
    desk.signed.sign_config("book")
    t = tmuxh.Tmux("pgbook", cols=160, rows=30)
    t.start(f"{FUSION} --home {home} --operator admin", env={"PGPASSWORD": PASSWORD})
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("7")

    def row(s):
        rows = [x for x in s.split("\n") if " local " in x and "31337" in x]
        return rows[0] if rows else ""

    def status(s):
        lines = s.split("\n")
        return lines[t.rows - 2] if len(lines) >= t.rows else ""

    t.wait_for(lambda s: "the book on postgresql://desk@/desk" in s and "following" in row(s)
               and "unreachable" not in s, "the Chains screen: the UI syncs to the server")
    head = chain.node.block_number()
    pg_sync.wait_until(lambda: checkpoint(pg, "desk") >= head, "the UI's sync on the server", 120)
    assert_server_matches_node(pg, chain, "the UI's sync threads")
    assert local_events(home) == 0, "the UI synced into desk.db (the book is the server)"

    pg.pause()
    log("server stopped under the UI")
    text = t.wait_for(lambda s: "server unreachable" in row(s) and "cannot connect" in row(s)
                      and status(s).lstrip().startswith("book server unreachable: 1 of 1 chains"),
                      "the outage on the Chains screen and the status line")
    assert PASSWORD not in text, "password on the screen"
    t.send("1")  # another screen: the status line still says so
    t.wait_for(lambda s: "Dashboard" in status(s) and
               status(s).lstrip().startswith("book server unreachable"), "the Dashboard's status line")
    pg_sync.make_history(chain, 2, 0)  # escrows while the server is away
    pg.resume()
    log("server started again")
    t.send("7")
    t.wait_for(lambda s: "following" in row(s) and "unreachable" not in s
               and "Chains" in status(s), "the outage cleared")
    head = chain.node.block_number()
    pg_sync.wait_until(lambda: checkpoint(pg, "desk") >= head, "the sync after the outage", 120)
    assert_server_matches_node(pg, chain, "after the server came back")
    assert local_events(home) == 0, "events written to desk.db"
    t.close()
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book ui: ok")


def cli(pg):
    """`fusion sync` on the desk's book.conf, the server stopped and started under it: its
    status lines say `server unreachable` with the reason (no password), then following
    again; the events made meanwhile reach the server."""
    chain, desk, url = setup(pg, 2, 5)
    home = desk.home
    write_book(home, f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    errpath = os.path.join(home, "sync.stderr")
    err = open(errpath, "wb")
    p = subprocess.Popen([FUSION, "--home", home, "sync", "--no-subscribe", "--poll-ms", "100"],
                         stdout=subprocess.DEVNULL, stderr=err, env=env)
    err.close()
    pg_sync._procs.append(p)
    head = chain.node.block_number()
    pg_sync.wait_until(lambda: checkpoint(pg, "desk") >= head, "the sync on the server", 120)
    pg.pause()
    log("server stopped under fusion sync")
    pg_sync.wait_until(lambda: "sync local: server unreachable: cannot connect to "
                       "postgresql://desk@/desk" in pg_sync.read(errpath), "the outage shown", 120)
    pg_sync.make_history(chain, 1, 0)
    at = len(pg_sync.read(errpath))
    pg.resume()
    pg_sync.wait_until(lambda: "sync local: following" in pg_sync.read(errpath)[at:],
                       "following again", 120)
    head = chain.node.block_number()
    pg_sync.wait_until(lambda: checkpoint(pg, "desk") >= head, "the sync after the outage", 120)
    assert p.poll() is None, f"fusion sync ended: {p.returncode}"
    assert_server_matches_node(pg, chain, "fusion sync after the outage")
    p.terminate()
    assert p.wait(timeout=60) == 0, f"fusion sync exited {p.returncode}"
    for line in pg_sync.read(errpath).splitlines():
        if "unreachable" in line:
            log("  " + line[:160])
            break
    pg_sync.no_password([home])
    assert local_events(home) == 0, "events written to desk.db"
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book cli: ok")


def local_escrows(home):
    import sqlite3
    con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
    try:
        return con.execute("SELECT count(*) FROM escrows").fetchone()[0]
    finally:
        con.close()


def reads(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "integration"))
    import tmuxh
    import api_lib
    from sync_lib import Desk
    chain, desk, url = setup(pg, 4, 2)
    home = desk.home
    write_book(home, f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync on the desk's server: {r.stderr}"
    assert local_escrows(home) == 0, "escrows in desk.db (the book is the server)"
    # what the chain has, as a SQLite desk synced from it holds it
    other = Desk()
    other.add_chain(chain, confirmations=0)
    other.run("sync", "--once", "--quiet")
    want = {a.lower(): st for a, st in other.query("SELECT address, state FROM escrows")}
    assert len(want) == 4, f"the SQLite desk has {len(want)} escrows"
    pick = sorted(want)[1]
    n_events = other.query("SELECT count(*) FROM events WHERE escrow = ?",
                           bytes.fromhex(pick[2:]))[0][0]
    approvals = other.query("SELECT approvals FROM escrows WHERE address = ?", pick)[0][0]
    assert n_events >= 3 and approvals == 1, (n_events, approvals)
    log(f"the chain: {len(want)} escrows; {pick} has {n_events} events")

    def rows_of(s):
        low = s.lower()
        return {a for a in want if a[2:6] in low and any(
            a[2:6] in x and a[-4:] in x for x in low.split("\n"))}

    # `fusion sync` syncs the desk (it holds sync.lock): the UI follows, its screens read
    errpath = os.path.join(home, "sync.stderr")
    err = open(errpath, "wb")
    p = subprocess.Popen([FUSION, "--home", home, "sync", "--no-subscribe", "--poll-ms", "100"],
                         stdout=subprocess.DEVNULL, stderr=err, env=env)
    err.close()
    pg_sync._procs.append(p)
    pg_sync.wait_until(lambda: "sync local: following" in pg_sync.read(errpath), "fusion sync", 120)
    t = tmuxh.Tmux("pgread", cols=160, rows=30)
    t.start(f"{FUSION} --home {home} --operator admin", env={"PGPASSWORD": PASSWORD})
    t.wait_for("Fusion Prime Workstation", "the title bar")

    def status(s):
        lines = s.split("\n")
        return lines[t.rows - 2] if len(lines) >= t.rows else ""

    # the chain's sync status: the server's checkpoint
    head = chain.node.block_number()
    t.send("7")
    t.wait_for(lambda s: any(" local " in x and "31337" in x and str(head) in x
                             for x in s.split("\n")), "the Chains screen: synced to the head")
    t.send("1")
    dash = t.wait_for(lambda s: "Dashboard" in status(s) and "as of" in s
                      and "never" not in s.lower(), "the Dashboard: the chain synced")
    assert "never been synced" not in dash, dash
    t.send("2")
    text = t.wait_for(lambda s: rows_of(s) == set(want) and "escrows 1/4" in status(s),
                      "the Escrows screen: the server's escrows")
    for a, st in want.items():
        line = [x for x in text.lower().split("\n") if a[2:6] in x and a[-4:] in x][0]
        assert st in line, f"escrow {a}: {st} on the chain, the screen: {line!r}"
    # live: an escrow made now reaches the screen (the server's commit announced)
    pg_sync.make_history(chain, 1, 0)
    other.run("sync", "--once", "--quiet")
    want = {a.lower(): st for a, st in other.query("SELECT address, state FROM escrows")}
    assert len(want) == 5, f"the SQLite desk has {len(want)} escrows"
    t.wait_for(lambda s: rows_of(s) == set(want) and " escrows " in status(s) and "/5 " in status(s),
               "the Escrows screen: the new escrow")
    # the filter: an address prefix finds that escrow alone
    t.send("/")
    t.type(pick[:12])
    t.send("Enter")
    t.wait_for(lambda s: rows_of(s) == {pick} and "escrows 1/1" in status(s),
               "the filter by an address prefix")
    t.send("Enter")  # its detail: the events from the server
    t.wait_for(lambda s: f"Timeline ({n_events} events):" in s and "EscrowCreated" in s
               and "approved in block" in s, "the escrow's detail: its events and approval")
    t.send("Escape")

    # the API of `fusion serve` on the same desk
    token = json.loads(desk.run("api", "client", "add", "books", "--scope", "read",
                                "--json").stdout)["token"]
    srv = api_lib.Server.__new__(api_lib.Server)
    srv_env = dict(os.environ, PGPASSWORD=PASSWORD)
    srv.home = home
    srv.sock = os.path.join(home, "api.sock")
    srv.errpath = os.path.join(home, "serve.stderr")
    srv.err = open(srv.errpath, "wb")
    srv.proc = subprocess.Popen([FUSION, "--home", home, "serve", "--rate", "1000", "--burst",
                                 "1000"], stdout=subprocess.DEVNULL, stderr=srv.err, env=srv_env)
    pg_sync._procs.append(srv.proc)
    pg_sync.wait_until(lambda: "serving on" in pg_sync.read(srv.errpath)
                       or srv.proc.poll() is not None, "fusion serve", 60)
    assert srv.proc.poll() is None, pg_sync.read(srv.errpath)

    def api_list():
        st, _, body = api_lib.request(srv.conn(), "GET", "/v1/escrows?limit=50", token=token)
        return st, body

    st, body = api_list()
    assert st == 200, f"GET /v1/escrows: {st} {body}"
    got = {x["address"].lower(): x["state"] for x in body["items"]}
    assert got == want and body["total"] == 5, f"the API lists {got}, the chain has {want}"
    st, _, one = api_lib.request(srv.conn(), "GET", f"/v1/escrows/31337/{pick}", token=token)
    assert st == 200 and one["approvals"] == 1 and len(one["timeline"]) == n_events and \
        one["timeline"][0]["event"] == "EscrowCreated", f"GET one escrow: {st} {one}"
    log("the API lists the server's escrows")
    # the CLI's escrow reads too
    r = fusion(home, "escrow", "list", "--json", env=env)
    assert r.returncode == 0, f"escrow list: {r.stderr}"
    got = {x["address"].lower(): x["state"] for x in json.loads(r.stdout)}
    assert got == want, f"escrow list: {got}, the chain has {want}"
    r = fusion(home, "escrow", "show", pick, env=env)
    assert r.returncode == 0 and "EscrowCreated" in r.stdout and "Approved" in r.stdout, \
        f"escrow show: {r.stdout} {r.stderr}"

    # the Approvals screen of an approver who has not approved: every escrow awaits her
    from sync_lib import A
    desk.run("operator", "add", "carol", "--key", A[3], "--role", "approver")
    t2 = tmuxh.Tmux("pgread2", cols=160, rows=30)
    t2.start(f"{FUSION} --home {home} --operator carol", env={"PGPASSWORD": PASSWORD})
    t2.wait_for("Fusion Prime Workstation", "carol's title bar")
    t2.send("3")
    t2.wait_for(lambda s: rows_of(s) == set(want), "carol's Approvals screen: the server's escrows")
    t2.close()

    # the server away: one line, no crash; back: the reads come back
    pg.pause()
    log("server stopped")
    st, body = api_list()
    assert st == 503 and body["detail"].startswith("book server unreachable"), (st, body)
    assert PASSWORD not in json.dumps(body)
    one_line(fusion(home, "escrow", "list", env=env), 1, "book server unreachable",
             "escrow list, the server away")
    t.send("2")
    t.send("/")
    t.type(pick[:8])
    t.send("Enter")  # a new filter: read again, from a server that is away
    text = t.wait_for(lambda s: "escrows: book server unreachable" in s,
                      "the Escrows screen's status line: the server away")
    assert PASSWORD not in text
    pg.resume()
    log("server started again")
    t.send("Escape")
    t.wait_for(lambda s: rows_of(s) == set(want) and " escrows " in status(s) and "/5 " in status(s)
               and "unreachable" not in status(s), "the escrows read again")
    pg_sync.wait_until(lambda: api_list()[0] == 200, "the API reads again", 60)
    st, body = api_list()
    assert {x["address"].lower() for x in body["items"]} == set(want), body
    r = fusion(home, "escrow", "list", "--json", env=env)
    assert r.returncode == 0 and len(json.loads(r.stdout)) == len(want), r.stderr
    assert srv.proc.poll() is None, "fusion serve died"
    assert p.poll() is None, "fusion sync ended"
    p.terminate()
    assert p.wait(timeout=60) == 0, pg_sync.read(errpath)
    srv.proc.terminate()
    assert srv.proc.wait(timeout=60) == 0, pg_sync.read(srv.errpath)
    srv.err.close()
    t.close()
    pg_sync.no_password([home])
    for h in (home, other.home):
        shutil.rmtree(h, ignore_errors=True)
        shutil.rmtree(h.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book reads: ok")


def main(argv):
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap")
        return 1
    need_artifacts()
    return pg_sync.run_mode({"conf": conf, "ui": ui, "cli": cli, "reads": reads}[argv[0] if argv else "conf"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
