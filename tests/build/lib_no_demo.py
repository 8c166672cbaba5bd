#!/usr/bin/python3
"""lib_no_demo.py: libfusion holds no part of the demo. The built library (argv[1], the
static libfusion.a) is read as it is linked: `nm` lists its symbols, defined or used, and
none may be a devnet one (`devnet_`, the demo tooling of src/devnet, which is its own
library linked into the fusion binary only); its bytes may not hold the demo passphrase.
The devnet library (argv[2]) is checked the other way round, so that the test cannot pass
by looking at the wrong file."""
import os
import subprocess
import sys

PASSPHRASE = b"fusion-demo"


def symbols(lib):
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip() and
            not line.rstrip().endswith(":")]


def contents(lib):
    """The bytes of the library's objects: meson builds thin archives (members are only
    named), so each member is read from its own file then."""
    lib = os.path.abspath(lib)
    with open(lib, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<thin>"):
        return data
    names = subprocess.run(["ar", "t", lib], capture_output=True, text=True,
                           check=True).stdout.split()
    parts = []
    for n in names:
        with open(n if os.path.isabs(n) else os.path.join(os.path.dirname(lib), n), "rb") as f:
            parts.append(f.read())
    return b"".join(parts)


def main():
    lib, devnet = sys.argv[1], sys.argv[2]
    bad = sorted({s for s in symbols(lib) if "devnet_" in s})
    has_pass = PASSPHRASE in contents(lib)
    fails = 0
    if bad:
        print("FAIL: libfusion has devnet symbols: %s" % ", ".join(bad[:20]), file=sys.stderr)
        fails += 1
    if has_pass:
        print("FAIL: libfusion holds the demo passphrase %r" % PASSPHRASE.decode(),
              file=sys.stderr)
        fails += 1
    dev = [s for s in symbols(devnet) if s.startswith("devnet_")]
    dev_pass = PASSPHRASE in contents(devnet)
    if not dev or not dev_pass:
        print("FAIL: the devnet library (%s) has no devnet symbols or passphrase: wrong file?"
              % devnet, file=sys.stderr)
        fails += 1
    if fails:
        return 1
    print("ok: %d symbols in libfusion, none of the demo; the passphrase only in %s"
          % (len(symbols(lib)), devnet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
