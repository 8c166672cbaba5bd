"""devnet_lib.py: what the devnet, demo and xswap integration tests share: free loopback
ports, running fusion and cast, and finding live anvil processes by port in /proc (the
independent check that `devnet down` left nothing behind)."""
import os
import socket
import subprocess
import sys

ROOT = os.environ["FUSION_ROOT"]
TOOLS = os.environ.get("FUSION_TOOLS", os.path.join(ROOT, "tools", "bin"))
FUSION = os.environ["FUSION_BIN"]
CAST = os.path.join(TOOLS, "cast")
ENV = dict(os.environ, FUSION_TOOLS=TOOLS)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def report():
    """Exit status of a test: 1 when some check failed."""
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    print("ok")
    return 0


# The devnet's chains (src/devnet/fixed.c): eth, arb, pol, avax.
N_CHAINS = 4


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def fusion(home, *args, env=None, rc=0, timeout=180):
    """Runs fusion --home HOME ARGS; rc None accepts any exit status."""
    p = subprocess.run([FUSION, "--home", home, *args], capture_output=True, text=True,
                       env=env or ENV, timeout=timeout)
    if rc is not None and p.returncode != rc:
        # sys.exit, not raise SystemExit: devchain and sync_lib see the failure and keep
        # the test's anvil logs and desk homes for debugging
        sys.exit("fusion %s: exit %d, wanted %d: %s%s" % (" ".join(args), p.returncode,
                                                          rc, p.stdout, p.stderr))
    return p


def cast(*args):
    p = subprocess.run([CAST, *args], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("cast %s failed: %s" % (" ".join(args), p.stderr))
    return p.stdout.strip()


def anvils_on(ports):
    """pids of live anvil processes (not zombies) serving one of ports, from /proc."""
    want = set(map(str, ports))
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % d) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state in ("Z", "X") or os.path.basename(argv[0]) != b"anvil":
            continue
        for i, a in enumerate(argv[:-1]):
            if a == b"--port" and argv[i + 1].decode(errors="replace") in want:
                found.append(int(d))
    return found
