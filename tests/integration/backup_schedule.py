#!/usr/bin/python3
"""backup_schedule.py: the backup schedule that `fusion sync` runs from <home>/backup.conf,
on anvil. Started with an archive older than the interval in the backup directory, the
follower writes a new archive at once (0600, atomic: no temporary file is left), keeps the
newest `keep` and removes the oldest, and the new archive restores. With the passphrase
file gone and the last good archive older than alert_after, the desk gets an open
"backup:stale" alert (`fusion alerts`); once a backup succeeds again the alert is cleared.
A bad backup.conf is refused with one line before sync starts."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import FUSION, Chain, Desk, log, need_artifacts, wait_until  # noqa


def archives(d):
    return sorted(n for n in os.listdir(d) if n.startswith("fusion-") and n.endswith(".fbk"))


def stale_alerts(desk):
    return [a for a in desk.json("alerts", "--json") if a.get("key") == "backup:stale"]


def main():
    need_artifacts()
    os.environ["FUSION_KDF"] = "interactive"
    chain = Chain(chain_id=31337).start()
    outside = tempfile.mkdtemp(prefix="fusion-schedule-test-")
    try:
        chain.deploy()
        desk = Desk()
        desk.add_chain(chain)
        bdir = os.path.join(outside, "backups")
        os.mkdir(bdir, 0o700)
        pw = os.path.join(outside, "backup.pw")
        with open(pw, "w") as fh:
            fh.write("scheduled backups\n")
        os.chmod(pw, 0o600)
        conf = os.path.join(desk.home, "backup.conf")

        # a bad configuration: one line, exit 1, sync does not start
        with open(conf, "w") as fh:
            fh.write(f"interval = 10\npassphrase_file = {pw}\n")
        os.chmod(conf, 0o600)
        r = desk.run("sync", check=False, timeout=60)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert "backup.conf line 1" in r.stderr and "at least 60" in r.stderr, r.stderr

        with open(conf, "w") as fh:
            fh.write(f"# every hour, three kept\ninterval = 1h\nkeep = 3\nalert_after = 2h\n"
                     f"dir = {bdir}\npassphrase_file = {pw}\nkdf = interactive\n")
        # three old archives (written two days ago by name and time)
        old = time.time() - 2 * 86400
        for day in ("20000101", "20000102", "20000103"):
            p = os.path.join(bdir, f"fusion-{day}T000000Z.fbk")
            with open(p, "wb") as fh:
                fh.write(b"old archive")
            os.utime(p, (old, old))

        # 1. passphrase file missing: no backup is written, the desk is alerted
        os.rename(pw, pw + ".away")
        desk.follow()
        desk.wait_follower()
        wait_until(lambda: stale_alerts(desk), "the stale-backup alert")
        a = stale_alerts(desk)[0]
        assert a["severity"] == "warning", a
        assert "older than 7200s" in a["message"] and "passphrase" in a["message"], a
        assert len(archives(bdir)) == 3
        assert desk.stop_follow() == 0
        # the risk service syncs its own alerts; it leaves the backup's alone
        desk.run("risk", "report")
        assert stale_alerts(desk) and stale_alerts(desk)[0]["id"] == a["id"], stale_alerts(desk)
        log("failed scheduled backup: alert raised: " + a["message"])

        # 2. passphrase back: the follower backs up at once, prunes to keep = 3
        os.rename(pw + ".away", pw)
        desk.follow()
        desk.wait_follower()
        wait_until(lambda: len([n for n in archives(bdir) if not n.startswith("fusion-2000")])
                   == 1, "the scheduled backup")
        wait_until(lambda: not stale_alerts(desk), "the alert to clear")
        names = archives(bdir)
        assert names[:2] == ["fusion-20000102T000000Z.fbk", "fusion-20000103T000000Z.fbk"], names
        assert len(names) == 3, names
        assert [n for n in os.listdir(bdir) if n not in names] == [], os.listdir(bdir)
        new = os.path.join(bdir, names[-1])
        assert stat.S_IMODE(os.stat(new).st_mode) == 0o600
        cleared = [x for x in desk.json("alerts", "--all", "--json") if x["key"] == "backup:stale"]
        assert len(cleared) == 1 and cleared[0]["cleared_at"], cleared
        # the next look within the interval writes nothing more
        assert desk.stop_follow() == 0
        desk.follow()
        desk.wait_follower()
        time.sleep(1)
        assert archives(bdir) == names, archives(bdir)
        assert desk.stop_follow() == 0
        log("scheduled backup written, old ones pruned to keep = 3, alert cleared")

        # 3. the scheduled archive restores
        target = os.path.join(outside, "restored")
        r = subprocess.run([FUSION, "restore", new, "--home", target, "--passphrase-file", pw],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert "rows verified" in r.stdout, r.stdout
        r = subprocess.run([FUSION, "--home", target, "chain", "list", "--json"],
                           capture_output=True, text=True, timeout=60)
        assert json.loads(r.stdout)[0]["name"] == "local", r.stdout
        # the schedule's configuration came back with the desk
        assert os.path.exists(os.path.join(target, "backup.conf"))
        log("scheduled archive restores: ok")
    finally:
        chain.node.stop()
        shutil.rmtree(outside, ignore_errors=True)


if __name__ == "__main__":
    main()
