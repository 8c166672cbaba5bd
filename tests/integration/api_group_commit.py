#!/usr/bin/python3
"""api_group_commit.py: proposals are committed in groups (one transaction and one audit
append for the proposals that arrive while a commit runs) and a 201 is only ever sent for a
proposal that is on disk.

Sixteen clients (Python's http.client, each its own connection over the unix socket) stream
proposals with fresh Idempotency-Keys; meanwhile eight of them send one and the same key at
once (one proposal, every answer names it). Then `fusion serve` is killed with SIGKILL while
proposals stream in. Afterwards every proposal that got a 201 is in desk.db under its key
with its body, exactly one `proposal.create` audit row names each stored proposal, `fusion
audit verify` passes, and a restarted server answers a key it accepted before the kill with
the same proposal. A list version imported while the server runs is used by its next
screening (the server keeps its screening lists loaded), and the policy is the one the desk
itself would load: an edit of policy.conf nobody signed refuses proposals."""
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, Desk, log, need_artifacts, wait_until  # noqa: E402
from api_lib import Server, request  # noqa: E402
import api_serve  # noqa: E402

check = api_serve.check


def body(i):
    return {"chain": "local", "payee": A[1], "token": "ETH", "amount": str(1000 + i),
            "approvers": ["bob", "carol"], "threshold": 1, "deadline": "7d",
            "operator": "alice", "reference": "GC-%d" % i}


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    desk = Desk()
    api_serve.setup(desk, chain)
    token = api_serve.add_client(desk, "oms", "propose")
    srv = Server(desk.home, "--rate", "1000000", "--burst", "1000000")

    # ---- one key sent by eight connections at once: one proposal ----
    same = body(-1)
    got, barrier = [], threading.Barrier(8)

    def same_key():
        c = srv.conn()
        barrier.wait()
        got.append(request(c, "POST", "/v1/proposals/escrow", token=token, body=same,
                           headers={"Idempotency-Key": "gc-same"}))
    ts = [threading.Thread(target=same_key) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(len(got) == 8 and all(st == 201 for st, _, _ in got) and
          len({b["id"] for _, _, b in got}) == 1,
          "one key sent by eight connections at once: eight 201s naming one proposal")
    check(desk.query("SELECT count(*) FROM api_proposals WHERE idem_key = 'gc-same'")[0][0] == 1,
          "one proposal stored for it")

    # ---- a stream of proposals, and SIGKILL in the middle of it ----
    accepted = {}  # key -> (id, reference)
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def client(n):
        c = srv.conn(timeout=10)
        i = 0
        while not stop.is_set():
            key = "gc-%d-%d" % (n, i)
            b = body(n * 100000 + i)
            i += 1
            try:
                st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token, body=b,
                                     headers={"Idempotency-Key": key})
            except Exception:  # the server was killed: the request got no answer
                return
            if st != 201:
                errors.append((st, out))
                return
            with lock:
                accepted[key] = (out["id"], b["reference"])
    ts = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in ts:
        t.start()
    wait_until(lambda: len(accepted) >= 300 or errors, "300 proposals accepted", timeout=300)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait(timeout=60)
    stop.set()
    for t in ts:
        t.join(timeout=60)
    check(not errors, "every proposal of the stream was answered 201 (%s)" % errors[:1])
    log("201s before the kill: %d" % len(accepted))

    rows = {r[0]: (r[1], json.loads(r[2])["reference"]) for r in desk.query(
        "SELECT idem_key, id, body FROM api_proposals WHERE idem_key LIKE 'gc-%'")}
    missing = [k for k, v in accepted.items() if rows.get(k) != v]
    check(not missing, "every proposal answered 201 before the SIGKILL is in desk.db with its "
          "id and body (%d of %d missing: %s)" % (len(missing), len(accepted), missing[:3]))
    audit = [r for r in json.loads(desk.run("audit", "list", "--json").stdout)
             if r.get("action") == "proposal.create"]
    ids = [r["details"]["proposal"] for r in audit]
    stored = sorted(r[0] for r in desk.query("SELECT id FROM api_proposals"))
    check(len(set(ids)) == len(ids) and set(stored) <= set(ids),
          "one proposal.create audit row for each stored proposal (%d rows, %d proposals)"
          % (len(ids), len(stored)))
    # the log is written before the database commits: the batch the kill cut short may have
    # its rows in the log (ahead of the head desk.db records), never the other way round
    check(all(i > stored[-1] for i in set(ids) - set(stored)),
          "audit rows without a proposal are only those of the last, uncommitted batch (%d)"
          % len(set(ids) - set(stored)))
    v = json.loads(desk.run("audit", "verify", "--json").stdout)
    check(v["ok"] is True, "fusion audit verify passes after the SIGKILL")
    # rows of the batch the kill cut short (when it cut one: the kill's timing decides)
    # are named as not done: by `audit verify` now, and by the log itself at the next row
    ahead = sorted(r["seq"] for r in json.loads(desk.run("audit", "list", "--json").stdout)
                   if r.get("action") == "proposal.create" and
                   r["details"]["proposal"] not in set(stored))
    if ahead:
        out = desk.run("audit", "verify").stdout
        check("rows %d-%d are after desk.db's head" % (ahead[0], ahead[-1]) in out,
              "audit verify names the rows that were not committed: %s" % out)

    # ---- a restarted server: the keys it answered still name their proposals ----
    srv = Server(desk.home, "--rate", "1000000", "--burst", "1000000")
    c = srv.conn()
    key = sorted(accepted)[len(accepted) // 2]
    n, i = (int(x) for x in key.split("-")[1:])
    st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token,
                         body=body(n * 100000 + i), headers={"Idempotency-Key": key})
    check(st == 201 and out["id"] == accepted[key][0],
          "after the restart the same request answers the same proposal")

    # ---- a list version imported while the server runs is screened against ----
    lst = os.path.join(desk.home, "extra.txt")
    with open(lst, "w") as f:
        f.write("# ours\n" + A[6] + "\n")
    os.chmod(lst, 0o600)
    desk.signed.add("dave", "compliance")
    desk.run("--operator", "dave", "lists", "import", lst, "--format", "plain", "--name",
             "extra", "--published", "2026-01-01")
    st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token,
                         body=dict(body(7), payee=A[6]))
    check(st == 422 and out["type"].endswith("/screening-refused"),
          "a payee on a list imported while the server runs: 422 (%s)" % out.get("detail"))
    if ahead:
        marks = [r for r in json.loads(desk.run("audit", "list", "--json").stdout)
                 if r.get("action") == "audit.uncommitted"]
        check(len(marks) == 1 and marks[0]["details"]["first"] == ahead[0] and
              marks[0]["details"]["last"] == ahead[-1],
              "the next row names the rows the kill left uncommitted: %s" % marks)
    log("rows the kill left uncommitted: %d, named as not done" % len(ahead))

    # ---- the policy as the desk loads it: an edit nobody signed refuses proposals ----
    pol = os.path.join(desk.home, "policy.conf")
    with open(pol) as f:
        signed_text = f.read()
    n = desk.query("SELECT count(*) FROM api_proposals")[0][0]
    with open(pol, "w") as f:
        f.write("rule who=* action=* -> allow\n")
    st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token, body=body(8))
    check(st == 500 and "polic" in out["detail"] and
          desk.query("SELECT count(*) FROM api_proposals")[0][0] == n,
          "an unsigned edit of policy.conf: the proposal is refused, nothing stored (%s)"
          % out.get("detail"))
    with open(pol, "w") as f:
        f.write(signed_text)
    st, _, out = request(c, "POST", "/v1/proposals/escrow", token=token, body=body(9))
    check(st == 201, "the signed policy back: proposals are taken again")
    srv.stop()
    desk.stop_follow()


if __name__ == "__main__":
    main()
