#!/usr/bin/python3
"""credit_stale_price.py: a facility's health is never computed with a price older than its
feed's max age (integration, a real anvil node).

The anvil node runs two hours behind (`--timestamp`): every round its MockPriceFeed reports
is dated then, as a feed that stopped updating two hours ago would be. The desk has observed
that round (`risk report`). A facility in USDC with 10 WETH in its vault: `credit health`, a
draw's pre-trade check and `credit check` refuse with one line naming WETH, the age, the max
age and what to do (the code before this test valued the collateral with the two-hour-old
price and let the draw through). A feed without a max age of its own is held to the desk's
limit (`price_max_age_s` of its signed risk-limits.csv, as `risk report` is): 3 hours makes
the round current, half an hour refuses it naming that limit (the code before this test
always used the shipped hour). Given the feed a max age of a day (`asset add-feed --max-age
86400`) the same round is current enough and the health is computed.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, need_artifacts  # noqa: E402
from credit_lib import check, credit_rows, token, usd_feed, collateral_vault  # noqa: E402


def refused(r, what, max_age=3600):
    err = r.stderr.strip()
    check(r.returncode == 1, f"{what}: exit {r.returncode} (stdout {r.stdout!r}): {err}")
    check(len(err.splitlines()) == 1 and "price of WETH" in err and f"max age {max_age}s" in err and
          "fusion risk report" in err and "--max-age" in err, f"{what}: {err}")


def main():
    need_artifacts()
    past = int(time.time()) - 2 * 3600
    chain = Chain(chain_id=31337, args=["--timestamp", str(past)]).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
    usdc = token(node, "USD Coin", "USDC", 6)
    weth_feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
    vault = collateral_vault(node, A[2:5], 2)
    cp = A[1]
    chain.cast_send(A[0], weth, "mint(address,uint256)", cp, str(10 * 10**18))
    chain.cast_send(cp, weth, "approve(address,uint256)", vault, str(10 * 10**18))
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))
    head = int(node.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
    check(head < int(time.time()) - 3600, f"the node is not behind: {head}")

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")  # observes the (old) round
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")

    refused(desk.run("credit", "health", "acme", "--json", check=False), "credit health")
    rows0, led0 = credit_rows(desk), desk.json("credit", "ledger", "acme", "--json")
    refused(desk.run("--operator", "rita", "credit", "draw", "acme", "15000", "--by-hand",
                     check=False), "credit draw")
    check(credit_rows(desk) == rows0, "a refused draw signed something")
    check(desk.json("credit", "ledger", "acme", "--json") == led0, "a refused draw was written")
    refused(desk.run("credit", "check", "--json", check=False), "credit check")

    # a feed without a max age of its own is held to the desk's limit (its signed
    # risk-limits.csv, as `risk report` is), not to the shipped hour: 3 hours makes the
    # round current, half an hour refuses it, naming that limit
    limits = os.path.join(desk.home, "risk-limits.csv")

    def desk_limit(seconds):
        fd = os.open(limits, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, f"limit,value\nprice_max_age_s,{seconds}\n".encode())
        os.close(fd)
        desk.signed.sign_config("risk-limits")
    desk_limit(3 * 3600)
    h = desk.json("credit", "health", "acme", "--json")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6, f"the desk's 3-hour limit: {h}")
    desk_limit(1800)
    refused(desk.run("credit", "health", "acme", "--json", check=False),
            "credit health, the desk's half-hour limit", 1800)
    refused(desk.run("--operator", "rita", "credit", "draw", "acme", "15000", "--by-hand",
                     check=False), "credit draw, the desk's half-hour limit", 1800)
    check(credit_rows(desk) == rows0, "a refused draw signed something")
    refused(desk.run("credit", "check", "--json", check=False),
            "credit check, the desk's half-hour limit", 1800)

    # the feed given a day's max age: the round is current enough
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed,
             "--max-age", "86400")
    h = desk.json("credit", "health", "acme", "--json")
    check(abs(h["collateral_usd"] - 30000.0) < 1e-6 and h["status"] == "ok", f"{h}")
    desk.run("--operator", "rita", "credit", "draw", "acme", "15000", "--by-hand")
    h = desk.json("credit", "health", "acme", "--json")
    check(1.6 < h["health_factor"] < 1.66, f"after the draw: {h}")
    node.stop()
    print("ok: credit_stale_price")


if __name__ == "__main__":
    main()
