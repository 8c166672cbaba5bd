#!/usr/bin/python3
"""pg.py: a real PostgreSQL server for one test.

Debian's PostgreSQL 15 (initdb, pg_ctl, postgres from /usr/lib/postgresql/15/bin, or
$FUSION_PG_BIN) in a private directory: the cluster, its log and its unix socket live in
a fresh temporary directory, TCP is off (listen_addresses = ''), and the port only names
the socket (.s.PGSQL.PORT), so parallel tests never meet. The server is stopped and the
directory removed when the test ends, however it ends (atexit, SIGTERM, SIGINT, SIGHUP);
`pg_ctl stop -m immediate` first, then the postmaster's own pid, never a name.

initdb refuses to run as root. Run as root (CI), the cluster belongs to a dedicated
system user, `fusionpg` (created with `useradd --system` when missing; idempotent, and
a concurrent creation by another test is fine), and the server runs as that user
(`runuser`); the test, as root, still reaches the socket. Run as anyone else, the server
is the test's own user.

Roles: `fusion` is the superuser (trust on the socket); `add_role(name, password)` makes a
login role that must give its password (scram-sha-256), so tests can check that a
password in a URL works and is never printed.

As a module:  from pg import PgServer;  with PgServer() as pg: pg.url, pg.psql("select 1")
As a command: pg.py run -- CMD ARGS...  runs CMD with FUSION_TEST_PG set to the server's
              URL and returns CMD's exit status; `pg.py self-test` checks the harness."""
import atexit
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile

PG_BIN = os.environ.get("FUSION_PG_BIN") or "/usr/lib/postgresql/15/bin"
SERVICE_USER = "fusionpg"
SUPERUSER = "fusion"

_live = []


def _cleanup():
    for s in list(_live):
        s.stop()


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


atexit.register(_cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    if signal.getsignal(_sig) in (signal.SIG_DFL, signal.default_int_handler):
        signal.signal(_sig, _on_signal)


def alive(pid):
    """True while pid runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def available():
    """True when Debian's PostgreSQL binaries are installed."""
    return all(os.access(os.path.join(PG_BIN, b), os.X_OK) for b in ("initdb", "pg_ctl", "psql"))


def service_user():
    """The user the server runs as: ourselves, or (as root) fusionpg, created if missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        r = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", SERVICE_USER],
                           capture_output=True, text=True)
        if r.returncode not in (0, 9):  # 9: made meanwhile by another test
            raise RuntimeError(f"useradd {SERVICE_USER}: {r.stderr.strip()}")
        pwd.getpwnam(SERVICE_USER)
    return SERVICE_USER


class PgServer:
    def __init__(self, port=5432):
        self.port = port
        self.dir = None
        self.user = None
        self.pid = None

    # -- life --------------------------------------------------------------------------
    def _as_service(self, argv):
        return ["runuser", "-u", self.user, "--"] + argv if self.user else argv

    def _run(self, argv, **kw):
        r = subprocess.run(self._as_service(argv), capture_output=True, text=True, **kw)
        if r.returncode != 0:
            raise RuntimeError(f"{os.path.basename(argv[0])} failed ({r.returncode}): "
                               f"{r.stderr.strip() or r.stdout.strip()}\n{self.log_tail()}")
        return r

    def start(self):
        if not available():
            raise RuntimeError(f"PostgreSQL binaries not found in {PG_BIN} "
                               "(apt-get install postgresql-15)")
        self.user = service_user()
        self.dir = tempfile.mkdtemp(prefix="fusion-pg-")
        _live.append(self)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        os.chmod(self.dir, 0o700)
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", SUPERUSER,
                   "--auth-local=trust", "--auth-host=reject", "-E", "UTF8", "--locale=C",
                   "--no-sync"])
        # pg_hba: the superuser on trust; every other role by password (scram).
        with open(os.path.join(data, "pg_hba.conf"), "w") as f:
            f.write(f"local all {SUPERUSER} trust\nlocal all all scram-sha-256\n")
        self._pg_start()
        self._run([os.path.join(PG_BIN, "createdb"), "-h", self.dir, "-p", str(self.port),
                   "-U", SUPERUSER, "desk"])
        return self

    def _pg_start(self):
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(PG_BIN, "pg_ctl"), "start", "-w", "-t", "60", "-D", data,
                   "-l", os.path.join(self.dir, "server.log"),
                   "-o", f"-k {self.dir} -p {self.port} -c listen_addresses='' -c fsync=off "
                         "-c max_connections=40 -c shared_buffers=16MB"])
        with open(os.path.join(data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def pause(self):
        """pg_ctl stop -m fast, the cluster kept: the server is gone (every session ended,
        its socket removed) until resume() starts it again on the same socket."""
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(PG_BIN, "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast",
                   "-D", data])
        self.pid = None

    def resume(self):
        self._pg_start()

    def restart(self):
        """pg_ctl restart -m fast: every session is ended (advisory locks with them), the
        server comes back on the same socket with the same options."""
        data = os.path.join(self.dir, "data")
        self._run([os.path.join(PG_BIN, "pg_ctl"), "restart", "-w", "-t", "60", "-m", "fast",
                   "-D", data, "-l", os.path.join(self.dir, "server.log")])
        with open(os.path.join(data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def stop(self):
        if self in _live:
            _live.remove(self)
        if not self.dir:
            return
        data = os.path.join(self.dir, "data")
        if self.pid:
            subprocess.run(self._as_service([os.path.join(PG_BIN, "pg_ctl"), "stop", "-D", data,
                                             "-m", "immediate", "-w", "-t", "30"]),
                           capture_output=True)
            if alive(self.pid):  # still there (pg_ctl failed): the postmaster by its pid
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- use ---------------------------------------------------------------------------
    def url_for(self, user=SUPERUSER, password=None, db="desk"):
        cred = user + (":" + password if password is not None else "")
        return f"postgresql://{cred}@/{db}?host={self.dir}&port={self.port}"

    @property
    def url(self):
        return self.url_for()

    def psql(self, sql, db="desk", check=True):
        """Runs sql as the superuser; returns the rows as lists of fields ('|'-separated)."""
        r = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port), "-U",
                            SUPERUSER, "-d", db, "-c", sql], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"psql: {r.stderr.strip()}")
        if not check:
            return r
        return [line.split("|") for line in r.stdout.splitlines() if line != ""]

    def add_role(self, name, password):
        self.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        self.psql(f"GRANT ALL ON DATABASE desk TO {name}; GRANT ALL ON SCHEMA public TO {name}")

    def backend_pids(self):
        return [int(r[0]) for r in self.psql(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()")]

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return "".join(f.readlines()[-n:])
        except (OSError, TypeError):
            return ""


def _self_test():
    """The server starts as an unprivileged user, answers, and is gone afterwards."""
    with PgServer() as pg:
        d, pid = pg.dir, pg.pid
        assert pg.psql("SELECT current_user, current_setting('listen_addresses')") == \
            [["fusion", ""]], "superuser or TCP setting"
        owner = pg.psql("SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database "
                        "WHERE datname = 'desk'")
        assert owner == [["fusion"]], owner
        uid = os.stat(f"/proc/{pid}").st_uid
        assert uid != 0, "the postmaster runs as root"
        assert os.path.exists(os.path.join(d, f".s.PGSQL.{pg.port}")), "socket not in the dir"
        pg.add_role("alice", "s3cret")
    assert not os.path.exists(d), "directory left behind"
    assert not alive(pid), f"postmaster {pid} still running"
    print("pg.py self-test: ok")


def main(argv):
    if len(argv) >= 1 and argv[0] == "self-test":
        if not available():
            print(f"FAIL: PostgreSQL 15 is not installed ({PG_BIN}): run scripts/bootstrap (a skipped test proves nothing)")
            return 1
        _self_test()
        return 0
    if len(argv) >= 2 and argv[0] == "run" and argv[1] == "--":
        with PgServer() as pg:
            env = dict(os.environ, FUSION_TEST_PG=pg.url)
            child = subprocess.Popen(argv[2:], env=env)
            try:
                return child.wait()
            finally:  # a signal to us ends the command too, not only the server
                if child.poll() is None:
                    child.kill()
                    child.wait()
    print("usage: pg.py run -- CMD ARGS... | pg.py self-test", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
