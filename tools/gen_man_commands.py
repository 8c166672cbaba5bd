#!/usr/bin/python3
"""gen_man_commands.py: rewrites the per-command part of docs/fusion.1's COMMANDS section
(from the first `.SS help` up to `.SH ENVIRONMENT`) from the binary's own table: each
command's summary (`fusion help`) and the usage of each of its actions (`fusion help CMD
ACTION`). Run after changing src/cli/usage.c or cli.h:
    tools/gen_man_commands.py build/fusion docs/fusion.1"""
import re
import subprocess
import sys


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, check=True).stdout


def esc(text):
    return text.replace("\\", "\\\\").replace("-", "\\-")


def main():
    binary, page = sys.argv[1], sys.argv[2]
    listing = run(binary, "help").split("commands (", 1)[1].splitlines()[1:]
    cmds = []
    for line in listing:
        m = re.match(r"^  (\S+)\s+(.*)$", line)
        if m:
            cmds.append([m.group(1), m.group(2), []])
            continue
        m = re.match(r"^\s+actions: (.*)$", line)
        if m and cmds:
            cmds[-1][2] = [a.strip() for a in m.group(1).split(",")]
    out = []
    for name, summary, actions in cmds:
        out += [".SS " + name, esc(summary), ".PP", ".nf"]
        for act in actions or [None]:
            text = run(binary, "help", name, *([act] if act else []))
            for u in text.rstrip("\n").splitlines():
                if u.startswith("Global options"):
                    continue
                out.append(esc(re.sub(r"^usage: ", "", u)))
        out.append(".fi")
    src = open(page).read()
    a = src.index(".SS help\n")
    b = src.index(".SH ENVIRONMENT")
    open(page, "w").write(src[:a] + "\n".join(out) + "\n" + src[b:])


if __name__ == "__main__":
    main()
