"""The Dashboard a trader can use, on a real anvil node: the portfolio (an ETH wallet and
thirteen tokens, more rows than fit at 120x35) takes the focus with `w` and scrolls to
its last row; balances have thousands separators and at most four decimals, the detail
(Enter) has the exact amount and Esc closes it; the ETH row has a 7-day price sparkline,
the risk strip a VaR history sparkline, and the figures say as of when. A second UI
process on the same desk refreshes its Dashboard on the first one's sync commit (with
the periodic refresh set to an hour, so only the commit can explain it). Then terminal
sizes: at 80x24 every tab, the operator's name and Avail stay visible; at 40x12 the
too-small line fits; TERM=dumb is refused with one line and status 1."""
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from anvil_ui import ENV, PASS, artifact, cast, devchain, fusion, on_anvil  # noqa: E402
import tmuxh  # noqa: E402
import signed_desk  # noqa: E402

SPARK = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
N_TOKENS = 13
HOUR = {"FUSION_RISK_REFRESH": "3600"}  # no periodic refresh within the test


def port_row(text, asset):
    return [ln for ln in text.split("\n") if re.match(r"^\s+%s\s+local\s" % asset, ln)]


def eth_row(text):
    rows = [ln for ln in text.split("\n") if re.match(r"^\s+ETH\s+local\s", ln)]
    return rows[0] if rows else ""


def run(chain):
    node = chain.node
    A = devchain.ACCOUNTS
    t = tmuxh.Tmux("dash", cols=120, rows=35)
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write(PASS + "\n")
    os.chmod(pw, 0o600)
    # a bad explorer template is a usage error: one line, status 2, nothing stored
    import subprocess
    for bad in ("ftp://x/{address}", "https://x/address/", "https://x/{address}/{address}",
                "https://x y/{address}"):
        r = subprocess.run([tmuxh.FUSION_BIN, "--home", home, "--operator", "admin", "chain",
                            "add", "--name", "local", "--chain-id", "31337", "--rpc", node.url,
                            "--factory", chain.factory, "--explorer", bad],
                           capture_output=True, text=True)
        t.check(r.returncode == 2 and len(r.stderr.strip().split("\n")) == 1
                and "--explorer" in r.stderr, "--explorer %r refused: %r" % (bad, r.stderr))
    fusion(home, "chain", "add", "--name", "local", "--chain-id", "31337", "--rpc", node.url,
           "--factory", chain.factory, "--confirmations", "0", "--explorer",
           "https://explorer.example/address/{address}?tab=events")
    import json
    bytecode = artifact("TestToken")["bytecode"]
    toks = []
    for i in range(1, N_TOKENS + 1):
        sym = "TK%02d" % i
        tok = node.deploy(bytecode + cast("abi-encode", "constructor(string,string,uint8)",
                                          "Token %d" % i, sym, 18)[2:])
        fusion(home, "asset", "add-token", "--chain", "local", "--symbol", sym, "--address", tok)
        toks.append(tok)
    # the admin who signed the desk's genesis keeps that key elsewhere
    admin_key = signed_desk.for_home(tmuxh.FUSION_BIN, home).keys["admin"]
    fusion(home, "key", "rm", admin_key, "--yes")
    key = json.loads(fusion(home, "--passphrase-file", pw, "key", "new", "--label", "trader",
                            "--kdf", "interactive", "--json"))["address"]
    for i, tok in enumerate(toks, 1):
        chain.cast_send(A[0], tok, "mint(address,uint256)", key, str(i * 10**18))
    wei = 2500 * 10**18 + 123456789 * 10**9  # 2,500.123456789 ETH
    node.rpc("anvil_setBalance", key, hex(wei))
    node.rpc("anvil_mine", "0x1")

    escrow = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=2, amount=7)
    escrow2 = chain.create_escrow(payer=0, payee=4, approvers=(2,), threshold=1, amount=9)
    with open(t.conf, "a") as f:
        f.write("set -s set-clipboard on\n")  # tmux keeps what OSC 52 sets as a buffer
    t.start_fusion(env=dict(ENV, **HOUR))
    text = t.wait_for(lambda s: "Gross " in s and "as of " in s and "TK01" in s
                      and eth_row(s) and "q quit" in s, "the Dashboard's figures")
    row = eth_row(text)
    t.check(" 2,500.1234\u2026 " in row, "ETH balance grouped, 4 decimals, cut: %r" % row)
    t.check(any(g in row for g in SPARK), "the 7d sparkline of ETH: %r" % row)
    t.check(re.search(r"Gross [\d,]*,\d{3} USD", text), "Gross with thousands separators")
    var = [ln for ln in text.split("\n") if ln.strip().startswith("VaR ")]
    t.check(var and any(g in var[0] for g in SPARK) and "as of " in var[0],
            "the VaR history sparkline with its time: %r" % var)
    tmuxh.save_capture(t, "dashboard-120x35")

    # The portfolio has more rows than fit: the last token is below the fold until the
    # portfolio has the focus and scrolls.
    last = "TK%02d" % N_TOKENS
    t.check(not port_row(text, last), "setup: the last token row is hidden at 120x35")
    t.send("w")
    t.wait_for("Dashboard: portfolio", "the focus on the portfolio")
    t.send("G")
    text = t.wait_for(lambda s: port_row(s, last) and "portfolio %d/%d"
                      % (N_TOKENS + 1, N_TOKENS + 1) in s, "the portfolio scrolled to its last row")
    t.send("g")
    t.wait_for(lambda s: eth_row(s) and "portfolio 1/" in s, "back at the top")
    t.send("Enter")
    text = t.wait_for(lambda s: "Position (Esc closes)" in s and "exactly" in s,
                      "the position's exact detail")
    t.check("2,500.123456789 ETH exactly (%d base units, 18 decimals)" % wei in text,
            "the exact balance in the detail")
    tmuxh.save_capture(t, "dashboard-detail")
    t.send("Escape")
    t.wait_for(lambda s: "Position (Esc closes)" not in s and "VaR " in s, "Esc closed it")
    t.send("Enter")
    t.wait_for("Position (Esc closes)", "the detail again")
    t.send("q")  # q closes the pane first, it does not quit
    t.wait_for(lambda s: "Position (Esc closes)" not in s and "VaR " in s, "q closed the pane")

    # y copies the full address of the escrow under the cursor with OSC 52.
    t.send("2")
    t.wait_for(lambda s: "2 escrows" in s and "q quit" in s, "the escrows on screen 2")
    # s sorts by the escrow column: its header says ascending; S reverses it
    lo, hi = sorted([escrow.lower(), escrow2.lower()])

    def order(text):
        rows = [ln for ln in text.split("\n") if re.match(r"^\s*0x[0-9A-Fa-f]{4}", ln)]
        return [r.split()[0][:6].lower() for r in rows]
    t.send("s")
    text = t.wait_for(lambda s: "Escrow \u25b2" in s and "by escrow" in s
                      and order(s) == [lo[:6], hi[:6]], "ascending by escrow, marked \u25b2")
    t.send("S")
    text = t.wait_for(lambda s: "Escrow \u25bc" in s and "descending" in s
                      and order(s) == [hi[:6], lo[:6]], "S reversed it, marked \u25bc")
    tmuxh.save_capture(t, "escrows-sorted")
    # H: full addresses on demand, H again: short
    full_hi = [e for e in (escrow, escrow2) if e.lower() == hi][0]
    t.send("H")
    t.wait_for(lambda s: "full addresses" in s and re.search(r"(?i)^\s*%s\s" % hi, s, re.M),
               "the escrow's full address in its row")
    t.send("H")
    t.wait_for(lambda s: "short addresses" in s and not re.search(r"(?i)%s" % hi, s),
               "short again")
    # the chain's explorer link in the escrow's detail, filled with its address
    t.send("Enter")
    text = t.wait_for(lambda s: "Explorer  https://explorer.example/address/" in s,
                      "the explorer link in the detail")
    link = [ln for ln in text.split("\n") if "Explorer  " in ln][0].split()[1]
    t.check(link.lower() == "https://explorer.example/address/%s?tab=events" % hi,
            "the link names the selected escrow: %r" % link)
    t.send("Escape")
    t.wait_gone("Explorer  ", "Esc closed the detail")
    t.send("g")
    t.send("y")
    text = t.wait_for("to the clipboard (OSC 52)", "the copy confirmed")
    buf = t.tmux("show-buffer")
    t.check(buf.lower() == hi and buf != hi,
            "the checksummed address under the cursor reached the clipboard: %r" % buf)
    t.send("1")

    # A second UI process on the same desk: it follows the first one's sync.
    t2 = tmuxh.Tmux("dash2", cols=120, rows=35)
    t2.home = home
    t2.start_fusion(env=dict(ENV, **HOUR))
    t2.wait_for(lambda s: " 2,500.1234" in eth_row(s) and "q quit" in s,
                "the second process's Dashboard")
    node.rpc("anvil_setBalance", key, hex(3000 * 10**18))
    node.rpc("anvil_mine", "0x1")
    t.wait_for(lambda s: " 3,000 " in eth_row(s), "the syncing process after the commit")
    t2.wait_for(lambda s: " 3,000 " in eth_row(s),
                "the second process refreshed on the first one's commit")
    t2.send("q")
    t2.check(t2.wait_dead() == 0, "the second process exits with 0")

    # 80x24: every tab, the operator's name and Avail visible.
    t.resize(80, 24)
    text = t.wait_for(lambda s: "q quit" in s and "Avail" in s and "9 Swap" in s.split("\n")[1],
                      "the 80x24 frame")
    lines = text.split("\n")
    t.check("operator tester" in lines[0] and "UTC" in lines[0],
            "the operator's name in the title at 80 columns: %r" % lines[0])
    t.check(all("%d " % n in lines[1] for n in range(1, 10)), "all nine tabs: %r" % lines[1])
    strip = [ln for ln in lines if "Avail" in ln][0]
    t.check(re.search(r"Avail [\d,]+ ", strip), "Avail with its figure: %r" % strip)
    tmuxh.save_capture(t, "dashboard-80x24")
    t.resize(40, 12)
    text = t.wait_for(lambda s: "need 80x24" in s, "the too-small line at 40x12")
    t.check(text.split("\n")[0].rstrip() == "too small: need 80x24, have 40x12",
            "the too-small line fits 40 columns: %r" % text.split("\n")[0])
    tmuxh.save_capture(t, "too-small-40x12")
    t.resize(20, 5)
    text = t.wait_for(lambda s: s.split("\n")[0].rstrip() == "need 80x24", "at 20x5")
    t.resize(120, 35)
    t.wait_for("q quit", "the frame again")
    t.send("q")
    t.check(t.wait_dead() == 0, "the first process exits with 0")

    # TERM=dumb: one line, status 1.
    t3 = tmuxh.Tmux("dumb", cols=80, rows=24)
    t3.home = home
    t3.start_fusion(prefix="env TERM=dumb ")
    t3.check(t3.wait_dead() == 1, "TERM=dumb exits with 1")
    out = [ln for ln in t3.history().split("\n") if ln.strip() and "Pane is dead" not in ln]
    t3.check(len(out) == 1 and "TERM=dumb" in out[0] and "cannot move the cursor" in out[0],
             "one line saying why: %r" % out)
    print("ok: Dashboard on anvil %s" % node.url)


def main():
    on_anvil(run)


if __name__ == "__main__":
    tmuxh.run(main)
