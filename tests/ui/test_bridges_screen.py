"""The Bridges screen (B) and the Dashboard's value in flight on the four-chain devnet: the
demo desk's alice bridges 250,000 USDC from devnet-eth to devnet-avax with `fusion bridge
send --no-wait` while the attestation service (tools/cctp_attester.py) is down, so the
transfer stays `sent`: burned, not minted. The Dashboard must show it once, as USDC in
flight on devnet-avax with the amount of `fusion risk report --json`, and name the figure;
screen B must show the transfer as `fusion bridge list --json` says (route, asset, exact
amount, state), and Enter its legs (the burn tx and message hash of the JSON, the
attestation pending, no mint). Then the service comes up and `fusion bridge resume`
(another process) delivers it: the screen follows (delivered, the JSON's mint tx, the
attestation complete) and the Dashboard no longer shows anything in flight: the amount is
in devnet-avax's USDC row (before: that row without it, and the amount in flight)."""
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tmuxh  # noqa: E402
import bridge_cctp  # noqa: E402
from bridge_cctp import ALICE, Attester, Desk, br, transfers  # noqa: E402
from devnet_lib import fusion  # noqa: E402

ROWS = 44


def group(plain, max_frac=4):
    whole, _, frac = plain.partition(".")
    out = "{:,}".format(int(whole))
    if len(frac) > max_frac:
        return out + "." + frac[:max_frac] + "\u2026"
    return out + ("." + frac if frac else "")


def plain(units, decimals):
    units = int(units)
    f = str(units % 10**decimals).rjust(decimals, "0").rstrip("0")
    return str(units // 10**decimals) + ("." + f if f else "")


def in_flight(home):
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    return [p for p in rep["positions"] if p["kind"] == "bridge_in_flight"]


def wallet_usdc(home, chain):
    """The desk's USDC on chain (every account's wallet) in base units, as the risk report
    reads it."""
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    return sum(int(p["amount"]) for p in rep["positions"]
               if p["kind"] == "wallet" and p["chain"] == chain and p["asset"] == "USDC")


def wallet_row(text, chain, units):
    """The Dashboard's USDC wallet row on chain shows units (6 decimals)."""
    amt = group(plain(units, 6))
    return any(re.match(r"^ USDC\s+%s\s+%s\s" % (chain, re.escape(amt)), ln)
               for ln in text.split("\n"))


def dashboard_in_flight(pos, avax_units):
    amt = group(plain(pos["amount"], pos["decimals"]))

    def pred(text):
        lines = text.split("\n")
        if len(lines) < ROWS or not lines[2].startswith(" Dashboard"):
            return False
        rows = [ln for ln in lines if re.search(r"\bUSDC \(in flight\)", ln)]
        return (len(rows) == 1 and re.search(r"\b%s\b" % pos["chain"], rows[0]) is not None
                and wallet_row(text, "devnet-avax", avax_units)
                and (" %s " % amt) in rows[0] and re.search(r"In flight [0-9,]+ USD", text)
                is not None)
    return pred


def dashboard_settled(avax_units):
    def pred(text):
        lines = text.split("\n")
        return (len(lines) >= ROWS and lines[2].startswith(" Dashboard") and "VaR" in text
                and "(in flight)" not in text and "In flight" not in text
                and wallet_row(text, "devnet-avax", avax_units))
    return pred


def bridges_row(tr, state):
    amt = group(plain(tr["amount"], 6))

    def pred(text):
        lines = text.split("\n")
        if len(lines) < ROWS or not lines[2].startswith(" Bridges"):
            return False
        row = [ln for ln in lines[4:14] if re.match(r"^\s+%d\s" % tr["id"], ln)]
        return (len(row) == 1 and re.search(r"%s \u2192 %s" % (tr["src_chain"], tr["dst_chain"]),
                                            row[0]) is not None
                and " USDC " in row[0] and (" %s " % amt) in row[0]
                and re.search(r"\b%s\b" % ALICE, row[0]) is not None  # by name and address
                and re.search(r"\b%s\b" % state, row[0]) is not None
                and lines[ROWS - 2].startswith(" B Bridges"))
    return pred


def detail(tr, parts):
    base = bridges_row(tr, tr["state"])

    def pred(text):
        return base(text) and "Transfer (Esc closes)" in text and all(p in text for p in parts)
    return pred


def main():
    tmuxh.skip_unless_ready()
    home, ports = bridge_cctp.demo_home("fusion-ui-bridges-")
    att = None
    try:
        failed = bridge_cctp.demo_up(home, ports)
        if failed:
            raise tmuxh.TestFailure("fusion demo: %s" % failed)
        desk = Desk(home)
        att = Attester(desk)
        fusion(home, "--operator", "admin", "--passphrase-file", bridge_cctp.PASSFILE, "bridge",
               "config", "--attestation-url", att.url)
        # the attestation service is down: the transfer stays sent (burned, not minted)
        fusion(home, *br("send", "--no-wait", "--from", "devnet-eth", "--to", "devnet-avax",
                         "--amount", "250000", "--recipient", ALICE), rc=None)
        tid = max(transfers(home))
        tr = transfers(home)[tid]
        # --no-wait may return before the burn is mined: resume (still without the
        # service) reads the burn's message once it is
        for _ in range(120):
            if tr["message_hash"]:
                break
            time.sleep(0.5)
            fusion(home, *br("resume", "--no-wait", str(tid)), rc=None)
            tr = transfers(home)[tid]
        if tr["state"] != "sent" or not tr["burn_tx"] or not tr["message_hash"]:
            raise tmuxh.TestFailure("setup: the transfer is not sent and burned: %s" % tr)
        # balances are read at each chain's synced block: synced past the burn, the value is
        # in flight (before, it is still in the source wallet: counted once either way)
        fusion(home, "sync", "--once", timeout=300)
        fl = in_flight(home)
        avax0 = wallet_usdc(home, "devnet-avax")
        if len(fl) != 1 or fl[0]["chain"] != "devnet-avax":
            raise tmuxh.TestFailure("setup: the risk report's value in flight: %s" % fl)

        t = tmuxh.Tmux("bridges", cols=150, rows=ROWS)
        t.home = home
        t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home),
                {"FUSION_KDF": "interactive"})
        t.wait_for("operator alice", "the title")
        t.wait_for(dashboard_in_flight(fl[0], avax0), "the Dashboard: USDC in flight on devnet-avax",
                   tries=4 * tmuxh.TRIES)  # the risk worker refreshes every 30 s

        t.send("B")
        t.wait_for(bridges_row(tr, "sent"), "the transfer, sent, on screen B")
        t.send("Enter")
        t.wait_for(detail(tr, ["Burn tx %s in block %d" % (tr["burn_tx"], tr["burn_block"]),
                               "Message hash %s" % tr["message_hash"], "Pending:",
                               "Mint tx: none mined yet"]),
                   "the transfer's legs: burned, attestation pending, no mint")

        att.start()
        fusion(home, *br("resume", str(tid)))
        tr = transfers(home)[tid]
        if tr["state"] != "delivered" or not tr["mint_tx"]:
            raise tmuxh.TestFailure("setup: resume did not deliver: %s" % tr)
        t.wait_for(detail(tr, ["Mint tx %s in block %d" % (tr["mint_tx"], tr["mint_block"]),
                               "Complete: 1 signature", "delivered"]),
                   "delivered, with its mint, without a key")
        t.send("Escape")
        t.wait_gone("Transfer (Esc closes)")
        # the UI's own sync reaches the mint's block: then nothing is in flight
        for _ in range(120):
            if not in_flight(home):
                break
            time.sleep(0.5)
        else:
            raise tmuxh.TestFailure("the risk report still has value in flight")
        t.send("1")
        # the value is on the destination now: devnet-avax's USDC grew by the amount
        t.wait_for(dashboard_settled(avax0 + int(tr["amount"])),
                   "the Dashboard: nothing in flight, the amount on devnet-avax",
                   tries=4 * tmuxh.TRIES)
        t.send("q")
        t.check(t.wait_dead() == 0, "fusion did not exit cleanly")
    finally:
        if att:
            att.stop()
        fusion(home, "devnet", "down", rc=None)


if __name__ == "__main__":
    tmuxh.run(main)
