"""The `?` help screen lists every action of the table in ui/keymap.h (read here from
the source, not from fusion), with its `:` command and help text; it scrolls, filters
with /, and Esc closes it."""
import os
import re
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def actions_from_source():
    """(command, help) of every X(...) row of UI_ACTIONS in ui/keymap.h."""
    with open(os.path.join(tmuxh.FUSION_ROOT, "ui", "keymap.h")) as f:
        src = f.read()
    body = src[src.index("#define UI_ACTIONS(X)"):]
    body = body[: body.index("\ntypedef")]
    body = re.sub(r"\\\n", " ", body)
    rows = re.findall(r'X\(\s*\w+\s*,\s*"([a-z]+)"\s*,\s*UI_KEYS\((?:[^()]|\([^()]*\))*\)\s*,'
                      r'\s*"((?:[^"\\]|\\.)*)"', body)
    if len(rows) < 20:
        raise tmuxh.TestFailure("could not parse the action table (%d rows)" % len(rows))
    return rows


def main():
    actions = actions_from_source()
    t = tmuxh.Tmux("help")
    t.start_fusion()
    t.wait_for("Fusion Prime Workstation")
    t.send("?")
    t.wait_for(lambda s: " Help: keys and commands" in s and "All screens" in s, "the help")

    # Page through, collecting the lines of the help table.
    seen = []
    for _ in range(40):
        text = t.capture()
        seen.extend(text.split("\n")[4: t.rows - 2])
        m = re.search(r"lines ([\d,]+)/([\d,]+)", t.status_line())
        if m and m.group(1) == m.group(2):
            break
        before = t.status_line()
        t.send("PageDown")
        t.wait_for(lambda s: s.split("\n")[t.rows - 2] != before, "the next help page")
    else:
        t.fail("never reached the end of the help")
    joined = "\n".join(seen)
    for cmd, help_text in actions:
        row = re.search(r"^ .*:%s +%s\s*$" % (re.escape(cmd), re.escape(help_text)), joined, re.M)
        t.check(row is not None, "help lacks :%s %r" % (cmd, help_text))
    for section in ["All screens", "Dashboard", "Escrows", "Approvals", "Compliance", "Keys",
                    "Audit"]:
        t.check(re.search(r"^ %s\s*$" % section, joined, re.M), "help lacks section %s" % section)

    # / filters the help; Esc clears the filter, a second Esc closes the help.
    t.send("g", "/")
    t.type("unlock")
    t.wait_for(lambda s: ":unlock" in s and ":quit" not in s, "the filtered help")
    t.send("Enter")
    t.wait_for("filter /unlock", "the kept filter in the status line")
    t.send("Escape")
    t.wait_for(lambda s: ":quit" in s and "filter /" not in s, "the unfiltered help")
    t.send("Escape")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Dashboard"), "the Dashboard again")
    # q closes the help overlay first (it does not quit), then quits
    t.send("?")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Help"), "the help again")
    t.send("q")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Dashboard"), "q closed the help")
    t.check(t.fmt("#{pane_dead}") != "1", "q on the help quit fusion")
    t.send("q")
    t.check(t.wait_dead() == 0, "fusion did not exit cleanly")


tmuxh.run(main)
