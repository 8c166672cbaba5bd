#!/usr/bin/python3
"""devnet_demo_ui.py: `fusion demo` with its UI, driven through tmux (tests/ui/tmuxh.py).

The demo opens the workstation on a fresh desk while its devnet, sync and market driver
run: the UI's title bar appears, four anvil nodes serve the chosen ports, and escrows
made by the driver reach the desk database through sync while the UI is open (read here
with sqlite3). `q` quits with status 0, and then no anvil remains on those ports (/proc):
quitting stops everything the demo started. (What the dashboard shows is the UI wiring's
business; this test asserts on the demo's part.)
"""
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.environ["FUSION_ROOT"], "tests", "ui"))
import tmuxh  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import N_CHAINS, TOOLS, anvils_on, free_ports  # noqa: E402


def escrow_count(home):
    path = os.path.join(home, "desk.db")
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(path, timeout=5)
    try:
        return db.execute("SELECT count(*) FROM escrows").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


def main():
    ports = free_ports(N_CHAINS)
    t = tmuxh.Tmux("demo-ui", cols=100, rows=30)
    try:
        t.start_fusion(env={"FUSION_TOOLS": TOOLS},
                       extra="demo --step-ms 1000 --ports %s" % ",".join(map(str, ports)))
        t.wait_for("Fusion Prime Workstation", "the UI opened by the demo", tries=1200)
        t.check(len(anvils_on(ports)) == N_CHAINS, "four anvil nodes run while the UI is open")
        for _ in range(600):
            if escrow_count(t.home) >= 2:
                break
            time.sleep(0.1)
        t.check(escrow_count(t.home) >= 2, "escrows reach the desk while the UI is open")
        t.send("q")  # quitting stops the demo's chains: it asks first
        t.wait_for("Quitting stops the demo's chains", "the quit question")
        t.send("y")
        status = t.wait_dead()
        t.check(status == 0, "the demo exits 0 after q (got %d)" % status)
        for _ in range(100):
            if not anvils_on(ports):
                break
            time.sleep(0.1)
        t.check(not anvils_on(ports), "quitting the UI stopped the devnet")
        hist = t.history()
        t.check("devnet stopped (%d nodes)" % N_CHAINS in hist,
                "the demo says it stopped the devnet")
    finally:
        left = anvils_on(ports)
        if left:
            import subprocess
            subprocess.run([tmuxh.FUSION_BIN, "--home", t.home, "devnet", "down"],
                           capture_output=True)
    print("ok")


if __name__ == "__main__":
    tmuxh.run(main)
