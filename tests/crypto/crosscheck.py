#!/usr/bin/python3
"""Cross-check of fusion's primitives against Foundry's cast, an implementation we did
not write: Keccak-256, EIP-55 checksums, address derivation, raw-digest and EIP-191
signatures (and recovery of cast's signatures by our code), JSON-RPC quantity <->
decimal, and token-amount formatting/parsing.

Seeded random inputs (FUSION_CROSSCHECK_SEED, default 20260515), a few hundred cast
invocations in all (one cast start per input: cast has no batch mode). Our side runs in
one fusion-testtool process. Usage: crosscheck.py PATH/TO/fusion-testtool
"""
import os
import random
import subprocess
import sys

COUNTS = {  # cast invocations per check
    "keccak": 60, "checksum": 45, "address": 30, "sign-hash": 40, "sign-msg": 40,
    "to-dec": 35, "to-hex": 35, "format-units": 35, "parse-units": 35,
}
SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
U256_MAX = (1 << 256) - 1


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: crosscheck.py PATH/TO/fusion-testtool")
    testtool = sys.argv[1]
    tools = os.environ.get("FUSION_TOOLS") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "bin")
    cast = os.path.join(tools, "cast")
    if not os.access(cast, os.X_OK):
        sys.exit(f"crosscheck: no cast at {cast}: run scripts/bootstrap first")
    seed = int(os.environ.get("FUSION_CROSSCHECK_SEED", "20260515"))
    rng = random.Random(seed)
    print(f"crosscheck: seed {seed} (set FUSION_CROSSCHECK_SEED to vary)")

    cases = []  # (check name, our command line, cast argv, normaliser for cast output)

    def h(b):
        return "0x" + b.hex()

    def rand_key():
        while True:
            k = rng.getrandbits(256)
            if 0 < k < SECP_N:
                return "0x%064x" % k

    def rand_u256():
        bits = rng.choice([0, 1, 8, 63, 64, 65, 127, 128, 129, 200, 255, 256,
                           rng.randrange(0, 257)])
        return rng.getrandbits(bits) if bits else 0

    # Keccak-256: block-boundary lengths first, then random ones up to five blocks.
    lens = [0, 1, 31, 32, 33, 135, 136, 137, 271, 272, 273, 408]
    while len(lens) < COUNTS["keccak"]:
        lens.append(rng.randrange(0, 700))
    for n in lens:
        m = h(rng.randbytes(n))
        cases.append(("keccak", f"keccak {m}", ["keccak", m], str.lower))

    for _ in range(COUNTS["checksum"]):
        a = h(rng.randbytes(20))
        cases.append(("checksum", f"checksum {a}", ["to-check-sum-address", a], None))

    for _ in range(COUNTS["address"]):
        k = rand_key()
        cases.append(("address", f"address {k}", ["wallet", "address", "--private-key", k], None))

    for _ in range(COUNTS["sign-hash"]):
        k, d = rand_key(), h(rng.randbytes(32))
        cases.append(("sign-hash", f"sign-hash {k} {d}",
                      ["wallet", "sign", "--no-hash", "--private-key", k, d], str.lower))

    sign_msgs = []
    for _ in range(COUNTS["sign-msg"]):
        k, m = rand_key(), h(rng.randbytes(rng.choice([0, 1, 9, 10, 32, rng.randrange(0, 300)])))
        sign_msgs.append((k, m))
        cases.append(("sign-msg", f"sign-msg {k} {m}",
                      ["wallet", "sign", "--private-key", k, m], str.lower))

    for _ in range(COUNTS["to-dec"]):
        q = hex(rand_u256())
        cases.append(("to-dec", f"to-dec {q}", ["to-dec", q], None))

    for _ in range(COUNTS["to-hex"]):
        d = str(rand_u256())
        cases.append(("to-hex", f"to-hex {d}", ["to-hex", d], str.lower))

    def trim_units(s):  # cast pads fractions with zeros ("1250.500000"); we trim them
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return s

    fmt_decimals = [0, 1, 6, 18, 77] + [rng.randrange(0, 78) for _ in range(30)]
    for dec in fmt_decimals[:COUNTS["format-units"]]:
        v = str(rand_u256())
        cases.append(("format-units", f"format-units {v} {dec}", ["to-unit", v, str(dec)],
                      trim_units))

    for i in range(COUNTS["parse-units"]):
        dec = [0, 6, 18, 77][i] if i < 4 else rng.randrange(0, 78)
        total = rand_u256()
        whole, frac = divmod(total, 10 ** dec)
        fdigits = ("%0*d" % (dec, frac))[:rng.randrange(0, dec + 1)] if dec else ""
        text = str(whole) + ("." + fdigits if fdigits else "")
        style = rng.randrange(6)
        if style == 0 and whole == 0 and fdigits:
            text = "." + fdigits  # ".5"
        elif style == 1 and dec:
            text = str(whole) + "."  # "1."
        cases.append(("parse-units", f"parse-units {text} {dec}",
                      ["parse-units", text, str(dec)], None))

    # Our side: one process, one line per command.
    ours_in = "\n".join(c[1] for c in cases)
    ours_in += "\n" + "\n".join(f"address {k}" for k, _ in sign_msgs) + "\n"
    res = subprocess.run([testtool, "-"], input=ours_in, capture_output=True, text=True,
                         timeout=120, check=True)
    ours = res.stdout.splitlines()
    if len(ours) != len(cases) + len(sign_msgs):
        sys.exit(f"crosscheck: fusion-testtool gave {len(ours)} lines for "
                 f"{len(cases) + len(sign_msgs)} commands")
    signer_of = {k: ours[len(cases) + i] for i, (k, _) in enumerate(sign_msgs)}

    agreed, differed = {}, []
    cast_sigs = []
    for (name, our_cmd, cast_args, norm), mine in zip(cases, ours):
        r = subprocess.run([cast] + cast_args, capture_output=True, text=True, timeout=60)
        theirs = r.stdout.strip()
        if r.returncode != 0:
            differed.append((name, our_cmd, mine, "cast failed: " + r.stderr.strip()))
            continue
        if norm:
            theirs = norm(theirs)
        if mine == theirs:
            agreed[name] = agreed.get(name, 0) + 1
        else:
            differed.append((name, our_cmd, mine, theirs))
        if name == "sign-msg":
            cast_sigs.append((our_cmd.split()[1], our_cmd.split()[2], theirs))

    # Recovery of cast's EIP-191 signatures by our code names the signer we derive.
    rec_in = "\n".join(f"recover-msg {sig} {m}" for _, m, sig in cast_sigs) + "\n"
    rec = subprocess.run([testtool, "-"], input=rec_in, capture_output=True, text=True,
                         timeout=60, check=True).stdout.splitlines()
    for (k, m, sig), got in zip(cast_sigs, rec):
        if got == signer_of[k]:
            agreed["recover-msg"] = agreed.get("recover-msg", 0) + 1
        else:
            differed.append(("recover-msg", f"recover-msg {sig} {m}", got, signer_of[k]))

    for name in list(COUNTS) + ["recover-msg"]:
        bad = sum(1 for d in differed if d[0] == name)
        print(f"  {name:13s} {agreed.get(name, 0):4d} agree, {bad} differ")
    for name, cmd, mine, theirs in differed[:20]:
        print(f"DIFFER {name}: {cmd}\n    fusion: {mine}\n    cast:   {theirs}")
    total = sum(agreed.values())
    print(f"crosscheck: {total} agreed, {len(differed)} differed "
          f"({len(cases)} cast invocations)")
    sys.exit(1 if differed else 0)


if __name__ == "__main__":
    main()
