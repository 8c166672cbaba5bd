#!/usr/bin/python3
"""test_demo_first_command.py: the acceptance test of the README's first command.

`scripts/run` builds and then execs `fusion demo` with tools/bin on PATH and a desk home;
this test runs that same `fusion demo` (the built binary, FUSION_TOOLS and PATH as
scripts/run sets them, a temporary desk home, four loopback ports picked free here)
inside tmux, and checks through capture-pane that within the issue's 30 s acceptance
deadline (a timeout, not a measurement) the Dashboard shows:
  - moving prices: two captures differ in a Price USD cell of the same asset and chain;
  - escrows: a portfolio row of the desk's funds in escrow: the demo's market maker (its
    own account, not the desk's trader) pays the desk, so the row is "USDC (due)";
  - cases: the alerts heading counts open compliance cases ("cases: N open", N > 0).
Then `q` asks first (quitting stops the demo's chains; `n` keeps them), `y` quits, the demo exits 0, and no anvil is left on its ports (/proc), and
`fusion devnet status` on that home finds no node running.
"""
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
sys.path.insert(0, os.path.join(tmuxh.FUSION_ROOT, "tests", "integration"))
from devnet_lib import N_CHAINS, TOOLS, anvils_on, free_ports  # noqa: E402

DEADLINE_S = 30  # the acceptance deadline for the first screen with live data

PRICE_ROW = re.compile(r"^\s*│?\s*(\S+)\s+(devnet-\w+)\s+[0-9.,]+…?\s+([0-9,]+\.[0-9]{2})\s")


def prices(text):
    """{(asset, chain): price text} of the portfolio rows of a capture."""
    out = {}
    for line in text.split("\n"):
        m = PRICE_ROW.match(line)
        if m:
            out[(m.group(1), m.group(2))] = m.group(3)
    return out


def cases_open(text):
    m = re.search(r"cases: (\d+) open \((\d+) high\)", text)
    return int(m.group(1)) if m else 0


def main():
    ports = free_ports(N_CHAINS)
    # rows: the Dashboard lists four chains of positions before the escrow rows
    t = tmuxh.Tmux("demo-first", cols=120, rows=50)
    env = {"FUSION_TOOLS": TOOLS,
           "PATH": TOOLS + os.pathsep + os.environ.get("PATH", "")}
    try:
        t.start_fusion(env=env, extra="demo --ports %s" % ",".join(map(str, ports)))
        # The clock starts when the command runs; polling, bounded by the deadline.
        start = time.monotonic()
        seen = {}
        moved = escrow = cases = False
        text = ""
        while time.monotonic() - start < DEADLINE_S and not (moved and escrow and cases):
            text = t.capture()
            if "Dashboard" in text:
                for k, v in prices(text).items():
                    if k in seen and seen[k] != v:
                        moved = True
                    seen.setdefault(k, v)
                escrow = escrow or re.search(r"^\s*USDC \(due\)", text, re.M) is not None
                cases = cases or cases_open(text) > 0
            time.sleep(0.2)
        t.check(bool(seen), "the Dashboard shows prices within %d s" % DEADLINE_S)
        t.check(moved, "a price on the Dashboard moved within %d s (first seen: %r)"
                % (DEADLINE_S, seen))
        t.check(escrow, "the Dashboard shows funds in escrow within %d s" % DEADLINE_S)
        t.check(cases, "the Dashboard counts open cases within %d s" % DEADLINE_S)
        t.check(len(anvils_on(ports)) == N_CHAINS, "four anvil nodes run while the UI is open")
        t.send("q")  # quitting stops the demo's chains: it asks first
        t.wait_for(lambda s: "Quitting stops the demo's chains" in s and "[ y Quit ]" in s,
                   "the quit question")
        t.check(len(anvils_on(ports)) == N_CHAINS, "the chains still run while it asks")
        t.send("n")
        t.wait_gone("Quitting stops", "n keeps the demo running")
        t.send("q")
        t.wait_for("Quitting stops the demo's chains", "the quit question again")
        t.send("y")
        status = t.wait_dead()
        t.check(status == 0, "the demo exits 0 after q (got %d)" % status)
        t.check(not anvils_on(ports), "quitting the demo left no anvil on its ports")
        st = subprocess.run([tmuxh.FUSION_BIN, "--home", t.home, "devnet", "status"],
                            capture_output=True, text=True, env=dict(os.environ, **env),
                            timeout=60)
        t.check(st.returncode != 0 and "running" not in st.stdout.replace("not running", ""),
                "devnet status finds no node of the demo running: %s" % st.stdout)
    finally:
        if anvils_on(ports):
            subprocess.run([tmuxh.FUSION_BIN, "--home", t.home, "devnet", "down"],
                           capture_output=True, timeout=60)


if __name__ == "__main__":
    tmuxh.run(main)
