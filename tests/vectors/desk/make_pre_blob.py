#!/usr/bin/python3
"""make_pre_blob.py: writes tests/vectors/desk/pre_blob.db, a desk.db made by a fusion from
before the events' hashes and addresses became blobs (schema version 14: hex text, one row
per approval), by a real sync of a local anvil chain. tests/store/test_store_upgrade.c opens
a copy with the current store and checks that every row survived.

Made once with the main branch's binary at e1226be:
  FUSION_BIN=/path/to/old/fusion tests/vectors/desk/make_pre_blob.py
"""
import os
import shutil
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import sync_lib  # noqa: E402


def main():
    chain = sync_lib.Chain().start()
    chain.deploy()
    desk = sync_lib.Desk()
    # confirmations 3: the last approvals are still pending in the stored projection
    desk.add_chain(chain, confirmations=3)
    amount = 10**18
    e1 = chain.create_escrow(approvers=(2, 3, 4), threshold=2, amount=amount, via="rpc")
    chain.act(e1, 0, "fund()", value=amount, via="rpc")
    chain.act(e1, 4, "approve()", via="rpc")  # approvals out of approver order
    chain.act(e1, 2, "approve()", via="rpc")
    chain.act(e1, 6, "release()", via="rpc")
    e2 = chain.create_escrow(approvers=(2, 3), threshold=2, amount=7, via="rpc")
    chain.act(e2, 0, "fund()", value=7, via="rpc")
    chain.act(e2, 0, "dispute(string)", "late", via="rpc")
    e3 = chain.create_escrow(approvers=(2, 3, 4), threshold=3, amount=5, via="rpc")
    desk.run("sync", "--once")
    chain.act(e3, 0, "fund()", value=5, via="rpc")
    chain.act(e3, 3, "approve()", via="rpc")
    chain.act(e3, 2, "approve()", via="rpc")
    desk.run("sync", "--once")
    con = sqlite3.connect(os.path.join(desk.home, "desk.db"))
    v = con.execute("PRAGMA user_version").fetchone()[0]
    n = con.execute("SELECT count(*) FROM events").fetchone()[0]
    na = con.execute("SELECT count(*) FROM escrow_approvals").fetchone()[0]
    np_ = con.execute("SELECT count(*) FROM escrow_approvals WHERE pending = 1").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert v == 14 and n and na and np_, (v, n, na, np_)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pre_blob.db")
    # a clean single file: the desk's tables only, no WAL
    src = sqlite3.connect(os.path.join(desk.home, "desk.db"))
    dst = sqlite3.connect(out + ".tmp")
    src.backup(dst)
    dst.execute("PRAGMA journal_mode=DELETE")
    dst.execute("VACUUM")
    dst.close()
    src.close()
    os.replace(out + ".tmp", out)
    print(f"{out}: schema {v}, {n} events, {na} approvals ({np_} pending)")
    chain.node.stop()


if __name__ == "__main__":
    main()
