"""Clients no one here wrote, with their defaults, against the real server on 127.0.0.1:
node-redis 6 (its RESP3 handshake, HELLO 3, and multi()), ioredis, redis-py 4.3 (Debian)
pipelines and client_info(), redis-cli -3, --scan, --bigkeys and --stat; and the protocol
error counter with its rate-limited log line.

The npm packages are installed by ensure_npm() into $BRIDGEFEED_NPM_DIR (the build tree),
tarballs cached in ~/.cache/bridgefeed/npm so reruns need no network. Without node or npm
the node tests are skipped, except under CI=true, where they fail."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import redis

from harness import Server

REDIS_CLI = os.environ.get("REDIS_CLI", "redis-cli")
HERE = os.path.dirname(os.path.abspath(__file__))
NPM_DIR = os.environ.get("BRIDGEFEED_NPM_DIR", os.path.join(HERE, "..", "..", "build", "npm"))
NPM_CACHE = os.path.join(os.environ.get("BRIDGEFEED_CACHE") or
                         os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                      os.path.expanduser("~/.cache"), "bridgefeed"), "npm")
# Exact versions: what the tests were written against (redis 6: HELLO 3 by default).
NPM_PACKAGES = {"redis": "6.4.0", "ioredis": "6.1.0"}
CI = os.environ.get("CI") == "true"


def ensure_npm():
    """node_modules with NPM_PACKAGES, or None and the reason. Quick when installed."""
    modules = os.path.join(NPM_DIR, "node_modules")

    def installed():
        for name, version in NPM_PACKAGES.items():
            try:
                with open(os.path.join(modules, name, "package.json")) as f:
                    if json.load(f).get("version") != version:
                        return False
            except OSError:
                return False
        return True

    if installed():
        return modules, None
    for tool in ("node", "npm"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            return None, f"{tool} is not installed (./bridgefeed test installs it)"
    os.makedirs(NPM_DIR, exist_ok=True)
    specs = [f"{n}@{v}" for n, v in NPM_PACKAGES.items()]
    try:
        p = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--no-save",
                            "--prefer-offline", "--cache", NPM_CACHE, *specs],
                           cwd=NPM_DIR, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        return None, "npm install took over 180 s"
    if p.returncode != 0 or not installed():
        return None, f"npm install {' '.join(specs)} failed: {p.stderr[-1500:]}"
    return modules, None


class ClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--slowlog-log-slower-than", "-1").start()
        cls.r = cls.server.client()
        cls.modules, cls.npm_problem = ensure_npm()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, f"server exited with {code}"

    def raw(self, *args):
        """The reply as sent (redis-py's reply callbacks bypassed)."""
        conn = self.r.connection_pool.get_connection("_")
        try:
            conn.send_command(*args)
            return conn.read_response()
        finally:
            self.r.connection_pool.release(conn)

    def node(self, script, *args):
        if self.modules is None:
            if CI:
                self.fail(self.npm_problem)
            self.skipTest(self.npm_problem)
        p = subprocess.run(["node", os.path.join(HERE, "js", script), str(self.server.port),
                            self.modules, *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, f"{script}: {p.stdout[-2000:]} {p.stderr[-2000:]}")
        return json.loads(p.stdout.strip().splitlines()[-1])

    def cli(self, *args, timeout=10):
        p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.server.port), *args],
                           capture_output=True, text=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_node_redis_defaults_speak_resp3(self):
        out = self.node("node_redis.js", "basic")
        self.assertTrue(out["connected"])
        self.assertEqual(out["ping"], "PONG")
        self.assertEqual(out["hello"]["proto"], 3)
        self.assertEqual(out["hello"]["server"], "bridgefeed")
        self.assertEqual(out["add"], "OK")
        post = out["post"]  # a RESP3 map arrives as an object
        self.assertEqual(post["author"], "nodeauthor")
        self.assertEqual(post["title"], "from node")
        self.assertEqual(post["by_culture"], [])
        self.assertIsInstance(post["bridging"], (int, float))  # a double, not a string
        self.assertIsNone(out["missing"])
        item = next(i for i in out["feed"] if i["post"] == "np1")
        self.assertIsInstance(item["score"], float)
        self.assertIn(item["source"], ("interest", "home", "cross", "bridging", "fresh"))
        self.assertIn(" resp=3 ", out["client_info"])
        self.assertIn(" lib-name=node-redis ", out["client_info"])
        self.assertEqual(out["wrongdim_error"], "WRONGDIM expected 4, got 1")
        self.assertGreaterEqual(out["dbsize"], 1)

    def test_node_redis_multi(self):
        out = self.node("node_redis.js", "multi")
        self.assertEqual(out["multi"], ["OK", "OK"])
        self.assertEqual(out["after_multi"]["positives"], 1)
        # A queued arity error aborts the whole block: nothing of it runs. node-redis
        # rejects exec() with the first queued error, as it does against redis-server 7.
        self.assertIn("wrong number of arguments for 'post.del' command", out["abort_error"])
        self.assertIsNone(out["after_abort"])
        before, added, shared, after, user, feed = out["mixed"]
        self.assertIsNone(before)  # queued before the block's writes
        self.assertEqual([added, shared], ["OK", "OK"])
        self.assertEqual(after["positives"], 1)  # queued after them: sees them
        self.assertEqual(after["culture"], "BR")
        self.assertEqual(user["positives"], 1)
        self.assertIn("nm3", feed)
        self.assertIn("EVENT cannot follow a read that follows a write inside MULTI",
                      out["order_error"])
        self.assertEqual(out["after_order"]["positives"], 1)  # nodeuser5's like did not run

    def test_ioredis(self):
        out = self.node("ioredis.js")
        self.assertTrue(out["connected"])
        self.assertEqual(out["ping"], "PONG")
        user = out["user"]
        self.assertEqual(dict(zip(user[::2], user[1::2]))["culture"], "BR")
        ok1, ok2, ok3, bad, feed, dbsize = out["pipeline"]
        self.assertEqual([ok1, ok2, ok3], ["OK", "OK", "OK"])
        self.assertEqual(bad, {"error": "ERR POST.ADD needs AUTHOR and CULTURE"})
        self.assertIn("io2", feed)
        self.assertNotIn("io1", feed)  # viewed: never served again
        self.assertGreaterEqual(dbsize, 3)
        added, liked, post = out["multi"]
        self.assertEqual([added, liked], ["OK", "OK"])
        post = dict(zip(post[::2], post[1::2]))
        self.assertEqual(post["author"], "ioauthor3")
        self.assertEqual(post["positives"], 1)
        self.assertIn(" lib-name=ioredis ", out["client_list"])
        secs, usecs = (int(x) for x in out["time"])
        self.assertLess(abs(secs - time.time()), 5)
        self.assertLess(usecs, 1000000)

    def test_redis_py_client_info_and_list(self):
        self.r.client_setname("pyclient")
        info = self.r.client_info()  # raised KeyError before (issue #17)
        self.assertEqual(info["name"], "pyclient")
        self.assertEqual(info["multi"], -1)
        self.assertEqual(info["db"], 0)
        self.assertEqual(info["laddr"], f"127.0.0.1:{self.server.port}")
        other = self.server.client()
        other.client_setname("second")
        names = [c["name"] for c in self.r.client_list()]
        self.assertIn("pyclient", names)
        self.assertIn("second", names)
        other.close()

    def test_redis_py_pipelines(self):
        # Without a transaction: the commands go in one round trip, replies in order.
        pipe = self.r.pipeline(transaction=False)
        pipe.execute_command("POST.ADD", "py1", "AUTHOR", "pa", "CULTURE", "US",
                             "VECTOR", "VALUES", "4", "1", "1", "0", "0")
        pipe.execute_command("POST.GET", "py1")
        pipe.dbsize()
        pipe.time()
        added, got, dbsize, now = pipe.execute()
        self.assertEqual(added, b"OK")
        self.assertEqual(got[:2], [b"author", b"pa"])
        self.assertGreaterEqual(dbsize, 1)
        self.assertLess(abs(now[0] - time.time()), 5)
        pipe = self.r.pipeline()  # the default: MULTI ... EXEC
        pipe.execute_command("POST.ADD", "py2", "AUTHOR", "pa", "CULTURE", "CN",
                             "VECTOR", "VALUES", "4", "0", "1", "0", "0")
        pipe.execute_command("EVENT", "pyuser", "py2", "LIKE")
        pipe.execute_command("USER.GET", "pyuser")  # a read after the writes sees them
        added, liked, user = pipe.execute()
        self.assertEqual([added, liked], [b"OK", b"OK"])
        self.assertEqual(dict(zip(*[iter(user)] * 2))[b"positives"], 1)
        self.assertEqual(dict(zip(*[iter(self.raw("POST.GET", "py2"))] * 2))[b"positives"], 1)

    def test_redis_cli_resp3(self):
        self.raw("POST.ADD", "cli1", "AUTHOR", "ca", "CULTURE", "JP", "VECTOR", "VALUES", "4",
                 "0", "0", "0", "1", "TITLE", "neko")
        hello = self.cli("-3", "--no-raw", "HELLO", "3")
        self.assertIn('1# "server" => "bridgefeed"', hello)
        self.assertIn('3# "proto" => (integer) 3', hello)
        post = self.cli("-3", "--no-raw", "POST.GET", "cli1")
        self.assertIn('1# "author" => "ca"', post)
        self.assertIn('10# "bridging" => (double) 0', post)
        self.assertIn('11# "by_culture" => (empty array)', post)
        self.assertEqual(self.cli("-3", "--no-raw", "POST.GET", "none").strip(), "(nil)")
        # RESP2 is still the default: a flat array, the score a string.
        resp2 = self.cli("--no-raw", "POST.GET", "cli1")
        self.assertIn(' 1) "author"\n 2) "ca"\n', resp2)
        self.assertIn('19) "bridging"\n20) "0"\n', resp2)

    def test_redis_cli_scan_and_bigkeys(self):
        for i in range(25):
            self.raw("POST.ADD", f"scan:{i:02d}", "AUTHOR", "sa", "CULTURE", "US",
                     "VECTOR", "VALUES", "4", "1", "0", str(i + 1), "0")
        self.raw("USER.SET", "scan:user", "CULTURE", "US")
        ids = self.cli("--scan").split()  # COUNT 10 pages: several cursors
        self.assertEqual(len(ids), self.r.dbsize())  # every post and user, once each here
        self.assertEqual(sorted(i for i in ids if i.startswith("scan:")),
                         [f"scan:{i:02d}" for i in range(25)] + ["scan:user"])
        self.assertEqual(sorted(self.cli("--scan", "--pattern", "scan:1*").split()),
                         [f"scan:{i}" for i in range(10, 20)])
        # A walk is stable while posts come and go: every post present throughout comes once.
        seen, cursor, pages, mutated = [], "0", 0, False
        while True:
            cursor, page = self.r.scan(cursor, match="scan:*", count=4, _type="post")
            seen += [k.decode() for k in page]
            pages += 1
            if cursor == 0:
                break
            if len(seen) >= 4 and not mutated:
                mutated = True
                self.raw("POST.DEL", "scan:24")  # deleted mid-walk: may or may not show
                self.raw("POST.ADD", "scan:000", "AUTHOR", "sa", "CULTURE", "US",
                         "VECTOR", "VALUES", "4", "1", "0", "0", "1")  # behind the cursor
        self.assertTrue(mutated)
        self.assertGreater(pages, 6)
        self.assertNotIn("scan:000", seen)  # added behind the cursor
        self.assertEqual(len(seen), len(set(seen)))
        self.assertTrue(set(f"scan:{i:02d}" for i in range(24)) <= set(seen))
        self.assertEqual(self.r.type("scan:03"), b"post")
        self.assertEqual(self.r.type("scan:user"), b"user")
        self.assertEqual(self.r.type("scan:nothing"), b"none")
        with self.assertRaises(redis.ResponseError) as ctx:
            self.r.scan(987654321)
        self.assertEqual(str(ctx.exception), "invalid cursor")
        # --bigkeys: walks with SCAN, asks TYPE, counts ids per type.
        big = self.cli("--bigkeys", "-i", "0", timeout=30)
        self.assertIn("Scanning the entire keyspace", big)
        m = re.search(r"(\d+) keys with (\d+) types", big) or re.search(r"Sampled (\d+) keys", big)
        self.assertIsNotNone(m, big)
        self.assertEqual(int(m.group(1)), self.r.dbsize(), big)
        self.assertRegex(big, r"\d+ posts? with")

    def test_redis_cli_stat(self):
        expected_keys = self.r.dbsize()
        # stdbuf: redis-cli's rows would sit in its stdio buffer when it is interrupted.
        p = subprocess.Popen(["stdbuf", "-oL", REDIS_CLI, "-h", "127.0.0.1", "-p",
                              str(self.server.port), "--stat", "-i", "0.1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^-+ data -+ -+ load -+ - child -")
        self.assertEqual(lines[1].split(), ["keys", "mem", "clients", "blocked", "requests",
                                            "connections"])
        row = lines[2].split()
        self.assertEqual(int(row[0]), expected_keys, out)
        self.assertRegex(row[1], r"^\d+(\.\d+)?[BKMG]$")  # used_memory, human
        self.assertGreaterEqual(int(row[2]), 2)  # this client and redis-cli
        self.assertEqual(row[3], "0")
        self.assertGreaterEqual(len(lines), 4, out)  # it kept polling

    def test_protocol_errors_counted_and_log_rate_limited(self):
        def count():
            return self.r.info("stats")["protocol_errors"]

        before = count()
        log_before = self.server.read_log().count("Protocol error")
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
                s.sendall(b"*1\r\n$-5\r\n")
                reply = s.recv(100)
                self.assertEqual(reply, b"-ERR Protocol error: invalid bulk length\r\n")
        self.assertEqual(count(), before + 20)
        self.assertEqual(self.r.ping(), True)  # the server stays up
        time.sleep(0.2)  # the log line is written by the server's thread
        # One info line per 10 s at most (the rest at debug, not logged at info).
        self.assertLessEqual(self.server.read_log().count("Protocol error") - log_before, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
