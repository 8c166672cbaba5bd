#!/usr/bin/python3
"""crosscheck.py: src/eth against Foundry's cast, an independent implementation.

Seeded random cases (FUSION_CROSSCHECK_SEED picks another seed) for ABI encoding and
decoding of random nested types, calldata, selectors, event topics, keccak, event
log decoding, and legacy / type-2 transactions signed with a fixed key: our raw bytes
must equal `cast mktx`'s, `cast decode-transaction` must read our bytes back to the
same fields and signer, and our decoder must read cast's bytes.

usage: crosscheck.py ETH_TESTTOOL   (FUSION_TOOLS must point at the Foundry binaries)
"""
import json
import os
import random
import subprocess
import sys

TOOL = sys.argv[1]
CAST = os.path.join(os.environ.get("FUSION_TOOLS", "tools/bin"), "cast")
SEED = int(os.environ.get("FUSION_CROSSCHECK_SEED", "20260527"))
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

rng = random.Random(SEED)
stats = {"cases": 0, "cast": 0, "ours": 0}
failures = []


def run(argv, who):
    stats[who] += 1
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)[:300]} -> exit {p.returncode}: "
                           f"{p.stderr.strip()[:300]}")
    return p.stdout.strip()


def cast(*args):
    return run([CAST, *args], "cast")


def ours(*args):
    return run([TOOL, *args], "ours")


def check(name, got, want, detail=""):
    stats["cases"] += 1
    if got != want:
        failures.append(f"{name}: ours {str(got)[:400]}\n   cast {str(want)[:400]}\n"
                        f"   {detail[:600]}")


# ---- random types and values ----------------------------------------------------

def rand_base():
    k = rng.choice(["uint", "int", "address", "bool", "fbytes", "bytes", "string"])
    if k in ("uint", "int"):
        return (k, rng.choice([8, 16, 24, 32, 64, 96, 128, 160, 200, 248, 256]))
    if k == "fbytes":
        return (k, rng.randint(1, 32))
    return (k,)


def rand_type(depth=0):
    r = rng.random()
    if depth >= 3 or r < 0.45:
        return rand_base()
    if r < 0.65:
        return ("arr", rand_type(depth + 1), rng.randint(1, 3))
    if r < 0.85:
        return ("darr", rand_type(depth + 1))
    return ("tuple", [rand_type(depth + 1) for _ in range(rng.randint(1, 3))])


def tstr(t):
    k = t[0]
    if k in ("uint", "int"):
        return f"{k}{t[1]}"
    if k == "fbytes":
        return f"bytes{t[1]}"
    if k in ("address", "bool", "bytes", "string"):
        return k
    if k == "arr":
        return f"{tstr(t[1])}[{t[2]}]"
    if k == "darr":
        return f"{tstr(t[1])}[]"
    return "(" + ",".join(tstr(x) for x in t[1]) + ")"


ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def rand_int(t):
    bits = t[1]
    edge = rng.random() < 0.3
    if t[0] == "uint":
        if edge:
            return rng.choice([0, 1, 2 ** bits - 1, 2 ** (bits - 1)])
        return rng.randrange(0, 2 ** rng.randint(1, bits))
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if edge:
        return rng.choice([lo, hi, -1, 0, 1])
    mag = rng.randrange(0, 2 ** rng.randint(1, bits - 1))
    return -mag if rng.random() < 0.5 else mag


def rand_value(t, top):
    """(cast text, normalised value)"""
    k = t[0]
    if k in ("uint", "int"):
        v = rand_int(t)
        if k == "uint" and rng.random() < 0.2:
            return hex(v), v
        return str(v), v
    if k == "address":
        b = bytes(rng.getrandbits(8) for _ in range(20))
        return "0x" + b.hex(), "0x" + b.hex()
    if k == "bool":
        v = rng.random() < 0.5
        return ("true" if v else "false"), v
    if k == "fbytes":
        b = bytes(rng.getrandbits(8) for _ in range(t[1]))
        return "0x" + b.hex(), "0x" + b.hex()
    if k == "bytes":
        b = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 5, 31, 32, 33, 70])))
        return "0x" + b.hex(), "0x" + b.hex()
    if k == "string":
        n = rng.choice([0, 1, 3, 12, 32, 40]) if not top else rng.choice([1, 3, 12, 32, 40])
        s = "".join(rng.choice(ALNUM + "  ") for _ in range(n)).strip() or "x"
        if not top and rng.random() < 0.2:
            s = ""
        return (s if top else '"' + s + '"'), s
    if k in ("arr", "darr"):
        n = t[2] if k == "arr" else rng.randint(0, 3)
        items = [rand_value(t[1], False) for _ in range(n)]
        return "[" + ", ".join(x for x, _ in items) + "]", [v for _, v in items]
    items = [rand_value(x, False) for x in t[1]]
    return "(" + ", ".join(x for x, _ in items) + ")", [v for _, v in items]


def norm(t, v):
    """A value from JSON (ours or cast's) in the same normal form as rand_value's."""
    k = t[0]
    if k in ("uint", "int"):
        return int(v, 0) if isinstance(v, str) else int(v)
    if k in ("address", "fbytes", "bytes"):
        return v.lower()
    if k == "bool":
        return bool(v)
    if k == "string":
        return v
    if k in ("arr", "darr"):
        return [norm(t[1], x) for x in v]
    return [norm(x, y) for x, y in zip(t[1], v)]


# ---- ABI --------------------------------------------------------------------------

def abi_cases(n):
    for i in range(n):
        params = [rand_type() for _ in range(rng.randint(1, 4))]
        sig = "f(" + ",".join(tstr(t) for t in params) + ")"
        vals = [rand_value(t, True) for t in params]
        texts = [x for x, _ in vals]
        name = f"abi#{i} {sig} {texts}"
        try:
            mine = ours("abi-encode", sig, *texts)
            theirs = cast("abi-encode", "--", sig, *texts)
            check(f"abi-encode {name}", mine, theirs)
            tup = "(" + ",".join(tstr(t) for t in params) + ")"
            decoded = json.loads(ours("abi-decode", tup, theirs))
            want = [v for _, v in vals]
            check(f"abi-decode(ours) {name}", [norm(t, x) for t, x in zip(params, decoded)], want)
            if i % 4 != 3:
                cd = json.loads(cast("abi-decode", "--json", "f()" + tup, mine))
                check(f"abi-decode(cast) {name}", [norm(t, x) for t, x in zip(params, cd)], want)
        except RuntimeError as ex:
            failures.append(f"{name}: {ex}")


def calldata_cases(n):
    for i in range(n):
        params = [rand_type(1) for _ in range(rng.randint(0, 3))]
        fname = rng.choice(["transfer", "open", "settle_1", "x", "approveAndCall"])
        sig = fname + "(" + ",".join(tstr(t) for t in params) + ")"
        texts = [rand_value(t, True)[0] for t in params]
        try:
            check(f"calldata {sig} {texts}", ours("calldata", sig, *texts),
                  cast("calldata", "--", sig, *texts))
        except RuntimeError as ex:
            failures.append(f"calldata {sig}: {ex}")


def alias(s):
    """Writes uint256/int256 as uint/int sometimes: both sides must normalise."""
    return s.replace("uint256", "uint" if rng.random() < 0.5 else "uint256").replace(
        "(int256", "(int" if rng.random() < 0.5 else "(int256")


def sig_cases(n, m):
    for i in range(n):
        params = [rand_type(1) for _ in range(rng.randint(0, 4))]
        sig = alias("g" + str(i) + "(" + ",".join(tstr(t) for t in params) + ")")
        try:
            check(f"sig {sig}", ours("sig", sig), cast("sig", sig))
        except RuntimeError as ex:
            failures.append(f"sig {sig}: {ex}")
    for i in range(m):
        params = [rand_type(1) for _ in range(rng.randint(0, 4))]
        sig = alias("Ev" + str(i) + "(" + ",".join(tstr(t) for t in params) + ")")
        try:
            check(f"sig-event {sig}", ours("sig-event", sig), cast("sig-event", sig))
        except RuntimeError as ex:
            failures.append(f"sig-event {sig}: {ex}")
    # the spec's JSON tuple example and well-known ones
    for sig in ["f((uint256,uint256[],(uint256,uint256)[]),(uint256,uint256),uint256)",
                "transfer(address,uint)", "balanceOf(address)"]:
        check(f"sig {sig}", ours("sig", sig), cast("sig", sig))


def keccak_cases(n):
    for i in range(n):
        n = rng.choice([1, 2, 31, 32, 33, 135, 136, 137, 300])
        b = bytes(rng.getrandbits(8) for _ in range(n))
        h = "0x" + b.hex()
        try:
            check(f"keccak {h[:40]}", ours("keccak", h), cast("keccak", h))
        except RuntimeError as ex:
            failures.append(f"keccak: {ex}")


def is_dynamic(t):
    k = t[0]
    if k in ("bytes", "string", "darr"):
        return True
    if k == "arr":
        return is_dynamic(t[1])
    if k == "tuple":
        return any(is_dynamic(x) for x in t[1])
    return False


def is_value_type(t):
    return t[0] in ("uint", "int", "address", "bool", "fbytes")


def rand_event_type(depth=1):
    """No tuples: cast abi-encode-event does not parse them."""
    while True:
        t = rand_type(depth)
        if "(" not in tstr(t):
            return t


def event_cases(n):
    """Logs made by cast abi-encode-event, decoded by us. cast 1.7.1 gets two things
    wrong that the Solidity spec is clear about: it hashes indexed dynamic values as
    their ABI encoding (the spec: the in-place encoding, e.g. a string's bare bytes),
    and it encodes several non-indexed parameters one by one instead of as a tuple.
    So here indexed parameters are value types, and the non-indexed ones are all
    static or a single one; topic_cases covers hashed topics."""
    for i in range(n):
        k = rng.randint(1, 4)
        params = [rand_event_type() for _ in range(k)]
        idx = [rng.random() < 0.5 and is_value_type(t) and j < 3 for j, t in enumerate(params)]
        data_params = [t for t, ix in zip(params, idx) if not ix]
        if len(data_params) > 1 and any(is_dynamic(t) for t in data_params):
            continue
        decl = "E" + str(i) + "(" + ",".join(
            tstr(t) + (" indexed" if ix else "") for t, ix in zip(params, idx)) + ")"
        vals = [rand_value(t, True) for t in params]
        texts = [x for x, _ in vals]
        try:
            out = cast("abi-encode-event", "--", decl, *texts)
            topics, data = [], "0x"
            for line in out.splitlines():
                key, _, val = line.partition(": ")
                if key.startswith("[topic"):
                    topics.append(val.strip())
                elif key == "[data]":
                    data = val.strip()
            dec = json.loads(ours("event-decode", decl, data, *topics))
            check(f"event {decl} {texts}", [norm(t, x) for t, x in zip(params, dec)],
                  [v for _, v in vals])
            plain = decl.replace(" indexed", "")
            check(f"event topic0 {decl}", ours("sig-event", plain), topics[0])
        except RuntimeError as ex:
            failures.append(f"event {decl} {texts}: {ex}")


def word(t, v):
    """The 32-byte word of a value type, per the spec (independent of our code)."""
    k = t[0]
    if k in ("uint", "int"):
        return (v % 2 ** 256).to_bytes(32, "big")
    if k == "address":
        return bytes(12) + bytes.fromhex(v[2:])
    if k == "bool":
        return (1 if v else 0).to_bytes(32, "big")
    return bytes.fromhex(v[2:]).ljust(32, b"\0")


def in_place(t, v, nested):
    """abi-spec 'Encoding of Indexed Event Parameters'."""
    k = t[0]
    if k in ("bytes", "string"):
        b = bytes.fromhex(v[2:]) if k == "bytes" else v.encode()
        return b + bytes(-len(b) % 32) if nested else b
    if k in ("arr", "darr"):
        return b"".join(in_place(t[1], x, True) for x in v)
    if k == "tuple":
        return b"".join(in_place(x, y, True) for x, y in zip(t[1], v))
    return word(t, v)


def topic_cases(n):
    """The topic of an indexed dynamic or compound value: ours against cast keccak
    of the spec's in-place encoding, built here in Python."""
    for i in range(n):
        t = rand_type(0)
        while is_value_type(t):
            t = rand_type(0)
        text, v = rand_value(t, True)
        try:
            want = cast("keccak", "0x" + in_place(t, v, False).hex())
            check(f"topic {tstr(t)} {text}", ours("topic", tstr(t), text), want)
        except RuntimeError as ex:
            failures.append(f"topic {tstr(t)} {text}: {ex}")


# ---- transactions -------------------------------------------------------------------

def rand_addr():
    return "0x" + bytes(rng.getrandbits(8) for _ in range(20)).hex()


def tx_cases(n_legacy, n_typed):
    chains = [1, 5, 137, 31337, 2 ** 32 + 1, 2 ** 53 + 3, 2 ** 63 - 25, 2 ** 64 - 2]
    for i in range(n_legacy + n_typed):
        legacy = i < n_legacy
        chain = rng.choice(chains) if rng.random() < 0.6 else rng.randrange(1, 2 ** 64 - 1)
        nonce = rng.choice([0, 1, rng.randrange(0, 2 ** 40)])
        gas = rng.randrange(21000, 30_000_000)
        value = rng.choice([0, 1, 10 ** 18, rng.randrange(0, 10 ** 27)])
        create = rng.random() < 0.15
        to = None if create else rand_addr()
        n = rng.choice([0, 4, 36, 68, 200])
        data = "0x" + bytes(rng.getrandbits(8) for _ in range(n)).hex()
        if create and data == "0x":
            data = "0x6001600055"
        fee = rng.randrange(1, 10 ** 12)
        tip = rng.randrange(0, fee + 1)
        mine_args = ["mktx", "--key", KEY, "--chain", str(chain), "--nonce", str(nonce),
                     "--gas-limit", str(gas), "--value", str(value), "--data", data]
        cast_args = ["mktx", "--private-key", KEY, "--chain", str(chain), "--nonce", str(nonce),
                     "--gas-limit", str(gas), "--value", str(value)]
        if legacy:
            mine_args += ["--legacy", "--gas-price", str(fee)]
            cast_args += ["--legacy", "--gas-price", str(fee)]
        else:
            mine_args += ["--max-fee", str(fee), "--priority-fee", str(tip)]
            cast_args += ["--gas-price", str(fee), "--priority-gas-price", str(tip)]
        if to:
            mine_args += ["--to", to]
            cast_args += [to] + ([data] if data != "0x" else [])
        else:
            cast_args += ["--create", data]
        name = f"tx#{i} {'legacy' if legacy else 'type2'} chain={chain} to={to}"
        try:
            mine = ours(*mine_args)
            theirs = cast(*cast_args)
            check(f"mktx {name}", mine, theirs)
            # cast reads our bytes
            d = json.loads(json.loads(cast("decode-transaction", mine)))
            got = {
                "chain": int(d["chainId"], 16), "nonce": int(d["nonce"], 16),
                "gas": int(d["gas"], 16), "value": int(d["value"], 16),
                "to": d.get("to"), "input": d["input"],
                "fee": int(d["gasPrice" if legacy else "maxFeePerGas"], 16),
            }
            want = {"chain": chain, "nonce": nonce, "gas": gas, "value": value, "to": to,
                    "input": data, "fee": fee}
            if not legacy:
                got["tip"] = int(d["maxPriorityFeePerGas"], 16)
                want["tip"] = tip
            check(f"cast decode-transaction {name}", got, want)
            # we read cast's bytes: same fields, and the same signer and hash cast reports
            o = json.loads(ours("decode-tx", theirs))
            check(f"decode-tx signer {name}", o["signer"], d["signer"].lower())
            check(f"decode-tx hash {name}", o["hash"], d["hash"])
            check(f"decode-tx fields {name}",
                  {"chain": int(o["chainId"]), "nonce": int(o["nonce"]), "gas": int(o["gas"]),
                   "value": int(o["value"]), "to": o["to"], "input": o["input"],
                   "fee": int(o["gasPrice" if legacy else "maxFeePerGas"])}
                  | ({} if legacy else {"tip": int(o["maxPriorityFeePerGas"])}), want)
        except (RuntimeError, KeyError, ValueError) as ex:
            failures.append(f"{name}: {ex!r}")


def main():
    abi_cases(70)
    calldata_cases(30)
    sig_cases(25, 15)
    keccak_cases(25)
    event_cases(25)
    topic_cases(20)
    tx_cases(25, 25)
    print(f"crosscheck: seed {SEED}, {stats['cases']} comparisons, {stats['cast']} cast "
          f"invocations, {len(failures)} mismatches")
    for f in failures[:30]:
        print("MISMATCH " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
