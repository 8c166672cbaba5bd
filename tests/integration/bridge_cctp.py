#!/usr/bin/python3
"""bridge_cctp.py: the CCTP-style bridge on the four-chain devnet, end to end.

The demo desk (seeded: alice is a trader with test USDC on every chain) bridges with
`fusion bridge send` from devnet-eth to devnet-avax; tools/cctp_attester.py is the
attestation service. Balances are read with cast on both chains.

  sanctioned   a bridge to the sanctioned address of data/demo is refused before anything
               is signed: no transfer, no outbound row, alice's nonce unchanged
  happy        250,000 USDC: burned on devnet-eth, minted on devnet-avax, exactly once
  outage       the attestation service answers 503 three times: the send retries and
               completes
  killed       SIGKILL (for real) with the burn in flight, while waiting for the
               attestation (service down), and with the mint in flight: `bridge resume`
               completes each transfer, one burn and one mint each, no double mint
  again        resume on delivered transfers signs nothing more
  rebalance    40/30/20/10 proposed, each move over the policy's limit per transfer split
               into transfers under it; on a route the policy closes, refused in one line
               before anything is signed; executed, each chain ends within one unit of its
               share
  in flight    between burn and mint the risk report counts the value once, on the
               destination (bridge_in_flight), and not after delivery
"""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import (N_CHAINS, ENV, FUSION, ROOT, cast, check, free_ports,  # noqa: E402
                        fusion, report)

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil dev key #1, "alice (trader)"
ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # published
SANCTIONED = None
PASSFILE = None
AMOUNT = 250_000 * 10**6


def num(s):
    return int(s.split()[0])


class Desk:
    def __init__(self, home):
        db = sqlite3.connect(os.path.join(home, "desk.db"))
        self.url = dict(db.execute("SELECT c.name, e.url FROM chains c JOIN rpc_endpoints e"
                                   " USING (chain_id)"))
        self.usdc = dict(db.execute("SELECT c.name, t.address FROM chains c JOIN tokens t"
                                    " USING (chain_id) WHERE t.symbol = 'USDC'"))
        self.mt = db.execute("SELECT DISTINCT message_transmitter FROM bridge_cctp").fetchall()
        self.tm = db.execute("SELECT DISTINCT token_messenger FROM bridge_cctp").fetchall()
        db.close()

    def bal(self, chain, who=ALICE):
        return num(cast("call", "--rpc-url", self.url[chain], self.usdc[chain],
                        "balanceOf(address)(uint256)", who))

    def supply(self, chain):
        return num(cast("call", "--rpc-url", self.url[chain], self.usdc[chain],
                        "totalSupply()(uint256)"))

    def nonce(self, chain, who=ALICE):
        """Counting what is in the mempool: the demo's last escrow step may still be mining."""
        return int(cast("nonce", "--rpc-url", self.url[chain], "--block", "pending", who))


class Attester:
    def __init__(self, desk):
        self.desk, self.proc = desk, None
        self.port = free_ports(1)[0]
        self.url = "http://127.0.0.1:%d" % self.port

    def start(self, *extra):
        args = [sys.executable, os.path.join(ROOT, "tools", "cctp_attester.py"), "--port",
                str(self.port), "--transmitter", self.desk.mt[0][0]]
        for u in self.desk.url.values():
            args += ["--rpc", u]
        self.proc = subprocess.Popen(args + list(extra), env=ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        check("listening" in line, "attester started: %r" % line)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


def demo_home(prefix):
    """A fresh desk home for the demo and the demo keys' passphrase file (PASSFILE, 0600);
    returns (home, ports) with a free port per devnet chain."""
    global PASSFILE
    home = tempfile.mkdtemp(prefix=prefix)
    PASSFILE = os.path.join(tempfile.mkdtemp(prefix=prefix + "pass-"), "pass")
    with open(PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(PASSFILE, 0o600)
    return home, ",".join(map(str, free_ports(N_CHAINS)))


def demo_up(home, ports):
    """The demo desk on the four-chain devnet, left running (--keep-devnet); the demo's
    stderr on failure."""
    r = fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet",
               rc=None)
    return None if r.returncode == 0 else r.stderr.strip()


def br(*args):
    return ["--operator", "alice", "--passphrase-file", PASSFILE, "--yes", "bridge", *args]


def send_args(recipient=ALICE, amount="250000"):
    return br("send", "--from", "devnet-eth", "--to", "devnet-avax", "--amount", amount,
              "--recipient", recipient)


def transfers(home):
    return {t["id"]: t for t in json.loads(fusion(home, "bridge", "list", "--json").stdout)}


def rows(home, sql, *args):
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def n_outbound(home):
    return rows(home, "SELECT count(*) FROM outbound_txs")[0][0]


def mining(desk, chain, on):
    cast("rpc", "--rpc-url", desk.url[chain], "evm_setIntervalMining", "1" if on else "0")


def kill_when(home, args, pred, what):
    """Runs fusion ARGS, waits (bounded) until pred(row of the newest transfer) holds, then
    kills the process with SIGKILL."""
    proc = subprocess.Popen([FUSION, "--home", home, *args], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    hit = False
    try:
        for _ in range(2000):
            r = rows(home, "SELECT id, state, pending_action, message_hash FROM bridge_transfers"
                     " ORDER BY id DESC LIMIT 1")
            if r and pred(r[0]):
                hit = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        check(hit, "killed: %s seen before the process ended" % what)
        check(proc.poll() is None, "killed: the process still runs at %s" % what)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        check(proc.returncode == -signal.SIGKILL, "killed at %s: died of SIGKILL" % what)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return r[0][0] if hit else None


def in_flight(home):
    """The risk report's bridge positions: (chain, amount) of each."""
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    return [(p["chain"], p["amount"]) for p in rep["positions"] if p["kind"] == "bridge_in_flight"]


def delivered_once(home, desk, tid, before_eth, before_avax, what):
    t = transfers(home)[tid]
    check(t["state"] == "delivered", "%s: delivered (%s: %s)" % (what, t["state"], t["note"]))
    check(desk.bal("devnet-eth") == before_eth - AMOUNT, "%s: burned once on devnet-eth" % what)
    check(desk.bal("devnet-avax") == before_avax + AMOUNT, "%s: minted once on devnet-avax" % what)


def sanctioned(home, desk):
    n0, nonce0, bridges0 = n_outbound(home), desk.nonce("devnet-eth"), len(transfers(home))
    p = fusion(home, *send_args(SANCTIONED), rc=None)
    check(p.returncode == 1, "sanctioned: refused with exit 1 (%d)" % p.returncode)
    check("sanction" in p.stderr.lower(), "sanctioned: the refusal names sanctions: %r" % p.stderr)
    check("about to send" not in p.stdout, "sanctioned: no summary was shown (nothing signed)")
    check(n_outbound(home) == n0, "sanctioned: no outbound transaction recorded")
    check(desk.nonce("devnet-eth") == nonce0, "sanctioned: alice's nonce unchanged on devnet-eth")
    check(len(transfers(home)) == bridges0, "sanctioned: no transfer recorded")


def bad(home, desk):
    """Bad input on a live desk: one line naming what is wrong, exit 1, nothing recorded."""
    n0, nonce0, bridges0 = n_outbound(home), desk.nonce("devnet-eth"), len(transfers(home))
    cases = [(["--amount", "abc"], "amount"), (["--amount", "0"], "more than 0"),
             (["--amount", "1.0000001"], "amount"), (["--amount", "1", "--asset", "WBTC"], "USDC only"),
             (["--amount", "1", "--to", "devnet-eth"], "same chain"),
             (["--amount", "1", "--to", "nowhere"], "no chain"),
             (["--amount", "1", "--recipient", "0x1234"], "recipient")]
    for extra, needle in cases:
        args = {"--from": "devnet-eth", "--to": "devnet-avax", "--recipient": ALICE}
        rest = []
        i = 0
        while i < len(extra):
            if extra[i] in args:
                args[extra[i]] = extra[i + 1]
            else:
                rest += extra[i:i + 2]
            i += 2
        cmd = br("send", *[x for kv in args.items() for x in kv], *rest)
        p = fusion(home, *cmd, rc=None)
        lines = p.stderr.splitlines()
        check(p.returncode == 1 and len(lines) == 1 and needle in lines[0],
              "bad %s: exit 1, one line naming %r: %d %r" % (extra, needle, p.returncode, p.stderr))
    check(n_outbound(home) == n0, "bad input: no outbound transaction recorded")
    check(desk.nonce("devnet-eth") == nonce0, "bad input: alice's nonce unchanged")
    check(len(transfers(home)) == bridges0, "bad input: no transfer recorded")


def happy(home, desk):
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    s_e0, s_a0 = desk.supply("devnet-eth"), desk.supply("devnet-avax")
    q = json.loads(fusion(home, "--json", "bridge", "quote", "--from", "devnet-eth", "--to",
                          "devnet-avax", "--amount", "250000").stdout)
    check(q["src_domain"] == 0 and q["dst_domain"] == 1 and q["fee"] == "0",
          "quote: domains 0 -> 1, no fee: %s" % q)
    p = fusion(home, *send_args())
    check("devnet-eth (domain 0) to devnet-avax (domain 1)" in p.stdout and ALICE in p.stdout
          and "expected arrival" in p.stdout, "happy: the summary names both chains, the "
          "recipient and the arrival")
    tid = max(transfers(home))
    delivered_once(home, desk, tid, e0, a0, "happy")
    check(desk.supply("devnet-eth") == s_e0 - AMOUNT and desk.supply("devnet-avax") == s_a0 + AMOUNT,
          "happy: supply moved from devnet-eth to devnet-avax")
    t = transfers(home)[tid]
    check(t["burn_tx"] and t["mint_tx"] and t["message_hash"], "happy: both legs recorded: %s" % t)
    return tid


def outage(home, desk, att):
    att.stop()
    att.start("--fail-first", "3")
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    fusion(home, *send_args())
    delivered_once(home, desk, max(transfers(home)), e0, a0, "outage (503 x3)")
    att.stop()
    att.start()


def killed(home, desk, att):
    # 1. the burn in flight: devnet-eth mines nothing. Alice's standing allowance for the
    # messenger (given with cast) lets the burn be the first transaction the send signs.
    cast("send", "--rpc-url", desk.url["devnet-eth"], "--private-key", ALICE_KEY,
         desk.usdc["devnet-eth"], "approve(address,uint256)", desk.tm[0][0], str(10 * AMOUNT))
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    mining(desk, "devnet-eth", False)
    try:
        tid = kill_when(home, send_args(), lambda r: r[2] == "bridge_burn", "burn in flight")
    finally:
        mining(desk, "devnet-eth", True)
    check(desk.bal("devnet-eth") == e0, "killed burn: nothing burned while unmined")
    fusion(home, *br("resume", str(tid)))
    delivered_once(home, desk, tid, e0, a0, "killed with the burn in flight")

    # 2. waiting for the attestation: the service is down
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    att.stop()
    tid = kill_when(home, send_args(), lambda r: r[1] == "sent" and r[3] is not None,
                    "waiting for the attestation")
    check(desk.bal("devnet-eth") == e0 - AMOUNT and desk.bal("devnet-avax") == a0,
          "killed waiting: burned, not yet minted (value in flight)")
    # the risk report reads balances at the synced blocks: the burn counts as in flight once
    # the source is synced past it (before, it is still in the wallet there), the transfers
    # above as arrived once the destination is synced past their mints
    for c in ("devnet-eth", "devnet-avax"):
        fusion(home, "sync", "--once", "--quiet", "--chain", c, timeout=300)
    check(in_flight(home) == [("devnet-avax", str(AMOUNT))],
          "killed waiting: the risk report counts the burned value once, in flight to "
          "devnet-avax: %s" % in_flight(home))
    p = fusion(home, *br("resume", "--no-wait", str(tid)))
    check(transfers(home)[tid]["state"] == "sent", "service down: resume leaves it sent")
    att.start()
    fusion(home, *br("resume", str(tid)))
    delivered_once(home, desk, tid, e0, a0, "killed waiting for the attestation")
    fusion(home, "sync", "--once", "--quiet", "--chain", "devnet-avax", timeout=300)
    check(in_flight(home) == [], "delivered and synced: nothing in flight any more")

    # 3. the mint in flight: devnet-avax mines nothing
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    mining(desk, "devnet-avax", False)
    try:
        tid = kill_when(home, send_args(), lambda r: r[2] == "bridge_mint", "mint in flight")
    finally:
        mining(desk, "devnet-avax", True)
    fusion(home, *br("resume"))
    delivered_once(home, desk, tid, e0, a0, "killed with the mint in flight")
    return tid


def again(home, desk):
    n0, e0, a0 = n_outbound(home), desk.bal("devnet-eth"), desk.bal("devnet-avax")
    nonces = desk.nonce("devnet-eth"), desk.nonce("devnet-avax")
    for tid in transfers(home):
        fusion(home, *br("resume", str(tid)))
    check(n_outbound(home) == n0, "again: resume of delivered transfers records no transaction")
    check((desk.nonce("devnet-eth"), desk.nonce("devnet-avax")) == nonces,
          "again: resume signs nothing")
    check(desk.bal("devnet-eth") == e0 and desk.bal("devnet-avax") == a0, "again: nothing moved")
    ts = transfers(home)
    check(all(t["state"] == "delivered" for t in ts.values()),
          "every transfer delivered: %s" % [(t["id"], t["state"]) for t in ts.values()])


def sign_policy(home, text):
    path = os.path.join(home, "policy.conf")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    fusion(home, "--operator", "admin", "--passphrase-file", PASSFILE, "config", "sign", "policy")


def proposals(out):
    """(amount in base units, from, to) of each `proposal N: AMOUNT USDC A -> B` line."""
    got = []
    for ln in out.splitlines():
        if ln.startswith("proposal ") and " USDC " in ln and "->" in ln:
            words = ln.split()
            whole, _, frac = words[2].replace(",", "").partition(".")
            got.append((int(whole) * 10**6 + int((frac + "000000")[:6]), words[4], words[6]))
    return got


def rebalance(home, desk):
    """A skewed book (the bridges above moved USDC to devnet-avax) taken to 40/30/20/10: the
    proposal splits each move over the policy's limit per transfer (a million USDC) into
    transfers under it; a route whose limit is 0 is refused in one line naming the move and the
    policy line, before anything is signed; approved and executed, each chain ends within one
    unit of its share, checked with cast."""
    chains = ["devnet-eth", "devnet-arb", "devnet-pol", "devnet-avax"]
    pct = [40, 30, 20, 10]
    before = [desk.bal(c) for c in chains]
    total = sum(before)
    target = "eth=40,arb=30,pol=20,avax=10"
    p = fusion(home, *br("rebalance", "--target", target))
    props = proposals(p.stdout)
    check(props and "--execute" in p.stdout, "rebalance: proposals shown: %r" % p.stdout)
    check(all(0 < a <= 1_000_000 * 10**6 for a, _, _ in props),
          "rebalance: every transfer is within the policy's million: %s" % props)
    check(len(props) > len({(f, t) for _, f, t in props}),
          "rebalance: a move over the limit is split into several transfers: %s" % props)
    check([desk.bal(c) for c in chains] == before, "rebalance: a proposal moves nothing")
    # a route the policy closes (max=0): refused before anything is signed, naming why
    policy = os.path.join(home, "policy.conf")
    with open(policy) as f:
        default = f.read()
    src, dst = props[0][1], props[0][2]
    closed = default.replace("velocity who=*  asset=*  limit=5000000\n",
                             "velocity who=*  asset=*  limit=5000000\nlimit who=* "
                             "action=bridge_allowance|bridge_burn chain=%s to=%s asset=USDC max=0\n"
                             % (src, dst))
    check(closed != default, "rebalance: the closed route's line was added")
    sign_policy(home, closed)
    n0, nonces = n_outbound(home), [desk.nonce(c) for c in chains]
    p = fusion(home, *br("rebalance", "--target", target, "--execute"), rc=None)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and "cannot move" in lines[0]
          and "%s -> %s" % (src, dst) in lines[0] and "line" in lines[0],
          "rebalance on a closed route refused in one line naming the move and the policy line:"
          " %d %r" % (p.returncode, p.stderr))
    check(n_outbound(home) == n0 and [desk.nonce(c) for c in chains] == nonces,
          "rebalance on a closed route: nothing signed")
    sign_policy(home, default)
    # approved (--execute, each transfer confirmed through the desk) and executed
    p = fusion(home, *br("rebalance", "--target", target, "--execute"), timeout=900)
    sent = [ln for ln in p.stdout.splitlines() if re.fullmatch(r"proposal \d+: bridge \d+", ln)]
    check(len(sent) == len(props),
          "rebalance: every proposed transfer was sent (%d): %r" % (len(props), p.stdout[-400:]))
    after = [desk.bal(c) for c in chains]
    check(sum(after) == total, "rebalance: the total is unchanged (%d -> %d)" % (total, sum(after)))
    for c, a, q in zip(chains, after, pct):
        share = total * q / 100
        check(abs(a - share) <= 1, "rebalance: %s holds %d, within one unit of %.1f" % (c, a, share))


def main():
    global PASSFILE, SANCTIONED
    with open(os.path.join(ROOT, "data", "demo", "counterparties.csv")) as f:
        SANCTIONED = [ln.split(",")[1] for ln in f if ",sanctioned," in ln][0]
    home = tempfile.mkdtemp(prefix="fusion-bridge-")
    PASSFILE = os.path.join(tempfile.mkdtemp(prefix="fusion-bridge-pass-"), "pass")
    with open(PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(PASSFILE, 0o600)
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    att = None
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        desk = Desk(home)
        check(len(desk.mt) == 1, "one transmitter address on every chain: %s" % desk.mt)
        att = Attester(desk)
        att.start()
        # where attestations come from is a signed decision: refused without an operator
        r = fusion(home, "bridge", "config", "--attestation-url", att.url, rc=None)
        check(r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1,
              "bridge config without an operator's key is refused in one line: %r" % r.stderr)
        fusion(home, "--operator", "admin", "--passphrase-file", PASSFILE, "bridge", "config",
               "--attestation-url", att.url)
        rows = json.loads(fusion(home, "audit", "list", "--json").stdout)
        check(any(x.get("action") == "chain.bridge_attestation" and x.get("operator") == "admin"
                  for x in rows), "the attestation service's change is in the audit log")
        bad(home, desk)
        sanctioned(home, desk)
        happy(home, desk)
        outage(home, desk, att)
        killed(home, desk, att)
        again(home, desk)
        rebalance(home, desk)
    finally:
        if att:
            att.stop()
        fusion(home, "devnet", "down", rc=None)
    return report()


if __name__ == "__main__":
    sys.exit(main())
