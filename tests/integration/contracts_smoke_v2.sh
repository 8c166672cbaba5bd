#!/usr/bin/env bash
# Proves the committed version-2 artifacts (EscrowFactoryV2, EscrowV2, HashedTimelockV2) are
# usable as they are on a real node: deploys them on a throwaway anvil with
# `cast send --create`, checks version(), computes the escrow's terms hash off chain exactly
# as docs/contracts.md defines it (cast abi-encode + keccak) and compares it with
# termsHash() and EscrowCreated, refuses the payee as approver and a wrong hash, runs
# fund -> approve(hash) x2 -> release, a dispute that outlives its window -> the payer's
# refund, and an HTLC lock -> claim with a 33-byte preimage and a refused hashlock reuse.
set -euo pipefail

root=${FUSION_ROOT:-$(CDPATH= cd -- "$(dirname -- "$0")/../.." && pwd)}
tools=${FUSION_TOOLS:-$root/tools/bin}
art="$root/data/contracts"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cast="$tools/cast"

fail() { echo "contracts-smoke-v2: FAIL: $*" >&2; exit 1; }
ok() { echo "contracts-smoke-v2: ok: $*"; }

# shellcheck source=../lib/anvil.sh
. "$root/tests/lib/anvil.sh"
work=$(mktemp -d)
trap 'anvil_stop; rm -rf "$work"' EXIT
anvil_start --chain-id 31337 --accounts 8 || fail "anvil did not start"
export ETH_RPC_URL=$ANVIL_URL
[ "$("$cast" chain-id)" = 31337 ] || fail "chain id"

mapfile -t acct < <("$cast" rpc eth_accounts | "$py" -c 'import json,sys; print("\n".join(json.load(sys.stdin)))')
payer=${acct[0]} payee=${acct[1]} arbiter=${acct[2]} ap1=${acct[3]} ap2=${acct[4]} ap3=${acct[5]}
anyone=${acct[6]} recoverer=${acct[7]}
zero=0x0000000000000000000000000000000000000000

field() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
send() { # from, cast send args... -> receipt JSON; fails on a reverted tx
  local from=$1; shift
  local r
  r=$("$cast" send --unlocked --from "$from" --json "$@" 2>"$work/send.err") || return 1
  [ "$(printf '%s' "$r" | "$py" -c 'import json,sys; print(int(json.load(sys.stdin)["status"],16))')" = 1 ] || return 1
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
logs_with() { # receipt-json-file topic0 -> matching logs, one JSON object per line
  "$py" -c '
import json, sys
for l in json.load(open(sys.argv[1]))["logs"]:
    if l["topics"][0].lower() == sys.argv[2].lower():
        print(json.dumps(l))' "$1" "$2"
}
reverts_with() { # error-signature from cast-send-args... : the call must revert with that error
  local sel; sel=$("$cast" sig "$1"); shift
  local from=$1; shift
  if "$cast" send --unlocked --from "$from" "$@" >"$work/revert.out" 2>&1; then return 1; fi
  grep -qi "$sel" "$work/revert.out" || { cat "$work/revert.out" >&2; return 1; }
}
jget() { "$py" -c 'import json,sys; v=json.loads(sys.stdin.read()); print(eval("v"+sys.argv[1]))' "$1"; }
lower() { tr 'A-F' 'a-f'; }
now() { "$cast" block latest --field timestamp; }

# ---- deploy
factory=$(deploy EscrowFactoryV2) || fail "deploying EscrowFactoryV2"
htlc=$(deploy HashedTimelockV2 "constructor(address)" "$recoverer") || fail "deploying HashedTimelockV2"
[ "$("$cast" call "$factory" 'version()(uint256)')" = 2 ] || fail "factory version"
[ "$("$cast" call "$htlc" 'version()(uint256)')" = 2 ] || fail "HTLC version"
[ "$("$cast" call "$htlc" 'recoverer()(address)' | lower)" = "$(echo "$recoverer" | lower)" ] || fail "recoverer"
ok "deployed EscrowFactoryV2 $factory and HashedTimelockV2 $htlc (version 2)"

create_sig='createEscrow(address,address,uint256,address[],uint256,address,uint64,uint64)'
created_sig=$("$cast" keccak 'EscrowCreated(address,address,address,address,uint256,address[],uint256,address,uint64,uint64,bytes32)')
window=604800
amount=1000000000000000000

# ---- the payee as approver is refused on chain
deadline=$(( $(now) + 3600 ))
reverts_with 'ApproverNotIndependent(address)' "$payer" "$factory" "$create_sig" "$payee" "$zero" "$amount" \
  "[$ap1,$payee]" 1 "$arbiter" "$deadline" "$window" || fail "the payee as approver was not refused"
reverts_with 'InvalidDisputeWindow(uint64,uint64,uint64)' "$payer" "$factory" "$create_sig" "$payee" "$zero" \
  "$amount" "[$ap1,$ap2]" 1 "$arbiter" "$deadline" 0 || fail "a zero dispute window was not refused"
ok "payee as approver and a zero dispute window refused"

create() { # -> escrow address; receipt in $work/create.json
  send "$payer" "$factory" "$create_sig" "$payee" "$zero" "$amount" "[$ap1,$ap2,$ap3]" 2 "$arbiter" \
    "$deadline" "$window" >"$work/create.json" || fail "createEscrow reverted"
  logs_with "$work/create.json" "$created_sig" >"$work/created.log"
  [ "$(wc -l <"$work/created.log")" = 1 ] || fail "expected one EscrowCreated"
  "$cast" to-check-sum-address "0x$(jget '["topics"][1]' <"$work/created.log" | tail -c 41)"
}
escrow=$(create)

# ---- the terms hash, computed off chain from the documented encoding
enc=$("$cast" abi-encode 'f(uint256,address,address,address,address,uint256,address[],uint256,uint64,address,uint64)' \
  31337 "$escrow" "$payer" "$payee" "$zero" "$amount" "[$ap1,$ap2,$ap3]" 2 "$deadline" "$arbiter" "$window")
want=$("$cast" keccak "$enc" | lower)
[ "$("$cast" call "$escrow" 'termsHash()(bytes32)' | lower)" = "$want" ] || fail "termsHash() differs from the documented encoding"
data=$(jget '["data"]' <"$work/created.log")
# data = token, amount, offset of approvers, threshold, arbiter, deadline, window, termsHash
# (eight head words), then the approvers array: the hash is head word 7 (0-based).
[ "0x${data:$((2 + 7 * 64)):64}" = "$want" ] || fail "EscrowCreated's termsHash field differs"
ok "terms hash $want = termsHash() = EscrowCreated.termsHash"

# ---- fund -> wrong hash refused -> approve(hash) x2 -> release
send "$payer" "$escrow" 'fund()' --value "$amount" >/dev/null || fail "fund reverted"
reverts_with 'WrongTerms(bytes32,bytes32)' "$ap1" "$escrow" 'approve(bytes32)' "$("$cast" keccak other)" \
  || fail "an approval with another terms hash was not refused"
send "$ap1" "$escrow" 'approve(bytes32)' "$want" >/dev/null || fail "approve 1 reverted"
send "$ap3" "$escrow" 'approve(bytes32)' "$want" >/dev/null || fail "approve 2 reverted"
reverts_with 'ThresholdReached()' "$arbiter" "$escrow" 'refund()' || fail "the arbiter's refund after the threshold"

before=$("$cast" balance "$payee")
send "$anyone" "$escrow" 'release()' >/dev/null || fail "release reverted"
after=$("$cast" balance "$payee")
[ "$("$py" -c 'import sys; print(int(sys.argv[2]) - int(sys.argv[1]))' "$before" "$after")" = "$amount" ] \
  || fail "payee not paid"
[ "$("$cast" call "$escrow" 'state()(uint8)')" = 2 ] || fail "state is not Released"
ok "wrong hash refused, approved 2-of-3 with the hash, arbiter refund refused, released"

# ---- a dispute that outlives its window: the payer's refund ends it
deadline=$(( $(now) + 3600 ))
escrow2=$(create)
send "$payer" "$escrow2" 'fund()' --value "$amount" >/dev/null || fail "fund 2 reverted"
send "$payee" "$escrow2" 'dispute(string)' "hostage" >/dev/null || fail "dispute reverted"
closes=$("$cast" call "$escrow2" 'disputeClosesAt()(uint256)' | cut -d' ' -f1)
[ "$closes" = $((deadline + window)) ] || fail "disputeClosesAt $closes"
reverts_with 'DisputeWindowOpen(uint256)' "$payer" "$escrow2" 'refund()' || fail "refund inside the window"
"$cast" rpc evm_setNextBlockTimestamp $((closes + 1)) >/dev/null
send "$payer" "$escrow2" 'refund()' >/dev/null || fail "the payer's refund after the window reverted"
[ "$("$cast" call "$escrow2" 'state()(uint8)')" = 3 ] || fail "state is not Refunded"
[ "$("$cast" balance "$escrow2")" = 0 ] || fail "escrow 2 not empty"
ok "disputed escrow refunded to the payer after deadline + window"

# ---- HTLC v2: a 33-byte preimage, and a hashlock used once
secret=0x$(printf 'fusion smoke v2 secret' | sha256sum | cut -c1-64)07
hashlock=0x$(printf '%s' "${secret#0x}" | "$py" -c 'import hashlib,sys; print(hashlib.sha256(bytes.fromhex(sys.stdin.read())).hexdigest())')
timelock=$(( $(now) + 3600 ))
send "$payer" "$htlc" 'lock(address,address,uint256,bytes32,uint64)' "$payee" "$zero" 500000000000000000 \
  "$hashlock" "$timelock" --value 500000000000000000 >"$work/lock.json" || fail "lock reverted"
id=$(logs_with "$work/lock.json" "$("$cast" keccak 'Locked(bytes32,address,address,address,uint256,bytes32,uint64)')" \
  | jget '["topics"][1]')
reverts_with 'HashlockUsed(bytes32)' "$payer" "$htlc" 'lock(address,address,uint256,bytes32,uint64)' "$anyone" \
  "$zero" 1 "$hashlock" "$timelock" --value 1 || fail "a second lock under the same hashlock was not refused"
send "$anyone" "$htlc" 'claim(bytes32,bytes)' "$id" "$secret" >"$work/claim.json" || fail "claim with 33 bytes reverted"
claimed=$(logs_with "$work/claim.json" "$("$cast" keccak 'Claimed(bytes32,bytes)')" | jget '["data"]')
[ "$("$cast" abi-decode --input 'f(bytes)' "$claimed" | lower)" = "$secret" ] || fail "Claimed does not carry the preimage"
ok "HTLC v2 claimed with a 33-byte preimage; hashlock reuse refused"

echo "contracts-smoke-v2: all checks passed"
