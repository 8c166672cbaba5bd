#!/usr/bin/python3
"""compliance_travel.py: the Travel Rule on anvil through the real binary. With a USD price
(<home>/prices.csv: 2000 USD per ETH) a desk funding of 1 ETH (2000 USD) is at or above
travel_rule.threshold_usd (1000): the desk refuses to sign it, in its gate, with one line
naming the missing originator fields, and sends nothing; `fusion case travel-rule`
shows the IVMS101 data with what is missing. Once the originator's address is recorded
(`fusion entity travel`, a signed decision) the same funding is signed, its IVMS101 data
is recorded, and `fusion case travel-rule` exports it by escrow and by the desk's
transaction hash. A funding below the threshold needs no data. A payment (`fusion pay`)
is held to the same rule; without a price (no price file, no feed) a funding or payment
is refused (the check fails closed) with one line naming the missing price. The price file
is a compliance officer's signed decision: edited without a signature it is refused."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, log, need_artifacts, Chain  # noqa
from desk_escrow import DeskUser, created, nonce  # noqa

PAYEE = A[1]


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain, travel_rule=True)
        dave = ("--operator", "dave")
        for name, who in (("Payer AG", A[0]), ("Payee GmbH", PAYEE)):
            desk.run(*dave, "entity", "add", name, "--type", "company", "--jurisdiction", "CH",
                     "--kyc", "verified", "--kyc-expires", "2099-12-31", "--risk", "low")
            desk.run(*dave, "entity", "link", name, "--chain", "local", "--address", who)
        prices = os.path.join(desk.home, "prices.csv")
        with open(prices, "w") as f:
            f.write("31337,native,2000\n")
        os.chmod(prices, 0o600)
        desk.run(*dave, "config", "sign", "prices")  # the prices are an officer's decision

        def make(amount):
            return created(desk.as_op("alice", "--json", "escrow", "create", "--payee", PAYEE,
                                      "--token", "ETH", "--amount", amount, "--approvers",
                                      "bob,carol", "--threshold", "2", "--deadline", "7d"))

        small, big = make("0.25"), make("1")
        # below the threshold (500 USD): no data needed
        desk.as_op("alice", "escrow", "fund", small)
        n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
        r = desk.as_op("alice", "escrow", "fund", big, check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert "Travel Rule data missing" in r.stderr and "2000.00 USD" in r.stderr, r.stderr
        assert "originator 'Payer AG': geographic address" in r.stderr, r.stderr
        assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
        shown = json.loads(desk.run("case", "travel-rule", big).stdout)
        assert shown["recorded"] is False and "originator 'Payer AG'" in shown["missing"], shown
        log("a funding at/above the threshold without originator data is refused: ok")

        # a payment is a transfer too: the same data, the same refusal
        n0 = nonce(chain, A[0])
        r = desk.as_op("alice", "pay", "--to", PAYEE, "--token", "ETH", "--amount", "1",
                       check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert "Travel Rule data missing" in r.stderr and "2000.00 USD" in r.stderr, r.stderr
        assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
        log("a payment at/above the threshold without originator data is refused: ok")

        # without a price the amount cannot be compared: the check fails closed, even for
        # an amount that would be under the threshold, and says what to do
        # the price decides what is under the threshold: an edit nobody signed that makes
        # 1 ETH worth next to nothing is refused, not obeyed
        with open(prices, "w") as f:
            f.write("31337,native,0.0001\n")
        r = desk.as_op("alice", "escrow", "fund", big, check=False)
        assert r.returncode == 1 and r.stderr.count("\n") == 1, (r.returncode, r.stderr)
        assert "prices.csv has changed since it was signed" in r.stderr, r.stderr
        assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
        with open(prices, "w") as f:
            f.write("31337,native,2000\n")
        log("the price file edited without a signature: refused: ok")

        os.rename(prices, prices + ".off")
        desk.run(*dave, "config", "sign", "prices")  # its removal, signed
        small2 = make("0.25")
        n0, rows0 = nonce(chain, A[0]), desk.outbound_count()
        for args in (("escrow", "fund", small2),
                     ("pay", "--to", PAYEE, "--token", "ETH", "--amount", "0.25")):
            r = desk.as_op("alice", *args, check=False)
            assert r.returncode == 1 and r.stderr.count("\n") == 1, (args, r.returncode,
                                                                      r.stderr)
            assert "no USD price" in r.stderr and "prices.csv" in r.stderr, r.stderr
            assert "travel_rule.enabled = no" in r.stderr, r.stderr
            assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0
        os.rename(prices + ".off", prices)
        desk.run(*dave, "config", "sign", "prices")
        log("without a USD price a funding or payment is refused, naming the price: ok")

        desk.run(*dave, "entity", "travel", "Payer AG", "--street", "Bahnhofstrasse 1",
                 "--town", "Zürich", "--postcode", "8001", "--address-country", "CH",
                 "--national-id", "5299000J2N45DDNE4Y28", "--national-id-type", "LEIX")
        r = desk.run(*dave, "entity", "travel", "Payer AG", "--national-id-type", "XXXX",
                     check=False)
        assert r.returncode == 1 and "IVMS101" in r.stderr, r.stderr
        desk.as_op("alice", "escrow", "fund", big)
        assert nonce(chain, A[0]) == n0 + 1
        rec = json.loads(desk.run("case", "travel-rule", big).stdout)
        assert rec["recorded"] is True, rec
        orig = rec["ivms101"]["originator"]
        person = orig["originatorPersons"][0]["legalPerson"]
        assert person["name"]["nameIdentifier"][0]["legalPersonName"] == "Payer AG", rec
        assert person["geographicAddress"][0]["townName"] == "Zürich", rec
        assert person["nationalIdentification"]["nationalIdentifierType"] == "LEIX", rec
        assert orig["accountNumber"][0].lower() == A[0].lower(), rec
        ben = rec["ivms101"]["beneficiary"]
        assert ben["beneficiaryPersons"][0]["legalPerson"]["name"]["nameIdentifier"][0][
            "legalPersonName"] == "Payee GmbH", rec
        assert ben["accountNumber"][0].lower() == PAYEE.lower(), rec
        assert rec["transfer"]["amount"] == str(10**18) and rec["transfer"]["usd_estimate"] == 2000
        txh = desk.query("SELECT hash FROM outbound_txs WHERE action = 'fund' AND "
                         "lower(escrow) = ?", big.lower())[0][0]
        by_tx = json.loads(desk.run("case", "travel-rule", txh).stdout)
        assert by_tx == rec, (by_tx, rec)
        audit = desk.run("audit", "list").stdout
        assert "entity.travel_data" in audit, audit
        log("with the originator's data the funding is signed and its IVMS101 data recorded "
            "and exported: ok")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
