#!/usr/bin/env bash
# risk_bench.sh: the risk engine benchmark of issue 7. A seeded synthetic desk of 20 assets x
# 1,500 daily closes (tests/bench/risk_gen.py); the full report (historical + EWMA + Monte
# Carlo 100,000 paths + backtest + credit line + stress) by `fusion risk calc` against the numpy
# reference (tests/risk/reference.py) on the same files in the same run, and Monte Carlo
# 100,000 x 20 alone. Prints medians and ratios. Not a test: timings depend on the machine.
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

args=(--prices "$tmp/desk/prices.csv" --positions "$tmp/desk/positions.json" --drawn 10000000
      --collateral "$tmp/desk/collateral.csv" --scenarios "$tmp/desk/scenarios.csv")

# median wall time of REPEAT runs of a command, in seconds
wall() {
  local times=() t0 t1
  for ((i = 0; i < rep; i++)); do
    t0=$EPOCHREALTIME
    "$@" >/dev/null
    t1=$EPOCHREALTIME
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

echo "risk benchmark: 20 assets x 1,500 days, $rep runs each (medians), $(nproc) cores"
echo "host: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
for window in 500 1249; do
  echo
  echo "window $window returns (+ 250-day backtest), Monte Carlo 100,000 paths, 10 scenarios"
  c_wall=$(wall "$build/fusion" risk calc --json --window "$window" "${args[@]}")
  np_wall=$(wall "$py" "$root/tests/risk/reference.py" --window "$window" "${args[@]}")
  c_in=$("$tmp/risk_bench" "$tmp/desk" "$rep" "$window")
  np_in=$("$py" "$root/tests/risk/reference.py" --window "$window" "${args[@]}" --bench "$rep")
  "$py" - "$c_wall" "$np_wall" "$c_in" "$np_in" <<'PY'
import json, sys
cw, nw = float(sys.argv[1]), float(sys.argv[2])
c, n = json.loads(sys.argv[3]), json.loads(sys.argv[4])
row = "  {:<44} {:>10} {:>10} {:>8}"
print(row.format("", "C (s)", "numpy (s)", "ratio"))
print(row.format("full report, whole process", f"{cw:.4f}", f"{nw:.4f}", f"{nw / cw:.1f}x"))
print(row.format("full report, in process (load + compute)", f"{c['full_s']:.4f}",
                 f"{n['full_s']:.4f}", f"{n['full_s'] / c['full_s']:.1f}x"))
print(row.format("Monte Carlo 100,000 x 20, 2 threads", f"{c['mc_s']:.4f}", f"{n['mc_s']:.4f}",
                 f"{n['mc_s'] / c['mc_s']:.1f}x"))
print(row.format("Monte Carlo 100,000 x 20, 1 thread", f"{c['mc_1thread_s']:.4f}", "", ""))
PY
done
