#!/usr/bin/env bash
# risk_bench.sh: the risk engine benchmark of issue 7. A seeded synthetic desk of 20 assets x
# 1,500 daily closes (tests/bench/risk_gen.py); the full report (historical + EWMA + Monte
# Carlo 100,000 paths + backtest + credit line + stress) by `fusion risk calc` against the numpy
# reference (tests/risk/reference.py) on the same files in the same run, and Monte Carlo
# 100,000 x 20 alone. Prints medians of wall and CPU time, and the numpy / C ratios.
# Not a test: timings depend on the machine and on what else runs on it (load is printed).
# Usage: tests/bench/risk_bench.sh [BUILD_DIR] [REPEAT]   (default: build 7)
set -euo pipefail
root=$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)
build=${1:-build}
rep=${2:-7}
case $build in /*) ;; *) build="$root/$build" ;; esac
py=/usr/bin/python3
ninja -C "$build" fusion src/libfusion.a >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=c17 -D_GNU_SOURCE -I"$root/src" "$root/tests/bench/risk_bench.c" \
   "$build/src/libfusion.a" $(pkg-config --libs jansson) -lm -lpthread -o "$tmp/risk_bench"
"$py" "$root/tests/bench/risk_gen.py" "$tmp/desk" 20 1500

"$py" - "$root" "$build/fusion" "$tmp" "$rep" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
root, fusion, tmp, rep = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ref = os.path.join(root, "tests", "risk", "reference.py")
d = os.path.join(tmp, "desk")
common = ["--prices", f"{d}/prices.csv", "--positions", f"{d}/positions.json",
          "--drawn", "10000000", "--collateral", f"{d}/collateral.csv",
          "--scenarios", f"{d}/scenarios.csv"]

def proc(cmd):
    """Median wall and CPU (user + sys of the child) seconds over rep runs."""
    walls, cpus = [], []
    for _ in range(rep):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return statistics.median(walls), statistics.median(cpus)

print(f"risk benchmark: 20 assets x 1,500 days, {rep} runs each (medians), "
      f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
row = "  {:<40} {:>9} {:>9} {:>7}   {:>9} {:>9} {:>7}"
for window in (500, 1249):
    print(f"\nwindow {window} returns (+ 250-day backtest), Monte Carlo 100,000 paths, "
          "10 scenarios")
    w = ["--window", str(window)]
    cw, cc = proc([fusion, "risk", "calc", "--json"] + w + common)
    nw, nc = proc(["/usr/bin/python3", ref] + w + common)
    ci = json.loads(subprocess.run([os.path.join(tmp, "risk_bench"), d, str(rep), str(window)],
                                   check=True, capture_output=True, text=True).stdout)
    ni = json.loads(subprocess.run(["/usr/bin/python3", ref, "--bench", str(rep)] + w + common,
                                   check=True, capture_output=True, text=True).stdout)
    print(row.format("", "C wall", "numpy", "ratio", "C cpu", "numpy", "ratio"))
    def line(name, a, b, c, e):
        print(row.format(name, f"{a:.4f}", f"{b:.4f}", f"{b / a:.1f}x", f"{c:.4f}", f"{e:.4f}",
                         f"{e / c:.1f}x"))
    line("full report, whole process (s)", cw, nw, cc, nc)
    line("full report, in process (s)", ci["full_s"], ni["full_s"], ci["full_cpu_s"],
         ni["full_cpu_s"])
    line("Monte Carlo 100,000 x 20, 2 threads (s)", ci["mc_s"], ni["mc_s"], ci["mc_cpu_s"],
         ni["mc_cpu_s"])
    print(f"  Monte Carlo 100,000 x 20, 1 thread: {ci['mc_1thread_s']:.4f} s wall")
print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
PY
