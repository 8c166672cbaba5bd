"""sync_lib.py: shared pieces of the sync integration tests.

A desk in a temp directory driven through the real `fusion` binary, an anvil node with
the escrow contracts from data/contracts (the contracts issue's artifacts), escrow
actions sent by Foundry's `cast` (an independent client) or, for bulk, by plain
eth_sendTransaction with calldata from `cast calldata`, and the comparison that every
sync test ends with: the desk's events table against the node's own eth_getLogs.

The same tests run with the book on a PostgreSQL server: under `tests/lib/pg.py run --`
(FUSION_TEST_PG names a real server started for the test), each desk, once its chain is
configured, gets a database of its own on that server (`fusion db migrate --to` it, then a
signed book.conf naming it: the desk's own choice, as an operator makes it), so that its
chain threads keep the events, block hashes, checkpoints and escrow projection there;
the reads below (events, checkpoint, duplicates, the escrow count) then read the server.
"""
import atexit
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import devchain  # noqa: E402
from signed_desk import SignedDesk  # noqa: E402

FUSION = os.environ.get("FUSION_BIN") or os.path.join(ROOT, "build", "fusion")
ARTIFACTS = os.environ.get("FUSION_CONTRACTS_DIR") or os.path.join(ROOT, "data", "contracts")
A = devchain.ACCOUNTS
ZERO = "0x" + "00" * 20
CREATE_SIG = "createEscrow(address,address,uint256,address[],uint256,address,uint64)"
SKIP = 77
# A real PostgreSQL server for the desks' books (tests/lib/pg.py run): None for desk.db.
SERVER = os.environ.get("FUSION_TEST_PG")
PSQL = os.path.join(os.environ.get("FUSION_PG_BIN") or "/usr/lib/postgresql/15/bin", "psql")


def log(msg):
    print(msg, flush=True)


def need_artifacts():
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        log(f"skip: no contract artifacts in {ARTIFACTS} (the contracts issue builds them)")
        sys.exit(SKIP)


def artifact(name):
    with open(os.path.join(ARTIFACTS, name + ".json")) as fh:
        return json.load(fh)


def wait_until(pred, what, timeout=90.0, interval=0.05):
    """Polls pred() until it is truthy; a bound for failure, not a timing assertion."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def cast(*args):
    """cast without a node (encoding, hashing)."""
    return subprocess.run([os.path.join(devchain.TOOLS, "cast"), *map(str, args)], check=True,
                          capture_output=True, text=True).stdout.strip()


_topic_cache = {}


def topic(sig):
    if sig not in _topic_cache:
        _topic_cache[sig] = subprocess.run(
            [os.path.join(devchain.TOOLS, "cast"), "keccak", sig], check=True,
            capture_output=True, text=True).stdout.strip()
    return _topic_cache[sig]


class Chain:
    """An anvil node with an EscrowFactory on it."""

    def __init__(self, chain_id=31337, **kw):
        self.node = devchain.Anvil(chain_id=chain_id, **kw)
        self.chain_id = chain_id
        self.factory = None
        self._calldata = {}

    def start(self):
        self.node.start()
        return self

    def deploy(self):
        need_artifacts()
        self.factory = self.node.deploy(artifact("EscrowFactory")["bytecode"])
        return self.factory

    def cast_send(self, sender, to, sig, *args, value=None):
        extra = ["--value", str(value)] if value else []
        out = self.node.cast("send", "--unlocked", "--from", sender, to, sig, *args, *extra,
                             "--json")
        r = json.loads(out)
        if int(r["status"], 16) != 1:
            raise AssertionError(f"{sig} reverted: {r}")
        return r

    def calldata(self, sig, *args):
        key = (sig,) + tuple(args)
        if key not in self._calldata:
            self._calldata[key] = subprocess.run(
                [os.path.join(devchain.TOOLS, "cast"), "calldata", sig, *map(str, args)],
                check=True, capture_output=True, text=True).stdout.strip()
        return self._calldata[key]

    def create_escrow(self, payer=0, payee=1, approvers=(2, 3, 4), threshold=2, arbiter=5,
                      amount=10**18, token=ZERO, deadline=None, via="cast"):
        deadline = deadline or int(time.time()) + 30 * 86400
        appr = "[" + ",".join(A[i] for i in approvers) + "]"
        args = (A[payee], token, str(amount), appr, str(threshold), A[arbiter], str(deadline))
        if via == "cast":
            r = self.cast_send(A[payer], self.factory, CREATE_SIG, *args)
        else:
            r = self.node.send(self.factory, self.calldata(CREATE_SIG, *args), sender=A[payer])
            if int(r["status"], 16) != 1:
                raise AssertionError(f"createEscrow reverted: {r}")
        created = [lg for lg in r["logs"]
                   if lg["topics"][0] == topic("EscrowCreated(address,address,address,address,"
                                               "uint256,address[],uint256,address,uint64)")]
        return "0x" + created[0]["topics"][1][-40:]

    def act(self, escrow, who, sig, *args, value=None, via="cast"):
        if via == "cast":
            return self.cast_send(A[who], escrow, sig, *args, value=value)
        r = self.node.send(escrow, self.calldata(sig, *args), sender=A[who], value=value or 0)
        if int(r["status"], 16) != 1:
            raise AssertionError(f"{sig} reverted")
        return r

    def escrow_addresses(self):
        created = topic("EscrowCreated(address,address,address,address,uint256,address[],"
                        "uint256,address,uint64)")
        logs = self.node.logs([self.factory], 0, "latest", [created])
        return ["0x" + lg["topics"][1][-40:] for lg in logs]

    def watched_logs(self):
        """The node's own answer: every log of the factory and of the escrows it made."""
        addrs = [self.factory] + self.escrow_addresses()
        out = set()
        for i in range(0, len(addrs), 500):
            for lg in self.node.logs(addrs[i:i + 500], 0, "latest"):
                out.add(log_key(lg["blockHash"], lg["logIndex"], lg["blockNumber"],
                                lg["address"], lg["topics"], lg["data"]))
        return out


def hexb(b):
    """A blob column of the events table as the node prints it."""
    return "0x" + bytes(b).hex()


def log_key(block_hash, log_index, block_number, address, topics, data):
    if isinstance(log_index, str):
        log_index = int(log_index, 16)
    if isinstance(block_number, str):
        block_number = int(block_number, 16)
    return (block_hash.lower(), log_index, block_number, address.lower(),
            tuple(t.lower() for t in topics), data.lower())


_followers = []


def _stop_followers():
    """A test that fails half-way must not leave `fusion sync` running."""
    for p in _followers:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_stop_followers)

# The desks' homes (and their signers' password folders, <home>-pw): removed when the test
# ends well (exit 0, or SKIP), kept after a failure (an uncaught exception, sys.exit with
# another code) for debugging, their paths printed then. Desk(keep=True) keeps one always
# (a bench whose desk another tool reads next).
_homes = []
_failed = []
_owner = os.getpid()  # a forked child's exit is not the test's end
_excepthook = sys.excepthook
_exit = sys.exit


def _note_exception(kind, value, tb):
    _failed.append(kind.__name__)
    _excepthook(kind, value, tb)


def _note_exit(code=None):
    if code not in (None, 0, SKIP):
        _failed.append(f"exit {code}")
    _exit(code)


sys.excepthook = _note_exception
sys.exit = _note_exit


def _end_homes():
    if os.getpid() != _owner or not _homes:
        return
    _stop_followers()  # nothing may still write in a home being removed
    if _failed:
        for home in filter(os.path.isdir, _homes):
            print(f"the test failed ({_failed[0]}): kept for debugging: {home}", file=sys.stderr,
                  flush=True)
        return
    for home in _homes:
        shutil.rmtree(home, ignore_errors=True)


atexit.register(_end_homes)


class Desk:
    """A desk home in a temp directory, driven through the fusion binary."""

    def __init__(self, keep=False):
        self.home = tempfile.mkdtemp(prefix="fusion-sync-test-")
        self.follower = None
        self.signed = SignedDesk(FUSION, self.home)
        if not keep:
            _homes.extend((self.home, self.signed.pwdir))
        self.book = None  # the desk's database on SERVER, once made

    def book_on_server(self):
        """With SERVER: the desk's book moves to a database of its own there, once its
        first chain is configured (`chain add` adds a later one to the server too).
        add_chain calls it; a test that adds its chain itself calls it next."""
        if not SERVER or self.book:
            return
        name = "desk_" + os.path.basename(self.home).rsplit("-", 1)[-1].lower()
        head, tail = SERVER.split("@/", 1)
        url = f"{head}@/{name}?{tail.split('?', 1)[1]}"
        self._psql(SERVER, f"CREATE DATABASE {name}")
        r = subprocess.run([FUSION, "--home", self.home, "db", "migrate", "--to", url],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise AssertionError(f"fusion db migrate --to the test's server: {r.stderr.strip()}")
        with open(os.path.join(self.home, "book.conf"), "w") as f:
            f.write(f"db = {url}\n")
        os.chmod(os.path.join(self.home, "book.conf"), 0o600)
        self.signed.sign_config("book")
        self.book = url
        log(f"the desk's book is on the test's server, database {name}")

    @staticmethod
    def _psql(url, sql):
        r = subprocess.run([PSQL, "-X", "-q", "-A", "-t", "-F", "\x1f", "-v", "ON_ERROR_STOP=1",
                            "-d", url, "-c", sql], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError(f"psql: {r.stderr.strip()}")
        return [line.split("\x1f") for line in r.stdout.splitlines() if line != ""]

    def server_rows(self, sql):
        """Rows of the desk's book on the server, every field as psql prints it (text)."""
        return self._psql(self.book, sql)

    def book_query(self, sql):
        """Rows of a query on the desk's book wherever it is: desk.db (SQLite's values) or
        the server (every field as text): for comparing two desks of one backend."""
        return self.server_rows(sql) if self.book else self.query(sql)

    def escrow_rows(self, cols, address=None):
        """Columns of the book's escrows (every one, or the one at address) wherever the
        book is: desk.db's values, or the server's, every field as text."""
        where = ""
        if address is not None:
            a = address.lower()
            if len(a) != 42 or not a.startswith("0x") or any(
                    ch not in "0123456789abcdef" for ch in a[2:]):
                raise AssertionError(f"not an address: {address!r}")
            where = f" WHERE address = '{a}'"
        return self.book_query(f"SELECT {cols} FROM escrows{where}")

    def escrow_count(self, address=None):
        """How many escrows the book holds (at address: 0 or 1)."""
        return int(self.escrow_rows("count(*)", address)[0][0])

    def run(self, *args, check=True, timeout=600):
        # a desk records decisions (its configuration too) once its admin has signed its
        # genesis: the harness's own configuration is signed by that admin
        pre = self.signed.sign_args(args)
        r = subprocess.run([FUSION, "--home", self.home, *pre, *map(str, args)],
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"fusion {' '.join(map(str, args))} exited {r.returncode}: "
                                 f"{r.stderr.strip()}")
        return r

    def json(self, *args):
        return json.loads(self.run(*args).stdout)

    def add_chain(self, chain, name="local", confirmations=2, extra=()):
        # a chain added after the desk's book moved to the server is added there too
        r = self.run("chain", "add", "--name", name, "--chain-id", chain.chain_id, "--rpc",
                     chain.node.url, "--factory", chain.factory, "--confirmations",
                     confirmations, *extra)
        self.book_on_server()
        return r

    def db(self):
        return sqlite3.connect(f"file:{self.home}/desk.db?mode=ro", uri=True, timeout=30)

    def query(self, sql, *params):
        con = self.db()
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def tamper_escrow(self, address):
        """Makes one escrow's row disagree with its events (as a bug in an older
        projection would), where the book is: what `fusion reindex` must repair."""
        sql = ("UPDATE escrows SET approvals = approvals + 7, state = 'disputed'"
               f" WHERE address = '{address.lower()}'")
        if self.book:
            self.server_rows(sql)
            return
        con = sqlite3.connect(f"{self.home}/desk.db", timeout=30)
        try:
            con.execute(sql)
            con.commit()
        finally:
            con.close()

    def logs(self, chain_id):
        if self.book:
            rows = self.server_rows(
                "SELECT encode(block_hash, 'hex'), log_index, block_number,"
                " encode(address, 'hex'), coalesce(encode(topic0, 'hex'), ''),"
                " coalesce(encode(topic1, 'hex'), ''), coalesce(encode(topic2, 'hex'), ''),"
                " coalesce(encode(topic3, 'hex'), ''), encode(data, 'hex')"
                f" FROM events WHERE chain_id = {int(chain_id)}")
            return {log_key("0x" + r[0], int(r[1]), int(r[2]), "0x" + r[3],
                            ["0x" + t for t in r[4:8] if t], "0x" + r[8]) for r in rows}
        rows = self.query("SELECT block_hash, log_index, block_number, address, topic0, topic1,"
                          " topic2, topic3, data FROM events WHERE chain_id = ?", chain_id)
        out = set()
        for r in rows:  # hashes and addresses are stored as bytes
            topics = [hexb(t) for t in r[4:8] if t is not None]
            out.add(log_key(hexb(r[0]), r[1], r[2], hexb(r[3]), topics, hexb(r[8])))
        return out

    def event_count(self, chain_id):
        if self.book:
            return int(self.server_rows(
                f"SELECT count(*) FROM events WHERE chain_id = {int(chain_id)}")[0][0])
        return self.query("SELECT count(*) FROM events WHERE chain_id = ?", chain_id)[0][0]

    def duplicates(self, chain_id):
        """Logs stored twice under different keys would show here (same tx, same index)."""
        if self.book:
            return self.server_rows(
                "SELECT encode(tx_hash, 'hex'), log_index, count(*) FROM events WHERE"
                f" chain_id = {int(chain_id)} GROUP BY block_hash, tx_hash, log_index"
                " HAVING count(*) > 1")
        return self.query("SELECT tx_hash, log_index, count(*) FROM events WHERE chain_id = ?"
                          " GROUP BY block_hash, tx_hash, log_index HAVING count(*) > 1",
                          chain_id)

    def search_index_errors(self):
        """What the escrow search index (escrow_search, FTS5) and the stored escrow count
        (escrow_totals) disagree with the escrows table about: every escrow has exactly one
        search row under its rowid holding its text, and nothing else is indexed. A commit
        that stored escrows without their index rows (or the reverse) shows here.
        On a server the search is a trigram index over the escrows' own columns (nothing
        to disagree with): the count is checked."""
        if self.book:
            n = int(self.server_rows("SELECT count(*) FROM escrows")[0][0])
            total = self.server_rows("SELECT n FROM escrow_totals WHERE id = 1")
            if not total or int(total[0][0]) != n:
                return [f"escrow_totals says {total}, the table has {n} escrows"]
            return []
        rows = {r[0]: r[1:] for r in self.query(
            "SELECT rowid, address, payer, payee, state FROM escrows")}
        idx = self.query("SELECT rowid, address, payer, payee, state FROM escrow_search")
        out = []
        seen = {}
        for r in idx:
            seen[r[0]] = seen.get(r[0], 0) + 1
            if rows.get(r[0]) != tuple(r[1:]):
                out.append(f"search row {r[0]} is {tuple(r[1:])}, its escrow "
                           f"{rows.get(r[0])}")
        for rid in rows:
            if seen.get(rid) != 1:
                out.append(f"escrow row {rid} has {seen.get(rid, 0)} search rows")
        total = self.query("SELECT n FROM escrow_totals WHERE id = 1")
        if not total or total[0][0] != len(rows):
            out.append(f"escrow_totals says {total}, the table has {len(rows)} escrows")
        return out

    def checkpoint(self, chain_id):
        if self.book:
            r = self.server_rows("SELECT synced_block, synced_hash FROM checkpoints WHERE"
                                 f" chain_id = {int(chain_id)}")
            return (int(r[0][0]), r[0][1]) if r else None
        r = self.query("SELECT synced_block, synced_hash FROM checkpoints WHERE chain_id = ?",
                       chain_id)
        return r[0] if r else None

    def follow(self, *extra):
        self.follower_log = open(os.path.join(self.home, "follower.stderr"), "ab")
        self.follower = subprocess.Popen([FUSION, "--home", self.home, "sync", *extra],
                                         stdout=subprocess.DEVNULL, stderr=self.follower_log)
        _followers.append(self.follower)
        return self.follower

    def wait_follower(self):
        """Until the follower holds the sync lock and runs (its start line is logged)."""
        pid = self.follower.pid
        wait_until(lambda: f"started (pid {pid})" in self.fusion_log(), "the follower to start")

    def stop_follow(self, sig=signal.SIGTERM, timeout=60):
        p = self.follower
        if not p:
            return None
        if p.poll() is None:
            p.send_signal(sig)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError("fusion sync did not stop on SIGTERM")
        self.follower = None
        self.follower_log.close()
        return rc

    def fusion_log(self):
        try:
            with open(os.path.join(self.home, "fusion.log")) as fh:
                return fh.read()
        except OSError:
            return ""


def assert_db_matches_node(desk, chain, what=""):
    want = chain.watched_logs()
    got = desk.logs(chain.chain_id)
    missing, extra = want - got, got - want
    if missing or extra:
        raise AssertionError(f"{what}: desk differs from the node: {len(missing)} missing "
                             f"(e.g. {sorted(missing)[:2]}), {len(extra)} extra "
                             f"(e.g. {sorted(extra)[:2]})")
    dups = desk.duplicates(chain.chain_id)
    if dups:
        raise AssertionError(f"{what}: duplicated events: {dups[:3]}")
    bad = desk.search_index_errors()
    if bad:
        raise AssertionError(f"{what}: the escrow search index differs from the escrows "
                             f"({len(bad)}): {bad[:3]}")
    return len(want)


def escrow_summary(chain, escrow):
    """Escrow state read from the contract by `cast call` (eth_call, independent of logs)."""
    out = chain.node.cast("call", escrow, "summary()(uint8,address,address,address,uint256,"
                          "address,uint64,uint256,uint256)")
    vals = out.split("\n")
    states = ["created", "funded", "released", "refunded", "disputed", "resolved"]
    return {"state": states[int(vals[0].split()[0])], "payer": vals[1].lower(),
            "payee": vals[2].lower(), "token": vals[3].lower(), "amount": vals[4].split()[0],
            "arbiter": vals[5].lower(), "deadline": int(vals[6].split()[0]),
            "threshold": int(vals[7].split()[0]), "approvals": int(vals[8].split()[0])}


def rng(seed_env="FUSION_TEST_SEED"):
    seed = int(os.environ.get(seed_env) or random.SystemRandom().randrange(1 << 30))
    log(f"random seed {seed} (set {seed_env}={seed} to repeat)")
    return random.Random(seed)
