"""A bridge transfer proposed over the API and accepted on the Approvals screen, on the
four-chain devnet (the demo desk: alice is a trader with test USDC on every chain; `devnet
up` started the CCTP attestation service). A client of scope propose posts 250,000 USDC
devnet-eth -> devnet-avax to alice (Python's http.client over the desk's unix socket); alice
sees it on Approvals (screen 3) as "accept", from "api:oms", and accepts it there with A:
her passphrase once the policy and the gate passed, then a pre-sign summary with y/N for
each transaction the bridge signs (the approval of the messenger when needed, the burn on
devnet-eth, the mint on devnet-avax), each summary naming the recipient. The result line
names the proposal and its transfer, delivered; `cast` shows alice's USDC fell by exactly
the amount on devnet-eth and rose by exactly it on devnet-avax; the API says the proposal
was accepted by alice; it leaves the queue. Then a second proposal, declined at its first
summary (n): nothing signed (balances and outbound rows unchanged), and it stays pending
in the queue."""
import json
import os
import re
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tmuxh  # noqa: E402
import bridge_cctp  # noqa: E402
from bridge_cctp import ALICE, AMOUNT, Desk, n_outbound, transfers  # noqa: E402
from devnet_lib import fusion  # noqa: E402
from api_lib import Server, request  # noqa: E402

ROWS = 44
PASS = "fusion-demo"  # the passphrase the demo seed gives its dev keys


def tx_line(frame):
    return [ln for ln in frame.splitlines() if "tx hash" in ln]


def in_queue(frame, row):
    return any(row in line and "api:oms" in line for line in frame.splitlines())


def alice_ui(name, home):
    """The terminal UI of the demo desk as alice, in tmux, once its title is up."""
    t = tmuxh.Tmux(name, cols=150, rows=ROWS)
    t.home = home
    t.start("%s --home %s --operator alice" % (tmuxh.FUSION_BIN, home),
            {"FUSION_KDF": "interactive"})
    t.wait_for("operator alice", "the title")
    return t


def confirm_summaries(t, pid, done, each, most=3):
    """Answers y to each pre-sign summary of bridge proposal pid (its title checked, then
    each(text)) until the result line (the regex done) or the failure line; returns the last
    frame and how many summaries were confirmed."""
    summaries = 0
    while True:
        text = t.wait_for(lambda s: done.search(s) is not None or "Sign and send" in s
                          or "accept proposal %d failed" % pid in s,
                          "a pre-sign summary or the result", tries=4 * tmuxh.TRIES)
        if done.search(text) or "accept proposal %d failed" % pid in text:
            return text, summaries
        t.check("Sign for bridge proposal %d?" % pid in text,
                "the summary's title does not name the proposal:\n%s" % text)
        each(text)
        summaries += 1
        t.check(summaries <= most, "more than %d summaries for one transfer" % most)
        tx = tx_line(text)
        t.send("y")
        # closed, or the next transaction's summary (another tx hash)
        t.wait_for(lambda s: "Sign and send" not in s or tx_line(s) != tx, "the summary closes")


def main():
    tmuxh.skip_unless_ready()
    home, ports = bridge_cctp.demo_home("fusion-ui-apibridge-")
    srv = None
    try:
        failed = bridge_cctp.demo_up(home, ports)
        if failed:
            raise tmuxh.TestFailure("fusion demo: %s" % failed)
        desk = Desk(home)
        out = fusion(home, "--operator", "admin", "--passphrase-file", bridge_cctp.PASSFILE,
                     "api", "client", "add", "oms", "--scope", "propose", "--json").stdout
        token = json.loads(out)["token"]
        srv = Server(home)
        c = srv.conn()
        prop = {"chain": "devnet-eth", "to": "devnet-avax", "token": "USDC",
                "amount": str(AMOUNT), "recipient": ALICE, "operator": "alice",
                "reference": "TREAS-11"}
        st, _, p = request(c, "POST", "/v1/proposals/bridge", token=token, body=prop,
                           headers={"Idempotency-Key": "treas-11"})
        if st != 201 or p.get("kind") != "bridge":
            raise tmuxh.TestFailure("the bridge proposal was not taken: %s %s" % (st, p))
        n_tr0 = len(transfers(home))
        eth0, avax0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
        out0 = n_outbound(home)

        t = alice_ui("apibridge", home)
        t.send("3")
        row = "proposal %d" % p["id"]
        t.wait_for(lambda s: in_queue(s, row) and re.search(r"250,000 USDC .*api:oms +- *$", s, re.M),
                   "the bridge proposal on Approvals, its amount grouped and no deadline")
        t.send("A")
        t.wait_for(lambda s: "bridge proposal %d: policy and gate passed" % p["id"] in s
                   and "Passphrase of alice's signing key" in s,
                   "the passphrase, once the policy and the gate passed")
        if n_outbound(home) != out0:
            raise tmuxh.TestFailure("something was signed before the passphrase")
        t.type(PASS)
        t.send("Enter")
        done = re.compile(r"accept proposal %d: bridge (\d+): delivered \(mint tx (0x[0-9a-f]{16})"
                          % p["id"])
        burns = 0

        def burn(text):
            # the burn names the recipient in full (the mint too, as the message's)
            nonlocal burns
            if "depositForBurn" in text:
                t.check("mintRecipient 0x000000000000000000000000" + ALICE.lower()[2:] in text,
                        "the burn's summary does not show the recipient:\n%s" % text)
                burns += 1
        text, summaries = confirm_summaries(t, p["id"], done, burn)
        m = done.search(text)
        t.check(m is not None, "the acceptance failed:\n%s" % text)
        t.check(summaries >= 2 and burns == 1,
                "the burn and the mint were not each confirmed (%d, %d burns)" % (summaries, burns))
        bid = int(m.group(1))
        tr = transfers(home)
        t.check(len(tr) == n_tr0 + 1 and bid in tr, "not one new transfer: %s" % sorted(tr))
        t.check(tr[bid]["state"] == "delivered" and tr[bid]["mint_tx"].startswith(m.group(2)),
                "the transfer is not delivered with the line's mint tx: %s" % tr[bid])
        t.check(desk.bal("devnet-eth") == eth0 - AMOUNT,
                "alice's USDC on devnet-eth did not fall by exactly the amount (%d -> %d)"
                % (eth0, desk.bal("devnet-eth")))
        t.check(desk.bal("devnet-avax") == avax0 + AMOUNT,
                "alice's USDC on devnet-avax did not rise by exactly the amount (%d -> %d)"
                % (avax0, desk.bal("devnet-avax")))
        c = srv.conn()  # the server closes an idle connection
        st, _, p2 = request(c, "GET", "/v1/proposals/%d" % p["id"], token=token)
        t.check(st == 200 and p2["state"] == "accepted" and p2["decided_by"] == "alice",
                "the API does not say accepted by alice: %s" % p2)
        t.wait_for(lambda s: not in_queue(s, row), "the proposal leaves the queue")

        # a second proposal, declined at its first summary: nothing signed, still pending
        st, _, q = request(c, "POST", "/v1/proposals/bridge", token=token,
                           body=dict(prop, reference="TREAS-12"),
                           headers={"Idempotency-Key": "treas-12"})
        t.check(st == 201, "the second proposal was not taken: %s %s" % (st, q))
        eth1, out1 = desk.bal("devnet-eth"), n_outbound(home)
        row = "proposal %d" % q["id"]
        t.send("3")
        t.wait_for(lambda s: in_queue(s, row), "the second proposal on Approvals")
        t.send("A")
        text = t.wait_for(lambda s: "Passphrase of" in s or "Sign and send" in s,
                          "the passphrase prompt or the summary")
        if "Sign and send" not in text:
            t.type(PASS)
            t.send("Enter")
            t.wait_for(lambda s: "Sign and send" in s, "the first summary of the second proposal")
        t.send("n")
        t.wait_for(lambda s: "accept proposal %d failed" % q["id"] in s and "Sign and send" not in s,
                   "the declined acceptance on the message line")
        t.check(desk.bal("devnet-eth") == eth1, "declined: USDC moved on devnet-eth")
        t.check(n_outbound(home) == out1, "declined: an outbound row was recorded")
        c = srv.conn()
        st, _, q2 = request(c, "GET", "/v1/proposals/%d" % q["id"], token=token)
        t.check(st == 200 and q2["state"] == "pending", "declined: not pending any more: %s" % q2)
        t.send("3")
        t.wait_for(lambda s: in_queue(s, row), "declined: the proposal is still in the queue")
        c.close()
        t.send("q")
        t.check(t.wait_dead() == 0, "fusion did not exit cleanly")
        print("ok: bridge proposal %d accepted on Approvals: bridge %d delivered, %d summaries; "
              "proposal %d declined, pending" % (p["id"], bid, summaries, q["id"]))
    finally:
        if srv:
            srv.stop()
        fusion(home, "devnet", "down", rc=None)


if __name__ == "__main__":
    tmuxh.run(main)
