"""The Credit screen (C) on a real anvil node: a counterparty (Acme) deposits 10 WETH into a
CollateralVault priced by a feed; the desk opens a facility on it and records a draw, a
repayment and a fee with `fusion credit`. Screen C must show what the CLI's `--json` says,
formatted the screen's way (thousands separators, four decimals in the table): the limit,
the drawn balance, the utilisation (owed over the limit, computed here in integers), the
health factor of `credit health` (read off the loop by the screen's worker), the collateral
by chain, and the ledger rows with their balances. A repayment made by another process
while the screen is open shows up without a key, with the new numbers. `:credit` reaches
the screen too, and the tab bar names it at 80 columns."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import ENV, on_anvil  # noqa: E402
from sync_lib import A, Desk, artifact, cast  # noqa: E402


def group(plain, max_frac=None):
    """ui_fmt_decimal: thousands separators, at most max_frac decimals (cut, never rounded,
    and an ellipsis when something was cut)."""
    whole, _, frac = plain.partition(".")
    g = "{:,}".format(int(whole))
    cut = False
    if max_frac is not None and len(frac) > max_frac:
        cut = True  # amount_format leaves no trailing zeros: a cut digit is not 0
        frac = frac[:max_frac]
    out = g + ("." + frac if frac else "")
    return out + ("\u2026" if cut else "")


def units_to_plain(units, decimals):
    units = int(units)
    s = str(units // 10**decimals)
    f = str(units % 10**decimals).rjust(decimals, "0").rstrip("0")
    return s + ("." + f if f else "")


def expected(desk):
    fac = [f for f in desk.json("credit", "facility", "list", "--json") if f["name"] == "acme"][0]
    led = desk.json("credit", "ledger", "acme", "--json")
    h = desk.json("credit", "health", "acme", "--json")
    dec = fac["decimals"]
    limit_units = int(round(float(fac["limit"]) * 10**dec))
    owed = int(led["drawn_units"]) + int(led["accrued_units"])
    util = owed * 10000 // limit_units
    return {
        "limit": group(fac["limit"], 4),
        "drawn": group(fac["drawn"], 4),
        "util": "%d.%02d%%" % (util // 100, util % 100),
        "hf": "%.2f" % h["health_factor"],
        "rows": [(r["date"], r["kind"], group(r["amount"]), group(r["balance"]))
                 for r in led["rows"]],
        "positions": h["positions"],
        "n": len(led["rows"]),
    }


def screen_ok(want):
    def pred(text):
        lines = text.split("\n")
        if len(lines) < 40 or not lines[2].startswith(" Credit facilities"):
            return False
        row = [ln for ln in lines[3:12] if re.search(r"\bacme\b", ln)]
        if len(row) != 1:
            return False
        cells = row[0]
        if not all(x in cells for x in ("Acme", "USDC", want["limit"], want["drawn"], want["util"],
                                        want["hf"])):
            return False
        body = "\n".join(lines[12:])
        if "LEDGER (newest first)" not in body or "COLLATERAL BY CHAIN" not in body:
            return False
        for p in want["positions"]:
            amt = group(units_to_plain(p["units"], 18))
            if not re.search(r"local\s+%s\s+%s \(" % (p["asset"], re.escape(amt)), body):
                return False
        led = [ln for ln in lines if re.match(r"^\s+\d{4}-\d\d-\d\d (draw|repay|fee|interest)", ln)]
        if len(led) != want["n"]:
            return False
        for (d, kind, amt, bal), ln in zip(reversed(want["rows"]), led):
            if not re.match(r"^\s+%s %s\s+%s\s+balance\s+%s\b" % (d, kind, re.escape(amt),
                                                                re.escape(bal)), ln):
                return False
        status = lines[STATUS_ROW]
        return status.startswith(" C Credit") and "facilities 1/1" in status
    return pred


STATUS_ROW = 40 - 2


def main():
    on_anvil(run)


def run(chain):
    node = chain.node
    tok = artifact("TestToken")["bytecode"]
    weth = node.deploy(tok + cast("abi-encode", "constructor(string,string,uint8)",
                                  "Wrapped Ether", "WETH", 18)[2:])
    usdc = node.deploy(tok + cast("abi-encode", "constructor(string,string,uint8)",
                                  "USD Coin", "USDC", 6)[2:])
    feed = node.deploy(artifact("MockPriceFeed")["bytecode"] + cast(
        "abi-encode", "constructor(uint8,string,int256)", 8, "WETH / USD", 3000 * 10**8)[2:])
    vault = node.deploy(artifact("CollateralVault")["bytecode"] + cast(
        "abi-encode", "constructor(address[],uint256)", f"[{A[2]},{A[3]},{A[4]}]", 2)[2:])
    cp = A[1]
    chain.cast_send(A[0], weth, "mint(address,uint256)", cp, str(10 * 10**18))
    chain.cast_send(cp, weth, "approve(address,uint256)", vault, str(10 * 10**18))
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", feed)
    desk.run("risk", "report", "--json", "--paths", "200")  # observes the oracle rounds
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")
    desk.run("--operator", "rita", "credit", "draw", "acme", "12345.678901", "--by-hand")
    desk.run("--operator", "rita", "credit", "repay", "acme", "2000.5")
    desk.run("--operator", "rita", "credit", "fee", "acme", "25.25", "--memo", "arrangement")
    want = expected(desk)

    t = tmuxh.Tmux("credit", cols=140, rows=40)
    t.home = desk.home
    t.start("%s --home %s --operator rita" % (tmuxh.FUSION_BIN, desk.home), ENV)
    t.wait_for("operator rita", "the title")
    t.type(":credit")
    t.send("Enter")
    t.wait_for(screen_ok(want), "the facility, its health and its ledger as the CLI says")

    # another process repays: the screen follows with the new balance and utilisation
    desk.run("--operator", "rita", "credit", "repay", "acme", "1234.5")
    want2 = expected(desk)
    t.check(want2["drawn"] != want["drawn"], "setup: the repayment changed nothing")
    t.wait_for(screen_ok(want2), "the repayment, without a key")

    # at 80 columns every tab shows, C Credit among them, and the key C reaches the screen
    t.send("1")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Dashboard"), "the Dashboard")
    t.resize(80, 24)
    t.send("C")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Credit facilities") and
               re.search(r"\bC Cred\b", s.split("\n")[1]) is not None and
               re.search(r"\bB Brg\b", s.split("\n")[1]) is not None and
               re.search(r"\b0 Out\b", s.split("\n")[1]) is not None and
               re.search(r"\bacme\b", s) is not None,
               "the Credit screen at 80 columns")
    t.send("q")
    t.check(t.wait_dead() == 0, "fusion did not exit cleanly")


if __name__ == "__main__":
    tmuxh.run(main)
