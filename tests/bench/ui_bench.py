#!/usr/bin/python3
"""ui_bench.py: the terminal UI benchmark of issue 9 (not a test; timings depend on the
machine and its load). For a desk of N escrows (tests/bench/ui_gen.py) and a baseline desk
of 1,000 escrows measured in the same run, fusion runs in tmux (120x40) and the bench sends
keys one at a time, waiting for each frame: the UI logs, at debug level, the time from
reading a key to the end of the frame it caused (doupdate), and the first frame after
FUSION_DEBUG_T0 (the bench's CLOCK_MONOTONIC at launch). Measured: start-up to first
frame, opening the Escrows screen, scrolling (j, PgDn, G, g, C-d), sorting (s), filtering
(each character typed into `/` narrows the table at once: the trigram index or a walk of
the order's index; a dense filter's exact count comes later, from a background thread),
clearing the filter (Esc: its frames include ncurses' 25 ms ESCDELAY, the wait that tells
a lone Esc from an escape sequence, so they are reported apart), and resident memory
(VmRSS, VmHWM); and after each filter, how long until its exact count is on screen
(the background count runs from the next once-a-second tick). For the filter keys also
the CPU time the process used (all threads, /proc schedstat), which a loaded machine does
not inflate the way it inflates the wall time.
Prints p50/p99 for each and the ratio N / baseline. Sync is kept out by holding the desk's
sync lock, as another syncing fusion process would.

Usage: tests/bench/ui_bench.py [--build DIR] [--n N] [--keep DIR]
  --keep DIR  reuse (or create) the generated desks under DIR (generating 1,000,000
              escrows takes about two minutes)
"""
import argparse
import fcntl
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "ui"))
sys.dont_write_bytecode = True

FRAME = re.compile(r"frame ([0-9.]+) ms after key")
FIRST = re.compile(r"first frame ([0-9.]+) ms after FUSION_DEBUG_T0")


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


class Run:
    def __init__(self, tmuxh, fusion, home, name):
        self.tmuxh = tmuxh
        self.home = home
        self.log = os.path.join(home, "fusion.log")
        if os.path.exists(self.log):
            os.unlink(self.log)
        self.lock = open(os.path.join(home, "sync.lock"), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.environ["FUSION_BIN"] = fusion
        tmuxh.FUSION_BIN = fusion
        self.t = tmuxh.Tmux("bench-" + name, cols=120, rows=40)
        self.t.home = home
        self.frames_seen = 0

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def start(self):
        t0 = time.monotonic_ns()
        self.t.start_fusion(env={"FUSION_DEBUG_T0": str(t0)})
        self.t.wait_for("Fusion Prime Workstation", "the title bar")
        for _ in range(2000):
            m = FIRST.search(self.log_text())
            if m:
                return float(m.group(1))
            time.sleep(0.005)
        raise SystemExit("no first-frame line in " + self.log)

    def cpu_ms(self):
        """CPU time of the fusion process so far, all its threads (schedstat: ns on CPU)."""
        if not hasattr(self, "_pid"):
            self._pid = self.pid()
        total = 0
        task = "/proc/%d/task" % self._pid
        for t in os.listdir(task):
            try:
                with open(os.path.join(task, t, "schedstat")) as f:
                    total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that ended meanwhile (its time is gone from the sum)
        return total / 1e6

    def key(self, *keys, literal=False, cpu=None):
        """Sends one key and returns the key -> frame time the UI logged for it; with a
        list as cpu, also appends the CPU milliseconds the process used meanwhile."""
        c0 = self.cpu_ms() if cpu is not None else 0
        before = len(FRAME.findall(self.log_text()))
        if literal:
            self.t.type(keys[0])
        else:
            self.t.send(*keys)
        for _ in range(24000):
            got = FRAME.findall(self.log_text())
            if len(got) > before:
                if cpu is not None:
                    cpu.append(self.cpu_ms() - c0)
                return float(got[before])
            time.sleep(0.0025)
        raise SystemExit("no frame logged after key %r" % (keys,))

    def pid(self):
        pane = int(self.t.fmt("#{pane_pid}"))
        todo = [pane]
        while todo:
            p = todo.pop()
            try:
                with open("/proc/%d/comm" % p) as f:
                    if f.read().strip() == "fusion":
                        return p
            except FileNotFoundError:
                pass
            todo += self.tmuxh.child_pids(p)
        raise SystemExit("fusion is not running in the pane")

    def memory(self):
        out = {}
        with open("/proc/%d/status" % self.pid()) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0]) / 1024.0
        return out

    def quit(self):
        self.t.send("q")
        self.t.wait_dead()
        self.t.close()
        self.lock.close()


def measure(tmuxh, fusion, home, name):
    r = Run(tmuxh, fusion, home, name)
    res = {"startup": r.start()}
    res["open"] = r.key("2")
    r.t.wait_for(" Escrows ", "the Escrows screen")
    scroll = []
    for _ in range(150):
        scroll.append(r.key("j"))
    for _ in range(20):
        scroll.append(r.key("PageDown"))
    for k in ("G", "g", "G", "g"):  # (scrolling never runs into an end: no-op keys draw nothing)
        scroll.append(r.key(k))
    for _ in range(30):
        scroll.append(r.key("C-d"))
    for _ in range(40):
        scroll.append(r.key("k"))
    res["scroll"] = scroll
    sort = []
    for _ in range(3):
        sort.append(r.key("s"))
        sort.append(r.key("j"))
    res["sort"] = sort
    filt, clear, counted, filt_cpu = [], [], [], []
    for text in ("0xab", "fun", "7c", "ETH", "dead"):
        r.t.send("/")
        time.sleep(0.05)
        for ch in text:
            filt.append(r.key(ch, literal=True, cpu=filt_cpu))
        r.t.send("Enter")
        t0 = time.monotonic()
        r.t.wait_for(lambda t: "matching /" + text in t and "+ escrows" not in t.split("\n")[2],
                     "the exact count of /" + text, tries=2400)
        counted.append(time.monotonic() - t0)
        clear.append(r.key("Escape"))
    res["filter"] = filt
    res["clear"] = clear
    res["counted"] = counted
    res["filter_cpu"] = filt_cpu
    res["mem"] = r.memory()
    r.quit()
    return res


def ensure_desk(fusion, base, n):
    home = os.path.join(base, "desk-%d" % n)
    if not os.path.exists(os.path.join(home, "desk.db")):
        t0 = time.monotonic()
        subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "bench", "ui_gen.py"),
                        fusion, home, str(n)], check=True)
        print("generated %d escrows in %.0f s" % (n, time.monotonic() - t0), flush=True)
    return home


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--baseline", type=int, default=1000)
    ap.add_argument("--keep")
    a = ap.parse_args()
    fusion = os.path.join(os.path.abspath(a.build), "fusion")
    import tmuxh
    base = a.keep or tempfile.mkdtemp(prefix="fusion-ui-bench-")
    os.makedirs(base, exist_ok=True)
    try:
        homes = [ensure_desk(fusion, base, a.baseline), ensure_desk(fusion, base, a.n)]
        print("load average: %s" % open("/proc/loadavg").read().strip(), flush=True)
        res = [measure(tmuxh, fusion, h, "n%d" % i) for i, h in enumerate(homes)]
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)
    b, m = res
    print("\nUI benchmark: %s escrows vs baseline %s (ms; key -> finished frame)"
          % (format(a.n, ","), format(a.baseline, ",")))
    print("%-28s %12s %12s %8s" % ("", "baseline", "N", "ratio"))

    def row(label, x, y):
        print("%-28s %12.2f %12.2f %8.2f" % (label, x, y, y / x if x else float("nan")))
    row("start-up to first frame", b["startup"], m["startup"])
    row("open Escrows (2)", b["open"], m["open"])
    for k in ("scroll", "sort", "filter", "clear"):
        row("%s p50 (%d keys)" % (k, len(m[k])), statistics.median(b[k]), statistics.median(m[k]))
        row("%s p99" % k, pct(b[k], 99), pct(m[k], 99))
        row("%s max" % k, max(b[k]), max(m[k]))
    row("filter CPU ms per key p50", statistics.median(b["filter_cpu"]),
        statistics.median(m["filter_cpu"]))
    row("filter CPU ms per key p99", pct(b["filter_cpu"], 99), pct(m["filter_cpu"], 99))
    row("exact count shown, max s", max(b["counted"]), max(m["counted"]))
    row("VmRSS MB", b["mem"]["VmRSS"], m["mem"]["VmRSS"])
    row("VmHWM MB (peak)", b["mem"]["VmHWM"], m["mem"]["VmHWM"])


if __name__ == "__main__":
    main()
