#!/usr/bin/python3
"""compliance_cli.py: the entity and case commands through the real binary, no chain needed:
CJK/emoji names round-trip through add/show/list (JSON and text); bad input is one line on
stderr with exit 1 (usage: 2); `entity import` reports every bad line as FILE:LINE and
imports nothing, then imports a good file whole; every change leaves an audit row and the
chain verifies; the case queues start empty and the gate refuses an unknown escrow."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Desk  # noqa

NAME = "株式会社テスト 🚀 Ünïcode"


def fail_line(r, code=1):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    return lines


def main():
    d = Desk()
    op = ("--operator", "carol")
    # a desk whose genesis no admin has signed records no decision (it used to record them
    # unsigned, and this refusal named only the role)
    r = d.run(*op, "entity", "add", "Early", "--type", "company", "--jurisdiction", "CH",
              check=False)
    line = fail_line(r)
    assert len(line) == 1 and "no signed genesis" in line[0], r.stderr
    assert "operator genesis --key ADDRESS" in line[0], r.stderr
    d.signed.genesis()
    # only operators act: carol is none (her decisions could not be signed)
    r = d.run(*op, "entity", "add", "Early", "--type", "company", "--jurisdiction", "CH",
              check=False)
    line = fail_line(r)
    assert len(line) == 1 and "carol" in line[0] and "not an operator" in line[0], r.stderr
    # only operators holding the compliance role act on the registry and the cases
    d.run("operator", "add", "dave", "--key", A[8], "--role", "trader,approver")
    r = d.run("--operator", "dave", "case", "next", check=False)
    line = fail_line(r)
    assert "dave" in line[0] and "compliance role" in line[0], r.stderr
    assert "fusion operator roles dave" in line[0], r.stderr
    # granting the role to an existing operator: audited with the roles before and after
    r = d.run("operator", "roles", "nobody", "--role", "compliance", check=False)
    assert r.returncode == 1 and "no operator named" in r.stderr, r.stderr
    r = d.run("operator", "roles", "dave", "--role", "approver,cook", check=False)
    assert r.returncode == 2 and "cook" in r.stderr, r.stderr
    d.run("operator", "roles", "dave", "--role", "approver,compliance")
    roles = {o["name"]: o["roles"] for o in d.json("operator", "list", "--json")}
    assert roles["dave"] == ["approver", "compliance"], roles
    rows = [json.loads(x) for x in open(os.path.join(d.home, "audit.log"))]
    grant = [x for x in rows if x["action"] == "operator.roles"]
    # signed by the admin who granted it (its statement under "_sig")
    assert len(grant) == 1 and grant[0]["operator"] == d.signed.admin, grant
    assert grant[0]["details"].pop("_sig")["signature"].startswith("0x"), grant
    assert grant[0]["details"] == {
        "name": "dave", "before": "trader,approver", "after": "approver,compliance"}, grant
    r = d.run("--operator", "dave", "case", "list", "--json", check=False)
    assert r.returncode == 0, r.stderr
    d.run("operator", "roles", "dave", "--role", "approver")
    d.run("operator", "add", "carol", "--key", A[9], "--role", "compliance")
    d.run(*op, "entity", "add", NAME, "--type", "company", "--jurisdiction", "JP", "--kyc",
          "verified", "--kyc-expires", "2030-06-30", "--tier", "2", "--risk", "low")
    got = d.json("entity", "show", NAME, "--json")
    assert got["name"] == NAME and got["jurisdiction"] == "JP" and got["tier"] == 2, got
    assert NAME in d.run("entity", "list").stdout
    assert [x["name"] for x in d.json("entity", "list", "--json")] == [NAME]

    doc = os.path.join(d.home, "passport.pdf")
    with open(doc, "wb") as f:
        f.write(b"%PDF-1.4 not really\n")
    import hashlib
    want = hashlib.sha256(open(doc, "rb").read()).hexdigest()
    d.run(*op, "entity", "add", "Jane Doe", "--type", "individual", "--jurisdiction", "CH")
    d.run(*op, "entity", "edit", NAME, "--doc", f"passport:{doc}", "--party", "Jane Doe:director")
    got = d.json("entity", "show", NAME, "--json")
    assert got["documents"] == [{"type": "passport", "sha256": want, "file": "passport.pdf"}], got
    assert got["related_parties"][0]["name"] == "Jane Doe", got
    d.run(*op, "entity", "link", NAME, "--chain", "any", "--address", A[1])
    r = d.run(*op, "entity", "link", "Jane Doe", "--chain", "any", "--address", A[1], check=False)
    assert "already linked" in fail_line(r)[0], r.stderr

    for args, msg in [(("--jurisdiction", "XX"), "ISO 3166"),
                      (("--jurisdiction", "jp"), "ISO 3166"),
                      (("--kyc", "maybe"), "kyc"), (("--kyc-expires", "2030-02-30"), "date")]:
        base = {"--jurisdiction": "DE", "--kyc": "pending"}
        extra = list(args)
        r = d.run(*op, "entity", "add", "Bad " + args[0], "--type", "company",
                  *([k for kv in base.items() if kv[0] != args[0] for k in kv]), *extra,
                  check=False)
        lines = fail_line(r)
        assert len(lines) == 1 and msg in lines[0], (args, r.stderr)
    r = d.run(*op, "entity", "add", "NoType", check=False)
    assert r.returncode == 2, r

    csv = os.path.join(d.home, "in.csv")
    with open(csv, "w") as f:
        f.write("name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"
                "Good One,company,GB,verified,2031-01-01,1,low,,,\n"
                "Bad Code,company,UK,,,,,,,\n"
                "Bad Tier,individual,FR,,,7,,,,\n"
                f"{NAME},company,JP,,,,,,,\n")
    r = d.run(*op, "entity", "import", csv, check=False)
    lines = fail_line(r)
    assert lines[0].startswith(f"{csv}:3: ") and "UK" in lines[0], lines
    assert lines[1].startswith(f"{csv}:4: ") and "tier" in lines[1], lines
    assert "nothing imported" in lines[-1], lines
    names = [x["name"] for x in d.json("entity", "list", "--json")]
    assert "Good One" not in names, names
    # the fixed file goes in whole, quoted comma and all
    with open(csv, "w") as f:
        f.write("name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"
                "Good One,company,GB,verified,2031-01-01,1,low,,,\n"
                f"\"Two, Ltd\",company,SG,,,,,,31337,{A[2]}\n")
    out = d.run(*op, "entity", "import", csv).stdout
    assert "imported 2 entities" in out, out
    got = d.json("entity", "show", "Two, Ltd", "--json")
    assert got["addresses"][0]["address"].lower() == A[2].lower(), got
    assert got["addresses"][0]["chain_id"] == 31337, got

    assert "no cases" in d.run("case", "list").stdout
    assert d.json("case", "list", "--queue", "overdue", "--json") == []
    assert "queue empty" in d.run(*op, "case", "next").stdout
    r = d.run("case", "gate", "--chain", "31337", "--escrow", A[3], "--action", "release",
              check=False)
    assert "not in the desk database" in fail_line(r)[0], r.stderr
    assert d.run("case", "gate", "--chain", "31337", "--escrow", A[3], "--action",
                 "refund").returncode == 0
    r = d.run("case", "list", "--queue", "bogus", check=False)
    assert r.returncode == 2, r

    audit = [json.loads(line)["action"] for line in open(os.path.join(d.home, "audit.log"))]
    assert audit.count("entity.add") == 2 and audit.count("entity.import") == 1, audit
    assert "entity.document" in audit and "entity.party" in audit and "entity.link" in audit
    d.run("audit", "verify")
    print("compliance cli: ok")


if __name__ == "__main__":
    main()
