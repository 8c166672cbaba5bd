#!/usr/bin/python3
"""ccip_relayer.py: the devnet's stand-in for the CCIP network (its DONs and executors).

DEVNET ONLY. Watches the CcipRouter of every --rpc for CCIPSendRequested (the message and
its id, emitted by ccipSend) and executes each message on its destination chain with
execute(message), signed by the relayer key (anvil dev key #7, which `fusion devnet up`
makes each router's only executor). The event's data is abi.encode(message), so the
calldata is execute's selector followed by that data, unchanged. The destination is the
chain where the message's id checks out: an eth_call of execute succeeds there only (other
lanes answer InvalidMessageId, an executed message AlreadyExecuted).

Restart-safe with no state of its own: it rescans the routers' logs from block 0 each time
it starts and skips every message its destination reports executed; a message executed
but not yet seen as such (the relayer killed with its transaction in flight) is refused by
the router's replay protection (AlreadyExecuted), so no message is executed twice.
Faults for tests: --hold N executes nothing for N seconds after it sees a message.

    ccip_relayer.py --router 0xROUTER --rpc URL [--rpc URL ...] [--poll S] [--hold S]
"""
import argparse
import json
import os
import subprocess
import sys
import time

# anvil's dev key #7 (mnemonic "test test ... junk"; public, devnets only): the devnet's
# relayer, as src/devnet (DEVNET_CCIP_RELAYER_KEY) names it on every CcipRouter
DEV_KEY_7 = "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"

HERE = os.path.dirname(os.path.abspath(__file__))
CAST = os.environ.get("FUSION_CAST") or os.path.join(HERE, "bin", "cast")

MSG_TUPLE = ("(uint64,address,address,uint64,uint256,bool,uint64,address,uint256,bytes,"
             "(address,uint256)[],bytes[],bytes32)")
EVENT = "CCIPSendRequested(%s)" % MSG_TUPLE
EXECUTE = "execute(%s)" % MSG_TUPLE


def cast(*args, check=True):
    p = subprocess.run([CAST, *args], capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError("cast %s: %s" % (args[0], p.stderr.strip()[:300]))
    return p


def say(*a):
    print("relayer:", *a, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--router", required=True)
    ap.add_argument("--rpc", action="append", required=True)
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--hold", type=float, default=0.0)
    ap.add_argument("--key-file")
    a = ap.parse_args()
    key = DEV_KEY_7
    if a.key_file:
        with open(a.key_file) as f:
            key = f.read().strip()
    topic = cast("keccak", EVENT).stdout.strip()
    selector = cast("sig", EXECUTE).stdout.strip()
    me = cast("wallet", "address", "--private-key", key).stdout.strip()
    scanned = {u: 0 for u in a.rpc}
    pending = {}  # message id -> (source url, calldata, first seen)
    done = set()
    say("watching %d chains, router %s" % (len(a.rpc), a.router))
    while True:
        for url in a.rpc:
            try:
                head = int(cast("block-number", "--rpc-url", url).stdout)
                if scanned[url] > head:
                    continue
                logs = json.loads(cast("logs", "--json", "--rpc-url", url, "--from-block",
                                       str(scanned[url]), "--to-block", str(head),
                                       "--address", a.router, topic).stdout)
            except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                say("reading %s: %s" % (url, e))
                continue
            for lg in logs:
                data = lg["data"][2:]
                # abi.encode(tuple): an offset word, then the head; messageId is field 13
                mid = "0x" + data[64 * 13:64 * 14]
                if mid not in done and mid not in pending:
                    pending[mid] = (url, selector + data, time.monotonic())
                    say("message %s seen on %s" % (mid, url))
            scanned[url] = head + 1
        for mid, (src, calldata, seen) in list(pending.items()):
            if time.monotonic() - seen < a.hold:
                continue
            for dst in a.rpc:
                if dst == src:
                    continue
                sim = cast("call", "--rpc-url", dst, "--from", me, a.router, calldata,
                           check=False)
                if sim.returncode == 0:
                    p = cast("send", "--rpc-url", dst, "--private-key", key, "--timeout", "600",
                             a.router, calldata, check=False)
                    if p.returncode == 0:
                        say("message %s executed on %s" % (mid, dst))
                        done.add(mid)
                        del pending[mid]
                    else:
                        say("executing %s on %s: %s" % (mid, dst, p.stderr.strip()[:200]))
                    break
                err = sim.stderr
                if "0xd1d36dcd" in err or "AlreadyExecuted" in err:
                    say("message %s already executed on %s" % (mid, dst))
                    done.add(mid)
                    del pending[mid]
                    break
        time.sleep(a.poll)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
