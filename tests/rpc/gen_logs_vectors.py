#!/usr/bin/python3
"""gen_logs_vectors.py: writes tests/vectors/rpc_getlogs.json, golden vectors for the
fast eth_getLogs reader: eth_getLogs answers as nodes format them (compact, pretty,
with extra fields, in other key orders), produced by Python's json module from random
logs, and the logs themselves as the expected reading. Deterministic (fixed seed).
Run from the source root: tests/rpc/gen_logs_vectors.py"""
import json
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def hx(r, n):
    return "0x" + bytes(r.randrange(256) for _ in range(n)).hex()


def main():
    r = random.Random(20261127)
    vectors = []
    for case in range(12):
        logs = []
        n = [0, 1, 3, 50][case % 4]
        block = r.randrange(0, 1 << 40)
        for i in range(n):
            block += r.choice([0, 0, 1, 7])
            lg = {
                "address": hx(r, 20),
                "topics": [hx(r, 32) for _ in range(r.randrange(0, 5))],
                "data": hx(r, r.choice([0, 32, 64, 100, 320])),
                "blockNumber": hex(block),
                "blockHash": hx(r, 32),
                "transactionHash": hx(r, 32),
                "transactionIndex": hex(r.randrange(0, 300)),
                "logIndex": hex(i),
                "removed": False,
            }
            if case % 3 == 1:
                lg["blockTimestamp"] = hex(1700000000 + i)   # anvil adds it
            if case % 3 == 2:
                lg["extra"] = {"nested": [1, 2.5e3, None, True, "x\"y\u00e9"]}
                lg = dict(reversed(list(lg.items())))          # another key order
            logs.append(lg)
        ans = {"jsonrpc": "2.0", "id": case + 1, "result": logs}
        if case % 2:
            ans = {"id": case + 1, "result": logs, "jsonrpc": "2.0"}
        text = json.dumps(ans, indent=2 if case % 4 == 3 else None,
                          separators=None if case % 4 == 3 else (",", ":"))
        expected = [{
            "address": lg["address"], "topics": lg["topics"], "data": lg["data"],
            "blockNumber": int(lg["blockNumber"], 16), "blockHash": lg["blockHash"],
            "transactionHash": lg["transactionHash"],
            "transactionIndex": int(lg["transactionIndex"], 16),
            "logIndex": int(lg["logIndex"], 16)} for lg in logs]
        vectors.append({"id": case + 1, "response": text, "logs": expected})
    path = os.path.join(ROOT, "tests", "vectors", "rpc_getlogs.json")
    with open(path, "w") as fh:
        json.dump(vectors, fh, indent=1)
        fh.write("\n")
    print(f"wrote {len(vectors)} vectors to {path}")


if __name__ == "__main__":
    main()
