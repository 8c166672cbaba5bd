#!/usr/bin/python3
"""bad_input.py: input the fusion binary must refuse, through the real binary and a fresh desk
home (no chain needed): each refusal is one line on stderr, exit 1 (2 for a usage error),
nothing written. Every run has a memory limit (RLIMIT_AS, or ASan's hard_rss_limit_mb under
AddressSanitizer) and a timeout, so a reader that loops or eats memory fails here instead of
taking the machine. Needs FUSION_BIN."""
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile

BIN = os.environ["FUSION_BIN"]
MEM_MB = 1024
with open(BIN, "rb") as f:
    ASAN = b"__asan_init" in f.read()  # gcc links libasan: its imports name it
failures = 0


def limit():
    if not ASAN:  # ASan reserves terabytes of address space: it gets hard_rss_limit_mb
        resource.setrlimit(resource.RLIMIT_AS, (MEM_MB << 20, MEM_MB << 20))


def run(home, *args, stdin=None):
    env = dict(os.environ)
    env.pop("FUSION_HOME", None)
    if ASAN:
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":hard_rss_limit_mb=%d" % MEM_MB)
    try:
        return subprocess.run([BIN, "--home", home] + list(args), capture_output=True, text=True,
                              errors="replace", timeout=30, preexec_fn=limit, env=env,
                              input=stdin)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, -1, "", "did not end within 30 s (a loop?)\n")


def check(name, ok, r, want=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ": rc %d, stderr %r" % (r.returncode, r.stderr[:300]))
    if not ok:
        if want:
            print("     want " + want)
        failures += 1


def refused(name, r, rc, *needles):
    lines = r.stderr.splitlines()
    ok = r.returncode == rc and len(lines) == 1 and all(n in lines[0] for n in needles)
    check(name, ok, r, "rc %d and one stderr line containing %r" % (rc, needles))


def write(path, text):
    """Writes a test file the way an operator should: 0600 (passphrase and config files
    open to others are refused)."""
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def sanctions_off(tmp):
    """`sanctions.enabled = no` alone is refused; a compliance officer's signed decision
    (their key's passphrase) lets it take effect, `case rules` shows it first, and
    withdrawing the decision refuses the line again. Each step audited."""
    home = os.path.join(tmp, "desk")
    pw = os.path.join(tmp, "pw")
    write(pw, "pw-carol-1\n")
    os.environ["FUSION_KDF"] = "interactive"  # the fastest KDF level: a test, not a desk
    r = run(home, "--passphrase-file", pw, "key", "new", "--label", "carol")
    check("set-up: carol's key", r.returncode == 0, r)
    carol = r.stdout.strip()
    r = run(home, "--passphrase-file", pw, "key", "new", "--label", "dave")
    dave = r.stdout.strip()
    # carol, the desk's admin and compliance officer, signs its genesis and adds dave
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "operator", "genesis",
            "--key", carol, "--role", "compliance")
    check("set-up: the genesis", r.returncode == 0, r)
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "operator", "add", "dave",
            "--key", dave, "--role", "trader")
    check("set-up: operator dave", r.returncode == 0, r)
    write(os.path.join(home, "compliance.conf"), "# rules\nthreshold_usd = 5000\n"
          "sanctions.enabled = no\n")
    conf = os.path.join(home, "compliance.conf")
    r = run(home, "case", "rules")
    refused("compliance.conf not signed (case rules)", r, 1, conf + " is not signed",
            "config sign compliance")
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "config", "sign",
            "compliance")
    check("carol signs the rules file", r.returncode == 0, r)
    r = run(home, "case", "rules")
    refused("sanctions.enabled = no without a decision (case rules)", r, 1,
            conf + ":3: sanctions.enabled = no", "case rules --sanctions off --reason")
    r = run(home, "sync", "--once")
    refused("sanctions.enabled = no without a decision (sync)", r, 1, conf + ":3:",
            "signed decision")
    # Recording the decision: the compliance role, a reason, and the officer's own key.
    r = run(home, "--operator", "dave", "--passphrase-file", pw, "case", "rules",
            "--sanctions", "off", "--reason", "lists moved")
    refused("decision by an operator without the compliance role", r, 1, "compliance role")
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "case", "rules",
            "--sanctions", "off")
    refused("decision without a reason", r, 2, "--reason")
    write(os.path.join(tmp, "bad"), "wrong\n")
    r = run(home, "--operator", "carol", "--passphrase-file", os.path.join(tmp, "bad"), "case",
            "rules", "--sanctions", "off", "--reason", "lists moved")
    check("decision with a wrong passphrase", r.returncode == 1, r)
    r = run(home, "case", "rules")
    check("still refused after the failed attempts", r.returncode == 1 and ":3:" in r.stderr, r)
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "case", "rules",
            "--sanctions", "off", "--reason", "OFAC export moved; screening by the broker")
    check("decision recorded", r.returncode == 0 and "recorded" in r.stdout, r)
    r = run(home, "case", "rules")
    first = r.stdout.splitlines()[:1]
    check("case rules shows it first", r.returncode == 0 and first and
          "SANCTIONS SCREENING IS OFF" in first[0] and "carol" in first[0] and
          "OFAC export moved" in first[0] and "sanctions.enabled = no" in r.stdout, r)
    r = run(home, "audit", "list", "--json")
    check("audited", r.returncode == 0 and "compliance.sanctions_off" in r.stdout, r)
    # Withdrawn: the line is refused again.
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "case", "rules",
            "--sanctions", "on")
    check("decision withdrawn", r.returncode == 0, r)
    r = run(home, "case", "rules")
    refused("refused again once withdrawn", r, 1, conf + ":3: sanctions.enabled = no")
    r = run(home, "audit", "verify")
    check("audit chain verifies", r.returncode == 0, r)
    # A decision edited in the database no longer matches its signature: refused.
    r = run(home, "--operator", "carol", "--passphrase-file", pw, "case", "rules",
            "--sanctions", "off", "--reason", "short")
    check("decision recorded again", r.returncode == 0, r)
    db = sqlite3.connect(os.path.join(home, "desk.db"))
    with db:
        n = db.execute("UPDATE risk_settings SET value = replace(value, '\"short\"', "
                       "'\"a long story\"') WHERE key = 'compliance.sanctions_decision'"
                       ).rowcount
    db.close()
    r = run(home, "case", "rules")
    refused("an edited decision is refused", r, 1, "does not verify")
    check("the edit hit the row", n == 1, r)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "desk")
        # a desk records decisions once its admin has signed its genesis: here carol, who
        # is its compliance officer too, with her own key
        pw = os.path.join(tmp, "pw")
        write(pw, "pw-carol-1\n")
        os.environ["FUSION_KDF"] = "interactive"  # the fastest KDF level: a test, not a desk
        r = run(home, "--passphrase-file", pw, "key", "new", "--label", "carol")
        check("set-up: carol's key", r.returncode == 0, r)
        r = run(home, "--operator", "carol", "--passphrase-file", pw, "operator", "genesis",
                "--key", r.stdout.strip(), "--role", "compliance")
        check("set-up: operator carol", r.returncode == 0, r)
        carol = ("--operator", "carol", "--passphrase-file", pw)
        header = "name,type,jurisdiction,kyc,kyc_expires,tier,risk,review_due,chain_id,address\n"

        # A quoted field never closed: the record reader must move on (it looped, growing the
        # error report until the kernel killed it).
        for label, body in [("at the end", '"abc\n'),
                            ("spanning lines", '"abc\nDef,company,CH,,,,,,,\n'),
                            ("after a good row", 'Good,company,CH,,,,,,,\n"abc'),
                            ("quote inside a field", 'ab"c,company,CH,,,,,,,\n')]:
            csv = os.path.join(tmp, "e.csv")
            write(csv, header + body)
            r = run(home, *carol, "entity", "import", csv)
            lines = r.stderr.splitlines()
            ok = (r.returncode == 1 and any("malformed quoting" in x for x in lines)
                  and lines[-1].startswith("fusion: ") and "nothing imported" in lines[-1])
            check("entity import, unterminated quote " + label, ok, r,
                  "exit 1, a 'malformed quoting' line and 'nothing imported'")
        # Many bad lines: the report is bounded, the count is exact.
        write(csv, header + "x\n" * 5000)
        r = run(home, *carol, "entity", "import", csv)
        lines = r.stderr.splitlines()
        ok = (r.returncode == 1 and len(lines) <= 102 and "5000 of 5000 lines" in lines[-1]
              and "e.csv:5001:" not in r.stderr)
        check("entity import, 5000 bad lines", ok, r, "a bounded report and the exact count")
        r = run(home, "--operator", "carol", "entity", "list", "--json")
        check("nothing imported", r.returncode == 0 and r.stdout.strip() in ("[]", ""), r)

    with tempfile.TemporaryDirectory() as tmp:
        home = os.path.join(tmp, "desk")
        create = ["escrow", "create", "--payee", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                  "--token", "ETH", "--approvers", "bob", "--threshold", "1"]
        # A single-valued option given twice: refused as a usage error naming it, before the
        # desk is opened (the last one won: --amount 1 --amount 2 signed 2 ETH).
        r = run(home, *create, "--amount", "1", "--deadline", "7d", "--amount", "2")
        refused("escrow create --amount twice", r, 2, "'--amount' given twice")
        r = run(home, *create, "--amount", "1", "--deadline", "7d", "--payee", "carol")
        refused("escrow create --payee twice", r, 2, "'--payee' given twice")
        r = run(home, "risk", "calc", "--positions", "a.json", "--positions=b.json")
        refused("risk calc --positions twice", r, 2, "'--positions' given twice")
        r = run(home, "entity", "add", "X", "--type", "company", "--type", "individual")
        refused("entity add --type twice", r, 2, "'--type' given twice")
        r = run(home, "xswap", "respond", "1", "--gap", "600", "--gap", "1")
        refused("xswap respond --gap twice", r, 2, "'--gap' given twice")
        r = run(home, "devnet", "up", "--ports", "20001,20002,20003,20004", "--ports=1,2,3,4")
        refused("devnet up --ports twice", r, 2, "'--ports' given twice")
        # bridge: usage errors are refused before the desk is opened
        send = ["bridge", "send", "--from", "devnet-eth", "--to", "devnet-avax"]
        r = run(home, *send, "--amount", "1", "--recipient", "alice", "--amount", "2")
        refused("bridge send --amount twice", r, 2, "'--amount' given twice")
        r = run(home, *send, "--amount", "1")
        refused("bridge send without --recipient", r, 2, "--recipient")
        r = run(home, "bridge", "quote", "--from", "devnet-eth", "--amount", "1", "--recipient",
                "alice")
        refused("bridge quote --recipient", r, 2, "unknown option '--recipient'")
        # --override (a risk officer's reason): 1 to 200 characters, on the actions it can
        # override only, refused before the desk is opened
        r = run(home, *create, "--amount", "1", "--deadline", "7d", "--override", "")
        refused("escrow create --override ''", r, 2, "1 to 200 characters")
        r = run(home, *create, "--amount", "1", "--deadline", "7d", "--override", "x" * 201)
        refused("escrow create --override of 201", r, 2, "1 to 200 characters")
        r = run(home, "escrow", "approve", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "--override", "x")
        refused("escrow approve --override", r, 2, "--override is for fund and release")
        r = run(home, *send, "--amount", "1", "--recipient", "alice", "--override", "")
        refused("bridge send --override ''", r, 2, "1 to 200 characters")
        r = run(home, "bridge", "quote", "--from", "devnet-eth", "--amount", "1", "--override",
                "x")
        refused("bridge quote --override", r, 2, "unknown option '--override'")
        r = run(home, "bridge")
        refused("bridge without an action", r, 2, "missing action")
        r = run(home, "bridge", "mint")
        refused("bridge unknown action", r, 2, "unknown action 'mint'")
        r = run(home, "bridge", "resume", "x1")
        refused("bridge resume x1", r, 2, "at most one transfer id")
        r = run(home, "bridge", "show")
        refused("bridge show without an id", r, 2, "one transfer id")
        r = run(home, "bridge", "config", "--attestation-url", "file:///etc/passwd")
        refused("bridge config file: URL", r, 2, "http:// or https://")
        r = run(home, "bridge", "list")
        check("bridge list without a desk", r.returncode == 1 and len(r.stderr.splitlines()) == 1
              and not os.path.exists(os.path.join(home, "desk.db")), r)
        # The global options: the same rules (getopt_long let the last --operator win and
        # took --op for --operator).
        r = run(home, "--operator", "bob", "--operator", "alice", "version")
        refused("global --operator twice", r, 2, "'--operator' given twice")
        r = run(home, "--op", "alice", "version")
        refused("global --op abbreviation", r, 2, "unknown option '--op'")
        r = run(home, "--passphrase-file=a", "--passphrase-file", "b", "version")
        refused("global --passphrase-file twice", r, 2, "'--passphrase-file' given twice")
        r = run(home, "--json", "--yes", "version")
        check("global flags still work", r.returncode == 0 and r.stdout.startswith("fusion "), r)
        r = run(home, "--operator")
        refused("global option without its value", r, 2, "'--operator' needs a value")
        # Impossible dates are refused, never moved to a real day.
        for when in ["2030-02-30T00:00:00Z", "2030-04-31T00:00:00Z", "2030-01-01T24:00:00Z"]:
            r = run(home, *create, "--amount", "1", "--deadline", when)
            refused("escrow create --deadline " + when, r, 2, "--deadline", "real calendar day")
        # Version-2 escrow options and actions: usage errors before any desk is opened.
        for win in ["0d", "23h", "91d", "7x", "-1"]:
            r = run(home, *create, "--amount", "1", "--deadline", "7d", "--dispute-window", win)
            refused("escrow create --dispute-window " + win, r, 2, "--dispute-window")
        r = run(home, *create, "--amount", "1", "--deadline", "7d", "--dispute-window", "2d",
                "--dispute-window", "3d")
        refused("escrow create --dispute-window twice", r, 2, "'--dispute-window' given twice")
        esc = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
        r = run(home, "escrow", "transfer-arbiter", esc)
        refused("escrow transfer-arbiter without --to", r, 2, "--to")
        r = run(home, "escrow", "sweep", esc, "--reason", "x")
        refused("escrow sweep --reason", r, 2, "--reason")
        r = run(home, "escrow", "fund", esc, "--token", "0x00")
        refused("escrow fund --token", r, 2, "--token is for sweep only")
        r = run(home, "chain", "add-factory", "local")
        refused("chain add-factory without --factory", r, 2, "--factory")
        r = run(home, "chain", "add-factory", "local", "--factory", "0x1234")
        refused("chain add-factory with a bad address", r, 2, "--factory")
        # The count of positional arguments: the exact usage line, exit 2, before any desk is
        # opened (the commands share one check of it: its words must stay each command's own).
        see = " (see `fusion help`)"
        for args, line in [
                ("credit ledger", "credit ledger: needs exactly one facility NAME"),
                ("credit ledger a b", "credit ledger: needs exactly one facility NAME"),
                ("credit facility show", "credit facility show: needs exactly one facility NAME"),
                ("credit facility add", "credit facility add: needs exactly one facility NAME"),
                ("credit facility list x", "credit facility list: takes no arguments"),
                ("credit calls x", "credit calls: takes no arguments"),
                ("credit check x", "credit check: takes no arguments"),
                ("credit health", "credit health: needs exactly one facility NAME"),
                ("credit statement", "credit statement: needs exactly one facility NAME"),
                ("credit draw f", "credit draw: needs a facility NAME and an AMOUNT (in its "
                 "currency)"),
                ("credit repay f", "credit repay: needs a facility NAME and an AMOUNT (in its "
                 "currency)"),
                ("reindex x", "reindex: unexpected argument 'x'"),
                ("audit list x", "audit: unexpected argument 'x'"),
                ("chain add x y", "chain add: unexpected argument 'x'"),
                ("pay x", "pay: unexpected argument 'x'"),
                ("escrow create x", "escrow create: unexpected argument 'x'"),
                ("escrow show", "escrow show: needs exactly one escrow ADDRESS"),
                ("api client revoke", "api client revoke: needs NAME"),
                ("api client list x", "api client list: takes no arguments"),
                ("proposal list x", "proposal list: takes no arguments"),
                ("config sign", "config sign: needs one of policy, risk-limits, compliance, sanctions, "
                 "prices, book"),
                ("lists list x", "lists list: takes no arguments"),
                ("case travel-rule", "case travel-rule: needs an escrow ADDRESS or a desk "
                 "transaction hash"),
                ("entity travel", "entity travel: needs the entity's NAME"),
                ("operator remove", "operator remove: needs NAME"),
                ("tx check x", "tx check: takes no arguments"),
                ("asset add-feed x", "asset add-feed: unexpected argument 'x'")]:
            r = run(home, *args.split())
            check("usage line of `%s`" % args, r.returncode == 2 and
                  r.stderr.splitlines() == ["fusion " + line + see], r,
                  "exit 2 and the one line %r" % ("fusion " + line + see))
        check("no desk home created by refused commands", not os.path.exists(
            os.path.join(home, "desk.db")), r)

    with tempfile.TemporaryDirectory() as tmp:
        sanctions_off(tmp)

    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
