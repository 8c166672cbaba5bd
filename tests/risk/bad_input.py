#!/usr/bin/python3
"""bad_input.py: `fusion risk calc` on broken inputs must exit 1 with ONE line on stderr that
names the file, the line and the problem (issue 7: missing dates, non-positive prices, unknown
assets, NaN, too few rows for the window); usage mistakes exit 2. Needs FUSION_BIN."""
import os
import subprocess
import sys
import tempfile

BIN = os.environ["FUSION_BIN"]
failures = 0


def days(n, start=(2024, 1, 1)):
    import datetime as dt
    d0 = dt.date(*start)
    return [(d0 + dt.timedelta(days=k)).isoformat() for k in range(n)]


def panel(rows, header="Date,BTC,ETH"):
    return header + "\n" + "\n".join(rows) + "\n"


def good_rows(n):
    return [f"{d},{40000 + 10 * k},{2000 + (k % 7)}" for k, d in enumerate(days(n))]


def run(tmp, files, args):
    for name, text in files.items():
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    return subprocess.run([BIN] + args, cwd=tmp, capture_output=True, text=True, timeout=60)


def case(name, files, args, want_rc, want_err):
    global failures
    with tempfile.TemporaryDirectory() as tmp:
        p = run(tmp, files, args)
    lines = p.stderr.splitlines()
    ok = p.returncode == want_rc and len(lines) == 1 and want_err in lines[0] and p.stdout == ""
    print(("ok   " if ok else "FAIL ") + name + ": rc %d, stderr %r" % (p.returncode, p.stderr))
    if not ok:
        print("     want rc %d and one stderr line containing %r" % (want_rc, want_err))
        failures += 1


POS = '{\n  "BTC": 1000000,\n  "ETH": 500000\n}\n'
calc = ["risk", "calc", "--prices", "prices.csv", "--positions", "pos.json", "--window", "20",
        "--paths", "2000"]

# Sanity: the good files pass, so every failure below is caused by its one defect.
with tempfile.TemporaryDirectory() as tmp:
    p = run(tmp, {"prices.csv": panel(good_rows(40)), "pos.json": POS}, calc + ["--json"])
    if p.returncode != 0 or '"historical"' not in p.stdout:
        print("FAIL good input: rc %d %r" % (p.returncode, p.stderr))
        failures += 1
    else:
        print("ok   good input runs")

rows = good_rows(40)
gap = rows[:30] + rows[33:]  # drop 3 days inside the last 21 rows
case("missing dates", {"prices.csv": panel(gap), "pos.json": POS}, calc, 1,
     "prices.csv:32: missing dates 2024-01-31..2024-02-02 before 2024-02-03")

r = list(rows)
r[35] = r[35].split(",")[0] + ",0," + r[35].split(",")[2]
case("zero price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:37: non-positive price 0 for BTC")
r = list(rows)
r[10] = r[10].split(",")[0] + "," + r[10].split(",")[1] + ",-2000"
case("negative price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:12: non-positive price -2000 for ETH")

r = list(rows)
r[5] = r[5].split(",")[0] + ",NaN," + r[5].split(",")[2]
case("NaN price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:7: price of BTC 'NaN' is not a number")
r = list(rows)
r[6] = r[6].split(",")[0] + ",4e4x," + r[6].split(",")[2]
case("unparseable price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:8: price of BTC '4e4x' is not a number")
case("NaN position", {"prices.csv": panel(rows), "pos.json": '{\n "BTC": 1,\n "ETH": NaN\n}\n'},
     calc, 1, "pos.json:3:")
case("string position", {"prices.csv": panel(rows), "pos.json": '{\n "BTC": 1,\n "ETH": "5"\n}'},
     calc, 1, "pos.json:3: value of ETH must be a number")
case("unknown asset", {"prices.csv": panel(rows),
                       "pos.json": '{\n  "BTC": 1,\n  "ETH": 2,\n  "SOL": 3\n}\n'},
     calc, 1, "pos.json:4: unknown asset SOL: no price column for it")
case("too few rows", {"prices.csv": panel(rows[:15]), "pos.json": POS}, calc, 1,
     "prices.csv:16: too few rows for the window: 15 daily closes (2024-01-01..2024-01-15) "
     "give 14 returns, the window needs 21 closes")
case("too few common rows", {"prices.csv": panel(rows),
                             "eth.csv": "Date,Close\n" + "\n".join(
                                 f"{d},{2000 + k}" for k, d in enumerate(days(40)[30:])) + "\n",
                             "pos.json": '{"BTC": 1, "E": 2}'},
     ["risk", "calc", "--prices", "prices.csv", "--prices", "E=eth.csv", "--positions",
      "pos.json", "--window", "20"], 1, "eth.csv:11: too few rows for the window")
yahoo = "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(
    f"{d},1,1,1,{'null' if k == 30 else 1 + k / 100},1,1" for k, d in enumerate(days(40))) + "\n"
case("null inside the range", {"yf_UST-USD.csv": yahoo, "pos.json": '{"UST": 1}'},
     ["risk", "calc", "--prices", "yf_UST-USD.csv", "--positions", "pos.json", "--window", "20"],
     1, "yf_UST-USD.csv:32: missing price of UST on 2024-01-31")
case("bad JSON", {"prices.csv": panel(rows), "pos.json": '{\n "BTC": 1,\n "ETH" 2\n}'}, calc, 1,
     "pos.json:3:")
case("missing file", {"pos.json": POS}, calc, 1, "cannot open prices.csv")
case("no date column", {"prices.csv": "Day,BTC\n2024-01-01,1\n", "pos.json": POS}, calc, 1,
     "prices.csv:1: no Date column")
case("dates out of order", {"prices.csv": panel([rows[1], rows[0]] + rows[2:]), "pos.json": POS},
     calc, 1, "prices.csv:3: date 2024-01-01 is not after the previous row's 2024-01-02")
case("negative collateral", {"prices.csv": panel(rows), "pos.json": '{"BTC": 1,\n"ETH": -2}'},
     calc + ["--drawn", "1"], 1, "pos.json:2: position ETH is negative (-2)")

# Numbers a double can hold but the calculation cannot: positions that add up to infinity,
# subnormal or absurd prices (their log returns overflow). Refused with file:line, never a
# report of inf/nan or "return 702 is not finite" with no place named.
case("positions adding up to infinity", {"prices.csv": panel(rows),
                                         "pos.json": '{\n "BTC": 1e308,\n "ETH": 1e308\n}\n'},
     calc, 1, "pos.json:2: position BTC 1e+308 is out of range")
case("positions adding up to infinity (json)", {"prices.csv": panel(rows),
                                                "pos.json": '{"BTC": 1.7e308, "ETH": 1.7e308}'},
     calc + ["--json"], 1, "pos.json:1: position BTC")
case("subnormal position", {"prices.csv": panel(rows),
                            "pos.json": '{\n "BTC": 1,\n "ETH": 4e-320\n}\n'},
     calc, 1, "pos.json:3: position ETH")
r = list(rows)
r[20] = r[20].split(",")[0] + ",1e-310," + r[20].split(",")[2]
case("subnormal price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:22: price of BTC '1e-310' is out of range")
r = list(rows)
r[21] = r[21].split(",")[0] + ",1e-300," + r[21].split(",")[2]
case("tiny price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:23: price of BTC '1e-300' is out of range")
r = list(rows)
r[22] = r[22].split(",")[0] + "," + r[22].split(",")[1] + ",1e300"
case("huge price", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:24: price of ETH '1e300' is out of range")
r = list(rows)
r[23] = r[23].split(",")[0] + ",1e-400," + r[23].split(",")[2]
case("price that underflows to zero", {"prices.csv": panel(r), "pos.json": POS}, calc, 1,
     "prices.csv:25: price of BTC '1e-400' is out of range")
case("drawn out of range", {"prices.csv": panel(rows), "pos.json": POS},
     calc + ["--drawn", "1e308"], 2, "--drawn wants a USD amount")

# Usage errors: exit 2.
case("no positions option", {"prices.csv": panel(rows)}, ["risk", "calc", "--prices",
                                                          "prices.csv"], 2, "needs --prices")
case("bad window", {}, calc[:6] + ["--window", "1"], 2, "--window wants")
case("bad date option", {}, calc + ["--from", "2024-13-01"], 2, "--from wants a date")
case("unknown option", {}, calc + ["--bogus"], 2, "unknown option '--bogus'")
case("option without its value", {}, calc + ["--paths"], 2, "option '--paths' needs a value")
case("abbreviated option", {}, calc + ["--pat", "10"], 2, "unknown option '--pat'")
case("unknown subcommand", {}, ["risk", "simulate"], 2, "unknown subcommand 'simulate'")

print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
