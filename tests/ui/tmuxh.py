"""tmuxh.py: drive fusion in a private tmux server for the terminal tests.

Each test gets its own server (tmux -L fusion-test-<pid>-<name>), a fixed pane size, the
C.UTF-8 locale and a temporary desk home; the server is killed at exit. Nothing asserts
on time: wait_for() polls capture-pane up to a bounded number of tries and fails with
the last capture printed.
"""
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unicodedata

TRIES = 600          # bounded retries for every wait (x DELAY seconds between them)
DELAY = 0.05

FUSION_BIN = os.environ.get("FUSION_BIN", "")
FUSION_ROOT = os.environ.get("FUSION_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


class TestFailure(Exception):
    pass


def skip_unless_ready():
    if shutil.which("tmux") is None:
        print("SKIP: tmux is not installed")
        sys.exit(77)
    if not FUSION_BIN or not os.access(FUSION_BIN, os.X_OK):
        print("SKIP: FUSION_BIN is not set to the built fusion binary")
        sys.exit(77)


def display_width(s):
    """Terminal columns of s by Unicode's East Asian Width (independent of fusion)."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


class Tmux:
    def __init__(self, name, cols=80, rows=24, term="tmux-256color"):
        self.name = name
        self.sock = "fusion-test-%d-%s" % (os.getpid(), name)
        self.tmp = tempfile.mkdtemp(prefix="fusion-ui-%s-" % name)
        self.home = os.path.join(self.tmp, "desk")
        self.cols, self.rows = cols, rows
        self.conf = os.path.join(self.tmp, "tmux.conf")
        with open(self.conf, "w") as f:
            f.write('set -g default-terminal "%s"\n' % term)
            f.write("set -g status off\n")           # the pane is the whole window
            f.write("set -sg escape-time 0\n")
            f.write("set -g remain-on-exit on\n")    # keep the pane to read the exit status
            f.write("set -g history-limit 200\n")
        self.last = ""
        atexit.register(self.close)

    def env(self):
        env = dict(os.environ)
        env.pop("TMUX", None)
        env.pop("TMUX_PANE", None)
        env["LANG"] = "C.UTF-8"
        env["LC_ALL"] = "C.UTF-8"
        return env

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-L", self.sock, "-f", self.conf] + list(args),
                           capture_output=True, text=True, env=self.env())
        if check and r.returncode != 0:
            raise TestFailure("tmux %s failed: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def start(self, command, env=None):
        """Starts command (a shell string) in a new session of the fixed size."""
        args = ["new-session", "-d", "-s", "t", "-x", str(self.cols), "-y", str(self.rows)]
        base = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "FUSION_HOME": self.home,
                "FUSION_LOG_LEVEL": "debug"}
        for k, v in dict(base, **(env or {})).items():
            args += ["-e", "%s=%s" % (k, v)]
        args.append(command)
        self.tmux(*args)

    def fusion_cmd(self, extra=""):
        return "%s --home %s --operator tester %s" % (FUSION_BIN, self.home, extra)

    def start_fusion(self, env=None, prefix="", extra=""):
        self.start(prefix + self.fusion_cmd(extra), env)

    def capture(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "t"]
        if escapes:
            args.append("-e")
        self.last = self.tmux(*args)
        return self.last

    def history(self):
        """The pane's scrollback and screen (the alternate screen has no scrollback)."""
        return self.tmux("capture-pane", "-p", "-t", "t", "-S", "-")

    def lines(self):
        return self.capture().split("\n")[: self.rows]

    def send(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def type(self, text):
        self.tmux("send-keys", "-t", "t", "-l", text)

    def resize(self, cols, rows):
        self.cols, self.rows = cols, rows
        self.tmux("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))

    def fmt(self, f):
        return self.tmux("display-message", "-p", "-t", "t", f).strip()

    def wait_for(self, what, desc=None, tries=TRIES):
        """Polls until what (a substring, or a predicate on the capture) holds."""
        pred = what if callable(what) else (lambda text: what in text)
        for _ in range(tries):
            text = self.capture()
            if pred(text):
                return text
            time.sleep(DELAY)
        self.fail("timed out waiting for %s" % (desc or repr(what)))

    def wait_gone(self, what, desc=None):
        return self.wait_for(lambda t: what not in t, desc or "%r to disappear" % what)

    def wait_dead(self):
        """Waits until the pane's process has exited and been reaped (tmux marks the pane
        dead at end of output, a moment before it knows the status); returns the exit
        status, failing if a signal killed it."""
        server = int(self.fmt("#{pid}"))
        for _ in range(TRIES):
            if self.fmt("#{pane_dead}") == "1":
                status = self.fmt("#{pane_dead_status}")
                sig = self.fmt("#{pane_dead_signal}")
                if sig:
                    self.capture()
                    self.fail("the process was killed by signal %s" % sig)
                if status:
                    return int(status)
                # tmux can miss the SIGCHLD of a pane while libutempter's handler is
                # installed (tmux/tmux#311) and never reap it: nudge our own server.
                os.kill(server, signal.SIGCHLD)
            time.sleep(DELAY)
        self.capture()
        self.fail("the process in the pane did not exit")

    def status_line(self):
        return self.lines()[self.rows - 2]

    def fail(self, msg):
        sys.stdout.write("FAIL: %s\n--- last capture (%dx%d) ---\n%s\n---\n"
                         % (msg, self.cols, self.rows, self.last))
        log = os.path.join(self.home, "fusion.log")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                tail = f.read().splitlines()[-40:]
            tail = [l for l in tail if "draw title" not in l]
            sys.stdout.write("--- end of %s ---\n%s\n---\n" % (log, "\n".join(tail)))
        sys.stdout.flush()
        raise TestFailure(msg)

    def check(self, cond, msg):
        if not cond:
            self.fail(msg)

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True,
                       env=self.env())
        shutil.rmtree(self.tmp, ignore_errors=True)


CAPTURE_DIR = os.environ.get("FUSION_UI_CAPTURE_DIR")  # set: save captures for the docs


def save_capture(t, name):
    """With FUSION_UI_CAPTURE_DIR set, writes the current screen to DIR/name.txt (the text
    captures in docs/user-guide.md come from there)."""
    if CAPTURE_DIR:
        os.makedirs(CAPTURE_DIR, exist_ok=True)
        with open(os.path.join(CAPTURE_DIR, name + ".txt"), "w") as f:
            f.write("\n".join(line.rstrip() for line in t.capture().split("\n")[: t.rows]))


def exited(pid):
    """True once pid has exited (a zombie not yet reaped counts as exited)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def child_pids(pid):
    r = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in r.stdout.split()]


def run(main):
    """Runs a test's main(); prints the failure and exits 1 on TestFailure."""
    skip_unless_ready()
    try:
        main()
    except TestFailure as e:
        print("FAILED: %s" % e)
        sys.exit(1)
    print("ok")
