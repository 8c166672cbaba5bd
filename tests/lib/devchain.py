#!/usr/bin/python3
"""devchain.py: real local chains for the tests.

Starts Foundry's anvil on a loopback port that the kernel picks (--port 0; the port is
read back from anvil's "Listening on" line), waits until it answers JSON-RPC, and stops
it when the test ends, however it ends. Every anvil started here is a child of the test
and is killed by its own pid, never by name. Each node logs to <tmp>/fusion-anvil-*/anvil.log:
the folder is removed when the test passes (exit 0, or 77: skipped) and kept, its path
printed on stderr, when the test fails (an uncaught exception, another exit status, a
signal) or when the node itself failed (anvil exited or never answered at its start, or
ignored SIGINT at its stop).

As a module:   from devchain import Anvil;  with Anvil(chain_id=31337) as node: node.rpc(...)
As a command:  devchain.py run [--chain-id N] -- CMD ARGS...   runs CMD with FUSION_TEST_RPC
               set to a fresh node's URL and returns CMD's exit status.
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.environ.get("FUSION_ROOT") or os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.environ.get("FUSION_TOOLS") or os.path.join(ROOT, "tools", "bin")

# anvil's default (test mnemonic) accounts; they are unlocked on the node.
ACCOUNTS = [
    "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
    "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
    "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65",
    "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc",
    "0x976ea74026e726554db657fa54763abd0c3a0aa9",
    "0x14dc79964da2c08b23698b3d3cc7ca32193d9955",
    "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f",
    "0xa0ee7a142d267c1f36714e4a8f75612f20a79720",
]
KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
]

_live = []
_made = []  # every node made by this process: its log folder is removed or kept at exit
_failed = []  # why the test failed, when it did
_owner = os.getpid()  # a forked child's exit is not the test's end
_excepthook = sys.excepthook
_exit = sys.exit


def _cleanup():
    for node in list(_live):
        node.kill()


def _note_exception(kind, value, tb):
    _failed.append(kind.__name__)
    _excepthook(kind, value, tb)


def _note_exit(code=None):
    if code not in (None, 0, 77):  # 77: the test skipped
        _failed.append(f"exit {code}")
    _exit(code)


sys.excepthook = _note_exception
sys.exit = _note_exit


def _end_logs():
    if os.getpid() != _owner:
        return
    _cleanup()  # nothing may still write in a folder being removed
    for node in _made:
        if not os.path.isdir(node.logdir):
            continue
        why = _failed[0] if _failed else node.trouble
        if why:
            print(f"the test failed ({why}): kept for debugging: {node.logdir}",
                  file=sys.stderr, flush=True)
        else:
            shutil.rmtree(node.logdir, ignore_errors=True)


atexit.register(_cleanup)
atexit.register(_end_logs)  # runs first (atexit is last in, first out): it kills, then removes


def _on_signal(signum, frame):
    _cleanup()
    sys.exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):
        pass


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def rpc(url, method, params=(), timeout=60):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                       "params": list(params)}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        ans = json.loads(r.read())
    if ans.get("error"):
        raise RpcError(ans["error"].get("code"), ans["error"].get("message"))
    return ans["result"]


def emitter_initcode(topic_hex):
    """Init code of a minimal contract whose every call emits LOG1(topic, calldata)."""
    topic = topic_hex[2:] if topic_hex.startswith("0x") else topic_hex
    assert len(topic) == 64
    # CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY PUSH32 topic CALLDATASIZE PUSH1 0 LOG1 STOP
    runtime = "36" "6000" "6000" "37" "7f" + topic + "36" "6000" "a1" "00"
    n = len(runtime) // 2
    init = f"60{n:02x}600c60003960{n:02x}6000f3"
    assert len(init) == 24
    return "0x" + init + runtime


class Anvil:
    """One anvil node. Extra args go to anvil as they are."""

    def __init__(self, chain_id=31337, block_time=None, args=(), state=None, port=0):
        self.chain_id = chain_id
        self.block_time = block_time
        self.args = list(args)
        self.state = state
        self.port = port
        self.proc = None
        self.logdir = tempfile.mkdtemp(prefix="fusion-anvil-")
        self.logpath = os.path.join(self.logdir, "anvil.log")
        self.trouble = None  # the node's own failure, if any: its log folder is kept then
        _made.append(self)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self, timeout=60):
        cmd = [os.path.join(TOOLS, "anvil"), "--host", "127.0.0.1", "--port", str(self.port),
               "--chain-id", str(self.chain_id)]
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        if self.state:
            cmd += ["--state", self.state]
        cmd += self.args
        log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        _live.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.trouble = f"anvil exited with {self.proc.returncode}"
                raise RuntimeError(f"anvil exited with {self.proc.returncode}; see {self.logpath}")
            if self.port == 0:
                m = re.search(rb"Listening on 127\.0\.0\.1:(\d+)", open(self.logpath, "rb").read())
                if m:
                    self.port = int(m.group(1))
            if self.port:
                try:
                    if int(rpc(self.url, "eth_chainId", timeout=2), 16) == self.chain_id:
                        return self
                except (OSError, urllib.error.URLError, ValueError, RpcError):
                    pass
            time.sleep(0.05)
        self.kill()
        self.trouble = "anvil did not answer"
        raise RuntimeError(f"anvil did not answer within {timeout} s; see {self.logpath}")

    def stop(self):
        """Graceful stop (anvil writes --state on SIGTERM/SIGINT)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.trouble = "anvil ignored SIGINT"
                self.proc.kill()
                self.proc.wait()
        self._forget()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._forget()

    def _forget(self):
        if self in _live:
            _live.remove(self)

    def restart(self, graceful=True):
        """Same port, so clients reconnect to the same URL."""
        (self.stop if graceful else self.kill)()
        self.start()

    def rpc(self, method, *params, timeout=120):
        return rpc(self.url, method, params, timeout=timeout)

    def block_number(self):
        return int(self.rpc("eth_blockNumber"), 16)

    def mine(self, n=1):
        self.rpc("anvil_mine", hex(n))

    def receipt(self, txh, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.rpc("eth_getTransactionReceipt", txh)
            if r:
                return r
            time.sleep(0.02)
        raise RuntimeError(f"transaction {txh} not mined within {timeout} s")

    def send(self, to, data="0x", sender=ACCOUNTS[0], value=0, gas=None, wait=True):
        tx = {"from": sender, "data": data, "value": hex(value)}
        if to:
            tx["to"] = to
        if gas:
            tx["gas"] = hex(gas)
        txh = self.rpc("eth_sendTransaction", tx)
        return self.receipt(txh) if wait else txh

    def deploy(self, initcode, sender=ACCOUNTS[0]):
        r = self.send(None, initcode, sender=sender)
        if int(r["status"], 16) != 1:
            raise RuntimeError("deployment reverted")
        return r["contractAddress"]

    def logs(self, addresses=None, from_block=0, to_block="latest", topics=None):
        f = {"fromBlock": hex(from_block),
             "toBlock": to_block if isinstance(to_block, str) else hex(to_block)}
        if addresses:
            f["address"] = addresses
        if topics:
            f["topics"] = topics
        return self.rpc("eth_getLogs", f)

    def cast(self, *args, check=True):
        cmd = [os.path.join(TOOLS, "cast")] + [str(a) for a in args] + ["--rpc-url", self.url]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"cast {' '.join(map(str, args))}: {r.stderr.strip()}")
        return r.stdout.strip()


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="run a command against fresh nodes")
    run.add_argument("--chain-id", type=int, default=31337)
    run.add_argument("--nodes", type=int, default=1,
                     help="start N nodes (chain ids chain-id, chain-id+1, ...): "
                          "FUSION_TEST_RPC, FUSION_TEST_RPC2, ...")
    run.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("run: no command given")
    nodes = [Anvil(chain_id=a.chain_id + i) for i in range(a.nodes)]
    try:
        env = dict(os.environ)
        for i, node in enumerate(nodes):
            node.start()
            suffix = str(i + 1) if i else ""
            env["FUSION_TEST_RPC" + suffix] = node.url
            env["FUSION_TEST_CHAIN_ID" + suffix] = str(node.chain_id)
        return subprocess.call(cmd, env=env)
    finally:
        for node in nodes:
            node.stop()


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
