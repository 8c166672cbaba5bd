"""The docs agree with the program: the key tables in docs/user-guide.md and
docs/fusion.1 are exactly what `fusion ui --keys[=man]` generates from the action table,
the man page renders without warnings, and the CLI edges of the UI behave (usage
errors exit 2, no terminal exits 1 with a one-line message)."""
import os
import shutil
import subprocess
import sys

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


tmuxh.run(main)
