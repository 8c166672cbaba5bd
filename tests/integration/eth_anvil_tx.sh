#!/usr/bin/env bash
# eth_anvil_tx.sh: transactions built and signed by src/eth (through eth-testtool)
# are accepted by a real anvil: sent with eth_sendRawTransaction, mined, and the
# receipt's "from" equals the sender that tx_recover_sender recovers, which equals
# the key's address. Legacy (EIP-155) and type 2, on chain ids above 2^32 and near
# 2^63 (legacy v then exceeds 64 bits), one anvil each; a transaction signed for
# another chain is refused.
# usage: eth_anvil_tx.sh ETH_TESTTOOL
set -euo pipefail
TOOL=$1
. "$FUSION_ROOT/tests/lib/anvil.sh"

# anvil's first default account (the mnemonic "test test ... junk"), funded at genesis
KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80
FROM=0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266
TO=0x1111111111111111111111111111111111111111
fails=0

ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
field() { # JSON FIELD
  /usr/bin/python3 -c 'import json, sys
v = json.loads(sys.argv[1]).get(sys.argv[2])
print("" if v is None else v)' "$1" "$2"
}
hex2dec() { /usr/bin/python3 -c 'import sys; print(int(sys.argv[1], 16))' "$1"; }

# send RAW NAME: sends, checks the hash, the receipt status and sender; the receipt
# is left in LAST_RECEIPT
send() {
  local raw=$1 name=$2 decoded hash receipt from signer
  decoded=$("$TOOL" decode-tx "$raw")
  signer=$(field "$decoded" signer)
  [ "$signer" = "$FROM" ] && ok "$name: recovered sender is the key's address" \
    || bad "$name: recovered $signer, key is $FROM"
  hash=$(anvil_rpc_str "$ANVIL_URL" eth_sendRawTransaction "[\"$raw\"]") || {
    bad "$name: eth_sendRawTransaction refused it"
    return 0
  }
  [ "$hash" = "$(field "$decoded" hash)" ] && ok "$name: node's hash = tx_hash" \
    || bad "$name: node says $hash, we say $(field "$decoded" hash)"
  receipt=""
  for _ in $(seq 50); do
    receipt=$(anvil_rpc "$ANVIL_URL" eth_getTransactionReceipt "[\"$hash\"]")
    [ "$receipt" != null ] && break
    sleep 0.1
  done
  if [ "$receipt" = null ]; then
    bad "$name: not mined"
    return 0
  fi
  [ "$(field "$receipt" status)" = 0x1 ] && ok "$name: mined, status 1" \
    || bad "$name: status $(field "$receipt" status)"
  from=$(field "$receipt" from | tr 'A-F' 'a-f')
  [ "$from" = "$signer" ] && ok "$name: receipt.from = recovered sender ($from)" \
    || bad "$name: receipt.from $from, recovered $signer"
  local tx
  tx=$(anvil_rpc "$ANVIL_URL" eth_getTransactionByHash "[\"$hash\"]")
  [ "$(hex2dec "$(field "$tx" chainId)")" = "$CHAIN" ] && ok "$name: node reads chain id $CHAIN" \
    || bad "$name: node reads chain id $(field "$tx" chainId)"
  LAST_RECEIPT=$receipt
}

nonce() {
  hex2dec "$(anvil_rpc_str "$ANVIL_URL" eth_getTransactionCount "[\"$FROM\",\"latest\"]")"
}

for CHAIN in 4294967311 9223372036854775783; do # 2^32 + 15, 2^63 - 25
  echo "== chain $CHAIN"
  anvil_start --chain-id "$CHAIN"
  got_chain=$(hex2dec "$(anvil_rpc_str "$ANVIL_URL" eth_chainId)")
  [ "$got_chain" = "$CHAIN" ] && ok "anvil chain id $got_chain" || bad "anvil chain id $got_chain"
  gas_price=$(hex2dec "$(anvil_rpc_str "$ANVIL_URL" eth_gasPrice)")

  # 1. legacy transfer
  raw=$("$TOOL" mktx --legacy --key "$KEY" --chain "$CHAIN" --nonce "$(nonce)" --gas-limit 21000 \
    --gas-price "$gas_price" --value 1000000000000000001 --to "$TO")
  send "$raw" legacy

  # 2. type-2 transfer with calldata to an account without code
  raw=$("$TOOL" mktx --key "$KEY" --chain "$CHAIN" --nonce "$(nonce)" --gas-limit 30000 \
    --max-fee $((gas_price * 2)) --priority-fee 1000000000 --value 7 --to "$TO" --data 0xdeadbeef)
  send "$raw" type2

  bal=$(hex2dec "$(anvil_rpc_str "$ANVIL_URL" eth_getBalance "[\"$TO\",\"latest\"]")")
  [ "$bal" = 1000000000000000008 ] && ok "recipient balance $bal" || bad "recipient balance $bal"

  # 3. type-2 contract creation (init code returning a one-byte runtime 0x00)
  raw=$("$TOOL" mktx --key "$KEY" --chain "$CHAIN" --nonce "$(nonce)" --gas-limit 100000 \
    --max-fee $((gas_price * 2)) --priority-fee 1 --data 0x600160006000f3)
  LAST_RECEIPT={}
  send "$raw" create
  created=$(field "$LAST_RECEIPT" contractAddress)
  [ -n "$created" ] && ok "contract created at $created" || bad "no contract address"

  # 4. signed for another chain: the node must refuse it (the chain id is signed)
  raw=$("$TOOL" mktx --key "$KEY" --chain $((CHAIN + 1)) --nonce "$(nonce)" --gas-limit 21000 \
    --max-fee $((gas_price * 2)) --priority-fee 1 --to "$TO")
  if anvil_rpc "$ANVIL_URL" eth_sendRawTransaction "[\"$raw\"]" >/dev/null 2>&1; then
    bad "a transaction for chain $((CHAIN + 1)) was accepted"
  else
    ok "a transaction for chain $((CHAIN + 1)) is refused"
  fi

  anvil_stop
done
echo "eth_anvil_tx: $fails failure(s)"
[ "$fails" -eq 0 ]
