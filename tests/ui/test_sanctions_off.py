"""Sanctions screening switched off is shown on the Dashboard, first on the alerts heading
and in the error role: with compliance.conf saying `sanctions.enabled = no` and no signed
decision ("SANCTIONS SCREENING STOPPED"), then with a compliance officer's signed decision
("SANCTIONS SCREENING OFF (decision of carol)"), and not at all once the line is gone.
The desk is set up through the real binary (key, operator, decision)."""
import os
import subprocess
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def fusion(home, *args):
    env = dict(os.environ, FUSION_KDF="interactive")
    r = subprocess.run([tmuxh.FUSION_BIN, "--home", home] + list(args), capture_output=True,
                       text=True, env=env, timeout=120)
    if r.returncode != 0:
        raise tmuxh.TestFailure("fusion %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def heading(t, needle):
    """The alerts heading (the line with 'Alerts') starts with needle."""
    def pred(text):
        for line in text.split("\n"):
            if "Alerts" in line:
                return line.strip(" \u2500").startswith(needle)
        return False
    return pred


def session(home, n, needle, desc):
    """A fresh tmux server per session (one server's exit races the next session's start),
    on the shared desk home."""
    t = tmuxh.Tmux("sanctions_off%d" % n, cols=120, rows=30)
    t.home = home
    t.start_fusion()
    t.wait_for("Fusion Prime Workstation", "the title bar")
    t.wait_for(heading(t, needle), desc)
    t.send("q")
    t.wait_dead()
    t.close()


def main():
    t = tmuxh.Tmux("sanctions_off", cols=120, rows=30)  # owns the desk home's directory
    home = t.home
    os.makedirs(home, mode=0o700)
    pw = os.path.join(t.tmp, "pw")
    with open(pw, "w") as f:
        f.write("pw-carol-1\n")
    os.chmod(pw, 0o600)  # a passphrase file open to others is refused
    key = fusion(home, "--passphrase-file", pw, "key", "new", "--label", "carol").strip()
    # carol, the desk's admin and compliance officer, signs its genesis
    fusion(home, "--operator", "carol", "--passphrase-file", pw, "operator", "genesis", "--key",
           key, "--role", "compliance")
    conf = os.path.join(home, "compliance.conf")
    with open(conf, "w") as f:
        f.write("sanctions.enabled = no\n")
    os.chmod(conf, 0o600)
    session(home, 1, "SANCTIONS SCREENING STOPPED", "the refused line on the alerts heading")
    fusion(home, "--operator", "carol", "--passphrase-file", pw, "case", "rules", "--sanctions",
           "off", "--reason", "broker screens")
    # the rules file is a signed decision too (`config sign compliance`)
    fusion(home, "--operator", "carol", "--passphrase-file", pw, "config", "sign", "compliance")
    session(home, 2, "SANCTIONS SCREENING OFF (decision of carol)", "the decision on the heading")
    os.remove(conf)
    fusion(home, "--operator", "carol", "--passphrase-file", pw, "config", "sign", "compliance")
    session(home, 3, "Alerts", "a plain heading once screening is on")


if __name__ == "__main__":
    tmuxh.run(main)
