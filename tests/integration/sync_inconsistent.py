#!/usr/bin/python3
"""sync_inconsistent.py: the projection refuses to invent a state, on a real chain. A
smart-wallet payer funds a version-1 escrow with an ERC-777-style token and disputes from
inside the token's hook (tests/integration/reentry_helpers.sol, compiled with the pinned
npm solc): the node logs Disputed before Funded and the contract ends Disputed. The desk
must not store "funded" (the old fold did): `escrow show` says inconsistent, with the
anomaly naming the event, and the state is one the events proved. The contract's own view
is read with `cast call`."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, cast, log, need_artifacts, topic  # noqa: E402
from desk_escrow import DeskUser, nonce  # noqa: E402

ROOT = os.environ.get("FUSION_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))


def compile_helpers():
    out = tempfile.mkdtemp(prefix="fusion-reentry-solc-")
    src = os.path.join(ROOT, "tests", "integration", "reentry_helpers.sol")
    subprocess.run(["node", os.path.join(ROOT, "tools", "node_modules", "solc", "solc.js"),
                    "--optimize", "--bin", "-o", out, src], check=True, capture_output=True)
    bins = {}
    for f in os.listdir(out):
        for name in ("HookToken", "HookedPayer"):
            if f.endswith(f"_{name}.bin"):
                bins[name] = "0x" + open(os.path.join(out, f)).read().strip()
    return bins


def main():
    need_artifacts()
    bins = compile_helpers()
    chain = Chain(chain_id=31337).start()
    factory = chain.deploy()
    token = chain.node.deploy(bins["HookToken"]).lower()
    payer = chain.node.deploy(bins["HookedPayer"]).lower()
    chain.cast_send(A[0], token, "mint(address,uint256)", payer, "1000")
    deadline = str(int(time.time()) + 86400)
    r = chain.cast_send(A[0], payer, "createAndFund(address,address,address,uint256,address[],"
                        "uint256,address,uint64)", factory, token, A[1], "1000",
                        f"[{A[2]},{A[3]}]", "1", A[4], deadline)
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    esc = "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]
    order = [lg["topics"][0] for lg in r["logs"] if lg["address"].lower() == esc]
    assert order == [topic("Disputed(address,string)"), topic("Funded(address,uint256)")], order
    on_chain = int(chain.node.cast("call", esc, "state()(uint8)").split()[0])
    assert on_chain == 4, on_chain  # Disputed

    desk = DeskUser()
    desk.setup(chain)
    desk.run("sync", "--once")
    got = desk.json("escrow", "show", esc, "--json")
    assert got["inconsistent"] is True, got
    assert got["state"] != "funded", got
    assert "inconsistent: Disputed while created" in (got["anomaly"] or ""), got
    listing = desk.run("escrow", "list").stdout
    assert "inconsistent" in listing, listing
    # A rebuild from the stored events (fusion reindex) comes to the same.
    desk.run("reindex")
    again = desk.json("escrow", "show", esc, "--json")
    assert (again["state"], again["inconsistent"], again["anomaly"]) == (
        got["state"], True, got["anomaly"]), again
    log(f"log order Disputed, Funded: stored {got['state']}, inconsistent: ok")
    # Nothing that moves money is signed on it: bob, one of its approvers, is refused by
    # the gate with one line naming the inconsistency (the parties are KYC-verified, so
    # that is the only reason).
    for name, who in (("Hooked Wallet LLC", payer), ("Payee Trading Ltd", A[1])):
        desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run("--operator", "dave", "entity", "link", name, "--chain", "local", "--address",
                 who)
    n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
    r = desk.as_op("bob", "escrow", "release", esc, check=False)
    assert r.returncode == 1 and "inconsistent" in r.stderr and r.stderr.count("\n") == 1, r
    assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
    log("gated action on an inconsistent escrow refused: ok")


if __name__ == "__main__":
    main()
