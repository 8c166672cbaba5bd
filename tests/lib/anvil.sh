#!/usr/bin/env bash
# anvil.sh: a throwaway local chain for a test: Foundry's anvil on a free port of
# 127.0.0.1, started by the test, waited for until it answers, stopped at exit.
#
# As a library (bash):
#   . "$FUSION_ROOT/tests/lib/anvil.sh"
#   anvil_start [ANVIL ARGS...]    e.g. anvil_start --chain-id 4294967311
#       starts `anvil --port P --silent ARGS...` and sets ANVIL_URL, ANVIL_PORT,
#       ANVIL_PID (the newest instance); returns non-zero if it never answers.
#       Call it several times for several chains; keep each ANVIL_URL.
#   anvil_rpc URL METHOD [PARAMS_JSON]
#       one JSON-RPC call; prints "result" as compact JSON (strings quoted) and
#       fails with the node's error message on stderr. PARAMS_JSON defaults to [].
#   anvil_rpc_str URL METHOD [PARAMS_JSON]   same, a string result without quotes.
#   anvil_stop [PID]   stops one instance (default: all started by this shell).
#   Every instance started is stopped when the shell exits (an EXIT trap; a test
#   that sets its own EXIT trap must call anvil_stop in it).
#
# As a wrapper (any language):
#   tests/lib/anvil.sh run [ANVIL ARGS...] -- CMD [ARGS...]
#       starts one anvil, runs CMD with ANVIL_URL and ANVIL_PORT in its environment,
#       stops anvil, exits with CMD's status.
#
# Needs: $FUSION_TOOLS/anvil (else tools/bin/anvil next to this file), curl,
# /usr/bin/python3. Logs of each instance go to ${TMPDIR:-/tmp}/anvil-PORT.log and
# are removed with it unless ANVIL_KEEP_LOGS is set.

_anvil_self=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ANVIL_BIN=${ANVIL_BIN:-${FUSION_TOOLS:-$_anvil_self/../../tools/bin}/anvil}
_anvil_pids=()
_anvil_logs=()

_anvil_free_port() {
  /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

_anvil_cleanup() {
  anvil_stop
}

anvil_stop() {
  local want=${1:-}
  local keep_pids=() keep_logs=() i
  for i in "${!_anvil_pids[@]}"; do
    local pid=${_anvil_pids[$i]} log=${_anvil_logs[$i]}
    if [ -z "$want" ] || [ "$want" = "$pid" ]; then
      kill "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      [ -n "${ANVIL_KEEP_LOGS:-}" ] || rm -f "$log"
    else
      keep_pids+=("$pid")
      keep_logs+=("$log")
    fi
  done
  _anvil_pids=("${keep_pids[@]}")
  _anvil_logs=("${keep_logs[@]}")
}

# anvil_rpc URL METHOD [PARAMS]
anvil_rpc() {
  local url=$1 method=$2 params=${3:-[]}
  local body reply
  body=$(printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$method" "$params")
  reply=$(curl -s --max-time 30 -H 'Content-Type: application/json' --data "$body" "$url") || {
    echo "anvil_rpc: $method: no answer from $url" >&2
    return 1
  }
  printf '%s' "$reply" | /usr/bin/python3 -c 'import json, sys
r = json.load(sys.stdin)
if "error" in r:
    sys.stderr.write("anvil_rpc: %s: %s\n" % (sys.argv[1], r["error"].get("message", r["error"])))
    sys.exit(1)
print(json.dumps(r.get("result"), separators=(",", ":")))' "$method"
}

anvil_rpc_str() {
  local out
  out=$(anvil_rpc "$@") || return 1
  /usr/bin/python3 -c 'import json, sys
v = json.loads(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$out"
}

# anvil_start [ANVIL ARGS...]
anvil_start() {
  local attempt port pid log i
  if [ ${#_anvil_pids[@]} -eq 0 ]; then
    trap _anvil_cleanup EXIT
  fi
  for attempt in 1 2 3 4 5; do
    port=$(_anvil_free_port) || return 1
    log="${TMPDIR:-/tmp}/anvil-$port.log"
    "$ANVIL_BIN" --port "$port" --silent "$@" >"$log" 2>&1 &
    pid=$!
    _anvil_pids+=("$pid")
    _anvil_logs+=("$log")
    # up to ~15 s for the first answer; give up early if the process died
    for i in $(seq 150); do
      if ! kill -0 "$pid" 2>/dev/null; then
        break
      fi
      if anvil_rpc "http://127.0.0.1:$port" eth_chainId >/dev/null 2>&1; then
        ANVIL_PORT=$port
        ANVIL_URL="http://127.0.0.1:$port"
        ANVIL_PID=$pid
        export ANVIL_PORT ANVIL_URL ANVIL_PID
        return 0
      fi
      sleep 0.1
    done
    echo "anvil_start: anvil on port $port did not come up (attempt $attempt):" >&2
    tail -5 "$log" >&2
    anvil_stop "$pid"
  done
  return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # wrapper mode
  set -u
  if [ "${1:-}" != run ]; then
    echo "usage: $0 run [ANVIL ARGS...] -- CMD [ARGS...]" >&2
    exit 2
  fi
  shift
  args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=("$1")
    shift
  done
  if [ $# -lt 2 ]; then
    echo "usage: $0 run [ANVIL ARGS...] -- CMD [ARGS...]" >&2
    exit 2
  fi
  shift
  anvil_start "${args[@]}" || exit 1
  "$@"
  status=$?
  anvil_stop
  exit $status
fi
