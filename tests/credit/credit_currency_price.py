#!/usr/bin/python3
"""credit_currency_price.py: a facility whose currency has no price is never valued at 1 USD
a unit (integration, a real anvil node).

A facility in WBTC (8 decimals, not a USD stablecoin) with 10 WETH of collateral in a
CollateralVault (WETH priced by a MockPriceFeed at 3000 USD): it owes 0.5 WBTC (a fee). With
no WBTC feed, what it owes cannot be valued, so `credit health`, a draw's pre-trade check,
`credit check` and `risk report` (the desk's credit line) each refuse with one line naming
the facility, the currency and the command to run, and nothing is written (the draw is not
in the ledger nor in the audit log, no call is opened). The code before this test took the
0.5 WBTC at 0.5 USD: a health factor near 50000, "ok", and the draw went through. Once a
WBTC feed at 60000 USD is added and read, the same ledger owes about 30000 USD: the health
factor is 24900 / 30000 = 0.83, below the liquidation level, and `credit check` opens the
liquidation proposal. A USDC facility without a USDC feed is still taken at par (USDC is a
USD stablecoin the desk values at par), and `credit check` still opens its margin call while
the WBTC facility cannot be valued (that one gets an alert saying why). A WETH feed that
then answers 1e30 USD (outside the price range the risk service accepts) is not used: the
code before this test valued the collateral at 1e31 USD and called the facility healthy.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, need_artifacts  # noqa: E402
from credit_lib import check, credit_rows, token, usd_feed, collateral_vault  # noqa: E402


def refused(r, what):
    """exit 1, one line naming the facility, WBTC and the feed command."""
    err = r.stderr.strip()
    check(r.returncode == 1, f"{what}: exit {r.returncode} (stdout {r.stdout!r}): {err}")
    check(len(err.splitlines()) == 1, f"{what}: not one line: {err}")
    check("acme-btc" in err and "WBTC" in err and "fusion asset add-feed" in err and
          "no observed oracle price" in err, f"{what}: the line does not say what to do: {err}")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
    wbtc = token(node, "Wrapped BTC", "WBTC", 8)
    usdc = token(node, "USD Coin", "USDC", 6)
    weth_feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
    vault = collateral_vault(node, A[2:5], 2)
    cp = A[1]
    chain.cast_send(A[0], weth, "mint(address,uint256)", cp, str(10 * 10**18))
    chain.cast_send(cp, weth, "approve(address,uint256)", vault, str(10 * 10**18))
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    for sym, a in (("WETH", weth), ("WBTC", wbtc), ("USDC", usdc)):
        desk.run("asset", "add-token", "--chain", "local", "--symbol", sym, "--address", a)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")  # observes the oracle rounds
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme-btc", "--entity", "Acme",
             "--currency", "WBTC", "--decimals", "8", "--limit", "1", "--rate", "5",
             "--collateral", "WETH", "--vault", f"local={vault}")

    # nothing owed: no price is needed (the health factor is infinite whatever the price)
    h = desk.json("credit", "health", "acme-btc", "--json")
    check(h["health_factor"] is None and h["status"] == "ok", f"nothing owed: {h}")

    # 0.5 WBTC owed (a fee runs no health check): no WBTC price, nothing can be valued
    desk.run("--operator", "rita", "credit", "fee", "acme-btc", "0.5", "--memo", "arrangement")
    refused(desk.run("credit", "health", "acme-btc", "--json", check=False), "credit health")
    refused(desk.run("credit", "health", "acme-btc", check=False), "credit health (text)")

    # a draw's pre-trade check cannot value it either: refused, nothing written or signed
    rows0, led0 = credit_rows(desk), desk.json("credit", "ledger", "acme-btc", "--json")
    refused(desk.run("--operator", "rita", "credit", "draw", "acme-btc", "0.1", "--by-hand",
                     check=False), "credit draw")
    refused(desk.run("--operator", "rita", "credit", "draw", "acme-btc", "0.1", "--by-hand",
                     "--override", "client is good for it", check=False), "credit draw --override")
    check(credit_rows(desk) == rows0, "a refused draw signed something")
    check(desk.json("credit", "ledger", "acme-btc", "--json") == led0,
          "a refused draw changed the ledger")

    # margin calls: refused, not silently "ok"; a facility that can be valued is still
    # checked (acme-usd, in USDC at par, owes 23000 against 24900 of LT value: HF 1.08, a
    # margin call), the one that cannot keeps an alert saying why; the credit line: refused
    desk.run("--operator", "rita", "credit", "facility", "add", "acme-usd", "--entity", "Acme",
             "--currency", "USDC", "--limit", "100000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")
    desk.run("--operator", "rita", "credit", "fee", "acme-usd", "23000")
    refused(desk.run("credit", "check", "--json", check=False), "credit check")
    calls = desk.json("credit", "calls", "--all", "--json")["calls"]
    check([(c["facility"], c["kind"]) for c in calls] == [("acme-usd", "margin_call")],
          f"credit check stopped at the facility it cannot value: {calls}")
    alerts = desk.run("alerts").stdout
    check("facility acme-btc cannot be valued" in alerts and "WBTC" in alerts, alerts)
    refused(desk.run("risk", "report", "--json", "--paths", "200", check=False), "risk report")

    # a WBTC feed at 60000 USD, added and read: 0.5 WBTC is about 30000 USD, HF 0.83
    wbtc_feed = usd_feed(node, "WBTC / USD", 60000 * 10**8)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WBTC", "--address", wbtc_feed)
    rep = desk.json("risk", "report", "--json", "--paths", "200")
    h = desk.json("credit", "health", "acme-btc", "--json")
    check(30000.0 <= h["owed_usd"] < 30010.0, f"owed at 60000 USD/WBTC: {h['owed_usd']}")
    h_usd = desk.json("credit", "health", "acme-usd", "--json")
    check(abs(rep["drawn"] - h["owed_usd"] - h_usd["owed_usd"]) < 1e-6,
          f"risk drawn {rep['drawn']} vs {h['owed_usd']} + {h_usd['owed_usd']}")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6, f"collateral {h['collateral_usd']}")
    check(abs(h["health_factor"] - 24900.0 / h["owed_usd"]) < 1e-9 and
          h["status"] == "liquidation", f"health at 60000 USD/WBTC: {h}")
    c = desk.json("credit", "check", "--json")
    check(c["opened"] == 2 and sorted((x["facility"], x["kind"]) for x in c["calls"]) ==
          [("acme-btc", "liquidation"), ("acme-btc", "margin_call"), ("acme-usd", "margin_call")],
          f"credit check at 60000 USD/WBTC: {c}")
    check("cannot be valued" not in desk.run("alerts").stdout, "the unvalued alert stayed")

    # a USD stablecoin without a feed is taken at par: USDC owed is its USD value
    h = desk.json("credit", "health", "acme-usd", "--json")
    check(23000.0 <= h["owed_usd"] < 23005.0, f"USDC at par: {h['owed_usd']}")

    # the WETH feed answers 1e30 USD: the risk service refuses it (outside RISK_PRICE_MIN..
    # RISK_PRICE_MAX) and so does credit; the round before it (3000 USD) is still the price,
    # so acme-btc stays liquidatable instead of looking healthy on 1e31 USD of collateral
    before = desk.json("credit", "health", "acme-btc", "--json")
    chain.cast_send(A[0], weth_feed, "setAnswer(int256)", str(10**38))
    desk.run("risk", "report", "--json", "--paths", "200", check=False)  # observes the round
    h = desk.json("credit", "health", "acme-btc", "--json")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6 and h["status"] == "liquidation" and
          abs(h["health_factor"] - before["health_factor"]) < 1e-6,
          f"health with WETH answering 1e30 USD: {h}")
    node.stop()
    print("ok: credit_currency_price")


if __name__ == "__main__":
    main()
