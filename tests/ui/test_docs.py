"""The docs agree with the program: the key tables in docs/user-guide.md and
docs/fusion.1 are exactly what `fusion ui --keys[=man]` generates from the action table,
the man page renders without warnings, and the CLI edges of the UI behave (usage
errors exit 2; no terminal, or a TERM without terminfo, exits 1 with one line saying
what to do)."""
import os
import pty
import select
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def block(path, begin, end):
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        raise tmuxh.TestFailure("%s lacks the generated-keys markers" % path)
    start = text.index("\n", text.index(begin)) + 1
    return text[start: text.index(end)]


def fusion(*args, stdin=None):
    return subprocess.run([tmuxh.FUSION_BIN, "--home", os.environ.get("TMPDIR", "/tmp")] +
                          list(args), capture_output=True, text=True, stdin=stdin)


def main():
    docs = os.path.join(tmuxh.FUSION_ROOT, "docs")
    md = fusion("ui", "--keys")
    if md.returncode != 0:
        raise tmuxh.TestFailure("fusion ui --keys failed: %s" % md.stderr)
    if block(os.path.join(docs, "user-guide.md"), "<!-- keys:begin", "<!-- keys:end") != md.stdout:
        raise tmuxh.TestFailure("docs/user-guide.md key tables differ from `fusion ui --keys`; "
                                "regenerate them")
    man = fusion("ui", "--keys=man")
    if block(os.path.join(docs, "fusion.1"), '.\\" keys:begin', '.\\" keys:end') != man.stdout:
        raise tmuxh.TestFailure("docs/fusion.1 KEYS differ from `fusion ui --keys=man`; "
                                "regenerate them")
    if shutil.which("groff"):
        r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(docs, "fusion.1")],
                           capture_output=True, text=True)
        if r.returncode != 0 or r.stderr.strip():
            raise tmuxh.TestFailure("groff warns about docs/fusion.1:\n" + r.stderr)

    bad = fusion("ui", "--bogus")
    if bad.returncode != 2 or len(bad.stderr.strip().split("\n")) != 1:
        raise tmuxh.TestFailure("fusion ui --bogus: exit %d, stderr %r"
                                % (bad.returncode, bad.stderr))
    notty = fusion(stdin=subprocess.DEVNULL)
    if notty.returncode != 1 or "needs a terminal" not in notty.stderr:
        raise tmuxh.TestFailure("fusion without a terminal: exit %d, stderr %r"
                                % (notty.returncode, notty.stderr))

    # On a terminal whose TERM has no terminfo entry: one line, exit 1, no curses mess.
    home = tempfile.mkdtemp(prefix="fusion-ui-term-")
    master, slave = pty.openpty()
    proc = subprocess.Popen([tmuxh.FUSION_BIN, "--home", home], stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True,
                            env=dict(os.environ, TERM="no-such-terminal", LANG="C.UTF-8"))
    os.close(slave)
    out = b""
    while select.select([master], [], [], 60)[0]:  # a hang guard, not a measurement
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(master)
    rc = proc.wait(timeout=60)
    shutil.rmtree(home, ignore_errors=True)
    want = b"fusion: cannot start the terminal UI on TERM=no-such-terminal; set TERM"
    if rc != 1 or not out.startswith(want) or out.count(b"\n") != 1:
        raise tmuxh.TestFailure("unknown TERM: exit %d, output %r" % (rc, out))


tmuxh.run(main)
