"""anvil_ui.py: what the terminal tests on a real anvil node share: the anvil harness of
tests/integration (Chain, devchain), the fusion CLI runner, a sanctioned payee, an escrow
created straight on the factory with cast, and the wrapper that skips without tmux or
contract artifacts and always stops the node."""
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import tmuxh  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import signed_desk  # noqa: E402

try:
    from sync_lib import (ARTIFACTS, CREATE_SIG, ZERO, Chain, artifact, cast,  # noqa: E402,F401
                          escrow_summary, topic)
    import devchain  # noqa: E402  (on the path once sync_lib is loaded)
except Exception as exc:  # pragma: no cover
    print("SKIP: cannot load the anvil harness: %s" % exc)
    sys.exit(77)

PASS = "correct horse battery staple"
ENV = {"FUSION_KDF": "interactive"}
SANCTIONED = "0x8589427373D6D84E98730D7795D8f6f8731FDA16"  # data/sanctions, ETH list line 90


def fusion(home, *args):
    """Runs the fusion CLI on the desk at home; its stdout, or a test failure."""
    # signed as on a real desk: the admin's genesis, each operator's own passphrase
    pre = signed_desk.for_home(tmuxh.FUSION_BIN, home).sign_args(args)
    r = subprocess.run([tmuxh.FUSION_BIN, "--home", home, *pre, *map(str, args)],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **ENV))
    if r.returncode != 0:
        raise tmuxh.TestFailure("fusion %s: %s" % (" ".join(map(str, args)), r.stderr.strip()))
    return r.stdout


def operator(t, home, pw, name, index, role):
    """Imports devchain key `index` (encrypted with the passphrase in file pw) and makes
    it operator `name` with `role`."""
    keyfile = os.path.join(t.tmp, name + ".key")
    with open(keyfile, "w") as f:
        f.write(devchain.KEYS[index] + "\n")
    os.chmod(keyfile, 0o600)  # secrets must be the operator's alone
    fusion(home, "--passphrase-file", pw, "key", "import", "--raw-file", keyfile, "--label", name)
    os.unlink(keyfile)
    signed_desk.for_home(tmuxh.FUSION_BIN, home).known(name, devchain.ACCOUNTS[index], pw)
    fusion(home, "operator", "add", name, "--key", devchain.ACCOUNTS[index], "--role", role)


def travel_rule_off(home, officer):
    """The Travel Rule fails closed without a USD price, and these desks price nothing: the
    compliance officer `officer` turns it off in compliance.conf, a signed decision."""
    conf = os.path.join(home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("travel_rule.enabled = no\n")
    os.chmod(conf, 0o600)
    fusion(home, "--operator", officer, "config", "sign", "compliance")


def sign_in(t, name, pwfile):
    """In the UI: `:operator NAME` and NAME's passphrase (from pwfile), so NAME's decisions
    are signed; waits for the title to say so."""
    with open(pwfile) as f:
        pw = f.read().strip()
    t.send(":")
    t.type("operator %s" % name)
    t.send("Enter")
    t.wait_for("(typing is not shown)", "the passphrase prompt of %s" % name)
    t.type(pw)
    t.send("Enter")
    t.wait_for("operator %s (signed in)" % name, "%s signed in" % name)


def create(chain, payee):
    """An escrow of 1 ETH from account 0 to payee, created on the factory with cast."""
    A = devchain.ACCOUNTS
    deadline = int(time.time()) + 30 * 86400
    r = chain.cast_send(A[0], chain.factory, CREATE_SIG, payee, ZERO, str(10**18),
                        "[%s,%s]" % (A[2], A[3]), "1", A[5], str(deadline))
    created = topic("EscrowCreated(address,address,address,address,uint256,address[],uint256,"
                    "address,uint64)")
    return "0x" + [lg for lg in r["logs"] if lg["topics"][0] == created][0]["topics"][1][-40:]


def on_anvil(run):
    """Runs run(chain) on a fresh anvil node with the factory deployed; stops the node."""
    tmuxh.skip_unless_ready()
    if not os.path.exists(os.path.join(ARTIFACTS, "EscrowFactory.json")):
        print("SKIP: no contract artifacts")
        sys.exit(77)
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        run(chain)
    finally:
        chain.node.stop()
