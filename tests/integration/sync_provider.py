#!/usr/bin/python3
"""sync_provider.py: sync through fake_provider.py, two FAKE hosted providers in front of
a real anvil that cap eth_getLogs (by blocks and by results, Alchemy's and Infura's
texts), rate-limit with 429 and Retry-After (seconds and HTTP dates), drop connections,
answer slowly and gzip their answers, and want an API key in the URL path. The desk's
endpoints name the key as ${env:NAME} and ${file:PATH}. Sync must complete exactly: the
same rows as a sync straight against anvil, and as the node's own eth_getLogs; the
limited provider is not asked again before its Retry-After; `chain add-endpoint` adds a
provider to a configured chain; the key is nowhere in the desk's files, its log, the
audit log or any output; and a missing key variable stops sync with one line naming it."""
import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_provider import FakeProvider  # noqa: E402
from sync_lib import Chain, Desk, assert_db_matches_node, log, need_artifacts  # noqa: E402

KEY_VAR = "FUSION_TEST_PROVIDER_KEY"


def activity(chain, n):
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=70 + i, via="rpc")
        chain.act(e, 0, "fund()", value=70 + i, via="rpc")
        chain.act(e, 3, "approve()", via="rpc")


def files_holding(root, needle):
    """Every file under root whose bytes contain needle (desk.db, its WAL, logs...)."""
    hits = []
    for d, _, names in os.walk(root):
        for name in names:
            p = os.path.join(d, name)
            try:
                with open(p, "rb") as fh:
                    if needle in fh.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    activity(chain, 30)

    key = "sk" + secrets.token_hex(16)
    os.environ[KEY_VAR] = key
    # Alchemy-like first (5 blocks per eth_getLogs, a hint), Infura-like second (results
    # capped, no hint); both rate-limit, drop and stall now and then.
    alchemy = FakeProvider(chain.node.url, key, profile="alchemy", max_blocks=5,
                           rate_every=7, retry_after=1, drop_every=11, slow_every=13)
    infura = FakeProvider(chain.node.url, key, profile="infura", max_blocks=12, max_results=6,
                          rate_every=5, retry_after=1, drop_every=17)
    desk = Desk()
    keyfile = os.path.join(desk.home, "infura.key")
    with open(keyfile, "w") as fh:
        fh.write(key + "\n")
    os.chmod(keyfile, 0o600)
    url_a = alchemy.url_for("${env:" + KEY_VAR + "}")
    url_b = infura.url_for("${file:" + keyfile + "}")
    outputs = []
    r = desk.run("chain", "add", "--name", "hosted", "--chain-id", 31337, "--rpc", url_a,
                 "--rpc", url_b, "--factory", chain.factory, "--confirmations", 1)
    outputs += [r.stdout, r.stderr]
    r = desk.run("sync", "--once", "--range", "64", "--rpc-timeout-ms", "3000", timeout=600)
    outputs += [r.stdout, r.stderr]
    assert "done" in r.stderr, r.stderr
    n = assert_db_matches_node(desk, chain, "sync --once through the fake providers")

    # The same rows as a sync straight against anvil.
    direct = Desk()
    direct.add_chain(chain, name="direct", confirmations=1)
    direct.run("sync", "--once")
    assert direct.logs(31337) == desk.logs(31337), "the provider sync differs from the direct one"
    sa, sb = alchemy.stats(), infura.stats()
    log(f"{n} logs; alchemy-like: {sa}; infura-like: {sb}")
    assert sa["capped"] >= 1, "the block-range cap was never hit"
    assert sa["rate_limited"] + sb["rate_limited"] >= 1, "never rate limited"
    assert sa["dropped"] + sb["dropped"] >= 1, "no connection was dropped"
    assert sa["gzip"] >= 1 and sa["plain"] == 0, "answers were not asked for compressed"
    assert sa["unauthorized"] == 0 and sb["unauthorized"] == 0, "the key did not reach the URL"
    # Nobody asked a rate-limited provider again before its Retry-After was up.
    assert sa["early"] == 0 and sb["early"] == 0, (sa, sb)
    text = desk.fusion_log()
    assert "rate limited" in text, "no log line for the 429s"
    assert "Log response size exceeded" in text or "blocks at a time" in text

    # A provider added to a configured chain, its key a placeholder: listed as given,
    # audited without it, refused twice.
    r = direct.run("chain", "add-endpoint", "direct", "--rpc", url_b)
    outputs += [r.stdout, r.stderr]
    assert "added" in r.stdout and "seems to carry" not in r.stderr, r.stdout + r.stderr
    eps = direct.json("chain", "list", "--json")[0]["endpoints"]
    assert [e["url"] for e in eps] == [chain.node.url, url_b], eps
    r = direct.run("chain", "add-endpoint", "direct", "--rpc", url_b, check=False)
    assert r.returncode == 1 and "already configured" in r.stderr, r.stderr
    r = direct.run("chain", "add-endpoint", "direct", "--rpc", alchemy.url_for("wrong-key"),
                   check=False)
    assert r.returncode == 1 and "Must be authenticated" in r.stderr, r.stderr
    assert len(direct.json("chain", "list", "--json")[0]["endpoints"]) == 2

    # What the desk learnt of each endpoint, and its URL as configured (the template).
    eps = desk.json("chain", "list", "--json")[0]["endpoints"]
    assert eps[0]["url"] == url_a and eps[1]["url"] == url_b, eps
    assert eps[0]["range_cap"] is not None and eps[0]["range_cap"] <= 5, eps
    assert isinstance(eps[0]["latency_ms"], int), eps
    r = desk.run("chain", "list")
    outputs += [r.stdout, r.stderr]
    assert "${env:" + KEY_VAR + "}" in r.stdout, r.stdout

    # Following through the providers while new escrows arrive.
    desk.follow("--poll-ms", "100", "--rpc-timeout-ms", "3000")
    activity(chain, 8)
    from sync_lib import wait_until
    wait_until(lambda: desk.logs(31337) == chain.watched_logs(),
               "the follower to keep up through the providers", timeout=180)
    assert desk.stop_follow() == 0
    assert_db_matches_node(desk, chain, "following through the fake providers")

    # The key is in no file of the desk and in no output.
    with open(os.path.join(desk.home, "follower.stderr"), "rb") as fh:
        outputs.append(fh.read().decode("utf-8", "replace"))
    os.remove(keyfile)  # the one file that is meant to hold it
    hits = files_holding(desk.home, key.encode()) + files_holding(direct.home, key.encode())
    assert not hits, f"the API key is written in {hits}"
    for o in outputs:
        assert key not in o, "the API key reached an output"

    # A missing key: one line naming the variable, no request sent without it.
    del os.environ[KEY_VAR]
    before = alchemy.stats()["requests"]
    r = desk.run("sync", "--once", check=False, timeout=120)
    assert r.returncode != 0, r.stderr
    assert f"{KEY_VAR} is not set" in r.stderr, r.stderr
    assert alchemy.stats()["requests"] == before
    log(f"missing key: {r.stderr.strip().splitlines()[-1]}")
    # A key typed into the URL: it works, chain add says where it now is, and no listing
    # shows it.
    os.environ[KEY_VAR] = key
    literal = Desk()
    r = literal.run("chain", "add", "--name", "typed", "--chain-id", 31337, "--rpc",
                    alchemy.url_for(key), "--factory", chain.factory, "--confirmations", 1)
    assert "seems to carry an API key" in r.stderr and key not in r.stderr, r.stderr
    for args in (("chain", "list"), ("chain", "list", "--json"), ("chain", "list", "--csv")):
        r = literal.run(*args)
        assert key not in r.stdout + r.stderr and "/v2/***" in r.stdout, (args, r.stdout)
    alchemy.stop()
    infura.stop()
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
