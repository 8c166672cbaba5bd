#!/usr/bin/python3
"""gen_event_vectors.py: writes tests/vectors/sync_events.json, the golden vectors of
the sync event decoder. Topics and data are encoded by Foundry's `cast` (an independent
ABI encoder) from the values that the "json" member states as the expected decoding.
Run from the source root:  tests/sync/gen_event_vectors.py  (needs tools/bin/cast)."""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAST = os.path.join(ROOT, "tools", "bin", "cast")


def cast(*args):
    return subprocess.run([CAST, *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def enc(types, values):
    if not types:
        return "0x"
    return cast("abi-encode", f"f({','.join(types)})", "--", *values)


A = ["0x" + f"{i:02x}" * 20 for i in range(1, 9)]
Z = "0x" + "00" * 20
H1, H2 = "0x" + "ab" * 32, "0x" + "cd" * 32

# (emitter, name, signature, [(field, type, indexed, cast value, json value)])
EVENTS = [
    ("factory", "EscrowCreated",
     "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64)",
     [("escrow", "address", 1, A[0], A[0]), ("payer", "address", 1, A[1], A[1]),
      ("payee", "address", 1, A[2], A[2]), ("token", "address", 0, Z, Z),
      ("amount", "uint256", 0, "1250500000", "1250500000"),
      ("approvers", "address[]", 0, f"[{A[3]},{A[4]},{A[5]}]", [A[3], A[4], A[5]]),
      ("threshold", "uint256", 0, "2", "2"), ("arbiter", "address", 0, A[6], A[6]),
      ("deadline", "uint64", 0, "18446744073709551615", "18446744073709551615")]),
    ("factory", "EscrowCreated",
     "EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64)",
     [("escrow", "address", 1, A[7], A[7]), ("payer", "address", 1, A[1], A[1]),
      ("payee", "address", 1, A[2], A[2]), ("token", "address", 0, A[3], A[3]),
      ("amount", "uint256", 0,
       "115792089237316195423570985008687907853269984665640564039457584007913129639935",
       "115792089237316195423570985008687907853269984665640564039457584007913129639935"),
      ("approvers", "address[]", 0, "[]", []),
      ("threshold", "uint256", 0, "0", "0"), ("arbiter", "address", 0, A[6], A[6]),
      ("deadline", "uint64", 0, "0", "0")]),
    ("escrow", "Funded", "Funded(address,uint256)",
     [("funder", "address", 1, A[1], A[1]), ("amount", "uint256", 0, "7", "7")]),
    ("escrow", "Approved", "Approved(address,uint256)",
     [("approver", "address", 1, A[3], A[3]), ("approvals", "uint256", 0, "1", "1")]),
    ("escrow", "Released", "Released(address,uint256)",
     [("to", "address", 1, A[2], A[2]), ("amount", "uint256", 0, "7", "7")]),
    ("escrow", "Refunded", "Refunded(address,uint256,address)",
     [("to", "address", 1, A[1], A[1]), ("amount", "uint256", 0, "7", "7"),
      ("by", "address", 1, A[6], A[6])]),
    ("escrow", "Disputed", "Disputed(address,string)",
     [("by", "address", 1, A[2], A[2]),
      ("reason", "string", 0, "goods not delivered — 貨物未到 🚚", "goods not delivered — 貨物未到 🚚")]),
    ("escrow", "Disputed", "Disputed(address,string)",
     [("by", "address", 1, A[2], A[2]), ("reason", "string", 0, "", "")]),
    ("escrow", "Resolved", "Resolved(bool,address,uint256)",
     [("toPayee", "bool", 0, "true", True), ("to", "address", 1, A[2], A[2]),
      ("amount", "uint256", 0, "7", "7")]),
    ("escrow", "Resolved", "Resolved(bool,address,uint256)",
     [("toPayee", "bool", 0, "false", False), ("to", "address", 1, A[1], A[1]),
      ("amount", "uint256", 0, "7", "7")]),
    ("htlc", "Locked", "Locked(bytes32,address,address,address,uint256,bytes32,uint64)",
     [("id", "bytes32", 1, H1, H1), ("sender", "address", 1, A[1], A[1]),
      ("receiver", "address", 1, A[2], A[2]), ("token", "address", 0, Z, Z),
      ("amount", "uint256", 0, "99", "99"), ("hashlock", "bytes32", 0, H2, H2),
      ("timelock", "uint64", 0, "1700000000", "1700000000")]),
    ("htlc", "Claimed", "Claimed(bytes32,bytes32)",
     [("id", "bytes32", 1, H1, H1), ("preimage", "bytes32", 0, H2, H2)]),
    ("htlc", "Refunded", "Refunded(bytes32)", [("id", "bytes32", 1, H1, H1)]),
    ("feed", "AnswerUpdated", "AnswerUpdated(int256,uint256,uint256)",
     [("current", "int256", 1, "-5", "-5"), ("roundId", "uint256", 1, "3", "3"),
      ("updatedAt", "uint256", 0, "1700000000", "1700000000")]),
    ("feed", "AnswerUpdated", "AnswerUpdated(int256,uint256,uint256)",
     [("current", "int256", 1,
       "-57896044618658097711785492504343953926634992332820282019728792003956564819968",
       "-57896044618658097711785492504343953926634992332820282019728792003956564819968"),
      ("roundId", "uint256", 1, "4", "4"), ("updatedAt", "uint256", 0, "1", "1")]),
    ("feed", "NewRound", "NewRound(uint256,address,uint256)",
     [("roundId", "uint256", 1, "3", "3"), ("startedBy", "address", 1, A[0], A[0]),
      ("startedAt", "uint256", 0, "1700000000", "1700000000")]),
]


def main():
    out = []
    for emitter, name, sig, fields in EVENTS:
        topics = [cast("keccak", sig)]
        for f, t, ix, cv, jv in fields:
            if ix:
                topics.append(enc([t], [cv]))
        data = enc([t for f, t, ix, cv, jv in fields if not ix],
                   [cv for f, t, ix, cv, jv in fields if not ix])
        out.append({"emitter": emitter, "name": name, "topics": topics, "data": data,
                    "json": {f: jv for f, t, ix, cv, jv in fields}})
    # A reason that is not UTF-8 (bytes and string share the ABI layout).
    bad = cast("abi-encode", "f(bytes)", "0xc328ff")
    out.append({"emitter": "escrow", "name": "Disputed",
                "topics": [cast("keccak", "Disputed(address,string)"), enc(["address"], [A[2]])],
                "data": bad, "json": {"by": A[2], "reason_hex": "0xc328ff"}})
    path = os.path.join(ROOT, "tests", "vectors", "sync_events.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    print(f"wrote {len(out)} vectors to {path}")


if __name__ == "__main__":
    main()
