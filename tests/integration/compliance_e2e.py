#!/usr/bin/python3
"""compliance_e2e.py: end to end on anvil. An escrow created with cast against the factory
from data/contracts, whose payee is on the shipped OFAC list, is synced (`fusion sync
--once`) and screened (`fusion case screen`): one high-priority case opens; the gate
refuses release naming the case (refund stays possible); the same officer cannot close it
alone (four-eyes); a second officer confirms; the gate then allows release. An escrow with
an unregistered payer is refused for missing KYC. The SAR export and the audit chain are
checked too. The release transaction itself belongs to the desk's escrow commands."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (A, ZERO, CREATE_SIG, FUSION, Chain, Desk, log, need_artifacts, topic,  # noqa
                      wait_until)

SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # data/sanctions, ETH list line 90


def create(chain, payee):
    deadline = int(time.time()) + 30 * 86400
    r = chain.cast_send(A[0], chain.factory, CREATE_SIG, payee, ZERO, str(10**18),
                        f"[{A[2]},{A[3]}]", "1", A[5], str(deadline))
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    return "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]


def expect_fail(desk, *args, contains):
    r = desk.run(*args, check=False)
    assert r.returncode == 1, (args, r.returncode, r.stdout, r.stderr)
    assert contains in r.stderr, (args, r.stderr)
    assert r.stderr.count("\n") == 1, r.stderr
    return r.stderr


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = Desk()
        desk.add_chain(chain, confirmations=0)
        alice = ("--operator", "alice")
        bob = ("--operator", "bob")
        desk.run("operator", "add", "alice", "--key", A[8], "--role", "compliance")
        desk.run("operator", "add", "bob", "--key", A[9], "--role", "approver,compliance")
        desk.run(*alice, "entity", "add", "Payer AG", "--type", "company", "--jurisdiction", "CH",
                 "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run(*alice, "entity", "link", "Payer AG", "--chain", "local", "--address", A[0])
        desk.run(*alice, "entity", "add", "Payee 有限公司 🐉", "--type", "company",
                 "--jurisdiction", "HK", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run(*alice, "entity", "link", "Payee 有限公司 🐉", "--chain", "local", "--address",
                 SANCTIONED)
        shown = desk.json("entity", "show", "Payee 有限公司 🐉", "--json")
        assert shown["name"] == "Payee 有限公司 🐉", shown

        bad = create(chain, SANCTIONED)
        unknown = create(chain, A[7])
        desk.run("sync", "--once")
        out = desk.run("case", "screen").stdout
        assert "screened 2 new escrows" in out and "2024-09-27/fff25e4a7748464d" in out, out
        again = desk.run("case", "screen").stdout
        assert "screened 0 new escrows" in again, again

        cases = desk.json("case", "list", "--json")
        mine = [c for c in cases if c["escrow"].lower() == bad.lower()]
        assert len(mine) == 1, cases
        case = mine[0]
        assert case["priority"] == "high" and case["state"] == "new", case
        cid = case["id"]
        shown = desk.json("case", "show", str(cid), "--json")
        rules = sorted(h["rule"] for h in shown["evidence"])
        assert rules == ["sanctions"], rules
        log(f"case #{cid} opened for escrow {bad}")

        gate = ("case", "gate", "--chain", "local", "--escrow", bad)
        expect_fail(desk, *gate, "--action", "release", contains=f"case #{cid}")
        desk.run(*gate, "--action", "refund")  # the arbiter's refund stays possible
        # the unregistered payee: an unknown-counterparty case (medium) is named first ...
        other = [c for c in cases if c["escrow"].lower() == unknown.lower()]
        assert len(other) == 1 and other[0]["priority"] == "medium", cases
        ugate = ("case", "gate", "--chain", "local", "--escrow", unknown, "--action", "fund")
        expect_fail(desk, *ugate, contains=f"case #{other[0]['id']}")

        # take next: alice gets the high case first (oldest highest priority)
        out = desk.run(*alice, "case", "next").stdout
        assert f"case #{cid} assigned to alice" in out, out
        desk.run(*alice, "case", "note", str(cid), "payee confirmed as a listed address?")
        out = desk.run(*alice, "case", "clear", str(cid), "--note", "name match only").stdout
        assert "four-eyes" in out, out
        expect_fail(desk, *alice, "case", "clear", str(cid), contains="four-eyes")
        expect_fail(desk, *gate, "--action", "release", contains=f"case #{cid}")
        out = desk.run(*bob, "case", "clear", str(cid)).stdout
        assert f"case #{cid} closed as cleared by bob" in out, out
        out = desk.run(*gate, "--action", "release").stdout
        assert out.startswith("allowed"), out

        # ... and once one officer closes that medium case, the missing KYC is named
        oid = str(other[0]["id"])
        desk.run(*alice, "case", "take", oid)
        out = desk.run(*alice, "case", "clear", oid).stdout
        assert f"case #{oid} closed as cleared by alice" in out, out
        expect_fail(desk, *ugate, contains="linked to no entity")

        report = os.path.join(desk.home, "sar.txt")
        desk.run("case", "export", str(cid), "--out", report)
        with open(report + ".json") as f:
            rep = json.load(f)
        assert [d["operator"] for d in rep["decisions"]] == ["alice", "bob"], rep["decisions"]
        assert rep["evidence"][0]["list_version"] == "2024-09-27/fff25e4a7748464d", rep
        with open(report) as f:
            assert "SUSPICIOUS ACTIVITY REPORT" in f.read()
        desk.run("audit", "verify")

        # `case screen --follow` screens what another process syncs, until SIGTERM
        follower = subprocess.Popen([FUSION, "--home", desk.home, "case", "screen", "--follow"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            third = create(chain, SANCTIONED)
            desk.run("sync", "--once")
            wait_until(lambda: [c for c in desk.json("case", "list", "--json")
                                if c["escrow"].lower() == third.lower()],
                       "the follower to open a case for the third escrow")
        finally:
            follower.send_signal(signal.SIGTERM)
            out, err = follower.communicate(timeout=60)
        assert follower.returncode == 0, (follower.returncode, err)
        assert "screened 1 new escrows" in out, out
        log("compliance e2e: ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
