#!/usr/bin/python3
"""bridge_legs.py: the chain sync records both legs of a bridge transfer (src/sync/bridge_legs.c).

On the four-chain devnet (the demo desk; `devnet up` started tools/cctp_attester.py as the
attestation service and recorded its URL: no `bridge config` step):

  service      the desk's routes name the devnet's attestation service, which answers; after
               `devnet down` its process is gone

  source leg   the burn is sent while devnet-eth mines nothing (`send --no-wait`: the desk
               does not see it mined); once mined, `fusion sync --once` records its
               message and block: the transfer is no longer in flight on the source, and
               the risk report counts the value in flight once, on devnet-avax
  destination  another relayer (cast, a key that is none of the desk's) delivers the
               message on devnet-avax; `fusion sync --once` marks the transfer delivered
               with that transaction: nothing in flight any more; `bridge resume` then
               signs nothing (no second mint)
  reorg        the block of that mint is taken away (evm_snapshot / evm_revert and a longer
               branch); sync takes the transfer back from delivered, and `bridge resume`
               completes it: minted exactly once on the branch that stays
  once         the risk report counts alice's USDC once (wallets plus value in flight: the same
               total) at every stage, whichever process records the legs: burned by the
               send but not yet synced, synced on the source, minted by `resume` with the
               destination not yet synced, synced on the destination
  killed       the send dies of SIGKILL (the fault hook FUSION_BRIDGE_KILL_AT) after the
               approve, after the burn is sent, after it is mined, after the attestation
               is fetched and after the mint is sent; `sync --once` records what reached
               the chains (a mint sent before the kill is delivered by the sync alone) and
               `bridge resume` completes every transfer: burned once, minted once, and a
               second resume signs nothing
  outage       the attestation service is down when the burn is sent, then slow (each
               answer 2 s late) when `resume` runs: delivered once
  race         while `resume` waits for a service that is down, another relayer delivers
               the message and the sync records it; when the service answers, resume keeps
               the delivery the sync recorded (the relayer's mint) and signs nothing
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bridge_cctp as bc  # noqa: E402
from devnet_lib import ENV, FUSION, N_CHAINS, cast, check, free_ports, fusion, report  # noqa: E402

AMOUNT = bc.AMOUNT
RELAYER_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"  # anvil #9


def sync_once(home, chain):
    fusion(home, "sync", "--once", "--quiet", "--chain", chain, timeout=300)


def attestation(url, mh):
    for _ in range(240):
        try:
            with urllib.request.urlopen("%s/attestations/%s" % (url, mh), timeout=5) as r:
                j = json.loads(r.read())
            if j.get("status") == "complete":
                return j["attestation"]
        except OSError:
            pass
        time.sleep(0.5)
    return None


def gone(pid):
    """Not running (absent, or a zombie its new parent has not reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def usdc_counted(home):
    """Alice's USDC in the risk report: her wallets plus the value in flight, in base units."""
    rep = json.loads(fusion(home, "--json", "risk", "report").stdout)
    total = 0
    for p in rep["positions"]:
        if p.get("asset") == "USDC" and p.get("kind") in ("wallet", "bridge_in_flight") \
                and p.get("account", "").lower() == bc.ALICE.lower():
            total += int(p["amount"])
    return total


def counted_once(home, desk):
    total0 = usdc_counted(home)
    check(total0 > AMOUNT, "once: alice's USDC is in the risk report (%d)" % total0)
    send_killed_at(home, "burn_mined")
    tid = max(bc.transfers(home))
    check(bc.transfers(home)[tid]["message_hash"], "once: the send recorded the burn")
    got = usdc_counted(home)
    check(got == total0, "once: burned, devnet-eth not yet synced: counted once (%d, not %d)"
          % (got, total0))
    sync_once(home, "devnet-eth")
    got = usdc_counted(home)
    check(got == total0 and bc.in_flight(home) == [("devnet-avax", str(AMOUNT))],
          "once: devnet-eth synced: in flight, counted once (%d, not %d)" % (got, total0))
    fusion(home, *bc.br("resume", str(tid)))
    check(bc.transfers(home)[tid]["state"] == "delivered", "once: resume delivered it")
    got = usdc_counted(home)
    check(got == total0, "once: minted by resume, devnet-avax not yet synced: counted once "
          "(%d, not %d)" % (got, total0))
    sync_once(home, "devnet-avax")
    got = usdc_counted(home)
    check(got == total0 and bc.in_flight(home) == [],
          "once: devnet-avax synced: in the wallet, nothing in flight (%d, not %d)"
          % (got, total0))


def allowance(desk):
    return bc.num(cast("call", "--rpc-url", desk.url["devnet-eth"], desk.usdc["devnet-eth"],
                       "allowance(address,address)(uint256)", bc.ALICE, desk.tm[0][0]))


def send_killed_at(home, point):
    env = dict(ENV, FUSION_BRIDGE_KILL_AT=point)
    p = subprocess.run([FUSION, "--home", home, *bc.send_args()], env=env, capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == -signal.SIGKILL, "killed at %s: the send died of SIGKILL (%d %r)"
          % (point, p.returncode, p.stderr[-300:]))


def completed_once(home, desk, tid, e0, a0, what):
    t = bc.transfers(home)[tid]
    check(t["state"] == "delivered", "%s: delivered (%s: %s)" % (what, t["state"], t["note"]))
    check(desk.bal("devnet-eth") == e0 - AMOUNT, "%s: burned once on devnet-eth" % what)
    check(desk.bal("devnet-avax") == a0 + AMOUNT, "%s: minted once on devnet-avax" % what)
    n0, nonces = bc.n_outbound(home), (desk.nonce("devnet-eth"), desk.nonce("devnet-avax"))
    fusion(home, *bc.br("resume", str(tid)))
    check(bc.n_outbound(home) == n0 and (desk.nonce("devnet-eth"), desk.nonce("devnet-avax"))
          == nonces, "%s: a second resume signs nothing" % what)


def killed(home, desk):
    # after the approve: nothing burned, no transfer; the next send needs no second approve
    cast("send", "--rpc-url", desk.url["devnet-eth"], "--private-key", bc.ALICE_KEY,
         desk.usdc["devnet-eth"], "approve(address,uint256)", desk.tm[0][0], "0")
    e0, a0, n_t = desk.bal("devnet-eth"), desk.bal("devnet-avax"), len(bc.transfers(home))
    send_killed_at(home, "approved")
    check(allowance(desk) == AMOUNT, "killed after the approve: the approve is mined")
    check(len(bc.transfers(home)) == n_t and desk.bal("devnet-eth") == e0,
          "killed after the approve: no transfer, nothing burned")
    fusion(home, *bc.br("resume"))
    check(desk.bal("devnet-eth") == e0, "killed after the approve: resume burns nothing")
    fusion(home, *bc.send_args())
    completed_once(home, desk, max(bc.transfers(home)), e0, a0, "sent again after the approve")
    cast("send", "--rpc-url", desk.url["devnet-eth"], "--private-key", bc.ALICE_KEY,
         desk.usdc["devnet-eth"], "approve(address,uint256)", desk.tm[0][0], str(10 * AMOUNT))

    for point in ("burn_sent", "burn_mined", "attested", "mint_sent"):
        e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
        send_killed_at(home, point)
        tid = max(bc.transfers(home))
        # the syncing process on its own: what reached the chains is recorded
        for _ in range(20):
            if bc.rows(home, "SELECT pending_action FROM bridge_transfers WHERE id = ?",
                       tid)[0][0] != "bridge_mint" or desk.bal("devnet-avax") == a0 + AMOUNT:
                break
            time.sleep(0.5)
        sync_once(home, "devnet-eth")
        sync_once(home, "devnet-avax")
        t = bc.transfers(home)[tid]
        check(t["message_hash"], "killed at %s: the burn is recorded after sync: %s" % (point, t))
        if point == "mint_sent":
            check(t["state"] == "delivered",
                  "killed after the mint was sent: the sync alone delivered it: %s" % t)
        fusion(home, *bc.br("resume", str(tid)))
        completed_once(home, desk, tid, e0, a0, "killed at %s" % point)


def outage(home, desk, att):
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    att.stop()
    fusion(home, *bc.send_args(), "--no-wait")
    tid = max(bc.transfers(home))
    fusion(home, *bc.br("resume", "--no-wait", str(tid)))
    check(bc.transfers(home)[tid]["state"] == "sent", "outage: the service down, still sent")
    att.start("--delay", "2")
    fusion(home, *bc.br("resume", str(tid)), timeout=300)
    completed_once(home, desk, tid, e0, a0, "outage: down, then slow")
    att.stop()
    att.start()


def race(home, desk, att, dev_url):
    e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")
    att.stop()
    fusion(home, *bc.send_args(), "--no-wait")
    tid = max(bc.transfers(home))
    cast("receipt", "--rpc-url", desk.url["devnet-eth"], bc.transfers(home)[tid]["burn_tx"],
         "status")  # waits until the burn is mined
    sync_once(home, "devnet-eth")
    t = bc.transfers(home)[tid]
    check(t["state"] == "sent" and t["message_hash"], "race: burned and synced: %s" % t)
    nonce0 = desk.nonce("devnet-avax")
    proc = subprocess.Popen([FUSION, "--home", home, *bc.br("resume", str(tid))], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        a = attestation(dev_url, t["message_hash"])
        msg = bc.rows(home, "SELECT hex(message) FROM bridge_transfers WHERE id = ?", tid)[0][0]
        out = cast("send", "--json", "--rpc-url", desk.url["devnet-avax"], "--private-key",
                   RELAYER_KEY, desk.mt[0][0], "receiveMessage(bytes,bytes)", "0x" + msg, a)
        relayed = json.loads(out)["transactionHash"]
        sync_once(home, "devnet-avax")
        check(bc.transfers(home)[tid]["state"] == "delivered",
              "race: the sync recorded the relayer's delivery while resume waits")
        check(proc.poll() is None, "race: resume still waits for the attestation service")
        att.start()
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    t = bc.transfers(home)[tid]
    check(t["state"] == "delivered" and t["mint_tx"] == relayed,
          "race: resume kept the delivery the sync recorded (the relayer's mint): %s" % t)
    check(desk.nonce("devnet-avax") == nonce0, "race: resume signed nothing on devnet-avax")
    check(desk.bal("devnet-eth") == e0 - AMOUNT and desk.bal("devnet-avax") == a0 + AMOUNT,
          "race: burned once, minted once")


def main():
    with open(os.path.join(bc.ROOT, "data", "demo", "counterparties.csv")) as f:
        bc.SANCTIONED = [ln.split(",")[1] for ln in f if ",sanctioned," in ln][0]
    home = tempfile.mkdtemp(prefix="fusion-bridge-legs-")
    bc.PASSFILE = os.path.join(tempfile.mkdtemp(prefix="fusion-bridge-legs-pass-"), "pass")
    with open(bc.PASSFILE, "w") as f:
        f.write("fusion-demo\n")  # the passphrase the demo seed gives its dev keys
    os.chmod(bc.PASSFILE, 0o600)
    ports = ",".join(map(str, free_ports(N_CHAINS)))
    att, att_pid = None, None
    try:
        fusion(home, "demo", "--no-ui", "--duration", "1s", "--ports", ports, "--keep-devnet")
        desk = bc.Desk(home)
        # ---- the devnet's attestation service: started by `devnet up`, its URL recorded
        urls = {u for (u,) in bc.rows(home, "SELECT attestation_url FROM bridge_cctp")}
        check(len(urls) == 1 and list(urls)[0].startswith("http://127.0.0.1:"),
              "service: every route names the devnet's attestation service: %s" % urls)
        dev_url = list(urls)[0]
        try:
            urllib.request.urlopen(dev_url + "/attestations/0x" + "00" * 32, timeout=10)
            code = 200
        except urllib.error.HTTPError as err:
            code = err.code
        except OSError:
            code = None
        check(code == 404, "service: it answers (404 for a message nobody sent): %s" % code)
        with open(os.path.join(home, "devnet", "attester.pid")) as f:
            att_pid = int(f.read().split()[0])
        # the messenger may burn alice's USDC: the burn is the send's first transaction
        cast("send", "--rpc-url", desk.url["devnet-eth"], "--private-key", bc.ALICE_KEY,
             desk.usdc["devnet-eth"], "approve(address,uint256)", desk.tm[0][0], str(10 * AMOUNT))
        sync_once(home, "devnet-eth")
        sync_once(home, "devnet-avax")
        counted_once(home, desk)
        e0, a0 = desk.bal("devnet-eth"), desk.bal("devnet-avax")

        # ---- source leg: the desk does not see its burn mined; sync does
        bc.mining(desk, "devnet-eth", False)
        try:
            fusion(home, *bc.send_args(), "--no-wait")
        finally:
            bc.mining(desk, "devnet-eth", True)
        tid = max(bc.transfers(home))
        t = bc.transfers(home)[tid]
        check(t["state"] == "sent" and t["in_flight"] == "bridge_burn" and not t["message_hash"],
              "source: the send left its burn in flight: %s" % t)
        cast("receipt", "--rpc-url", desk.url["devnet-eth"], t["burn_tx"], "status")
        check(desk.bal("devnet-eth") == e0 - AMOUNT, "source: burned on devnet-eth")
        sync_once(home, "devnet-eth")
        t = bc.transfers(home)[tid]
        check(t["state"] == "sent" and t["message_hash"] and t["burn_block"] > 0
              and t["in_flight"] is None,
              "source: sync recorded the burn's message and block, nothing in flight: %s" % t)
        check(bc.in_flight(home) == [("devnet-avax", str(AMOUNT))],
              "source: the risk report counts the value once, in flight to devnet-avax: %s"
              % bc.in_flight(home))

        # ---- destination leg: another relayer delivers, sync sees it
        a = attestation(dev_url, t["message_hash"])
        check(a is not None, "destination: the attestation service attests the burn")
        db_msg = bc.rows(home, "SELECT hex(message) FROM bridge_transfers WHERE id = ?", tid)[0][0]
        snap = cast("rpc", "--rpc-url", desk.url["devnet-avax"], "evm_snapshot").strip().strip('"')
        out = cast("send", "--json", "--rpc-url", desk.url["devnet-avax"], "--private-key",
                   RELAYER_KEY, desk.mt[0][0], "receiveMessage(bytes,bytes)", "0x" + db_msg, a)
        relayed = json.loads(out)["transactionHash"]
        check(desk.bal("devnet-avax") == a0 + AMOUNT, "destination: minted by the relayer")
        check(bc.transfers(home)[tid]["state"] == "sent", "destination: not delivered before sync")
        sync_once(home, "devnet-avax")
        t = bc.transfers(home)[tid]
        check(t["state"] == "delivered" and t["mint_tx"] == relayed,
              "destination: sync marked it delivered with the relayer's mint: %s" % t)
        check(bc.in_flight(home) == [], "destination: nothing in flight once the mint is synced:"
              " %s" % bc.in_flight(home))
        n0, nonce0 = bc.n_outbound(home), desk.nonce("devnet-avax")
        fusion(home, *bc.br("resume", str(tid)))
        check(bc.n_outbound(home) == n0 and desk.nonce("devnet-avax") == nonce0,
              "destination: resume of a transfer sync delivered signs nothing")
        check(desk.bal("devnet-avax") == a0 + AMOUNT, "destination: minted once")

        # ---- reorg: the relayer's mint goes away
        url = desk.url["devnet-avax"]
        check(cast("rpc", "--rpc-url", url, "evm_revert", snap).strip() == "true",
              "reorg: reverted devnet-avax to before the mint")
        for _ in range(4):
            cast("rpc", "--rpc-url", url, "evm_mine")
        check(desk.bal("devnet-avax") == a0, "reorg: the mint is gone from devnet-avax")
        sync_once(home, "devnet-avax")
        t = bc.transfers(home)[tid]
        check(t["state"] in ("sent", "attested") and not t["mint_tx"],
              "reorg: sync took the transfer back from delivered: %s" % t)
        check(bc.in_flight(home) == [("devnet-avax", str(AMOUNT))],
              "reorg: in flight again, once: %s" % bc.in_flight(home))
        fusion(home, *bc.br("resume", str(tid)))
        t = bc.transfers(home)[tid]
        check(t["state"] == "delivered", "reorg: resume delivered it again: %s" % t)
        check(desk.bal("devnet-avax") == a0 + AMOUNT and desk.bal("devnet-eth") == e0 - AMOUNT,
              "reorg: burned once, minted once")
        sync_once(home, "devnet-avax")
        t = bc.transfers(home)[tid]
        check(t["state"] == "delivered" and bc.in_flight(home) == [],
              "reorg: synced again, delivered and nothing in flight: %s" % t)
        killed(home, desk)
        # the outage needs a service the test can stop: the operator points the desk at it
        att = bc.Attester(desk)
        att.start()
        fusion(home, "--operator", "admin", "--passphrase-file", bc.PASSFILE, "bridge", "config",
               "--attestation-url", att.url)
        outage(home, desk, att)
        race(home, desk, att, dev_url)
    finally:
        if att:
            att.stop()
        fusion(home, "devnet", "down", rc=None)
    check(att_pid and gone(att_pid),
          "service: `devnet down` stopped the attestation service (pid %s)" % att_pid)
    check(not os.path.exists(os.path.join(home, "devnet", "attester.pid")),
          "service: its pid file is gone")
    return report()


if __name__ == "__main__":
    sys.exit(main())
