#!/usr/bin/python3
"""api_bridge.py: a bridge transfer proposed over the API and accepted on the desk.

On the four-chain devnet (the demo desk: alice is a trader with test USDC on every chain;
`devnet up` started the CCTP attestation service), with `fusion serve` and a client of
scope propose (Python's http.client over the unix socket):

  refused      a bridge to the sanctioned address of data/demo: 422 at proposal time, no
               proposal stored; an asset the route does not move, or a destination that is
               no chain of the desk: 422 naming the route; an unknown field: 422
  proposed     devnet-eth -> devnet-avax, 250,000 USDC to alice as operator alice: 201,
               pending, kind bridge; the same Idempotency-Key again answers the same proposal
  accepted     `fusion proposal accept N` as alice sends it through the bridge's desk path:
               the proposal is accepted, a transfer exists, and alice's USDC on devnet-eth
               (cast) fell by exactly the amount; a second accept is refused
  ccip         "route": "ccip" with WETH: an unknown route and WETH over CCTP are 422; the
               proposal accepted on the CLI goes over the CCIP-style router, the relayer
               delivers it, alice's WETH moved by exactly the amount on both chains (cast);
               a second accept is refused
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridge_cctp as bc  # noqa: E402
import bridge_ccip as bccip  # noqa: E402
from devnet_lib import ENV, N_CHAINS, cast, check, free_ports, fusion, report  # noqa: E402
from api_lib import Server, request  # noqa: E402

AMOUNT = bc.AMOUNT
WETH = 3 * 10**18


def proposals(home):
    return bc.rows(home, "SELECT id, kind, state FROM api_proposals ORDER BY id")


def main():
    with open(os.path.join(bc.ROOT, "data", "demo", "counterparties.csv")) as f:
        sanctioned = [ln.split(",")[1] for ln in f if ",sanctioned," in ln][0]
    home = tempfile.mkdtemp(prefix="fusion-api-bridge-")
    bc.PASSFILE = os.path.join(tempfile.mkdtemp(prefix="fusion-api-bridge-pass-"), "pass")
    with open(bc.PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(bc.PASSFILE, 0o600)
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    srv = None
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        desk = bc.Desk(home)
        out = fusion(home, "--operator", "admin", "--passphrase-file", bc.PASSFILE, "api",
                     "client", "add", "oms", "--scope", "propose", "--json").stdout
        token = json.loads(out)["token"]
        srv = Server(home)
        c = srv.conn()
        prop = {"chain": "devnet-eth", "to": "devnet-avax", "token": "USDC",
                "amount": str(AMOUNT), "recipient": bc.ALICE, "operator": "alice",
                "reference": "TREAS-9"}

        # ---- refused at proposal time, nothing stored
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(prop, recipient=sanctioned))
        check(st == 422 and body.get("type", "").endswith("screening-refused"),
              "refused: a sanctioned recipient is 422 at proposal time: %s %s" % (st, body))
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(prop, token="WETH"))
        check(st == 422 and "route" in body.get("detail", ""),
              "refused: an asset the route does not move is 422: %s %s" % (st, body))
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(prop, to="devnet-nowhere"))
        check(st == 422, "refused: a destination that is no chain of the desk is 422: %s %s"
              % (st, body))
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(prop, payee=bc.ALICE))
        check(st == 422 and "payee" in body.get("detail", ""),
              "refused: an unknown field is 422: %s %s" % (st, body))
        check(proposals(home) == [], "refused: no proposal stored: %s" % proposals(home))

        # ---- proposed, once per key
        hd = {"Idempotency-Key": "treas-9"}
        st, _, p1 = request(c, "POST", "/v1/proposals/bridge", token=token, body=prop,
                            headers=hd)
        check(st == 201 and p1.get("kind") == "bridge" and p1.get("state") == "pending",
              "proposed: 201, a pending bridge proposal: %s %s" % (st, p1))
        st, _, p2 = request(c, "POST", "/v1/proposals/bridge", token=token, body=prop,
                            headers=hd)
        check(st == 201 and p2.get("id") == p1.get("id"),
              "proposed: the same key again is the same proposal: %s" % p2)
        check(len(proposals(home)) == 1, "proposed: one row: %s" % proposals(home))

        # ---- accepted through the bridge's desk path
        e0 = desk.bal("devnet-eth")
        n0 = len(bc.transfers(home))
        r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                   "--json", "proposal", "accept", str(p1["id"]), timeout=600)
        out = json.loads(r.stdout)
        check(out["state"] == "accepted" and out["bridge"] > 0,
              "accepted: fusion proposal accept sent a transfer: %s" % out)
        check(len(bc.transfers(home)) == n0 + 1, "accepted: one new transfer")
        check(desk.bal("devnet-eth") == e0 - AMOUNT,
              "accepted: alice's USDC on devnet-eth fell by the amount (%d -> %d)"
              % (e0, desk.bal("devnet-eth")))
        st, _, body = request(c, "GET", "/v1/proposals/%d" % p1["id"], token=token)
        check(st == 200 and body["state"] == "accepted" and body["decided_by"] == "alice",
              "accepted: the proposal says who accepted it: %s" % body)
        r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                   "proposal", "accept", str(p1["id"]), rc=None)
        check(r.returncode == 1 and "not pending" in r.stderr, "accepted twice: refused: %r"
              % r.stderr)
        check(desk.bal("devnet-eth") == e0 - AMOUNT, "accepted twice: nothing more burned")

        # ---- killed right after the burn was sent: the proposal is accepted already (it is
        # marked in the transaction that records the signed burn), so a second accept sends
        # nothing (before, it stayed pending and a second accept burned again)
        st, _, p3 = request(c, "POST", "/v1/proposals/bridge", token=token,
                            body=dict(prop, reference="TREAS-10"),
                            headers={"Idempotency-Key": "treas-10"})
        check(st == 201, "killed: proposed: %s %s" % (st, p3))
        e1, n1 = desk.bal("devnet-eth"), len(bc.transfers(home))
        r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                   "proposal", "accept", str(p3["id"]), rc=None, timeout=600,
                   env=dict(ENV, FUSION_BRIDGE_KILL_AT="burn_sent"))
        check(r.returncode == -9, "killed: the accept died at the burn (%d)" % r.returncode)
        got = [x for x in proposals(home) if x[0] == p3["id"]]
        check(got and got[0][2] == "accepted",
              "killed: the proposal is accepted with its burn sent: %s" % got)
        r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                   "proposal", "accept", str(p3["id"]), rc=None)
        check(r.returncode == 1 and "not pending" in r.stderr,
              "killed: a second accept is refused: %r" % r.stderr)
        fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
               "bridge", "resume", "--no-wait", rc=None, timeout=600)
        check(len(bc.transfers(home)) == n1 + 1 and desk.bal("devnet-eth") == e1 - AMOUNT,
              "killed: one transfer, burned once (%d -> %d)" % (e1, desk.bal("devnet-eth")))

        # ---- the CCIP-style route: WETH, proposed with "route": "ccip", accepted through the
        # same desk path; the relayer (the stand-in for the CCIP network) delivers it
        net = bccip.Net(home)
        cast("send", "--rpc-url", net.url["devnet-eth"], "--private-key", bccip.DEPLOYER_KEY,
             net.weth["devnet-eth"], "mint(address,uint256)", bc.ALICE, str(10 * WETH))
        cprop = dict(prop, token="WETH", amount=str(WETH), route="ccip", reference="TREAS-20")
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(cprop, route="wormhole"))
        check(st == 422 and "route" in body.get("detail", ""),
              "ccip: an unknown route is 422 naming the field: %s %s" % (st, body))
        st, _, body = request(c, "POST", "/v1/proposals/bridge", token=token,
                              body=dict(cprop, route="cctp"))
        check(st == 422 and "route" in body.get("detail", ""),
              "ccip: WETH over the CCTP route is 422 (no route): %s %s" % (st, body))
        st, _, p4 = request(c, "POST", "/v1/proposals/bridge", token=token, body=cprop,
                            headers={"Idempotency-Key": "treas-20"})
        check(st == 201 and p4.get("kind") == "bridge", "ccip: proposed: %s %s" % (st, p4))
        rel = bccip.Relayer(net)
        rel.start()
        try:
            w0, w1 = net.bal("devnet-eth", bc.ALICE), net.bal("devnet-avax", bc.ALICE)
            n0 = len(bc.transfers(home))
            r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                       "--json", "proposal", "accept", str(p4["id"]), timeout=600)
            out = json.loads(r.stdout)
            tr = bc.transfers(home).get(out.get("bridge"))
            check(out["state"] == "accepted" and tr and tr["protocol"] == "ccip",
                  "ccip: accepted as a CCIP transfer: %s %s" % (out, tr))
            check(len(bc.transfers(home)) == n0 + 1, "ccip: one new transfer")
            check(tr and tr["state"] == "delivered", "ccip: delivered: %s" % tr)
            check(net.bal("devnet-eth", bc.ALICE) == w0 - WETH and
                  net.bal("devnet-avax", bc.ALICE) == w1 + WETH,
                  "ccip: alice's WETH moved by exactly the amount (eth %d -> %d, avax %d -> %d)"
                  % (w0, net.bal("devnet-eth", bc.ALICE), w1, net.bal("devnet-avax", bc.ALICE)))
            c = srv.conn()  # the server closes an idle connection
            st, _, body = request(c, "GET", "/v1/proposals/%d" % p4["id"], token=token)
            check(st == 200 and body["state"] == "accepted" and body["decided_by"] == "alice",
                  "ccip: the proposal says who accepted it: %s" % body)
            r = fusion(home, "--operator", "alice", "--passphrase-file", bc.PASSFILE, "--yes",
                       "proposal", "accept", str(p4["id"]), rc=None)
            check(r.returncode == 1 and "not pending" in r.stderr,
                  "ccip: accepted twice: refused: %r" % r.stderr)
        finally:
            rel.proc.kill()
            rel.proc.wait()
    finally:
        if srv:
            srv.stop()
        fusion(home, "devnet", "down", rc=None)
    return report()


if __name__ == "__main__":
    sys.exit(main())
