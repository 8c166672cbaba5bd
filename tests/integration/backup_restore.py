#!/usr/bin/python3
"""backup_restore.py: `fusion backup` and `fusion restore` end to end on anvil, through the
real binary. A desk is filled (entities, a case opened by screening with notes and a
four-eyes decision, operators, imported keys, escrows created and funded on chain by the
desk), backed up while `fusion sync` follows the chain, the home is destroyed and the
archive restored into a new home: `audit verify` passes, every entity, case and note is
back, and a restored key unlocks and signs (the signature checked with `cast wallet
verify`). Flipped bytes (header, frame length, middle, last byte), truncations and a wrong
passphrase are refused with one line, exit 1, and nothing is written. The archive holds
no plaintext of the desk (entity names, notes, addresses, SQLite's header). After the
backup, a transaction sent and an escrow acted on outside the desk are reported by the
restore's check against the chain. Hosted: the restored desk's endpoint a FAKE provider
(fake_provider.py) that refuses eth_getLogs over more than 5 blocks, a second backup, the
chain 60 blocks on with several events from the factory and from an escrow: the restore's
check reads them range by range and names each address once, with its first block."""
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, ZERO, CREATE_SIG, FUSION, Chain, log, need_artifacts, topic, wait_until  # noqa
from desk_escrow import DeskUser, create  # noqa
import devchain  # noqa: E402
from fake_provider import FakeProvider  # noqa: E402

SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # on the shipped OFAC list
AMOUNT = 10**18
BACKUP_PASS = "backup passphrase, not the keys' one"
ENTITIES = ("Zyxwvut Treasury AG", "Qwerpoiu Trading 有限公司", "Sanctioned Payee Corp")
NOTE = "Note-Marker-7f3a: beneficial owner confirmed by phone"


def one_line_fail(r, *contains):
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    for c in contains:
        assert c in r.stderr, (c, r.stderr)
    return r.stderr.strip()


def restore(archive, home, pw, *extra):
    return subprocess.run([FUSION, "restore", archive, "--home", home, "--passphrase-file", pw,
                           *extra], capture_output=True, text=True, timeout=600)


def tree(d):
    out = []
    for root, dirs, files in os.walk(d):
        out += [os.path.join(root, x) for x in dirs + files]
    return sorted(out)


def create_on_chain(chain, payee):
    deadline = int(time.time()) + 30 * 86400
    r = chain.cast_send(A[0], chain.factory, CREATE_SIG, payee, ZERO, str(AMOUNT),
                        f"[{A[2]},{A[3]}]", "2", A[4], str(deadline))
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    return "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]


def fill(desk, chain):
    desk.setup(chain)  # alice trader, bob/carol approvers, dave compliance, keys imported
    desk.run("operator", "add", "erin", "--key", A[6], "--role", "compliance")
    dave, erin = ("--operator", "dave"), ("--operator", "erin")
    for name, who in zip(ENTITIES, (A[0], A[1], SANCTIONED)):
        desk.run(*dave, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                 "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run(*dave, "entity", "link", name, "--chain", "local", "--address", who)
    bad = create_on_chain(chain, SANCTIONED)
    chain.act(bad, 0, "fund()", value=AMOUNT)
    r = desk.run("sync", "--once")
    assert "1 cases opened" in r.stderr, r.stderr
    cid = str([c for c in desk.json("case", "list", "--json")
               if c["escrow"].lower() == bad.lower()][0]["id"])
    desk.run(*dave, "case", "take", cid)
    desk.run(*dave, "case", "note", cid, NOTE)
    desk.run(*dave, "case", "clear", cid, "--note", "name match only, four-eyes asked")
    desk.run(*erin, "case", "clear", cid)
    # escrows created and funded through the desk (signed by the restored keys later)
    e1 = create(desk, "ETH", "0.5")
    desk.as_op("alice", "escrow", "fund", e1)
    return cid, bad, e1


def snapshot_listings(desk):
    cases = desk.json("case", "list", "--json", "--all")
    shows = {c["id"]: desk.json("case", "show", str(c["id"]), "--json") for c in cases}
    return {
        "entities": desk.json("entity", "list", "--json"),
        "cases": cases,
        "shows": shows,
        "operators": desk.json("operator", "list", "--json"),
        "keys": desk.run("key", "list").stdout,
    }


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    outside = tempfile.mkdtemp(prefix="fusion-backup-test-")
    try:
        chain.deploy()
        desk = DeskUser()
        cid, bad, e1 = fill(desk, chain)
        # the secrets stay outside the home that is going to be destroyed
        pw = os.path.join(outside, "keys.pw")
        shutil.copy(desk.pw, pw)
        os.chmod(pw, 0o600)
        for who, f in list(desk.signed.pw.items()):  # the operators' passphrase, moved out
            if f == desk.pw:
                desk.signed.pw[who] = pw
        desk.pw = pw
        bpw = os.path.join(outside, "backup.pw")
        with open(bpw, "w") as fh:
            fh.write(BACKUP_PASS + "\n")
        os.chmod(bpw, 0o600)
        before = snapshot_listings(desk)
        notes = [t.get("note") for t in before["shows"][int(cid)]["timeline"]]
        assert NOTE in notes, notes
        # five operators and the admin who signed the desk's genesis
        assert len(before["entities"]) == 3 and len(before["operators"]) == 6, before

        # ---- backup while `fusion sync` follows the chain and the chain moves ----
        desk.follow()
        desk.wait_follower()
        moved = create_on_chain(chain, A[1])
        wait_until(lambda: desk.query("SELECT count(*) FROM escrows WHERE lower(address) = ?",
                                      moved.lower())[0][0] == 1, "sync to store the new escrow")
        archive = os.path.join(outside, "desk.fbk")
        r = desk.run("backup", "--out", archive, "--passphrase-file", bpw)
        assert "backup written to" in r.stdout, r.stdout
        assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600, oct(os.stat(archive).st_mode)
        assert desk.follower.poll() is None, "fusion sync kept running through the backup"
        one_line_fail(desk.run("backup", "--out", archive, "--passphrase-file", bpw,
                               check=False), "exists")
        assert desk.stop_follow() == 0
        log("backup written while fusion sync ran")

        # ---- no plaintext of the desk in the archive ----
        with open(archive, "rb") as fh:
            blob = fh.read()
        needles = [n.encode() for n in ENTITIES + (NOTE, "Note-Marker-7f3a", "SQLite format 3",
                                                   "alice", "dave", "compliance", "audit")]
        for a in (A[0], A[1], A[2], SANCTIONED, bad, e1, moved):
            needles += [a.encode(), a.lower().encode(), a[2:].lower().encode(),
                        bytes.fromhex(a[2:])]
        for n in needles:
            assert n not in blob, ("plaintext in the archive", n)
        log(f"no plaintext among {len(needles)} needles in the {len(blob)}-byte archive")

        # ---- refusals: one line, exit 1, nothing written ----
        parent = tempfile.mkdtemp(prefix="fusion-restore-refused-")
        target = os.path.join(parent, "home")
        bad_copy = os.path.join(outside, "bad.fbk")
        mid = len(blob) // 2
        cases = []
        for pos in (0, 5, 9, 11, 13, 25, 30, 50, 67, 68, 70, 71, 72, 100, mid, len(blob) - 17,
                    len(blob) - 1):
            b = bytearray(blob)
            b[pos] ^= 0x01
            cases.append((f"byte {pos} flipped", bytes(b)))
        for cut in (len(blob) - 1, len(blob) - 16, mid, 72, 68, 40, 8, 0):
            cases.append((f"cut to {cut} bytes", blob[:cut]))
        cases.append(("a frame appended", blob + blob[68:200]))
        for what, data in cases:
            with open(bad_copy, "wb") as fh:
                fh.write(data)
            r = restore(bad_copy, target, bpw)
            line = one_line_fail(r, "refused")
            assert tree(parent) == [], (what, tree(parent))
        log(f"{len(cases)} damaged archives refused with one line, nothing written; e.g. {line}")
        wrong = os.path.join(outside, "wrong.pw")
        with open(wrong, "w") as fh:
            fh.write("not the backup passphrase\n")
        os.chmod(wrong, 0o600)
        one_line_fail(restore(archive, target, wrong), "wrong passphrase")
        assert tree(parent) == []
        # only into an empty home
        os.mkdir(target, 0o700)
        with open(os.path.join(target, "something"), "w") as fh:
            fh.write("x")
        one_line_fail(restore(archive, target, bpw), "not empty")
        assert tree(parent) == [target, os.path.join(target, "something")], tree(parent)
        shutil.rmtree(parent)
        # usage errors and other refusals: one line each
        for args, code in ((("backup",), 2), (("backup", "--out", archive, "--kdf", "weak"), 2),
                           (("backup", "--out", "x", "--out", "y"), 2), (("restore",), 2)):
            r = subprocess.run([FUSION, "--home", desk.home, *args], capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == code and r.stderr.count("\n") == 1, (args, r.returncode,
                                                                         r.stderr)
        one_line_fail(restore(os.path.join(outside, "missing.fbk"), target, bpw), "cannot open")
        one_line_fail(restore(archive, bpw, bpw), "not a directory")
        assert not os.path.exists(target)
        log("wrong passphrase and a non-empty home refused, nothing written")

        # ---- after the backup: a transaction and an escrow action outside the desk ----
        chain.node.cast("send", "--unlocked", "--from", A[0], A[9], "--value", "1")
        chain.act(moved, 0, "fund()", value=AMOUNT)

        # ---- destroy the home, restore into a new one ----
        old_home = desk.home
        shutil.rmtree(old_home)
        new_parent = tempfile.mkdtemp(prefix="fusion-restored-")
        new_home = os.path.join(new_parent, "desk")
        r = restore(archive, new_home, bpw, )
        assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
        out = r.stdout
        assert "audit:" in out and "rows verified" in out, out
        # alice (A[0]) sent a payment and funded the escrow: two transactions
        assert f"{A[0].lower()} has sent 2 transaction(s) after the backup" in out, out
        assert f"{moved.lower()} logged events after the backup" in out, out
        rj = subprocess.run([FUSION, "--json", "restore", archive, "--home",
                             os.path.join(new_parent, "again"), "--passphrase-file", bpw],
                            capture_output=True, text=True, timeout=600)
        assert rj.returncode == 0, rj.stderr
        rep = json.loads(rj.stdout)
        assert rep["audit"]["ok"] is True and rep["manifest"]["counts"]["entities"] == 3, rep
        assert rep["manifest"]["audit"]["db_head_seq"] <= rep["manifest"]["audit"]["log_head_seq"]
        assert any(moved.lower() in d for d in rep["differences"]), rep["differences"]
        for path, _, files in os.walk(new_home):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o700, path
            for f in files:
                assert stat.S_IMODE(os.stat(os.path.join(path, f)).st_mode) == 0o600, f
        desk.home = new_home
        desk.run("audit", "verify")
        after = snapshot_listings(desk)
        for k in ("entities", "operators", "keys"):
            assert after[k] == before[k], (k, before[k], after[k])
        # sync may have screened the escrow created during the backup: every case from
        # before is back as it was, with its whole timeline
        for c in before["cases"]:
            assert c in after["cases"], (c, after["cases"])
            assert after["shows"][c["id"]] == before["shows"][c["id"]], c["id"]
        assert NOTE in [t.get("note") for t in after["shows"][int(cid)]["timeline"]]
        # the four-eyes decision: dave proposed clearing, erin confirmed it
        decided = [t["operator"] for t in after["shows"][int(cid)]["timeline"]
                   if "cleared" in (t.get("after") or "")]
        assert decided == ["dave", "erin"], after["shows"][int(cid)]["timeline"]
        log("restored: audit verifies, entities, cases, notes, the four-eyes decision, "
            "operators and keys are back")

        # ---- a restored key unlocks and signs; cast verifies the signature ----
        msg = "restored desk signs"
        sig = desk.run("--passphrase-file", pw, "key", "sign-message", A[2], msg).stdout.strip()
        v = subprocess.run([os.path.join(devchain.TOOLS, "cast"), "wallet", "verify", "--address", A[2], msg, sig],
                           capture_output=True, text=True)
        assert v.returncode == 0, (v.stdout, v.stderr)
        # and the restored desk goes on: sync catches up, actions append to the audit log
        desk.run("sync", "--once")
        assert desk.query("SELECT state FROM escrows WHERE lower(address) = ?",
                          moved.lower())[0][0] != "created"
        desk.run("--operator", "dave", "entity", "add", "After Restore GmbH", "--type",
                 "company", "--jurisdiction", "DE")
        desk.run("audit", "verify")
        log("restored key signs (cast wallet verify), sync and the audit chain go on: ok")

        # ---- hosted: the check against a provider that caps eth_getLogs at 5 blocks ----
        # the checkpoint past every event so far (its confirmations mined over)
        chain.node.cast("rpc", "anvil_mine", hex(10))
        desk.run("sync", "--once")
        fake = FakeProvider(chain.node.url, "backup-key", profile="infura", max_blocks=5)
        try:
            con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
            con.execute("UPDATE rpc_endpoints SET url = ? WHERE chain_id = ?",
                        (fake.url_for("backup-key"), chain.chain_id))
            con.commit()
            con.close()
            archive2 = os.path.join(outside, "hosted.fbk")
            desk.run("backup", "--out", archive2, "--passphrase-file", bpw)
            mine = lambda n: chain.node.cast("rpc", "anvil_mine", hex(n))  # noqa: E731
            mine(20)
            deadline = int(time.time()) + 30 * 86400
            firsts = {}
            for _ in range(2):
                r = chain.cast_send(A[0], chain.factory, CREATE_SIG, A[1], ZERO, str(AMOUNT),
                                    f"[{A[2]},{A[3]}]", "2", A[4], str(deadline))
                firsts.setdefault(chain.factory.lower(), int(r["blockNumber"], 16))
                r = chain.act(moved, 2 + _, "approve()")
                firsts.setdefault(moved.lower(), int(r["blockNumber"], 16))
                mine(20)
            hosted_home = os.path.join(new_parent, "hosted")
            r = restore(archive2, hosted_home, bpw)
            assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
            assert "cannot read the logs" not in r.stdout, r.stdout
            for a, first in firsts.items():
                line = f"{a} logged events after the backup (first in block {first})"
                assert r.stdout.count(f"{a} logged events") == 1 and line in r.stdout, \
                    (line, r.stdout)
            assert fake.stats()["capped"] >= 1, fake.stats()
            log(f"hosted: the check read {len(fake.log_ranges())} log ranges through a 5-block"
                f" cap and named {len(firsts)} addresses once each")
        finally:
            fake.stop()
    finally:
        chain.node.stop()
        shutil.rmtree(outside, ignore_errors=True)


if __name__ == "__main__":
    main()
