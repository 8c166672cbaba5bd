#!/usr/bin/python3
"""desk_escrow.py: the escrow workflows end to end through the fusion binary on a real
anvil node, with anvil's well-known dev keys imported into the desk's key store and mapped
to operators: alice (trader, the payer), bob and carol (approvers), dave (compliance, the
default arbiter). Every state is checked independently with `cast call` / `cast balance`
/ `cast nonce`, never with fusion's own view.

Paths: ERC20 and native coin create -> fund -> approve x2 -> release; maker approving own
escrow refused before signing (nonce unchanged); release before threshold (custom error in
words); insufficient balance (nothing recorded); refund after the deadline; dispute ->
resolve both ways; policy refusal; a dropped transaction detected and resent; an RPC error
at the moment of sending (known sent or known not sent, resolved by `fusion tx check`)."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, Desk, artifact, cast, escrow_summary, log, need_artifacts  # noqa
import devchain  # noqa: E402
from fake_rpc import FakeRpc  # noqa: E402

K = devchain.KEYS
PASS = "correct horse battery staple"
PAYEE = A[1]
OPS = {"alice": (0, "trader"), "bob": (2, "approver"), "carol": (3, "approver"),
       "dave": (4, "compliance")}
TRANSCRIPT = os.environ.get("DESK_TRANSCRIPT")  # where to write outputs for docs


def transcript(cmd, r):
    if TRANSCRIPT:
        with open(TRANSCRIPT, "a") as fh:
            fh.write("$ fusion " + " ".join(cmd) + "\n" + r.stdout + r.stderr + "\n")


class DeskUser(Desk):
    def __init__(self):
        super().__init__()
        os.environ["FUSION_KDF"] = "interactive"
        self.pw = os.path.join(self.home, "pw")
        with open(self.pw, "w") as fh:
            fh.write(PASS + "\n")
        os.chmod(self.pw, 0o600)  # secrets must be the operator's alone

    GATED = ("fund", "approve", "release", "resolve")

    def as_op(self, op, *args, check=True, screen=True):
        # What a live desk does in the background (`fusion sync` and `fusion case screen
        # --follow`, or the UI): the compliance gate only passes escrows that are synced
        # and screened.
        if screen and "escrow" in args and any(a in self.GATED for a in args):
            self.run("sync", "--once", check=False)
            self.run("case", "screen", check=False)
            # alice's many escrows within the hour trip the velocity rule: dave, the
            # desk's compliance officer, reviews and clears those (low-priority) cases.
            for c in self.json("case", "list", "--json"):
                if c.get("state") != "closed":
                    cid = str(c["id"])
                    self.run("--operator", "dave", "case", "take", cid, check=False)
                    self.run("--operator", "dave", "case", "clear", cid, "--note",
                             "test desk: velocity of its own flow", check=False)
        full = ["--operator", op, "--passphrase-file", self.pw, "--yes", *map(str, args)]
        r = self.run(*full, check=False)
        transcript(full, r)
        if check and r.returncode != 0:
            raise AssertionError(f"fusion {' '.join(full)} exited {r.returncode}: {r.stderr}")
        return r

    def setup(self, chain, url=None, confirmations=0, travel_rule=False):
        self.run("chain", "add", "--name", "local", "--chain-id", chain.chain_id, "--rpc",
                 url or chain.node.url, "--factory", chain.factory, "--confirmations",
                 confirmations)
        self.book_on_server()  # under tests/lib/pg.py run: the book on the test's server
        for name, (i, role) in OPS.items():
            keyfile = os.path.join(self.home, name + ".key")
            with open(keyfile, "w") as fh:
                fh.write(K[i] + "\n")
            os.chmod(keyfile, 0o600)  # secrets must be the operator's alone
            self.run("--passphrase-file", self.pw, "key", "import", "--raw-file", keyfile,
                     "--label", name)
            os.unlink(keyfile)
            self.signed.known(name, A[i], self.pw)  # the operator's own key and passphrase
            r = self.run("operator", "add", name, "--key", A[i], "--role", role)
            transcript(["operator", "add", name, "--key", A[i], "--role", role], r)
        if not travel_rule:
            # The Travel Rule fails closed without a USD price, and a test desk prices
            # nothing: its compliance officer turns the rule off, as a signed decision
            # (compliance_travel keeps it on).
            conf = os.path.join(self.home, "compliance.conf")
            with open(conf, "w") as fh:
                fh.write("travel_rule.enabled = no\n")
            os.chmod(conf, 0o600)
            self.run("--operator", "dave", "config", "sign", "compliance")

    def outbound_count(self, settled=True):
        """The desk's transactions: desk.db's rows, and on a desk whose book is on a server
        as many there (each is recorded on both, the server first). settled=False while a
        command may be recording one (desk.db's count alone: the two commits are not one)."""
        n = self.query("SELECT count(*) FROM outbound_txs")[0][0]
        if self.book and settled:
            m = int(self.server_rows("SELECT count(*) FROM outbound_txs")[0][0])
            assert m == n, f"outbound_txs: {n} rows in desk.db, {m} on the book's server"
        return n

    def outbound_row(self, cols, tx_id=None):
        """Text columns of one desk transaction (tx_id, or the last) in desk.db; on a desk
        whose book is on a server the server's row must say the same."""
        where = f" WHERE id = {int(tx_id)}" if tx_id is not None else ""
        sql = f"SELECT {cols} FROM outbound_txs{where} ORDER BY id DESC LIMIT 1"
        rows = self.query(sql)
        assert rows, f"no desk transaction {tx_id if tx_id is not None else ''} in desk.db"
        if self.book:
            there = self.server_rows(sql)
            assert there == [list(rows[0])], f"outbound_txs: desk.db {rows}, the server {there}"
        return rows[0]


def nonce(chain, who):
    return int(chain.node.cast("nonce", who))


def token_balance(chain, token, who):
    return int(chain.node.cast("call", token, "balanceOf(address)(uint256)", who).split()[0])


def eth_balance(chain, who):
    return int(chain.node.cast("balance", who))


def created(r):
    out = json.loads(r.stdout)
    assert out["state"] in ("mined", "confirmed"), out
    return out["escrow"].lower()


def create(desk, token, amount, threshold=2, approvers="bob,carol", deadline="7d", extra=()):
    return created(desk.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE,
                              "--token", token, "--amount", amount, "--approvers", approvers,
                              "--threshold", threshold, "--deadline", deadline, *extra))


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:]).lower()
    chain.cast_send(A[0], token, "mint(address,uint256)", A[0], "5000000000")  # 5000 TUSD
    desk = DeskUser()
    desk.setup(chain)
    # The parties are KYC-verified entities, so screening clears them (a party with no
    # entity would open a case, and the gate would refuse until it is closed).
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", PAYEE)):
        desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run("--operator", "dave", "entity", "link", name, "--chain", "local", "--address",
                 who)
    ops = desk.json("operator", "list", "--json")
    assert [(o["name"], o["roles"], o["key_in_store"]) for o in ops] == [
        ("admin", ["admin"], True),  # signed the desk's genesis
        ("alice", ["trader"], True), ("bob", ["approver"], True), ("carol", ["approver"], True),
        ("dave", ["compliance"], True)], ops

    # ---- ERC20: create -> fund (exact allowance) -> approve x2 -> release ----
    e1 = create(desk, token, "1250.5")
    s = escrow_summary(chain, e1)
    assert (s["state"], s["amount"], s["payer"], s["payee"], s["token"], s["threshold"],
            s["arbiter"]) == ("created", "1250500000", A[0], PAYEE, token, 2, A[4]), s
    # The compliance gate: an escrow that is not synced and screened yet does not move;
    # nothing is signed and the message says what to run.
    n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "escrow", "fund", e1, check=False, screen=False)
    assert r.returncode == 1 and "compliance gate" in r.stderr, r
    assert "fusion sync" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
    log("compliance gate refuses an unscreened escrow: ok")
    r = desk.as_op("alice", "escrow", "fund", e1)
    assert "allowance" in r.stdout and "1250.5 TUSD" in r.stdout, r.stdout
    assert escrow_summary(chain, e1)["state"] == "funded"
    assert token_balance(chain, token, e1) == 1250500000
    # Screened once: another pass finds nothing new (its reorg sweep keeps the marks of the
    # escrows it sees, here or, with the book on a server, there).
    r = desk.run("case", "screen")
    assert r.stdout.startswith("screened 0 new escrows"), r.stdout
    # The allowance was exactly the amount, and is spent to zero by fund().
    txs = desk.json("tx", "list", "--json")
    allow = [t for t in txs if t["action"] == "allowance"]
    assert len(allow) == 1 and list(allow[0]["summary"]["arguments"].values())[1] == "1250500000", allow
    assert int(chain.node.cast("call", token, "allowance(address,address)(uint256)", A[0],
                               e1).split()[0]) == 0

    # Maker-checker: alice created it; her approve is refused before signing.
    n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "escrow", "approve", e1, check=False)
    assert r.returncode == 1 and "maker-checker" in r.stderr, r
    assert r.stderr.count("\n") == 1, r.stderr
    assert "about to send" not in r.stdout, r.stdout
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0

    # Release before the threshold: the custom error in words, nothing signed or recorded.
    n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
    r = desk.as_op("bob", "escrow", "release", e1, check=False)
    assert r.returncode == 1, r
    assert "ThresholdNotReached" in r.stderr and "approvals" in r.stderr, r.stderr
    assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0

    desk.as_op("bob", "escrow", "approve", e1)
    assert escrow_summary(chain, e1)["approvals"] == 1
    desk.as_op("carol", "escrow", "approve", e1)
    assert escrow_summary(chain, e1)["approvals"] == 2
    before = token_balance(chain, token, PAYEE)
    desk.as_op("bob", "escrow", "release", e1)
    assert escrow_summary(chain, e1)["state"] == "released"
    assert token_balance(chain, token, PAYEE) - before == 1250500000
    log("erc20 create -> fund -> approve x2 -> release: ok")

    # ---- native coin ----
    # The sync screens each new escrow it stores, with the book on a server too (there the
    # screener reads the server's escrows; its marks, hits and cases are desk.db's).
    e2 = create(desk, "ETH", "1.5")
    r = desk.run("sync", "--once")
    assert "screened 1 new escrows" in r.stderr, (r.stderr, desk.fusion_log()[-3000:])
    desk.as_op("alice", "escrow", "fund", e2)
    assert eth_balance(chain, e2) == 1500000000000000000
    desk.as_op("bob", "escrow", "approve", e2)
    desk.as_op("carol", "escrow", "approve", e2)
    before = eth_balance(chain, PAYEE)
    desk.as_op("carol", "escrow", "release", e2)
    assert escrow_summary(chain, e2)["state"] == "released"
    assert eth_balance(chain, PAYEE) - before == 1500000000000000000
    log("native create -> fund -> approve x2 -> release: ok")

    # ---- insufficient balance: clear message, nothing half-done ----
    e3 = create(desk, token, "4000")  # alice has 5000 - 1250.5 = 3749.5 TUSD left
    rows0, n0 = desk.outbound_count(), nonce(chain, A[0])
    r = desk.as_op("alice", "escrow", "fund", e3, check=False)
    assert r.returncode == 1 and "insufficient balance" in r.stderr, r
    assert "3749.5 TUSD" in r.stderr and "4000 TUSD" in r.stderr, r.stderr
    assert desk.outbound_count() == rows0 and nonce(chain, A[0]) == n0
    assert escrow_summary(chain, e3)["state"] == "created"
    e3n = create(desk, "ETH", "20000")  # anvil's dev accounts hold 10000 ETH
    rows0, n0 = desk.outbound_count(), nonce(chain, A[0])
    r = desk.as_op("alice", "escrow", "fund", e3n, check=False)
    assert r.returncode == 1 and "insufficient balance" in r.stderr and "ETH" in r.stderr, r
    assert desk.outbound_count() == rows0 and nonce(chain, A[0]) == n0
    assert escrow_summary(chain, e3n)["state"] == "created"
    log("insufficient balance refused, nothing recorded: ok")

    # ---- refund after the deadline ----
    e4 = create(desk, "ETH", "0.25", deadline="2m")
    desk.as_op("alice", "escrow", "fund", e4)
    r = desk.as_op("alice", "escrow", "refund", e4, check=False)
    assert r.returncode == 1 and "DeadlineNotReached" in r.stderr, r.stderr
    chain.node.rpc("evm_increaseTime", 600)
    chain.node.mine(1)
    before = eth_balance(chain, e4)
    desk.as_op("alice", "escrow", "refund", e4)
    assert escrow_summary(chain, e4)["state"] == "refunded"
    assert before == 250000000000000000 and eth_balance(chain, e4) == 0
    log("refund after deadline: ok")

    # ---- dispute -> resolve both ways (dave, compliance, is the default arbiter) ----
    for to, want_payee in (("payee", 1), ("payer", 0)):
        ex = create(desk, token, "10")
        desk.as_op("alice", "escrow", "fund", ex)
        desk.as_op("alice", "escrow", "dispute", ex, "--reason", "goods late")
        assert escrow_summary(chain, ex)["state"] == "disputed"
        r = desk.as_op("bob", "escrow", "resolve", ex, "--to", to, check=False)
        assert r.returncode == 1 and "refused before signing" in r.stderr, r.stderr
        pb, ab = token_balance(chain, token, PAYEE), token_balance(chain, token, A[0])
        desk.as_op("dave", "escrow", "resolve", ex, "--to", to)
        assert escrow_summary(chain, ex)["state"] == "resolved"
        assert token_balance(chain, token, PAYEE) - pb == 10000000 * want_payee
        assert token_balance(chain, token, A[0]) - ab == 10000000 * (1 - want_payee)
    log("dispute -> resolve to payee / to payer: ok")

    # ---- policy: a create of 1000000+ needs three approvals (default policy) ----
    r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH", "--amount",
                   "1000000", "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d",
                   check=False)
    assert r.returncode == 1 and "requires at least 3" in r.stderr, r.stderr
    audit = subprocess.run([os.environ.get("FUSION_BIN"), "--home", desk.home, "audit", "list",
                            "--json"], capture_output=True, text=True)
    assert "policy_sha256" in audit.stdout, audit.stdout[-500:]

    # ---- deadline sanity and arbiter independence, before anything is built ----
    rows0 = desk.outbound_count()
    for dl, want in (("2020-01-01T00:00:00Z", "in the past"), ("400d", "366 days")):
        r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                       "--amount", "1", "--approvers", "bob,carol", "--threshold", "2",
                       "--deadline", dl, check=False)
        assert r.returncode == 1 and want in r.stderr, r.stderr
    r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH", "--amount",
                   "1", "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d",
                   "--arbiter", PAYEE, check=False)
    assert r.returncode == 1 and "neither the payer nor the payee" in r.stderr, r.stderr
    assert desk.outbound_count() == rows0

    # ---- a dropped transaction is detected and sent again ----
    chain.node.rpc("evm_setAutomine", False)
    r = desk.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                   "--amount", "0.5", "--approvers", "bob,carol", "--threshold", "2",
                   "--deadline", "7d", "--wait", "0")
    h = json.loads(r.stdout)["hash"]
    assert chain.node.rpc("eth_getTransactionByHash", h) is not None
    chain.node.rpc("anvil_dropTransaction", h)
    assert chain.node.rpc("eth_getTransactionByHash", h) is None
    chain.node.rpc("evm_setAutomine", True)
    r = desk.as_op("alice", "tx", "check")
    assert "not known to the node: resending" in r.stdout, r.stdout
    assert chain.node.rpc("eth_getTransactionReceipt", h)["status"] == "0x1"
    t = [x for x in desk.json("tx", "list", "--json") if x["hash"] == h][0]
    assert t["state"] == "confirmed" and t["escrow"], t
    assert escrow_summary(chain, t["escrow"])["state"] == "created"
    log("dropped transaction detected and resent: ok")

    # ---- speed up and cancel by replacement (same nonce, higher fees) ----
    for how in ("speedup", "cancel"):
        count0 = int(chain.node.cast("call", chain.factory, "escrowCount()(uint256)").split()[0])
        chain.node.rpc("evm_setAutomine", False)
        r = desk.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                       "--amount", "0.5", "--approvers", "bob,carol", "--threshold", "2",
                       "--deadline", "7d", "--wait", "0")
        old = json.loads(r.stdout)
        o_tx = chain.node.rpc("eth_getTransactionByHash", old["hash"])
        r = desk.as_op("alice", "tx", how, old["outbound_id"], "--wait", "0")
        assert "replaces tx %d" % old["outbound_id"] in r.stdout, r.stdout
        new = [t for t in desk.json("tx", "list", "--json") if t["id"] > old["outbound_id"]][0]
        n_tx = chain.node.rpc("eth_getTransactionByHash", new["hash"])
        assert n_tx is not None and n_tx["nonce"] == o_tx["nonce"], (n_tx, o_tx)
        for k in ("maxFeePerGas", "maxPriorityFeePerGas"):
            assert int(n_tx[k], 16) * 10 >= int(o_tx[k], 16) * 11, (k, n_tx[k], o_tx[k])
        if how == "cancel":
            assert n_tx["to"] == A[0] and n_tx["input"] == "0x" and int(n_tx["value"], 16) == 0
        else:
            assert n_tx["to"] == o_tx["to"] and n_tx["input"] == o_tx["input"]
        chain.node.rpc("evm_mine")
        chain.node.rpc("evm_setAutomine", True)
        desk.as_op("alice", "tx", "check")
        states = {t["id"]: t["state"] for t in desk.json("tx", "list", "--json")}
        assert states[old["outbound_id"]] == "replaced", states
        assert states[new["id"]] == "confirmed", states
        assert chain.node.rpc("eth_getTransactionReceipt", new["hash"])["status"] == "0x1"
        assert chain.node.rpc("eth_getTransactionReceipt", old["hash"]) is None
        count1 = int(chain.node.cast("call", chain.factory, "escrowCount()(uint256)").split()[0])
        assert count1 == count0 + (1 if how == "speedup" else 0), (how, count0, count1)
    log("speedup and cancel by replacement: ok")

    # ---- an RPC error at the moment of sending ----
    fake = FakeRpc(chain.node.url)
    try:
        d2 = DeskUser()
        d2.setup(chain, url=fake.url)
        # (a) the request never reaches the node: known signed, not known sent; resolved.
        fake.script([{"kind": "http500", "method": "eth_sendRawTransaction", "count": 10}])
        n0 = nonce(chain, A[0])
        r = d2.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                     "--amount", "0.1", "--approvers", "bob,carol", "--threshold", "2",
                     "--deadline", "7d", check=False)
        assert r.returncode == 1 and "fusion tx check" in r.stderr, r.stderr
        rows = d2.query("SELECT state, hash FROM outbound_txs")
        assert [x[0] for x in rows] == ["pending"], rows
        assert nonce(chain, A[0]) == n0
        # A nonce gap is not made worse: the next action waits for the resend.
        with fake.lock:
            fake.queue = []  # the node is reachable again
        r = d2.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                     "--amount", "0.2", "--approvers", "bob,carol", "--threshold", "2",
                     "--deadline", "7d", check=False)
        assert r.returncode == 1 and "nonce gap" in r.stderr, r.stderr
        assert d2.outbound_count() == 1 and nonce(chain, A[0]) == n0
        with fake.lock:
            fake.queue = []  # the node is reachable again
        r = d2.as_op("alice", "tx", "check")
        assert "signed, never sent" in r.stdout, r.stdout
        assert chain.node.rpc("eth_getTransactionReceipt", rows[0][1])["status"] == "0x1"
        assert d2.query("SELECT state FROM outbound_txs")[0][0] == "confirmed"
        # (b) the node takes it but the answer is lost: known sent.
        fake.script([{"kind": "truncated", "method": "eth_sendRawTransaction", "count": 1}])
        r = d2.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                     "--amount", "0.1", "--approvers", "bob,carol", "--threshold", "2",
                     "--deadline", "7d")
        out = json.loads(r.stdout)
        assert out["state"] == "confirmed" and out["escrow"], out
        assert escrow_summary(chain, out["escrow"])["state"] == "created"
        log("rpc error at send: known not sent -> resent; answer lost -> known sent: ok")
    finally:
        fake.stop()

    # ---- the node restarts while a transaction is pending ----
    state = os.path.join(tempfile.mkdtemp(prefix="fusion-desk-state-"), "anvil.json")
    c3 = Chain(chain_id=31337, state=state).start()
    c3.deploy()
    d3 = DeskUser()
    d3.setup(c3)
    count0 = int(c3.node.cast("call", c3.factory, "escrowCount()(uint256)").split()[0])
    c3.node.rpc("evm_setAutomine", False)
    r = d3.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                 "--amount", "0.3", "--approvers", "bob,carol", "--threshold", "2",
                 "--deadline", "7d", "--wait", "0")
    h = json.loads(r.stdout)["hash"]
    assert d3.query("SELECT state FROM outbound_txs")[0][0] == "sent"
    c3.node.restart(graceful=True)  # same port; automine is back on
    r = d3.as_op("alice", "tx", "check")
    assert c3.node.rpc("eth_getTransactionReceipt", h)["status"] == "0x1", r.stdout
    assert d3.query("SELECT state FROM outbound_txs")[0][0] == "confirmed"
    count1 = int(c3.node.cast("call", c3.factory, "escrowCount()(uint256)").split()[0])
    assert count1 == count0 + 1, (count0, count1)  # neither lost nor made twice
    # The chain's confirmation depth: mined is not confirmed until 2 more blocks.
    d4 = DeskUser()
    d4.setup(c3, confirmations=2)
    r = d4.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "ETH", "--amount",
                 "0.1", "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d",
                 "--wait", "2")
    assert "2 confirmations not reached yet" in r.stdout, r.stdout
    assert d4.query("SELECT state FROM outbound_txs")[0][0] == "mined"
    c3.node.mine(2)
    d4.as_op("alice", "tx", "check")
    assert d4.query("SELECT state FROM outbound_txs")[0][0] == "confirmed"
    c3.node.stop()
    log("node restarted while pending: resolved by tx check, exactly one escrow: ok")

    # ---- USD from the asset's price feed; --token by configured symbol ----
    feed_art = artifact("MockPriceFeed")
    fctor = cast("abi-encode", "constructor(uint8,string,int256)", "8", "TUSD / USD", "99990000")
    feed = chain.node.deploy(feed_art["bytecode"] + fctor[2:]).lower()
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "TUSD", "--address", token)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "TUSD", "--address", feed)
    r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "tusd", "--amount",
                   "1250.5", "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d")
    # 1250.5 TUSD at 0.9999 USD = 1250.37495 USD, shown in whole cents (truncated)
    assert "amount       1250.5 TUSD (USD 1250.37)" in r.stdout, r.stdout
    # a feed answering 1e30 USD is no price: the summary says n/a instead of valuing it
    chain.cast_send(A[0], feed, "setAnswer(int256)", "1" + "0" * 38)
    r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", "tusd", "--amount",
                   "1250.5", "--approvers", "bob,carol", "--threshold", "2", "--deadline", "7d")
    assert "amount       1250.5 TUSD (USD n/a)" in r.stdout, r.stdout
    log("USD from the price feed, an absurd answer refused: ok")

    # ---- a chain without a base fee: legacy pricing from eth_gasPrice ----
    c5 = Chain(chain_id=31337, args=("--base-fee", "0")).start()
    c5.deploy()
    d5 = DeskUser()
    d5.setup(c5)
    r = d5.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE, "--token", "ETH",
                 "--amount", "0.1", "--approvers", "bob,carol", "--threshold", "2",
                 "--deadline", "7d")
    assert "legacy transaction" in r.stderr and "gas price" in r.stderr, r.stderr
    h = json.loads(r.stdout)["hash"]
    t = c5.node.rpc("eth_getTransactionByHash", h)
    assert t["type"] == "0x0" and int(t["gasPrice"], 16) == int(c5.node.rpc("eth_gasPrice"), 16)
    c5.node.stop()
    log("legacy pricing on a chain without a base fee: ok")

    # tx list / show
    lst = desk.json("tx", "list", "--json")
    assert all(t["operator"] for t in lst), [t["id"] for t in lst if not t["operator"]]
    states = {t["state"] for t in lst}
    assert states <= {"confirmed", "replaced"}, states
    shown = desk.json("tx", "show", str(lst[0]["id"]), "--json")
    assert shown["hash"] == lst[0]["hash"] and shown["summary"]["nonce"] == lst[0]["nonce"]
    r = subprocess.run([os.environ.get("FUSION_BIN"), "--home", desk.home, "audit", "verify"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    log("desk_escrow: all ok")


if __name__ == "__main__":
    main()
