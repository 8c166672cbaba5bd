#!/usr/bin/python3
"""test_files.py: the desk's files are its operator's alone, through the real binary.

- a desk made in an existing 0755 directory ends 0700, its files 0600 (the SQLite
  -wal/-shm files too), and the operator is told what was closed;
- an existing desk with loose modes is fixed and told; a home owned by another uid is
  refused;
- passphrase files and the desk's configuration (policy.conf, compliance.conf) open to
  group/others are refused with the chmod that fixes them, before anything is written;
- read-only commands on a home that holds no desk are refused with a hint and create
  nothing;
- exports (case report) are written 0600;
- the audit log's head is kept in desk.db too: a deleted or cut audit.log, or a deleted
  desk.db, is reported by `audit verify` and nothing more is recorded until it is fixed.
"""
import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

BIN = os.environ["FUSION_BIN"]
ENV = dict(os.environ)
ENV["FUSION_KDF"] = "interactive"
ENV.pop("FUSION_HOME", None)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def tree(home):
    """Every path under home with its mode and size."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(home):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, home)] = (st.st_mode, st.st_size)
    return out


class Files(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fusion-files-")
        # The harness's own umask must not be what makes the files private.
        self.old_umask = os.umask(0o022)
        self.home = os.path.join(self.tmp, "desk")
        self.pw = os.path.join(self.tmp, "pw")
        with open(self.pw, "w") as f:
            f.write("files test passphrase\n")
        os.chmod(self.pw, 0o600)

    def tearDown(self):
        os.umask(self.old_umask)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def fusion(self, *args, home=None, passfile=None):
        cmd = [BIN, "--home", home or self.home, "--operator", "files-test"]
        if passfile:
            cmd += ["--passphrase-file", passfile]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, env=ENV,
                              stdin=subprocess.DEVNULL, timeout=120, start_new_session=True)

    def ok(self, *args, **kw):
        p = self.fusion(*args, **kw)
        self.assertEqual(p.returncode, 0, f"fusion {args}: {p.stderr}")
        return p

    def refused(self, p, snippet, rc=1):
        self.assertEqual(p.returncode, rc, p.stdout + p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertIn(snippet, lines[0])

    def assert_private(self):
        self.assertEqual(mode(self.home), 0o700)
        seen = []
        for name in sorted(os.listdir(self.home)):
            p = os.path.join(self.home, name)
            if os.path.isdir(p):
                self.assertEqual(mode(p) & 0o077, 0, p)
                continue
            seen.append(name)
            self.assertEqual(mode(p), 0o600, p)
        return seen

    def new_desk(self):
        """A desk with a key and an operator signing with it: its admin, who signs its
        genesis (a desk records no decision before)."""
        self.addr = self.ok("key", "new", "--label", "k", passfile=self.pw).stdout.strip()
        self.ok("operator", "genesis", "--key", self.addr, "--role", "compliance",
                passfile=self.pw)

    def test_new_desk_in_open_directory(self):
        os.makedirs(self.home, mode=0o755)
        os.chmod(self.home, 0o755)
        p = self.ok("key", "new", "--label", "k", passfile=self.pw)
        self.assertIn(f"{self.home} was open to group/others (mode 0755)", p.stderr)
        self.ok("operator", "genesis", "--key", p.stdout.strip(), passfile=self.pw)
        # keep the WAL files around: a reader holds the database open while we look
        seen = self.assert_private()
        for name in ("desk.db", "fusion.log", "audit.log"):
            self.assertIn(name, seen)

    def test_wal_files_private(self):
        self.new_desk()
        db = os.path.join(self.home, "desk.db")
        # A second connection that stays open keeps desk.db-wal/-shm on disk.
        code = ("import sqlite3,sys,time;c=sqlite3.connect(sys.argv[1]);"
                "c.execute('select count(*) from sqlite_master').fetchall();"
                "print('open',flush=True);time.sleep(30)")
        second = self.ok("key", "new", "--label", "k2", passfile=self.pw).stdout.strip()
        holder = subprocess.Popen(["python3", "-c", code, db], stdout=subprocess.PIPE, text=True)
        try:
            holder.stdout.readline()
            self.ok("operator", "add", "second", "--key", second, "--role", "trader",
                    passfile=self.pw)
            for suffix in ("-wal", "-shm"):
                self.assertEqual(mode(db + suffix), 0o600, db + suffix)
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()

    def test_loose_desk_fixed_and_told(self):
        self.new_desk()
        os.chmod(self.home, 0o755)
        for name in ("desk.db", "fusion.log", "audit.log"):
            os.chmod(os.path.join(self.home, name), 0o644)
        p = self.ok("operator", "list")
        for name in ("desk.db", "fusion.log", "audit.log"):
            self.assertIn(f"{os.path.join(self.home, name)} was open to group/others (mode 0644)",
                          p.stderr)
        self.assert_private()
        # Nothing left to say the second time.
        p = self.ok("operator", "list")
        self.assertNotIn("open to group/others", p.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to give the home to another uid")
    def test_home_of_another_uid_refused(self):
        self.new_desk()
        before = tree(self.home)
        os.chown(self.home, 65534, 65534)
        try:
            p = self.fusion("operator", "list")
            self.refused(p, "belongs to uid 65534")
            p = self.fusion("key", "new", passfile=self.pw)
            self.refused(p, "belongs to uid 65534")
        finally:
            os.chown(self.home, 0, 0)
        self.assertEqual(tree(self.home), before)

    def test_passphrase_file_open_to_others_refused(self):
        for m in (0o644, 0o620, 0o604):
            os.chmod(self.pw, m)
            p = self.fusion("key", "new", passfile=self.pw)
            self.refused(p, f"chmod 600 {self.pw}")
            self.assertFalse(os.path.exists(self.home), "a refused command created the home")
        os.chmod(self.pw, 0o600)
        self.new_desk()
        loose = os.path.join(self.tmp, "new-pw")
        with open(loose, "w") as f:
            f.write("another passphrase\n")
        os.chmod(loose, 0o640)
        before = tree(self.home)
        addr = self.ok("key", "list", "--json").stdout
        self.assertTrue(addr)
        p = self.fusion("key", "new", "--new-passphrase-file", loose, passfile=self.pw)
        self.refused(p, f"chmod 600 {loose}")
        self.assertEqual(tree(self.home), before)

    def test_desk_config_open_to_others_refused(self):
        self.new_desk()
        conf = os.path.join(self.home, "compliance.conf")
        with open(conf, "w") as f:
            f.write("# defaults\n")
        os.chmod(conf, 0o644)
        p = self.fusion("case", "screen")
        self.refused(p, f"chmod 600 {conf}")
        os.chmod(conf, 0o600)
        p = self.fusion("case", "screen")
        self.assertNotIn("chmod", p.stderr)
        # The desk's risk limits and its signing policy alike.
        limits = os.path.join(self.home, "risk-limits.csv")
        with open(limits, "w") as f:
            f.write("limit,value\nvar_1d_usd,1000000\n")
        os.chmod(limits, 0o644)
        self.refused(self.fusion("risk", "report"), f"chmod 600 {limits}")
        os.chmod(limits, 0o600)
        self.ok("config", "sign", "risk-limits", passfile=self.pw)  # the admin's decision
        self.ok("risk", "report")
        self.ok("tx", "check", passfile=self.pw)  # the desk writes its policy.conf, 0600
        policy = os.path.join(self.home, "policy.conf")
        self.assertEqual(mode(policy), 0o600)
        os.chmod(policy, 0o640)
        self.refused(self.fusion("tx", "check", passfile=self.pw), f"chmod 600 {policy}")

    def test_read_only_commands_create_nothing(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty, mode=0o700)
        missing = os.path.join(self.tmp, "missing")
        reads = [["escrow", "list"], ["chain", "list"], ["key", "list"], ["audit", "verify"],
                 ["audit", "list"], ["tx", "list"], ["entity", "list"], ["case", "list"],
                 ["operator", "list"], ["alerts"], ["asset", "list"], ["xswap", "list"],
                 ["sync", "--once"], ["reindex"], ["devnet", "down"], ["risk", "report"]]
        for args in reads:
            for home in (empty, missing):
                p = self.fusion(*args, home=home)
                self.refused(p, f"no desk at {home}")
                # a desk starts with a key and its admin's signed genesis
                self.assertIn("operator genesis --key ADDRESS", p.stderr)
            self.assertEqual(os.listdir(empty), [], args)
            self.assertFalse(os.path.exists(missing), args)

    def test_audit_log_deleted_or_cut(self):
        self.new_desk()
        log = os.path.join(self.home, "audit.log")
        with open(log, "rb") as f:
            orig = f.read()
        rows = orig.count(b"\n")
        self.assertGreaterEqual(rows, 2)
        os.unlink(log)
        p = self.fusion("audit", "verify")
        self.refused(p, "missing or empty")
        self.assertIn("deleted", p.stderr)
        self.assertNotIn("no rows yet", p.stdout)
        p = self.fusion("operator", "roles", "files-test", "--role", "admin", passfile=self.pw)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("missing or empty", p.stderr)
        self.assertFalse(os.path.exists(log), "numbering started anew in a new log")
        # The desk refuses to open for actions (here: resending what is in flight).
        p = self.fusion("tx", "check", passfile=self.pw)
        self.refused(p, "missing or empty")
        self.assertFalse(os.path.exists(log))
        with open(log, "wb") as f:
            f.write(orig.split(b"\n", 1)[0] + b"\n")  # only the first row left
        os.chmod(log, 0o600)
        p = self.fusion("audit", "verify")
        self.refused(p, "rows were removed from the end")
        with open(log, "wb") as f:
            f.write(orig)
        self.assertIn(f"{rows} rows", self.ok("audit", "verify").stdout)
        # The refused change is not in effect: a change and its audit row go together.
        self.assertIn("compliance,admin", self.ok("operator", "list").stdout)

    def test_desk_db_deleted(self):
        # a desk with keys only: on a desk whose genesis is signed, desk.db also holds the
        # desk id, and a desk.db deleted there is named as replaced by `audit verify`
        self.ok("key", "new", "--label", "k", passfile=self.pw)
        for sfx in ("", "-wal", "-shm"):
            if os.path.exists(os.path.join(self.home, "desk.db" + sfx)):
                os.unlink(os.path.join(self.home, "desk.db" + sfx))
        p = self.fusion("audit", "verify")
        self.refused(p, "records no audit head")
        p = self.fusion("key", "new", "--label", "k2", passfile=self.pw)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("records no audit head", p.stderr)
        self.ok("audit", "adopt")
        self.ok("audit", "verify")
        self.ok("key", "new", "--label", "k3", passfile=self.pw)
        self.ok("audit", "verify")

    def test_stale_temp_files_removed(self):
        """A temporary file of an atomic write whose writer was killed is removed; one that
        may still be another process's write in progress is left."""
        self.new_desk()
        old = os.path.join(self.home, ".policy.conf.tmp-Ab12Cd")
        young = os.path.join(self.home, ".policy.conf.tmp-Zz99Yy")
        pid = os.path.join(self.home, "devnet", ".devnet-eth.pid.tmp-Qq11Ww")
        os.makedirs(os.path.dirname(pid), mode=0o700, exist_ok=True)
        for path in (old, young, pid):
            with open(path, "w") as f:
                f.write("half a file")
            os.chmod(path, 0o600)
        now = time.time()
        for path in (old, pid):
            os.utime(path, (now - 86400, now - 86400))
        os.utime(young, (now + 86400, now + 86400))
        p = self.ok("operator", "list")
        self.assertFalse(os.path.exists(old))
        self.assertFalse(os.path.exists(pid))
        self.assertTrue(os.path.exists(young))
        self.assertIn(f"removed {old}", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
