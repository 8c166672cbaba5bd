#!/usr/bin/python3
"""ccip_relayer.py: the devnet's stand-in for the CCIP network (its DONs and executors).

DEVNET ONLY. Watches the CcipRouter of every --rpc for CCIPSendRequested (the message and
its id, emitted by ccipSend) and executes each message on its destination chain with
execute(message), signed by the relayer key (anvil dev key #7, which `fusion devnet up`
makes each router's only executor). The event's data is abi.encode(message), so the
calldata is execute's selector followed by that data, unchanged. The destination is the
chain where the message's id checks out: an eth_call of execute succeeds there only (other
lanes answer InvalidMessageId, an executed message AlreadyExecuted).

Restart-safe: it skips every message its destination reports executed; a message executed
but not yet seen as such (the relayer killed with its transaction in flight) is refused by
the router's replay protection (AlreadyExecuted), so no message is executed twice. Without
--state it rescans the routers' logs from block 0 each time it starts. With --state FILE it
keeps there, per chain id, the block to scan from next (the first block holding a message
not yet executed, else the one after the last scanned) and the hash of the block before
it; a restart resumes there, and a chain whose block no longer has that hash (a node
started afresh under the same chain id, as `fusion devnet up` does after a stop) is
scanned from block 0 again. The file is replaced whole (a temporary file renamed).
Faults for tests: --hold N executes nothing for N seconds after it sees a message.

    ccip_relayer.py --router 0xROUTER --rpc URL [--rpc URL ...] [--state FILE] [--poll S]
                    [--hold S]
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


def block_hash(url, n):
    """The hash of block n on url, None when there is none (or the node does not answer)."""
    p = cast("block", str(n), "--field", "hash", "--rpc-url", url, check=False)
    h = p.stdout.strip().lower()
    return h if p.returncode == 0 and h.startswith("0x") else None


def load_state(path):
    try:
        with open(path) as f:
            st = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        say("state %s unreadable (%s): scanning every chain from block 0" % (path, e))
        return {}
    return st if isinstance(st, dict) else {}


def save_state(path, st):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def resume_from(url, cid, st):
    """The block to scan url (chain cid) from: the state's cursor when the block before it
    still has the hash the state recorded, else 0."""
    c = st.get(cid)
    if not isinstance(c, dict):
        return 0
    n, h = c.get("next"), c.get("hash")
    if not isinstance(n, int) or n <= 0:
        return 0
    if not isinstance(h, str) or block_hash(url, n - 1) != h.lower():
        say("chain %s: block %d is not the one the state recorded (a chain started afresh?), "
            "so it is scanned from block 0" % (cid, n - 1))
        return 0
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--router", required=True)
    ap.add_argument("--rpc", action="append", required=True)
    ap.add_argument("--state", help="the file keeping each chain's scan cursor")
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
    say("watching %d chains, router %s" % (len(a.rpc), a.router))
    scanned = {u: 0 for u in a.rpc}
    cids = {}
    tips = {}  # url -> (its head, the head's hash) at the last scan
    st = {}
    if a.state:
        st = load_state(a.state)
        for u in a.rpc:
            cids[u] = cast("chain-id", "--rpc-url", u).stdout.strip()
            scanned[u] = resume_from(u, cids[u], st)
            say("chain %s: from block %d" % (cids[u], scanned[u]))
    pending = {}  # message id -> (source url, calldata, first seen, its block)
    done = set()
    while True:
        for url in a.rpc:
            try:
                if a.state:  # the head's hash too: the cursor after it names it
                    b = json.loads(cast("block", "latest", "--json", "--rpc-url", url).stdout)
                    head = int(str(b["number"]), 0)
                    tips[url] = (head, str(b["hash"]).lower())
                else:
                    head = int(cast("block-number", "--rpc-url", url).stdout)
                if scanned[url] > head:
                    continue
                logs = json.loads(cast("logs", "--json", "--rpc-url", url, "--from-block",
                                       str(scanned[url]), "--to-block", str(head),
                                       "--address", a.router, topic).stdout)
            except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
                say("reading %s: %s" % (url, e))
                continue
            for lg in logs:
                data = lg["data"][2:]
                # abi.encode(tuple): an offset word, then the head; messageId is field 13
                mid = "0x" + data[64 * 13:64 * 14]
                if mid not in done and mid not in pending:
                    pending[mid] = (url, selector + data, time.monotonic(),
                                    int(str(lg["blockNumber"]), 0))
                    say("message %s seen on %s" % (mid, url))
            scanned[url] = head + 1
        for mid, (src, calldata, seen, _) in list(pending.items()):
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
        if a.state:
            keep(a.state, st, scanned, cids, tips, pending)
        time.sleep(a.poll)


def keep(path, st, scanned, cids, tips, pending):
    """Records each chain's cursor: the first block with a message still pending from it,
    else the next one to scan; written only when a cursor moved."""
    new = dict(st)
    for u, cid in cids.items():
        n = min([scanned[u]] + [b for (src, _, _, b) in pending.values() if src == u])
        old = st.get(cid)
        if isinstance(old, dict) and old.get("next") == n:
            continue
        if n == 0:
            h = ""
        elif u in tips and tips[u][0] == n - 1:
            h = tips[u][1]
        else:
            h = block_hash(u, n - 1)
        if h is None:
            continue  # not answering: the cursor waits
        new[cid] = {"next": n, "hash": h}
    if new != st:
        save_state(path, new)
        st.clear()
        st.update(new)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
    except (RuntimeError, OSError) as e:  # a node not answering at the start, the state file
        say(str(e)[:300])
        sys.exit(1)
