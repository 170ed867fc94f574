"""Hostile clients against the real server, on 127.0.0.1 only, bounded in
count and time: 2,000 concurrent connections, one-byte trickles, pipelining
without reading, declared lengths over the limits, random bytes. For each the
server stays up, a well-behaved client keeps being served (PING p99 checked),
the server's RSS stays under a bound, and the connection gets the protocol
error docs/protocol.md promises."""
import os
import random
import resource
import selectors
import socket
import threading
import time
import unittest

from harness import Server

# PING p99 of the well-behaved client while a hostile one runs: a starvation
# bound (a server stuck on the hostile client shows seconds), not a latency
# target, which the benchmarks measure. 100 ms failed at load average 20 on
# 2 cores; BF_HOSTILE_P99_MS tightens or loosens it.
P99_MS = float(os.environ.get("BF_HOSTILE_P99_MS", "1000"))
MB = 1024 * 1024


def raise_own_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_files_limit(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise RuntimeError("no Max open files line")


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_all(sock, timeout=10):
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


class Probe:
    """A well-behaved redis-py client that PINGs every few ms and samples the
    server's RSS while something hostile runs."""

    def __init__(self, server):
        self.server = server
        self.latencies = []
        self.max_rss_kb = 0
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        r = self.server.client()
        i = 0
        while not self._stop.is_set():
            t = time.perf_counter()
            try:
                r.ping()
            except Exception as e:  # noqa: BLE001 - recorded and asserted on
                self.errors.append(repr(e))
                return
            self.latencies.append(time.perf_counter() - t)
            if i % 10 == 0:
                self.max_rss_kb = max(self.max_rss_kb, self.server.rss_kb())
            i += 1
            time.sleep(0.005)

    def __enter__(self):
        self.base_rss_kb = self.server.rss_kb()  # memory is judged per test
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)
        self.max_rss_kb = max(self.max_rss_kb, self.server.rss_kb())

    def p99_ms(self):
        lat = sorted(self.latencies)
        return 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))]


class HostileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        raise_own_fd_limit(4096)
        # A low soft limit (hard unchanged): the server must raise its own.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        cls.server = Server().start(
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard)))
        cls.r = cls.server.client()
        for i in range(200):
            cls.r.execute_command("POST.ADD", f"p{i}", "AUTHOR", f"a{i % 50}", "CULTURE",
                                  ["US", "CN"][i % 2], "VECTOR", "VALUES", "4",
                                  "1", str(i % 7), str(i % 3), "1")
        time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, f"server exited with {code}"

    def assert_served(self, probe, rss_budget_mb, what):
        self.assertFalse(probe.errors, f"{what}: the well-behaved client failed: {probe.errors}")
        self.assertGreaterEqual(len(probe.latencies), 3, what)
        self.assertLess(probe.p99_ms(), P99_MS, f"{what}: PING p99 {probe.p99_ms():.1f} ms")
        grown_mb = (probe.max_rss_kb - probe.base_rss_kb) / 1024
        # Under ASan freed buffers sit in its quarantine (up to 256 MB) and every allocation
        # has shadow memory, so RSS says little there: the budgets get that much slack.
        slack_mb = 300 if os.environ.get("BRIDGEFEED_SANITIZED") else 0
        self.assertLess(grown_mb, rss_budget_mb + slack_mb,
                        f"{what}: RSS grew {grown_mb:.0f} MB (base {probe.base_rss_kb // 1024} MB)")
        self.assertLess(probe.max_rss_kb / 1024, 600 + slack_mb, f"{what}: RSS over 600 MB")
        self.assertTrue(self.r.ping())
        print(f"  {what}: PING p99 {probe.p99_ms():.1f} ms over {len(probe.latencies)}, "
              f"RSS +{grown_mb:.0f} MB", flush=True)

    def wait_clients(self, at_most, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = int(self.r.info("clients")["connected_clients"])
            if n <= at_most:
                return n
            time.sleep(0.05)
        self.fail(f"connected_clients still {n} > {at_most}")

    def test_server_raises_its_open_files_limit(self):
        soft, _ = open_files_limit(self.server.pid)
        self.assertEqual(soft, 10000 + 512)  # maxclients + the reserve
        self.assertIn("open files limit raised from 1024 to 10512", self.server.read_log())

    def test_2000_concurrent_connections(self):
        n = 2000
        socks = []
        with Probe(self.server) as probe:
            try:
                for _ in range(n):
                    socks.append(connect(self.server.port))
                for s in socks:
                    s.sendall(b"PING\r\n")
                sel = selectors.DefaultSelector()
                got = {}
                for s in socks:
                    s.setblocking(False)
                    sel.register(s, selectors.EVENT_READ)
                    got[s] = b""
                deadline = time.time() + 30
                done = 0
                while done < n and time.time() < deadline:
                    for key, _ in sel.select(timeout=1):
                        chunk = key.fileobj.recv(64)
                        got[key.fileobj] += chunk
                        if got[key.fileobj] == b"+PONG\r\n" or not chunk:
                            sel.unregister(key.fileobj)
                            done += 1
                sel.close()
                self.assertEqual(sum(v == b"+PONG\r\n" for v in got.values()), n)
                self.assertGreaterEqual(int(self.r.info("clients")["connected_clients"]), n + 1)
            finally:
                for s in socks:
                    s.close()
        self.assert_served(probe, 100, f"{n} connections")
        self.wait_clients(3)

    def test_trickling_clients(self):
        payload = bytes(range(256)) * 2
        cmd = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%s\r\n" % (len(payload), payload)
        # Slowloris: 100 clients each declare a 1 MiB bulk and send 10 bytes.
        # The server must not reserve the declared size.
        idle = []
        with Probe(self.server) as probe:
            try:
                for _ in range(100):
                    s = connect(self.server.port)
                    s.sendall(b"*2\r\n$4\r\nECHO\r\n$1048576\r\n0123456789")
                    idle.append(s)
                s = connect(self.server.port)
                t0 = time.time()
                for i in range(len(cmd)):
                    s.sendall(cmd[i:i + 1])
                    time.sleep(0.002)
                data = b""
                s.settimeout(10)
                while not data.endswith(payload + b"\r\n"):
                    data += s.recv(4096)
                self.assertEqual(data, b"$%d\r\n%s\r\n" % (len(payload), payload))
                print(f"  trickled {len(cmd)} bytes one at a time in {time.time() - t0:.1f} s",
                      flush=True)
                s.close()
            finally:
                for s in idle:
                    s.close()
        self.assert_served(probe, 50, "trickle + 100 idle partial 1 MiB bulks")
        self.wait_clients(3)

    def test_pipelining_without_reading(self):
        # COMMAND: 9 bytes in, several KB out. Never read: the server must stop
        # reading this client once its pending replies pass the soft limit.
        chunk = b"COMMAND\r\n" * 4096
        sent = 0
        with Probe(self.server) as probe:
            s = connect(self.server.port)
            s.setblocking(False)
            deadline = time.time() + 3
            while time.time() < deadline:
                try:
                    sent += s.send(chunk)
                except BlockingIOError:
                    time.sleep(0.01)
            s.close()
        self.assertLess(sent, 64 * MB, "the server kept reading a client that never reads")
        self.assert_served(probe, 20, f"pipelining without reading ({sent // 1024} KB sent)")
        self.wait_clients(3)

    # Declared lengths: each gets the exact protocol error, then the close.
    BAD = [
        (b"*1\r\n$1048577\r\n", "invalid bulk length"),           # over proto-max-bulk-len
        (b"*1\r\n$-5\r\n", "invalid bulk length"),                # negative
        (b"*1\r\n$-1\r\n", "invalid bulk length"),                # null bulk in a request
        (b"*1\r\n$99999999999999999999999\r\n", "invalid bulk length"),  # absurd
        (b"*1\r\n$9223372036854775807\r\n", "invalid bulk length"),
        (b"*1\r\n$12abc\r\n", "invalid bulk length"),
        (b"*4097\r\n", "invalid multibulk length"),              # over max-args
        (b"*99999999999999999999\r\n", "invalid multibulk length"),
        (b"*1x\r\n", "invalid multibulk length"),
        (b"*1\r\nPING\r\n", "expected '$', got 'P'"),
        (b"*1\r\n$4\r\nPINGxx", "expected CRLF after bulk string"),
        (b'ECHO "abc\r\n', "unbalanced quotes in request"),
        # Lines past max-inline-len (64 KiB) without their end. One byte past
        # the limit, so the server has read everything when it closes (unread
        # input would turn the close into a reset that can eat the reply).
        (b"x" * 65537, "too big inline request"),
        (b"*" + b"1" * 65536, "too big mbulk count string"),
        (b"*1\r\n$" + b"1" * 65536, "too big bulk count string"),
    ]

    def test_bad_declared_lengths(self):
        with Probe(self.server) as probe:
            for request, error in self.BAD:
                with connect(self.server.port) as s:
                    s.sendall(request)
                    data, closed = read_all(s)
                    self.assertEqual(data, b"-ERR Protocol error: %s\r\n" % error.encode(),
                                     request[:40])
                    self.assertTrue(closed)
            # A negative multibulk count is skipped, as Redis does; the
            # connection stays usable.
            with connect(self.server.port) as s:
                s.sendall(b"*-7\r\n*0\r\nPING\r\n")
                self.assertEqual(s.recv(64), b"+PONG\r\n")
            # Unread input past client-query-buffer-limit (64 MiB): a
            # 100-argument command of 1 MiB bulks that never completes, cut
            # one byte past the limit.
            with connect(self.server.port) as s:
                bulk = b"$1048576\r\n" + b"z" * MB + b"\r\n"
                left = 64 * MB + 1 - 6
                s.sendall(b"*100\r\n")
                while left > 0:
                    s.sendall(bulk[:left])
                    left -= min(left, len(bulk))
                data, closed = read_all(s)
                self.assertEqual(data, b"-ERR Protocol error: client query buffer limit reached\r\n")
        # The 64 MiB buffer is the documented per-client cost (plus the copy
        # while it grows).
        self.assert_served(probe, 150, "bad lengths + 64 MiB query buffer")
        self.wait_clients(3)

    def test_random_bytes(self):
        rnd = random.Random(1234)
        with Probe(self.server) as probe:
            for i in range(60):
                # Small enough to be read whole (so the close is clean and the
                # reply arrives); a few large ones only have to be survived.
                junk = rnd.randbytes(1 << 20 if i % 20 == 19 else 3000)
                if i % 2:
                    junk = b"*3\r\n$" + junk  # down the multibulk path
                with connect(self.server.port) as s:
                    try:
                        s.sendall(junk)
                        s.shutdown(socket.SHUT_WR)  # EOF: the server answers and closes
                    except OSError:
                        pass  # closed on a protocol error while we still sent
                    data, _ = read_all(s)
                    self.assertTrue(data == b"" or data.startswith(b"-"), data[:80])
                    if i % 2 and len(junk) < 4096:
                        self.assertTrue(data.startswith(b"-ERR Protocol error: "), data[:80])
        self.assert_served(probe, 50, "random bytes")
        self.wait_clients(3)


class LowHardLimitTest(unittest.TestCase):
    def test_maxclients_lowered_to_fit_the_hard_limit(self):
        raise_own_fd_limit(4096)
        server = Server().start(
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1200, 1200)))
        socks = []
        try:
            self.assertEqual(open_files_limit(server.pid), (1200, 1200))
            self.assertIn("open files limit is 1200 (hard limit 1200), too low for maxclients "
                          "10000: serving at most 688 clients", server.read_log())
            r = server.client()
            self.assertEqual(r.execute_command("CONFIG", "GET", "maxclients"),
                             [b"maxclients", b"688"])
            for _ in range(687):  # with r: 688
                s = connect(server.port)
                s.sendall(b"PING\r\n")
                socks.append(s)
            for s in socks:
                self.assertEqual(s.recv(16), b"+PONG\r\n")
            with connect(server.port) as s:
                data, closed = read_all(s)
                self.assertEqual(data, b"-ERR max number of clients reached\r\n")
            self.assertTrue(r.ping())
        finally:
            for s in socks:
                s.close()
            self.assertEqual(server.stop(), 0)
            server.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
