"""The terminal is given back intact: after q, after kill -SEGV (the crash handler),
after kill -TERM, the shell's prompt and earlier output are back, the alternate screen is
left, the cursor is visible and the tty is in cooked mode with echo. A hung-up terminal
(the pane killed) makes fusion exit."""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.dont_write_bytecode = True
import tmuxh  # noqa: E402


def shell(name):
    t = tmuxh.Tmux(name)
    t.start("bash --norc --noprofile")
    t.send("PS1='READY$ '; ulimit -c 0; stty sane", "Enter")
    t.wait_for("READY$ ", "the shell prompt")
    return t


def run_fusion(t, marker):
    t.send("clear; echo %s; %s; echo EXIT=$?" % (marker, t.fusion_cmd()), "Enter")
    t.wait_for(lambda s: "Fusion Prime Workstation" in s and "q quit" in s, "fusion's frame")
    t.check(t.fmt("#{alternate_on}") == "1", "fusion is not on the alternate screen")
    t.check(t.fmt("#{cursor_flag}") == "0", "the cursor is visible inside fusion")


def fusion_pid(t):
    shell_pid = int(t.fmt("#{pane_pid}"))
    for _ in range(tmuxh.TRIES):
        kids = tmuxh.child_pids(shell_pid)
        if kids:
            return kids[0]
        time.sleep(tmuxh.DELAY)
    t.fail("no fusion process under the shell")


def check_restored(t, marker, exit_re):
    text = t.wait_for(lambda s: re.search(exit_re, s) and s.rstrip().endswith("READY$"),
                      "the shell back after fusion (%s)" % exit_re)
    # (A sanitizer's crash report may scroll the marker off the screen: look in the
    # scrollback too, which the alternate screen does not have.)
    t.check(marker in t.history(), "the output from before fusion is gone")
    t.check("Fusion Prime Workstation" not in text, "fusion's frame is still on the screen")
    t.check(t.fmt("#{alternate_on}") == "0", "the alternate screen is still on")
    t.check(t.fmt("#{cursor_flag}") == "1", "the cursor is still hidden")
    t.check(t.fmt("#{keypad_cursor_flag}") == "0", "the keypad is still in application mode")
    t.send("stty -a | tr ' ' '\\n' | grep -x -e -icanon -e -echo -e icanon -e echo | sort | "
           "tr '\\n' ' '; echo", "Enter")
    t.wait_for("\necho icanon\nREADY$", "stty: icanon and echo on")


def input_fails():
    """fusion on a pty that is not its controlling terminal: closing the master sends no
    SIGHUP, so what ends fusion is its input failing (poll reports a hang-up, nothing to
    read). It must notice, log it and exit 0 instead of spinning."""
    home = tempfile.mkdtemp(prefix="fusion-ui-eof-")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm")
    proc = subprocess.Popen([tmuxh.FUSION_BIN, "--home", home], stdin=slave, stdout=slave,
                            stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    for _ in range(tmuxh.TRIES):
        r, _, _ = select.select([master], [], [], tmuxh.DELAY)
        if r:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
        if b"q quit" in seen:
            break
    os.close(master)
    try:
        rc = proc.wait(timeout=120)  # a guard against a hang, not a measurement
    except subprocess.TimeoutExpired:
        proc.kill()
        raise tmuxh.TestFailure("fusion kept running after its input failed")
    if b"q quit" not in seen:
        raise tmuxh.TestFailure("fusion never drew a frame on the pty: %r" % seen[-300:])
    with open(os.path.join(home, "fusion.log")) as f:
        log = f.read()
    shutil.rmtree(home, ignore_errors=True)
    if rc != 0 or "terminal input failed" not in log:
        raise tmuxh.TestFailure("exit %d after input failed; log:\n%s" % (rc, log))


def main():
    input_fails()

    t = shell("quit")
    run_fusion(t, "MARK-QUIT")
    t.send("q")
    check_restored(t, "MARK-QUIT", r"\nEXIT=0\n")

    t = shell("segv")
    run_fusion(t, "MARK-SEGV")
    os.kill(fusion_pid(t), signal.SIGSEGV)
    check_restored(t, "MARK-SEGV", r"\nEXIT=(?!0\n)\d+\n")
    t.check("fusion: crashed with signal 11; the terminal was restored" in t.history(),
            "no crash message")

    t = shell("term")
    run_fusion(t, "MARK-TERM")
    os.kill(fusion_pid(t), signal.SIGTERM)
    check_restored(t, "MARK-TERM", r"\nEXIT=143\n")

    # Hang-up: the pane (and its pty) goes away under a running fusion.
    t = tmuxh.Tmux("hangup")
    t.start_fusion()
    t.wait_for("q quit")
    pid = int(t.fmt("#{pane_pid}"))
    t.tmux("new-window", "-d", "sleep 600")  # keep the server alive without the pane
    t.tmux("kill-pane", "-t", "t:0")
    for _ in range(tmuxh.TRIES):
        if tmuxh.exited(pid):
            break
        time.sleep(tmuxh.DELAY)
    else:
        t.fail("fusion (pid %d) is still running after its terminal hung up" % pid)
    with open(os.path.join(t.home, "fusion.log")) as f:
        log = f.read()
    t.check("[ui] stopped" in log, "fusion did not stop cleanly after the hang-up:\n" + log)


tmuxh.run(main)
