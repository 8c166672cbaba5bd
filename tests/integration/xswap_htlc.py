#!/usr/bin/python3
"""xswap_htlc.py: cross-chain settlement by HTLC on two real anvil nodes (the devnet's
Ethereum and Polygon stand-ins), checked with cast, not with fusion's own view:

  happy path      alice gives 2500 USDC on X, bob 1.5 native coin on Y: both locks end
                  Claimed, bob holds exactly 2500 USDC more, the preimage in Y's Claimed
                  event hashes (sha256, computed here) to the swap's hashlock;
  no counterparty bob never locks: after T1 (evm_increaseTime) alice's lock is refunded
                  and her USDC balance is back to what it was;
  killed          the process is killed with SIGKILL while its lock on X is sent but not
                  mined (the test stops X's block production and watches the desk), and
                  again while the lock on Y is in flight: `xswap resume` finishes, with
                  exactly one lock per chain (lockCount) and both locks claimed; and a
                  third time with its claim on Y in flight, which the node then drops:
                  resume re-sends the stored (sealed) claim;
  at rest         after the happy and the killed swaps, the secret (read from Y's Claimed
                  event) is in no file of the desk home, as bytes or hex;
  tampered        the stored secret is a 73-byte sealed blob: with one bit changed the
                  claim on Y is refused and nothing is claimed; restored, the swap completes;
  too short       a counterparty lock whose T2 leaves less than the margin before T1 is
                  refused: exit 1, nothing locked on Y;
  external        bob locks on Y with cast: a lock whose T2 is too close to T1 is found and
                  refused (no claim on Y, the secret is not revealed); a proper one is
                  adopted and the swap completes;
  listed          bob on the desk's sanctions list: `xswap new` refused, nothing recorded
                  or locked; a lock on X in flight that the node lost is not sent again by
                  `xswap resume` while bob is listed, and goes out once he is not;
  gate            bob listed after alice locked: his lock on Y is refused by the desk's
                  compliance gate before anything is signed (no outbound row, no
                  desk.signed audit row, nothing locked on Y);
  one pipeline    every swap transaction is in the desk's outbound table (`fusion tx
                  list`): EIP-1559, gas estimated (not a fixed 300000), the claim on Y with
                  no signed bytes kept; a lock on X in flight is sped up with `fusion tx
                  speedup` and the swap follows the replacement to x_locked;
  unknown htlc    the swap's lock on X is moved (in desk.db) to a contract deployed here
                  that answers getLock with exactly the real lock's terms but is no
                  HashedTimelock: `xswap respond` is refused with one line naming the
                  contract, nothing signed or locked on Y; `xswap new` with the desk's htlc
                  on Y set to another contract is refused and records nothing; restored,
                  the swap completes; bob's lock on Y (made with cast) moved the same way
                  to a stand-in on Y gets no claim from alice (the secret stays secret);
  reused hashlock a second swap row carries the first swap's hashlock: `xswap respond` on
                  either is refused (one revealed preimage opens every lock of a
                  hashlock), nothing signed or locked on Y; bob's own lock on Y (cast) is
                  adopted but gets no claim (the secret stays secret); without the copy
                  the swap completes;
  background      `fusion sync --once --swaps` (with --passphrase-file and --yes) moves a
                  swap on by itself: bob's lock made with cast is adopted, both claims
                  made; without --yes it is a usage error.
Each step is signed through the desk's pipeline as the operator whose key is the party's,
with the passphrase of --passphrase-file (no demo passphrase is assumed) and --yes.
"""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import (N_CHAINS, ENV, FUSION, cast, check, free_ports, fusion,  # noqa: E402
                        report)

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil dev key #1, "alice (trader)"
BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"    # anvil dev key #2, "bob (approver)"
# bob's key as Foundry publishes it: his locks below are made with cast, not with fusion
BOB_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"


def num(s):
    return int(s.split()[0])


class Desk:
    def __init__(self, home):
        import sqlite3
        db = sqlite3.connect(os.path.join(home, "desk.db"))
        self.url = dict(db.execute("SELECT c.name, e.url FROM chains c JOIN rpc_endpoints e"
                                   " USING (chain_id)"))
        self.htlc = dict(db.execute("SELECT c.name, k.address FROM chains c JOIN contracts k"
                                    " USING (chain_id) WHERE k.kind = 'htlc'"))
        self.usdc = dict(db.execute("SELECT c.name, t.address FROM chains c JOIN tokens t"
                                    " USING (chain_id) WHERE t.symbol = 'USDC'"))
        db.close()

    def usdc_of(self, chain, who):
        return num(cast("call", "--rpc-url", self.url[chain], self.usdc[chain],
                        "balanceOf(address)(uint256)", who))

    def lock_status(self, chain, lock_id):
        out = cast("call", "--rpc-url", self.url[chain], self.htlc[chain],
                   "getLock(bytes32)((address,address,address,uint64,uint8,uint256,bytes32))",
                   lock_id)
        return int(out.strip("()").split(",")[4].strip().split()[0])

    def lock_count(self, chain):
        return num(cast("call", "--rpc-url", self.url[chain], self.htlc[chain],
                        "lockCount()(uint256)"))


PASSFILE = None  # the demo keys' passphrase, in a 0600 file of the test's own


def xs(*args):
    """The global options a swap step needs (no demo passphrase is assumed), then xswap."""
    return ["--passphrase-file", PASSFILE, "--yes", "xswap", *args]


def swaps(home):
    return {s["id"]: s for s in json.loads(fusion(home, "xswap", "list", "--json").stdout)}


def txs(home):
    return json.loads(fusion(home, "tx", "list", "--json").stdout)


def new_swap(home, *extra, env=None, rc=0):
    fusion(home, *xs("new"), "--x", "devnet-eth", "--y", "devnet-pol", "--initiator",
               ALICE, "--counterparty", BOB, "--give", "2500:USDC", "--get", "1.5", *extra,
               env=env, rc=rc)
    return max(swaps(home))


def wait_final(desk, chain, blocks=3):
    """Mines a few blocks so that a lock is final (devnet chains: 2 confirmations)."""
    for _ in range(blocks):
        cast("rpc", "--rpc-url", desk.url[chain], "evm_mine")


def happy(home, desk):
    bob0 = desk.usdc_of("devnet-eth", BOB)
    sid = new_swap(home)
    check(swaps(home)[sid]["state"] == "x_locked", "happy: locked on X")
    wait_final(desk, "devnet-eth")
    fusion(home, *xs("respond"), str(sid))
    s = swaps(home)[sid]
    check(s["state"] == "done", "happy: done (%s)" % s["state"])
    check(desk.lock_status("devnet-eth", s["lock_x"]) == 2, "happy: lock on X claimed")
    check(desk.lock_status("devnet-pol", s["lock_y"]) == 2, "happy: lock on Y claimed")
    check(desk.usdc_of("devnet-eth", BOB) - bob0 == 2500 * 10**6, "happy: bob got 2500 USDC")
    check(s["t1"] - s["t2"] >= s["margin"], "happy: T1 - T2 >= margin")
    # the secret as chain Y published it hashes to the hashlock
    logs = json.loads(cast("logs", "--json", "--rpc-url", desk.url["devnet-pol"], "--from-block",
                           "0", "--address", desk.htlc["devnet-pol"],
                           "Claimed(bytes32 indexed,bytes32)", s["lock_y"]))
    check(len(logs) == 1, "happy: one Claimed event on Y")
    if logs:
        pre = bytes.fromhex(logs[0]["data"][2:])
        check("0x" + hashlib.sha256(pre).hexdigest() == s["hashlock"],
              "happy: revealed preimage hashes to the hashlock")
    no_secret_at_rest(home, desk, s, "happy")


def no_counterparty(home, desk):
    a0 = desk.usdc_of("devnet-eth", ALICE)
    sid = new_swap(home, "--t1", "400", "--margin", "100")
    check(desk.usdc_of("devnet-eth", ALICE) == a0 - 2500 * 10**6, "refund: alice's USDC locked")
    fusion(home, *xs("resume"), str(sid))
    check(swaps(home)[sid]["state"] == "x_locked", "refund: nothing to do before T1")
    cast("rpc", "--rpc-url", desk.url["devnet-eth"], "evm_increaseTime", "500")
    cast("rpc", "--rpc-url", desk.url["devnet-eth"], "evm_mine")
    fusion(home, *xs("resume"), str(sid))
    s = swaps(home)[sid]
    check(s["state"] == "refunded", "refund: refunded after T1 (%s)" % s["state"])
    check(desk.lock_status("devnet-eth", s["lock_x"]) == 3, "refund: lock on X refunded")
    check(desk.usdc_of("devnet-eth", ALICE) == a0, "refund: alice's USDC back")


def pending_of(home, sid):
    """(state, pending action) of a swap as the desk holds it, read with sqlite3."""
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        row = db.execute("SELECT state, pending_action FROM xswaps WHERE id = ?",
                         (sid,)).fetchone()
    finally:
        db.close()
    return row if row else (None, None)


def last_id(home):
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        return db.execute("SELECT max(id) FROM xswaps").fetchone()[0] or 0
    finally:
        db.close()


def mining(desk, chain, on):
    """Stops (0) or restarts (1 s) the chain's block production."""
    cast("rpc", "--rpc-url", desk.url[chain], "evm_setIntervalMining", "1" if on else "0")


def kill_in_flight(home, desk, chain, args, sid, action, mine_once=False):
    """Runs `fusion ARGS` with CHAIN's mining stopped (mine_once: but for one block, mined
    here, which lets a transaction already in flight through), waits (bounded) until the
    desk shows ACTION signed, stored and in flight for swap SID (sid None: the next new
    swap), then kills the process with SIGKILL, before it could see a receipt. Returns the
    swap id."""
    mining(desk, chain, False)
    proc = subprocess.Popen([FUSION, "--home", home, *xs(*args)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if mine_once:
            cast("rpc", "--rpc-url", desk.url[chain], "evm_mine")
        hit = False
        for _ in range(1500):  # up to about 30 s: the process waits 30 s for a receipt
            cur = sid if sid is not None else last_id(home)
            if cur and pending_of(home, cur)[1] == action:
                sid, hit = cur, True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        check(hit, "killed: %s seen in flight before the process ended" % action)
        check(proc.poll() is None, "killed: the process still runs when it is killed")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        check(proc.returncode == -signal.SIGKILL, "killed: %s died of SIGKILL (%s)"
              % (action, proc.returncode))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        mining(desk, chain, True)
    return sid


def no_secret_at_rest(home, desk, s, what):
    """The secret, as chain Y's Claimed event published it, is in no file of the desk home
    (desk.db and its WAL, the logs, the audit log), neither as bytes nor as hex: it was
    kept sealed, and so was the signed claim that carried it."""
    logs = json.loads(cast("logs", "--json", "--rpc-url", desk.url["devnet-pol"], "--from-block",
                           "0", "--address", desk.htlc["devnet-pol"],
                           "Claimed(bytes32 indexed,bytes32)", s["lock_y"]))
    check(len(logs) == 1, "%s: the secret was revealed on Y" % what)
    if not logs:
        return
    pre = bytes.fromhex(logs[0]["data"][2:])
    needles = [pre, pre.hex().encode(), pre.hex().upper().encode()]
    seen = []
    for dirpath, _, files in os.walk(home):
        for name in files:
            if name.endswith(".pid"):
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            seen.append(name)
            for n in needles:
                check(n not in data, "%s: the secret is not in %s" % (what, name))
    check("desk.db" in seen, "%s: desk.db was searched (%s)" % (what, seen))


def killed(home, desk):
    """The process is killed (SIGKILL, for real) while the lock on X, and later the lock
    on Y, is signed and sent but not mined; `xswap resume` finishes the swap with exactly
    one lock per chain. Native coin on both sides: no token approval to mine first."""
    nx, ny = desk.lock_count("devnet-eth"), desk.lock_count("devnet-pol")
    sid = kill_in_flight(home, desk, "devnet-eth",
                         ["new", "--x", "devnet-eth", "--y", "devnet-pol",
                          "--initiator", ALICE, "--counterparty", BOB, "--give", "1",
                          "--get", "1.5"], None, "lock_x")
    check(pending_of(home, sid) == ("new", "lock_x"), "killed: lock on X left in flight")
    check(desk.lock_count("devnet-eth") == nx, "killed: nothing locked on X yet")
    fusion(home, *xs("resume"), str(sid))
    check(swaps(home)[sid]["state"] == "x_locked", "killed: resumed to x_locked")
    check(desk.lock_count("devnet-eth") == nx + 1, "killed: exactly one lock on X")
    wait_final(desk, "devnet-eth")
    kill_in_flight(home, desk, "devnet-pol", ["respond", str(sid)], sid, "lock_y")
    check(pending_of(home, sid) == ("x_locked", "lock_y"), "killed: lock on Y left in flight")
    # resume lets the lock on Y through (one block), then dies with its claim on Y (which
    # carries the secret, stored sealed) in flight; the node then loses that claim
    kill_in_flight(home, desk, "devnet-pol", ["resume", str(sid)], sid, "claim_y",
                   mine_once=True)
    check(pending_of(home, sid) == ("y_locked", "claim_y"), "killed: claim on Y left in flight")
    cast("rpc", "--rpc-url", desk.url["devnet-pol"], "anvil_dropAllTransactions")
    fusion(home, *xs("resume"))
    s = swaps(home)[sid]
    check(s["state"] == "done", "killed: resumed to done (%s)" % s["state"])
    check(desk.lock_count("devnet-pol") == ny + 1, "killed: exactly one lock on Y")
    check(desk.lock_status("devnet-eth", s["lock_x"]) == 2, "killed: lock on X claimed")
    check(desk.lock_status("devnet-pol", s["lock_y"]) == 2, "killed: lock on Y claimed")
    no_secret_at_rest(home, desk, s, "killed")


def too_short(home, desk):
    ny = desk.lock_count("devnet-pol")
    sid = new_swap(home)  # margin 1800 s by default
    wait_final(desk, "devnet-eth")
    p = fusion(home, *xs("respond"), str(sid), "--gap", "600", rc=1)
    check("refused" in p.stderr, "too short: refused with a reason: %r" % p.stderr)
    check(desk.lock_count("devnet-pol") == ny, "too short: nothing locked on Y")
    check(swaps(home)[sid]["state"] == "x_locked", "too short: swap still waits on X")


def claimed_count(desk):
    return len(json.loads(cast("logs", "--json", "--rpc-url", desk.url["devnet-pol"],
                               "--from-block", "0", "--address", desk.htlc["devnet-pol"],
                               "Claimed(bytes32 indexed,bytes32)")))


def external(home, desk):
    """bob locks on Y with cast; fusion finds the lock, refuses one too close to T1 (the
    secret stays secret) and completes against a proper one."""
    sid = new_swap(home)
    s = swaps(home)[sid]
    n_claimed = claimed_count(desk)

    def bob_lock(t2):
        cast("send", "--private-key", BOB_KEY, "--rpc-url", desk.url["devnet-pol"],
             "--value", "1.5ether", desk.htlc["devnet-pol"],
             "lock(address,address,uint256,bytes32,uint64)", ALICE,
             "0x0000000000000000000000000000000000000000", "1500000000000000000",
             s["hashlock"], str(t2))

    bob_lock(s["t1"] - 60)  # margin is 1800 s: T2 + margin > T1
    fusion(home, *xs("resume"), str(sid))
    s2 = swaps(home)[sid]
    check(s2["state"] == "x_locked" and "refused" in s2["note"],
          "external: too-close lock refused (%s, %r)" % (s2["state"], s2["note"]))
    check(claimed_count(desk) == n_claimed, "external: no claim (secret kept) on a bad lock")
    bob_lock(s["t1"] - 3600)
    fusion(home, *xs("resume"), str(sid))
    s3 = swaps(home)[sid]
    check(s3["state"] == "done", "external: proper lock adopted and swap done (%s)"
          % s3["state"])
    check(s3["t2"] == s["t1"] - 3600, "external: T2 taken from the lock on Y")
    check(claimed_count(desk) == n_claimed + 1, "external: exactly one claim on Y")


def sealed_blob(home, sid, new=None):
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        if new is not None:
            db.execute("UPDATE xswaps SET preimage = ? WHERE id = ?", (new, sid))
            db.commit()
        return db.execute("SELECT preimage FROM xswaps WHERE id = ?", (sid,)).fetchone()[0]
    finally:
        db.close()


def tampered(home, desk):
    """The stored secret is a sealed blob; one changed bit and the initiator's claim on Y
    is refused (nothing claimed, the secret not revealed); the original blob completes."""
    sid = new_swap(home)
    blob = sealed_blob(home, sid)
    check(isinstance(blob, bytes) and len(blob) == 73 and blob[0] == 1,
          "sealed: the stored secret is a 73-byte version-1 blob (%r)" % (blob,))
    sealed_blob(home, sid, bytes([blob[0], blob[1] ^ 1]) + blob[2:])
    wait_final(desk, "devnet-eth")
    n_claimed = claimed_count(desk)
    p = fusion(home, *xs("respond"), str(sid), rc=1)
    check("does not open" in p.stderr, "sealed: a changed blob does not open: %r" % p.stderr)
    check(swaps(home)[sid]["state"] == "y_locked", "sealed: the swap waits in y_locked")
    check(claimed_count(desk) == n_claimed, "sealed: nothing claimed on Y with a bad blob")
    sealed_blob(home, sid, blob)
    fusion(home, *xs("resume"), str(sid))
    check(swaps(home)[sid]["state"] == "done", "sealed: the original blob completes the swap")
    check(claimed_count(desk) == n_claimed + 1, "sealed: exactly one claim on Y")


def sign_list(home):
    """The desk's sanctions list is a signed decision: dave, a compliance officer, signs
    its content (or its removal)."""
    path = os.path.join(home, "desk-sanctions.txt")
    if os.path.exists(path):
        os.chmod(path, 0o600)  # desk configuration is the operator's alone
    fusion(home, "--operator", "dave", "--passphrase-file", PASSFILE, "config", "sign",
           "sanctions")


def listed(home, desk):
    """A counterparty on the desk's own sanctions list: `xswap new` is refused (one line,
    exit 1, no swap recorded, nothing locked); a lock on X already signed and in flight,
    which the node then loses, is not sent again by `xswap resume` while the counterparty
    is listed (exit 1, nothing locked), and goes out once the listing is gone."""
    path = os.path.join(home, "desk-sanctions.txt")
    args = xs("new", "--x", "devnet-eth", "--y", "devnet-pol", "--initiator", ALICE,
            "--counterparty", BOB, "--give", "1", "--get", "1.5")
    nx, n_swaps = desk.lock_count("devnet-eth"), last_id(home)
    with open(path, "w") as f:
        f.write("%s desk decision 2026-12-06\n" % BOB)
    sign_list(home)
    p = fusion(home, *args, rc=1)
    check("sanctions" in p.stderr and p.stderr.count("\n") == 1, "listed: new refused (%s)"
          % p.stderr)
    check(last_id(home) == n_swaps, "listed: no swap recorded")
    check(desk.lock_count("devnet-eth") == nx, "listed: nothing locked")
    os.unlink(path)
    sign_list(home)
    # the lock on X is signed and in flight, the process dies, the node loses the lock
    mining(desk, "devnet-eth", False)
    proc = subprocess.Popen([FUSION, "--home", home, *args], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sid = None
    try:
        for _ in range(1500):
            cur = last_id(home)
            if cur > n_swaps and pending_of(home, cur)[1] == "lock_x":
                sid = cur
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    check(sid is not None, "listed: lock on X seen in flight")
    if sid is None:
        mining(desk, "devnet-eth", True)
        return
    cast("rpc", "--rpc-url", desk.url["devnet-eth"], "anvil_dropAllTransactions")
    with open(path, "w") as f:
        f.write("%s desk decision 2026-12-06\n" % BOB)
    sign_list(home)
    mining(desk, "devnet-eth", True)
    p = fusion(home, *xs("resume"), str(sid), rc=1)
    check("sanctions" in p.stderr and "not signed or sent" in p.stderr,
          "listed: resume refused (%s)" % p.stderr)
    wait_final(desk, "devnet-eth")
    check(desk.lock_count("devnet-eth") == nx, "listed: the lost lock was not sent again")
    check(pending_of(home, sid) == ("new", "lock_x"), "listed: the lock stays in flight")
    os.unlink(path)
    sign_list(home)
    fusion(home, *xs("resume"), str(sid))
    check(swaps(home)[sid]["state"] == "x_locked", "listed: unlisted, resumed to x_locked")
    check(desk.lock_count("devnet-eth") == nx + 1, "listed: exactly one lock on X")


def background(home, desk):
    """`fusion sync --swaps`: the syncing process moves the swaps on. bob locks on Y with
    cast; one `sync --once --swaps` (no `xswap resume`) adopts his lock and claims on Y and
    on X. Without --yes (no terminal to confirm on) it is a usage error."""
    sid = new_swap(home)
    s = swaps(home)[sid]
    p = fusion(home, "--passphrase-file", PASSFILE, "sync", "--once", "--swaps", rc=2)
    check("--yes" in p.stderr, "background: --swaps without --yes refused: %r" % p.stderr)
    cast("send", "--private-key", BOB_KEY, "--rpc-url", desk.url["devnet-pol"],
         "--value", "1.5ether", desk.htlc["devnet-pol"],
         "lock(address,address,uint256,bytes32,uint64)", ALICE,
         "0x0000000000000000000000000000000000000000", "1500000000000000000",
         s["hashlock"], str(s["t1"] - 3600))
    check(swaps(home)[sid]["state"] == "x_locked", "background: nothing moved it yet")
    fusion(home, "--passphrase-file", PASSFILE, "--yes", "sync", "--once", "--swaps", "--quiet",
           timeout=300)
    s2 = swaps(home)[sid]
    check(s2["state"] == "done", "background: sync --swaps finished the swap (%s, %r)"
          % (s2["state"], s2["note"]))
    check(desk.lock_status("devnet-eth", s2["lock_x"]) == 2, "background: lock on X claimed")


def signed_rows(home):
    with open(os.path.join(home, "audit.log")) as f:
        return sum(1 for line in f if '"desk.signed"' in line)


def gate(home, desk):
    """The counterparty is listed after the initiator locked: his lock on Y is refused by the
    desk's compliance gate before anything is signed."""
    path = os.path.join(home, "desk-sanctions.txt")
    sid = new_swap(home)
    wait_final(desk, "devnet-eth")
    ny, n_tx, n_signed = desk.lock_count("devnet-pol"), len(txs(home)), signed_rows(home)
    with open(path, "w") as f:
        f.write("%s desk decision 2026-12-06\n" % BOB)
    sign_list(home)
    try:
        p = fusion(home, *xs("respond", str(sid)), rc=1)
    finally:
        os.unlink(path)
        sign_list(home)
    check("compliance gate" in p.stderr and "sanctions" in p.stderr,
          "gate: respond refused by the desk's gate (%s)" % p.stderr)
    check(len(txs(home)) == n_tx, "gate: no outbound row for the refused lock")
    check(signed_rows(home) == n_signed, "gate: nothing signed")
    check(desk.lock_count("devnet-pol") == ny, "gate: nothing locked on Y")
    check(swaps(home)[sid]["state"] == "x_locked", "gate: the swap still waits on X")
    fusion(home, *xs("respond", str(sid)))
    check(swaps(home)[sid]["state"] == "done", "gate: unlisted, the swap completes")


def deploy_returning(desk, chain, payload):
    """Deploys, with bob's key, a contract that answers every call with payload (bytes)."""
    n = len(payload)
    assert n < 256 - 12
    runtime = bytes([0x60, n, 0x60, 12, 0x60, 0, 0x39, 0x60, n, 0x60, 0, 0xf3]) + payload
    m = len(runtime)
    init = bytes([0x60, m, 0x60, 12, 0x60, 0, 0x39, 0x60, m, 0x60, 0, 0xf3]) + runtime
    out = json.loads(cast("send", "--json", "--rpc-url", desk.url[chain], "--private-key",
                          BOB_KEY, "--create", "0x" + init.hex()))
    return out["contractAddress"]


def sql(home, query, *params):
    db = sqlite3.connect(os.path.join(home, "desk.db"))
    try:
        rows = db.execute(query, params).fetchall()
        db.commit()
    finally:
        db.close()
    return rows


def unknown_htlc(home, desk):
    """The HTLC holding the initiator's lock must be a known HashedTimelock: a contract that
    reports the very same lock terms, but is not one, is refused before anything is signed."""
    sid = new_swap(home)
    wait_final(desk, "devnet-eth")
    s = swaps(home)[sid]
    answer = cast("call", "--rpc-url", desk.url["devnet-eth"], desk.htlc["devnet-eth"],
                  "getLock(bytes32)", s["lock_x"])
    fake = deploy_returning(desk, "devnet-eth", bytes.fromhex(answer[2:]))
    check(cast("call", "--rpc-url", desk.url["devnet-eth"], fake, "getLock(bytes32)",
               s["lock_x"]) == answer, "unknown htlc: the stand-in reports the real lock")
    real = sql(home, "SELECT htlc_x FROM xswaps WHERE id = ?", sid)[0][0]
    sql(home, "UPDATE xswaps SET htlc_x = ? WHERE id = ?", fake.lower(), sid)
    ny, n_tx, n_signed = desk.lock_count("devnet-pol"), len(txs(home)), signed_rows(home)
    p = fusion(home, *xs("respond", str(sid)), rc=1)
    err = p.stderr.strip()
    check("not a known HashedTimelock" in err and "not locking on Y" in err
          and len(err.splitlines()) == 1, "unknown htlc: respond refused in one line (%s)" % err)
    check(len(txs(home)) == n_tx, "unknown htlc: no outbound row")
    check(signed_rows(home) == n_signed, "unknown htlc: nothing signed")
    check(desk.lock_count("devnet-pol") == ny, "unknown htlc: nothing locked on Y")
    check(swaps(home)[sid]["state"] == "x_locked", "unknown htlc: the swap still waits on X")
    sql(home, "UPDATE xswaps SET htlc_x = ? WHERE id = ?", real, sid)
    # a swap whose HTLC on Y is another contract is not even started
    other = deploy_returning(desk, "devnet-pol", bytes(32))
    n_swaps, nx = len(swaps(home)), desk.lock_count("devnet-eth")
    pol = sql(home, "SELECT chain_id FROM chains WHERE name = 'devnet-pol'")[0][0]
    sql(home, "UPDATE contracts SET address = ? WHERE chain_id = ? AND kind = 'htlc'",
        other.lower(), pol)
    try:
        p = fusion(home, *xs("new"), "--x", "devnet-eth", "--y", "devnet-pol", "--initiator",
                   ALICE, "--counterparty", BOB, "--give", "2500:USDC", "--get", "1.5", rc=1)
    finally:
        sql(home, "UPDATE contracts SET address = ? WHERE chain_id = ? AND kind = 'htlc'",
            desk.htlc["devnet-pol"].lower(), pol)
    check("not a known HashedTimelock" in p.stderr and "nothing recorded" in p.stderr,
          "unknown htlc: new refused (%s)" % p.stderr.strip())
    check(len(swaps(home)) == n_swaps, "unknown htlc: no swap recorded")
    check(desk.lock_count("devnet-eth") == nx, "unknown htlc: nothing locked on X")
    fusion(home, *xs("respond", str(sid)))
    check(swaps(home)[sid]["state"] == "done", "unknown htlc: restored, the swap completes")


def unknown_htlc_y(home, desk):
    """The initiator reveals the secret only to a known HashedTimelock: bob's lock on Y,
    moved (in desk.db) to a contract that reports the very same lock but is not one, gets
    no claim; restored, the swap completes."""
    sid = new_swap(home)
    s = swaps(home)[sid]
    t2 = s["t1"] - 3600
    out = json.loads(cast("send", "--json", "--private-key", BOB_KEY, "--rpc-url",
                          desk.url["devnet-pol"], "--value", "1.5ether",
                          desk.htlc["devnet-pol"], "lock(address,address,uint256,bytes32,uint64)",
                          ALICE, "0x0000000000000000000000000000000000000000",
                          "1500000000000000000", s["hashlock"], str(t2)))
    lock_y, block = out["logs"][0]["topics"][1], int(out["blockNumber"], 16)
    answer = cast("call", "--rpc-url", desk.url["devnet-pol"], desk.htlc["devnet-pol"],
                  "getLock(bytes32)", lock_y)
    fake = deploy_returning(desk, "devnet-pol", bytes.fromhex(answer[2:]))
    real = sql(home, "SELECT htlc_y FROM xswaps WHERE id = ?", sid)[0][0]
    sql(home, "UPDATE xswaps SET htlc_y = ?, state = 'y_locked', lock_y = ?, lock_y_block = ?,"
        " t2 = ? WHERE id = ?", fake.lower(), lock_y, block, t2, sid)
    n_claimed, n_tx, n_signed = claimed_count(desk), len(txs(home)), signed_rows(home)
    p = fusion(home, *xs("resume", str(sid)), rc=1)
    err = p.stderr.strip()
    check("not a known HashedTimelock" in err and "not revealing the secret on Y" in err
          and len(err.splitlines()) == 1, "unknown htlc y: no claim, one line (%s)" % err)
    check(len(txs(home)) == n_tx, "unknown htlc y: no outbound row")
    check(signed_rows(home) == n_signed, "unknown htlc y: nothing signed")
    check(swaps(home)[sid]["state"] == "y_locked", "unknown htlc y: the swap waits")
    sql(home, "UPDATE xswaps SET htlc_y = ? WHERE id = ?", real, sid)
    fusion(home, *xs("resume", str(sid)))
    check(swaps(home)[sid]["state"] == "done", "unknown htlc y: restored, the swap completes")
    check(claimed_count(desk) == n_claimed + 1, "unknown htlc y: exactly one claim on Y")


def reused_hashlock(home, desk):
    """A hashlock the desk has in another swap is never locked against."""
    sid = new_swap(home)
    wait_final(desk, "devnet-eth")
    cols = [r[1] for r in sql(home, "PRAGMA table_info(xswaps)") if r[1] != "id"]
    sql(home, "INSERT INTO xswaps (%s) SELECT %s FROM xswaps WHERE id = ?"
        % (", ".join(cols), ", ".join(cols)), sid)
    copy = max(swaps(home))
    check(copy != sid and swaps(home)[copy]["hashlock"] == swaps(home)[sid]["hashlock"],
          "reused hashlock: a second swap with the same hashlock")
    ny, n_tx, n_signed = desk.lock_count("devnet-pol"), len(txs(home)), signed_rows(home)
    for which in (copy, sid):
        p = fusion(home, *xs("respond", str(which)), rc=1)
        err = p.stderr.strip()
        check("hashlock is already swap" in err and len(err.splitlines()) == 1,
              "reused hashlock: respond %d refused in one line (%s)" % (which, err))
    check(len(txs(home)) == n_tx, "reused hashlock: no outbound row")
    check(signed_rows(home) == n_signed, "reused hashlock: nothing signed")
    check(desk.lock_count("devnet-pol") == ny, "reused hashlock: nothing locked on Y")
    # bob locks on Y by himself: alice does not reveal the secret while the copy exists
    s = swaps(home)[sid]
    n_claimed = claimed_count(desk)
    cast("send", "--private-key", BOB_KEY, "--rpc-url", desk.url["devnet-pol"],
         "--value", "1.5ether", desk.htlc["devnet-pol"],
         "lock(address,address,uint256,bytes32,uint64)", ALICE,
         "0x0000000000000000000000000000000000000000", "1500000000000000000",
         s["hashlock"], str(s["t1"] - 3600))
    n_tx, n_signed = len(txs(home)), signed_rows(home)
    p = fusion(home, *xs("resume", str(sid)), rc=1)
    err = p.stderr.strip()
    check("hashlock is already swap" in err and "not revealing the secret on Y" in err,
          "reused hashlock: no claim on Y (%s)" % err)
    check(claimed_count(desk) == n_claimed, "reused hashlock: the secret stays secret")
    check(len(txs(home)) == n_tx and signed_rows(home) == n_signed,
          "reused hashlock: nothing signed for the claim")
    sql(home, "DELETE FROM xswaps WHERE id = ?", copy)
    fusion(home, *xs("resume", str(sid)))
    check(swaps(home)[sid]["state"] == "done", "reused hashlock: alone, the swap completes")
    check(claimed_count(desk) == n_claimed + 1, "reused hashlock: exactly one claim on Y")


def pipeline(home, desk, happy_hashes):
    """The happy swap's transactions are the desk's: in `fusion tx list`, EIP-1559, gas
    estimated; a claim (it carries the secret) keeps no signed bytes in desk.db."""
    rows = txs(home)
    acts = [r["action"] for r in rows]
    for a in ("swap_allowance", "swap_lock", "swap_claim"):
        check(a in acts, "pipeline: a %s in `fusion tx list` (%s)" % (a, acts))
    for r in rows:
        if not r["action"].startswith("swap_"):
            continue
        sm = r["summary"] or {}
        check(sm.get("type") == "eip1559", "pipeline: tx %d is EIP-1559 (%s)"
              % (r["id"], sm.get("type")))
        check(sm.get("gas_limit") not in (None, 300000), "pipeline: tx %d gas estimated (%s)"
              % (r["id"], sm.get("gas_limit")))
        check(r["operator"] in ("alice", "bob"), "pipeline: tx %d signed by a desk operator"
              % r["id"])
    for h in happy_hashes:
        check(any(r["hash"] == h for r in rows), "pipeline: swap tx %s in tx list" % h)
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        claims = db.execute("SELECT length(raw) FROM outbound_txs WHERE action = 'swap_claim'"
                            ).fetchall()
    finally:
        db.close()
    check(claims and all(n == 0 for (n,) in claims),
          "pipeline: no signed bytes kept of a claim (%s)" % claims)


def speedup(home, desk):
    """A lock on X in flight (X's mining stopped, the process killed) is sped up with
    `fusion tx speedup`; the swap follows the replacement to x_locked, one lock on X."""
    nx = desk.lock_count("devnet-eth")
    before = {r["id"] for r in txs(home)}
    sid = kill_in_flight(home, desk, "devnet-eth",
                         ["new", "--x", "devnet-eth", "--y", "devnet-pol",
                          "--initiator", ALICE, "--counterparty", BOB, "--give", "1",
                          "--get", "1.5"], None, "lock_x")
    mining(desk, "devnet-eth", False)
    try:
        new = [r for r in txs(home) if r["id"] not in before and r["action"] == "swap_lock"]
        check(len(new) == 1, "speedup: the lock on X is in tx list (%s)" % new)
        if not new:
            return
        old = new[0]
        p = fusion(home, "--operator", "alice", "--passphrase-file", PASSFILE, "--yes", "tx",
                   "speedup", str(old["id"]), "--wait", "0")
        check("speedup" in p.stdout, "speedup: tx speedup ran (%s)" % p.stdout)
    finally:
        mining(desk, "devnet-eth", True)
    wait_final(desk, "devnet-eth")
    fusion(home, *xs("resume", str(sid)))
    s = swaps(home)[sid]
    check(s["state"] == "x_locked", "speedup: the swap followed the replacement (%s, %r)"
          % (s["state"], s["note"]))
    check(desk.lock_count("devnet-eth") == nx + 1, "speedup: exactly one lock on X")
    rows = {r["id"]: r for r in txs(home)}
    repl = [r for r in rows.values() if r["id"] not in before and r["id"] != old["id"]
            and r["nonce"] == old["nonce"]]
    check(len(repl) == 1 and repl[0]["state"] in ("mined", "confirmed"),
          "speedup: the replacement is mined (%s)" % repl)
    check(rows[old["id"]]["state"] == "replaced", "speedup: the original is marked replaced (%s)"
          % rows[old["id"]]["state"])


def main():
    global PASSFILE
    home = tempfile.mkdtemp(prefix="fusion-xswap-")
    PASSFILE = os.path.join(tempfile.mkdtemp(prefix="fusion-xswap-pass-"), "pass")
    with open(PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(PASSFILE, 0o600)
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    try:
        # the demo's seed imports alice's and bob's keys and gives alice test tokens
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        desk = Desk(home)
        # bob, the counterparty, locks on Y: the desk's policy lets traders lock
        # the demo desk's admin (who signed its genesis) grants it, with the demo passphrase
        fusion(home, "--operator", "admin", "--passphrase-file", PASSFILE, "operator", "roles",
               "bob", "--role", "approver,trader")
        happy(home, desk)
        pipeline(home, desk, [])
        gate(home, desk)
        unknown_htlc(home, desk)
        unknown_htlc_y(home, desk)
        reused_hashlock(home, desk)
        speedup(home, desk)
        no_counterparty(home, desk)
        killed(home, desk)
        too_short(home, desk)
        external(home, desk)
        tampered(home, desk)
        listed(home, desk)
        background(home, desk)
    finally:
        fusion(home, "devnet", "down", rc=None)
    return report()


if __name__ == "__main__":
    sys.exit(main())
