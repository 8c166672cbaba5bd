#!/usr/bin/python3
"""test_cli.py: `fusion key` and `fusion audit` end to end, checked against Foundry's cast.

- keystores made by `cast wallet new` import; files exported by fusion are read by
  `cast wallet address/sign --keystore`; the published Web3 Secret Storage vectors import
  to the address cast derives from the published private key; signatures verify in cast;
- every bad input of issue 4 exits 1 with one line on stderr and leaves every file under
  the desk home byte-for-byte (and mode-for-mode) unchanged;
- the terminal prompts do not echo passphrases (driven through a pseudo-terminal);
- the audit log's hash chain is re-checked here with hashlib, then tampered with.
"""
import fcntl
import hashlib
import json
import os
import pty
import re
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ["FUSION_BIN"]
CAST = os.path.join(os.environ["FUSION_TOOLS"], "cast")
ROOT = os.environ["FUSION_ROOT"]

ENV = dict(os.environ)
ENV["FUSION_KDF"] = "interactive"  # tests must not take minutes; see docs/keys.md
ENV.pop("FUSION_HOME", None)


def run(cmd, env=None, timeout=180):
    # A new session has no controlling terminal: a prompt fails instead of hanging.
    return subprocess.run(cmd, capture_output=True, text=True, env=env or ENV, timeout=timeout,
                          stdin=subprocess.DEVNULL, start_new_session=True)


def cast(*args):
    p = run([CAST, *args])
    if p.returncode != 0:
        raise AssertionError(f"cast {args[:2]} failed: {p.stderr.strip()}")
    return p.stdout.strip()


def snapshot(home):
    """Every path under home with its mode and bytes."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(home):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            data = None
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    data = f.read()
            snap[os.path.relpath(path, home)] = (st.st_mode, data)
    return snap


class Desk:
    def __init__(self, tmp, name="desk"):
        self.home = os.path.join(tmp, name)
        self.tmp = tmp

    def file(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, 0o600)  # passphrase files must be the operator's alone
        return path

    def fusion(self, *args, passfile=None, env=None):
        cmd = [BIN, "--home", self.home, "--operator", "cli-test"]
        if passfile:
            cmd += ["--passphrase-file", passfile]
        return run(cmd + list(args), env=env)

    def ok(self, *args, **kw):
        p = self.fusion(*args, **kw)
        if p.returncode != 0:
            raise AssertionError(f"fusion {' '.join(args)}: rc {p.returncode}: {p.stderr}")
        return p.stdout.strip()

    def key_path(self, address):
        return os.path.join(self.home, "keys", address.lower() + ".json")


class KeyCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fusion-keycli-")
        # a long home (a desk under a deep directory): a refusal must still end with its
        # whole remedy (at 256 bytes, messages were cut inside "chmod 600 <key file>")
        self.d = Desk(self.tmp, name="desk-" + "h" * 120)
        self.p1 = self.d.file("p1", "first passphrase\n")
        self.p2 = self.d.file("p2", "second passphrase\n")

    def tearDown(self):
        for dirpath, dirnames, _ in os.walk(self.tmp):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o700)
        shutil.rmtree(self.tmp)

    def new_key(self, label="k"):
        return self.d.ok("key", "new", "--label", label, passfile=self.p1)

    def assert_refused(self, p, snippet, before, rc=1):
        """One line on stderr naming the problem, the exit code, and no file changed."""
        self.assertEqual(p.returncode, rc, p.stderr)
        lines = p.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, f"stderr is not one line: {p.stderr!r}")
        self.assertIn(snippet, lines[0])
        self.assertEqual(snapshot(self.d.home), before, "files changed by a refused command")

    # ---- round trips and interoperability ----

    def test_new_list_sign_verify(self):
        a = self.new_key("hot wallet")
        self.assertRegex(a, r"^0x[0-9a-fA-F]{40}$")
        self.assertEqual(cast("to-check-sum-address", a.lower()), a)
        keys = json.loads(self.d.ok("key", "list", "--json"))
        # machine output: lowercase; the text of `key new` is EIP-55
        self.assertEqual([(k["address"], k["label"]) for k in keys], [(a.lower(), "hot wallet")])
        self.assertRegex(keys[0]["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.d.home, "keys")).st_mode), 0o700)
        self.assertEqual(stat.S_IMODE(os.stat(self.d.key_path(a)).st_mode), 0o600)
        sig = self.d.ok("key", "sign-message", a, "proof of possession", passfile=self.p1)
        self.assertRegex(sig, r"^0x[0-9a-f]{130}$")
        cast("wallet", "verify", "--address", a, "proof of possession", sig)
        other = self.new_key("other")
        p = run([CAST, "wallet", "verify", "--address", other, "proof of possession", sig])
        self.assertNotEqual(p.returncode, 0)

    def test_kdf_levels(self):
        # libsodium's documented Argon2id limits: MODERATE 3 / 256 MiB, INTERACTIVE 2 / 64 MiB.
        env = dict(ENV)
        env.pop("FUSION_KDF")
        a = self.d.ok("key", "new", passfile=self.p1, env=env)
        with open(self.d.key_path(a)) as f:
            kdf = json.load(f)["kdf"]
        self.assertEqual((kdf["name"], kdf["opslimit"], kdf["memlimit"]),
                         ("argon2id", 3, 268435456))
        b = self.new_key()
        with open(self.d.key_path(b)) as f:
            kdf = json.load(f)["kdf"]
        self.assertEqual((kdf["opslimit"], kdf["memlimit"]), (2, 67108864))
        self.assertIn("weak KDF", self.d.ok("key", "list"))
        env["FUSION_KDF"] = "fast"
        p = self.d.fusion("key", "new", passfile=self.p1, env=env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown KDF level", p.stderr)

    def test_cast_keystore_imports(self):
        cdir = os.path.join(self.tmp, "castkeys")
        os.mkdir(cdir)
        out = cast("wallet", "new", cdir, "--unsafe-password", "cast pass")
        address = re.search(r"Address:\s+(0x[0-9a-fA-F]{40})", out).group(1)
        (name,) = os.listdir(cdir)
        castpw = self.d.file("castpw", "cast pass\n")
        got = self.d.ok("key", "import", "--keystore", os.path.join(cdir, name), "--label",
                        "from cast", "--new-passphrase-file", self.p2, passfile=castpw)
        self.assertEqual(got, address)
        sig = self.d.ok("key", "sign-message", address, "hello", passfile=self.p2)
        cast("wallet", "verify", "--address", address, "hello", sig)
        # Importing it again is refused, and nothing changes.
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "import", "--keystore", os.path.join(cdir, name),
                          "--new-passphrase-file", self.p2, passfile=castpw)
        self.assertRefusedExists(p, before)

    def assertRefusedExists(self, p, before):
        self.assert_refused(p, "already exists", before)

    def test_export_read_by_cast(self):
        a = self.new_key("export me")
        out = os.path.join(self.tmp, "exported.json")
        self.d.ok("key", "export", a, "--out", out, "--new-passphrase-file", self.p2,
                  passfile=self.p1)
        self.assertEqual(stat.S_IMODE(os.stat(out).st_mode), 0o600)
        self.assertEqual(cast("wallet", "address", "--keystore", out, "--password",
                              "second passphrase"), a)
        # RFC 6979 signatures are deterministic: cast with the exported file and fusion
        # with its own key file must produce the same bytes.
        ours = self.d.ok("key", "sign-message", a, "same bytes?", passfile=self.p1)
        theirs = cast("wallet", "sign", "--keystore", out, "--password", "second passphrase",
                      "same bytes?")
        self.assertEqual(ours, theirs)
        before = snapshot(self.d.home)
        with open(out, "rb") as f:
            exported = f.read()
        p = self.d.fusion("key", "export", a, "--out", out, passfile=self.p1)
        self.assert_refused(p, "already exists", before)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), exported)

    def test_published_vectors_import(self):
        with open(os.path.join(ROOT, "tests", "vectors", "keystore_v3.json")) as f:
            vectors = json.load(f)["vectors"]
        for v in vectors:
            path = self.d.file(v["name"] + ".json", json.dumps(v["json"]))
            pw = self.d.file(v["name"] + ".pw", v["password"] + "\n")
            want = cast("wallet", "address", "--private-key", "0x" + v["priv"])
            desk = Desk(self.tmp, "desk-" + v["name"])  # both wiki vectors hold one key
            got = desk.ok("key", "import", "--keystore", path, "--new-passphrase-file",
                            self.p1, passfile=pw)
            self.assertEqual(got, want, v["name"])

    def test_raw_import(self):
        sk = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
        raw = self.d.file("raw.hex", "0x" + sk + "\n")
        got = self.d.ok("key", "import", "--raw-file", raw, "--label", "raw",
                        "--new-passphrase-file", self.p1)
        self.assertEqual(got, cast("wallet", "address", "--private-key", "0x" + sk))
        # A secret on the command line is not an accepted form at all.
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "import", "0x" + sk, passfile=self.p1)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(snapshot(self.d.home), before)
        for bad in ["0x" + sk[:-2], "zz" + sk[2:], "0" * 64,
                    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"]:
            f = self.d.file("bad.hex", bad + "\n")
            p = self.d.fusion("key", "import", "--raw-file", f, passfile=self.p1)
            self.assert_refused(p, "", before)

    def test_passwd_rm(self):
        a = self.new_key("rotate")
        self.d.ok("key", "passwd", a, "--new-passphrase-file", self.p2, passfile=self.p1)
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p1)
        self.assert_refused(p, "wrong passphrase", before)
        self.d.ok("key", "sign-message", a, "x", passfile=self.p2)
        # rm: without a terminal and without --yes it cannot confirm.
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "rm", a)
        self.assert_refused(p, "--yes", before, rc=2)
        self.assertIn("deleted", self.d.ok("key", "rm", a, "--yes"))
        self.assertFalse(os.path.exists(self.d.key_path(a)))
        self.assertEqual(json.loads(self.d.ok("key", "list", "--json")), [])

    # ---- a key change is never in effect without its audit row ----

    def keys_dir_names(self):
        return sorted(os.listdir(os.path.join(self.d.home, "keys")))

    def audit_actions(self):
        rows = json.loads(self.d.ok("audit", "list", "--json"))
        return [r["action"] for r in rows]

    def test_passwd_killed_before_its_row(self):
        """SIGKILL while the new key file waits for its audit row: the old passphrase stays,
        and the next start of the key store removes what was staged."""
        a = self.new_key("killed")
        path = self.d.key_path(a)
        with open(path, "rb") as f:
            orig = f.read()
        log = os.path.join(self.d.home, "audit.log")
        holder = open(log, "rb")
        fcntl.flock(holder, fcntl.LOCK_EX)  # the passwd blocks at its audit row
        proc = subprocess.Popen(
            [BIN, "--home", self.d.home, "--operator", "cli-test", "--passphrase-file", self.p1,
             "key", "passwd", a, "--new-passphrase-file", self.p2],
            env=ENV, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                staged = any(n.endswith(".pending") or ".tmp-" in n
                             for n in self.keys_dir_names())
                with open(path, "rb") as f:
                    replaced = f.read() != orig
                if staged or replaced:
                    break
                time.sleep(0.01)
            time.sleep(0.2)  # let it reach the lock it waits on
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        finally:
            fcntl.flock(holder, fcntl.LOCK_UN)
            holder.close()
            proc.stdout.close()
            proc.stderr.close()
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        # The next key store start cleans up; the old passphrase is still the one.
        self.d.ok("key", "list")
        self.assertEqual(self.keys_dir_names(), [os.path.basename(path)])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), orig)
        self.d.ok("key", "sign-message", a, "x", passfile=self.p1)
        p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p2)
        self.assertEqual(p.returncode, 1)
        self.assertNotIn("key_passwd", self.audit_actions())
        self.d.ok("audit", "verify")

    def test_passwd_audit_write_fails(self):
        """The audit row cannot be written (the file size limit, RLIMIT_FSIZE, a real
        EFBIG from the kernel): exit 1, the old passphrase stays, nothing is left."""
        a = self.new_key("full")
        log = os.path.join(self.d.home, "audit.log")
        # Past 32 KiB, so SQLite's -shm (32 KiB) still fits under the limit.
        while os.path.getsize(log) < 40000:
            self.d.ok("key", "sign-message", a, "m" * 250, passfile=self.p1)
        size = os.path.getsize(log)
        before = snapshot(self.d.home)

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        p = subprocess.run(
            [BIN, "--home", self.d.home, "--operator", "cli-test", "--passphrase-file", self.p1,
             "key", "passwd", a, "--new-passphrase-file", self.p2],
            capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL, timeout=180,
            preexec_fn=limit)
        self.assertEqual(p.returncode, 1, p.stderr)
        after = snapshot(self.d.home)
        after.pop("fusion.log", None)
        before.pop("fusion.log", None)
        self.assertEqual(after, before, "files changed by a failed passwd")
        self.d.ok("key", "sign-message", a, "x", passfile=self.p1)
        self.assertNotIn("key_passwd", self.audit_actions())
        self.assertIn("cannot write the audit log", p.stderr)
        self.assertIn("passphrase not changed", p.stderr)
        self.assertEqual(len(p.stderr.strip().split("\n")), 1, p.stderr)

    def test_stale_files_cleaned_on_open(self):
        """What a crashed writer leaves: temporary files are removed; a staged key file is
        put in place when its audit row was written, removed when it was not."""
        a = self.new_key("stale")
        path = self.d.key_path(a)
        with open(path, "rb") as f:
            old = f.read()
        kdir = os.path.dirname(path)
        base = os.path.basename(path)
        # A temporary file of a write cut off mid-way (an encrypted copy).
        tmp = os.path.join(kdir, "." + base + ".tmp-Ab12Cd")
        with open(tmp, "wb") as f:
            f.write(old)
        os.chmod(tmp, 0o600)
        # A staged file with no audit row: removed, the key stays as it was.
        pending = path + ".pending"
        with open(pending, "wb") as f:
            f.write(old.replace(b"stale", b"stalf"))
        os.chmod(pending, 0o600)
        self.d.ok("key", "list")
        self.assertEqual(self.keys_dir_names(), [base])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), old)
        # A passwd cut off after its row, before the rename (made from a real passwd): the
        # next start finishes it.
        self.d.ok("key", "passwd", a, "--new-passphrase-file", self.p2, passfile=self.p1)
        with open(path, "rb") as f:
            new = f.read()
        os.rename(path, pending)
        with open(path, "wb") as f:
            f.write(old)
        os.chmod(path, 0o600)
        self.d.ok("key", "list")
        self.assertEqual(self.keys_dir_names(), [base])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), new)
        self.d.ok("key", "sign-message", a, "x", passfile=self.p2)

    def test_new_key_not_stored_without_its_row(self):
        a = self.new_key("first")
        log = os.path.join(self.d.home, "audit.log")
        with open(log, "rb") as f:
            orig = f.read()
        os.unlink(log)
        p = self.d.fusion("key", "new", "--label", "second", passfile=self.p1)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("was not stored", p.stderr)
        self.assertEqual(self.keys_dir_names(), [os.path.basename(self.d.key_path(a))])
        with open(log, "wb") as f:
            f.write(orig)
        os.chmod(log, 0o600)
        # --json gives addresses in lowercase, `key new` prints EIP-55 for people
        self.assertEqual([k["address"] for k in json.loads(self.d.ok("key", "list", "--json"))],
                         [a.lower()])

    # ---- bad input: one line, exit 1, files unchanged ----

    def test_absurd_kdf_parameters(self):
        self.new_key()
        with open(os.path.join(ROOT, "tests", "vectors", "keystore_v3.json")) as f:
            vectors = json.load(f)["vectors"]
        pw = self.d.file("pw", "testpassword\n")
        cases = [
            (0, "n", 1 << 30, "limit of 1048576"),
            (0, "r", 4096, "1..32"),
            (0, "p", 1 << 20, "1..16"),
            (1, "c", 50_000_000, "1..10000000"),
        ]
        for base, key, value, snippet in cases:
            j = json.loads(json.dumps(vectors[base]["json"]))
            j["crypto"]["kdfparams"][key] = value
            path = self.d.file("absurd.json", json.dumps(j))
            before = snapshot(self.d.home)
            p = self.d.fusion("key", "import", "--keystore", path, "--new-passphrase-file",
                              self.p1, passfile=pw)
            self.assert_refused(p, snippet, before)

    def test_tampered_and_truncated_key_file(self):
        a = self.new_key("tamper")
        path = self.d.key_path(a)
        with open(path, "rb") as f:
            orig = f.read()
        for i in (0, 40, 120, 200, len(orig) // 2, len(orig) - 3, len(orig) - 1):
            data = bytearray(orig)
            data[i] ^= 0x01
            with open(path, "wb") as f:
                f.write(data)
            before = snapshot(self.d.home)
            p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p1)
            self.assertEqual(p.returncode, 1, f"byte {i}")
            self.assert_refused(p, "", before)
        for n in (0, 1, len(orig) // 2, len(orig) - 1):
            with open(path, "wb") as f:
                f.write(orig[:n])
            before = snapshot(self.d.home)
            p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p1)
            self.assert_refused(p, "modified or damaged", before)
        with open(path, "wb") as f:
            f.write(orig.replace(b'"version": 1', b'"version": 2'))
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p1)
        self.assert_refused(p, "format version 2", before)
        with open(path, "wb") as f:
            f.write(orig)
        self.d.ok("key", "sign-message", a, "x", passfile=self.p1)

    def test_permissions(self):
        a = self.new_key("perm")
        path = self.d.key_path(a)
        os.chmod(path, 0o644)
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "sign-message", a, "x", passfile=self.p1)
        self.assert_refused(p, f"chmod 600 {path}", before)
        p = self.d.fusion("key", "list")
        self.assert_refused(p, f"chmod 600 {path}", before)
        os.chmod(path, 0o600)
        kdir = os.path.join(self.d.home, "keys")
        os.chmod(kdir, 0o755)
        before = snapshot(self.d.home)
        for args in (["key", "sign-message", a, "x"], ["key", "list"], ["key", "new"]):
            p = self.d.fusion(*args, passfile=self.p1)
            self.assert_refused(p, f"chmod 700 {kdir}", before)
        os.chmod(kdir, 0o700)

    def test_empty_passphrase(self):
        empty = self.d.file("empty", "\n")
        os.makedirs(self.d.home, mode=0o700)
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "new", passfile=empty)
        self.assert_refused(p, "empty passphrase", before)
        a = self.new_key()
        before = snapshot(self.d.home)
        p = self.d.fusion("key", "passwd", a, "--new-passphrase-file", empty, passfile=self.p1)
        self.assert_refused(p, "empty passphrase", before)

    # ---- terminal prompts ----

    def pty_run(self, args, answers, timeout=60):
        """Runs fusion on a pseudo-terminal, answering prompts; returns (status, output)."""
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(BIN, [BIN, "--home", self.d.home, "--operator", "pty"] + args, ENV)
        out = b""
        deadline = time.monotonic() + timeout

        def read_some():
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                raise AssertionError(f"timeout; output so far: {out!r}")
            try:
                return os.read(fd, 4096)
            except OSError:
                return b""

        try:
            for prompt, answer in answers:
                while prompt not in out:
                    chunk = read_some()
                    if not chunk:
                        raise AssertionError(f"no prompt {prompt!r} in {out!r}")
                    out += chunk
                os.write(fd, answer + b"\n")
            while True:
                chunk = read_some()
                if not chunk:
                    break
                out += chunk
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        return os.waitstatus_to_exitcode(status), out.decode(errors="replace")

    def test_prompts_do_not_echo(self):
        rc, out = self.pty_run(["key", "new", "--label", "typed"],
                               [(b"New passphrase: ", b"typed secret 1"),
                                (b"Repeat the new passphrase: ", b"typed secret 1")])
        self.assertEqual(rc, 0, out)
        self.assertNotIn("typed secret", out)
        a = re.search(r"0x[0-9a-fA-F]{40}", out).group(0)
        pw = self.d.file("typed", "typed secret 1\n")
        self.d.ok("key", "sign-message", a, "x", passfile=pw)
        # Mismatched repetition changes nothing.
        before = snapshot(self.d.home)
        rc, out = self.pty_run(["key", "new"], [(b"New passphrase: ", b"aaa"),
                                                (b"Repeat the new passphrase: ", b"aab")])
        self.assertEqual(rc, 1)
        self.assertIn("differ", out)
        self.assertEqual(snapshot(self.d.home), before)
        # A raw key typed at the prompt is not echoed either.
        sk = "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
        rc, out = self.pty_run(["--passphrase-file", pw, "key", "import"],
                               [(b"Private key (hex, not echoed): ", sk.encode())])
        self.assertEqual(rc, 0, out)
        self.assertNotIn(sk[:16], out)
        self.assertIn(cast("wallet", "address", "--private-key", "0x" + sk), out)
        # rm asks for the address again: a wrong answer deletes nothing.
        before = snapshot(self.d.home)
        rc, out = self.pty_run(["key", "rm", a], [(b"Type its address to confirm: ",
                                                  b"0x" + b"0" * 40)])
        self.assertEqual(rc, 1)
        self.assertEqual(snapshot(self.d.home), before)
        rc, out = self.pty_run(["key", "rm", a], [(b"Type its address to confirm: ",
                                                  a.lower().encode())])
        self.assertEqual(rc, 0, out)
        self.assertFalse(os.path.exists(self.d.key_path(a)))

    # ---- the audit log, checked independently ----

    def test_audit_chain(self):
        a = self.new_key("audited")
        self.d.ok("key", "sign-message", a, "one", passfile=self.p1)
        self.d.ok("key", "sign-message", a, "two", passfile=self.p1)
        self.d.ok("key", "passwd", a, "--new-passphrase-file", self.p2, passfile=self.p1)
        log = os.path.join(self.d.home, "audit.log")
        with open(log, "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[-1], b"")
        lines = lines[:-1]
        prev = "0" * 64
        actions = []
        for n, line in enumerate(lines, 1):
            row = json.loads(line)
            body = line[:line.rindex(b',"hash":"')]
            self.assertEqual(row["seq"], n)
            self.assertEqual(row["prev"], prev)
            self.assertEqual(row["hash"], hashlib.sha256(body).hexdigest())
            self.assertEqual(row["operator"], "cli-test")
            prev = hashlib.sha256(line).hexdigest()
            actions.append(row["action"])
        self.assertEqual(actions, ["key_new", "key_unlock", "sign_message", "key_unlock",
                                   "sign_message", "key_passwd"])
        signed = [json.loads(l)["details"] for l in lines if b'"sign_message"' in l]
        self.assertEqual(signed[0]["key"], a)
        self.assertEqual(signed[0]["message"], "one")
        self.assertEqual(signed[0]["message_hash"], cast("hash-message", "one"))
        out = self.d.ok("audit", "verify")
        self.assertIn(f"{len(lines)} rows", out)
        self.assertEqual(len(json.loads(self.d.ok("audit", "list", "--json"))), len(lines))
        head = re.search(r"head (\d+:[0-9a-f]{64})", out).group(1)
        self.assertEqual(head, f"{len(lines)}:{json.loads(lines[-1])['hash']}")

        # Edited row 2: verify names line 2; deleted row 3: names line 3.
        orig = b"\n".join(lines) + b"\n"
        edited = list(lines)
        edited[1] = edited[1].replace(b"key_unlock", b"key_unlocK")
        with open(log, "wb") as f:
            f.write(b"\n".join(edited) + b"\n")
        p = self.d.fusion("audit", "verify")
        self.assertEqual(p.returncode, 1)
        self.assertIn("broken at line 2", p.stderr)
        self.assertEqual(len(p.stderr.strip().split("\n")), 1)
        with open(log, "wb") as f:
            f.write(b"\n".join(lines[:2] + lines[3:]) + b"\n")
        p = self.d.fusion("audit", "verify")
        self.assertEqual(p.returncode, 1)
        self.assertIn("broken at line 3", p.stderr)
        # Cutting the last row: the chain alone still holds (--log-only), the head kept in
        # desk.db does not, nor does the anchor printed earlier.
        with open(log, "wb") as f:
            f.write(b"\n".join(lines[:-1]) + b"\n")
        self.d.ok("audit", "verify", "--log-only")
        p = self.d.fusion("audit", "verify")
        self.assertEqual(p.returncode, 1)
        self.assertIn("rows were removed from the end", p.stderr)
        self.assertIn(f"desk.db records the head {len(lines)}:", p.stderr)
        p = self.d.fusion("audit", "verify", "--log-only", "--anchor", head)
        self.assertEqual(p.returncode, 1)
        self.assertIn("removed from the end", p.stderr)
        with open(log, "wb") as f:
            f.write(orig)
        self.d.ok("audit", "verify", "--anchor", head)


if __name__ == "__main__":
    unittest.main(verbosity=2)
