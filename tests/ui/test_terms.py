"""Plain terminals: TERM=xterm, TERM=screen and tmux's own type all draw the full frame
and every screen; in a UTF-8 locale lines are box-drawing characters, in the C locale
they are ASCII and nothing outside ASCII reaches the terminal."""
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def visit_all(t, rule):
    for num, title in enumerate(["Dashboard", "Escrows", "Approvals", "Compliance", "Entities",
                                 "Keys", "Chains", "Audit"], 1):
        t.send(str(num))
        t.wait_for(lambda s: s.split("\n")[2].startswith(" " + title)
                   and rule * 20 in s.split("\n")[3] and s.split("\n")[3].endswith(rule * 20)
                   and s.split("\n")[t.rows - 2].startswith(" %d %s" % (num, title)),
                   "screen %d on this terminal" % num)
    t.send("?")
    t.wait_for("All screens", "the help")
    t.send("Escape", "q")
    t.check(t.wait_dead() == 0, "fusion did not exit cleanly")


def main():
    for term in ["xterm", "screen", "tmux-256color"]:
        t = tmuxh.Tmux("term-" + term)
        t.start_fusion(prefix="env TERM=%s " % term)
        text = t.wait_for("q quit", "the frame with TERM=%s" % term)
        t.check("\u2502 desk " in text.split("\n")[0], "UTF-8 separators in the title bar")
        visit_all(t, "\u2500")
        t.close()

    t = tmuxh.Tmux("ascii")
    t.start_fusion(prefix="env LANG=C LC_ALL=C TERM=xterm ")
    text = t.wait_for("q quit", "the frame in the C locale")
    t.check("| desk " in text.split("\n")[0], "ASCII separators in the title bar")
    t.check(all(ord(c) < 128 for c in text), "non-ASCII output in the C locale")
    visit_all(t, "-")


tmuxh.run(main)
