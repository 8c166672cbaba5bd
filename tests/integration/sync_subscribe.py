#!/usr/bin/python3
"""sync_subscribe.py: following the head by subscription (eth_subscribe newHeads over the
WebSocket anvil serves on its HTTP port). With polling set to a minute, the follower still
keeps up with new escrows: the notifications wake it. The node is reached through a FAKE
TCP proxy that can cut every connection: the follower logs that the subscription was
lost, polls, subscribes again, and the desk ends equal to the node's own eth_getLogs
(nothing missed, nothing twice). --no-subscribe polls only."""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sync_lib import (Chain, Desk, assert_db_matches_node, log, need_artifacts,  # noqa: E402
                      wait_until)


class FakeTcpProxy:
    """A FAKE network path: forwards bytes both ways to upstream (host, port); cut()
    drops every open connection, as a provider's load balancer or a NAT does."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.conns = []
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.url = f"http://127.0.0.1:{self.ls.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        return len(conns)


def activity(chain, n, base):
    for i in range(n):
        e = chain.create_escrow(payer=0, payee=1, approvers=(2, 3), threshold=1, arbiter=5,
                                amount=base + i, via="rpc")
        chain.act(e, 0, "fund()", value=base + i, via="rpc")


def main():
    need_artifacts()
    chain = Chain(chain_id=31337).start()
    chain.deploy()
    host, port = chain.node.url.split("//")[1].split(":")
    proxy = FakeTcpProxy((host, int(port)))
    desk = Desk()
    desk.run("chain", "add", "--name", "local", "--chain-id", 31337, "--rpc", proxy.url,
             "--factory", chain.factory, "--confirmations", 1)
    activity(chain, 3, 10)
    desk.follow("--poll-ms", "60000")
    wait_until(lambda: "following the head by subscription" in desk.fusion_log(),
               "the follower to subscribe", timeout=30)
    wait_until(lambda: desk.logs(31337) == chain.watched_logs(), "the first catch-up",
               timeout=30)
    # Polling once a minute: only the notifications can bring these in this soon.
    activity(chain, 4, 100)
    wait_until(lambda: desk.logs(31337) == chain.watched_logs(),
               "the follower to keep up by subscription", timeout=20)

    # The connection drops: the follower polls, subscribes again, misses nothing.
    n = proxy.cut()
    log(f"cut {n} sockets")
    wait_until(lambda: "head subscription lost" in desk.fusion_log(), "the loss to be seen",
               timeout=30)
    activity(chain, 4, 200)
    wait_until(lambda: desk.fusion_log().count("following the head by subscription") >= 2,
               "the follower to subscribe again", timeout=30)  # < the 60 s poll
    activity(chain, 3, 300)
    wait_until(lambda: desk.logs(31337) == chain.watched_logs(),
               "the follower to keep up after the drop", timeout=20)
    assert desk.stop_follow() == 0
    n = assert_db_matches_node(desk, chain, "following by subscription through a drop")
    log(f"{n} logs, equal to the node's")

    # --no-subscribe: polling only.
    other = Desk()
    other.add_chain(chain, name="polled", confirmations=1)
    other.follow("--poll-ms", "100", "--no-subscribe")
    wait_until(lambda: other.logs(31337) == chain.watched_logs(), "the polling follower")
    assert other.stop_follow() == 0
    assert "subscription" not in other.fusion_log()
    log("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
