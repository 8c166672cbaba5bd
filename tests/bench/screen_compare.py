#!/usr/bin/python3
"""screen_compare.py: the screening results of two desks synced from the same chain, row by row
(cases, hits, case events, screened marks, the cases' API feed rows and the case audit rows, ids
included; clock columns left out, a case's SLA kept as due_at - opened_at). Exit 0 when equal.
Usage: tests/bench/screen_compare.py HOME_A HOME_B"""
import sqlite3, json, sys
def dump(home):
    db = sqlite3.connect(home + "/desk.db")
    out = {}
    out["cases"] = db.execute("SELECT id, subject, entity_id, chain_id, escrow, state, outcome, priority, score, opened_at - (SELECT min(opened_at) FROM cases), due_at - opened_at, assignee, snoozed_until, proposed_outcome, proposed_by, closed_by, closed_at FROM cases ORDER BY id").fetchall()
    out["hits"] = db.execute("SELECT id, chain_id, escrow, subject, address, entity_id, role, rule, kind, score, evidence, list_sha256, list_version, case_id, reorged_at FROM screening_hits ORDER BY id").fetchall()
    out["case_events"] = db.execute("SELECT id, case_id, operator, action, before, after, note FROM case_events ORDER BY id").fetchall()
    out["marks"] = db.execute("SELECT chain_id, escrow, created_tx, created_block_hash FROM screened_escrows ORDER BY chain_id, escrow").fetchall()
    out["feed"] = db.execute("SELECT kind, chain_id, ref, state FROM api_feed WHERE kind LIKE 'case.%' ORDER BY id").fetchall()
    rows = [json.loads(l) for l in open(home + "/audit.log")]
    out["audit"] = [(r["operator"], r["action"], json.dumps(r["details"], sort_keys=True)) for r in rows if r["action"].startswith("case.")]
    return out
a, b = dump(sys.argv[1]), dump(sys.argv[2])
ok = True
for k in a:
    same = a[k] == b[k]
    ok &= same
    print(f"{k:12} {len(a[k]):6} {len(b[k]):6} {'same' if same else 'DIFFERENT'}")
    if not same:
        for x, y in zip(a[k], b[k]):
            if x != y:
                print("  first diff:", x, "\n             ", y); break
sys.exit(0 if ok else 1)
