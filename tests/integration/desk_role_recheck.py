#!/usr/bin/python3
"""desk_role_recheck.py: a role taken away while the operator looks at the pre-sign summary.
`fusion pay` without --yes on a terminal (a pty) checks alice's policy, signs, shows the
summary and waits for `y`; meanwhile the admin takes alice's trader role away (a signed
`operator roles`). Her `y` then sends nothing: the desk reads her roles again in the
transaction that records the signed transaction, and refuses with one line (exit 1, her
nonce unchanged, no outbound row). With her role back, the same payment goes out."""
import os
import pty
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import A, FUSION, Chain, log, need_artifacts  # noqa: E402
from desk_escrow import DeskUser, nonce  # noqa: E402

PAYEE = A[1]


def pay_on_a_terminal(desk, between):
    """Runs alice's payment on a pty; calls between() once the summary asks for y/N, then
    answers y. Returns (exit status, everything the terminal showed)."""
    args = [FUSION, "--home", desk.home, "--operator", "alice", "--passphrase-file", desk.pw,
            "pay", "--to", PAYEE, "--token", "ETH", "--amount", "0.1"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: fusion with the pty as its terminal
        os.execve(FUSION, args, os.environ)
    seen = b""
    asked = False
    deadline = time.monotonic() + 240  # a bound on the wait, not a timing assertion
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1.0)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not asked and b"Sign and send? [y/N]" in seen:
            asked = True
            between()
            os.write(fd, b"y\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert asked, seen.decode(errors="replace")
    return os.waitstatus_to_exitcode(status), seen.decode(errors="replace")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    try:
        chain.deploy()
        desk = DeskUser()
        desk.setup(chain)
        admin = ("--operator", desk.signed.admin)
        n0, rows0 = nonce(chain, A[0]), desk.outbound_count()

        def revoke():
            desk.run(*admin, "operator", "roles", "alice", "--role", "approver")

        rc, shown = pay_on_a_terminal(desk, revoke)
        assert rc == 1, (rc, shown)
        assert "roles changed since the policy check" in shown, shown
        assert nonce(chain, A[0]) == n0 and desk.outbound_count() == rows0, shown
        log("ok: the role taken away at the confirmation: nothing recorded or sent")

        desk.run(*admin, "operator", "roles", "alice", "--role", "trader")
        rc, shown = pay_on_a_terminal(desk, lambda: None)
        assert rc == 0, (rc, shown)
        assert nonce(chain, A[0]) == n0 + 1 and desk.outbound_count() == rows0 + 1, shown
        log("ok: with the role back the same payment is signed and sent")
    finally:
        chain.node.stop()


if __name__ == "__main__":
    main()
