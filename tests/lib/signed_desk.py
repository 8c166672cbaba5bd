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
    ("operator", "roles"), ("operator", "remove"), ("chain", "add"), ("chain", "remove"),
    ("asset", "add-token"), ("asset", "add-feed"),
}
ENV = {"FUSION_KDF": "interactive"}


def decides(args):
    args = [str(a) for a in args]
    if len(args) < 2 or (args[0], args[1]) not in DECIDING:
        return False
    if "--help" in args[2:] or "-h" in args[2:]:
        return False
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

    def add(self, name, roles):
        self.genesis()
        self.run(*self.as_(self.admin), "operator", "add", name, "--key", self.key(name),
                 "--role", roles)
        return self.keys[name]
