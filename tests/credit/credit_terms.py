#!/usr/bin/python3
"""credit_terms.py: a facility's collateral terms are never taken as 0 % haircut when they
are missing or not a number (integration, a real anvil node).

The default terms come from data/risk/collateral.csv ("a desk edits them"). A cell that is not
a percent (here USDT's haircut made "n/a", WETH's made empty, in a copy of the data directory
given with FUSION_DATA) was copied into the facility as it was and read back as 0 %: the
whole collateral counted in the borrowing base. Now `facility add` refuses it with one line
naming the file, the asset and the column, and nothing is written. A facility whose stored
terms lose a field (desk.db edited) is refused by `credit health` instead of valuing the
collateral with a 0 % haircut (borrowing base = collateral) or a 0 % liquidation threshold.
A liquidation threshold below the loan-to-value (100 - haircut), which the risk loader
refuses, is refused the same way from the file (WBTC 28/70) and from `--terms` on add and
edit (the code before this test stored it), and stored terms with it refuse `credit health`.
"""
import os
import shutil
import sqlite3
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, Chain, Desk, need_artifacts  # noqa: E402
from credit_lib import check, token, usd_feed, collateral_vault  # noqa: E402


def below(r, what, words):
    """exit 1, one line saying the liquidation threshold is below the LTV."""
    err = r.stderr.strip()
    check(r.returncode == 1 and len(err.splitlines()) == 1, f"{what}: exit {r.returncode}: {err}")
    check("liquidation threshold" in err and "below" in err and all(w in err for w in words),
          f"{what}: the line does not say it: {err}")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
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
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)

    # a copy of the data directory whose collateral.csv has a bad haircut for USDT and WETH
    data = tempfile.mkdtemp(prefix="fusion-data-")
    shutil.copytree(os.path.join(ROOT, "data"), data, dirs_exist_ok=True)
    path = os.path.join(data, "risk", "collateral.csv")
    with open(path) as f:
        lines = f.read().splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("USDT,"):
            lines[i] = "USDT,n/a," + ln.split(",", 2)[2]
        if ln.startswith("WETH,"):
            lines[i] = "WETH,," + ln.split(",", 2)[2]
        if ln.startswith("WBTC,"):  # LTV 72 above its liquidation threshold 70
            lines[i] = "WBTC,28,70," + ln.split(",", 3)[3]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.environ["FUSION_DATA"] = data
    try:
        for asset, cell in (("USDT", "'n/a'"), ("WETH", "''")):
            r = desk.run("--operator", "rita", "credit", "facility", "add", "bad", "--entity",
                         "Acme", "--currency", "USDC", "--limit", "1000", "--rate", "5",
                         "--collateral", asset, check=False)
            err = r.stderr.strip()
            check(r.returncode == 1 and len(err.splitlines()) == 1, f"{asset}: {r.returncode} {err}")
            check("collateral.csv" in err and asset in err and "haircut_pct" in err and
                  cell in err and "--terms" in err, f"{asset}: the line does not say it: {err}")
            check(desk.run("credit", "facility", "list", "--json").stdout.count('"bad"') == 0,
                  f"{asset}: a facility was added")
        r = desk.run("--operator", "rita", "credit", "facility", "add", "bad", "--entity",
                     "Acme", "--currency", "USDC", "--limit", "1000", "--rate", "5",
                     "--collateral", "WBTC", check=False)
        below(r, "collateral.csv WBTC 28/70", ("collateral.csv", "WBTC"))
        check(desk.run("credit", "facility", "list", "--json").stdout.count('"bad"') == 0,
              "WBTC 28/70: a facility was added")
    finally:
        del os.environ["FUSION_DATA"]
        shutil.rmtree(data, ignore_errors=True)

    # the shipped file: WETH 20/83; the stored terms lose their haircut (desk.db edited)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")
    h = desk.json("credit", "health", "acme", "--json")
    check(abs(h["borrowing_base_usd"] - 24000.0) < 1e-6, f"borrowing base {h}")

    # a liquidation threshold below the LTV (100 - haircut), refused as the risk loader does:
    # on add and on edit, one line, exit 1, nothing stored
    r = desk.run("--operator", "rita", "credit", "facility", "add", "bad-lt", "--entity",
                 "Acme", "--currency", "USDC", "--limit", "1000", "--rate", "5", "--collateral",
                 "WETH", "--terms", "WETH=20/70", check=False)
    below(r, "add --terms WETH=20/70", ("--terms", "WETH"))
    check(desk.run("credit", "facility", "list", "--json").stdout.count('"bad-lt"') == 0,
          "--terms WETH=20/70: a facility was added")
    listed = desk.run("credit", "facility", "list", "--json").stdout
    r = desk.run("--operator", "rita", "credit", "facility", "edit", "acme", "--terms",
                 "WETH=20/79.99", check=False)
    below(r, "edit --terms WETH=20/79.99", ("--terms", "WETH"))
    check(desk.run("credit", "facility", "list", "--json").stdout == listed,
          "a refused --terms edit changed the facility")
    desk.run("--operator", "rita", "credit", "facility", "edit", "acme", "--terms", "WETH=20/80")
    h = desk.json("credit", "health", "acme", "--json")
    check(abs(h["borrowing_base_usd"] - 24000.0) < 1e-6, f"LT equal to LTV: {h}")

    db = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    orig = db.execute("SELECT collateral FROM credit_facilities").fetchone()[0]
    for field in ("haircut_pct", "liq_threshold_pct"):
        db.execute("UPDATE credit_facilities SET collateral = json_remove(?, '$[0]." + field +
                   "')", (orig,))
        db.commit()
        r = desk.run("credit", "health", "acme", "--json", check=False)
        err = r.stderr.strip()
        check(r.returncode == 1 and len(err.splitlines()) == 1 and field in err and "WETH" in err,
              f"stored terms without {field}: exit {r.returncode} {r.stdout} {err}")
    # stored terms with the threshold below the LTV (a desk from before the check, or edited)
    db.execute("UPDATE credit_facilities SET collateral = "
               "json_set(?, '$[0].liq_threshold_pct', '70')", (orig,))
    db.commit()
    r = desk.run("credit", "health", "acme", "--json", check=False)
    below(r, "stored terms 20/70", ("WETH", "acme", "--terms"))
    db.close()
    node.stop()
    print("ok: credit_terms")


if __name__ == "__main__":
    main()
