"""A bridge proposal over the CCIP-style route ("route": "ccip", WETH), made over the API and
accepted on the Approvals screen, on the four-chain devnet (the demo desk; the test mints
alice WETH on devnet-eth and runs the relayer, the stand-in for the CCIP network). alice
sees it on Approvals (screen 3) from "api:oms", accepts it with A: her passphrase once the
policy and the gate passed, then a y/N summary for each transaction the route signs (the
router's allowance when needed, the ccipSend naming the receiver); the result line names
the proposal and its transfer. The transfer is a CCIP one, the relayer delivers it, `cast`
shows alice's WETH fell by exactly the amount on devnet-eth and rose by exactly it on
devnet-avax, and the API says the proposal was accepted by alice."""
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
import bridge_ccip as bccip  # noqa: E402
from bridge_cctp import ALICE, transfers  # noqa: E402
from devnet_lib import cast, fusion  # noqa: E402
from api_lib import Server, request  # noqa: E402
from test_api_bridge_approvals import PASS, alice_ui, confirm_summaries, in_queue  # noqa: E402

WETH = 3 * 10**18


def main():
    tmuxh.skip_unless_ready()
    home, ports = bridge_cctp.demo_home("fusion-ui-apiccip-")
    srv = rel = None
    try:
        failed = bridge_cctp.demo_up(home, ports)
        if failed:
            raise tmuxh.TestFailure("fusion demo: %s" % failed)
        net = bccip.Net(home)
        cast("send", "--rpc-url", net.url["devnet-eth"], "--private-key", bccip.DEPLOYER_KEY,
             net.weth["devnet-eth"], "mint(address,uint256)", ALICE, str(10 * WETH))
        out = fusion(home, "--operator", "admin", "--passphrase-file", bridge_cctp.PASSFILE,
                     "api", "client", "add", "oms", "--scope", "propose", "--json").stdout
        token = json.loads(out)["token"]
        srv = Server(home)
        c = srv.conn()
        prop = {"chain": "devnet-eth", "to": "devnet-avax", "token": "WETH", "route": "ccip",
                "amount": str(WETH), "recipient": ALICE, "operator": "alice",
                "reference": "TREAS-30"}
        st, _, p = request(c, "POST", "/v1/proposals/bridge", token=token, body=prop,
                           headers={"Idempotency-Key": "treas-30"})
        if st != 201 or p.get("kind") != "bridge":
            raise tmuxh.TestFailure("the CCIP bridge proposal was not taken: %s %s" % (st, p))
        rel = bccip.Relayer(net)
        rel.start()
        n_tr0 = len(transfers(home))
        w0, w1 = net.bal("devnet-eth", ALICE), net.bal("devnet-avax", ALICE)

        t = alice_ui("apiccip", home)
        t.send("3")
        row = "proposal %d" % p["id"]
        t.wait_for(lambda s: in_queue(s, row), "the CCIP bridge proposal on Approvals")
        t.send("A")
        t.wait_for(lambda s: "bridge proposal %d: policy and gate passed" % p["id"] in s
                   and "Passphrase of alice's signing key" in s,
                   "the passphrase, once the policy and the gate passed")
        t.type(PASS)
        t.send("Enter")
        done = re.compile(r"accept proposal %d: bridge (\d+)" % p["id"])
        sends = 0

        def send(text):
            nonlocal sends
            if "ccipSend" in text:
                t.check(ALICE.lower()[2:] in text.lower(),
                        "the ccipSend summary does not show the receiver:\n%s" % text)
                sends += 1
        text, summaries = confirm_summaries(t, p["id"], done, send)
        m = done.search(text)
        t.check(m is not None, "the acceptance failed:\n%s" % text)
        t.check(sends == 1, "the ccipSend was not confirmed once (%d)" % sends)
        bid = int(m.group(1))
        tr = transfers(home)
        t.check(len(tr) == n_tr0 + 1 and bid in tr, "not one new transfer: %s" % sorted(tr))
        t.check(tr[bid]["protocol"] == "ccip", "not a CCIP transfer: %s" % tr[bid])
        deadline = time.monotonic() + 120
        while transfers(home)[bid]["state"] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.5)
        t.check(transfers(home)[bid]["state"] == "delivered",
                "the relayer did not deliver it: %s" % transfers(home)[bid])
        t.check(net.bal("devnet-eth", ALICE) == w0 - WETH and
                net.bal("devnet-avax", ALICE) == w1 + WETH,
                "alice's WETH did not move by exactly the amount (eth %d -> %d, avax %d -> %d)"
                % (w0, net.bal("devnet-eth", ALICE), w1, net.bal("devnet-avax", ALICE)))
        c = srv.conn()  # the server closes an idle connection
        st, _, p2 = request(c, "GET", "/v1/proposals/%d" % p["id"], token=token)
        t.check(st == 200 and p2["state"] == "accepted" and p2["decided_by"] == "alice",
                "the API does not say accepted by alice: %s" % p2)
        t.wait_for(lambda s: not in_queue(s, row), "the proposal leaves the queue")
        c.close()
        t.send("q")
        t.check(t.wait_dead() == 0, "fusion did not exit cleanly")
        print("ok: CCIP bridge proposal %d accepted on Approvals: bridge %d delivered, %d "
              "summaries" % (p["id"], bid, summaries))
    finally:
        if rel:
            rel.proc.kill()
            rel.proc.wait()
        if srv:
            srv.stop()
        fusion(home, "devnet", "down", rc=None)


if __name__ == "__main__":
    tmuxh.run(main)
