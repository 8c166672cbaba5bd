#!/usr/bin/python3
"""help_walk.py: the command line is consistent, walked from its own table (`fusion help`):

  usage    for every command and every action `fusion help`, `fusion CMD --help`,
           `fusion help CMD`, `fusion CMD ACTION --help`, `fusion CMD ACTION -h` and
           `fusion help CMD ACTION` print its usage (naming it) and exit 0, without a desk
           and without creating one;
  actions  `fusion help` lists every action a command dispatches: each listed action is
           known to its command (run in a throwaway home it never answers "unknown"),
           and an unknown one is refused with exit 2;
  man      docs/fusion.1 names every command and every action;
  complete `fusion completion bash` is valid bash and completes the commands and each
           command's actions;
  alerts   `fusion alerts list` works on a desk, and prints what `fusion alerts` does.
Needs FUSION_BIN and FUSION_ROOT."""
import os
import re
import subprocess
import sys
import tempfile

BIN = os.environ["FUSION_BIN"]
ROOT = os.environ["FUSION_ROOT"]
failures = []
# Actions that would start something (anvil nodes, the UI, a sync loop) are not probed
# by running them; their usage is still walked.
NOT_RUN = {"devnet", "demo", "ui", "sync", "help", "version", "completion"}


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(home, *args, timeout=30):
    env = dict(os.environ, FUSION_KDF="interactive")
    env.pop("FUSION_HOME", None)
    return subprocess.run([BIN, "--home", home, *args], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL,
                          start_new_session=True)


def table(home):
    """(command -> [actions]) as `fusion help` lists them."""
    p = run(home, "help")
    check(p.returncode == 0, "fusion help exits 0")
    cmds, last = {}, None
    for line in p.stdout.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*)\s{2,}\S", line)
        if m:
            last = m.group(1)
            cmds[last] = []
            continue
        m = re.match(r"^\s+actions: (.*)$", line)
        if m and last:
            cmds[last] = [a.strip() for a in m.group(1).split(",")]
    return cmds


def usage_ok(p, words, what):
    check(p.returncode == 0, "%s exits 0 (%d: %s)" % (what, p.returncode, p.stderr.strip()))
    check(p.stdout.startswith("usage: ") and ("fusion " + " ".join(words)) in p.stdout,
          "%s prints the usage of fusion %s: %r" % (what, " ".join(words), p.stdout[:120]))


def main():
    tmp = tempfile.mkdtemp(prefix="fusion-help-")
    home = os.path.join(tmp, "nodesk")
    cmds = table(home)
    check(len(cmds) >= 15, "fusion help lists the commands (%s)" % sorted(cmds))
    check(cmds.get("escrow", [])[:2] == ["list", "show"] and
          {"create", "fund", "approve", "release", "refund", "dispute", "resolve"} <=
          set(cmds.get("escrow", [])), "escrow lists every action: %s" % cmds.get("escrow"))
    n = 0
    for cmd, acts in sorted(cmds.items()):
        usage_ok(run(home, cmd, "--help"), [cmd], "fusion %s --help" % cmd)
        usage_ok(run(home, "help", cmd), [cmd], "fusion help %s" % cmd)
        for a in acts:
            usage_ok(run(home, cmd, a, "--help"), [cmd, a], "fusion %s %s --help" % (cmd, a))
            usage_ok(run(home, cmd, a, "-h"), [cmd, a], "fusion %s %s -h" % (cmd, a))
            usage_ok(run(home, "help", cmd, a), [cmd, a], "fusion help %s %s" % (cmd, a))
            n += 1
    check(not os.path.exists(home), "asking for help created no desk home")
    p = run(home, "help", "escrow", "no-such-action")
    check(p.returncode == 2, "help for an unknown action is a usage error (%d)" % p.returncode)

    # every listed action is known to its command (a throwaway home: a probe may make one)
    passfile = os.path.join(tmp, "pass")
    with open(passfile, "w") as f:
        f.write("probe-passphrase\n")
    os.chmod(passfile, 0o600)
    for cmd, acts in sorted(cmds.items()):
        if cmd in NOT_RUN:
            continue
        for a in acts:
            probe = tempfile.mkdtemp(prefix="probe-", dir=tmp)
            p = run(os.path.join(probe, "h"), "--passphrase-file", passfile, cmd, a)
            check("unknown" not in p.stderr, "fusion %s %s is known to %s: %s"
                  % (cmd, a, cmd, p.stderr.strip()))
        if acts:
            p = run(os.path.join(tmp, "probe-unknown"), cmd, "no-such-action")
            check(p.returncode == 2, "fusion %s no-such-action is a usage error (%d)"
                  % (cmd, p.returncode))

    # the man page names every command and action
    with open(os.path.join(ROOT, "docs", "fusion.1")) as f:
        man = f.read().replace("\\-", "-")
    for cmd, acts in sorted(cmds.items()):
        check(re.search(r"^\.SS %s$" % re.escape(cmd), man, re.M) is not None,
              "docs/fusion.1 has a section for %s" % cmd)
        for a in acts:
            check(("fusion %s %s" % (cmd, a)) in man, "docs/fusion.1 names fusion %s %s"
                  % (cmd, a))

    # bash completion from the same table
    p = run(home, "completion", "bash")
    check(p.returncode == 0, "completion bash exits 0")
    script = os.path.join(tmp, "complete.bash")
    with open(script, "w") as f:
        f.write(p.stdout)
    probes = ["COMP_WORDS=(fusion ''); COMP_CWORD=1; _fusion; echo \"top:${COMPREPLY[*]}\""]
    for cmd, acts in sorted(cmds.items()):
        if acts:
            probes.append("COMP_WORDS=(fusion --home x %s ''); COMP_CWORD=4; _fusion; "
                          "echo \"%s:${COMPREPLY[*]}\"" % (cmd, cmd))
    b = subprocess.run(["bash", "-c", "source %s; %s" % (script, "; ".join(probes))],
                       capture_output=True, text=True, timeout=30)
    check(b.returncode == 0, "the completion script runs in bash: %s" % b.stderr)
    got = dict(line.split(":", 1) for line in b.stdout.splitlines() if ":" in line)
    check(set(cmds) <= set(got.get("top", "").split()),
          "completion offers every command: %s" % got.get("top"))
    for cmd, acts in sorted(cmds.items()):
        if acts:
            check(set(acts) <= set(got.get(cmd, "").split()),
                  "completion offers %s's actions: %s" % (cmd, got.get(cmd)))

    # `alerts list`, as `fusion help` advertises it, on a desk
    desk = os.path.join(tmp, "desk")
    p = run(desk, "--passphrase-file", passfile, "key", "new", "--label", "probe")
    check(p.returncode == 0, "a desk for alerts: %s" % p.stderr.strip())
    a1, a2 = run(desk, "alerts"), run(desk, "alerts", "list")
    check(a2.returncode == 0, "fusion alerts list exits 0: %s" % a2.stderr.strip())
    check(a1.stdout == a2.stdout and a2.stdout, "alerts list prints what alerts does: %r"
          % a2.stdout[:100])
    a3 = run(desk, "alerts", "list", "--all", "--json")
    check(a3.returncode == 0 and a3.stdout.lstrip().startswith("["),
          "alerts list --all --json: %r %s" % (a3.stdout[:60], a3.stderr.strip()))

    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("ok: %d commands, %d actions walked" % (len(cmds), n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
