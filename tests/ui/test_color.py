"""Colour: with a colour terminal fusion uses colours; with NO_COLOR set and non-empty it
uses none (attributes only: reverse, bold, underline); NO_COLOR set but empty does not
count; a monochrome terminal (TERM=xterm-mono) gets none either. Checked on the
escape sequences capture-pane -e reports."""
import re
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402

SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def colour_params(text):
    """The SGR parameters in text that set a non-default colour."""
    found = []
    for m in SGR.finditer(text):
        params = [p for p in re.split(r"[;:]", m.group(1)) if p != ""]
        i = 0
        while i < len(params):
            n = int(params[i])
            if n in (38, 48, 58):
                found.append(m.group(0))
                break
            if 30 <= n <= 37 or 40 <= n <= 47 or 90 <= n <= 97 or 100 <= n <= 107:
                found.append(m.group(0))
            i += 1
    return found


def attrs_present(text):
    """Reverse video (the title and status bars) is there in every mode."""
    for m in SGR.finditer(text):
        if "7" in re.split(r"[;:]", m.group(1)):
            return True
    return False


def run_case(name, env=None, prefix="", want_colour=False):
    t = tmuxh.Tmux(name)
    t.start_fusion(env=env, prefix=prefix)
    t.wait_for("Fusion Prime Workstation")
    t.wait_for("q quit")
    # Visit a few screens and the help so that every role is on screen once.
    for keys in (["2"], ["4"], ["?"], ["Escape", "1"]):
        t.send(*keys)
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Dashboard"))
    text = t.capture(escapes=True)
    colours = colour_params(text)
    if want_colour:
        t.check(colours, "%s: expected colour escapes, found none" % name)
    else:
        t.check(not colours, "%s: colour escapes with colour off: %r" % (name, colours[:5]))
        t.check(attrs_present(text), "%s: no reverse video at all (capture broken?)" % name)
    t.send("q")
    t.check(t.wait_dead() == 0, "%s: fusion did not exit cleanly" % name)
    t.close()


def main():
    run_case("colour", want_colour=True)
    run_case("nocolor", env={"NO_COLOR": "1"})
    run_case("nocolor-empty", env={"NO_COLOR": ""}, want_colour=True)
    run_case("mono", prefix="env TERM=xterm-mono ")


tmuxh.run(main)
