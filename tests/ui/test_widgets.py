"""The widgets on the real loop, through the harness (tests/ui/ui_harness.c): a
virtualized table of 1,000,000 escrows (navigation, filtering, CJK and emoji names that
stay aligned), precondition messages, the no-echo passphrase prompt (checked against
BLAKE2b computed here), the confirm dialog, and the confirmation before quitting with
an operation pending."""
import hashlib
import os
import re
import sys

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402

HARNESS = sys.argv[1] if len(sys.argv) > 1 else ""


def rows_of(t, text):
    return [l for l in text.split("\n")[5: t.rows - 2] if re.match(r"^ E\d{7} ", l)]


def status_pos(t):
    m = re.search(r"escrows ([\d,]+)/([\d,]+)", t.status_line())
    t.check(m, "no row position in the status line")
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def check_alignment(t, text):
    rows = rows_of(t, text)
    t.check(len(rows) >= 8, "fewer than 8 escrow rows on screen")
    t.check(any("東京" in r for r in rows) and any("\U0001F680" in r for r in rows)
            and any("서울" in r for r in rows), "the CJK and emoji names are not on screen")
    header = text.split("\n")[4]
    asset_col = tmuxh.display_width(header[: header.index("Asset")])
    amount_end = tmuxh.display_width(header[: header.index("Amount") + len("Amount")])
    for r in rows:
        i = r.index(" USDC ") + 1
        t.check(tmuxh.display_width(r[:i]) == asset_col,
                "Asset column misaligned (%d vs %d) in %r" % (tmuxh.display_width(r[:i]),
                                                             asset_col, r))
        m = re.search(r"(\d+\.\d\d) ", r)
        t.check(tmuxh.display_width(r[: m.end(1)]) == amount_end,
                "Amount not right-aligned in %r" % r)


def passphrase(t, typed, keys_after=("Enter",)):
    t.send("u")
    t.wait_for(lambda s: "Unlock key treasury-hot" in s and "(typing is not shown)" in s,
               "the passphrase prompt")
    t.type(typed)
    # Nothing typed may appear anywhere (and the prompt must still be up).
    text = t.wait_for("(typing is not shown)")
    for word in typed.split():
        t.check(word not in text, "the passphrase is echoed: %r on screen" % word)
    t.send(*keys_after)


def main():
    t = tmuxh.Tmux("widgets")
    log = os.path.join(t.tmp, "harness.log")
    t.start("%s %s; echo HARNESS-EXIT=$?; sleep 600" % (HARNESS, log))
    t.wait_for("q quit", "the harness frame")

    # The million-row table.
    t.send("2")
    text = t.wait_for(lambda s: s.split("\n")[2].startswith(" Escrows (harness)")
                      and "1,000,000 escrows" in s.split("\n")[2]
                      and "escrows 1/1,000,000" in s, "the 1,000,000-row table")
    check_alignment(t, text)
    page = len(rows_of(t, text))
    t.send("G")
    text = t.wait_for("escrows 1,000,000/1,000,000", "the last row after G")
    t.check(" E0999999 " in text, "row E0999999 not shown at the end")
    check_alignment(t, text)
    t.send("g")
    t.wait_for("escrows 1/1,000,000", "the first row after g")
    t.send("C-d")
    t.wait_for("escrows %d/1,000,000" % (1 + page // 2), "half a page down with C-d")
    t.send("j")
    t.wait_for("escrows %d/1,000,000" % (2 + page // 2), "one down with j")
    t.send("Up")
    t.wait_for("escrows %d/1,000,000" % (1 + page // 2), "one up with Up")
    t.send("NPage")
    t.wait_for("escrows %d/1,000,000" % (1 + page // 2 + page), "a page down with PgDn")
    t.send("C-u", "C-u", "C-u", "C-u")
    t.wait_for("escrows 1/1,000,000", "back to the top with C-u")
    t.send("End")
    t.wait_for("escrows 1,000,000/1,000,000", "the end with End")
    t.send("Home")
    t.wait_for("escrows 1/1,000,000", "the top with Home")

    # Filtering: by command, then live through the / prompt.
    t.send(":")
    t.type("filter Rocket")
    t.send("Enter")
    # tmux may show a frame half-painted (header new, rows old): wait for a whole frame.
    text = t.wait_for(lambda s: "125,000 escrows matching /Rocket" in s and
                      "filter /Rocket" in s.split("\n")[t.rows - 2], "the :filter result")
    text = t.wait_for(lambda s: rows_of(t, s) and all("Rocket" in r for r in rows_of(t, s)),
                      "rows with Rocket only after the filter")
    t.send("Escape")
    t.wait_for(lambda s: "1,000,000 escrows" in s.split("\n")[2], "the filter cleared by Esc")
    t.send("/")
    t.type("北京")
    # One whole frame: the header's count and the prompt line are painted apart, and a
    # capture between the two (seen under ASan) shows the new count over the old prompt.
    text = t.wait_for(lambda s: "125,000 escrows matching /北京" in s and
                      s.split("\n")[t.rows - 1].startswith("/北京"),
                      "the live filter, with the / prompt showing it")
    t.send("Enter")
    t.wait_for(lambda s: "filter /北京" in s.split("\n")[t.rows - 2], "the kept filter")
    t.send("/")
    t.send("C-u")
    t.type("E099999")
    t.send("Enter")
    text = t.wait_for(lambda s: "10 escrows matching /E099999" in s and
                      len(rows_of(t, s)) == 10, "exactly ten rows for the ID filter")
    t.send("/")
    t.type("zz")
    t.send("Escape")  # Esc in the prompt restores the previous filter
    t.wait_for(lambda s: "10 escrows matching /E099999" in s and
               not s.split("\n")[t.rows - 1].startswith("/"), "the filter restored by Esc")
    t.send("Escape")
    t.wait_for(lambda s: "1,000,000 escrows" in s.split("\n")[2], "no filter")

    # Preconditions come from the table: taking a case needs the compliance role, which
    # the harness operator lacks.
    t.send("4", "t")
    t.wait_for("take: needs the compliance role, which this operator does not have",
               "the precondition")
    t.send("2")

    # The passphrase prompt.
    t.send("6")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Keys (harness)"), "the Keys screen")
    # what follows Esc in the same burst was typed blind: it is dropped, not a command
    passphrase(t, "abc", ("Escape", "2"))
    t.wait_for(lambda s: "Unlock key" not in s, "Esc cancels the prompt")
    t.check(t.lines()[2].startswith(" Keys (harness)"),
            "a key typed past the prompt reached the screen")
    t.send("2")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Escrows"), "then 2 goes to Escrows")
    t.send("6")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Keys (harness)"), "the Keys screen")
    passphrase(t, "abc", ("Left",))  # an arrow key cancels without side effects
    t.wait_for("unlock cancelled", "an arrow cancels the prompt")
    t.check(t.lines()[2].startswith(" Keys (harness)"), "the arrow leaked to the screen")
    passphrase(t, "zz", ("C-c",))
    t.wait_for("unlock cancelled", "C-c cancels the prompt")
    t.check(t.fmt("#{pane_dead}") != "1", "C-c in the prompt ended the program")
    passphrase(t, "abcX", ("BSpace",))
    t.type("d")
    t.send("Enter")
    h = hashlib.blake2b(b"abcd", digest_size=32).hexdigest()[:8]
    t.wait_for("unlocked treasury-hot: 4 bytes, blake2b %s" % h, "the edited passphrase")
    secret = "correct horse battery pässwörd 東京"
    passphrase(t, secret)
    raw = secret.encode()
    h = hashlib.blake2b(raw, digest_size=32).hexdigest()[:8]
    text = t.wait_for("unlocked treasury-hot: %d bytes, blake2b %s" % (len(raw), h),
                      "the passphrase delivered intact")
    t.check("correct" not in text and "unlocked " in text.split("\n")[5], "key state not shown")
    with open(log, errors="replace") as f:
        t.check("horse" not in f.read(), "the passphrase reached the log")

    # The confirm dialog (an action on a row waits for its screen to be drawn).
    t.send("2")
    t.wait_for(lambda s: s.split("\n")[2].startswith(" Escrows"), "the Escrows screen")
    t.send("a")
    t.wait_for(lambda s: "Approve escrow" in s and "Call: approve(escrowId=0)" in s
               and "[ y Sign ]" in s and "[ n Cancel ]" in s, "the confirm dialog")
    t.send("n")
    t.wait_for(lambda s: "approval cancelled" in s and "Call: approve" not in s, "n cancels")
    t.send("a")
    t.wait_for("Call: approve(escrowId=0)")
    t.send("Enter")  # the default button is Cancel
    t.wait_for(lambda s: "approval cancelled" in s and "Call: approve" not in s, "Enter cancels")
    t.send("a")
    t.wait_for("Call: approve(escrowId=0)")
    t.resize(100, 30)  # a resize under the dialog
    t.wait_for(lambda s: "Call: approve(escrowId=0)" in s and len(s.split("\n")[0]) > 80,
               "the dialog after a resize")
    t.resize(80, 24)
    t.wait_for(lambda s: "Call: approve(escrowId=0)" in s and tmuxh.display_width(
        s.split("\n")[0].rstrip()) == 79, "the dialog back at 80x24")
    t.send("y")
    t.wait_for("approval of E0000000 queued (1 pending)", "y confirms")

    # Quitting with an operation pending asks first; n, Esc and C-c keep running.
    t.send("q")
    t.wait_for(lambda s: "Quit fusion" in s and "1 operation is still pending" in s,
               "the quit confirmation")
    t.send("n")
    t.wait_gone("Quit fusion")
    t.send("C-c")
    t.wait_for("Quit fusion", "C-c asks too")
    t.send("Escape")
    t.wait_gone("Quit fusion")
    t.send("q")
    t.wait_for("Quit fusion")
    t.send("y")
    t.wait_for("harness: exit pending=1 unlocked=1", "the harness exit line")
    t.wait_for("HARNESS-EXIT=0", "the harness exit status")


tmuxh.run(main)
