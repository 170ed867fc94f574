"""The data rules of issue 17 through redis-py against the real server:
concurrent FEEDs of one user never serve a post twice, engagement counts people, hidden means hidden across a delete and re-add,
the TS range and unit, vector underflow and 1-based positions, and the
stored unit-length vector."""
import struct
import threading
import time
import unittest

import redis

from harness import ServerCase, fp32, pairs

RANGE = ("ts out of range: expected seconds since the Unix epoch from 946684800 "
         "(2000-01-01) to now + 86400 (1 day)")


class SemanticsTest(ServerCase):
    def err(self, *args):
        """The error line as sent (redis-py drops a leading 'ERR ')."""
        with self.assertRaises(redis.ResponseError) as ctx:
            self.cmd(*args)
        msg = str(ctx.exception)
        return msg if msg.split(" ", 1)[0] in ("BADVECTOR", "WRONGDIM", "NOTFOUND") \
            else "ERR " + msg

    def add(self, pid, culture, vec=(1, 0, 0, 0), *extra):
        return self.cmd("POST.ADD", pid, "AUTHOR", "author-" + pid, "CULTURE", culture,
                        "VECTOR", "FP32", fp32(*vec), *extra)

    def feed(self, user, count, *extra):
        return [p.decode() for p in self.cmd("FEED", user, "COUNT", str(count), *extra)]

    # Point 3 ---------------------------------------------------------------
    def test_concurrent_feeds_of_one_user_never_serve_a_post_twice(self):
        pipe = self.r.pipeline(transaction=False)
        for i in range(200):
            vec = [0.1, 0.1, 0.1, 0.1]
            vec[i % 4] = 1 if i % 8 < 4 else -1
            pipe.execute_command("POST.ADD", f"race{i}", "AUTHOR", f"race-author{i}",
                                 "CULTURE", ("US", "CN", "BR")[i % 3], "VECTOR", "FP32",
                                 fp32(*vec))
        self.assertTrue(all(r == b"OK" for r in pipe.execute()))
        n = 16
        barrier = threading.Barrier(n, timeout=20)
        pages = [None] * n
        errors = []

        def feed(k):
            c = self.server.client()
            try:
                barrier.wait()
                pages[k] = [p.decode() for p in c.execute_command("FEED", "racer", "COUNT", "10")]
            except Exception as e:  # reported below; the thread must not die silently
                errors.append(repr(e))
            finally:
                c.close()

        threads = [threading.Thread(target=feed, args=(k,)) for k in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        served = [p for page in pages for p in page]
        self.assertEqual(len(served), n * 10)  # enough posts for every page
        self.assertEqual(len(set(served)), len(served), "a post was served twice")

    # Point 4 ---------------------------------------------------------------
    def test_a_farm_of_clicks_counts_its_accounts_once(self):
        now = int(time.time())
        old = str(now - 6 * 86400)
        # Fresh posts along +-each axis, so MMR has diverse choices; the farmed
        # post shares the newest one's direction and gains nothing by diversity.
        self.assertEqual(self.add("farm-post", "BR", (1, 0, 0, 0), "TS", old), b"OK")
        self.assertEqual(self.add("honest-post", "BR", (0, 1, 0, 0), "TS", old), b"OK")
        for i in range(12):
            vec = [0, 0, 0, 0]
            vec[i % 4] = -1 if i // 4 == 1 else 1
            self.add(f"farm-fresh{i}", "FR" if i % 2 else "JP", vec, "TS", str(now - 60 - i))
        # Two accounts, 100 VIEW+LIKE each, pipelined: two impressions, two positives.
        pipe = self.r.pipeline(transaction=False)
        for acct, culture in (("farm-us", "US"), ("farm-cn", "CN")):
            pipe.execute_command("USER.SET", acct, "CULTURE", culture)
            for _ in range(100):
                pipe.execute_command("EVENT", acct, "farm-post", "VIEW")
                pipe.execute_command("EVENT", acct, "farm-post", "LIKE")
        self.assertTrue(all(r is True or r == b"OK" for r in pipe.execute()))
        p = pairs(self.cmd("POST.GET", "farm-post"))
        self.assertEqual((p["impressions"], p["positives"]), (2, 2))
        self.assertEqual(float(p["bridging"]), 0.0)
        self.assertNotIn("farm-post", self.feed("farm-newcomer", 5, "PEEK"))
        # Five accounts per culture, 100 likes each, equal five honest readers' single likes.
        pipe = self.r.pipeline(transaction=False)
        for a in range(10):
            culture = "US" if a < 5 else "CN"
            pipe.execute_command("USER.SET", f"farm{a}", "CULTURE", culture)
            pipe.execute_command("USER.SET", f"reader{a}", "CULTURE", culture)
            for _ in range(100):
                pipe.execute_command("EVENT", f"farm{a}", "honest-post", "VIEW")
                pipe.execute_command("EVENT", f"farm{a}", "honest-post", "SAVE")
        pipe.execute()
        farmed = pairs(self.cmd("POST.GET", "honest-post"))
        self.assertEqual((farmed["impressions"], farmed["positives"]), (10, 10))
        self.assertAlmostEqual(float(farmed["bridging"]), 0.6, places=9)  # (5+1)/(5+1+4)
        self.assertEqual(pairs(self.cmd("USER.GET", "farm0"))["positives"], 1)

    # Point 5 ---------------------------------------------------------------
    def test_hidden_reported_and_served_survive_delete_and_readd(self):
        now = int(time.time())
        ids = [f"hid{i}" for i in range(4)]
        for i, pid in enumerate(ids):
            self.add(pid, "KR", (1, 0, 0, i), "TS", str(now - i))
        self.cmd("USER.SET", "hider", "CULTURE", "KR")
        self.assertEqual(self.cmd("EVENT", "hider", "hid0", "HIDE"), b"OK")
        self.assertEqual(self.cmd("EVENT", "hider", "hid1", "REPORT"), b"OK")
        served = self.feed("hid-reader", 500)
        for pid in ids:
            self.assertIn(pid, served)
        for pid in ids[:3]:
            self.assertEqual(self.cmd("POST.DEL", pid), 1)
            self.assertEqual(self.add(pid, "KR", (1, 0, 0, 9)), b"OK")
        page = self.feed("hider", 500, "PEEK")
        self.assertNotIn("hid0", page)
        self.assertNotIn("hid1", page)
        self.assertIn("hid2", page)
        again = self.feed("hid-reader", 500)
        for pid in ids:
            self.assertNotIn(pid, again)

    # Point 7 ---------------------------------------------------------------
    def test_ts_range_and_unit(self):
        self.assertEqual(self.err("POST.ADD", "ts-ms", "AUTHOR", "a", "CULTURE", "US",
                                  "VECTOR", "FP32", fp32(1, 0, 0, 0), "TS", "1733000000000"),
                         "ERR " + RANGE + "; 1733000000000 looks like milliseconds")
        self.assertEqual(self.err("POST.ADD", "ts-max", "AUTHOR", "a", "CULTURE", "US",
                                  "VECTOR", "FP32", fp32(1, 0, 0, 0),
                                  "TS", "9223372036854775807"), "ERR " + RANGE)
        self.assertIsNone(self.cmd("POST.GET", "ts-ms"))
        self.add("ts-ok", "US", (1, 0, 0, 0), "TS", "1700000000")
        self.assertEqual(self.err("EVENT", "ts-user", "ts-ok", "LIKE", "TS", "5"),
                         "ERR " + RANGE)
        self.assertEqual(self.err("EVENT", "ts-user", "ts-ok", "LIKE", "TS",
                                  str(int(time.time()) + 2 * 86400)), "ERR " + RANGE)
        self.assertEqual(self.cmd("EVENT", "ts-user", "ts-ok", "LIKE", "TS",
                                  str(int(time.time()) - 5)), b"OK")
        # A replace without TS keeps the post's ts; with TS it takes the new one.
        self.assertEqual(self.add("ts-ok", "JP", (0, 1, 0, 0), "TITLE", "edited"), b"OK")
        p = pairs(self.cmd("POST.GET", "ts-ok"))
        self.assertEqual((p["ts"], p["culture"], p["title"]), (1700000000, b"JP", b"edited"))
        self.add("ts-ok", "JP", (0, 1, 0, 0), "TS", "1700000100")
        self.assertEqual(pairs(self.cmd("POST.GET", "ts-ok"))["ts"], 1700000100)

    # Point 8 ---------------------------------------------------------------
    def test_vector_underflow_positions_and_unit_length(self):
        add = ("POST.ADD", "vec", "AUTHOR", "a", "CULTURE", "US", "VECTOR")
        # An underflow is 0, not "infinity"; alone it is an all-zero vector.
        self.assertEqual(self.add("vec", "US", (1, 0, 0, 0)), b"OK")
        self.assertEqual(self.cmd(*add, "VALUES", "4", "3", "1e-46", "4", "-1e-40"), b"OK")
        v = struct.unpack("<4f", pairs(self.cmd("POST.GET", "vec", "WITHVECTOR"))["vector"])
        self.assertEqual(v, (0.6000000238418579, 0.0, 0.800000011920929, 0.0))
        self.assertEqual(self.err(*add, "VALUES", "4", "1e-46", "0", "1e-400", "0"),
                         "BADVECTOR all-zero vector")
        # Subnormal FP32 components are flushed the same way.
        sub = struct.unpack("<f", struct.pack("<I", 1))[0]
        self.assertEqual(self.err(*add, "FP32", fp32(sub, 0, 0, -sub)),
                         "BADVECTOR all-zero vector")
        # Positions count from 1 in every message, VALUES and FP32 alike.
        self.assertEqual(self.err(*add, "VALUES", "4", "1", "2", "1e39", "0"),
                         "BADVECTOR value 3 is beyond the float32 range (magnitude above 3.4e38)")
        self.assertEqual(self.err(*add, "VALUES", "4", "1", "2", "0", "nan"),
                         "BADVECTOR NaN at position 4")
        self.assertEqual(self.err(*add, "VALUES", "4", "inf", "2", "0", "0"),
                         "BADVECTOR infinity at position 1")
        self.assertEqual(self.err(*add, "FP32", fp32(1, float("nan"), 0, 0)),
                         "BADVECTOR NaN at position 2")
        self.assertEqual(self.err(*add, "FP32", fp32(1, 0, 0, float("-inf"))),
                         "BADVECTOR infinity at position 4")
        self.assertEqual(self.err(*add, "VALUES", "4", "1", "x", "0", "0"),
                         "ERR value 2 is not a number")
        # The failed writes left the post as it was.
        v = struct.unpack("<4f", pairs(self.cmd("POST.GET", "vec", "WITHVECTOR"))["vector"])
        self.assertEqual(v, (0.6000000238418579, 0.0, 0.800000011920929, 0.0))


if __name__ == "__main__":
    unittest.main()
