#!/usr/bin/python3
"""pretrade_escrow.py: the pre-trade risk check of escrow actions on a real anvil node
(integration).

The desk's own limits (risk-limits.csv, signed by the admin) set counterparty_share 0.25.
rita (trader and risk officer) holds 1,000 USDC (a MockPriceFeed says 1.00 USD); the desk
accounts hold 0.01 ETH each (the escrow stays below the Travel Rule threshold) (valued at the shipped close). An escrow create of 30 % of the
gross value to one payee would take that counterparty to 30 % > 25 %: refused with the
numbers (before 0.0 %, after, limit) and nothing signed (cast nonce of rita's address and
the desk's outbound rows unchanged, no risk.override row); an operator without the risk
role cannot override; rita's `--override REASON` goes through: the escrow is on chain, the
override (reason, breach numbers) is a signed `risk.override` row of the audit log
(`audit verify`: signatures ok) and the pre-sign summary names it. The same for the fund
(the value is locked only then): refused, then overridden; the USDC is in the escrow (cast).
A desk without its own limits file is not checked (the escrow of the same size passes)."""
import json
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import desk_escrow  # noqa: E402
import devchain  # noqa: E402
from signed_desk import ANVIL_KEYS  # noqa: E402
from desk_escrow import DeskUser, nonce, token_balance  # noqa: E402
from sync_lib import A, Chain, artifact, cast, need_artifacts  # noqa: E402
from credit_lib import check, token  # noqa: E402

PAYEE = A[1]


def audit_rows(desk, action):
    with open(os.path.join(desk.home, "audit.log")) as f:
        return [r for r in map(json.loads, f) if r["action"] == action]


def main():
    need_artifacts()
    while len(devchain.KEYS) < 6:  # rita's key: anvil's sixth
        devchain.KEYS.append(ANVIL_KEYS[A[len(devchain.KEYS)].lower()])
    desk_escrow.OPS["rita"] = (5, "trader,risk")
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    usdc = token(node, "USD Coin", "USDC", 6)
    feed = node.deploy(artifact("MockPriceFeed")["bytecode"] + cast(
        "abi-encode", "constructor(uint8,string,int256)", 8, "USDC / USD", 10**8)[2:])
    rita = A[5]
    chain.cast_send(A[0], usdc, "mint(address,uint256)", rita, str(1_000 * 10**6))

    desk = DeskUser()
    desk.setup(chain)
    # KYC-verified parties: the compliance gate passes their escrows (as in desk_escrow.py)
    for name, who in (("Rita Treasury LLC", rita), ("Payee Trading Ltd", PAYEE)):
        desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run("--operator", "dave", "entity", "link", name, "--chain", "local", "--address",
                 who)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "USDC", "--address", feed)
    for i in (0, 2, 3, 4, 5):
        node.rpc("anvil_setBalance", A[i], hex(10**16))
    gross = desk.json("risk", "report", "--json", "--paths", "200")["gross_usd"]
    amount = math.ceil(gross * 0.30)  # whole USDC: 30 % of the gross value to one payee

    def create(op, *extra):
        return desk.as_op(op, "--json", "escrow", "create", "--payee", PAYEE, "--token", "USDC",
                          "--amount", str(amount), "--approvers", "bob,carol", "--threshold",
                          "2", "--deadline", "7d", *extra, check=False)

    # no limits file of the desk's own: not checked (the shipped defaults raise alerts only)
    n0 = nonce(chain, rita)
    r = create("rita")
    check(r.returncode == 0 and nonce(chain, rita) == n0 + 1, f"unchecked create: {r.stderr}")
    first = json.loads(r.stdout)["escrow"]

    limits = os.path.join(desk.home, "risk-limits.csv")
    with open(limits, "w") as f:
        f.write("limit,value\nvar_1d_usd,0\nes_1d_usd,0\nasset_share,0\nchain_share,0\n"
                "counterparty_share,0.25\n")
    os.chmod(limits, 0o600)
    desk.signed.sign_config("risk-limits")

    # refused with the numbers, nothing signed (the gross value less the first create's gas)
    gross = desk.json("risk", "report", "--json", "--paths", "200")["gross_usd"]
    n0, rows0 = nonce(chain, rita), desk.outbound_count()
    r = create("rita")
    m = re.search(r"escrow create of ([0-9.]+) USDC \(([0-9.]+) USD est\.; gross after "
                  r"([0-9.]+) USD\) breaches counterparty (0x[0-9a-f]{40}) "
                  r"([0-9.]+)% -> ([0-9.]+)% \(limit 25\.0%\); nothing signed", r.stderr)
    check(r.returncode == 1 and m, f"create not refused with the numbers: {r.stderr}")
    check("--override REASON" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr)
    check(int(m.group(1)) == amount and abs(float(m.group(2)) - amount) < 0.01, m.groups())
    check(abs(float(m.group(3)) - gross) < 0.01, f"gross {m.groups()} vs {gross}")
    check(m.group(4) == PAYEE.lower() and float(m.group(5)) == 0.0, m.groups())
    check(abs(float(m.group(6)) - amount / gross * 100) < 0.051, f"after {m.group(6)} vs "
          f"{amount / gross * 100}")
    check(nonce(chain, rita) == n0 and desk.outbound_count() == rows0, "a refusal signed")
    check(audit_rows(desk, "risk.override") == [], "an override row without an override")

    # only a risk officer overrides
    n_alice = nonce(chain, A[0])
    r = create("alice", "--override", "x")
    check(r.returncode == 1 and "lacks the risk role" in r.stderr, r.stderr)
    check(nonce(chain, A[0]) == n_alice and desk.outbound_count() == rows0, "alice signed")

    # the risk officer overrides: signed, on chain, in the audit log, in the summary
    reason = "payee posts a letter of credit for the excess"
    r = create("rita", "--override", reason)
    check(r.returncode == 0 and nonce(chain, rita) == n0 + 1, f"override: {r.stderr}")
    escrow = json.loads(r.stdout)["escrow"]
    check(escrow.lower() != first.lower(), "the same escrow twice")
    check("RISK OVERRIDE by rita" in r.stdout + r.stderr, f"summary: {r.stdout} {r.stderr}")
    ov = audit_rows(desk, "risk.override")
    check(len(ov) == 1 and ov[0]["operator"] == "rita" and ov[0]["details"]["reason"] == reason
          and ov[0]["details"]["action"] == "escrow create", f"override row: {ov}")
    b = ov[0]["details"]["breaches"]
    check(len(b) == 1 and b[0]["limit"] == "counterparty" and b[0]["name"] == PAYEE.lower() and
          abs(b[0]["after"] - amount / gross) < 1e-6 and b[0]["limit_value"] == 0.25, b)
    v = desk.run("audit", "verify")
    check("signatures ok" in v.stdout, v.stdout)

    # the fund locks the value: refused again, then overridden; the USDC is in the escrow
    n0 = nonce(chain, rita)
    r = desk.as_op("rita", "escrow", "fund", escrow, check=False)
    check(r.returncode == 1 and "escrow fund of" in r.stderr and "breaches counterparty"
          in r.stderr, f"fund: {r.stderr}")
    check(nonce(chain, rita) == n0, "a refused fund signed")
    desk.as_op("rita", "escrow", "fund", escrow, "--override", reason)
    check(token_balance(chain, usdc, escrow) == amount * 10**6, "escrow balance (cast)")
    check(len(audit_rows(desk, "risk.override")) == 2, "fund override row")
    v = desk.run("audit", "verify")
    check("signatures ok" in v.stdout, v.stdout)
    print("pretrade escrow: refused with the numbers, nothing signed; overridden, signed")


if __name__ == "__main__":
    main()
