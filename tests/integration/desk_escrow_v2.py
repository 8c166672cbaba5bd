#!/usr/bin/python3
"""desk_escrow_v2.py: version-2 escrows through the fusion binary on a real anvil node,
beside version 1 on the same chain. `chain add` records the factory's version(); a desk
that also holds a version-1 factory syncs both. Create refuses a payee or non-operator
approver and a dispute window outside 1-90 days before signing; approve sends the terms
hash, which is checked here with `cast abi-encode`/`cast keccak` and the contract's
termsHash(); sweep returns stray tokens to the payer. Every on-chain state is read with
`cast`, never with fusion's own view.

Under tests/lib/pg.py run (desk_escrow_v2_pg) the desk's book is on the test's PostgreSQL
server: add-factory rewinds the server's events and checkpoint in one server transaction,
and the escrows are read there; against another workstation's syncer whose range commit is
in flight, on a synced chain and on a chain never synced (its very first range)."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, Chain, artifact, cast, log, need_artifacts  # noqa: E402
from sync_lib import FUSION, PSQL, SERVER, Desk, wait_until  # noqa: E402
from desk_escrow import DeskUser, PAYEE, nonce, token_balance  # noqa: E402


def num(x):
    """A number column as either book gives it (SQLite's int, psql's text, NULL)."""
    return None if x is None or x == "" else int(x)


def terms_hash(desk, escrow, new=None):
    """The escrow's stored terms hash where the book is; new: written instead."""
    if new is None:
        return desk.escrow_rows("terms_hash", escrow)[0][0]
    sql = f"UPDATE escrows SET terms_hash = '{new}' WHERE address = '{escrow.lower()}'"
    if desk.book:
        desk.server_rows(sql)
        return new
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    con.execute(sql)
    con.commit()
    con.close()
    return new


def no_event_twice(desk):
    twice = desk.book_query("SELECT count(*) FROM (SELECT block_number, log_index FROM events"
                            " GROUP BY block_number, log_index HAVING count(*) > 1) t")
    assert num(twice[0][0]) == 0, twice


def v2_state(chain, escrow):
    out = chain.node.cast("call", escrow, "state()(uint8)")
    return ["created", "funded", "released", "refunded", "disputed", "resolved"][int(out.split()[0])]


def waiting_on_locks(desk):
    return int(desk.server_rows("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                " current_database() AND wait_event_type = 'Lock'")[0][0])


def server_refusing(desk, v2, synced):
    """The server refusing add-factory's transaction half-way (its contracts row, by a
    trigger of the test's) and the server away (book.conf naming a port nobody listens
    on): one line, exit 1, neither desk.db nor the server written."""
    def unchanged():
        rows = desk.query("SELECT address FROM contracts WHERE kind = 'factory'")
        assert [x[0].lower() for x in rows] != [] and v2 not in [x[0].lower() for x in rows]
        assert not desk.server_rows(f"SELECT 1 FROM contracts WHERE address = '{v2}'")
        cp = desk.server_rows("SELECT synced_block FROM checkpoints")
        assert int(cp[0][0]) == synced, (cp, synced)
        assert int(desk.server_rows("SELECT count(*) FROM events")[0][0]) == n_events

    n_events = int(desk.server_rows("SELECT count(*) FROM events")[0][0])
    desk.server_rows("CREATE FUNCTION no_factory() RETURNS trigger LANGUAGE plpgsql AS"
                     " $$BEGIN RAISE EXCEPTION 'the test refuses factories'; END$$;"
                     " CREATE TRIGGER no_factory BEFORE INSERT ON contracts"
                     " FOR EACH ROW EXECUTE FUNCTION no_factory()")
    r = desk.run("chain", "add-factory", "local", "--factory", v2, check=False)
    assert r.returncode == 1 and "refuses factories" in r.stderr, r
    assert r.stderr.count("\n") == 1, r.stderr
    unchanged()
    desk.server_rows("DROP TRIGGER no_factory ON contracts; DROP FUNCTION no_factory()")
    path = os.path.join(desk.home, "book.conf")
    with open(path) as f:
        good = f.read()
    away = re.sub(r"port=\d+", "port=9", good)  # the test's server's socket, another port
    assert away != good, good
    with open(path, "w") as f:
        f.write(away)
    desk.signed.sign_config("book")
    r = desk.run("chain", "add-factory", "local", "--factory", v2, check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r
    with open(path, "w") as f:
        f.write(good)
    desk.signed.sign_config("book")
    unchanged()
    log("add-factory with the server refusing, and away: one line, nothing written: ok")


def deploy_v2_with_escrow(chain):
    """A version-2 factory deployed now and one escrow made through it: (factory, escrow)."""
    v2 = chain.node.deploy(artifact("EscrowFactoryV2")["bytecode"]).lower()
    r = chain.cast_send(A[0], v2, "createEscrow(address,address,uint256,address[],uint256,"
                        "address,uint64,uint64)", PAYEE, "0x" + "00" * 20, "1000",
                        f"[{A[2]}]", "1", A[4], str(int(time.time()) + 86400), "86400")
    return v2, "0x" + [lg for lg in r["logs"] if lg["address"].lower() == v2][0]["topics"][1][-40:]


def race_add_factory(a, chain, v1, v2, held, syncer_first):
    """Workstation B (the chain with the version-1 factory only, its book A's database)
    follows while A runs add-factory of v2; the row `held` names (SQL selecting it FOR
    UPDATE, and its words) is held here until both wait for it, in the order syncer_first
    says, then let go. Returns (B, add-factory's --json)."""
    sql, what = held
    b = Desk()
    b.run("chain", "add", "--name", "local", "--chain-id", chain.chain_id, "--rpc",
          chain.node.url, "--factory", v1, "--confirmations", 0)
    with open(os.path.join(b.home, "book.conf"), "w") as f:
        f.write(f"db = {a.book}\n")
    os.chmod(os.path.join(b.home, "book.conf"), 0o600)
    b.signed.sign_config("book")
    b.book = a.book
    hold = subprocess.Popen([PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", a.book],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    hold.stdin.write(f"BEGIN;\n{sql};\n")
    hold.stdin.flush()
    wait_until(lambda: int(a.server_rows(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state ="
        " 'idle in transaction'")[0][0]) == 1, f"{what} held")
    args = ("chain", "add-factory", "local", "--factory", v2, "--json")
    for step in ("syncer", "add") if syncer_first else ("add", "syncer"):
        if step == "syncer":
            b.follow()
        else:
            add = subprocess.Popen([FUSION, "--home", a.home, *a.signed.sign_args(args), *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        n = 1 if step == ("syncer" if syncer_first else "add") else 2
        wait_until(lambda: waiting_on_locks(a) == n or (step == "add" and add.poll() is not None),
                   f"{step} waiting for {what}")
    hold.stdin.write("COMMIT;\n")
    hold.stdin.close()
    hold.wait(timeout=60)
    out, err = add.communicate(timeout=300)
    assert add.returncode == 0, (add.returncode, err)
    return b, json.loads(out)


def reread_like_node(a, b, chain, addresses, what):
    """B's syncer reads the range again with the book's factory: the server then holds the
    node's logs of addresses, each once."""
    head = int(chain.node.rpc("eth_blockNumber"), 16)
    wait_until(lambda: a.escrow_count(addresses[-1]) == 1 and
               a.checkpoint(chain.chain_id)[0] == head, what)
    b.stop_follow()
    want = set()
    for lg in chain.node.logs(addresses, 0, "latest"):
        want.add((int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    have = [(int(x[0]), int(x[1])) for x in a.server_rows(
        "SELECT block_number, log_index FROM events")]
    assert len(have) == len(set(have)) and set(have) == want, (sorted(have), sorted(want))


def concurrent_rewind(syncer_first):
    """add-factory on the server while another workstation's syncer commits a range past
    the factory's first block, read without it (its desk does not have the factory), made
    deterministic by holding the checkpoint's row so that both wait for it, in a known order.
    syncer_first: the syncer's commit lands first; the rewind must see it (it locks the
    checkpoint row first) and roll it back too. Else add-factory commits first and needs no
    rewind (the server is behind the factory's block); the syncer's commit must be refused
    (the book has a factory the range was read without). Either way the syncer reads the
    range again with the book's factory: its escrow on the server, no event twice, no
    gap."""
    chain = Chain(chain_id=31337).start()
    v1 = chain.deploy().lower()
    a = Desk()
    a.add_chain(chain, confirmations=0)
    assert a.book, "the desk's book is on the server"
    e_a = chain.create_escrow().lower()
    a.run("sync", "--once")
    synced = a.checkpoint(chain.chain_id)[0]
    v2, e_v2 = deploy_v2_with_escrow(chain)
    e_b = chain.create_escrow().lower()
    chain.node.mine(2)
    b, got = race_add_factory(a, chain, v1, v2, (
        "SELECT synced_block FROM checkpoints FOR UPDATE", "the checkpoint row"), syncer_first)
    # B's commit first (past the factory's block, without it): the rewind saw it; else the
    # server was behind the factory's block: no rewind
    assert got["rewound"] == syncer_first and got["from_block"] == synced + 1, (got, synced)
    reread_like_node(a, b, chain, [v1, v2, e_a, e_b, e_v2],
                     "B's syncer to read the range again with the book's factory")
    assert a.escrow_count(e_a) == 1 and a.escrow_count(e_b) == 1
    log(f"add-factory on the server and another workstation's syncer committing "
        f"{'before' if syncer_first else 'after'} it: ok")


def concurrent_first_range(syncer_first):
    """concurrent_rewind on a chain never synced, which has no checkpoint row to lock: the
    chain's row is what the syncer's range commit (shared) and add-factory (exclusive) lock
    first, held here by the test so that both wait for it in a known order. syncer_first:
    another workstation's very first range, read without the factory, lands first; the
    rewind must see it. Else add-factory commits first (no rewind) and the syncer's commit
    is refused. Either way the server ends with the node's logs of both factories once."""
    chain = Chain(chain_id=31337).start()
    v1 = chain.deploy().lower()
    a = Desk()
    a.add_chain(chain, confirmations=0)
    assert a.book and a.checkpoint(chain.chain_id) is None, "a chain never synced"
    e_a = chain.create_escrow().lower()
    v2, e_v2 = deploy_v2_with_escrow(chain)
    chain.node.mine(2)
    b, got = race_add_factory(a, chain, v1, v2, (
        "SELECT chain_id FROM chains FOR UPDATE", "the chain's row"), syncer_first)
    assert got["rewound"] == syncer_first, got
    reread_like_node(a, b, chain, [v1, v2, e_a, e_v2],
                     "B's syncer to read the first range again with the book's factory")
    assert a.escrow_count(e_a) == 1
    log(f"add-factory on the server and another workstation's first range of a chain never "
        f"synced committing {'before' if syncer_first else 'after'} it: ok")


def main():
    need_artifacts()
    if SERVER:
        concurrent_first_range(syncer_first=True)
        concurrent_first_range(syncer_first=False)
        concurrent_rewind(syncer_first=True)
        concurrent_rewind(syncer_first=False)
    chain = Chain(chain_id=31337).start()
    v1 = chain.deploy()
    v2 = chain.node.deploy(artifact("EscrowFactoryV2")["bytecode"]).lower()
    tok_art = artifact("TestToken")
    ctor = cast("abi-encode", "constructor(string,string,uint8)", "Test USD", "TUSD", "6")
    token = chain.node.deploy(tok_art["bytecode"] + ctor[2:]).lower()
    chain.cast_send(A[0], token, "mint(address,uint256)", A[0], "5000000000")
    desk = DeskUser()
    # An existing desk: its chain was added with the version-1 factory, and synced.
    chain.factory = v1
    desk.setup(chain)
    if SERVER:  # the book is really on the server: book.conf, and the sync writes there
        assert desk.book and os.path.exists(os.path.join(desk.home, "book.conf")), desk.book
    rows = desk.query("SELECT address, version FROM contracts WHERE kind = 'factory'")
    assert [(r[0].lower(), r[1]) for r in rows] == [(v1, 1)], rows
    for name, who in (("Alice Treasury LLC", A[0]), ("Payee Trading Ltd", PAYEE)):
        desk.run("--operator", "dave", "entity", "add", name, "--type", "company",
                 "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
        desk.run("--operator", "dave", "entity", "link", name, "--chain", "local", "--address",
                 who)
    r = desk.as_op("alice", "escrow", "create", "--payee", PAYEE, "--token", token, "--amount",
                   "1", "--threshold", "1", "--deadline", "7d", "--approvers", "bob",
                   "--dispute-window", "2d", check=False)
    assert r.returncode == 1 and "version-2 factory" in r.stderr, r
    e_v1 = chain.create_escrow().lower()
    # A version-2 escrow made outside the desk before the desk knew the factory: the
    # add-factory below must read the factory's past logs.
    deadline0 = str(int(time.time()) + 86400)
    r = chain.cast_send(A[0], v2, "createEscrow(address,address,uint256,address[],uint256,"
                        "address,uint64,uint64)", PAYEE, "0x" + "00" * 20, "1000",
                        f"[{A[2]}]", "1", A[4], deadline0, "86400")
    e_out = "0x" + [lg for lg in r["logs"] if lg["address"].lower() == v2][0]["topics"][1][-40:]
    chain.node.mine(3)
    desk.run("sync", "--once")
    assert desk.escrow_count() == 1
    synced = num(desk.book_query("SELECT synced_block FROM checkpoints")[0][0])
    if desk.book:
        server_refusing(desk, v2, synced)
    r = desk.run("chain", "add-factory", "local", "--factory", v2, "--json")
    out = json.loads(r.stdout)
    assert out["version"] == 2 and out["events_rolled_back"] >= 1, out
    # the checkpoint where the book is went back to the block before the factory's first
    cp = num(desk.book_query("SELECT synced_block FROM checkpoints")[0][0])
    assert cp == out["from_block"] - 1 < synced, (cp, out, synced)
    if desk.book:  # the factory's row on the server too
        there = desk.server_rows("SELECT address, version FROM contracts WHERE kind = 'factory'"
                                 f" AND address = '{v2}'")
        assert there == [[v2, "2"]], there
    rows = desk.query("SELECT address, version FROM contracts WHERE kind = 'factory'"
                      " ORDER BY version")
    assert [(r[0].lower(), r[1]) for r in rows] == [(v1, 1), (v2, 2)], rows
    r = desk.run("chain", "add-factory", "local", "--factory", v2, check=False)
    assert r.returncode == 1 and "already" in r.stderr and r.stderr.count("\n") == 1, r
    chain.factory = v2

    base = ("escrow", "create", "--payee", PAYEE, "--token", token, "--amount", "100",
            "--threshold", "1", "--deadline", "7d")
    # Refusals before signing: payee as approver, a stranger as approver, a bad window.
    n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", *base, "--approvers", PAYEE, check=False)
    assert r.returncode == 1 and "the payee" in r.stderr and r.stderr.count("\n") == 1, r
    r = desk.as_op("alice", *base, "--approvers", A[6], check=False)
    assert r.returncode == 1 and "approver role" in r.stderr and r.stderr.count("\n") == 1, r
    r = desk.as_op("alice", *base, "--approvers", "bob", "--dispute-window", "91d", check=False)
    assert r.returncode == 2 and "--dispute-window" in r.stderr, r
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
    log("create refusals before signing: ok")

    r = desk.as_op("alice", "--json", *base, "--approvers", "bob,carol", "--dispute-window", "2d")
    esc = json.loads(r.stdout)["escrow"].lower()
    assert chain.node.cast("call", esc, "version()(uint256)").split()[0] == "2"
    assert chain.node.cast("call", esc, "disputeWindow()(uint64)").split()[0] == "172800"
    desk.run("sync", "--once")
    no_event_twice(desk)
    rows = desk.escrow_rows("address, version, dispute_window, terms_hash, state")
    got = {r[0].lower(): (num(r[1]), num(r[2]), r[3], r[4]) for r in rows}
    assert got[e_v1][0] == 1 and got[e_v1][3] == "created", got
    assert got[e_out][0] == 2 and got[e_out][3] == "created", got
    on_chain_hash = chain.node.cast("call", esc, "termsHash()(bytes32)").strip()
    assert got[esc][:3] == (2, 172800, on_chain_hash), (got[esc], on_chain_hash)
    log("both factories synced side by side: ok")

    # The documented encoding, with cast, against the contract.
    deadline = chain.node.cast("call", esc, "deadline()(uint64)").split()[0]
    enc = cast("abi-encode",
               "f(uint256,address,address,address,address,uint256,address[],uint256,uint64,"
               "address,uint64)", "31337", esc, A[0], PAYEE, token, "100000000",
               f"[{A[2]},{A[3]}]", "1", deadline, A[4], "172800")
    assert cast("keccak", enc).strip() == on_chain_hash, (enc, on_chain_hash)

    desk.as_op("alice", "escrow", "fund", esc)
    assert v2_state(chain, esc) == "funded"
    r = desk.as_op("bob", "escrow", "approve", esc)
    assert on_chain_hash in r.stdout, r.stdout
    txs = desk.json("tx", "list", "--json")
    appr = [t for t in txs if t["action"] == "approve"]
    assert appr and appr[-1]["summary"]["function"] == "approve(bytes32)", appr
    assert list(appr[-1]["summary"]["arguments"].values())[0] == on_chain_hash, appr
    assert chain.node.cast("call", esc, "approvals()(uint256)").split()[0] == "1"
    before = token_balance(chain, token, PAYEE)
    desk.as_op("carol", "escrow", "release", esc)
    assert v2_state(chain, esc) == "released"
    assert token_balance(chain, token, PAYEE) - before == 100000000
    log("approve(termsHash) -> release: ok")

    # Stray tokens sent to the finished escrow go back to the payer with sweep.
    chain.cast_send(A[0], token, "transfer(address,uint256)", esc, "5000000")
    before = token_balance(chain, token, A[0])
    r = desk.as_op("bob", "escrow", "sweep", esc, "--token", token, check=False)
    assert r.returncode == 1 and "only the payer" in r.stderr, r
    desk.as_op("alice", "escrow", "sweep", esc, "--token", token)
    assert token_balance(chain, token, A[0]) - before == 5000000
    assert token_balance(chain, token, esc) == 0
    desk.run("sync", "--once")
    st = [(x[0], num(x[1])) for x in desk.escrow_rows("state, inconsistent", esc)]
    assert st == [("released", 0)], st
    log("sweep of stray funds: ok")

    # A version-1 escrow refuses version-2 actions before signing.
    r = desk.as_op("alice", "escrow", "sweep", e_v1, check=False)
    assert r.returncode == 1 and "version-2" in r.stderr, r

    # The desk's terms hash must match what it synced: a wrong stored hash (what a wrong
    # projection would give) refuses the approve before signing.
    e2 = json.loads(desk.as_op("alice", "--json", *base, "--approvers", "bob,carol",
                               "--dispute-window", "1d").stdout)["escrow"].lower()
    desk.as_op("alice", "escrow", "fund", e2)
    good = terms_hash(desk, e2)
    terms_hash(desk, e2, "0x" + "11" * 32)
    n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
    r = desk.as_op("bob", "escrow", "approve", e2, check=False, screen=False)
    assert r.returncode == 1 and "terms hash" in r.stderr and r.stderr.count("\n") == 1, r
    assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
    terms_hash(desk, e2, good)
    log("approve refused on a terms-hash mismatch: ok")

    # A stored create goes out again only with approvers that still qualify: carol loses
    # the approver role while alice's create waits (dropped from the node's pool).
    chain.node.rpc("evm_setAutomine", False)
    r = desk.as_op("alice", "--json", *base, "--approvers", "bob,carol", "--wait", "0")
    cr = json.loads(r.stdout)
    chain.node.rpc("anvil_dropTransaction", cr["hash"])
    chain.node.rpc("evm_setAutomine", True)
    desk.run("operator", "roles", "carol", "--role", "compliance")
    n0 = nonce(chain, A[0])
    r = desk.as_op("alice", "tx", "check", check=False)
    assert r.returncode == 1 and "approver role" in r.stderr and r.stderr.count("\n") == 1, r
    assert chain.node.rpc("eth_getTransactionByHash", cr["hash"]) is None
    assert nonce(chain, A[0]) == n0
    desk.run("operator", "roles", "carol", "--role", "approver")
    desk.as_op("alice", "tx", "check")
    assert chain.node.rpc("eth_getTransactionReceipt", cr["hash"]) is not None
    log("a stored create re-checked for its approvers before it goes out again: ok")

    # A party never approves through the desk, also on version 1 (which lets the payee be
    # an approver): bob is the payee and an approver of this version-1 escrow.
    chain.factory = v1
    e_self = chain.create_escrow(payer=0, payee=2, approvers=(2, 3), threshold=1, arbiter=5,
                                 amount=1000).lower()
    chain.factory = v2
    chain.act(e_self, 0, "fund()", value=1000)
    # bob's key as a KYC-verified payee, so that nothing but the maker-checker stops it
    desk.run("--operator", "dave", "entity", "add", "Bob Self Ltd", "--type", "company",
             "--jurisdiction", "US", "--kyc", "verified", "--kyc-expires", "2099-12-31")
    desk.run("--operator", "dave", "entity", "link", "Bob Self Ltd", "--chain", "local",
             "--address", A[2])
    n_bob, rows0 = nonce(chain, A[2]), desk.outbound_count()
    r = desk.as_op("bob", "escrow", "approve", e_self, check=False)
    assert r.returncode == 1 and "payee" in r.stderr and "maker-checker" in r.stderr, r
    assert r.stderr.count("\n") == 1, r.stderr
    assert nonce(chain, A[2]) == n_bob and desk.outbound_count() == rows0
    log("the payee's approval of a version-1 escrow refused before signing: ok")

    # The default arbiter is never one of the approvers: dave (compliance) also approves
    # here, so erin, the next compliance operator, is named.
    desk.run("operator", "roles", "dave", "--role", "compliance,approver")
    desk.run("operator", "add", "erin", "--key", A[6], "--role", "compliance")
    e4 = json.loads(desk.as_op("alice", "--json", *base, "--approvers", "bob,dave").stdout)[
        "escrow"].lower()
    assert chain.node.cast("call", e4, "arbiter()(address)").strip().lower() == A[6].lower()
    desk.run("operator", "roles", "dave", "--role", "compliance")
    log("the default arbiter is not an approver: ok")

    # The desk's own deadline check for funding reads the chain's clock (the contract's),
    # not this machine's: after moving the chain past the deadline, the fund is refused by
    # the desk itself, before any estimate or signature.
    e3 = json.loads(desk.as_op("alice", "--json", *base[:-2], "--deadline", "2h",
                               "--approvers", "bob,carol").stdout)["escrow"].lower()
    chain.node.rpc("evm_increaseTime", 3 * 3600)
    chain.node.mine(1)
    n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
    r = desk.as_op("alice", "escrow", "fund", e3, check=False)
    assert r.returncode == 1 and "past its deadline" in r.stderr, r
    assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
    log("fund past the deadline by the chain's clock refused: ok")

    # Arbiter hand-over by the arbiter (dave) only; then a dispute outlives its window and
    # the payer's refund ends it.
    r = desk.as_op("alice", "escrow", "transfer-arbiter", e2, "--to", A[5], check=False)
    assert r.returncode == 1 and "only the arbiter" in r.stderr, r
    desk.as_op("dave", "escrow", "transfer-arbiter", e2, "--to", A[5])
    assert chain.node.cast("call", e2, "arbiter()(address)").strip().lower() == A[5].lower()
    desk.as_op("alice", "escrow", "dispute", e2, "--reason", "goods not delivered")
    assert v2_state(chain, e2) == "disputed"
    r = desk.as_op("alice", "escrow", "refund", e2, check=False)
    assert r.returncode == 1 and "dispute window" in r.stderr, r
    chain.node.rpc("evm_increaseTime", 7 * 86400 + 86400 + 60)
    chain.node.mine(1)
    before = token_balance(chain, token, A[0])
    desk.as_op("alice", "escrow", "refund", e2)
    assert v2_state(chain, e2) == "refunded"
    assert token_balance(chain, token, A[0]) - before == 100000000
    desk.run("sync", "--once")
    st = desk.escrow_rows("state, arbiter, created_arbiter, inconsistent", e2)
    assert [(x[0], x[1].lower(), x[2].lower(), num(x[3])) for x in st] == [
        ("refunded", A[5].lower(), A[4].lower(), 0)], st
    log("transfer-arbiter, dispute past its window -> payer's refund: ok")

    # A chain without Cancun (EIP-1153) is refused: chain add and add-factory, one line.
    old = Chain(chain_id=31338, args=["--hardfork", "shanghai"]).start()
    some = old.node.deploy("0x600160005360016000f3")  # any code (one byte)
    r = desk.run("chain", "add", "--name", "old", "--chain-id", "31338", "--rpc", old.node.url,
                 "--factory", some, check=False)
    assert r.returncode == 1 and "EIP-1153" in r.stderr and r.stderr.count("\n") == 1, r
    assert not desk.query("SELECT 1 FROM chains WHERE chain_id = 31338")
    log("a chain without Cancun refused: ok")

    # MockPriceFeed: accepted on a devnet chain (31337), refused elsewhere (4242).
    feed_ctor = cast("abi-encode", "constructor(uint8,string,int256)", "8", "ETH / USD",
                     "300000000000")
    feed_code = artifact("MockPriceFeed")["bytecode"] + feed_ctor[2:]
    mock_here = chain.node.deploy(feed_code)
    desk.run("asset", "add-feed", "--chain", "local", "--asset", "ETH", "--address", mock_here)
    public = Chain(chain_id=4242).start()
    f_pub = public.node.deploy(artifact("EscrowFactoryV2")["bytecode"])
    mock_pub = public.node.deploy(feed_code)
    desk.run("chain", "add", "--name", "pub", "--chain-id", "4242", "--rpc", public.node.url,
             "--factory", f_pub)
    r = desk.run("asset", "add-feed", "--chain", "pub", "--asset", "ETH", "--address", mock_pub,
                 check=False)
    assert r.returncode == 1 and "MockPriceFeed" in r.stderr and r.stderr.count("\n") == 1, r
    assert not desk.query("SELECT 1 FROM price_feeds WHERE chain_id = 4242")
    # A desk configured before this check (the feed row written directly): the risk
    # service reads the feed's code and does not use a mock's price outside a devnet.
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
    con.execute("INSERT INTO price_feeds (chain_id, address, asset, decimals) VALUES"
                " (4242, ?, 'ETH', 8)", (mock_pub.lower(),))
    con.commit()
    con.close()
    rep = desk.json("risk", "report", "--json")
    mocks = [a for a in rep["alerts"] if a["kind"] == "mock_feed"]
    assert len(mocks) == 1 and mock_pub.lower() in mocks[0]["message"].lower(), rep["alerts"]
    assert not desk.query("SELECT 1 FROM price_observations WHERE chain_id = 4242")
    assert desk.query("SELECT 1 FROM price_observations WHERE chain_id = 31337")
    log("MockPriceFeed refused outside a devnet: ok")


if __name__ == "__main__":
    main()
