#!/usr/bin/python3
"""compliance_kyc.py: the KYC lifecycle through the real binary, no chain needed. Entities
whose KYC expiry or review date falls within kyc.lead_days (or is past) raise
"kyc:<id>:expiry" / "kyc:<id>:review" alerts and get a case per date at the next
screening pass (`fusion case screen`); one far from its dates gets neither; the case's
priority and SLA follow the entity's risk rating (high: high priority, 4 h). A second pass
opens nothing twice; moving a date out of the lead time clears its alert; a shorter
kyc.lead_days in compliance.conf leaves a date outside it alone."""
import datetime
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Desk  # noqa


def day(offset):
    return (datetime.datetime.now(datetime.timezone.utc).date()
            + datetime.timedelta(days=offset)).isoformat()


def main():
    d = Desk()
    d.signed.genesis()
    d.run("operator", "add", "carol", "--key", A[9], "--role", "compliance")
    op = ("--operator", "carol")
    ents = {
        "Soon Expiring AG": ("--kyc-expires", day(10), "--risk", "high"),
        "Review Due Ltd": ("--kyc-expires", day(400), "--review-due", day(5), "--risk", "low"),
        "Far Away SA": ("--kyc-expires", day(400), "--review-due", day(300), "--risk", "high"),
    }
    for name, extra in ents.items():
        d.run(*op, "entity", "add", name, "--type", "company", "--jurisdiction", "CH", "--kyc",
              "verified", *extra)
    ids = {x["name"]: x["id"] for x in d.json("entity", "list", "--json")}
    d.run("case", "screen")
    keys = {a["key"]: a for a in d.json("alerts", "--json")}
    soon, review, far = (ids["Soon Expiring AG"], ids["Review Due Ltd"], ids["Far Away SA"])
    assert f"kyc:{soon}:expiry" in keys and f"kyc:{review}:review" in keys, keys
    assert not any(k.startswith(f"kyc:{far}:") for k in keys), keys
    assert not any(k == f"kyc:{review}:expiry" for k in keys), keys
    assert "in 10 days" in keys[f"kyc:{soon}:expiry"]["message"], keys
    cases = {c["subject"]: c for c in d.json("case", "list", "--json")}
    assert set(cases) == {f"entity:{soon}", f"entity:{review}"}, cases
    hi, lo = cases[f"entity:{soon}"], cases[f"entity:{review}"]
    # the risk rating sets the priority (kyc's score 50 alone is medium) and so the SLA
    assert hi["priority"] == "high" and lo["priority"] == "medium", (hi, lo)
    assert hi["due_at"] - hi["opened_at"] == 4 * 3600, hi
    assert lo["due_at"] - lo["opened_at"] == 24 * 3600, lo
    shown = d.json("case", "show", str(hi["id"]), "--json")
    assert "KYC expires on " + day(10) in shown["evidence"][0]["evidence"], shown
    # the case is about the entity's KYC date, not an escrow
    assert hi["escrow"] is None and shown["escrow"] is None, (hi, shown)
    assert hi["about"] == {"kind": "kyc", "which": "expiry", "date": day(10)}, hi
    assert lo["about"] == {"kind": "kyc", "which": "review", "date": day(5)}, lo
    text = d.run("case", "show", str(hi["id"])).stdout
    assert "KYC expiry " + day(10) in text and "escrow" not in text.lower(), text
    text = d.run("case", "list").stdout
    assert "KYC review " + day(5) in text and "0x0" not in text, text
    # a second pass opens nothing twice
    d.run("case", "screen")
    assert len(d.json("case", "list", "--json")) == 2
    # renewing clears the alert (the case stays for the officers)
    d.run(*op, "entity", "edit", "Soon Expiring AG", "--kyc-expires", day(500))
    d.run("case", "screen")
    keys = {a["key"] for a in d.json("alerts", "--json")}
    assert f"kyc:{soon}:expiry" not in keys and f"kyc:{review}:review" in keys, keys
    # a shorter lead time in compliance.conf: 5 days still due, 3 would not be
    conf = os.path.join(d.home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("kyc.lead_days = 3\n")
    os.chmod(conf, 0o600)
    d.run(*op, "config", "sign", "compliance")  # a signed desk acts only on signed rules
    d.run("case", "screen")
    keys = {a["key"] for a in d.json("alerts", "--json")}
    assert f"kyc:{review}:review" not in keys, keys
    print("KYC lifecycle: alerts and cases ahead of time, priority by risk rating: ok")


if __name__ == "__main__":
    main()
