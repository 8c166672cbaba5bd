#!/usr/bin/python3
"""credit_repay_decimals.py: a repayment recognised from the chain is posted in the ledger's
base units, not the token's (integration, a real anvil node).

A facility's ledger counts in base units of `--decimals` (6 when not given); the token of its
currency on a chain has its own decimals (DAI: 18; USDC: 6). A facility in DAI added without
`--decimals` (6) and a facility in USDC with `--decimals 8`, each with a repayment address.
The code before this test posted a transfer's token base units as ledger base units: 10^6
wei of DAI (10^-12 DAI) became a repayment of 1 DAI, and 2.5 USDC became 0.025. Now a
transfer is converted exactly: 250.5 DAI is a repayment of 250.5 DAI (250500000 units at 6
decimals), 2.5 USDC one of 2.5 (250000000 units at 8 decimals); a transfer finer than the
ledger's unit (10^6 wei of DAI) is not posted (left for a person, like one above the
balance). The repayments on each ledger equal, in whole tokens, what cast says was sent.
"""
import os
import sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, cast, need_artifacts  # noqa: E402
from credit_lib import check, token  # noqa: E402


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    dai = token(node, "Dai Stablecoin", "DAI", 18)
    usdc = token(node, "USD Coin", "USDC", 6)
    acme, beta = A[1], A[6]
    chain.cast_send(A[0], dai, "mint(address,uint256)", acme, str(10**6 * 10**18))
    chain.cast_send(A[0], usdc, "mint(address,uint256)", beta, str(10**6 * 10**6))

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    rita = desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "DAI", "--address", dai)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    for name, who in (("Acme", acme), ("Beta", beta)):
        desk.run("--operator", "carl", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "CH")
        desk.run("--operator", "carl", "entity", "link", name, "--chain", "local",
                 "--address", who)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme-dai", "--entity", "Acme",
             "--currency", "DAI", "--limit", "1000000", "--rate", "5", "--repay-to", rita,
             "--effective", "2020-01-01")
    desk.run("--operator", "rita", "credit", "facility", "add", "beta-usdc", "--entity", "Beta",
             "--currency", "USDC", "--decimals", "8", "--limit", "1000000", "--rate", "5",
             "--repay-to", rita, "--effective", "2020-01-01")
    for f in ("acme-dai", "beta-usdc"):
        desk.run("--operator", "rita", "credit", "draw", f, "1000", "--by-hand", "--date",
                 "2020-01-02", "--override", "unsecured test facility")

    def repays(f):
        rows = desk.json("credit", "ledger", f, "--json")["rows"]
        return [r for r in rows if r["kind"] == "repay"]

    chain.cast_send(acme, dai, "transfer(address,uint256)", rita, str(10**6))  # 1e-12 DAI
    chain.cast_send(acme, dai, "transfer(address,uint256)", rita, str(2505 * 10**17))
    chain.cast_send(beta, usdc, "transfer(address,uint256)", rita, "2500000")
    desk.run("sync", "--once")
    got = repays("acme-dai")
    check([(r["amount"], r["amount_units"]) for r in got] == [("250.5", "250500000")],
          f"DAI repayments (6-decimal ledger): {got}")
    got = repays("beta-usdc")
    check([(r["amount"], r["amount_units"]) for r in got] == [("2.5", "250000000")],
          f"USDC repayments (8-decimal ledger): {got}")

    # the ledgers agree with cast, in whole tokens (the dust transfer is not a repayment)
    sent_dai = int(node.cast("call", dai, "balanceOf(address)(uint256)", rita).split()[0])
    sent_usdc = int(node.cast("call", usdc, "balanceOf(address)(uint256)", rita).split()[0])
    ledger_dai = sum(Decimal(r["amount"]) for r in repays("acme-dai"))
    ledger_usdc = sum(Decimal(r["amount"]) for r in repays("beta-usdc"))
    check(ledger_dai == Decimal(sent_dai - 10**6) / 10**18, f"DAI {ledger_dai} vs {sent_dai}")
    check(ledger_usdc == Decimal(sent_usdc) / 10**6, f"USDC {ledger_usdc} vs {sent_usdc}")
    desk.run("sync", "--once")
    check(len(repays("acme-dai")) == 1 and len(repays("beta-usdc")) == 1, "posted twice")
    node.stop()
    print("ok: credit_repay_decimals")


if __name__ == "__main__":
    main()
