#!/usr/bin/env bash
# Proves the committed artifacts in data/contracts are usable as they are: starts its own
# anvil on a free port, deploys every exported contract from its bytecode with
# `cast send --create`, runs one escrow create -> fund -> approve x2 -> release and one HTLC
# lock -> claim with plain cast calls, and checks balances, states and events.
set -euo pipefail

root=${FUSION_ROOT:-$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)}
tools=${FUSION_TOOLS:-$root/tools/bin}
art="$root/data/contracts"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cast="$tools/cast"

fail() { echo "contracts-smoke: FAIL: $*" >&2; exit 1; }
ok() { echo "contracts-smoke: ok: $*"; }

work=$(mktemp -d)
anvil_pid=
cleanup() {
  if [ -n "$anvil_pid" ]; then kill "$anvil_pid" 2>/dev/null || true; wait "$anvil_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port from the kernel; if another process takes it before anvil binds, try again.
export ETH_RPC_URL=
for attempt in 1 2 3; do
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$tools/anvil" --host 127.0.0.1 --port "$port" --chain-id 31337 --accounts 8 >"$work/anvil.log" 2>&1 &
  anvil_pid=$!
  ETH_RPC_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    "$cast" chain-id >/dev/null 2>&1 && break 2
    kill -0 "$anvil_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$anvil_pid" 2>/dev/null || true
  wait "$anvil_pid" 2>/dev/null || true
  anvil_pid=
  [ "$attempt" = 3 ] && { cat "$work/anvil.log" >&2; fail "anvil did not start"; }
done
[ "$("$cast" chain-id)" = 31337 ] || fail "anvil did not come up on port $port"

mapfile -t acct < <("$cast" rpc eth_accounts | "$py" -c 'import json,sys; print("\n".join(json.load(sys.stdin)))')
payer=${acct[0]} payee=${acct[1]} arbiter=${acct[2]} ap1=${acct[3]} ap2=${acct[4]} ap3=${acct[5]} anyone=${acct[6]}

field() { # file key -> value of a top-level JSON key
  "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
send() { # from, cast send args... -> receipt JSON on stdout; fails on a reverted tx
  local from=$1; shift
  local r
  r=$("$cast" send --unlocked --from "$from" --json "$@") || return 1
  [ "$(printf '%s' "$r" | "$py" -c 'import json,sys; print(int(json.load(sys.stdin)["status"],16))')" = 1 ] \
    || { echo "$r" >&2; return 1; }
  printf '%s' "$r"
}
deploy() { # name [constructor signature args...] -> address
  local name=$1; shift
  local code
  code=$(field "$art/$name.json" bytecode)
  [ "$(field "$art/$name.json" contractName)" = "$name" ] || fail "$name.json names another contract"
  if [ $# -gt 0 ]; then code="$code$("$cast" abi-encode "$@" | cut -c3-)"; fi
  send "$payer" --create "$code" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["contractAddress"])'
}
logs_with() { # receipt-json topic0 -> the logs with that topic0, one JSON object per line
  "$py" -c '
import json, sys
r = json.load(open(sys.argv[1]))
for l in r["logs"]:
    if l["topics"][0].lower() == sys.argv[2].lower():
        print(json.dumps(l))' "$1" "$2"
}
topic_addr() { echo "0x${1: -40}"; }
lower() { tr 'A-F' 'a-f'; }

# ---- deploy every exported contract from its committed bytecode
factory=$(deploy EscrowFactory) || fail "deploying EscrowFactory"
htlc=$(deploy HashedTimelock) || fail "deploying HashedTimelock"
usdc=$(deploy TestToken "constructor(string,string,uint8)" "USD Coin" USDC 6) || fail "deploying TestToken"
feed=$(deploy MockPriceFeed "constructor(uint8,string,int256)" 8 "ETH / USD" 300000000000) \
  || fail "deploying MockPriceFeed"
for a in "$factory" "$htlc" "$usdc" "$feed"; do
  [ "$("$cast" code "$a")" != 0x ] || fail "no code at $a"
done
# The deployed runtime must equal the artifact's deployedBytecode (immutables aside: the
# factory has one, so compare the contracts without immutables).
[ "$("$cast" code "$htlc" | lower)" = "$(field "$art/HashedTimelock.json" deployedBytecode | lower)" ] \
  || fail "HashedTimelock runtime differs from deployedBytecode"
ok "deployed EscrowFactory $factory, HashedTimelock, TestToken, MockPriceFeed"
[ "$("$cast" call "$usdc" 'decimals()(uint8)')" = 6 ] || fail "TestToken decimals"
"$cast" call "$feed" 'latestRoundData()(uint80,int256,uint256,uint256,uint80)' >"$work/round"
[ "$(sed -n 2p "$work/round" | cut -d' ' -f1)" = 300000000000 ] || fail "feed answer: $(cat "$work/round")"

# ---- escrow: create (2-of-3, native coin, 1 ether) -> fund -> approve x2 -> release
amount=1000000000000000000
now=$("$cast" block latest --field timestamp)
deadline=$((now + 3600))
send "$payer" "$factory" \
  'createEscrow(address,address,uint256,address[],uint256,address,uint64)' \
  "$payee" 0x0000000000000000000000000000000000000000 "$amount" "[$ap1,$ap2,$ap3]" 2 "$arbiter" \
  "$deadline" >"$work/create.json" || fail "createEscrow reverted"
created_sig=$("$cast" keccak 'EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64)')
logs_with "$work/create.json" "$created_sig" >"$work/created.log"
[ "$(wc -l <"$work/created.log")" = 1 ] || fail "expected one EscrowCreated event"
escrow_topic=$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["topics"][1])' <"$work/created.log")
escrow=$("$cast" to-check-sum-address "$(topic_addr "$escrow_topic")")
[ "$("$cast" call "$factory" 'escrowAt(uint256)(address)' 0)" = "$escrow" ] || fail "registry"
[ "$("$cast" call "$factory" 'isEscrow(address)(bool)' "$escrow")" = true ] || fail "isEscrow"
# Decode the event's data with cast (independent of our code) and compare with the terms.
data=$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["data"])' <"$work/created.log")
# cast prints checksummed addresses and "[1e18]"-style hints: compare without either.
norm() { sed -E 's/ \[[0-9.]+e[0-9]+\]$//' | lower; }
"$cast" abi-decode --input 'f(address,uint256,address[],uint256,address,uint64)' "$data" | norm >"$work/terms"
want=$(printf '%s\n' 0x0000000000000000000000000000000000000000 "$amount" "[$ap1, $ap2, $ap3]" 2 \
  "$arbiter" "$deadline" | norm)
[ "$(cat "$work/terms")" = "$want" ] || { diff <(echo "$want") "$work/terms" >&2; fail "EscrowCreated data"; }
ok "created escrow $escrow with the terms in EscrowCreated"

send "$payer" "$escrow" 'fund()' --value "$amount" >/dev/null || fail "fund reverted"
[ "$("$cast" balance "$escrow")" = "$amount" ] || fail "escrow does not hold the deposit"
if "$cast" send --unlocked --from "$payer" "$escrow" 'approve()' >/dev/null 2>&1; then
  fail "the payer was allowed to approve"
fi
send "$ap1" "$escrow" 'approve()' >/dev/null || fail "approve 1 reverted"
send "$ap3" "$escrow" 'approve()' >"$work/approve2.json" || fail "approve 2 reverted"
approved_sig=$("$cast" keccak 'Approved(address,uint256)')
[ "$(logs_with "$work/approve2.json" "$approved_sig" | wc -l)" = 1 ] || fail "Approved event"
[ "$("$cast" call "$escrow" 'approvals()(uint256)')" = 2 ] || fail "approvals"
before=$("$cast" balance "$payee")
send "$anyone" "$escrow" 'release()' >"$work/release.json" || fail "release reverted"
after=$("$cast" balance "$payee")
delta=$("$py" -c 'import sys; print(int(sys.argv[2]) - int(sys.argv[1]))' "$before" "$after")
[ "$delta" = "$amount" ] || fail "payee received $delta, want $amount"
[ "$("$cast" balance "$escrow")" = 0 ] || fail "escrow not empty after release"
[ "$("$cast" call "$escrow" 'state()(uint8)')" = 2 ] || fail "state is not Released"
released_sig=$("$cast" keccak 'Released(address,uint256)')
logs_with "$work/release.json" "$released_sig" >"$work/released.log"
[ "$("$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["topics"][1])' <"$work/released.log" \
   | sed 's/^0x0*/0x/' | lower)" = "$(echo "$payee" | lower)" ] || fail "Released.to"
ok "funded, approved 2-of-3 (payer refused), released 1 ether to the payee"

# ---- HTLC: lock 0.5 ether for the payee under sha256(secret), claim with the secret
secret=0x$(printf 'fusion smoke secret' | sha256sum | cut -c1-64)
hashlock=0x$("$py" -c 'import hashlib,sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1])).hexdigest())' \
  "${secret#0x}")
send "$payer" "$htlc" 'lock(address,address,uint256,bytes32,uint64)' "$payee" \
  0x0000000000000000000000000000000000000000 500000000000000000 "$hashlock" "$deadline" \
  --value 500000000000000000 >"$work/lock.json" || fail "lock reverted"
locked_sig=$("$cast" keccak 'Locked(bytes32,address,address,address,uint256,bytes32,uint64)')
id=$(logs_with "$work/lock.json" "$locked_sig" | "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["topics"][1])')
before=$("$cast" balance "$payee")
send "$anyone" "$htlc" 'claim(bytes32,bytes32)' "$id" "$secret" >"$work/claim.json" || fail "claim reverted"
after=$("$cast" balance "$payee")
[ "$("$py" -c 'import sys; print(int(sys.argv[2]) - int(sys.argv[1]))' "$before" "$after")" = 500000000000000000 ] \
  || fail "HTLC receiver not paid"
claimed_sig=$("$cast" keccak 'Claimed(bytes32,bytes32)')
[ "$(logs_with "$work/claim.json" "$claimed_sig" | "$py" -c 'import json,sys; print(json.loads(sys.stdin.read())["data"])')" = "$secret" ] \
  || fail "Claimed does not carry the preimage"
ok "HTLC locked under sha256(secret) and claimed; the preimage is in Claimed"

echo "contracts-smoke: all checks passed"
