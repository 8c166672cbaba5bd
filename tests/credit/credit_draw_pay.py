#!/usr/bin/python3
"""credit_draw_pay.py: `credit draw FACILITY AMOUNT --chain C` pays the draw through the desk
pipeline on a real anvil node, and the ledger row follows the payment (integration).

rita (risk officer and trader, anvil #5's key) draws on facility acme (USDC, limit 25000, a
vault with 10 WETH of the counterparty Acme, anvil #1): the desk sends an EIP-1559 USDC
transfer from rita's address to Acme's linked address; `cast` says Acme's balance rose by
exactly the amount and the ledger's drawn balance is that amount to the base unit, its row
names the transaction. Refused with nothing signed (rita's nonce unchanged, no outbound
row, no signed credit row): a draw over the facility's headroom, a draw below the initial
health level, a draw to an address that is not the counterparty's, and a draw whose
counterparty is on the desk's sanctions list (the compliance gate, before signing).
Crash: with anvil's automine off the draw's payment is sent and the process is killed
(SIGKILL) before it is mined; the draw is not posted; a block is mined; `fusion tx check`
posts it once, and `credit ledger` (which settles held draws too) posts nothing again.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, FUSION, Chain, Desk, cast, need_artifacts  # noqa: E402
from credit_lib import check, token, usd_feed, collateral_vault  # noqa: E402


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    weth = token(node, "Wrapped Ether", "WETH", 18)
    usdc = token(node, "USD Coin", "USDC", 6)
    weth_feed = usd_feed(node, "WETH / USD", 3000 * 10**8)
    vault = collateral_vault(node, A[2:5], 2)
    cp, rita_a, other = A[1], A[5], A[6]
    chain.cast_send(A[0], weth, "mint(address,uint256)", cp, str(10 * 10**18))
    chain.cast_send(cp, weth, "approve(address,uint256)", vault, str(10 * 10**18))
    chain.cast_send(cp, vault, "deposit(address,uint256)", weth, str(10 * 10**18))
    chain.cast_send(A[0], usdc, "mint(address,uint256)", rita_a, str(100000 * 10**6))

    def usdc_of(who):
        return int(node.cast("call", usdc, "balanceOf(address)(uint256)", who).split()[0])

    def nonce(who):
        return int(node.cast("nonce", who).split()[0])

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    desk.run("operator", "add", "rita", "--key", rita_a, "--role", "trader,risk")
    desk.signed.add("carl", "compliance")
    # USDC has no price here and the Travel Rule fails closed without one: carl, the
    # compliance officer, turns the rule off (a signed decision)
    conf = os.path.join(desk.home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("travel_rule.enabled = no\n")
    os.chmod(conf, 0o600)
    desk.run("--operator", "carl", "config", "sign", "compliance")
    rita = desk.signed.as_("rita")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "WETH", "--address", weth)
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "WETH", "--address", weth_feed)
    desk.run("risk", "report", "--json", "--paths", "200")
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "25000", "--rate", "5", "--collateral", "WETH",
             "--vault", f"local={vault}")

    def credit_audit():
        with open(os.path.join(desk.home, "audit.log")) as f:
            return [r for r in map(json.loads, f) if r["action"].startswith("credit.")]

    def outbound():
        return desk.query("SELECT count(*) FROM outbound_txs")[0][0]

    def drawn():
        return int(desk.json("credit", "ledger", "acme", "--json")["drawn_units"])

    def draw(*args, check_rc=True):
        return desk.run(*rita, "--yes", "credit", "draw", "acme", *args, check=check_rc)

    # usage: neither --chain nor --by-hand; both
    r = desk.run(*rita, "credit", "draw", "acme", "10", check=False)
    check(r.returncode == 2 and "--by-hand" in r.stderr, f"{r.returncode} {r.stderr}")
    r = draw("10", "--chain", "local", "--by-hand", check_rc=False)
    check(r.returncode == 2, f"{r.returncode} {r.stderr}")

    # ---- a draw paid: cast and the ledger agree to the base unit ----
    before = usdc_of(cp)
    r = desk.run(*rita, "--yes", "--json", "credit", "draw", "acme", "12345.678901", "--chain",
                 "local", "--wait", "60")
    out = json.loads(r.stdout)
    check(out["posted"] is True and out["amount_units"] == "12345678901" and
          out["state"] in ("mined", "confirmed"), f"draw output {out}")
    got = usdc_of(cp) - before
    check(got == 12345678901, f"counterparty received {got}")
    check(drawn() == got, f"ledger drawn {drawn()} vs cast {got}")
    led = desk.json("credit", "ledger", "acme", "--json")
    row = [x for x in led["rows"] if x["kind"] == "draw"]
    txh = re.search(r"paid (0x[0-9a-f]{64}) \(chain 31337\)", row[0]["memo"])
    check(len(row) == 1 and txh and txh.group(1) == out["hash"], f"ledger rows {row}")
    receipt = json.loads(node.cast("receipt", txh.group(1), "--json"))
    check(int(receipt["status"], 16) == 1 and receipt["from"].lower() == rita_a.lower(),
          f"receipt {receipt}")
    typ = json.loads(node.cast("tx", txh.group(1), "--json"))["type"]
    check(typ in ("0x2", 2), f"tx type {typ}")
    dec = [x for x in credit_audit() if x["action"] == "credit.draw"]
    check(len(dec) == 1 and dec[0]["operator"] == "rita" and
          dec[0]["details"]["tx"] == txh.group(1) and
          dec[0]["details"]["amount_units"] == "12345678901", f"credit.draw rows {dec}")
    print("ok: a paid draw: cast +12345678901, ledger drawn 12345678901, row names the tx")

    def refused(args, pattern, what):
        n0, t0, a0, d0 = nonce(rita_a), outbound(), credit_audit(), drawn()
        r = draw(*args, check_rc=False)
        check(r.returncode == 1 and re.search(pattern, r.stderr, re.I),
              f"{what}: exit {r.returncode}: {r.stderr}")
        check(nonce(rita_a) == n0 and outbound() == t0, f"{what}: something was signed")
        check(credit_audit() == a0 and drawn() == d0, f"{what}: something was recorded")
        print(f"ok: {what}: refused, nothing signed ({r.stderr.strip()[:100]})")

    # ---- over the headroom (25000 - 12345.678901) ----
    refused(("12654.321100", "--chain", "local"), r"above its limit of 25000.*headroom",
            "over the headroom")
    # ---- below the initial health level: 24900 / (12345.68 + 8000) < 1.25 ----
    refused(("8000", "--chain", "local"), r"below its initial level 1\.25", "below initial HF")
    # ---- to an address that is not the counterparty's ----
    refused(("10", "--chain", "local", "--to", other), r"not an address of facility acme",
            "to another address")
    # ---- the counterparty on the sanctions list: the compliance gate ----
    sl = os.path.join(desk.home, "desk-sanctions.txt")
    with open(sl, "w") as f:
        f.write(cp.lower() + "   draw test: a blocked counterparty\n")
    os.chmod(sl, 0o600)
    desk.run("--operator", "carl", "config", "sign", "sanctions")  # a signed decision
    refused(("10", "--chain", "local"), r"sanction", "sanctioned counterparty")
    os.remove(sl)
    desk.run("--operator", "carl", "config", "sign", "sanctions")  # its removal, signed

    # ---- SIGKILL between the send and the posting ----
    def killed_draw(amount):
        """Sends a draw's payment with automine off and kills the process before it is
        mined; then mines it. Returns the drawn balance before."""
        node.cast("rpc", "evm_setAutomine", "false")
        d0, n0, t0 = drawn(), nonce(rita_a), outbound()
        p = subprocess.Popen([FUSION, "--home", desk.home, *rita, "--yes", "credit", "draw",
                              "acme", amount, "--chain", "local", "--wait", "120"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sent = False
        for _ in range(600):
            st = desk.query("SELECT state FROM outbound_txs ORDER BY id DESC LIMIT 1")
            if outbound() > t0 and st[0][0] == "sent":
                sent = True
                break
            if p.poll() is not None:
                break
            time.sleep(0.1)
        check(sent, f"the payment was not sent: {p.poll()} "
                    f"{p.stderr.read() if p.poll() is not None else ''}")
        p.send_signal(signal.SIGKILL)
        p.wait()
        held = desk.query("SELECT count(*) FROM credit_draws_pending")[0][0]
        check(held == 1 and drawn() == d0, f"held {held}, drawn {drawn()} (before {d0})")
        node.cast("rpc", "evm_mine")
        node.cast("rpc", "evm_setAutomine", "true")
        check(nonce(rita_a) == n0 + 1, "the payment was not mined")
        return d0

    before = usdc_of(cp)
    d0 = killed_draw("100.000001")
    check(usdc_of(cp) - before == 100000001, f"paid {usdc_of(cp) - before}")
    r = desk.run(*rita, "tx", "check", "--wait", "30")
    check("1 posted" in r.stdout, f"tx check: {r.stdout} {r.stderr}")
    check(drawn() == d0 + 100000001, f"drawn {drawn()} after tx check")
    r = desk.run(*rita, "tx", "check", "--wait", "30")
    check("posted" not in r.stdout and drawn() == d0 + 100000001, "a second settle posted again")
    print("ok: SIGKILL after the send: held, not posted; mined; tx check posts it once")

    # the next credit command (no operator, no key: the posting is not a decision) settles too
    before = usdc_of(cp)
    d0 = killed_draw("7")
    r = desk.run("credit", "health", "acme", "--json")
    check("1 draw(s) posted" in r.stderr, f"credit health: {r.stderr}")
    check(drawn() == d0 + 7000000 and usdc_of(cp) - before == 7000000, f"drawn {drawn()}")
    draws = [x for x in desk.json("credit", "ledger", "acme", "--json")["rows"]
             if x["kind"] == "draw"]
    check(len(draws) == 3, f"draws {draws}")
    check(desk.query("SELECT count(*) FROM credit_draws_pending")[0][0] == 0, "still held")
    check(desk.query("SELECT count(*) FROM credit_ledger WHERE outbound_id IS NOT NULL")[0][0]
          == 3, "rows tied to payments")
    posted = [r for r in map(json.loads, open(os.path.join(desk.home, "audit.log")))
              if r["action"] == "desk.credit_draw_posted"]
    check(len(posted) == 3, f"posted rows {posted}")
    check(drawn() == usdc_of(cp), f"ledger drawn {drawn()} vs cast {usdc_of(cp)}")
    v = desk.run("audit", "verify")
    check("signatures ok" in v.stdout, v.stdout)
    print("ok: SIGKILL again: the next credit command posts it once; cast and ledger agree")

    # a draw's payment cancelled before it is mined (`tx cancel`: same nonce, no payment):
    # the draw is let go, never posted (a speed-up of a payment is refused by the desk today)
    node.cast("rpc", "evm_setAutomine", "false")
    before, d0 = usdc_of(cp), drawn()
    r = draw("3", "--chain", "local", "--wait", "0")
    check("posted once the payment is mined" in r.stdout, r.stdout)
    orig = desk.query("SELECT id FROM outbound_txs ORDER BY id DESC LIMIT 1")[0][0]
    desk.run(*rita, "--yes", "tx", "cancel", orig, "--wait", "0")
    node.cast("rpc", "evm_mine")
    node.cast("rpc", "evm_setAutomine", "true")
    r = desk.run(*rita, "tx", "check", "--wait", "30")
    check("0 posted" in r.stdout and "1 let go" in r.stdout,
          f"tx check after the cancel: {r.stdout} {r.stderr}")
    st = desk.query("SELECT state FROM outbound_txs WHERE id = ?", orig)[0][0]
    check(st == "replaced", f"the payment's state {st}")
    check(usdc_of(cp) == before and drawn() == d0, f"paid {usdc_of(cp) - before}, "
          f"drawn {drawn() - d0}")
    check(desk.query("SELECT count(*) FROM credit_draws_pending")[0][0] == 0, "still held")
    check(drawn() == usdc_of(cp), f"ledger drawn {drawn()} vs cast {usdc_of(cp)}")
    print("ok: a cancelled payment: the draw let go, nothing posted; cast and ledger agree")


if __name__ == "__main__":
    main()
