"""Keys screen balances on a real anvil node: a desk key holding 2.5 ETH and 1 wei and
1,234.567891 USDC (a TestToken with 6 decimals, configured with `fusion asset add-token`).
The Keys screen's table shows them grouped by thousands at the display precision (4
decimals, cut, never rounded, an ellipsis where digits were cut: "2.5…", "1,234.5678…");
Enter shows the exact units read by the worker (checked against `cast balance` / `cast call
balanceOf`). An escrow of 1234.56789 ETH shows the same way on the Escrows screen, exact in
its detail pane; u unlocks the key on the unlock worker (the
screen stays live) ; when the node is stopped the next read marks the chain "!
unreachable" instead of freezing or showing stale numbers."""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tmuxh  # noqa: E402
from anvil_ui import ENV, PASS, artifact, cast, devchain, fusion, on_anvil  # noqa: E402
import signed_desk  # noqa: E402  (on the path once anvil_ui is loaded)


def main():
    on_anvil(run)


def run(chain):
    node = chain.node
    A = devchain.ACCOUNTS
    usdc = node.deploy(artifact("TestToken")["bytecode"] + cast(
        "abi-encode", "constructor(string,string,uint8)", "USD Coin", "USDC", 6)[2:])
    t = tmuxh.Tmux("keys", cols=140, rows=30)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)  # secrets must be the operator's alone
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc", node.url,
           "--factory", chain.factory, "--confirmations", "0")
    fusion(home, "asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    # the admin who signed the desk's genesis keeps that key elsewhere: the key store holds
    # the treasury's key alone, as before
    admin_key = signed_desk.for_home(tmuxh.FUSION_BIN, home).keys["admin"]
    fusion(home, "key", "rm", admin_key, "--yes")
    key = json.loads(fusion(home, "--passphrase-file", pw, "key", "new", "--label", "treasury",
                            "--kdf", "interactive", "--json"))["address"]
    node.rpc("anvil_setBalance", key, hex(25 * 10**17 + 1))
    chain.cast_send(A[0], usdc, "mint(address,uint256)", key, str(1_234_567_891))
    # Independent readings of what the screen must show.
    wei = int(node.cast("balance", key))
    units = int(node.cast("call", usdc, "balanceOf(address)(uint256)", key).split()[0])
    t.check(wei == 25 * 10**17 + 1 and units == 1_234_567_891, "setup: %d wei, %d units" % (wei, units))

    t.start("%s --home %s --operator nobody" % (tmuxh.FUSION_BIN, home), ENV)
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.send("6")
    ell = "\u2026"
    text = t.wait_for(lambda s: "local 2.5%s ETH, 1,234.5678%s USDC" % (ell, ell) in s,
                      "the balances of the key at display precision")
    row = [l for l in text.split("\n") if "treasury" in l][0]
    t.check(key.lower()[2:10] in row.lower(), "the row names the key: %r" % row)
    tmuxh.save_capture(t, "keys-balances")
    # the exact units, grouped, in the key's detail on the message line
    t.send("Enter")
    t.wait_for(lambda s: "local 2.500000000000000001 ETH, 1,234.567891 USDC" in s,
               "the exact balances in the key's detail")

    # an escrow's amount: grouped at display precision in the table, exact in the detail
    escrow = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=2,
                                 amount=1_234_567_890_000_000_000_000)
    t.send("2")
    t.wait_for(lambda s: "1 escrows" in s and " 1,234.5678%s " % ell in s,
               "the escrow's amount grouped at display precision")
    t.send("Enter")
    t.wait_for(lambda s: "Amount    1234.56789 ETH" in s and escrow[-4:].lower() in s.lower(),
               "the escrow's exact amount in its detail pane")
    t.send("Escape")
    t.wait_for(lambda s: "Amount    " not in s and "1 escrows" in s, "the detail pane closed")
    t.send("6")
    t.wait_for("local 2.5%s ETH" % ell, "back on Keys")
    # a screen that cannot filter says so instead of taking a filter it ignores
    for key, shown in (("7", "Chains"), ("6", "Keys")):
        t.send(key)
        t.wait_for(lambda s: s.split("\n")[2].startswith(" " + shown), "the %s screen" % shown)
        t.send("/")
        t.wait_for("this screen has nothing to filter", "the refusal of / on %s" % shown)

    t.send("u")
    t.wait_for("(typing is not shown)", "the passphrase prompt")
    t.type(PASS)
    t.send("Enter")
    t.wait_for(lambda s: "unlocked;" in s and "1 unlocked" in s, "the key unlocked")

    node.stop()  # the node goes away: the next read (within 15 s) says so
    t.wait_for(lambda s: "local ! unreachable" in s, "the unreachable mark", tries=1200)
    tmuxh.save_capture(t, "keys-unreachable")
    t.send("Enter")
    t.wait_for("treasury on local:", "the reason on the message line")
    t.send("q")
    t.check(t.wait_dead() == 0, "the UI exits with status 0")
    print("ok: key balances read on the worker, exact units, node-down mark")


if __name__ == "__main__":
    tmuxh.run(main)
