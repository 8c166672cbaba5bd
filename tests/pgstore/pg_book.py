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
action: signing actions (`fusion escrow create`, answered on a terminal) on a desk whose signed
  book.conf names the server, the server restarted or stopped during each: restarted while the
  action waits for its confirmation (it records on a new connection and completes); stopped
  there (one line, nothing sent: the node's nonce unchanged, no row anywhere); stopped after
  the send, before the receipt (anvil mining by hand): the action waits, the server comes
  back, the record follows (mined, its escrow); stopped after the send and not back within
  the bound (FUSION_BOOK_WAIT_S=2): one line saying to run `fusion tx check`, which records
  it there once the server is back. After each, the node against the server's
  rows: every transaction of the operator's nonces recorded once, by its hash, nonce and
  sender, nothing recorded that the node lacks, desk.db's rows the server's (same ids). Then a
  reorg (anvil_reorg) takes the last one's block: the server's rewind flags it (`reorged`),
  and another workstation of the desk, which signed nothing, lists them all (`fusion tx list`)
  from the server with that flag. Last, the server set to an older server version with a
  column of outbound_txs renamed: the action is refused in one line naming both versions and
  `fusion db upgrade`, nothing sent, nothing recorded.
uiaction: the terminal UI's actions on such a desk: with a malformed FUSION_BOOK_WAIT_S an
  approval is refused in one line, nothing sent or recorded; then bob approves an escrow from
  the Approvals screen (passphrase, the pre-sign summary, y); the approval is recorded on the
  server (the node's transaction by hash, nonce and sender; desk.db's row under the server's
  id).
reads: a desk whose signed book.conf names the server, synced there (desk.db holds no escrow):
  the terminal UI's Escrows screen lists the escrows a SQLite desk synced from the same chain
  has, its filter finds one by an address prefix, its detail shows that escrow's events and
  approvals; an approver's Approvals screen lists the escrows awaiting her; the Chains screen and the Dashboard say the chain is synced (the server's
  checkpoint); `fusion serve` lists the same escrows and one with its events, and so do
  `fusion escrow list` and `escrow show`; the server stopped: the screen's status line, the
  API (503, `/v1/transactions` too) and `escrow list` (exit 1) say `book server unreachable`
  in one line, nothing crashes; started again: all read the escrows again; an escrow synced
  to the server then is streamed by `/v1/events` (escrow.created, its address).
uioutbound: the terminal UI's Outbound screen on such a desk lists the server's transactions:
  two workstations (desk homes) on one server, a transaction made from B appears on A's
  screen; the server stopped: the screen keeps its rows, its status line says the server is
  unreachable in one line, and the UI still answers keys (another screen and back).
live: a follower UI on such a desk (another process, `fusion sync`, syncs it) whose look for
  other processes' commits is made rare (FUSION_UI_POLL_S=86400: its once-a-second tick
  never looks): an escrow the syncer commits on the server appears on its Escrows screen all
  the same, the frame logged as following the server's announcement; the server restarted
  (every session ended), the next one appears too (the UI's listener connected again).
pages: the Escrows screen over 300 escrows on the server (rows cloned by SQL): paged down
  with PgDn to the last row, the rows appear in the server's order (most recent first), each
  once, none missing; the windows after the first are read after the key of the row before
  them (keyset paging: the server's statement log shows the keyed page executed), not at
  an OFFSET, also after a pause mid-table in which the UI looks for others' commits (none:
  the screen's first connection to the server is no change that drops its window), and
  after a commit to desk.db alone (an API client added: the escrows are the server's).
hostile: the server's rows are outside input. An escrow row of 2^256-1 base units reads
  back exactly (`escrow list --json` on the server equals a SQLite desk's of the same row);
  a row with terminal escapes in its anomaly, or a threshold beyond 32 bits, is refused by
  `escrow list` and `escrow show` in one line naming the row (exit 1, no escape byte
  printed), and so is an event's name with escapes by `escrow show`; a transaction row with escapes in its action is refused by `tx list` the same
  way, and so is the server's own error message with escapes (a policy raising one); a
  transaction the server holds under an id desk.db has for another one is never believed
  (`tx list` refuses it, naming the id) nor overwritten (`tx check`'s push refuses); a
  pending row another workstation put on the server (the operator's signed bytes,
  never confirmed here) is never sent by `fusion tx check` (the node never sees it, the
  operator's nonce unchanged); the server answering the recording of a transaction
  without its id (a trigger swallowing the row) refuses the action in one line, nothing sent
  or recorded (it crashed); no password in any output or file.
orphan: `fusion tx check` records dropped on the server the operator's own pending row that
  desk.db lacks (what a lost COMMIT answer leaves) once the action run again took its nonce;
  a row of a free nonce, one younger than the bound and another key's row stay pending.
chains: `fusion chain add` and `chain remove` on a desk whose signed book.conf names the
  server. The server stopped: each is refused in one line (exit 1) and neither desk.db nor
  the server is written (the chain not added / still there on both); the server having the
  chain under another name: add refused in one line, nothing written; having it as this
  desk adds it (another workstation's desk added it): accepted; added afresh, the factory's
  `contracts` row is on the server too, equal to desk.db's, in the chains row's server
  transaction (a trigger refusing it leaves neither row, nor desk.db's chain); `fusion sync --once` then
  syncs it onto the server; `chain remove` takes the server's chain away with its events,
  block hashes, checkpoint and escrows, and desk.db's.
swap, bridge: the swap engine's and the bridge engine's own writes of their transactions'
  states (an HTLC swap; a CCTP transfer sent --no-wait, then resumed; a CCIP one likewise,
  to committed) reach the server with no `fusion tx check`: every one mined or confirmed
  there as in desk.db (the allowance approves of the sends too).
legs: the chain sync's bridge legs on the server (a burn, another relayer's mint, that
  mint's block reorged away), and `bridge list`/`show` reading them there; the terminal UI's
  Bridges screen shows the relayed transfer delivered too (the server's legs, read by its
  worker), keeps it while the server is stopped (the status line says so in one line). A
  second workstation's `fusion risk report`, `fusion serve`'s GET /v1/risk and /v1/portfolio
  and `report daily`'s risk section: the same burn in flight and escrowed totals; the
  server stopped: the report's one line (nothing written), the API's 503 book-unreachable."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

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


def operators_desk_on(pg, chain):
    """desk_escrow's desk of operators (keys, roles, a signed genesis) for chain, its book
    moved to the server as an operator would: `db migrate` to the server as role desk, then
    a signed book.conf naming it without the password (PGPASSWORD, in env, gives it)."""
    from desk_escrow import DeskUser
    desk = DeskUser()
    desk.setup(chain, confirmations=0)
    pg.add_role("desk", PASSWORD)
    r = fusion(desk.home, "db", "migrate", "--to", pg.url_for(user="desk", password=PASSWORD))
    assert r.returncode == 0, f"db migrate: {r.stderr}"
    write_book(desk.home, f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    return desk, desk.home, dict(os.environ, PGPASSWORD=PASSWORD)


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
    assert "on the server too: the desk's transactions, recorded there by its signing actions" \
        " (the command line's, the terminal UI's" in r.stdout, r.stdout
    j = json.loads(fusion(home, "db", "status", "--json").stdout)
    assert j["book"] == "postgresql" and "the desk's transactions" in \
        j.get("transactions_on_server", ""), f"db status --json: {j}"

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


def term_run(home, args, env, answer, at_prompt=None, after=None):
    """fusion on a terminal of its own (a pty: the confirmation is asked on /dev/tty):
    at_prompt() runs when it asks `Sign and send?`, then `answer` is typed; after(text)
    is polled with the output so far until it returns true (once). Returns (rc, output)."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(FUSION, [FUSION, "--home", home, *args], env)
        finally:
            os._exit(127)
    out, asked, done_after = b"", False, after is None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        text = out.decode(errors="replace")
        if not asked and "Sign and send? [y/N]" in text:
            asked = True
            if at_prompt:
                at_prompt()
            os.write(fd, answer.encode() + b"\n")
        if asked and not done_after and after(text):
            done_after = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert asked, f"never asked for the confirmation: {out!r}"
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


def action(pg):
    from desk_escrow import PAYEE
    from sync_lib import A, Chain
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    desk, home, env = operators_desk_on(pg, chain)
    home_b = tempfile.mkdtemp(prefix="fusion-pgbook-b-")  # another workstation, same book
    shutil.rmtree(home_b)
    shutil.copytree(home, home_b)
    alice = A[0].lower()
    start = int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16)
    create = ["--operator", "alice", "--passphrase-file", desk.pw, "escrow", "create",
              "--payee", PAYEE, "--token", "ETH", "--amount", "1000", "--approvers", "bob,carol",
              "--threshold", "2", "--deadline", "7d"]

    def server_rows():
        return pg.psql("SELECT id, hash, nonce, from_addr, state, coalesce(mined_block, 0),"
                       " coalesce(escrow, ''), reorged FROM outbound_txs ORDER BY id")

    def check(what, want, no_escrow=()):
        """The node against the server's rows: nothing lost, nothing duplicated."""
        rows = server_rows()
        nonce = int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16)
        assert nonce - start == want, f"{what}: {nonce - start} transactions on the node, {want} wanted"
        assert len(rows) == want, f"{what}: {len(rows)} rows on the server for {want} sent: {rows}"
        assert len({x[1] for x in rows}) == len(rows), f"{what}: a hash recorded twice: {rows}"
        by_nonce = {}
        for (rid, h, n, frm, state, mined, esc, reorged) in rows:
            tx = chain.node.rpc("eth_getTransactionByHash", h)
            assert tx is not None, f"{what}: the server records {h}, the node does not have it"
            assert int(tx["nonce"], 16) == int(n) and tx["from"].lower() == frm == alice, \
                f"{what}: row {rid} says nonce {n} from {frm}, the node {tx['nonce']} {tx['from']}"
            rc = chain.node.rpc("eth_getTransactionReceipt", h)
            assert rc and state in ("mined", "confirmed") and int(mined) == int(rc["blockNumber"], 16), \
                f"{what}: row {rid} is {state} at {mined}, the node's receipt {rc and rc['blockNumber']}"
            assert esc or int(rid) in no_escrow, f"{what}: row {rid} has no escrow recorded"
            by_nonce[int(n)] = h
        assert sorted(by_nonce) == list(range(start, start + want)), f"{what}: nonces {sorted(by_nonce)}"
        local = desk.query("SELECT id, hash, state FROM outbound_txs ORDER BY id")
        assert [(int(x[0]), x[1], x[4]) for x in rows] == [(x[0], x[1], x[2]) for x in local], \
            f"{what}: desk.db {local} and the server {rows} differ"
        log(f"{what}: {want} transactions, node and server agree")

    # 1. the server restarted while the action waits for its confirmation
    rc, out = term_run(home, create, env, "y", at_prompt=pg.restart)
    assert rc == 0 and ("create: mined" in out or "create: confirmed" in out), f"create across a restart: exit {rc}: {out}"
    check("restarted at the confirmation", 1)

    # 2. the server stopped there: one line, nothing sent, nothing recorded
    rc, out = term_run(home, create, env, "y", at_prompt=pg.pause)
    tail = out.split("Sign and send? [y/N] ", 1)[1]
    lines = [x for x in tail.splitlines() if x.strip() not in ("", "y")]
    assert rc == 1 and "nothing was sent" in out and "book server unreachable: " in out, \
        f"create with the server stopped: exit {rc}: {out}"
    assert len(lines) == 1, f"more than one line: {lines}"
    assert PASSWORD not in out, "password shown"
    log("  " + lines[0].strip()[:200])
    pg.resume()
    check("stopped at the confirmation", 1)

    # 3. the server stopped after the send, before the receipt: the record follows
    chain.node.rpc("evm_setAutomine", False)
    logpath = os.path.join(home, "fusion.log")
    at = len(pg_sync.read(logpath))

    def sent(text):
        if "sent 0x" not in text:
            return False
        pg.pause()
        chain.node.mine(1)
        pg_sync.wait_until(lambda: "book server unreachable (" in pg_sync.read(logpath)[at:],
                           "the action waiting for the server", 120)
        pg.resume()
        return True
    rc, out = term_run(home, create, env, "y", after=sent)
    chain.node.rpc("evm_setAutomine", True)
    assert rc == 0 and ("create: mined" in out or "create: confirmed" in out), f"create with the server stopped after the send: exit {rc}: {out}"
    check("stopped after the send", 2)
    for line in pg_sync.read(logpath)[at:].splitlines():
        if "book server unreachable (" in line or "the book server is back" in line:
            log("  " + line[:200])
            assert line.count("book server unreachable") <= 1, f"the wording doubled: {line}"

    # 4. the server stopped after the send and not back within the bound: one line saying
    # what to do; `fusion tx check` records it there once the server is back
    chain.node.rpc("evm_setAutomine", False)
    at = len(pg_sync.read(logpath))

    def sent_and_stop(text):
        if "sent 0x" not in text:
            return False
        pg.pause()
        chain.node.mine(1)
        return True
    rc, out = term_run(home, create, dict(env, FUSION_BOOK_WAIT_S="2"), "y", after=sent_and_stop)
    chain.node.rpc("evm_setAutomine", True)
    tail = out.split("Sign and send? [y/N] ", 1)[1]
    errs = [x for x in tail.splitlines() if x.startswith("fusion:")]
    assert rc == 1 and len(errs) == 1 and "fusion tx check" in errs[0] and \
        "has not answered for 2 s" in errs[0], f"create, the server gone for good: exit {rc}: {out}"
    assert "book server unreachable" not in errs[0], f"the wording doubled: {errs[0]}"
    assert PASSWORD not in out, "password shown"
    log("  " + errs[0][:200])
    pg.resume()
    stale = server_rows()[-1]
    assert stale[4] == "sent", f"the server's row should still say sent: {stale}"
    r = fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "tx", "check", env=env)
    assert r.returncode == 0 and "3 transactions recorded on the book server" in r.stdout, \
        f"tx check: {r.stdout} {r.stderr}"
    check("after tx check", 3, no_escrow=(int(stale[0]),))

    # 5. a reorg takes the last transaction's block: the server's rewind flags it
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync: {r.stderr}"
    last = server_rows()[-1]
    head = chain.node.block_number()
    chain.node.rpc("anvil_reorg", head - int(last[5]) + 1, [])
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync after the reorg: {r.stderr}"
    flags = [(x[0], x[7]) for x in server_rows()]
    assert flags == [(x[0], "1" if x[0] == last[0] else "0") for x in server_rows()], \
        f"reorg flags: {flags}"
    log(f"reorg: the server flags {flags}")

    # the other workstation, which signed nothing, lists them from the server, flags too
    import json as _json
    r = fusion(home_b, "tx", "list", "--json", env=env)
    assert r.returncode == 0, f"tx list on workstation B: {r.stderr}"
    seen = [(str(x["id"]), x["hash"], x["state"], "1" if x["reorged"] else "0")
            for x in _json.loads(r.stdout)]
    want = [(x[0], x[1], x[4], x[7]) for x in reversed(server_rows())]
    assert seen == want, f"workstation B lists {seen}, the server holds {want}"
    import sqlite3
    con = sqlite3.connect(f"file:{home_b}/desk.db?mode=ro", uri=True, timeout=30)
    b_local = con.execute("SELECT count(*) FROM outbound_txs").fetchone()[0]
    con.close()
    assert b_local == 0, f"workstation B's desk.db holds {b_local} transactions"

    # 6. a server at an older server version whose outbound_txs is not this fusion's (a
    # column renamed, as a later server step might): the action is refused in one line
    # naming both versions and `fusion db upgrade`, nothing sent, nothing recorded
    latest = int(pg.psql("SELECT value FROM fusion_meta WHERE key = 'server_version'")[0][0])
    pg.psql(f"UPDATE fusion_meta SET value = '{latest - 1}' WHERE key = 'server_version'")
    pg.psql("ALTER TABLE outbound_txs RENAME COLUMN last_seen TO seen_last")
    before = (len(server_rows()), desk.query("SELECT count(*) FROM outbound_txs"),
              int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16))
    rc, out = term_run(home, create, env, "y")
    tail = out.split("Sign and send? [y/N] ", 1)[-1]
    errs = [x for x in tail.splitlines() if x.strip() not in ("", "y")]
    assert rc == 1 and len(errs) == 1 and \
        f"is at server version {latest - 1}, this fusion's is {latest}" in errs[0] and \
        "fusion db upgrade" in errs[0] and "nothing was sent" in out, \
        f"create on a server at another version: exit {rc}: {out}"
    assert PASSWORD not in out, "password shown"
    log("  " + errs[0].strip()[:300])
    assert (len(server_rows()), desk.query("SELECT count(*) FROM outbound_txs"),
            int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16)) == before, \
        "a transaction was sent or recorded on a server at another version"
    pg.psql("ALTER TABLE outbound_txs RENAME COLUMN seen_last TO last_seen")
    pg.psql(f"UPDATE fusion_meta SET value = '{latest}' WHERE key = 'server_version'")
    shutil.rmtree(home_b, ignore_errors=True)
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book action: ok")


def uiaction(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import json
    import re
    import signed_desk
    import tmuxh
    from anvil_ui import ENV, PASS, operator, travel_rule_off
    from anvil_ui import fusion as ufusion
    from sync_lib import A, Chain
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    t = tmuxh.Tmux("pgact", cols=120, rows=40)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)
    ufusion(home, "chain", "add", "--name", "local", "--chain-id", str(CHAIN), "--rpc",
            chain.node.url, "--factory", chain.factory, "--confirmations", "0")
    for name, (i, role) in {"alice": (0, "trader"), "bob": (2, "approver"),
                            "carol": (3, "approver"), "dave": (4, "compliance")}.items():
        operator(t, home, pw, name, i, role)
    travel_rule_off(home, "dave")
    payee = A[1]
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", payee)):
        ufusion(home, "--operator", "dave", "entity", "add", name, "--type", "company",
                "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        ufusion(home, "--operator", "dave", "entity", "link", name, "--chain", "local",
                "--address", who)
    escrow = json.loads(ufusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes",
                                "--json", "escrow", "create", "--payee", payee, "--token", "ETH",
                                "--amount", "1.5", "--approvers", "bob,carol", "--threshold",
                                "2", "--deadline", "7d", "--arbiter", A[4]))["escrow"]
    ufusion(home, "sync", "--once")
    ufusion(home, "case", "screen")
    ufusion(home, "--operator", "alice", "--passphrase-file", pw, "--yes", "escrow", "fund",
            escrow)
    ufusion(home, "sync", "--once")  # the funding in desk.db, which the UI's screens read
    # the book moves to the server (the escrows the UI lists are desk.db's, synced above)
    pg.add_role("desk", PASSWORD)
    r = fusion(home, "db", "migrate", "--to", pg.url_for(user="desk", password=PASSWORD))
    assert r.returncode == 0, f"db migrate: {r.stderr}"
    write_book(home, f"db = {pg.url_for(user='desk')}\n")
    signed_desk.for_home(tmuxh.FUSION_BIN, home).sign_config("book")
    before = pg.psql("SELECT count(*) FROM outbound_txs")[0][0]
    bob = A[2].lower()
    nonce0 = int(chain.node.rpc("eth_getTransactionCount", bob, "latest"), 16)

    # the UI's actions take the command line's bound of the wait for a lost server: a
    # malformed FUSION_BOOK_WAIT_S refuses the action in one line, nothing signed or sent
    w = tmuxh.Tmux("pgactw", cols=120, rows=40)
    w.start(f"{tmuxh.FUSION_BIN} --home {home} --operator bob",
            dict(ENV, PGPASSWORD=PASSWORD, FUSION_BOOK_WAIT_S="0"))
    w.wait_for("Fusion Prime Workstation", "the title bar")
    w.send("3")
    w.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "approve" in s and "0/2" in s,
               "the escrow waiting for bob on Approvals")
    w.send("Enter")
    refused = "FUSION_BOOK_WAIT_S takes seconds from 1 to 3600"
    for step in range(3):
        s = w.wait_for(lambda s: refused in s or "Passphrase of" in s or "Sign and send" in s,
                       "the refusal, or the next prompt on the way to it")
        if refused in s:
            break
        if "Sign and send" in s:
            w.send("y")
        else:
            w.type(PASS)
            w.send("Enter")
        w.wait_for(lambda x, s=s: x != s, "the next frame")
    w.check(refused in w.capture(), "the malformed FUSION_BOOK_WAIT_S refused the UI's action")
    w.send("q")
    w.wait_dead()
    w.close()
    assert int(chain.node.rpc("eth_getTransactionCount", bob, "latest"), 16) == nonce0, \
        "the UI sent a transaction with a malformed FUSION_BOOK_WAIT_S"
    assert pg.psql("SELECT count(*) FROM outbound_txs")[0][0] == before, \
        "the UI recorded a transaction with a malformed FUSION_BOOK_WAIT_S"

    t.start(f"{tmuxh.FUSION_BIN} --home {home} --operator bob", dict(ENV, PGPASSWORD=PASSWORD))
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("3")
    t.wait_for(lambda s: escrow[2:6].lower() in s.lower() and "approve" in s and "0/2" in s,
               "the escrow waiting for bob on Approvals")
    t.send("Enter")
    t.wait_for("Passphrase of", "the passphrase prompt")
    t.type(PASS)
    t.send("Enter")
    t.wait_for(lambda s: "Sign and send" in s, "the pre-sign summary")
    t.send("y")
    pat = re.compile(r"approve 0x[0-9a-fA-F]+: (mined|confirmed)")
    text = t.wait_for(lambda s: pat.search(s) is not None, "the approval's result")
    t.check(PASSWORD not in text, "password on the screen")
    t.send("q")
    t.check(t.wait_dead() == 0, "bob's UI exits with status 0")

    nonce = int(chain.node.rpc("eth_getTransactionCount", bob, "latest"), 16)
    assert nonce == nonce0 + 1, f"bob sent {nonce - nonce0} transactions"
    rows = pg.psql("SELECT id, hash, nonce, state, action FROM outbound_txs"
                   f" WHERE from_addr = '{bob}' ORDER BY id")
    assert int(pg.psql("SELECT count(*) FROM outbound_txs")[0][0]) == int(before) + 1 and \
        len(rows) == 1, f"the server's rows of bob: {rows}"
    rid, h, n, state, action = rows[0]
    tx = chain.node.rpc("eth_getTransactionByHash", h)
    assert tx and tx["from"].lower() == bob and int(tx["nonce"], 16) == int(n) == nonce0, \
        f"the server's row {rows[0]} is not the node's {tx}"
    assert action == "approve" and state in ("mined", "confirmed"), f"row {rows[0]}"
    import sqlite3
    con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
    local = con.execute("SELECT id, hash FROM outbound_txs WHERE hash = ?", (h,)).fetchall()
    con.close()
    assert local == [(int(rid), h)], f"desk.db's row {local}, the server's {rows[0]}"
    log(f"the UI's approval recorded on the server: tx {rid} {h[:18]}... nonce {n}")
    pg_sync.no_password([home])
    t.close()
    print("pg_book uiaction: ok")


def uioutbound(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh
    from desk_escrow import PAYEE
    from sync_lib import Chain
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    desk, home, env = operators_desk_on(pg, chain)
    home_b = tempfile.mkdtemp(prefix="fusion-pgbook-b-")  # another workstation, same book
    shutil.rmtree(home_b)
    shutil.copytree(home, home_b)

    t = tmuxh.Tmux("pgout", cols=140, rows=40)
    t.start(f"{tmuxh.FUSION_BIN} --home {home}", dict(os.environ, PGPASSWORD=PASSWORD))
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("0")
    t.wait_for("Outbound transactions", "the Outbound screen")

    # workstation B signs; A's screen lists it from the server
    r = fusion(home_b, "--operator", "alice", "--passphrase-file", desk.pw, "--yes", "escrow",
               "create", "--payee", PAYEE, "--token", "ETH", "--amount", "1000", "--approvers",
               "bob,carol", "--threshold", "2", "--deadline", "7d", env=env)
    assert r.returncode == 0, f"escrow create on workstation B: {r.stderr}"
    rows = pg.psql("SELECT id, hash FROM outbound_txs ORDER BY id")
    assert len(rows) == 1, f"the server's rows: {rows}"
    h = rows[0][1].lower()
    shown = h[:8]  # the Hash column: 0x and six digits, …, the last four
    t.wait_for(lambda s: shown in s.lower() and "create" in s,
               f"workstation B's transaction {shown} on A's Outbound screen")
    log(f"A's Outbound screen lists B's transaction {shown}")

    # the server stopped: the rows stay, the status line says why in one line, keys answer
    pg.pause()
    t.wait_for(lambda s: "transactions: book server unreachable" in t.status_line(),
               "the server away on the Outbound screen's status line")
    s = t.capture()
    t.check(shown in s.lower(), "the rows stay on the screen while the server is away")
    t.check(sum("unreachable" in x for x in t.lines()) == 1,
            "the server away said in one line")
    t.check(PASSWORD not in s, "password on the screen")
    log("  " + t.status_line().strip()[:160])
    t.send("1")
    t.wait_gone("Outbound transactions", "another screen while the server is away")
    t.send("0")
    t.wait_for(lambda s: "Outbound transactions" in s and shown in s.lower(),
               "the Outbound screen again, its rows kept")
    pg.resume()
    t.wait_for(lambda s: "transactions: the book" not in t.status_line() and shown in s.lower(),
               "the server back: the screen's rows read again, its status line clear")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    t.close()
    pg_sync.no_password([home, home_b])
    for hm in (home, home_b):
        shutil.rmtree(hm, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book uioutbound: ok")


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
    st, _, tx = api_lib.request(srv.conn(), "GET", "/v1/transactions", token=token)
    assert st == 200, f"GET /v1/transactions: {st} {tx}"
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
    # the outbound transactions are the server's too (every workstation's): away, a 503
    st, _, tx = api_lib.request(srv.conn(), "GET", "/v1/transactions", token=token)
    assert st == 503 and tx["detail"].startswith("book server unreachable"), (st, tx)
    assert PASSWORD not in json.dumps(tx)
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
    # the event stream: an escrow synced to the server now (by `fusion sync`, another
    # process) is streamed by /v1/events (the server's change feed followed)
    ev = api_lib.EventStream(srv, token)  # open: the service follows the server's feed
    before = set(want)
    pg_sync.make_history(chain, 1, 0)
    other.run("sync", "--once", "--quiet")
    fresh = {a.lower() for (a,) in other.query("SELECT address FROM escrows")} - before
    assert len(fresh) == 1, f"the new escrow: {fresh}"
    new = fresh.pop()

    def copied():
        import sqlite3
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        rows = con.execute("SELECT id FROM api_feed WHERE kind = 'escrow.created'"
                           " AND lower(ref) = ?", (new,)).fetchall()
        con.close()
        return rows

    pg_sync.wait_until(lambda: copied(), f"the escrow.created of {new} in the desk's feed", 120)
    ev.close()
    eid = copied()[0][0]
    ev = api_lib.EventStream(srv, token, last_id=eid - 1)
    ev.c.sock.settimeout(120)  # a bound on a stream that says nothing, not a timing check
    got, kind, data = ev.next(bound=120)
    assert (got, kind, data["ref"].lower(), data["chain_id"]) == \
        (eid, "escrow.created", new, CHAIN), (got, kind, data)
    ev.close()
    log(f"/v1/events streams the server's escrow.created of {new}")
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

def live(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh
    chain, desk, url = setup(pg, 2, 0)
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
    pg_sync.wait_until(lambda: "sync local: following" in pg_sync.read(errpath), "fusion sync", 120)
    t = tmuxh.Tmux("pglive", cols=160, rows=30)
    t.start(f"{FUSION} --home {home} --operator admin",
            env={"PGPASSWORD": PASSWORD, "FUSION_UI_POLL_S": "86400"})
    t.wait_for("Fusion Prime Workstation", "the title bar")
    logpath = os.path.join(home, "fusion.log")

    def status(s):
        lines = s.split("\n")
        return lines[t.rows - 2] if len(lines) >= t.rows else ""

    def announced():
        return pg_sync.read(logpath).count("after book announcement")

    t.send("2")
    t.wait_for(lambda s: " escrows " in status(s) and "/2" in status(s),
               "the Escrows screen: the server's two escrows")
    for n in (3, 4):
        before = announced()
        pg_sync.make_history(chain, 1, 0)  # the syncer commits it on the server, announced
        t.wait_for(lambda s: " escrows " in status(s) and f"/{n}" in status(s),
                   f"the Escrows screen: escrow {n}, on the server's announcement")
        assert announced() > before, "the frame did not follow an announcement"
        log(f"escrow {n} on the follower's screen, on the announcement")
        if n == 3:
            pg.restart()
            log("server restarted: every session ended")
    assert p.poll() is None, "fusion sync ended"
    p.terminate()
    assert p.wait(timeout=60) == 0, pg_sync.read(errpath)
    t.close()
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book live: ok")


def pages(pg):
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import fcntl
    import re
    import tmuxh
    chain, desk, url = setup(pg, 2, 0)
    home = desk.home
    write_book(home, f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync on the desk's server: {r.stderr}"
    cols = [x[0] for x in pg.psql("SELECT column_name FROM information_schema.columns"
                                  " WHERE table_name = 'escrows' ORDER BY ordinal_position")]
    gen = {"address": "'0x' || lpad(to_hex(g), 40, '0')", "created_block": "g",
           "last_event_block": "g"}
    pg.psql(f"INSERT INTO escrows ({', '.join(cols)}) SELECT "
            + ", ".join(gen.get(c, f"e.{c}") for c in cols)
            + " FROM (SELECT * FROM escrows ORDER BY address LIMIT 1) e,"
            " generate_series(1, 298) g")
    want = [x[0] for x in pg.psql("SELECT address FROM escrows ORDER BY created_block DESC,"
                                  " chain_id DESC, address COLLATE \"C\" DESC")]
    assert len(want) == 300, len(want)
    pg.psql("ALTER SYSTEM SET log_statement = 'all'")
    pg.psql("SELECT pg_reload_conf()")
    lock = open(os.path.join(home, "sync.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the UI follows: nothing else reads
    t = tmuxh.Tmux("pgpages", cols=160, rows=30)
    t.start(f"{FUSION} --home {home} --operator admin", env={"PGPASSWORD": PASSWORD})
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("2")
    t.wait_for("escrows 1/300", "the Escrows screen: 300 escrows")
    short = {}  # the screen's form of each address: its first and last hex digits
    for a in want:
        short[(a[2:6], a[-4:])] = a

    def walk(total, want, up=False, pause=False):
        screens = []  # the rows of each screen, top to bottom
        row = total if up else 1
        at = re.compile(r"escrows (\d+)/%d" % total)
        while True:
            if pause and row > 100:
                # mid-table, the UI's once-a-second look for others' commits comes (nothing
                # was committed): the window stays, the next one is read by key all the same;
                # then a commit to desk.db alone (an API client: the escrows are the server's),
                # which the UI sees and which leaves the window as read too
                time.sleep(3)
                add = ("api", "client", "add", "pause-reader", "--scope", "read")
                r = fusion(home, *desk.signed.sign_args(add), *add, env=env)
                assert r.returncode == 0, f"entity add: {r.stderr}"
                time.sleep(3)
                pause = False
            s = t.capture()
            screens.append([])
            for line in s.split("\n"):
                m = re.search(r"0x([0-9a-f]{4})\S*?([0-9a-f]{4})\b", line.lower())
                if m and (m.group(1), m.group(2)) in short:
                    screens[-1].append(short[(m.group(1), m.group(2))])
            if row >= total if not up else row <= 1:
                break
            t.send("PPage" if up else "NPage")
            s = t.wait_for(lambda x: at.search(x) and (int(at.search(x).group(1)) < row if up
                                                      else int(at.search(x).group(1)) > row),
                           f"{'PgUp' if up else 'PgDn'} from row {row}")
            row = int(at.search(s).group(1))
        seen = []
        for sc in (screens[::-1] if up else screens):  # walked up: the last screen on top
            seen += [a for a in sc if a not in seen]
        assert seen == want, f"the screen's order: {len(seen)} rows, first difference at " \
            f"{next((i for i, (x, y) in enumerate(zip(seen, want)) if x != y), len(seen))}"

    walk(300, want, pause=True)
    log("paged through 300 escrows: the server's order, each once")
    walk(300, want, up=True)
    log("paged up again: the same")
    t.wait_for("escrows 1/300", "PgUp to the top")
    t.send("G")  # from the top window to the last row: the last window, read reversed
    s = t.wait_for("escrows 300/300", "G: the last row")
    assert short[next((m.group(1), m.group(2)) for m in (
        re.search(r"0x([0-9a-f]{4})\S*?([0-9a-f]{4})\b", x.lower()) for x in s.split("\n")[::-1])
        if m and (m.group(1), m.group(2)) in short)] == want[-1], "G: not the last escrow"
    logged = open(os.path.join(pg.dir, "server.log"), errors="replace").read()
    assert "execute rd_page_0_1_0_kb" in logged, "no window was read up by key"
    assert "execute rd_page_0_1_0_b" in logged, "the last window was not read reversed"
    # filtered: the 298 clones (their address prefix), paged by key too
    t.send("/")
    t.type("0x00000000")
    t.send("Enter")
    t.wait_for("escrows 1/298", "the filter: 298 escrows")
    walk(298, [a for a in want if a.startswith("0x00000000")])
    log("paged through the filter's 298: the server's order, each once")
    logged = open(os.path.join(pg.dir, "server.log"), errors="replace").read()
    assert "execute rd_page_0_1_1_k" in logged, "no window of the filter was read by key"
    assert not re.search(r"execute rd_page_0_1_0:.*\n.*parameters: \$1 = '129', \$2 = '[1-9]",
                         logged), "a window was read at an OFFSET"
    assert "execute rd_page_0_1_0_k" in logged, "no window was read by key"
    log("the windows after the first were read by key")
    t.close()
    lock.close()
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book pages: ok")


MAX256 = str(2**256 - 1)


def hostile(pg):
    import sqlite3
    from sync_lib import A, Chain, Desk
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "lib"))
    import devchain
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    pg_sync.make_history(chain, 3, 0)
    desk, home, env = operators_desk_on(pg, chain)
    r = fusion(home, "sync", "--once", "--quiet", env=env)
    assert r.returncode == 0, f"sync on the desk's server: {r.stderr}"
    other = Desk()
    other.add_chain(chain, confirmations=0)
    other.run("sync", "--once", "--quiet")
    addrs = sorted(a.lower() for (a,) in other.query("SELECT address FROM escrows"))
    assert len(addrs) == 3, addrs

    def refused(r, what, want):
        out = r.stdout + r.stderr
        assert "\x1b" not in out and "\x07" not in out, f"{what}: an escape printed: {out!r}"
        one_line(r, 1, want, what)

    # money: 2^256-1 base units, on the server and in the SQLite desk, read the same
    pg.psql(f"UPDATE escrows SET amount = '{MAX256}', funded = '{MAX256}'"
            f" WHERE address = '{addrs[0]}'")
    con = sqlite3.connect(os.path.join(other.home, "desk.db"))
    con.execute("UPDATE escrows SET amount = ?, funded = ? WHERE address = ?",
                (MAX256, MAX256, addrs[0]))
    con.commit()
    con.close()
    r = fusion(home, "escrow", "list", "--json", env=env)
    assert r.returncode == 0, f"escrow list: {r.stderr}"
    srv = {x["address"].lower(): x for x in json.loads(r.stdout)}
    loc = {x["address"].lower(): x for x in json.loads(other.run("escrow", "list", "--json").stdout)}
    assert srv[addrs[0]]["amount"] == loc[addrs[0]]["amount"] and MAX256 in json.dumps(
        srv[addrs[0]]), f"2^256-1: the server's {srv[addrs[0]]}, the SQLite desk's {loc[addrs[0]]}"
    r1 = fusion(home, "escrow", "show", addrs[0], env=env)
    r2 = other.run("escrow", "show", addrs[0])

    def money(out):  # the amounts as shown (the operators' names differ between the desks)
        return [x for x in out.splitlines() if x.split(" ", 1)[0] in
                ("amount", "funded", "released", "refunded")]
    assert r1.returncode == 0 and money(r1.stdout) == money(r2.stdout) and \
        MAX256[:20] in r1.stdout, f"escrow show: {r1.stdout!r} {r2.stdout!r}"
    log("2^256-1 base units read back exactly from the server")

    # an anomaly with terminal escapes, a threshold beyond 32 bits: refused, named
    pg.psql(f"UPDATE escrows SET anomaly = E'\\x1b]0;pwned\\x07\\x1b[2J' WHERE address = '{addrs[1]}'")
    refused(fusion(home, "escrow", "list", env=env), "escrow list, escapes in an anomaly",
            "malformed escrow row")
    refused(fusion(home, "escrow", "show", addrs[1], env=env), "escrow show, escapes",
            "malformed escrow row")
    pg.psql(f"UPDATE escrows SET anomaly = NULL, threshold = 4294967298 WHERE address = '{addrs[1]}'")
    refused(fusion(home, "escrow", "list", env=env), "escrow list, a threshold of 2^32+2",
            "malformed escrow row")
    pg.psql(f"UPDATE escrows SET threshold = 2 WHERE address = '{addrs[1]}'")
    assert fusion(home, "escrow", "list", env=env).returncode == 0
    # an event's name with escapes: the escrow's timeline refused
    pg.psql("UPDATE events SET name = E'Funded\\x1b[2J' WHERE name = 'Funded'"
            f" AND escrow = '\\x{addrs[2][2:]}'")
    refused(fusion(home, "escrow", "show", addrs[2], env=env), "escrow show, escapes in an event",
            "malformed name")
    pg.psql("UPDATE events SET name = 'Funded' WHERE name LIKE 'Funded%'")
    log("malformed escrow rows refused in one line")

    # a transaction row with escapes in its action
    alice = A[0].lower()
    h = "0x" + "ab" * 32
    pg.psql("INSERT INTO outbound_txs (id, chain_id, from_addr, nonce, hash, raw, state, action,"
            f" created_at) VALUES (900001, {CHAIN}, '{alice}', 0, '{h}', '\\x00', 'mined',"
            " E'\\x1b[2Jpwn', 1)")
    refused(fusion(home, "tx", "list", env=env), "tx list, escapes in an action", "tx 900001")
    # the server's own error message is outside text too: escapes shown escaped (the
    # policy is tested on a row: that one)
    pg.psql("CREATE FUNCTION boom() RETURNS boolean LANGUAGE plpgsql AS"
            " $$BEGIN RAISE EXCEPTION E'boom\\x1b]0;pwned\\x07\\x1b[2J'; END$$;"
            " ALTER TABLE outbound_txs ENABLE ROW LEVEL SECURITY;"
            " ALTER TABLE outbound_txs FORCE ROW LEVEL SECURITY;"
            " CREATE POLICY boom ON outbound_txs USING (boom())")
    refused(fusion(home, "tx", "list", env=env), "tx list, escapes in the server's error", "boom")
    pg.psql("DROP POLICY boom ON outbound_txs; ALTER TABLE outbound_txs NO FORCE ROW LEVEL"
            " SECURITY; ALTER TABLE outbound_txs DISABLE ROW LEVEL SECURITY")
    pg.psql("DELETE FROM outbound_txs WHERE id = 900001")

    # the server holds another transaction under an id desk.db has: never believed (tx
    # list refuses, naming it) nor overwritten (tx check's push refuses, the server's row
    # as it was)
    mine, theirs = "0x" + "cd" * 32, "0x" + "ef" * 32
    con = sqlite3.connect(os.path.join(home, "desk.db"))
    con.execute("INSERT INTO outbound_txs (id, chain_id, from_addr, nonce, hash, raw, state,"
                " action, mined_block, created_at) VALUES (900003, ?, ?, 0, ?, x'00',"
                " 'confirmed', 'fund', 1, 1)", (CHAIN, alice, mine))
    con.commit()
    con.close()
    pg.psql("INSERT INTO outbound_txs (id, chain_id, from_addr, nonce, hash, raw, state, action,"
            f" mined_block, created_at) VALUES (900003, {CHAIN}, '{alice}', 0, '{theirs}',"
            " '\\x00', 'mined', 'release', 2, 1)")
    refused(fusion(home, "tx", "list", env=env), "tx list, another transaction under an id",
            "another transaction under id 900003")
    refused(fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "tx", "check",
                   env=env), "tx check, another transaction under an id",
            "another transaction under id 900003")
    rows = pg.psql("SELECT hash, state, action, mined_block FROM outbound_txs WHERE id = 900003")
    assert rows == [[theirs, "mined", "release", "2"]], f"the server's row was rewritten: {rows}"
    pg.psql("DELETE FROM outbound_txs WHERE id = 900003")
    con = sqlite3.connect(os.path.join(home, "desk.db"))
    con.execute("DELETE FROM outbound_txs WHERE id = 900003")
    con.commit()
    con.close()

    # a pending row put on the server by someone else: alice's own signed bytes for her
    # next nonce, never confirmed on this desk: `tx check` must not send them
    nonce = int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16)
    raw = subprocess.run([os.path.join(devchain.TOOLS, "cast"), "mktx", "--private-key",
                          devchain.KEYS[0], "--nonce", str(nonce), "--value", "7", "--gas-limit",
                          "21000", "--rpc-url", chain.node.url, A[1]],
                         capture_output=True, text=True, check=True).stdout.strip()
    txh = subprocess.run([os.path.join(devchain.TOOLS, "cast"), "keccak", raw],
                         capture_output=True, text=True, check=True).stdout.strip()
    pg.psql("INSERT INTO outbound_txs (id, chain_id, from_addr, nonce, hash, raw, state, action,"
            f" created_at) VALUES (900002, {CHAIN}, '{alice}', {nonce}, '{txh}',"
            f" '\\x{raw[2:]}', 'pending', 'fund', 1)")
    r = fusion(home, "tx", "list", "--json", env=env)
    assert r.returncode == 0 and txh in r.stdout, f"tx list: {r.stdout} {r.stderr}"
    r = fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "tx", "check", env=env)
    log(f"tx check: exit {r.returncode}: {(r.stdout + r.stderr).strip()[:200]}")
    assert chain.node.rpc("eth_getTransactionByHash", txh) is None, \
        "tx check sent bytes the operator never confirmed on this desk"
    assert int(chain.node.rpc("eth_getTransactionCount", alice, "pending"), 16) == nonce
    rows = pg.psql("SELECT state FROM outbound_txs WHERE id = 900002")
    assert rows == [["pending"]], f"the foreign row was rewritten: {rows}"
    assert PASSWORD not in r.stdout + r.stderr
    pg.psql("DELETE FROM outbound_txs WHERE id = 900002")

    # the server's answer to the recording (INSERT ... RETURNING id) is outside input too: a
    # trigger that swallows the row answers with no row: refused in one line, the server's
    # transaction rolled back, nothing sent, nothing recorded anywhere
    pg.psql("CREATE FUNCTION swallow() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RETURN NULL; END$$;"
            " CREATE TRIGGER swallow BEFORE INSERT ON outbound_txs FOR EACH ROW"
            " EXECUTE FUNCTION swallow()")
    before = pg.psql("SELECT count(*) FROM outbound_txs")
    r = fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "--yes", "escrow",
               "create", "--payee", A[1], "--token", "ETH", "--amount", "1000", "--approvers",
               "bob,carol", "--threshold", "2", "--deadline", "7d", env=env)
    refused(r, "escrow create, the server's answer without a row",
            "answered the recording of the transaction without its id")
    assert "nothing was sent" in r.stderr, r.stderr
    assert int(chain.node.rpc("eth_getTransactionCount", alice, "pending"), 16) == nonce, \
        "a transaction was sent though its recording was refused"
    assert pg.psql("SELECT count(*) FROM outbound_txs") == before
    con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
    assert con.execute("SELECT count(*) FROM outbound_txs").fetchone()[0] == 0
    con.close()
    pg.psql("DROP TRIGGER swallow ON outbound_txs; DROP FUNCTION swallow()")
    log("an answer without the row's id refused, nothing sent or recorded")
    pg_sync.no_password([home])
    for hm in (home, other.home):
        shutil.rmtree(hm, ignore_errors=True)
        shutil.rmtree(hm.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book hostile: ok")


def orphan(pg):
    """`fusion tx check` sweeps the orphan an action leaves when the server's COMMIT answer is
    lost and the server stays away past the bound: a pending row on the server, never sent,
    none in desk.db. The action run again takes its nonce; then tx check records the orphan
    dropped there, and leaves every row that may still be sent or is not this operator's."""
    from desk_escrow import PAYEE
    from sync_lib import A, Chain
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "lib"))
    import devchain
    chain = Chain(chain_id=CHAIN).start()
    chain.deploy()
    desk, home, env = operators_desk_on(pg, chain)
    alice, bob = A[0].lower(), A[2].lower()
    create = ["--operator", "alice", "--passphrase-file", desk.pw, "--yes", "escrow", "create",
              "--payee", PAYEE, "--token", "ETH", "--amount", "1000", "--approvers", "bob,carol",
              "--threshold", "2", "--deadline", "7d"]
    cast = os.path.join(devchain.TOOLS, "cast")

    def signed(key, nonce):
        raw = subprocess.run([cast, "mktx", "--private-key", key, "--nonce", str(nonce),
                              "--value", "7", "--gas-limit", "21000", "--rpc-url",
                              chain.node.url, A[1]],
                             capture_output=True, text=True, check=True).stdout.strip()
        h = subprocess.run([cast, "keccak", raw], capture_output=True, text=True,
                           check=True).stdout.strip()
        return raw, h

    def server_add(frm, nonce, raw, h, created):
        """A row as the action's recording leaves it (the server's id, pending)."""
        return pg.psql("INSERT INTO outbound_txs (chain_id, from_addr, nonce, hash, raw, state,"
                       f" action, created_at) VALUES ({CHAIN}, '{frm}', {nonce}, '{h}',"
                       f" '\\x{raw[2:]}', 'pending', 'create', {created}) RETURNING id")[0][0]

    def state(rid):
        return pg.psql(f"SELECT state FROM outbound_txs WHERE id = {rid}")[0][0]

    n0 = int(chain.node.rpc("eth_getTransactionCount", alice, "latest"), 16)
    # the orphan: alice's create for nonce n0, on the server, the desk's side gone with the
    # lost COMMIT answer (nothing in desk.db, nothing sent)
    raw, orphan_h = signed(devchain.KEYS[0], n0)
    orphan_id = server_add(alice, n0, raw, orphan_h, 1)
    # alice's bytes for the nonce after: still free once the action ran again (may be sent)
    raw, free_h = signed(devchain.KEYS[0], n0 + 1)
    free_id = server_add(alice, n0 + 1, raw, free_h, 1)
    # one recorded just now (a clock far ahead: younger than any bound), its nonce n0 too
    young_id = server_add(alice, n0, "0x00", "0x" + "5a" * 32, 4102444800)
    # another key's row (another workstation's operator), its nonce taken on the node
    chain.node.cast("send", "--private-key", devchain.KEYS[2], A[1], "--value", "1")
    raw, bob_h = signed(devchain.KEYS[2], 0)
    bob_id = server_add(bob, 0, raw, bob_h, 1)
    assert int(chain.node.rpc("eth_getTransactionCount", bob, "latest"), 16) == 1

    # the operator runs the action again: a new transaction for the same nonce
    r = fusion(home, *create, env=env)
    assert r.returncode == 0, f"escrow create again: {r.stderr}"
    mine = desk.query("SELECT id, nonce, hash FROM outbound_txs")
    assert len(mine) == 1 and mine[0][1] == n0, f"desk.db after the action again: {mine}"
    assert state(mine[0][0]) in ("mined", "confirmed")

    r = fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "tx", "check",
               env=dict(env, FUSION_BOOK_WAIT_S="1"))
    assert r.returncode == 0, f"tx check: {r.stdout} {r.stderr}"
    log("tx check: " + " / ".join(x[:150] for x in r.stdout.splitlines()))
    assert state(orphan_id) == "dropped", f"the orphan is {state(orphan_id)}"
    assert f"tx {orphan_id} {orphan_h} on the book server" in r.stdout and \
        "recorded dropped there" in r.stdout, r.stdout
    assert state(free_id) == "pending" and "its nonce is still free" in r.stdout, \
        f"alice's row with a free nonce is {state(free_id)}"
    assert state(young_id) == "pending", f"the young row is {state(young_id)}"
    assert state(bob_id) == "pending", f"another key's row is {state(bob_id)}"
    assert str(bob_id) not in [x.split()[1] for x in r.stdout.splitlines()
                               if x.startswith("tx ")], "tx check looked at another key's row"
    assert state(mine[0][0]) in ("mined", "confirmed")
    for h in (orphan_h, free_h, bob_h):
        assert chain.node.rpc("eth_getTransactionByHash", h) is None, f"{h} was sent"
    assert desk.query("SELECT count(*) FROM outbound_txs")[0][0] == 1, "desk.db took a row"
    # run again: nothing more to do, the dropped row stays dropped
    r = fusion(home, "--operator", "alice", "--passphrase-file", desk.pw, "tx", "check",
               env=dict(env, FUSION_BOOK_WAIT_S="1"))
    assert r.returncode == 0 and state(orphan_id) == "dropped" and \
        f"tx {orphan_id} " not in r.stdout, f"tx check again: {r.stdout} {r.stderr}"
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(home.rstrip("/") + "-pw", ignore_errors=True)
    print("pg_book orphan: ok")


def swap(pg):
    """The swap engine's own writes of its transactions' states (src/xswap: the receipt it
    follows) on a desk whose signed book.conf names the server: an HTLC swap (xswap_htlc's
    happy path on the demo's two devnet chains) ends with every one of its transactions
    mined or confirmed on the server as in desk.db, with no `fusion tx check`."""
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "integration"))
    import devnet_lib
    import xswap_htlc as xh
    home = tempfile.mkdtemp(prefix="fusion-pgbook-swap-")
    xh.PASSFILE = os.path.join(home + "-pass")
    with open(xh.PASSFILE, "w") as f:
        f.write("fusion-demo\n")
    os.chmod(xh.PASSFILE, 0o600)
    ports = ",".join(map(str, devnet_lib.free_ports(devnet_lib.N_CHAINS)))
    try:
        devnet_lib.fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports,
                          "--keep-devnet")
        admin = ["--operator", "admin", "--passphrase-file", xh.PASSFILE]
        devnet_lib.fusion(home, *admin, "operator", "roles", "bob", "--role", "approver,trader")
        pg.add_role("desk", PASSWORD)
        r = fusion(home, "db", "migrate", "--to", pg.url_for(user="desk", password=PASSWORD))
        assert r.returncode == 0, f"db migrate: {r.stderr}"
        before = {x[0] for x in pg.psql("SELECT id FROM outbound_txs")}
        write_book(home, f"db = {pg.url_for(user='desk')}\n")
        devnet_lib.fusion(home, *admin, "config", "sign", "book")
        devnet_lib.ENV["PGPASSWORD"] = PASSWORD
        xh.happy(home, xh.Desk(home))
        assert not devnet_lib.failures, f"the swap: {devnet_lib.failures}"
        srv = {x[0]: (x[1], x[2]) for x in pg.psql("SELECT id, hash, state FROM outbound_txs")
               if x[0] not in before}
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        local = {str(i): (h, st) for i, h, st in
                 con.execute("SELECT id, hash, state FROM outbound_txs")
                 if str(i) not in before}
        con.close()
        log(f"the swap's transactions on the server: {sorted(srv.values(), key=str)}")
        assert len(srv) >= 4, f"the swap's transactions on the server: {srv}"
        assert srv == local, f"the server {srv} and desk.db {local} differ"
        assert all(st in ("mined", "confirmed") for _, st in srv.values()), \
            f"a swap transaction's state did not reach the server: {srv}"
        pg_sync.no_password([home])
    finally:
        devnet_lib.fusion(home, "devnet", "down", rc=None)
    shutil.rmtree(home, ignore_errors=True)
    os.unlink(xh.PASSFILE)
    print("pg_book swap: ok")


def bridge(pg):
    """The bridge engine's writes of its transactions' states (src/bridge: the receipt of a
    step sent without waiting, which `bridge resume` finds) on a desk whose signed book.conf
    names the server: a CCTP transfer sent with --no-wait (its allowance approve and burn
    left `sent`), then resumed to delivered, and a CCIP transfer of WETH sent with --no-wait
    (approve and ccipSend), then resumed (--no-wait, no relayer) to committed, end with
    their transactions mined or confirmed on the server as in desk.db, with no `fusion tx
    check`; each of the CCIP route's in the block of the node's receipt."""
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "integration"))
    import bridge_cctp as bc
    import bridge_ccip as bcc
    import devnet_lib
    home = tempfile.mkdtemp(prefix="fusion-pgbook-bridge-")
    bc.PASSFILE = home + "-pass"
    with open(bc.PASSFILE, "w") as f:
        f.write("fusion-demo\n")
    os.chmod(bc.PASSFILE, 0o600)
    ports = ",".join(map(str, devnet_lib.free_ports(devnet_lib.N_CHAINS)))

    def server_rows():
        return {x[0]: (x[1], x[2], x[3], int(x[4] or 0)) for x in pg.psql(
            "SELECT id, hash, state, action, mined_block FROM outbound_txs") if x[0] not in before}

    try:
        devnet_lib.fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports,
                          "--keep-devnet")
        admin = ["--operator", "admin", "--passphrase-file", bc.PASSFILE]
        pg.add_role("desk", PASSWORD)
        r = fusion(home, "db", "migrate", "--to", pg.url_for(user="desk", password=PASSWORD))
        assert r.returncode == 0, f"db migrate: {r.stderr}"
        before = {x[0] for x in pg.psql("SELECT id FROM outbound_txs")}
        write_book(home, f"db = {pg.url_for(user='desk')}\n")
        devnet_lib.fusion(home, *admin, "config", "sign", "book")
        devnet_lib.ENV["PGPASSWORD"] = PASSWORD
        # alice has not approved the messenger: the send approves it, then burns, neither
        # waited for
        devnet_lib.fusion(home, *bc.send_args(), "--no-wait")
        tid = max(bc.transfers(home))
        burn = bc.transfers(home)[tid]["burn_tx"]
        assert pg.psql(f"SELECT state FROM outbound_txs WHERE hash = '{burn}'") == [["sent"]]
        devnet_lib.fusion(home, *bc.br("resume", str(tid)), timeout=300)
        t = bc.transfers(home)[tid]
        assert t["state"] == "delivered", f"the transfer: {t}"
        cctp = server_rows()
        assert sorted(a for _, _, a, _ in cctp.values()) == \
            ["bridge_allowance", "bridge_burn", "bridge_mint"], cctp
        assert all(st in ("mined", "confirmed") for _, st, _, _ in cctp.values()), \
            f"a CCTP transaction's state did not reach the server: {cctp}"
        # the CCIP route (WETH, the routers of `devnet up`), the network's relayer not run:
        # resume takes it to committed, the ccipSend's receipt found
        net = bcc.Net(home)
        src = "devnet-eth"
        devnet_lib.cast("send", "--rpc-url", net.url[src], "--private-key", bcc.DEPLOYER_KEY,
                        net.weth[src], "mint(address,uint256)", bc.ALICE, str(bcc.AMOUNT))
        ccip_args = ["--route", "ccip", "--asset", "WETH", "--from", src, "--to", "devnet-avax",
                     "--amount", "3", "--recipient", "alice"]
        devnet_lib.fusion(home, *bc.br("send", *ccip_args, "--no-wait"), timeout=300)
        cid = max(bc.transfers(home))
        for _ in range(100):
            devnet_lib.fusion(home, *bc.br("resume", "--no-wait", str(cid)), timeout=300)
            c = bc.transfers(home)[cid]
            if c["state"] != "sent":
                break
            time.sleep(0.3)
        assert c["protocol"] == "ccip" and c["state"] == "committed", f"the CCIP transfer: {c}"
        srv = server_rows()
        ccip = {i: v for i, v in srv.items() if i not in cctp}
        assert sorted(a for _, _, a, _ in ccip.values()) == ["bridge_allowance", "bridge_burn"] \
            and c["burn_tx"] in {h for h, _, _, _ in ccip.values()}, ccip
        bad = []
        for h, st, a, blk in ccip.values():
            rc = json.loads(devnet_lib.cast("receipt", "--json", "--rpc-url", net.url[src], h))
            want = int(rc["blockNumber"], 16) if isinstance(rc["blockNumber"], str) \
                else int(rc["blockNumber"])
            if not (st == "mined" and blk == want and rc["status"] in ("0x1", 1)):
                bad.append(f"{a}: {st} in block {blk}, the node's {want}")
        assert not bad, f"the CCIP route's transactions on the server: {bad}"
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        local = {str(i): (h, st, a, blk or 0) for i, h, st, a, blk in
                 con.execute("SELECT id, hash, state, action, mined_block FROM outbound_txs")
                 if str(i) not in before}
        con.close()
        log(f"the transfers' transactions on the server: {sorted(srv.values(), key=str)}")
        assert burn in {h for h, _, _, _ in srv.values()}, srv
        assert srv == local, f"the server {srv} and desk.db {local} differ"
        assert all(st in ("mined", "confirmed") for _, st, _, _ in srv.values()), \
            f"a bridge transaction's state did not reach the server: {srv}"
        pg_sync.no_password([home])
    finally:
        devnet_lib.fusion(home, "devnet", "down", rc=None)
    shutil.rmtree(home, ignore_errors=True)
    os.unlink(bc.PASSFILE)
    print("pg_book bridge: ok")


def ui_legs(pg, home, tid):
    """The terminal UI's Bridges screen (B) on the legs' desk: transfer tid, delivered by
    another relayer (a received leg on the server, desk.db's row still 'sent'), is shown
    delivered as `bridge list` shows it, read by the screen's worker; the server stopped: the
    row stays, the status line says the server is unreachable in one line, keys answer;
    started again: the status line clears."""
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh

    def row(state):
        def pred(s):
            lines = s.split("\n")
            got = [x for x in lines[3:30] if x.split()[:1] == [str(tid)]]
            return len(got) == 1 and f" {state} " in got[0] and lines[2].startswith(" Bridges")
        return pred

    t = tmuxh.Tmux("pglegs", cols=150, rows=40)
    try:
        t.start(f"{tmuxh.FUSION_BIN} --home {home} --operator alice",
                {"PGPASSWORD": PASSWORD, "FUSION_KDF": "interactive"})
        t.wait_for("operator alice", "the title")
        t.send("B")
        t.wait_for(row("delivered"), f"transfer {tid} delivered on the Bridges screen (the "
                   "server's legs; desk.db's row says sent)")
        log("the Bridges screen: " + [x for x in t.lines()[3:] if x.split()[:1] == [str(tid)]][0]
            .strip()[:120])
        pg.pause()
        t.wait_for(lambda s: "bridges: book server unreachable" in t.status_line(),
                   "the server away on the Bridges screen's status line")
        t.check(row("delivered")(t.capture()), "the rows stay while the server is away")
        t.check(sum("unreachable" in x for x in t.lines()) == 1,
                "the server away said in one line")
        t.check(PASSWORD not in t.capture(), "password on the screen")
        log("  " + t.status_line().strip()[:160])
        t.send("1")
        t.wait_for(lambda s: not s.split("\n")[2].startswith(" Bridges"),
                   "another screen while the server is away")
        t.send("B")
        t.wait_for(row("delivered"), "the Bridges screen again, its rows kept")
        pg.resume()
        t.wait_for(lambda s: "bridges: " not in t.status_line() and row("delivered")(s),
                   "the server back: the status line clear, the transfer delivered")
        t.send("q")
        t.check(t.wait_dead() == 0, "the UI exits with status 0")
    finally:
        t.close()


def ui_legs_other(home_b, burn):
    """The Bridges screen (B) of another workstation of the desk, whose desk.db never held
    the transfer: the server's delivered burn is a row, Id "-", its detail (Enter) saying
    another workstation burned it; R resumes nothing (not this desk's), nothing signed."""
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "ui"))
    import tmuxh

    def row(s):
        lines = s.split("\n")
        got = [x for x in lines[3:30] if x.split()[:1] == ["-"]]
        return len(got) == 1 and " delivered " in got[0] and lines[2].startswith(" Bridges")

    t = tmuxh.Tmux("pglegsb", cols=150, rows=40)
    try:
        t.start(f"{tmuxh.FUSION_BIN} --home {home_b} --operator alice",
                {"PGPASSWORD": PASSWORD, "FUSION_KDF": "interactive"})
        t.wait_for("operator alice", "the title")
        t.send("B")
        t.wait_for(row, "the other workstation's burn, delivered, on the Bridges screen (Id -)")
        log("workstation B's Bridges screen: " + [x for x in t.lines()[3:]
                                                  if x.split()[:1] == ["-"]][0].strip()[:120])
        t.send("Enter")
        t.wait_for(lambda s: "burned by another workstation (seen on the server)" in s
                   and burn in s, "the row's detail: another workstation's burn, its tx")
        t.send("Escape")
        t.wait_for(lambda s: "another workstation (seen on the server)" not in s and row(s),
                   "the detail closed")
        t.send("R")
        t.wait_for(lambda s: "not this desk's to resume" in s,
                   "R on another workstation's transfer: nothing to resume")
        t.check("Sign the mint" not in t.capture(), "a mint offered for another's transfer")
        t.send("q")
        t.check(t.wait_dead() == 0, "the UI exits with status 0")
    finally:
        t.close()


def legs(pg):
    """The bridge legs the chain sync records on a desk whose signed book.conf names the
    server (src/sync/bridge_legs.c, pg_sync.c put_legs; bridge_legs.py is the same on
    desk.db): a burn the desk does not see mined (sent with --no-wait while devnet-eth mines
    nothing), once mined, is a 'sent' leg on the server after `sync --once` of devnet-eth,
    with the burn's message; another relayer's delivery on devnet-avax is a 'received' leg
    of the same source domain and nonce after `sync --once` of devnet-avax; the mint's block
    reorged away (evm_snapshot / evm_revert and a longer branch), the next sync's rewind
    takes that leg back on the server and leaves the source's. `bridge list` and `show`
    read the legs there (burned, delivered, then back to burned), while desk.db's transfer
    stays as the send left it and its bridge_legs empty (the sync writes neither there).
    Another workstation of the desk, copied before the transfer, lists it too (`bridge
    list`, its Bridges screen: "source": "server", no id, as its risk report counts it).
    The risk report's value in flight is the burn's on both workstations; on the second
    (whose desk.db never held the transfer) the API's risk worker and the daily report's
    risk section agree with it, in flight and escrowed, and say the server away as the
    report does (503 book-unreachable; one line, exit 1, no file)."""
    sys.path.insert(0, os.path.join(pg_sync.ROOT, "tests", "integration"))
    import bridge_cctp as bc
    import bridge_legs as bl
    import devnet_lib
    home = tempfile.mkdtemp(prefix="fusion-pgbook-legs-")
    bc.PASSFILE = home + "-pass"
    with open(bc.PASSFILE, "w") as f:
        f.write("fusion-demo\n")
    os.chmod(bc.PASSFILE, 0o600)
    ports = ",".join(map(str, devnet_lib.free_ports(devnet_lib.N_CHAINS)))

    def sync(chain):
        devnet_lib.fusion(home, "sync", "--once", "--quiet", "--chain", chain, timeout=300)

    def desk_row(tid):
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        row = con.execute("SELECT state, message_hash, pending_action FROM bridge_transfers"
                          " WHERE id = ?", (tid,)).fetchone()
        con.close()
        return row

    def server_legs():
        return pg.psql("SELECT chain_id, leg, tx_hash, src_domain, nonce, encode(message, 'hex')"
                       " FROM bridge_legs ORDER BY block_number, event_id")

    home_b = None
    try:
        devnet_lib.fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports,
                          "--keep-devnet")
        pg.add_role("desk", PASSWORD)
        r = fusion(home, "db", "migrate", "--to", pg.url_for(user="desk", password=PASSWORD))
        assert r.returncode == 0, f"db migrate: {r.stderr}"
        write_book(home, f"db = {pg.url_for(user='desk')}\n")
        admin = ["--operator", "admin", "--passphrase-file", bc.PASSFILE]
        devnet_lib.fusion(home, *admin, "config", "sign", "book")
        devnet_lib.ENV["PGPASSWORD"] = PASSWORD
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        ids = dict(con.execute("SELECT name, chain_id FROM chains"))
        dev_url = con.execute("SELECT attestation_url FROM bridge_cctp").fetchone()[0]
        con.close()
        desk = bc.Desk(home)
        devnet_lib.cast("send", "--rpc-url", desk.url["devnet-eth"], "--private-key",
                        bc.ALICE_KEY, desk.usdc["devnet-eth"], "approve(address,uint256)",
                        desk.tm[0][0], str(10 * bc.AMOUNT))
        sync("devnet-eth")
        sync("devnet-avax")
        assert server_legs() == [], f"legs before any transfer: {server_legs()}"
        # another workstation of the desk on the same server, copied before the transfer:
        # its desk.db never holds it, its risk report sees it only on the server
        home_b = tempfile.mkdtemp(prefix="fusion-pgbook-legs-b-")
        shutil.rmtree(home_b)
        shutil.copytree(home, home_b)

        def others(h):
            """`bridge list --json`'s rows known only from the server's legs."""
            got = json.loads(devnet_lib.fusion(h, "bridge", "list", "--json").stdout)
            assert all(("id" in x) == (x["source"] == "desk") for x in got), got
            return [x for x in got if x["source"] == "server"]

        def in_flight(h):
            """The risk report's value in flight, (chain, amount) of each position."""
            rep = json.loads(devnet_lib.fusion(h, "--json", "risk", "report").stdout)
            return [(p["chain"], p["amount"]) for p in rep["positions"]
                    if p["kind"] == "bridge_in_flight"]

        # the source leg: the desk does not see its burn mined; the sync records it there
        bc.mining(desk, "devnet-eth", False)
        try:
            devnet_lib.fusion(home, *bc.send_args(), "--no-wait")
        finally:
            bc.mining(desk, "devnet-eth", True)
        tid = max(bc.transfers(home))
        burn = bc.transfers(home)[tid]["burn_tx"]
        rcpt = json.loads(devnet_lib.cast("receipt", "--json", "--rpc-url", desk.url["devnet-eth"],
                                          burn))
        # the burn's amount as the node logged it: MessageSent(bytes)'s message, body word 3
        sent_topic = devnet_lib.cast("keccak", "MessageSent(bytes)").strip()
        logged = [x["data"][2:] for x in rcpt["logs"] if x["topics"][0] == sent_topic]
        assert len(logged) == 1, f"the burn's MessageSent logs: {rcpt['logs']}"
        m = bytes.fromhex(logged[0])
        m = m[64:64 + int.from_bytes(m[32:64], "big")]
        burned = int.from_bytes(m[116 + 68:116 + 100], "big")
        log(f"the burn's amount in the node's log: {burned}")
        assert in_flight(home) == [] and in_flight(home_b) == [], \
            "in flight before the sync saw the burn"
        assert others(home_b) == [], f"workstation B lists a burn the sync has not seen: " \
            f"{others(home_b)}"
        sync("devnet-eth")
        got = server_legs()
        log(f"the legs on the server after the source's sync: {[x[:5] for x in got]}")
        assert len(got) == 1 and got[0][:3] == [str(ids["devnet-eth"]), "sent", burn], got
        src_domain, nonce, msg = got[0][3], got[0][4], got[0][5]
        assert len(msg) == 2 * 248, f"the burn's message: {msg}"
        # `bridge list` reads them there: burned, its burn no longer in flight
        t = bc.transfers(home)[tid]
        assert t["state"] == "sent" and t["message_hash"] and t["burn_block"] > 0 \
            and t["in_flight"] is None, f"bridge list after the source's sync: {t}"
        assert desk_row(tid) == ("sent", None, "bridge_burn"), \
            f"desk.db's transfer written by the sync: {desk_row(tid)}"
        # the risk report's value in flight is the server's legs' too, on this desk (whose
        # desk.db's transfer has no message) and on the other workstation (no transfer)
        want = [("devnet-avax", str(burned))]
        for h in (home, home_b):
            got_b = in_flight(h)
            log(f"in flight on {'workstation B' if h == home_b else 'the sender'}: {got_b}")
            assert got_b == want, f"the risk report's value in flight: {got_b}, wanted {want}"
        # workstation B's `bridge list` shows what its risk report counts: the burn, from
        # the server's legs (no desk id); the sender's lists only its own transfer
        o = others(home_b)
        log(f"workstation B's bridge list: {[(x['state'], x['amount'], x['note']) for x in o]}")
        assert len(o) == 1 and o[0]["state"] == "sent" and o[0]["amount"] == str(burned) \
            and o[0]["burn_tx"] == burn and o[0]["message_hash"] == t["message_hash"] \
            and o[0]["src_chain"] == "devnet-eth" and o[0]["dst_chain"] == "devnet-avax" \
            and o[0]["mint_tx"] is None and "another workstation" in o[0]["note"], \
            f"workstation B's bridge list in flight: {o}"
        text = devnet_lib.fusion(home_b, "bridge", "list").stdout.split("\n")
        rows_b = [x for x in text[1:] if x.strip()]
        assert len(rows_b) == 1 and rows_b[0].split()[:2] == ["-", "sent"] \
            and "by another workstation (seen on the server)" in rows_b[0], \
            f"workstation B's bridge list (text): {text}"
        assert [x["source"] for x in json.loads(devnet_lib.fusion(
            home, "bridge", "list", "--json").stdout)] == ["desk"], "the sender's bridge list"

        # the destination leg: another relayer delivers the message
        mh = devnet_lib.cast("keccak", "0x" + msg).strip()
        a = bl.attestation(dev_url, mh)
        assert a is not None, "the attestation service attests the burn"
        url = desk.url["devnet-avax"]
        snap = devnet_lib.cast("rpc", "--rpc-url", url, "evm_snapshot").strip().strip('"')
        out = devnet_lib.cast("send", "--json", "--rpc-url", url, "--private-key",
                              bl.RELAYER_KEY, desk.mt[0][0], "receiveMessage(bytes,bytes)",
                              "0x" + msg, a)
        relayed = json.loads(out)["transactionHash"]
        sync("devnet-avax")
        got = server_legs()
        log(f"the legs on the server after the destination's sync: {[x[:5] for x in got]}")
        assert len(got) == 2 and got[1][:5] == [str(ids["devnet-avax"]), "received", relayed,
                                                src_domain, nonce] and got[1][5] == "", got
        t = bc.transfers(home)[tid]
        assert t["state"] == "delivered" and t["mint_tx"] == relayed, \
            f"bridge list after the destination's sync: {t}"
        show = json.loads(devnet_lib.fusion(home, "bridge", "show", str(tid), "--json").stdout)
        show = show[0] if isinstance(show, list) else show
        assert show["state"] == "delivered" and show["mint_tx"] == relayed, \
            f"bridge show after the destination's sync: {show}"
        assert in_flight(home) == [] and in_flight(home_b) == [], \
            "in flight after the delivery was synced"
        o = others(home_b)
        assert len(o) == 1 and o[0]["state"] == "delivered" and o[0]["mint_tx"] == relayed \
            and o[0]["amount"] == str(burned), f"workstation B's bridge list delivered: {o}"
        ui_legs(pg, home, tid)
        ui_legs_other(home_b, burn)

        # the mint's block reorged away: the rewind takes its leg back on the server
        assert devnet_lib.cast("rpc", "--rpc-url", url, "evm_revert", snap).strip() == "true"
        for _ in range(4):
            devnet_lib.cast("rpc", "--rpc-url", url, "evm_mine")
        sync("devnet-avax")
        after = server_legs()
        log(f"the legs on the server after the reorg: {[x[:5] for x in after]}")
        assert after == got[:1], f"the reorged leg is still on the server: {after}"
        t = bc.transfers(home)[tid]
        assert t["state"] == "sent" and not t["mint_tx"] and t["message_hash"], \
            f"bridge list after the reorg: {t}"
        assert in_flight(home) == want and in_flight(home_b) == want, \
            "in flight again once the mint's block was reorged away"
        o = others(home_b)
        assert len(o) == 1 and o[0]["state"] == "sent" and o[0]["mint_tx"] is None, \
            f"workstation B's bridge list after the reorg: {o}"
        # workstation B's API risk worker (`fusion serve`) and its daily report's risk
        # section read the book as `fusion risk report` does: the same value in flight and
        # escrowed totals (src/cli/risk_cli.c risk_cli_book)
        import api_lib

        def risk_parts(rep):
            """(in flight, escrowed) of a risk snapshot's JSON: (chain, asset, amount)."""
            return ([(p["chain"], p["amount"]) for p in rep["positions"]
                     if p["kind"] == "bridge_in_flight"],
                    sorted((p["chain"], p["asset"], p["kind"], p["amount"])
                           for p in rep["positions"] if p["kind"].startswith("escrow_")))

        # an escrow the sender's desk creates and funds now (alice pays): synced to the
        # server, never in workstation B's desk.db, locked value in B's risk report
        alice = ["--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes"]
        made = json.loads(devnet_lib.fusion(
            home, *alice, "--json", "escrow", "create", "--chain", "devnet-eth", "--payee",
            "0x976ea74026e726554db657fa54763abd0c3a0aa9", "--token", "ETH", "--amount", "0.25",
            "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d").stdout)
        esc = made["escrow"].lower()
        sync("devnet-eth")  # the fund's compliance gate screens the escrow's parties
        devnet_lib.fusion(home, *alice, "escrow", "fund", esc, "--chain", "devnet-eth")
        sync("devnet-eth")
        con = sqlite3.connect(f"file:{home_b}/desk.db?mode=ro", uri=True, timeout=30)
        assert con.execute("SELECT count(*) FROM escrows WHERE lower(address) = ?",
                           (esc,)).fetchone()[0] == 0, "workstation B's desk.db has the escrow"
        con.close()
        cli_parts = risk_parts(json.loads(
            devnet_lib.fusion(home_b, "--json", "risk", "report").stdout))
        log(f"workstation B's risk report: in flight {cli_parts[0]}, escrowed {cli_parts[1]}")
        assert cli_parts[0] == want, cli_parts
        locked = [x for x in cli_parts[1] if x[2] == "escrow_locked"]
        assert ("devnet-eth", "ETH", "escrow_locked", str(25 * 10**16)) in locked, \
            f"the funded escrow's locked value in B's risk report: {cli_parts[1]}"
        token = json.loads(devnet_lib.fusion(home_b, *admin, "--json", "api", "client", "add",
                                             "risk", "--scope", "read").stdout)["token"]
        srv = api_lib.Server.__new__(api_lib.Server)
        srv.home = home_b
        srv.sock = os.path.join(home_b, "api.sock")
        srv.errpath = os.path.join(home_b, "serve.stderr")
        srv.err = open(srv.errpath, "wb")
        srv.proc = subprocess.Popen([FUSION, "--home", home_b, "serve", "--risk-every", "1"],
                                    stdout=subprocess.DEVNULL, stderr=srv.err,
                                    env=devnet_lib.ENV)
        pg_sync._procs.append(srv.proc)
        pg_sync.wait_until(lambda: "serving on" in pg_sync.read(srv.errpath)
                           or srv.proc.poll() is not None, "fusion serve", 60)
        assert srv.proc.poll() is None, pg_sync.read(srv.errpath)

        def api_risk(path="/v1/risk"):
            st, hd, body = api_lib.request(srv.conn(), "GET", path, token=token)
            return st, hd, body

        # the worker's first snapshot (made after the start, so after the reorg's sync)
        pg_sync.wait_until(lambda: api_risk()[0] != 503, "the API's first risk snapshot", 300)
        st, _, body = api_risk()
        assert st == 200, f"GET /v1/risk: {st} {body}"
        log(f"the API's risk: in flight {risk_parts(body)[0]}")
        assert risk_parts(body) == cli_parts, \
            f"GET /v1/risk: {risk_parts(body)}, `fusion risk report`: {cli_parts}"
        st, _, pf = api_risk("/v1/portfolio")
        assert st == 200 and risk_parts(pf) == cli_parts, \
            f"GET /v1/portfolio: {st} {risk_parts(pf) if st == 200 else pf}"
        out_b = os.path.join(home_b, "daily")
        rd = json.loads(devnet_lib.fusion(home_b, "--json", "report", "daily", "--out",
                                          out_b).stdout)
        day = [f for f in os.listdir(out_b) if f.endswith(".json")]
        assert len(day) == 1, f"the daily report's files: {os.listdir(out_b)} ({rd})"
        with open(os.path.join(out_b, day[0])) as f:
            daily = json.load(f)
        log(f"the daily report's risk: in flight {risk_parts(daily['risk'])[0]}")
        assert risk_parts(daily["risk"]) == cli_parts, \
            f"report daily's risk: {risk_parts(daily['risk'])}, `fusion risk report`: {cli_parts}"

        # the server away: the risk report says so in one line, never a value in flight of 0;
        # so do the daily report (exit 1, nothing written) and the API (503, as its other
        # reads of the book), never the snapshot from before
        pg.pause()
        try:
            r = fusion(home_b, "--json", "risk", "report", env=devnet_lib.ENV)
            away_out = os.path.join(home_b, "daily-away")
            rr = fusion(home_b, "report", "daily", "--out", away_out, env=devnet_lib.ENV)
            pg_sync.wait_until(lambda: api_risk()[0] == 503, "the API's risk, the server away",
                               120)
            away = [api_risk(path) for path in ("/v1/risk", "/v1/portfolio")]
        finally:
            pg.resume()
        lines = rr.stderr.strip().split("\n")
        log(f"the daily report with the server away: exit {rr.returncode}: {lines}")
        assert rr.returncode == 1 and rr.stdout == "" and len(lines) == 1 \
            and "book server unreachable" in lines[0] and PASSWORD not in rr.stderr, \
            f"report daily with the server away: {rr.returncode} {rr.stdout!r} {rr.stderr!r}"
        assert os.listdir(away_out) == [], f"written with the server away: {os.listdir(away_out)}"
        for st, hd, body in away:
            log(f"the API's risk with the server away: {st} {body}")
            assert st == 503 and body["type"].endswith("/book-unreachable") \
                and body["detail"].startswith("book server unreachable") \
                and hd.get("retry-after") == "5" and PASSWORD not in json.dumps(body), \
                f"the API's risk with the server away: {st} {hd} {body}"
        # back: the API answers the book's figures again
        pg_sync.wait_until(lambda: api_risk()[0] == 200, "the API's risk, the server back", 120)
        assert risk_parts(api_risk()[2]) == cli_parts, risk_parts(api_risk()[2])
        srv.proc.terminate()
        assert srv.proc.wait(timeout=60) == 0, pg_sync.read(srv.errpath)
        srv.err.close()
        lines = r.stderr.strip().split("\n")
        log(f"the risk report with the server away: exit {r.returncode}: {lines}")
        assert r.returncode == 1 and r.stdout == "" and len(lines) == 1 \
            and "book server unreachable" in lines[0] and PASSWORD not in r.stderr, \
            f"the risk report with the server away: {r.returncode} {r.stdout!r} {r.stderr!r}"
        con = sqlite3.connect(f"file:{home}/desk.db?mode=ro", uri=True, timeout=30)
        local = con.execute("SELECT count(*) FROM bridge_legs").fetchone()[0]
        con.close()
        assert local == 0, f"{local} bridge legs in desk.db"
        pg_sync.no_password([home, home_b])
    finally:
        devnet_lib.fusion(home, "devnet", "down", rc=None)
    shutil.rmtree(home, ignore_errors=True)
    if home_b:
        shutil.rmtree(home_b, ignore_errors=True)
    os.unlink(bc.PASSFILE)
    print("pg_book legs: ok")


def chains(pg):
    chain, desk, url = setup(pg, 1, 2)
    home = desk.home
    write_book(home, f"db = {pg.url_for(user='desk')}\n")
    desk.signed.sign_config("book")
    os.environ["PGPASSWORD"] = PASSWORD  # what each workstation gives, not the file
    two = pg_sync.Chain(chain_id=CHAIN + 1).start()
    two.deploy()
    pg_sync.make_history(two, 1, 0)
    tid = two.chain_id

    def add():
        return desk.run("chain", "add", "--name", "two", "--chain-id", tid, "--rpc",
                        two.node.url, "--factory", two.factory, "--confirmations", 0,
                        check=False)

    def on_desk():
        return desk.query("SELECT name FROM chains WHERE chain_id = ?", tid)

    def on_server():
        return pg.psql(f"SELECT name, confirmations FROM chains WHERE chain_id = {tid}",
                       db="desk")

    # the server away: refused, one line, nothing written to either
    pg.pause()
    r = add()
    one_line(r, 1, "chain two not added: cannot connect to postgresql://desk@/desk", "add away")
    assert not on_desk(), "desk.db has the chain the server refused"
    pg.resume()
    assert not on_server(), "the server has the chain"

    # the server has the id under another name: refused, nothing written
    pg.psql(f"INSERT INTO chains (chain_id, name, confirmations, created_at) VALUES "
            f"({tid}, 'elsewhere', 0, 1)", db="desk")
    r = add()
    one_line(r, 1, 'has chain 31338 as "elsewhere" with 0 confirmations', "add mismatch")
    assert not on_desk(), "desk.db has the chain the server refused"
    # as this desk adds it (another workstation added it): this desk joins it
    pg.psql(f"UPDATE chains SET name = 'two' WHERE chain_id = {tid}", db="desk")
    r = add()
    assert r.returncode == 0, f"add: {r.stderr}"
    assert on_desk() == [("two",)] and on_server() == [["two", "0"]], (on_desk(), on_server())
    pg.psql(f"DELETE FROM chains WHERE chain_id = {tid}", db="desk")
    desk.run("chain", "remove", "two")
    # the factory's contracts row is written in the chains row's server transaction: the
    # server refusing it (the test's trigger) leaves neither written, nor desk.db's chain
    pg.psql("CREATE FUNCTION no_factory() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
            " RAISE EXCEPTION 'no factory today'; END $f$;"
            " CREATE TRIGGER no_factory BEFORE INSERT ON contracts FOR EACH ROW"
            " EXECUTE FUNCTION no_factory()", db="desk")
    r = add()
    one_line(r, 1, "chain two not added: the book on postgresql://desk@/desk",
             "add, the factory refused")
    assert "adding the chain's factory: ERROR:  no factory today" in r.stderr, r.stderr
    assert not on_desk() and not on_server(), (on_desk(), on_server())
    pg.psql("DROP TRIGGER no_factory ON contracts; DROP FUNCTION no_factory()", db="desk")
    r = add()
    assert r.returncode == 0, f"add: {r.stderr}"
    assert on_server() == [["two", "0"]], on_server()
    local_k = desk.query("SELECT kind, address, deployed_block, version FROM contracts"
                         " WHERE chain_id = ?", tid)
    server_k = pg.psql(f"SELECT kind, address, deployed_block, version FROM contracts"
                       f" WHERE chain_id = {tid}", db="desk")
    assert [[str(x) for x in row] for row in local_k] == server_k and \
        server_k[0][:2] == ["factory", two.factory.lower()], \
        f"the factory's row: desk.db {local_k}, the server {server_k}"

    # the sync takes it onto the server
    desk.run("sync", "--once")
    assert checkpoint(pg, "desk") >= 0
    n = pg.psql(f"SELECT count(*) FROM events WHERE chain_id = {tid}", db="desk")[0][0]
    assert int(n) > 0, "no events of the added chain on the server"
    assert local_events(home) == 0, "events written to desk.db"

    # removed with the server away: refused, one line, both still have it
    pg.pause()
    r = desk.run("chain", "remove", "two", check=False)
    one_line(r, 1, "chain two not removed: cannot connect to postgresql://desk@/desk",
             "remove away")
    assert on_desk() == [("two",)], "desk.db lost the chain the server did not"
    pg.resume()
    assert on_server(), "the server lost the chain"
    desk.run("chain", "remove", "two")
    assert not on_desk() and not on_server()
    for t in ("events", "blocks", "checkpoints", "escrows"):
        left = pg.psql(f"SELECT count(*) FROM {t} WHERE chain_id = {tid}", db="desk")[0][0]
        assert int(left) == 0, f"{left} rows of the removed chain in the server's {t}"
    assert pg.psql(f"SELECT count(*) FROM events WHERE chain_id = {CHAIN}", db="desk")[0][0] \
        != "0", "the other chain's events went too"
    pg_sync.no_password([home])
    shutil.rmtree(home, ignore_errors=True)
    print("pg_book chains: ok")


def main(argv):
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap")
        return 1
    need_artifacts()
    return pg_sync.run_mode({"conf": conf, "ui": ui, "cli": cli, "action": action,
                             "uiaction": uiaction, "uioutbound": uioutbound, "reads": reads,
                             "live": live, "pages": pages, "hostile": hostile, "orphan": orphan,
                             "swap": swap, "bridge": bridge, "legs": legs,
                             "chains": chains}[argv[0] if argv else "conf"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
