"""credit_lib.py: what the credit tests on anvil share: check(), the audit log's credit rows,
and the contracts they deploy with cast's encodings — test tokens, mock USD feeds (8
decimals, as Chainlink's) and a CollateralVault with its M-of-N owners."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from sync_lib import artifact, cast  # noqa: E402


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def credit_rows(desk):
    """The credit.* rows of the desk's audit log, oldest first."""
    with open(os.path.join(desk.home, "audit.log")) as f:
        return [r for r in map(json.loads, f) if r["action"].startswith("credit.")]


def token(node, name, symbol, decimals):
    """A TestToken (mintable ERC-20) on node; its address."""
    return node.deploy(artifact("TestToken")["bytecode"] + cast(
        "abi-encode", "constructor(string,string,uint8)", name, symbol, decimals)[2:])


def usd_feed(node, description, answer):
    """A MockPriceFeed of 8 decimals answering `answer` (USD x 10^8); its address."""
    return node.deploy(artifact("MockPriceFeed")["bytecode"] + cast(
        "abi-encode", "constructor(uint8,string,int256)", 8, description, answer)[2:])


def collateral_vault(node, owners, threshold):
    """A CollateralVault whose withdrawals need `threshold` of `owners`; its address."""
    return node.deploy(artifact("CollateralVault")["bytecode"] + cast(
        "abi-encode", "constructor(address[],uint256)", "[%s]" % ",".join(owners),
        threshold)[2:])
