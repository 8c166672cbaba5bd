#!/usr/bin/python3
"""devchain_logs.py: an anvil's log folder (fusion-anvil-*) is removed when the test that
started it passes, kept and named on stderr when it fails.

Each case is a small script run as its own process (the test's end is that process's exit)
with TMPDIR pointed at a folder of this test's own, so only the folders it made are looked at.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

LIB = os.path.dirname(os.path.abspath(__file__))
DEVCHAIN = os.path.join(LIB, "devchain.py")
PY = sys.executable

HEAD = f"import sys; sys.path.insert(0, {LIB!r}); import devchain\n"
CASES = [
    # (name, script, wanted exit status, folders kept)
    ("with-block, exit 0", "with devchain.Anvil() as n: n.block_number()\n", 0, False),
    ("never stopped (killed at exit), exit 0", "n = devchain.Anvil(); n.start()\n", 0, False),
    ("restarted, then stopped", "n = devchain.Anvil(); n.start(); n.restart(); n.stop()\n", 0,
     False),
    ("skipped (77)", "with devchain.Anvil() as n: pass\nsys.exit(77)\n", 77, False),
    ("sys.exit(1)", "with devchain.Anvil() as n: pass\nsys.exit(1)\n", 1, True),
    ("sys.exit('message')", "with devchain.Anvil() as n: pass\nsys.exit('boom')\n", 1, True),
    ("uncaught exception", "n = devchain.Anvil(); n.start()\nraise AssertionError('x')\n", 1,
     True),
    ("two nodes, failing", "a = devchain.Anvil(); a.start(); b = devchain.Anvil(chain_id=5)\n"
     "b.start(); a.stop()\nassert False\n", 1, True),
]


def main():
    failures = []
    top = tempfile.mkdtemp(prefix="fusion-devchain-logs-")
    env = dict(os.environ)
    try:
        for i, (name, body, want_rc, kept) in enumerate(CASES):
            tmp = os.path.join(top, str(i))
            os.mkdir(tmp)
            env["TMPDIR"] = tmp
            r = subprocess.run([PY, "-c", HEAD + body], env=env, capture_output=True, text=True,
                               timeout=300)
            left = sorted(glob.glob(os.path.join(tmp, "fusion-anvil-*")))
            if r.returncode != want_rc:
                failures.append(f"{name}: exit {r.returncode}, wanted {want_rc}: {r.stderr}")
            if kept:
                if not left:
                    failures.append(f"{name}: the failed test's anvil log folder was removed")
                for d in left:
                    if not os.path.isfile(os.path.join(d, "anvil.log")):
                        failures.append(f"{name}: {d} kept without its anvil.log")
                    if f"kept for debugging: {d}\n" not in r.stderr:
                        failures.append(f"{name}: stderr does not name {d}: {r.stderr!r}")
            elif left:
                failures.append(f"{name}: left behind {left}")
        # devchain.py run: the test is the command; its exit status decides.
        for cmd, want_rc, kept in ((["true"], 0, False), (["false"], 1, True)):
            tmp = os.path.join(top, "run-" + cmd[0])
            os.mkdir(tmp)
            env["TMPDIR"] = tmp
            r = subprocess.run([PY, DEVCHAIN, "run", "--nodes", "2", "--", *cmd], env=env,
                               capture_output=True, text=True, timeout=300)
            left = glob.glob(os.path.join(tmp, "fusion-anvil-*"))
            name = f"devchain.py run -- {cmd[0]}"
            if r.returncode != want_rc:
                failures.append(f"{name}: exit {r.returncode}, wanted {want_rc}: {r.stderr}")
            if kept and len(left) != 2:
                failures.append(f"{name}: kept {left}, wanted both nodes' folders")
            if not kept and left:
                failures.append(f"{name}: left behind {left}")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    if failures:
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
