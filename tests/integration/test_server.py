"""The wire contract (api.md) through real clients: redis-py and redis-cli
against the real bridgefeed-server binary on 127.0.0.1."""
import os
import signal
import socket
import struct
import subprocess
import time
import unittest

import redis

from harness import Server, ServerCase, fp32, pairs

REDIS_CLI = os.environ.get("REDIS_CLI", "redis-cli")


class ServerTest(ServerCase):

    def err(self, *args):
        """The full error line, code first (redis-py drops a leading 'ERR ')."""
        with self.assertRaises(redis.ResponseError) as ctx:
            self.cmd(*args)
        msg = str(ctx.exception)
        first = msg.split(" ", 1)[0]
        return msg if first.isupper() and first.isalpha() and first != "ERR" and \
            first in ("WRONGDIM", "BADVECTOR", "NOTFOUND", "NOAUTH", "WRONGPASS", "BUSY", "NOPROTO") \
            else "ERR " + msg

    def add_post(self, pid, author, culture, vec, *extra):
        return self.cmd("POST.ADD", pid, "AUTHOR", author, "CULTURE", culture,
                        "VECTOR", "FP32", fp32(*vec), *extra)

    # Connection commands -------------------------------------------------
    def test_ping_echo(self):
        self.assertTrue(self.r.ping())
        self.assertEqual(self.cmd("PING", "hi"), b"hi")
        self.assertEqual(self.cmd("ECHO", b"a\x00b"), b"a\x00b")

    def test_inline_commands(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"PING\r\nECHO hello\r\n")
            data = b""
            while data.count(b"\r\n") < 3:
                data += s.recv(1024)
            self.assertEqual(data, b"+PONG\r\n$5\r\nhello\r\n")

    def test_unknown_command_and_arity_use_redis_wording(self):
        self.assertTrue(self.err("NOSUCH", "x").startswith("ERR unknown command 'NOSUCH'"))
        self.assertEqual(self.err("ECHO"), "ERR wrong number of arguments for 'echo' command")
        self.assertEqual(self.err("POST.GET"),
                         "ERR wrong number of arguments for 'post.get' command")

    def test_commands_are_case_insensitive(self):
        self.assertEqual(self.cmd("ping"), b"PONG")
        self.assertEqual(self.cmd("user.set", "ci", "culture", "us"), b"OK")
        self.assertEqual(pairs(self.cmd("USER.GET", "ci"))["culture"], b"US")

    def test_info_sections(self):
        info = self.r.info("all")
        for key in ("uptime_in_seconds", "tcp_port", "dim", "connected_clients",
                    "total_commands_processed", "total_connections_received",
                    "feed_requests", "users", "posts"):
            self.assertIn(key, info)
        self.assertEqual(int(info["tcp_port"]), self.server.port)
        self.assertEqual(int(info["dim"]), 4)
        self.assertIn(info["faiss_build"], ("avx2", "package"))
        raw = self.cmd("INFO", "index").decode()
        self.assertTrue(raw.startswith("# Index"), raw)
        self.assertIn("ntotal:", raw)

    def test_connection_and_server_commands(self):
        hello = pairs(self.cmd("HELLO", "2"))
        self.assertEqual(hello["server"], b"bridgefeed")
        self.assertEqual(hello["proto"], 2)
        self.assertEqual(self.err("HELLO", "4"), "NOPROTO unsupported protocol version")
        self.assertIsInstance(self.cmd("CLIENT", "ID"), int)
        self.assertEqual(self.cmd("SELECT", "0"), b"OK")
        self.assertEqual(self.err("SELECT", "1"), "ERR DB index is out of range")
        self.assertEqual(self.cmd("CONFIG", "GET", "appendonly"), [b"appendonly", b"no"])
        self.assertEqual(self.cmd("CONFIG", "GET", "save")[0], b"save")
        count = self.cmd("COMMAND", "COUNT")
        self.assertEqual(len(self.cmd("COMMAND")), count)
        docs = self.cmd("COMMAND", "DOCS", "FEED")
        self.assertEqual(docs[0], b"feed")
        # Per-connection state: a name set on one connection only.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"CLIENT SETNAME alice\r\nCLIENT GETNAME\r\n"
                      b"CLIENT SETINFO LIB-NAME test\r\nQUIT\r\n")
            data = b""
            while True:
                chunk = s.recv(1024)
                if not chunk:
                    break  # QUIT closes the connection after its +OK
                data += chunk
            self.assertEqual(data, b"+OK\r\n$5\r\nalice\r\n+OK\r\n+OK\r\n")

    # Users -----------------------------------------------------------------
    def test_user_roundtrip_with_fp32_and_values(self):
        self.assertEqual(self.cmd("USER.SET", "u1", "CULTURE", "cn", "LANGS", "zh,en",
                                  "OPENNESS", "0.4", "VECTOR", "FP32", fp32(3, 0, 0, 4)), b"OK")
        u = pairs(self.cmd("USER.GET", "u1", "WITHVECTOR"))
        self.assertEqual(u["culture"], b"CN")
        self.assertEqual(u["langs"], b"zh,en")
        self.assertAlmostEqual(float(u["openness"]), 0.4, places=5)
        self.assertEqual(u["has_vector"], 1)
        self.assertEqual(struct.unpack("<4f", u["vector"]), (0.6000000238418579, 0.0, 0.0, 0.800000011920929))
        # Fields not given keep their values.
        self.cmd("USER.SET", "u1", "VECTOR", "VALUES", "4", "0", "1", "0", "0")
        u = pairs(self.cmd("USER.GET", "u1", "WITHVECTOR"))
        self.assertEqual(u["culture"], b"CN")
        self.assertEqual(struct.unpack("<4f", u["vector"]), (0.0, 1.0, 0.0, 0.0))
        self.assertIsNone(self.cmd("USER.GET", "nobody"))
        self.assertEqual(self.cmd("USER.DEL", "u1"), 1)
        self.assertEqual(self.cmd("USER.DEL", "u1"), 0)

    def test_binary_safe_ids(self):
        uid = b"\x00user\r\n\xff"
        self.cmd("USER.SET", uid, "CULTURE", "BR")
        self.assertEqual(pairs(self.cmd("USER.GET", uid))["culture"], b"BR")
        pid = b"post\x00\r\n*3"
        self.assertEqual(self.add_post(pid, b"auth\x00or", "BR", (1, 2, 3, 4)), b"OK")
        self.assertEqual(pairs(self.cmd("POST.GET", pid))["author"], b"auth\x00or")

    # Posts -----------------------------------------------------------------
    def test_post_roundtrip(self):
        self.assertEqual(self.add_post("pr1", "alice", "us", (1, 0, 0, 0), "LANG", "en",
                                       "TS", "1700000000", "TAGS", "cats,home",
                                       "TITLE", "my cat"), b"OK")
        p = pairs(self.cmd("POST.GET", "pr1", "WITHVECTOR"))
        self.assertEqual(p["author"], b"alice")
        self.assertEqual(p["culture"], b"US")
        self.assertEqual(p["lang"], b"en")
        self.assertEqual(int(p["ts"]), 1700000000)
        self.assertEqual(p["tags"], b"cats,home")
        self.assertEqual(p["title"], b"my cat")
        self.assertEqual(int(p["impressions"]), 0)
        self.assertEqual(struct.unpack("<4f", p["vector"]), (1.0, 0.0, 0.0, 0.0))
        self.assertIsNone(self.cmd("POST.GET", "never-added"))
        self.assertEqual(self.cmd("POST.DEL", "pr1"), 1)
        self.assertEqual(self.cmd("POST.DEL", "pr1"), 0)
        self.assertIsNone(self.cmd("POST.GET", "pr1"))

    def test_vector_errors(self):
        self.assertEqual(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                  "VECTOR", "FP32", fp32(1, 2, 3)), "WRONGDIM expected 4, got 3")
        self.assertEqual(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                  "VECTOR", "VALUES", "5", "1", "2", "3", "4", "5"),
                         "WRONGDIM expected 4, got 5")
        self.assertTrue(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                 "VECTOR", "VALUES", "4", "0", "0", "0", "0").startswith("BADVECTOR"))
        self.assertTrue(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                 "VECTOR", "FP32", fp32(1, float("nan"), 0, 0)).startswith("BADVECTOR"))
        self.assertTrue(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                 "VECTOR", "VALUES", "4", "1", "inf", "0", "0").startswith("BADVECTOR"))
        self.assertTrue(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US",
                                 "VECTOR", "VALUES", "4", "1", "x", "0", "0").startswith("ERR"))
        self.assertIsNone(self.cmd("POST.GET", "bad"))

    def test_value_errors(self):
        self.assertTrue(self.err("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "U S",
                                 "VECTOR", "FP32", fp32(1, 0, 0, 0)).startswith("ERR"))
        self.assertTrue(self.err("POST.ADD", "x" * 129, "AUTHOR", "a", "CULTURE", "US",
                                 "VECTOR", "FP32", fp32(1, 0, 0, 0)).startswith("ERR"))
        self.assertTrue(self.err("USER.SET", "u", "OPENNESS", "1.5").startswith("ERR"))
        self.assertTrue(self.err("FEED", "u", "COUNT", "0").startswith("ERR"))
        self.assertTrue(self.err("FEED", "u", "COUNT", "501").startswith("ERR"))
        self.assertTrue(self.err("FEED", "u", "BOGUS").startswith("ERR"))
        self.assertEqual(self.err("EVENT", "u", "no-such-post", "LIKE"), "NOTFOUND post")
        self.assertEqual(self.err("SIMILAR", "no-such-post"), "NOTFOUND post")
        self.add_post("ev-target", "a", "US", (0, 1, 0, 0))
        self.assertTrue(self.err("EVENT", "u", "ev-target", "POKE").startswith("ERR"))

    # Feeds -----------------------------------------------------------------
    def test_feed_events_and_explain(self):
        for i in range(12):
            self.add_post(f"f-cn-{i}", f"cn-author-{i}", "CN", (1, 0.1 * i, 0, 0), "TITLE", f"cat {i}")
            self.add_post(f"f-us-{i}", f"us-author-{i}", "US", (1, 0, 0.1 * i, 0))
        self.cmd("USER.SET", "reader", "CULTURE", "CN", "VECTOR", "VALUES", "4", "1", "0", "0", "0")
        page = self.cmd("FEED", "reader", "COUNT", "10", "OPENNESS", "0.5", "PEEK")
        self.assertEqual(len(page), 10)
        us = [p for p in page if p.startswith(b"f-us-")]
        self.assertEqual(len(us), 5)
        # PEEK recorded nothing: same page again.
        self.assertEqual(self.cmd("FEED", "reader", "COUNT", "10", "OPENNESS", "0.5", "PEEK"), page)
        items = self.cmd("FEED", "reader", "COUNT", "4", "EXPLAIN")
        self.assertEqual(len(items), 4)
        for item in items:
            f = pairs(item)
            for key in ("post", "score", "culture", "author", "source", "relevance",
                        "bridging", "freshness"):
                self.assertIn(key, f)
            float(f["score"])
        served = {pairs(i)["post"] for i in items}
        nxt = set(self.cmd("FEED", "reader", "COUNT", "10"))
        self.assertFalse(served & nxt)
        # Feedback: a LIKE counts a positive from the user's culture.
        self.assertEqual(self.cmd("EVENT", "reader", "f-us-3", "VIEW"), b"OK")
        self.assertEqual(self.cmd("EVENT", "reader", "f-us-3", "like", "TS", "1700000001"), b"OK")
        p = pairs(self.cmd("POST.GET", "f-us-3"))
        self.assertEqual(int(p["impressions"]), 1)
        self.assertEqual(int(p["positives"]), 1)
        by = p["by_culture"]
        self.assertEqual(by[0][0], b"CN")
        self.assertEqual([int(x) for x in by[0][1:]], [1, 1, 0])
        u = pairs(self.cmd("USER.GET", "reader"))
        self.assertEqual(int(u["positives"]), 1)
        # HIDE: never shown again.
        self.cmd("EVENT", "reader", "f-cn-0", "HIDE")
        for _ in range(5):
            self.assertNotIn(b"f-cn-0", self.cmd("FEED", "reader", "COUNT", "20", "PEEK"))
        # Cold start for an unknown user.
        self.assertEqual(len(self.cmd("FEED", "stranger", "COUNT", "5")), 5)

    def test_similar(self):
        for i in range(5):
            self.add_post(f"s-cn-{i}", f"a{i}", "CN", (0, 0, 1, 0.05 * i))
            self.add_post(f"s-br-{i}", f"b{i}", "BR", (0, 0, 1, 0.06 * i))
        near = self.cmd("SIMILAR", "s-cn-0", "COUNT", "3")
        self.assertEqual(len(near), 3)
        self.assertNotIn(b"s-cn-0", near)
        cross = self.cmd("SIMILAR", "s-cn-0", "COUNT", "4", "CROSS")
        self.assertTrue(cross and all(not c.startswith(b"s-cn-") for c in cross))

    def test_index_commands(self):
        info = pairs(self.cmd("INDEX.INFO"))
        for key in ("type", "dim", "ntotal", "live", "tombstones", "trained", "snapshot_seq",
                    "rebuilding", "last_rebuild"):
            self.assertIn(key, info)
        self.assertEqual(self.cmd("SAVE"), b"OK")
        self.assertEqual(self.cmd("INDEX.REBUILD"), b"OK")
        deadline = time.time() + 30
        while int(pairs(self.cmd("INDEX.INFO"))["rebuilding"]) and time.time() < deadline:
            time.sleep(0.05)
        self.assertGreater(int(pairs(self.cmd("INDEX.INFO"))["last_rebuild"]), 0)
        self.assertTrue(self.err("INDEX.LOAD", "/nonexistent/file").startswith("ERR"))

    # Pipelining and protocol errors -----------------------------------------
    def test_ten_thousand_pipelined_commands(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(10000):
            pipe.execute_command("ECHO", str(i))
        replies = pipe.execute()
        self.assertEqual(len(replies), 10000)
        self.assertEqual(replies[0], b"0")
        self.assertEqual(replies[9999], b"9999")

    def test_protocol_error_closes_only_that_connection(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"*1\r\n$-5\r\n")
            data = s.recv(1024)
            self.assertTrue(data.startswith(b"-ERR Protocol error"), data)
            self.assertEqual(s.recv(1024), b"")  # closed
        self.assertTrue(self.r.ping())

    # redis-cli ----------------------------------------------------------------
    def test_redis_cli(self):
        base = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.server.port)]
        out = subprocess.run(base + ["PING"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout.strip(), "PONG")
        out = subprocess.run(base + ["POST.ADD", "cli-1", "AUTHOR", "a", "CULTURE", "JP",
                                     "VECTOR", "VALUES", "4", "0.5", "0.5", "0", "0"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout.strip(), "OK")
        out = subprocess.run(base + ["POST.GET", "cli-1"], capture_output=True, text=True, timeout=30)
        self.assertIn("JP", out.stdout)
        # Interactive mode starts without errors (it sends COMMAND DOCS first).
        out = subprocess.run(base, input="PING\nECHO hi\n", capture_output=True, text=True,
                             timeout=30)
        self.assertIn("PONG", out.stdout)
        self.assertNotIn("ERR", out.stdout + out.stderr)


class AuthTest(unittest.TestCase):
    def test_requirepass(self):
        server = Server("--requirepass", "s3cret").start()
        try:
            r = server.client()
            with self.assertRaises(redis.AuthenticationError):
                r.ping()
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)) as ctx:
                r.execute_command("AUTH", "wrong")
            self.assertIn("invalid password", str(ctx.exception))
            self.assertTrue(server.client(password="s3cret").ping())
            self.assertTrue(r.execute_command("AUTH", "default", "s3cret"))
            self.assertTrue(r.ping())
            self.assertNotIn("s3cret", server.read_log())
        finally:
            self.assertEqual(server.stop(), 0)
            server.cleanup()

    def test_auth_without_password_configured(self):
        server = Server().start()
        try:
            with self.assertRaises(redis.ResponseError):
                server.client().execute_command("AUTH", "x")
        finally:
            server.stop()
            server.cleanup()


class RestartTest(unittest.TestCase):
    def test_restart_keeps_data_and_uses_snapshot(self):
        server = Server()
        try:
            server.start()
            r = server.client()
            for i in range(50):
                r.execute_command("POST.ADD", f"r{i}", "AUTHOR", f"a{i}", "CULTURE", "US",
                                  "VECTOR", "FP32", fp32(1, i, 0, 1))
            r.execute_command("USER.SET", "ru", "CULTURE", "US")
            r.execute_command("POST.DEL", "r7")
            self.assertEqual(server.stop(signal.SIGTERM), 0)
            server.start()
            r = server.client()
            self.assertEqual(pairs(r.execute_command("POST.GET", "r1"))["author"], b"a1")
            self.assertIsNone(r.execute_command("POST.GET", "r7"))
            self.assertEqual(pairs(r.execute_command("USER.GET", "ru"))["culture"], b"US")
            self.assertEqual(int(pairs(r.execute_command("INDEX.INFO"))["live"]), 49)
            self.assertIn("loaded snapshot", server.read_log())
            # A second server on the same data dir is refused.
            twin = Server(data_dir=server.data_dir)
            with self.assertRaises(RuntimeError):
                twin.start()
            twin.cleanup()
        finally:
            server.stop()
            server.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
