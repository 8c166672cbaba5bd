#!/usr/bin/python3
"""test_anvil_tx.py: a transaction signed through the key store is mined by a real anvil.

Starts anvil on a free port (stopped at exit), creates a key with `fusion key new`, funds
it with anvil_setBalance, signs an EIP-1559 and a legacy transfer through the key store
(tests/keystore/ks_sign_tx.c: keystore_unlock + keystore_sign_tx), decodes them with
`cast decode-transaction`, publishes them with `cast publish` and checks the receipts, the
recipient's balance, and the sign_tx rows of the audit log.
usage: test_anvil_tx.py PATH/TO/ks_sign_tx
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ["FUSION_BIN"]
TOOLS = os.environ["FUSION_TOOLS"]
CAST = os.path.join(TOOLS, "cast")
ANVIL = os.path.join(TOOLS, "anvil")
HELPER = sys.argv[1]
ENV = dict(os.environ, FUSION_KDF="interactive")
RECIPIENT = "0x000000000000000000000000000000000000dEaD"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=120,
                       stdin=subprocess.DEVNULL, start_new_session=True)
    if p.returncode != 0:
        raise AssertionError(f"{os.path.basename(cmd[0])} {cmd[1:3]} failed: {p.stderr.strip()}")
    return p.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_anvil(tmp):
    for _ in range(5):
        port = free_port()
        log = open(os.path.join(tmp, "anvil.log"), "w")
        proc = subprocess.Popen([ANVIL, "--host", "127.0.0.1", "--port", str(port),
                                 "--chain-id", "31337"], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            p = subprocess.run([CAST, "chain-id", "--rpc-url", url], capture_output=True,
                               text=True)
            if p.returncode == 0:
                return proc, url
            time.sleep(0.2)
        proc.kill()
        proc.wait()
    raise AssertionError("anvil did not start")


def main():
    tmp = tempfile.mkdtemp(prefix="fusion-anvil-tx-")
    anvil = None
    try:
        home = os.path.join(tmp, "desk")
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("anvil test passphrase\n")
        os.chmod(pw, 0o600)  # secrets must be the operator's alone
        me = run([BIN, "--home", home, "--passphrase-file", pw, "key", "new", "--label", "gas"])
        anvil, url = start_anvil(tmp)
        run([CAST, "rpc", "--rpc-url", url, "anvil_setBalance", me, hex(10**20)])
        chain = int(run([CAST, "chain-id", "--rpc-url", url]))
        before = int(run([CAST, "balance", "--rpc-url", url, RECIPIENT]))
        sent = 0
        hashes = []
        for n, (tx_type, fees) in enumerate([("2", ["30000000000", "1000000000"]),
                                             ("0", ["30000000000"])]):
            nonce = int(run([CAST, "nonce", "--rpc-url", url, me]))
            assert nonce == n, nonce
            value = 10**15 * (n + 1)
            raw = run([HELPER, home, me, pw, tx_type, str(chain), str(nonce), RECIPIENT,
                       str(value), "21000", *fees])
            decoded = json.loads(run([CAST, "decode-transaction", raw]))
            if isinstance(decoded, str):  # cast 1.7 prints the JSON as a JSON string
                decoded = json.loads(decoded)
            assert int(decoded["nonce"], 16) == nonce, decoded
            assert decoded["to"].lower() == RECIPIENT.lower(), decoded
            assert int(decoded["value"], 16) == value, decoded
            assert decoded["signer"].lower() == me.lower(), decoded
            tx_hash = run([CAST, "publish", "--rpc-url", url, raw]).strip('"')
            if tx_hash.startswith("{"):
                tx_hash = json.loads(tx_hash)["transactionHash"]
            receipt = json.loads(run([CAST, "receipt", "--rpc-url", url, "--json", tx_hash]))
            assert receipt["status"] in ("0x1", 1, "1"), receipt
            assert receipt["from"].lower() == me.lower(), receipt
            assert int(str(receipt["type"]), 16) == int(tx_type), receipt
            sent += value
            assert decoded["hash"].lower() == tx_hash.lower(), (decoded, tx_hash)
            hashes.append(tx_hash.lower())
            print(f"type {tx_type} tx {tx_hash} mined in block {receipt['blockNumber']}")
        after = int(run([CAST, "balance", "--rpc-url", url, RECIPIENT]))
        assert after - before == sent, (before, after, sent)
        with open(os.path.join(home, "audit.log")) as f:
            rows = [json.loads(line) for line in f]
        signed = [r["details"] for r in rows if r["action"] == "sign_tx"]
        assert [d["tx_hash"] for d in signed] == hashes, signed
        assert all(d["key"] == me and d["chain_id"] == chain for d in signed), signed
        run([BIN, "--home", home, "audit", "verify"])
        print("ok: transactions signed through the key store were mined")
        return 0
    finally:
        if anvil:
            anvil.terminate()
            try:
                anvil.wait(timeout=10)
            except subprocess.TimeoutExpired:
                anvil.kill()
                anvil.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
