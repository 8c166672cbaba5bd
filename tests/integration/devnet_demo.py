#!/usr/bin/python3
"""devnet_demo.py: `fusion demo --no-ui` end to end on real anvil nodes.

Runs the demo headless for a while on free ports (keeping the devnet afterwards), then
checks what it did from the outside: the feeds moved to real closes of data/prices
(cast latestRoundData against the CSV, read here), escrows exist on chain that sync put
in the desk database — including one to the sanctioned address of data/demo, three
just under 10,000 USDC to one counterparty, and a released one (cast call state()); the
operators' keys are in the key store with their labels; the desk is a signed desk (its
admin's genesis, the seed's decisions signed; dave acts only with his passphrase). A
second demo run reuses the
desk (no new keys, no new mints). Finally `devnet down` leaves no anvil (/proc), and a
demo killed with SIGKILL still has its devnet stopped by the guardian.
"""
import csv
import decimal
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devnet_lib import (N_CHAINS, FUSION, ROOT, ENV, anvils_on, cast, check, failures, free_ports,  # noqa: E402
                        fusion, report)

SANCTIONED = "0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1"
HELIOS = "0x14dc79964da2c08b23698b3d3cc7ca32193d9955"
MARKET = "0xbcd4042de499d14e55001ccbb24a551f3b954096"  # anvil #10, the market maker


def closes_by_day(asset):
    path = os.path.join(ROOT, "data", "prices", "yf_%s-USD_1d.csv" % asset)
    out = {}
    with open(path) as f:
        for line in f.read().splitlines()[1:]:
            if line.strip():
                q = decimal.Decimal(line.split(",")[1]).scaleb(8)
                out[line.split(",")[0]] = int(q.to_integral_value(rounding=decimal.ROUND_DOWN))
    return out


def closes_8(asset):
    return set(closes_by_day(asset).values())


def main():
    home = tempfile.mkdtemp(prefix="fusion-demo-")
    ports = free_ports(N_CHAINS)
    done = False
    try:
        run(home, ports)
        done = True
    finally:
        if failures or not done:
            show_warnings(home)
        fusion(home, "devnet", "down", rc=None)
        check(not anvils_on(ports), "no anvil left on our ports")
    killed(tempfile.mkdtemp(prefix="fusion-demo-kill-"), free_ports(N_CHAINS))
    return report()


def show_warnings(home):
    """What the driver, sync and the RPC client warned about: names the chain and the call
    when a run went wrong (a node that stopped answering, a refused transaction)."""
    try:
        with open(os.path.join(home, "fusion.log")) as f:
            warned = [l for l in f if " WARN " in l or " ERROR " in l]
    except OSError:
        return
    print("fusion.log warnings (last 40 of %d):" % len(warned), file=sys.stderr)
    sys.stderr.writelines(warned[-40:])


def run(home, ports):
    port_arg = ",".join(map(str, ports))
    p = fusion(home, "demo", "--no-ui", "--duration", "16s", "--step-ms", "1000",
               "--ports", port_arg, "--keep-devnet")
    print(p.stdout, end="")
    check("0 errors" in p.stdout, "driver ran without errors")
    check("6 new" in p.stdout, "six operator keys imported")

    keys = fusion(home, "key", "list").stdout
    for label in ("alice (trader)", "bob (approver)", "carol (approver)", "dave (compliance)",
                  "erin (arbiter)", "frank (compliance)", "deployer (anvil #0)"):
        check(label in keys, "key store has %r" % label)

    db = sqlite3.connect(os.path.join(home, "desk.db"))
    urls = dict(db.execute("SELECT chain_id, url FROM rpc_endpoints"))
    # feeds moved: more than one round, and the answer is one of the real closes
    series = {"ETH": "ETH", "BTC": "BTC", "USDC": "USDC", "WETH": "ETH", "WBTC": "BTC",
              "POL": "MATIC", "AVAX": "AVAX"}
    closes = {a: closes_8(s) for a, s in series.items()}
    eth_day = closes_by_day("ETH")
    names = dict(db.execute("SELECT chain_id, name FROM chains"))
    last_day = dict(re.findall(r"^demo: (\S+): \d+ days replayed \(last (\S+)\)", p.stdout, re.M))
    # No node was stopped here: however slow the machine, stopping lets every worker finish
    # the step it is in, so no chain's feeds hold part of a day its line does not name.
    cut = dict(re.findall(r"^demo: (\S+): .* (\d+) steps cut short", p.stdout, re.M))
    check(len(cut) == N_CHAINS and all(v == "0" for v in cut.values()),
          "no step cut short on a node that answers: %r" % cut)
    for chain_id, address, asset in db.execute("SELECT chain_id, address, asset FROM "
                                               "price_feeds"):
        out = cast("call", "--rpc-url", urls[chain_id], address,
                   "latestRoundData()(uint80,int256,uint256,uint256,uint80)").splitlines()
        rnd, answer = int(out[0].split()[0]), int(out[1].split()[0])
        check(rnd > 3, "feed %s on %d moved (round %d)" % (asset, chain_id, rnd))
        check(answer in closes[asset], "feed %s answer %d is a real close" % (asset, answer))
        # ETH's history sets the pace: an ETH feed shows the close of the last day the demo
        # says this chain replayed, as soon as the demo returns (its last update mined)
        if series[asset] == "ETH":
            day = last_day[names[chain_id]]
            check(answer == eth_day[day], "feed %s on %d shows the close of %s, the last day "
                  "replayed (%d, want %d)" % (asset, chain_id, day, answer, eth_day[day]))

    rows = db.execute("SELECT chain_id, address, payee, amount, state FROM escrows").fetchall()
    check(len(rows) >= 5, "at least five escrows synced (%d)" % len(rows))
    # The desk may lag the chain (two confirmations, and the driver's last transactions can
    # be mined after the demo's sync stopped), never lead it or disagree with its history:
    # the synced state is the chain's state or an earlier one on the path
    # created -> funded -> released.
    path = ["created", "funded", "released"]
    for chain_id, address, payee, amount, state in rows:
        onchain = int(cast("call", "--rpc-url", urls[chain_id], address, "state()(uint8)"))
        check(state in path and onchain < len(path) and path.index(state) <= onchain,
              "escrow %s state %s is the chain's (%d) or an earlier one" % (address, state,
                                                                           onchain))
    check(any(r[2] == SANCTIONED for r in rows), "an escrow pays the sanctioned address")
    helios = [int(r[3]) for r in rows if r[2] == HELIOS]
    check(len(helios) >= 3 and all(9000 * 10**6 <= a < 10000 * 10**6 for a in helios),
          "three deposits just under 10,000 USDC to one counterparty: %s" % helios)
    check(any(r[4] == "released" for r in rows), "an escrow was approved and released")
    # The flow comes from the market maker's own account, never a desk operator's key, so
    # its velocity and structuring cases fall on the market maker's entity, not the desk's.
    payers = {p for (p,) in db.execute("SELECT DISTINCT payer FROM escrows")}
    check(payers == {MARKET}, "every demo escrow is paid by the market maker: %s" % payers)
    desk_id = db.execute("SELECT id FROM entities WHERE name = 'Fusion Prime Demo Desk'").fetchone()
    check(desk_id is not None, "the desk's own entity is seeded")
    own = db.execute("SELECT count(*) FROM cases WHERE entity_id = ? OR subject = ?",
                     (desk_id[0], "entity:%d" % desk_id[0])).fetchone()[0]
    check(own == 0, "no case on the desk's own entity (%d)" % own)
    market_keys = fusion(home, "key", "list").stdout
    check(MARKET[2:10] not in market_keys.lower(), "the market maker's key is not the desk's")
    seeded(db, urls)
    screened = db.execute("SELECT count(*) FROM screened_escrows").fetchone()[0]
    check(screened == len(rows), "every synced escrow screened (%d of %d)" % (screened, len(rows)))
    db.close()
    risk_sized(home)
    four_eyes(home)

    # a second run reuses the running devnet and the desk
    p = fusion(home, "demo", "--no-ui", "--duration", "3s", "--ports", port_arg)
    check(p.stdout.count("already running") == N_CHAINS, "second demo reuses the nodes")
    check("0 new; 0 new in the desk), 0 token mints" in p.stdout,
          "second demo adds no keys, operators and mints: %r" % p.stdout)
    check("0 new, 0 new address links" in p.stdout, "second demo adds no entities or links")
    check(len(anvils_on(ports)) == N_CHAINS, "the demo leaves a devnet it did not start running")


def seeded(db, urls):
    """Entities, links, operators and screening, against data/demo and data/sanctions."""
    with open(os.path.join(ROOT, "data", "demo", "entities.csv")) as f:
        rows = list(csv.DictReader(f))
    stored = {name: (kyc, jur) for name, kyc, jur in
              db.execute("SELECT name, kyc, jurisdiction FROM entities")}
    for r in rows:
        check(stored.get(r["name"]) == (r["kyc"], r["jurisdiction"]),
              "entity %s stored with KYC %s" % (r["name"], r["kyc"]))
        links = {c for (c,) in db.execute(
            "SELECT a.chain_id FROM entity_addresses a JOIN entities e ON e.id = a.entity_id "
            "WHERE e.name = ? AND a.address = ?", (r["name"], r["address"].lower()))}
        check(links == set(urls), "entity %s linked on every chain: %s" % (r["name"], links))
    check({r["kyc"] for r in rows} >= {"pending", "verified", "rejected", "expired"},
          "entities in every KYC state")
    ops = dict(db.execute("SELECT name, roles FROM operators"))
    check(sum(1 for v in ops.values() if "compliance" in v) >= 2,
          "two compliance officers for four-eyes: %s" % ops)
    with open(os.path.join(ROOT, "data", "sanctions", "sanctioned_addresses_ETH.txt")) as f:
        listed = {l.strip().lower() for l in f if l.strip()}
    check(SANCTIONED in listed, "the sanctioned payee is on the shipped list")
    hits = db.execute("SELECT rule, address, case_id FROM screening_hits").fetchall()
    rules = {h[0] for h in hits}
    for rule in ("sanctions", "structuring", "large_amount", "unknown_counterparty", "kyc"):
        check(rule in rules, "screening hit %s stored (rules: %s)" % (rule, sorted(rules)))
    check(any(h[0] == "sanctions" and h[1] == SANCTIONED and h[2] for h in hits),
          "the sanctioned payee's hit has a case")
    high = db.execute("SELECT count(*) FROM cases WHERE priority = 1 AND state <> 'closed'")
    check(high.fetchone()[0] >= 1, "an open high-priority case")
    # the desk's own flow (own.exempt): velocity and structuring count per counterparty,
    # never on the desk's own accounts or its own entity
    own = {a for (a,) in db.execute("SELECT address FROM operators")}
    own_entities = {e for (e,) in db.execute(
        "SELECT DISTINCT entity_id FROM entity_addresses WHERE address IN "
        "(SELECT address FROM operators)")}
    own |= {a for (a, e) in db.execute("SELECT address, entity_id FROM entity_addresses")
            if e in own_entities}
    windowed = db.execute("SELECT rule, address, subject FROM screening_hits "
                          "WHERE rule IN ('velocity', 'structuring', 'large_amount')").fetchall()
    on_own = [w for w in windowed if w[1].lower() in {a.lower() for a in own}
              or w[2] in {"entity:%d" % e for e in own_entities}]
    check(own_entities and not on_own,
          "no velocity/structuring/large-amount hit on the desk's own accounts or entity: %s"
          % on_own[:3])
    check(any(w[0] == "structuring" for w in windowed),
          "structuring still caught, on the counterparty: %s" % windowed[:3])


def four_eyes(home):
    """The demo's two compliance officers close the sanctioned payee's (high) case
    four-eyes: dave proposes blocking, dave cannot confirm himself, frank confirms."""
    path = os.path.join(home, "desk.db")
    db = sqlite3.connect(path)
    row = db.execute("SELECT case_id FROM screening_hits WHERE rule = 'sanctions' AND "
                     "address = ? AND case_id IS NOT NULL", (SANCTIONED,)).fetchone()
    db.close()
    check(row is not None, "four-eyes: the sanctioned payee has a case")
    if row is None:
        return
    cid = str(row[0])
    # the demo desk is a signed desk: its admin signed the genesis, and a decision is
    # signed by its operator's key, so acting as dave takes dave's passphrase (the demo's)
    log = os.path.join(home, "audit.log")
    with open(log, "rb") as f:
        before = f.read()
    p = fusion(home, "--operator", "dave", "case", "take", cid, rc=1)
    check(len(p.stderr.strip().splitlines()) == 1 and "passphrase" in p.stderr,
          "the demo desk: dave without his passphrase is refused: %r" % p.stderr)
    with open(log, "rb") as f:
        check(f.read() == before, "the demo desk: nothing recorded without dave's passphrase")
    pwdir = tempfile.mkdtemp(prefix="fusion-demo-pw-")
    pw = os.path.join(pwdir, "pw")
    with open(pw, "w") as f:
        f.write("fusion-demo\n")
    os.chmod(pw, 0o600)
    dave = ("--operator", "dave", "--passphrase-file", pw)
    frank = ("--operator", "frank", "--passphrase-file", pw)
    fusion(home, *dave, "case", "take", cid)
    p = fusion(home, *dave, "case", "block", cid, "--note", "OFAC SDN payee")
    check("proposed by dave" in p.stdout, "four-eyes: dave's decision is a proposal")
    p = fusion(home, *dave, "case", "block", cid, rc=1)
    check(p.returncode == 1, "four-eyes: the proposer cannot confirm")
    fusion(home, *frank, "case", "block", cid)
    p = fusion(home, "audit", "verify", rc=None)
    check(p.returncode == 0 and "signatures ok" in p.stdout,
          "the demo desk's decisions verify, signed since its genesis: %r" % (p.stdout + p.stderr))
    with open(log) as f:
        rows = [json.loads(x) for x in f]
    gen = [r for r in rows if r["action"] == "desk.genesis"]
    check(len(gen) == 1 and gen[0]["operator"] == "admin", "the demo's admin signed its genesis")
    ents = [r for r in rows if r["action"].startswith("entity.")]
    check(ents and all(r["operator"] == "dave" and "_sig" in r["details"] for r in ents),
          "the seeded entities are dave's signed decisions")
    db = sqlite3.connect(path)
    state, outcome, by = db.execute("SELECT state, outcome, closed_by FROM cases WHERE id = ?",
                                    (int(cid),)).fetchone()
    db.close()
    check((state, outcome, by) == ("closed", "blocked", "frank"),
          "four-eyes: frank closed the case as blocked (%s, %s, %s)" % (state, outcome, by))


def risk_sized(home):
    """The demo desk's own limits (data/demo/risk-limits.csv) are in force, WETH and POL
    are priced for VaR by ETH's and MATIC's history, and a fresh demo desk raises no risk
    alert (its book is sized to them)."""
    want = {}
    with open(os.path.join(ROOT, "data", "demo", "risk-limits.csv")) as f:
        for line in f:
            if line.strip() and not line.startswith("#") and not line.startswith("limit,"):
                k, v = line.strip().split(",")
                want[k] = float(v)
    rep = json.loads(fusion(home, "risk", "report", "--json").stdout)
    check(rep["limits"]["var_1d_usd"] == want["var_1d_usd"] and
          rep["limits"]["es_1d_usd"] == want["es_1d_usd"],
          "the demo desk's limits are in force: %s" % rep["limits"])
    texts = [a.get("message", "") for a in rep["alerts"]]
    check(not any("no daily price history" in t for t in texts),
          "WETH and POL have a price history: %s" % texts)
    # compliance raises its own alerts in the same table: the demo's Blue Lagoon Partners
    # entity has an expired KYC (data/demo/entities.csv), so its KYC alert is expected
    risk_only = [a.get("message", "") for a in rep["alerts"]
                 if not str(a.get("kind", "")).startswith(("kyc_", "list_", "case_"))]
    check(not risk_only, "a fresh demo desk raises no risk alert: %s" % risk_only)
    check(any("Blue Lagoon Partners Ltd" in t and "KYC expires" in t for t in texts),
          "the expired KYC of the demo's Blue Lagoon entity raises its alert: %s" % texts)
    # Risk "on" the replayed day: the driver records it, and no later close is read.
    db = sqlite3.connect(os.path.join(home, "desk.db"))
    row = db.execute("SELECT value FROM risk_settings WHERE key = 'risk_history_until'").fetchone()
    db.close()
    check(row is not None and row[0] >= "2024-01-01", "the demo records its replayed day: %r"
          % (row,))
    check(rep["history"]["last_date"] == row[0],
          "the demo's risk reads closes up to the replayed day %s, not after (last %s)"
          % (row[0], rep["history"]["last_date"]))


def killed(home, ports):
    """A demo killed with SIGKILL: its guardian still stops the devnet it started."""
    proc = subprocess.Popen([FUSION, "--home", home, "demo", "--no-ui", "--duration", "1h",
                             "--ports", ",".join(map(str, ports))], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if "market driver running" in line:
                break
        check(len(anvils_on(ports)) == N_CHAINS, "demo started four anvils")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for _ in range(100):
            if not anvils_on(ports):
                break
            time.sleep(0.1)
        check(not anvils_on(ports), "guardian stopped the devnet of a killed demo")
    finally:
        if proc.poll() is None:
            proc.kill()
        fusion(home, "devnet", "down", rc=None)


if __name__ == "__main__":
    sys.exit(main())
