#!/usr/bin/python3
"""credit_repay_sync.py: repayments recognised from ERC-20 Transfer events by the sync
(integration, a real anvil node).

A facility of entity Acme (its address linked) in USDC with a repayment address, one of the
desk's operator addresses (`--repay-to`). Real USDC transfers with cast: from the linked
address to the repayment address (a repayment), from an unlinked address to it and from the
linked address elsewhere (neither is one). After `fusion sync --once` the ledger has exactly
one `repay` row of exactly the transfer's base units, dated its block's day, naming the
transaction; another sync posts nothing twice; the repayments on the ledger equal what cast
says the repayment address received from the linked address. A reorg that drops a second,
already-posted repayment removes its row (the ledger again equals cast). A repayment address
that is no desk account is refused with one line.

With the desk's book on a PostgreSQL server (tests/lib/pg.py run: credit-repay-sync_pg) the
inflows are the server's (desk.db holds none) and the ledger stays desk.db's: the repayment
row names the server's inflow by the identity of its database (cluster system identifier /
database oid / name, as the book's reader gives it) and its id there, inflow_id (desk.db's
inflows) NULL. A ledger row that names another database with the same inflow id keeps
nothing from being posted; the second sync posts nothing; the reorg removes the posted row
as on desk.db, the other database's row untouched.
"""
import datetime
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import A, SERVER, Chain, Desk, cast, need_artifacts  # noqa: E402
from credit_lib import check, token  # noqa: E402


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    node = chain.node
    chain.deploy()
    usdc = token(node, "USD Coin", "USDC", 6)
    cp, stranger = A[1], A[7]
    for who in (cp, stranger):
        chain.cast_send(A[0], usdc, "mint(address,uint256)", who, str(10**6 * 10**6))

    desk = Desk()
    desk.add_chain(chain, confirmations=0)
    check(bool(SERVER) == os.path.exists(os.path.join(desk.home, "book.conf")),
          "the book is on the server exactly when the test runs with one")
    rita = desk.signed.add("rita", "risk")
    desk.signed.add("carl", "compliance")
    desk.run("asset", "add-token", "--chain", "local", "--symbol", "USDC", "--address", usdc)
    desk.run("--operator", "carl", "entity", "add", "Acme", "--type", "company",
             "--jurisdiction", "CH")
    desk.run("--operator", "carl", "entity", "link", "Acme", "--chain", "local", "--address", cp)
    r = desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
                 "--currency", "USDC", "--limit", "1000000", "--rate", "5",
                 "--repay-to", A[9], check=False)
    check(r.returncode == 1 and "operator addresses" in r.stderr
          and len(r.stderr.strip().splitlines()) == 1, f"a foreign repay-to: {r.stderr}")
    desk.run("--operator", "rita", "credit", "facility", "add", "acme", "--entity", "Acme",
             "--currency", "USDC", "--limit", "1000000", "--rate", "5", "--repay-to", rita,
             "--effective", "2020-01-01")
    show = desk.json("credit", "facility", "show", "acme", "--json")
    check(show["repay_to"].lower() == rita.lower(), f"repay_to {show['repay_to']}")
    desk.run("--operator", "rita", "credit", "draw", "acme", "100000", "--by-hand", "--date", "2020-01-02",
             "--override", "unsecured test facility")

    def balance(who):
        return int(node.cast("call", usdc, "balanceOf(address)(uint256)", who).split()[0])

    def repays():
        rows = desk.json("credit", "ledger", "acme", "--json")["rows"]
        return [r for r in rows if r["kind"] == "repay"]

    def identity():
        """The server database's identity as the book's reader names it (pg_read.c's
        rd_feed_state)."""
        (ident,), = desk.server_rows(
            "SELECT (SELECT system_identifier::text FROM pg_control_system()) || '/'"
            " || (SELECT oid::text FROM pg_database WHERE datname = current_database())"
            " || '/' || current_database()")
        return ident

    def server_inflow_ids():
        return [int(i) for (i,) in desk.server_rows("SELECT id FROM inflows ORDER BY id")]

    if SERVER:
        # a row of another database naming the id the server's first inflow gets (ids of
        # two databases collide): it must keep nothing of this database from being posted
        nxt = int(desk.server_rows("SELECT coalesce(max(id), 0) + 1 FROM inflows")[0][0])
        fid = desk.query("SELECT id FROM credit_facilities WHERE name = 'acme'")[0][0]
        con = sqlite3.connect(os.path.join(desk.home, "desk.db"), timeout=30)
        with con:
            con.execute("INSERT INTO credit_ledger (facility_id, day, kind, amount, base_e8,"
                        " spread_e8, memo, operator, created_at, inflow_book, inflow_book_id,"
                        " inflow_chain) VALUES (?, 18263, 'fee', '0', 0, 0, 'other database',"
                        " 'test', 0, '1/1/another', ?, 31337)", (fid, nxt))
        con.close()

    tx = chain.cast_send(cp, usdc, "transfer(address,uint256)", rita, "2500500001")
    chain.cast_send(stranger, usdc, "transfer(address,uint256)", rita, "1000000000")
    chain.cast_send(cp, usdc, "transfer(address,uint256)", A[8], "7000000")
    # the node's own Transfer log of the repayment: its amount, in base units
    topic = cast("keccak", "Transfer(address,address,uint256)").strip().lower()
    logs = [lg for lg in tx["logs"] if lg["topics"][0].lower() == topic]
    check(len(logs) == 1, f"the repayment's Transfer logs: {tx['logs']}")
    sent = int(logs[0]["data"], 16)
    desk.run("sync", "--once")
    got = repays()
    check(len(got) == 1 and int(got[0]["amount_units"]) == sent == 2500500001,
          f"one repayment of the Transfer log's {sent} units: {got}")
    check(tx["transactionHash"].lower() in got[0]["memo"].lower(), f"memo {got[0]['memo']}")
    ts = int(node.rpc("eth_getBlockByNumber", tx["blockNumber"], False)["timestamp"], 16)
    day = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).date().isoformat()
    check(got[0]["date"] == day, f"dated {got[0]['date']}, its block's day is {day}")
    check(balance(rita) - 1000000000 == sum(int(r["amount_units"]) for r in got),
          f"cast {balance(rita)} vs ledger {got}")
    if SERVER:
        check(desk.query("SELECT count(*) FROM inflows")[0][0] == 0,
              "desk.db holds inflows on a server book")
        (sid,), = desk.server_rows("SELECT id FROM inflows WHERE lower(tx_hash) = '%s'"
                                   % tx["transactionHash"].lower())
        op = desk.query("SELECT operator, inflow_id, inflow_book, inflow_book_id, inflow_chain"
                        " FROM credit_ledger WHERE kind = 'repay'")
        check(op == [("sync", None, identity(), int(sid), 31337)],
              f"the row names the server's inflow {sid} of {identity()}: {op}")
        check(int(sid) == nxt, f"the server's inflow {sid} has the other database's id {nxt}")
    else:
        op = desk.query("SELECT operator, inflow_id FROM credit_ledger WHERE kind = 'repay'")
        check(len(op) == 1 and op[0][0] == "sync" and op[0][1], f"row {op}")

    desk.run("sync", "--once")
    check(len(repays()) == 1, "a second sync posted the repayment again")
    if SERVER:  # every inflow still on the server, unreorged: nothing was posted twice
        check(len(server_inflow_ids()) == 2, f"server inflows {server_inflow_ids()}")

    # a second repayment, posted, then dropped by a reorg: its row goes
    chain.cast_send(cp, usdc, "transfer(address,uint256)", rita, "100000000")
    desk.run("sync", "--once")
    check(len(repays()) == 2, f"second repayment: {repays()}")
    node.rpc("anvil_reorg", 1, [])
    node.mine(2)
    desk.run("sync", "--once")
    got = repays()
    check(balance(rita) - 1000000000 == sum(int(r["amount_units"]) for r in got) == 2500500001,
          f"after the reorg: cast {balance(rita)}, ledger {got}")
    if SERVER:
        # the reorged inflow is marked on the server (kept), its row gone; the other
        # database's row untouched
        reorged = desk.server_rows("SELECT count(*) FROM inflows WHERE reorged_at IS NOT NULL")
        check(int(reorged[0][0]) == 1, f"reorged inflows on the server: {reorged}")
        rows = desk.query("SELECT inflow_book, inflow_book_id FROM credit_ledger"
                          " WHERE inflow_book IS NOT NULL ORDER BY id")
        check(rows == [("1/1/another", nxt), (identity(), nxt)], f"ledger's inflows {rows}")
    print("credit repay sync: ok")


if __name__ == "__main__":
    main()
