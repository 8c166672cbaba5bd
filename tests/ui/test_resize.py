"""Resizes: a storm of resize-window commands ends in one correct frame at the final
size; below 80x24 fusion says so in one line and draws nothing else, and recovers when
the terminal grows again; q still quits while the terminal is too small. At every size
down to one column the message is the longest of its forms that fits whole ("!" below
five columns), never a cut one."""
import re
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def frame_ok(t, title="Dashboard"):
    """A full frame at the pane's current size."""
    def pred(text):
        lines = text.split("\n")
        if len(lines) < t.rows:
            return False
        rule = lines[3]
        status = lines[t.rows - 2]
        # who acts first, at any width; then the program's name
        return (lines[0].startswith(" operator ") and "Fusion Prime Workstation" in lines[0]
                and lines[0].rstrip().endswith("UTC")
                and tmuxh.display_width(lines[0].rstrip()) == t.cols - 1  # clock at the right
                and lines[2].startswith(" " + title)
                and rule == "\u2500" * t.cols
                and status.startswith(" 1 Dashboard") and "q quit" in status
                and tmuxh.display_width(status.rstrip()) == t.cols - 1
                and "too small" not in text)
    return pred


def too_small(t, cols, rows):
    want = "terminal too small: need 80x24, have %dx%d" % (cols, rows)

    def pred(text):
        lines = text.split("\n")
        return lines[0].startswith(want) and all(not l.strip() for l in lines[1:])
    return pred


def small_form(t, want):
    """The first line is exactly want (no cut form), every other line empty."""
    def pred(text):
        lines = text.split("\n")
        return (lines[0].rstrip() == want and all(not l.strip() for l in lines[1:])
                and tmuxh.display_width(want) <= t.cols)
    return pred


def main():
    t = tmuxh.Tmux("resize")
    t.start_fusion()
    t.wait_for(frame_ok(t), "the first frame at 80x24")

    # The storm: many sizes in a row, some too small, without waiting in between.
    sizes = [(81 + (i * 7) % 60, 24 + (i * 5) % 30) for i in range(30)]
    sizes[5] = (60, 20)
    sizes[17] = (79, 40)
    for cols, rows in sizes:
        t.resize(cols, rows)
    # (twelve screens: their full titles need 132 columns)
    t.resize(140, 30)
    text = t.wait_for(frame_ok(t), "a correct frame at 140x30 after the storm")
    t.check("1 Dashboard  2 Escrows  3 Approvals  4 Compliance" in text.split("\n")[1] and
            "9 Swaps  0 Outbound  B Bridges  C Credit" in text.split("\n")[1],
            "full screen titles at 140 columns")
    t.send("2")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Escrows")
               and "No escrows: no chain" in s, "the Escrows screen after the storm")
    t.send("1")

    # Too small, then recovery.
    t.resize(60, 20)
    t.wait_for(too_small(t, 60, 20), "the too-small line at 60x20")
    t.resize(80, 24)
    t.wait_for(frame_ok(t), "recovery at 80x24")
    t.resize(79, 24)
    t.wait_for(too_small(t, 79, 24), "the too-small line at 79x24")
    t.resize(80, 23)
    t.wait_for(too_small(t, 80, 23), "the too-small line at 80x23")
    t.resize(80, 24)
    t.wait_for(frame_ok(t), "recovery at 80x24 again")
    # every tab shows at 80 columns, the last ones (0 Outbound, B Bridges, C Credit) too,
    # on any screen, each named by the key that goes there
    keys = "1234567890BC"
    for key, title in (("1", "Dashboard"), ("4", "Compliance"), ("0", "Outbound"),
                       ("B", "Bridges"), ("C", "Credit"), ("1", "Dashboard")):
        t.send(key)
        t.wait_for(lambda s: s.split("\n")[2].startswith(" " + title) and
                   re.search(r"\b9 Swaps\b", s.split("\n")[1]) is not None and
                   re.search(r"\b0 Out", s.split("\n")[1]) is not None and
                   re.search(r"\bB Br", s.split("\n")[1]) is not None and
                   re.search(r"\bC Cr", s.split("\n")[1]) is not None and
                   [w[0] for w in re.findall(r"(?:^| )([0-9BC]) [A-Z]", s.split("\n")[1])]
                   == list(keys) and
                   tmuxh.display_width(s.split("\n")[1].rstrip()) <= 80 and
                   s.split("\n")[t.rows - 2].startswith(" %s %s" % (key, title)),
                   "all twelve tabs at 80 columns on %s" % title)
    # Any size: the longest form of the message that fits, whole, and nothing else.
    for cols, rows, want in ((40, 12, "too small: need 80x24, have 40x12"),
                             (10, 3, "need 80x24"), (7, 2, "80x24"), (5, 1, "80x24"),
                             (4, 3, "!"), (1, 1, "!"), (1, 5, "!")):
        t.resize(cols, rows)
        t.wait_for(small_form(t, want), "the whole %r at %dx%d" % (want, cols, rows))
    t.resize(80, 24)
    t.wait_for(frame_ok(t), "recovery at 80x24 from 1x5")
    t.send("q")
    t.check(t.wait_dead() == 0, "fusion did not exit cleanly")

    # Started too small: the message first, then a frame; q works while too small.
    t2 = tmuxh.Tmux("small", cols=60, rows=20)
    t2.start_fusion()
    t2.wait_for(too_small(t2, 60, 20), "the too-small line at start")
    t2.resize(80, 24)
    t2.wait_for(frame_ok(t2), "the first frame after growing")
    t2.resize(70, 24)
    t2.wait_for(too_small(t2, 70, 24), "too small again")
    t2.send("q")
    t2.check(t2.wait_dead() == 0, "q did not quit while too small")


tmuxh.run(main)
