"""signed_desk.py: a test desk set up the way a real desk is. A desk records no decision
until an admin signs its genesis, and then every decision is signed by its operator's key:
so each operator here has a key of the desk's key store under their own passphrase (a 0600
file beside the desk home, never inside it), the admin signs the genesis with
`operator genesis` and adds the others with `operator add` (signed decisions too).

    sd = SignedDesk(FUSION, home)
    sd.genesis()                         # operator "admin" signs the genesis
    sd.add("dave", "compliance")         # a signed operator.add by the admin
    run(FUSION, "--home", home, *sd.as_("dave"), "case", "take", "1")

decides(args) says whether a command line records a decision (the list of cli/signer.c),
so a harness can sign the desk's configuration (chain add, ...) as the admin.
"""
import os
import subprocess

# The subcommands that record decisions (src/cli/signer.c, `deciding`).
DECIDING = {
    ("case", "take"), ("case", "next"), ("case", "note"), ("case", "snooze"),
    ("case", "escalate"), ("case", "clear"), ("case", "block"), ("case", "report"),
    ("case", "rules"), ("entity", "add"), ("entity", "edit"), ("entity", "link"),
    ("entity", "import"), ("alerts", "ack"), ("risk", "set-drawn"), ("operator", "add"),
    ("operator", "roles"), ("operator", "remove"), ("chain", "add"), ("chain", "add-factory"),
    ("chain", "add-endpoint"), ("chain", "remove"), ("asset", "add-token"), ("asset", "add-feed"),
    ("config", "sign"), ("lists", "import"), ("entity", "travel"),
    ("api", "client"), ("proposal", "reject"),
    ("credit", "facility"), ("credit", "draw"), ("credit", "repay"), ("credit", "fee"),
    ("credit", "withdrawal"), ("bridge", "config"),
    ("escrow", "create"), ("escrow", "fund"), ("escrow", "release"), ("bridge", "send"),
}
ENV = {"FUSION_KDF": "interactive"}
# anvil's dev keys (its default mnemonic), by address: a test operator given one of these
# addresses gets the key into the desk's key store, as a real operator has theirs
ANVIL_KEYS = {
    "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266":
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8":
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc":
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x90f79bf6eb2c4f870365e785982e1f101e93b906":
        "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x15d34aaf54267db7d7c367839aaf71a00a2c6a65":
        "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc":
        "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x976ea74026e726554db657fa54763abd0c3a0aa9":
        "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x14dc79964da2c08b23698b3d3cc7ca32193d9955":
        "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f":
        "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0xa0ee7a142d267c1f36714e4a8f75612f20a79720":
        "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
}
GLOBAL_WITH_VALUE = ("--home", "--operator", "--passphrase-file")


def decides(args):
    args = [str(a) for a in args]
    if len(args) < 2 or (args[0], args[1]) not in DECIDING:
        return False
    if "--help" in args[2:] or "-h" in args[2:]:
        return False
    if args[0] == "api":
        return len(args) > 2 and args[2] in ("add", "revoke")
    if args[:2] == ["credit", "facility"]:
        return len(args) > 2 and args[2] in ("add", "edit")
    if args[:2] in (["credit", "withdrawal"], ["escrow", "create"], ["escrow", "fund"],
                    ["escrow", "release"], ["bridge", "send"]):
        return any(a.startswith("--override") for a in args[2:])
    return args[1] != "rules" or "--sanctions" in args[2:]


class SignedDesk:
    def __init__(self, fusion, home, pwdir=None):
        self.fusion = fusion
        self.home = home
        self.pwdir = pwdir or home.rstrip("/") + "-pw"
        self.keys = {}
        self.pw = {}
        self.admin = None

    def run(self, *args):
        r = subprocess.run([self.fusion, "--home", self.home, *map(str, args)],
                           capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, **ENV))
        if r.returncode != 0:
            raise AssertionError(f"fusion {' '.join(map(str, args))} exited {r.returncode}: "
                                 f"{r.stderr.strip()}")
        return r

    def pwfile(self, who):
        if who not in self.pw:
            os.makedirs(self.pwdir, mode=0o700, exist_ok=True)
            p = os.path.join(self.pwdir, f"pw-{who}")
            with open(p, "w") as f:
                f.write(f"passphrase of {who}\n")
            os.chmod(p, 0o600)
            self.pw[who] = p
        return self.pw[who]

    def key(self, who):
        """who's key, new in the desk's key store under who's passphrase."""
        if who not in self.keys:
            r = self.run("--passphrase-file", self.pwfile(who), "key", "new", "--label", who)
            self.keys[who] = r.stdout.strip().split()[-1]
        return self.keys[who]

    def known(self, who, address, pwfile):
        """who's key (address) is in the key store already, under the passphrase in pwfile."""
        self.keys[who] = str(address)
        self.pw[who] = pwfile

    def import_anvil(self, who, address):
        """who's key is anvil's key of address (when it is one): into the key store under
        who's passphrase. False when address is no anvil key."""
        secret = ANVIL_KEYS.get(str(address).lower())
        if secret is None:
            return False
        if who not in self.keys:
            os.makedirs(self.pwdir, mode=0o700, exist_ok=True)
            raw = os.path.join(self.pwdir, f"raw-{who}")
            with open(raw, "w") as f:
                f.write(secret + "\n")
            os.chmod(raw, 0o600)
            try:
                self.run("key", "import", "--raw-file", raw, "--label", who,
                         "--new-passphrase-file", self.pwfile(who))
            except AssertionError as ex:
                if "already" not in str(ex):
                    raise
            finally:
                os.unlink(raw)
            self.keys[who] = str(address)
        return True

    def sign_args(self, args):
        """The global options a test's command line needs to be signed as a real desk's
        would be: a decision without --operator is the admin's (the genesis signed first);
        one with --operator NAME and no --passphrase-file gets NAME's passphrase file when
        NAME's key is in the key store. `operator add NAME --key ANVIL_ADDRESS` puts that
        key there first. Returns the options to put before args."""
        args = [str(a) for a in args]
        i, op, has_pw = 0, None, False
        while i < len(args) and args[i].startswith("--"):
            if args[i] == "--operator" and i + 1 < len(args):
                op = args[i + 1]
            has_pw = has_pw or args[i] == "--passphrase-file"
            i += 2 if args[i] in GLOBAL_WITH_VALUE else 1
        cmd = args[i:]
        if not decides(cmd):
            return []
        if cmd[:2] == ["operator", "add"] and len(cmd) > 2 and "--key" in cmd[3:]:
            k = cmd.index("--key", 3)
            if k + 1 < len(cmd):
                self.import_anvil(cmd[2], cmd[k + 1])
        if op is None:
            return self.genesis().as_(self.admin)
        if not has_pw and op in self.keys:
            return ["--passphrase-file", self.pwfile(op)]
        return []

    def as_(self, who):
        """The global options that make a command who's, signed with who's key."""
        return ["--operator", who, "--passphrase-file", self.pwfile(who)]

    def genesis(self, admin="admin", roles=None):
        if self.admin:
            return self
        extra = ["--role", roles] if roles else []
        self.run(*self.as_(admin), "operator", "genesis", "--key", self.key(admin), *extra)
        self.admin = admin
        return self

    def sign_config(self, kind, who=None):
        """Signs the desk's configuration file kind (policy, risk-limits, compliance) as it
        is in the home: who's decision (the admin's by default; compliance rules need an
        operator with the compliance role). A signed desk acts only on signed files."""
        self.genesis()
        self.run(*self.as_(who or self.admin), "config", "sign", kind)
        return self

    def add(self, name, roles):
        self.genesis()
        self.run(*self.as_(self.admin), "operator", "add", name, "--key", self.key(name),
                 "--role", roles)
        return self.keys[name]


_desks = {}


def for_home(fusion, home):
    """The SignedDesk of the desk at home (one per home in a test process)."""
    if home not in _desks:
        _desks[home] = SignedDesk(fusion, home)
    return _desks[home]
