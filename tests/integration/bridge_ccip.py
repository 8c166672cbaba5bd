#!/usr/bin/python3
"""bridge_ccip.py: the CCIP-style route on the four-chain devnet, end to end, on chain.

`fusion devnet up` deploys a CcipRouter (Chainlink's IRouterClient: getFee, ccipSend) on
every chain; tools/ccip_relayer.py stands in for the CCIP network. A sender (anvil dev key
#6) sends WETH from devnet-eth to devnet-avax with cast; balances are read with cast on
both chains.

  routers      one address on every chain, the lanes open under the real networks' chain
               selectors, the pool funded
  message id   the id ccipSend returns is CCIP 1.4's hash of the message on its lane,
               recomputed here with cast keccak / cast abi-encode from the event's fields
  killed       the relayer SIGKILLed after it saw the message and before it executed it,
               restarted: delivered, exactly once
  in flight    the relayer SIGKILLed with its execute transaction in the destination's
               mempool (mining stopped), restarted while it is still pending (it sends
               again), mining resumed: delivered exactly once (one ExecutionStateChanged,
               the receiver credited once); the second execute reverts on chain
  locked       what the source pools locked equals what the destination released
  desk         `fusion bridge quote --route ccip` shows getFee's fee; a send to the sanctioned
               address of data/demo is refused before anything is signed (no transfer, no
               outbound row, alice's nonce unchanged); alice's send of WETH goes through
               the desk (summary with the fee, outbound rows), is committed with the message
               id the router emitted and delivered (ExecutionStateChanged on the
               destination), balances checked with cast; resume on it signs nothing more;
               fusion SIGKILLed with its ccipSend in flight: resume completes it, one send,
               one execution; a send with --no-wait resumed: its ccipSend and the approve
               below it mined in `fusion tx list --json` in the blocks of the node's
               receipts (cast receipt), with no `tx check`, as is the killed send's
  reverted     a ccipSend sent with --no-wait, the router's fee raised in its block before
               it (the owner's setFees, a higher priority fee): resume marks the transfer
               failed, nothing locked, and its outbound record failed in that block
  hosted       the destination's endpoint a FAKE hosted provider (fake_provider.py) that
               refuses eth_getLogs over more than 5 blocks; the send committed with the
               relayer down, the destination then 300 blocks longer before the execution:
               delivered all the same, its delivery looked for range by range from the
               destination's head at the send (kept with the transfer), never from block 0
  resumed      the relayer run with --state FILE, stopped, a message sent while it is
               down, restarted with the same file: every chain resumes from its cursor
               (not block 0), the earlier messages are not seen again, the new one is
               executed once; a cursor whose block hash does not match (a chain started
               afresh under the same id) scans that chain from block 0 again
"""
import json
from decimal import Decimal
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import (N_CHAINS, ENV, FUSION, ROOT, cast, check,  # noqa: E402
                        free_ports, fusion, report)
from fake_provider import FakeProvider  # noqa: E402

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil dev key #1, "alice (trader)"
ALICE_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # published
PASSFILE = None

DEPLOYER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil #0
SENDER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # anvil dev key #6 (published)
SENDER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
RECEIVER = "0x000000000000000000000000000000000000bEEF"
SELECTORS = {"devnet-eth": 5009297550715157269, "devnet-arb": 4949039107694359620,
             "devnet-pol": 4051577828743386545, "devnet-avax": 6433500567565415381}
MSG = ("(uint64,address,address,uint64,uint256,bool,uint64,address,uint256,bytes,"
       "(address,uint256)[],bytes[],bytes32)")
AMOUNT = 3 * 10**18


def num(s):
    return int(s.split()[0])


class Net:
    def __init__(self, home):
        db = sqlite3.connect(os.path.join(home, "desk.db"))
        self.url = dict(db.execute("SELECT c.name, e.url FROM chains c JOIN rpc_endpoints e"
                                   " USING (chain_id)"))
        self.id = dict(db.execute("SELECT name, chain_id FROM chains"))
        self.weth = dict(db.execute("SELECT c.name, t.address FROM chains c JOIN tokens t"
                                    " USING (chain_id) WHERE t.symbol = 'WETH'"))
        sets = dict(db.execute("SELECT key, value FROM risk_settings WHERE key LIKE 'ccip_%'"))
        db.close()
        self.router = {n: sets.get("ccip_router:%d" % i) for n, i in self.id.items()}
        self.selector = {n: sets.get("ccip_selector:%d" % i) for n, i in self.id.items()}

    def bal(self, chain, who):
        return num(cast("call", "--rpc-url", self.url[chain], self.weth[chain],
                        "balanceOf(address)(uint256)", who))

    def state(self, chain, mid):
        return num(cast("call", "--rpc-url", self.url[chain], self.router[chain],
                        "getExecutionState(bytes32)(uint8)", mid))

    def executions(self, chain, mid):
        topic = cast("keccak", "ExecutionStateChanged(uint64,bytes32,uint8,bytes)").strip()
        logs = json.loads(cast("logs", "--json", "--rpc-url", self.url[chain], "--from-block",
                               "0", "--address", self.router[chain], topic, "", mid))
        return len(logs)


class Relayer:
    def __init__(self, net):
        self.net, self.proc = net, None

    def start(self, *extra):
        args = [sys.executable, os.path.join(ROOT, "tools", "ccip_relayer.py"), "--router",
                self.net.router["devnet-eth"], "--poll", "0.2"]
        for u in self.net.url.values():
            args += ["--rpc", u]
        self.proc = subprocess.Popen(args + list(extra), env=ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        check("watching" in line, "relayer started: %r" % line)

    def wait_line(self, needle, limit=600):
        for _ in range(limit):
            line = self.proc.stdout.readline()
            if not line:
                return False
            if needle in line:
                return True
        return False

    def kill(self):
        if self.proc:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None


def start_lines(rel):
    """The relayer's per-chain start lines ("chain ID: from block N"), chain id -> N."""
    out = {}
    while len(out) < len(rel.net.url):
        line = rel.proc.stdout.readline()
        if not line:
            check(False, "resumed: the relayer ended before its start lines (%s)" % out)
            break
        if ": from block " in line:
            out[line.split("chain ", 1)[1].split(":", 1)[0]] = int(line.rsplit(" ", 1)[1])
    return out


def resumed(home, net, rel, src, dst):
    state = os.path.join(home, "ccip_relayer.json")
    heads = {cast("chain-id", "--rpc-url", u).strip():
             int(cast("block-number", "--rpc-url", u)) for u in net.url.values()}
    rel.start("--state", state)
    firsts = start_lines(rel)
    check(set(firsts.values()) == {0}, "resumed: no state yet, every chain from 0: %s" % firsts)
    # the earlier messages are found again (from block 0), found executed, passed over
    for _ in range(600):
        if os.path.exists(state):
            with open(state) as f:
                cur = json.load(f)
            if set(cur) == set(heads) and all(cur[c]["next"] > heads[c] for c in heads):
                break
        time.sleep(0.1)
    else:
        check(False, "resumed: the state names every chain's cursor")
    rel.kill()
    with open(state) as f:
        cur = json.load(f)
    r0 = net.bal(dst, RECEIVER)
    mid3, _, _ = send(net, src, dst, RECEIVER, AMOUNT)
    rel.start("--state", state)
    again = start_lines(rel)
    check(all(again.get(c, -1) >= cur[c]["next"] > 0 for c in cur),
          "resumed: every chain from its cursor %s, not 0: %s" % (cur, again))
    seen = []
    for _ in range(600):
        line = rel.proc.stdout.readline()
        if not line:
            check(False, "resumed: the relayer ended")
            break
        if " seen " in line:
            seen.append(line.split()[2])
        if "executed on" in line:
            break
    check(seen == [mid3], "resumed: only the new message seen again: %s" % seen)
    check(net.state(dst, mid3) == 2, "resumed: SUCCESS on %s" % dst)
    check(net.bal(dst, RECEIVER) == r0 + AMOUNT, "resumed: released once")
    rel.kill()
    # a cursor whose block is another one now (a chain started afresh): from 0 there
    with open(state) as f:
        cur = json.load(f)
    cid = cast("chain-id", "--rpc-url", net.url[src]).strip()
    cur[cid]["hash"] = "0x" + "ab" * 32
    with open(state, "w") as f:
        json.dump(cur, f)
    rel.start("--state", state)
    lines = start_lines(rel)
    check(lines.get(cid) == 0 and all(lines[c] > 0 for c in lines if c != cid),
          "resumed: a cursor on another block: that chain from 0, the others resume: %s" %
          lines)
    rel.kill()


def mining(net, chain, on):
    cast("rpc", "--rpc-url", net.url[chain], "evm_setIntervalMining", "1" if on else "0")


def message_arg(net, chain, to, amount):
    receiver = "0x" + to[2:].lower().rjust(64, "0")
    return "(%s,0x,[(%s,%d)],0x0000000000000000000000000000000000000000,0x)" % (
        receiver, net.weth[chain], amount)


def send(net, src, dst, to, amount):
    """ccipSend from the sender with the fee getFee asks; returns (id, fee, event data)."""
    m = message_arg(net, src, to, amount)
    sig = "getFee(uint64,(bytes,bytes,(address,uint256)[],address,bytes))(uint256)"
    fee = num(cast("call", "--rpc-url", net.url[src], net.router[src], sig,
                   str(SELECTORS[dst]), m))
    rcpt = json.loads(cast("send", "--json", "--rpc-url", net.url[src], "--private-key",
                           SENDER_KEY, "--value", str(fee), net.router[src],
                           "ccipSend(uint64,(bytes,bytes,(address,uint256)[],address,bytes))",
                           str(SELECTORS[dst]), m))
    check(rcpt["status"] in ("0x1", 1), "ccipSend mined and succeeded")
    topic = cast("keccak", "CCIPSendRequested(%s)" % MSG).strip()
    data = [lg["data"] for lg in rcpt["logs"] if lg["topics"][0] == topic]
    check(len(data) == 1, "one CCIPSendRequested in the ccipSend receipt")
    mid = "0x" + data[0][2:][64 * 13:64 * 14]
    return mid, fee, data[0]


def word(data, i):
    return "0x" + data[2:][64 * i:64 * (i + 1)]


def message_id(net, src, dst, data):
    """CCIP 1.4's id, recomputed with cast from the event's fields (docs/bridges.md)."""
    # the tuple's head words: source selector, sender, receiver, sequence number, gas limit,
    # strict, nonce, fee token, fee amount, then offsets of data, tokenAmounts,
    # sourceTokenData, and the id
    ws = [word(data, i) for i in range(1, 14)]
    meta = cast("keccak", cast("abi-encode", "f(bytes32,uint64,uint64,address)",
                               cast("keccak", "EVM2EVMMessageHashV2").strip(),
                               str(SELECTORS[src]), str(SELECTORS[dst]), net.router[src]).strip())
    fixed = cast("keccak", "0x" + "".join(w[2:] for w in ws[1:9])).strip()
    empty = cast("keccak", "0x").strip()
    toks = cast("keccak", cast("abi-encode", "f((address,uint256)[])", "[(%s,%d)]" % (
        net.weth[src], AMOUNT)).strip()).strip()
    std = cast("keccak", cast("abi-encode", "f(bytes[])", "[0x]").strip()).strip()
    mid = cast("keccak", cast("abi-encode", "f(bytes32,bytes32,bytes32,bytes32,bytes32,bytes32)",
                              "0x" + "00" * 32, meta.strip(), fixed, empty, toks, std).strip())
    return mid.strip()


def rows(home, sql, *args):
    db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def outbound_mined(home, net, chain, h, action, what, state="mined"):
    """The desk's outbound record of transaction h (`fusion tx list --json`): mined (or, the
    node's receipt a revert, failed), in the block of the node's receipt (cast receipt), with
    no `fusion tx check`; returns it."""
    rc = json.loads(cast("receipt", "--json", "--rpc-url", net.url[chain], h or "0x"))
    block = rc["blockNumber"]
    block = int(block, 16) if isinstance(block, str) else int(block)
    ok = rc["status"] in ("0x1", 1)
    txs = [x for x in json.loads(fusion(home, "--json", "tx", "list").stdout)
           if x["hash"].lower() == (h or "").lower()]
    check(len(txs) == 1 and txs[0]["action"] == action and ok == (state == "mined") and
          txs[0]["state"] == state and txs[0]["mined_block"] == block,
          "%s: the %s's outbound record %s in block %d as the node's receipt (status %s): %s" %
          (what, action, state, block, rc["status"],
           [(x["id"], x["state"], x["mined_block"]) for x in txs]))
    return txs[0] if len(txs) == 1 else None


def br(*args):
    return ["--operator", "alice", "--passphrase-file", PASSFILE, "--yes", "bridge", *args]


def sign_policy(home, text):
    path = os.path.join(home, "policy.conf")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    fusion(home, "--operator", "admin", "--passphrase-file", PASSFILE, "config", "sign", "policy")


def desk(home, net, rel, sanctioned):
    src, dst = "devnet-eth", "devnet-avax"
    cast("send", "--rpc-url", net.url[src], "--private-key", DEPLOYER_KEY, net.weth[src],
         "mint(address,uint256)", ALICE, str(10 * AMOUNT))
    args = ["--route", "ccip", "--asset", "WETH", "--from", src, "--to", dst, "--amount", "3"]
    q = json.loads(fusion(home, "--json", "bridge", "quote", *args).stdout)
    m = message_arg(net, src, ALICE, AMOUNT)
    sig = "getFee(uint64,(bytes,bytes,(address,uint256)[],address,bytes))(uint256)"
    fee = num(cast("call", "--rpc-url", net.url[src], net.router[src], sig,
                   str(SELECTORS[dst]), m))
    check(q["protocol"] == "ccip" and Decimal(q["fee_native"]) * 10**18 == fee,
          "desk: the quote's fee is getFee's (%s, %d wei)" % (q.get("fee_native"), fee))
    # sanctioned: refused before anything is signed
    n0 = rows(home, "SELECT count(*) FROM outbound_txs")[0][0]
    b0 = rows(home, "SELECT count(*) FROM bridge_transfers")[0][0]
    nonce0 = int(cast("nonce", "--rpc-url", net.url[src], "--block", "pending", ALICE))
    p = fusion(home, *br("send", *args, "--recipient", sanctioned), rc=None)
    check(p.returncode == 1, "desk sanctioned: refused with exit 1 (%d)" % p.returncode)
    check("sanction" in p.stderr.lower(), "desk sanctioned: names sanctions: %r" % p.stderr)
    check(rows(home, "SELECT count(*) FROM outbound_txs")[0][0] == n0,
          "desk sanctioned: no outbound transaction recorded")
    check(rows(home, "SELECT count(*) FROM bridge_transfers")[0][0] == b0,
          "desk sanctioned: no transfer recorded")
    check(int(cast("nonce", "--rpc-url", net.url[src], "--block", "pending", ALICE)) == nonce0,
          "desk sanctioned: alice's nonce unchanged")
    # a route the policy closes (to=, max=0) holds for the CCIP route too: refused before
    # anything is signed
    policy = os.path.join(home, "policy.conf")
    with open(policy) as f:
        default = f.read()
    closed = default.replace("velocity who=*  asset=*  limit=5000000\n",
                             "velocity who=*  asset=*  limit=5000000\nlimit who=* "
                             "action=bridge_allowance|bridge_burn chain=%s to=%s asset=* max=0\n"
                             % (src, dst))
    check(closed != default, "desk closed route: the policy line was added")
    sign_policy(home, closed)
    p = fusion(home, *br("send", *args, "--recipient", "alice"), rc=None)
    check(p.returncode == 1 and "policy" in p.stderr.lower(),
          "desk closed route: refused by the policy (%d %r)" % (p.returncode, p.stderr))
    check(rows(home, "SELECT count(*) FROM outbound_txs")[0][0] == n0 and
          int(cast("nonce", "--rpc-url", net.url[src], "--block", "pending", ALICE)) == nonce0,
          "desk closed route: nothing signed")
    sign_policy(home, default)
    # the send through the desk, the network (relayer) down: committed, in flight once
    a_src, a_dst = net.bal(src, ALICE), net.bal(dst, ALICE)
    p = fusion(home, *br("send", *args, "--recipient", "alice", "--no-wait"), timeout=300)
    check("getFee" in p.stdout and dst in p.stdout,
          "desk: the summary names the fee and the destination: %r" % p.stdout[-600:])
    t = None
    for _ in range(100):
        fusion(home, *br("resume", "--no-wait"), rc=None)
        ts = json.loads(fusion(home, "bridge", "list", "--json").stdout)
        t = [x for x in ts if x["protocol"] == "ccip"][-1]
        if t["state"] != "sent":
            break
        time.sleep(0.3)
    check(t["state"] == "committed", "desk: committed while the relayer is down (%s)" % t["state"])
    # the ccipSend, sent without waiting: the receipt resume found is written to its
    # outbound record (no `tx check`), the block the node mined it in
    burn = outbound_mined(home, net, src, t.get("burn_tx"), "bridge_burn", "desk no-wait")
    # and so is the allowance approve the send signed right before it (alice had none)
    ap = [x for x in json.loads(fusion(home, "--json", "tx", "list").stdout)
          if x["action"] == "bridge_allowance" and x["chain_id"] == net.id[src]]
    check(len(ap) == 1 and burn and ap[0]["nonce"] + 1 == burn["nonce"],
          "desk no-wait: one allowance approve, the nonce below the ccipSend's: %s" %
          [(x["id"], x["nonce"]) for x in ap])
    if ap:
        outbound_mined(home, net, src, ap[0]["hash"], "bridge_allowance", "desk no-wait")
    # balances are read at each chain's synced block: synced past the lock, the value is in
    # flight (before, it is still in the source wallet: counted once either way)
    fusion(home, "sync", "--once", timeout=300)
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    fl = [(x["chain"], x["amount"]) for x in rep["positions"] if x["kind"] == "bridge_in_flight"]
    check(len(fl) == 1 and fl[0][0] == dst,
          "desk: the risk report counts the committed transfer once, on %s: %s" % (dst, fl))
    rel.start()
    fusion(home, *br("resume"), timeout=300)
    ts = json.loads(fusion(home, "bridge", "list", "--json").stdout)
    t = [x for x in ts if x["protocol"] == "ccip"][-1]
    fusion(home, "sync", "--once", timeout=300)
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    check(not [x for x in rep["positions"] if x["kind"] == "bridge_in_flight"],
          "desk: nothing in flight once delivered")
    check(t["state"] == "delivered", "desk: delivered (%s: %s)" % (t["state"], t.get("note")))
    check(net.bal(src, ALICE) == a_src - AMOUNT, "desk: locked from alice on %s" % src)
    check(net.bal(dst, ALICE) == a_dst + AMOUNT, "desk: released to alice on %s" % dst)
    mid = "0x" + str(t.get("message_hash", "")).replace("0x", "")
    check(net.executions(dst, mid) == 1 and net.state(dst, mid) == 2,
          "desk: the recorded message id %s is the one executed on %s" % (mid, dst))
    n1 = rows(home, "SELECT count(*) FROM outbound_txs")[0][0]
    check(n1 >= n0 + 2, "desk: approve and ccipSend recorded as outbound (%d -> %d)" % (n0, n1))
    fusion(home, *br("resume"))
    check(rows(home, "SELECT count(*) FROM outbound_txs")[0][0] == n1,
          "desk: resume on a delivered transfer signs nothing")

    # killed: fusion SIGKILLed with its ccipSend in flight (the source not mining); resume
    # re-sends the same signed bytes: one send, one execution
    cast("send", "--rpc-url", net.url[src], "--private-key", ALICE_KEY, net.weth[src],
         "approve(address,uint256)", net.router[src], str(10 * AMOUNT))
    a_src, a_dst = net.bal(src, ALICE), net.bal(dst, ALICE)
    last = rows(home, "SELECT max(id) FROM bridge_transfers")[0][0]
    mining(net, src, False)
    proc = subprocess.Popen([FUSION, "--home", home, *br("send", *args, "--recipient", "alice")],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hit = False
    try:
        for _ in range(2000):
            r = rows(home, "SELECT id FROM bridge_transfers WHERE id > ? AND protocol = 'ccip'"
                     " AND pending_action = 'bridge_burn'", last)
            if r:
                hit = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        check(hit and proc.poll() is None, "desk killed: the ccipSend is held and in flight")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        mining(net, src, True)
    fusion(home, *br("resume"), timeout=300)
    ts = [x for x in json.loads(fusion(home, "bridge", "list", "--json").stdout)
          if x["protocol"] == "ccip" and x["id"] > last]
    check(len(ts) == 1 and ts[0]["state"] == "delivered",
          "desk killed: one transfer, delivered by resume: %s" % [(x["id"], x["state"]) for x in ts])
    if ts:
        outbound_mined(home, net, src, ts[0].get("burn_tx"), "bridge_burn", "desk killed")
    check(net.bal(src, ALICE) == a_src - AMOUNT, "desk killed: locked once on %s" % src)
    check(net.bal(dst, ALICE) == a_dst + AMOUNT, "desk killed: released once on %s" % dst)
    if ts:
        mid = ts[0].get("message_hash") or ""
        check(net.executions(dst, mid) == 1, "desk killed: one ExecutionStateChanged")
    rel.kill()


def reverted(home, net):
    """A ccipSend that reverts on chain: sent with --no-wait while the source does not mine,
    the router's owner raising its fee (setFees, at a higher priority fee: mined first in
    the same block). resume finds the receipt: the transfer failed, nothing moved, and the
    ccipSend's outbound record failed in the block of the node's receipt (no `tx check`)."""
    src, dst = "devnet-eth", "devnet-avax"
    url, router = net.url[src], net.router[src]
    fees = [str(num(cast("call", "--rpc-url", url, router, f + "()(uint256)")))
            for f in ("baseFee", "feePerByte", "feePerToken")]
    last = rows(home, "SELECT max(id) FROM bridge_transfers")[0][0]
    a_src = net.bal(src, ALICE)
    args = ["--route", "ccip", "--asset", "WETH", "--from", src, "--to", dst, "--amount", "3"]
    mining(net, src, False)
    try:
        fusion(home, *br("send", *args, "--recipient", "alice", "--no-wait"), timeout=300)
        cast("send", "--async", "--rpc-url", url, "--private-key", DEPLOYER_KEY,
             "--priority-gas-price", "50gwei", "--gas-price", "500gwei", router,
             "setFees(uint256,uint256,uint256)", str(10**24), "0", "0")
        cast("rpc", "--rpc-url", url, "anvil_mine", "0x1")
    finally:
        mining(net, src, True)
    cast("send", "--rpc-url", url, "--private-key", DEPLOYER_KEY, router,
         "setFees(uint256,uint256,uint256)", *fees)
    t = None
    for _ in range(100):
        fusion(home, *br("resume", "--no-wait"), rc=None)
        ts = [x for x in json.loads(fusion(home, "bridge", "list", "--json").stdout)
              if x["protocol"] == "ccip" and x["id"] > last]
        t = ts[-1] if ts else None
        if t and t["state"] != "sent":
            break
        time.sleep(0.3)
    check(t and t["state"] == "failed", "reverted: the transfer failed (%s)" %
          ("%s: %s" % (t["state"], t.get("note")) if t else "none"))
    check(net.bal(src, ALICE) == a_src, "reverted: nothing locked on %s" % src)
    if t:
        outbound_mined(home, net, src, t.get("burn_tx"), "bridge_burn", "reverted", "failed")


def hosted(home, net, rel):
    """The destination behind a provider that caps eth_getLogs at 5 blocks."""
    src, dst = "devnet-eth", "devnet-avax"
    fake = FakeProvider(net.url[dst], "hosted-key", profile="alchemy", max_blocks=5)
    try:
        db = sqlite3.connect(os.path.join(home, "desk.db"), timeout=5)
        db.execute("UPDATE rpc_endpoints SET url = ? WHERE chain_id = ?",
                   (fake.url_for("hosted-key"), net.id[dst]))
        db.commit()
        db.close()
        a_dst = net.bal(dst, ALICE)
        last = rows(home, "SELECT max(id) FROM bridge_transfers")[0][0]
        head0 = int(cast("block-number", "--rpc-url", net.url[dst]))
        # sent and committed while the relayer is down; the destination then grows by 300
        # blocks before the execution
        args = ["--route", "ccip", "--asset", "WETH", "--from", src, "--to", dst, "--amount", "3"]
        p = fusion(home, *br("send", *args, "--recipient", "alice", "--no-wait"), rc=None,
                   timeout=300)
        t = None
        for _ in range(100):
            fusion(home, *br("resume", "--no-wait"), rc=None)
            ts = [x for x in json.loads(fusion(home, "bridge", "list", "--json").stdout)
                  if x["protocol"] == "ccip" and x["id"] > last]
            t = ts[-1] if ts else None
            if t and t["state"] != "sent":
                break
            time.sleep(0.3)
        check(t and t["state"] == "committed",
              "hosted: committed (%s %r)" % (t and t["state"], p.stderr[-300:]))
        cast("rpc", "--rpc-url", net.url[dst], "anvil_mine", "0x12c")  # 300 blocks
        rel.start()
        p = fusion(home, *br("resume"), rc=None, timeout=300)
        ts = [x for x in json.loads(fusion(home, "bridge", "list", "--json").stdout)
              if x["protocol"] == "ccip" and x["id"] > last]
        check(p.returncode == 0 and len(ts) == 1 and ts[0]["state"] == "delivered",
              "hosted: delivered through a provider capped at 5 blocks (%d %s %r)" %
              (p.returncode, [(x["id"], x["state"], x.get("note")) for x in ts], p.stderr[-300:]))
        check(net.bal(dst, ALICE) == a_dst + AMOUNT, "hosted: released once on %s" % dst)
        lo = rows(home, "SELECT dst_from_block FROM bridge_transfers WHERE id > ?", last)
        lo = lo[0][0] if lo else 0
        ranges = fake.log_ranges()
        check(lo >= head0 and ranges and min(a for a, _ in ranges) >= lo,
              "hosted: the delivery is looked for from the destination's head at the send"
              " (%s, head before it %d), not from block 0: %s" % (lo, head0, ranges[:6]))
        check(fake.stats()["capped"] >= 1 and [r for r in ranges if r[1] - r[0] + 1 > 5] and
              [r for r in ranges if r[1] - r[0] + 1 <= 5],
              "hosted: a refused range asked again within the cap: %s" % ranges[:8])
    finally:
        fake.stop()
        rel.kill()


def main():
    global PASSFILE
    with open(os.path.join(ROOT, "data", "demo", "counterparties.csv")) as f:
        sanctioned = [ln.split(",")[1] for ln in f if ",sanctioned," in ln][0]
    home = tempfile.mkdtemp(prefix="fusion-ccip-")
    PASSFILE = os.path.join(tempfile.mkdtemp(prefix="fusion-ccip-pass-"), "pass")
    with open(PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(PASSFILE, 0o600)
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    rel = None
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        net = Net(home)
        routers = set(net.router.values())
        check(len(routers) == 1 and None not in routers,
              "routers: one address on every chain: %s" % routers)
        for n in net.url:
            check(net.selector[n] == str(SELECTORS[n]), "routers: %s selector %s" %
                  (n, net.selector[n]))
            for o in net.url:
                sup = cast("call", "--rpc-url", net.url[n], net.router[n],
                           "isChainSupported(uint64)(bool)", str(SELECTORS[o])).strip()
                check(sup == ("false" if o == n else "true"),
                      "routers: %s -> %s supported: %s" % (n, o, sup))
        src, dst = "devnet-eth", "devnet-avax"
        pool0 = net.bal(dst, net.router[dst])
        check(pool0 > 0, "routers: the destination pool is funded")
        cast("send", "--rpc-url", net.url[src], "--private-key", DEPLOYER_KEY, net.weth[src],
             "mint(address,uint256)", SENDER, str(10 * AMOUNT))
        cast("send", "--rpc-url", net.url[src], "--private-key", SENDER_KEY, net.weth[src],
             "approve(address,uint256)", net.router[src], str(10 * AMOUNT))

        # killed: the relayer sees the message and dies before it executes
        rel = Relayer(net)
        rel.start("--hold", "3")
        s0, r0 = net.bal(src, SENDER), net.bal(dst, RECEIVER)
        mid, fee, data = send(net, src, dst, RECEIVER, AMOUNT)
        check(fee > 0, "getFee: a native fee (%d wei)" % fee)
        want = message_id(net, src, dst, data)
        check(want == mid, "message id: CCIP 1.4's hash of the fields (%s == %s)" % (want, mid))
        check(net.bal(src, SENDER) == s0 - AMOUNT, "killed: locked on %s" % src)
        check(rel.wait_line("seen"), "killed: the relayer saw the message")
        rel.kill()
        check(net.state(dst, mid) == 0, "killed: not executed while the relayer is down")
        rel.start()
        check(rel.wait_line("executed"), "killed: the restarted relayer executed it")
        check(net.state(dst, mid) == 2, "killed: SUCCESS on %s" % dst)
        check(net.bal(dst, RECEIVER) == r0 + AMOUNT, "killed: released once on %s" % dst)
        check(net.executions(dst, mid) == 1, "killed: one ExecutionStateChanged")
        rel.kill()

        # in flight: the relayer dies with its execute pending in the destination's mempool
        relayer_addr = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # anvil #7
        r1 = net.bal(dst, RECEIVER)
        mining(net, dst, False)
        n0 = int(cast("nonce", "--rpc-url", net.url[dst], relayer_addr))
        rel.start()
        mid2, _, _ = send(net, src, dst, RECEIVER, AMOUNT)
        pending = False
        for _ in range(600):
            if int(cast("nonce", "--rpc-url", net.url[dst], "--block", "pending",
                        relayer_addr)) > n0:
                pending = True
                break
            time.sleep(0.05)
        check(pending, "in flight: the relayer's execute is in the mempool")
        rel.kill()
        rel.start()
        check(rel.wait_line("seen"), "in flight: the restarted relayer saw the message again")
        time.sleep(2)  # let it send its second execute into the stopped mempool
        mining(net, dst, True)
        done = False
        for _ in range(600):
            if net.state(dst, mid2) == 2:
                done = True
                break
            time.sleep(0.1)
        check(done, "in flight: SUCCESS on %s" % dst)
        time.sleep(3)  # any second execute is mined by now
        check(net.bal(dst, RECEIVER) == r1 + AMOUNT, "in flight: released exactly once")
        check(net.executions(dst, mid2) == 1, "in flight: one ExecutionStateChanged")
        rel.kill()

        locked = num(cast("call", "--rpc-url", net.url[src], net.router[src],
                          "totalLocked(address)(uint256)", net.weth[src]))
        released = num(cast("call", "--rpc-url", net.url[dst], net.router[dst],
                            "totalReleased(address)(uint256)", net.weth[dst]))
        check(locked == released == 2 * AMOUNT, "locked: %d locked = %d released" %
              (locked, released))
        check(net.bal(dst, net.router[dst]) == pool0 - 2 * AMOUNT, "locked: the pool paid out")
        resumed(home, net, rel, src, dst)
        desk(home, net, rel, sanctioned)
        reverted(home, net)
        hosted(home, net, rel)
    finally:
        if rel:
            rel.kill()
        fusion(home, "devnet", "down", rc=None)
    return report()


if __name__ == "__main__":
    sys.exit(main())
