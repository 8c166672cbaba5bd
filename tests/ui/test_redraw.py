"""Only what is dirty is redrawn: the clock ticking in the title bar redraws the title,
not the screen body; keys that change nothing draw nothing; switching screens draws the
body once. Counted from fusion's debug log ("draw body", "draw title")."""
import os
import re
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def counts(t):
    with open(os.path.join(t.home, "fusion.log")) as f:
        text = f.read()
    return text.count("[ui] draw body"), text.count("[ui] draw title")


def clock(text):
    m = re.search(r"(\d\d:\d\d:\d\d) UTC", text.split("\n")[0])
    return m.group(1) if m else None


def main():
    t = tmuxh.Tmux("redraw")
    t.start_fusion()
    t.send("2")
    text = t.wait_for(lambda s: s.split("\n")[2].startswith(" Escrows") and "q quit" in s,
                      "the Escrows screen")
    body0, title0 = counts(t)
    # Two clock ticks, seen on the screen.
    c = clock(text)
    for _ in range(2):
        text = t.wait_for(lambda s, c=c: clock(s) and clock(s) != c, "the clock to tick")
        c = clock(text)
    body1, title1 = counts(t)
    t.check(title1 >= title0 + 2, "the title was not redrawn on ticks (%d -> %d)"
            % (title0, title1))
    t.check(body1 == body0, "the body was redrawn %d times while idle" % (body1 - body0))

    # Keys that change nothing: moving in an empty table, the prompt opened and closed.
    t.send("j", "k", "G", ":")
    t.wait_for(lambda s: s.split("\n")[t.rows - 1].startswith(":"), "the prompt")
    t.send("Escape")
    t.wait_for(lambda s: not s.split("\n")[t.rows - 1].startswith(":"), "the prompt closed")
    body2, _ = counts(t)
    t.check(body2 == body0, "no-op keys redrew the body %d times" % (body2 - body0))

    t.send("3")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Approvals"), "the Approvals screen")
    body3, _ = counts(t)
    t.check(body3 == body0 + 1, "switching screens drew the body %d times" % (body3 - body0))
    t.send("q")
    t.check(t.wait_dead() == 0, "fusion did not exit cleanly")


tmuxh.run(main)
