#!/usr/bin/python3
"""pg_notify.py: commits announced across machines, on a real server. Two listening
workstations (pg_notify_tool listen, pg_commit_listen + pg_commit_wait) and a writer that
announces inside its transactions (pg_commit_notify): two transactions roll back, two
commit; each listener hears exactly the two commits, in order, and never a rolled-back
one."""
import os
import subprocess
import sys

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from pg import PgServer, available  # noqa: E402

TOOL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "tests", "pgstore",
                                                          "pg_notify_tool")


def main():
    if not available():
        print("FAIL: PostgreSQL 15 is not installed: run scripts/bootstrap (a skipped test proves nothing)")
        return 1
    with PgServer() as pg:
        listeners = [subprocess.Popen([TOOL, pg.url, "listen", "2"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            for li in listeners:
                assert li.stdout.readline().strip() == "listening", li.stderr.read()
            for what, end in (("escrow:1", "rollback"), ("escrow:2", "commit"),
                              ("tx:3", "rollback"), ("tx:4", "commit")):
                r = subprocess.run([TOOL, pg.url, "announce", what, end], capture_output=True,
                                   text=True, timeout=60)
                assert r.returncode == 0, r.stderr
            for li in listeners:
                out, err = li.communicate(timeout=120)
                assert li.returncode == 0, (li.returncode, err)
                assert out.splitlines() == ["commit escrow:2", "commit tx:4"], out
        finally:
            for li in listeners:
                if li.poll() is None:
                    li.kill()
                    li.wait()
    print("pg_notify: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
