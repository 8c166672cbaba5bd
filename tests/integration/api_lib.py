"""api_lib.py: pieces of the API tests: `fusion serve` as a child process, and HTTP
clients over its unix socket or TCP (Python's http.client: a real client, not ours)."""
import http.client
import json
import os
import re
import select
import socket
import subprocess
import time

import sync_lib
from sync_lib import FUSION, wait_until


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Server:
    """`fusion serve` on the desk home's socket (and TCP when asked)."""

    def __init__(self, home, *extra, fusion=None):
        self.home = home
        self.sock = os.path.join(home, "api.sock")
        self.errpath = os.path.join(home, "serve-%d.stderr" % time.monotonic_ns())
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([fusion or FUSION, "--home", home, "serve", *map(str, extra)],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        sync_lib._followers.append(self.proc)  # a failing test leaves no server running
        self.port = None
        wait_until(lambda: "serving on" in self.stderr() or self.proc.poll() is not None,
                   "fusion serve to listen")
        if self.proc.poll() is not None:
            raise AssertionError("fusion serve exited: " + self.stderr())
        if "--tcp" in extra:
            m = wait_until(lambda: re.search(r"port (\d+)", self.stderr()), "the TCP port")
            self.port = int(m.group(1))

    def stderr(self):
        with open(self.errpath) as f:
            return f.read()

    def conn(self, timeout=30):
        return UnixHTTPConnection(self.sock, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            rc = self.proc.wait(timeout=60)
            assert rc == 0, "fusion serve exited %d on SIGTERM: %s" % (rc, self.stderr())
        self.err.close()


def closed_by_server(conn):
    """Whether the server has already closed conn's kept-alive socket (it drops a client
    idle for 10 s: CONN_TIMEOUT_S): readable with nothing to read, before anything is
    sent. Python's http.client sends on such a socket and fails (a broken pipe), where a
    browser or urllib3 opens a new connection; a test that ran a long command between two
    requests (a bridge accept under a sanitizer) must not fail on that. Only an end of file
    counts: bytes the server sent unasked stay for the next response to show."""
    s = conn.sock
    if s is None or not hasattr(s, "recv") or hasattr(s, "pending"):  # not open, or TLS
        return False
    if not select.select([s], [], [], 0)[0]:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def request(conn, method, path, token=None, body=None, headers=None):
    """(status, headers dict (lowercase names), parsed JSON or text). A kept-alive
    connection the server has closed as idle is opened again first (closed_by_server)."""
    if closed_by_server(conn):
        conn.close()  # http.client opens it again on the request
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    ct = hd.get("content-type", "")
    out = json.loads(data) if "json" in ct and data else data.decode()
    return r.status, hd, out


class EventStream:
    """GET /v1/events read line by line (server-sent events)."""

    def __init__(self, server, token, last_id=None, query=""):
        self.c = server.conn(timeout=60)
        h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
        if last_id is not None:
            h["Last-Event-ID"] = str(last_id)
        self.c.request("GET", "/v1/events" + query, headers=h)
        self.r = self.c.getresponse()
        assert self.r.status == 200, self.r.status
        assert self.r.getheader("Content-Type") == "text/event-stream"

    def next(self, bound=120.0):
        """The next event as (id, kind, data dict); keep-alives and retry lines skipped.
        bound: seconds after which waiting is a failure (a bound, not a timing check)."""
        ev = {}
        deadline = time.monotonic() + bound
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("no event within %.0f s" % bound)
            line = self.r.fp.readline()
            if not line:
                raise AssertionError("the event stream ended")
            line = line.decode().rstrip("\n")
            if line == "":
                if "data" in ev:
                    return int(ev["id"]), ev["event"], json.loads(ev["data"])
                ev = {}
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            ev[k] = v

    def close(self):
        self.c.close()
