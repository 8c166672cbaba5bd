#!/usr/bin/python3
"""pg_lock.py: one syncer per chain across the firm, on a real server. Two workstation
processes (pg_lock_tool, which calls pg_chain_lock_try) and one server (tests/lib/pg.py):
the first takes chain 31337's advisory lock and keeps its connection; the second is
refused, while another chain's lock is free; the server's pg_locks shows the lock held by
the first one's backend. The holder is SIGKILLed (no unlock, no goodbye): the server ends
its session and the other workstation takes the lock (polled, with a bound for failure)."""
import os
import signal
import subprocess
import sys
import time

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from pg import PgServer, available  # noqa: E402

TOOL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "tests", "pgstore",
                                                          "pg_lock_tool")


def attempt(url, chain):
    r = subprocess.run([TOOL, url, str(chain), "try"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode in (0, 3), f"pg_lock_tool try: {r.returncode} {r.stderr}"
    return r.stdout.strip()


def main():
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap (a skipped test proves nothing)")
        return 1
    with PgServer() as pg:
        url = pg.url
        holder = subprocess.Popen([TOOL, url, "31337", "hold"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            line = holder.stdout.readline().split()
            assert line and line[0] == "held", f"holder: {line} {holder.stderr.read()}"
            backend = int(line[1])
            # the server's own view: an advisory lock granted to the holder's backend
            locks = pg.psql("SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory'")
            assert locks == [[str(backend), "t"]], locks
            # the other workstation is refused the same chain, not another chain
            assert attempt(url, 31337) == "refused"
            assert attempt(url, 1) == "held"
            holder.kill()  # SIGKILL: the lock is never released by the process itself
            holder.wait(timeout=30)
            assert holder.returncode == -signal.SIGKILL
            deadline = time.monotonic() + 60
            got = attempt(url, 31337)
            while got != "held" and time.monotonic() < deadline:
                time.sleep(0.1)
                got = attempt(url, 31337)
            assert got == "held", "the lock of a killed holder was never released"
            assert backend not in pg.backend_pids(), "the killed holder's session lives on"
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait()
    print("pg_lock: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
