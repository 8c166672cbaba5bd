#!/usr/bin/python3
"""cli_json_form.py: every address in fusion's machine output has one form.

Machine output (`--json` of every command, and the FILE.json of `case export --out`)
writes an address as lowercase 0x-hex, the form JSON-RPC and the desk database use; text
for people writes EIP-55 (docs/architecture.md, "Conventions"). A short headless demo on
free ports fills a desk with escrows, cases, entities, operators, keys, tokens and feeds;
then each listing and each record's `show` is read as JSON and every value that is an
address (and every alert key that names one) is checked to be lowercase, and the same
records in text are checked to show the EIP-55 form.

Records reproduced as they were written are not walked: audit rows (`audit list`: their
bytes are hashed) and the summary of a signed transaction (what its signer was shown).
"""
import json
import os
import re
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import N_CHAINS, check, free_ports, fusion, report  # noqa: E402

NORTHWIND = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # data/demo: KYC verified
ADDR = re.compile(r"^0x[0-9a-fA-F]{40}$")
# an address inside an identifier such as an alert key ("stale_price:31337:0x...")
IN_KEY = re.compile(r"(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")
# stored records, reproduced as written (see above)
NOT_WALKED = {"summary"}

seen = {"addresses": 0}


def walk(v, where):
    if isinstance(v, dict):
        for k, x in v.items():
            if k not in NOT_WALKED:
                walk(x, "%s.%s" % (where, k))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (where, i))
    elif isinstance(v, str) and ADDR.match(v):
        seen["addresses"] += 1
        check(v == v.lower(), "%s: address %s is not lowercase" % (where, v))


def as_json(home, *args):
    p = fusion(home, "--json", *args)
    try:
        out = json.loads(p.stdout)
    except ValueError:
        check(False, "fusion --json %s: not JSON: %r" % (" ".join(args), p.stdout[:200]))
        return None
    walk(out, " ".join(args))
    return out


def main():
    home = tempfile.mkdtemp(prefix="fusion-json-form-")
    ports = free_ports(N_CHAINS)
    try:
        run(home, ",".join(map(str, ports)))
    finally:
        fusion(home, "devnet", "down", rc=None)
    check(seen["addresses"] >= 50, "the walk met addresses (%d)" % seen["addresses"])
    return report()


def run(home, port_arg):
    fusion(home, "demo", "--no-ui", "--duration", "8s", "--step-ms", "500", "--ports", port_arg,
           "--keep-devnet")
    # a desk action's own output: alice (trader) opens an escrow to a verified counterparty
    pw = os.path.join(home, "passphrase")
    with open(pw, "w") as f:
        f.write("fusion-demo\n")
    os.chmod(pw, 0o600)
    made = as_json(home, "--operator", "alice", "--passphrase-file", pw, "--yes", "escrow",
                   "create", "--chain", "devnet-eth", "--payee", NORTHWIND, "--token", "USDC",
                   "--amount", "1", "--approvers", "bob,carol", "--threshold", "2", "--deadline",
                   "7d", "--wait", "60")
    check(bool(made and made.get("escrow")), "escrow create --json names the escrow: %s" % made)
    as_json(home, "tx", "show", "1")
    for args in (("key", "list"), ("operator", "list"), ("chain", "list"), ("asset", "list"),
                 ("tx", "list"), ("xswap", "list"), ("devnet", "status"), ("risk", "report"),
                 ("entity", "list")):
        as_json(home, *args)
    for a in as_json(home, "alerts", "--all") or []:
        for m in IN_KEY.findall(a.get("key", "")):
            check(m == m.lower(), "alert key %s: address not lowercase" % a["key"])

    escrows = as_json(home, "escrow", "list") or []
    check(len(escrows) >= 2, "the demo made escrows (%d)" % len(escrows))
    for x in escrows[:3]:
        shown = as_json(home, "escrow", "show", x["address"], "--chain", x["chain"])
        text = fusion(home, "escrow", "show", x["address"], "--chain", x["chain"]).stdout
        check(eip55_of(shown["address"], text), "escrow show text has the EIP-55 form")

    cases = as_json(home, "case", "list", "--all") or []
    check(len(cases) >= 1, "the demo opened cases (%d)" % len(cases))
    for c in cases[:3]:
        cid = str(c["id"])
        rep = as_json(home, "case", "show", cid)
        as_json(home, "case", "export", cid)
        out = os.path.join(home, "case-%s.txt" % cid)
        fusion(home, "case", "export", cid, "--out", out)
        with open(out + ".json") as f:
            walk(json.load(f), "case export --out %s.json" % cid)
        with open(out) as f:
            text = f.read()
        if rep["escrow"] is not None:
            check(eip55_of(rep["escrow"], text), "case export text has the EIP-55 form")
        else:  # a KYC date, a facility or an inflow: no escrow, its subject named instead
            check(rep["about"]["kind"] != "escrow" and rep["about_text"] in text,
                  "case export text names what the case is about: %s" % rep["about"])

    for ent in (as_json(home, "entity", "list") or [])[:3]:
        as_json(home, "entity", "show", ent["name"])
        if ent.get("addresses"):
            text = fusion(home, "entity", "show", ent["name"]).stdout
            check(eip55_of(ent["addresses"][0]["address"], text),
                  "entity show text has the EIP-55 form")


def eip55_of(lower, text):
    """True when text holds lower's address in a mixed-case (EIP-55) spelling."""
    for m in IN_KEY.findall(text):
        if m.lower() == lower.lower() and m != m.lower():
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
