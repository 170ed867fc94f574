"""Learning through a real server (docs/learning.md): POST.ADD without VECTOR, TRAIN WAIT
changing FEED, -BUSY during a train, MODEL.LOAD with catch-up and its refusals, SIGKILL during
TRAIN. Small worlds: two groups of posts and users who like one group each."""
import os
import random
import shutil
import subprocess
import tempfile
import time
import unittest

import redis

from harness import Server

TRAIN_TOOL = os.environ.get("BRIDGEFEED_TRAIN", "bridgefeed-train")
DIM = 8
POSTS_PER_GROUP = 20
USERS_PER_GROUP = 15


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def info_section(r, section):
    """INFO section as text values (redis-py parses INFO into typed values)."""
    return {k: str(v) for k, v in r.info(section).items()}


def world(r, seed=7):
    """Posts a0.. and b0.. without vectors, users who like one group each; returns the
    number of events."""
    rng = random.Random(seed)
    p = r.pipeline(transaction=False)
    for g in "ab":
        for i in range(POSTS_PER_GROUP):
            p.execute_command("POST.ADD", f"{g}{i}", "AUTHOR", f"au-{g}{i}", "CULTURE", "US",
                              "TS", 1_700_000_000 + i)
    events = 0
    for g in "ab":
        for u in range(USERS_PER_GROUP):
            p.execute_command("USER.SET", f"{g}-fan{u}", "CULTURE", "US")
            for i in rng.sample(range(POSTS_PER_GROUP), 8):
                p.execute_command("EVENT", f"{g}-fan{u}", f"{g}{i}", "LIKE")
                events += 1
    for reply in p.execute():
        assert reply == b"OK", reply
    return events


def group_share(page, group):
    return sum(1 for post in page if post.decode().startswith(group)) / max(1, len(page))


def feed(r, user, n=10):
    return r.execute_command("FEED", user, "COUNT", str(n), "OPENNESS", "0", "PEEK")


class LearningTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bf_learn_")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, *args, **kw):
        s = Server(*args, dim=DIM, **kw)
        self.servers.append(s)
        return s.start()

    def test_posts_without_vector_then_train_wait_changes_feed(self):
        s = self.server()
        r = s.client()
        # A database without events: a clear error, nothing changes.
        r.execute_command("POST.ADD", "lonely", "AUTHOR", "x", "CULTURE", "US")
        with self.assertRaisesRegex(redis.ResponseError, "^no events to train on"):
            r.execute_command("TRAIN", "WAIT")
        self.assertEqual(info_section(r, "model")["loaded"], "0")
        r.execute_command("POST.DEL", "lonely")

        events = world(r)
        # No vectors yet: nothing in the index, the feed comes from fresh and bridging.
        self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["live"], 0)
        post = pairs(r.execute_command("POST.GET", "a1", "WITHVECTOR"))
        self.assertEqual(post["has_vector"], 0)
        self.assertEqual(post["vector"], b"")
        self.assertEqual(len(feed(r, "b-fan0")), 10)
        with self.assertRaisesRegex(redis.ResponseError, "^syntax error"):
            r.execute_command("TRAIN", "NOW")

        summary = pairs(r.execute_command("TRAIN", "WAIT"))
        self.assertEqual(summary["users"], 2 * USERS_PER_GROUP)
        self.assertEqual(summary["posts"], 2 * POSTS_PER_GROUP)
        self.assertEqual(summary["events"], events)
        self.assertGreater(summary["iterations"], 0)
        self.assertGreater(float(summary["seconds"]), 0)
        self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["live"], 2 * POSTS_PER_GROUP)
        model = info_section(r, "model")
        self.assertEqual(model["loaded"], "1")
        self.assertEqual(model["posts_with_factors"], str(2 * POSTS_PER_GROUP))
        self.assertEqual(model["users_with_factors"], str(2 * USERS_PER_GROUP))
        self.assertEqual(model["events_seq"], str(events))
        # Each fan's feed now comes from their own group.
        for g, other in (("a", "b"), ("b", "a")):
            page = feed(r, f"{g}-fan3")
            self.assertGreaterEqual(group_share(page, g), 0.8, page)
        self.assertEqual(len(pairs(r.execute_command("POST.GET", "a1", "WITHVECTOR"))["vector"]),
                         DIM * 4)
        # A restart serves the same model.
        before = feed(r, "a-fan3")
        s.stop()
        s.start()
        r = s.client()
        self.assertEqual(info_section(r, "model")["trained_at"], model["trained_at"])
        self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["live"], 2 * POSTS_PER_GROUP)
        self.assertEqual(feed(r, "a-fan3"), before)

    def test_busy_while_training(self):
        s = self.server("--train-iterations", "100000")  # seconds: long enough to overlap
        r = s.client()
        world(r)
        p = r.pipeline(transaction=False)
        p.execute_command("TRAIN")
        p.execute_command("TRAIN")
        p.execute_command("INDEX.REBUILD")
        replies = p.execute(raise_on_error=False)
        self.assertEqual(replies[0], b"OK")
        self.assertIsInstance(replies[1], redis.ResponseError)
        self.assertTrue(str(replies[1]).startswith("BUSY"), replies[1])
        self.assertIsInstance(replies[2], redis.ResponseError)
        self.assertTrue(str(replies[2]).startswith("BUSY"), replies[2])
        # Serving goes on meanwhile.
        self.assertEqual(len(feed(r, "a-fan1")), 10)
        self.assertEqual(info_section(r, "model")["training"], "1")
        self.assertEqual(info_section(r, "model")["loaded"], "0")  # the old model serves

    def test_model_load_catches_up_and_refuses_bad_files(self):
        s = self.server()
        r = s.client()
        events = world(r)
        # bridgefeed-train reads the live database; the server keeps serving.
        saved = os.path.join(self.tmp, "model.bfm")
        res = subprocess.run([TRAIN_TOOL, "--data-dir", s.data_dir, "--out", saved,
                              "--iterations", "10"], capture_output=True, text=True, timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn(f"{events} events, 10 iterations", res.stdout)
        self.assertIn("iteration 10: loss", res.stderr)
        self.assertEqual(info_section(r, "model")["loaded"], "0")
        # After the model: a new user likes b posts, a new post arrives.
        for i in range(6):
            r.execute_command("EVENT", "newbie", f"b{i}", "LIKE")
        r.execute_command("POST.ADD", "late", "AUTHOR", "z", "CULTURE", "US")
        self.assertEqual(r.execute_command("MODEL.LOAD", saved), b"OK")
        model = info_section(r, "model")
        self.assertEqual(model["loaded"], "1")
        self.assertEqual(model["iterations"], "10")
        self.assertEqual(model["events_seq"], str(events))
        trained_at = model["trained_at"]
        self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["live"], 2 * POSTS_PER_GROUP)
        self.assertGreaterEqual(group_share(feed(r, "newbie"), "b"), 0.8)
        user = pairs(r.execute_command("USER.GET", "newbie", "WITHVECTOR"))
        self.assertEqual(user["has_vector"], 1)
        self.assertEqual(user["positives"], 6)
        self.assertIn(b"late", feed(r, "newbie", 50))  # served fresh, without a vector

        # Truncated, damaged, missing, another database: refused, the model kept.
        with open(saved, "rb") as f:
            data = f.read()
        bad = os.path.join(self.tmp, "bad.bfm")
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        with self.assertRaisesRegex(redis.ResponseError, "truncated"):
            r.execute_command("MODEL.LOAD", bad)
        with open(bad, "wb") as f:
            f.write(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
        with self.assertRaisesRegex(redis.ResponseError, "checksum"):
            r.execute_command("MODEL.LOAD", bad)
        with self.assertRaisesRegex(redis.ResponseError, "^NOTFOUND"):
            r.execute_command("MODEL.LOAD", os.path.join(self.tmp, "nope.bfm"))
        other = self.server()
        ro = other.client()
        world(ro, seed=3)
        ro.execute_command("TRAIN", "WAIT")
        with self.assertRaisesRegex(redis.ResponseError, "another database"):
            r.execute_command("MODEL.LOAD", os.path.join(other.data_dir, "model.bfm"))
        self.assertEqual(info_section(r, "model")["trained_at"], trained_at)
        self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["live"], 2 * POSTS_PER_GROUP)

    def test_sigkill_during_train(self):
        s = Server(dim=DIM)
        self.servers.append(s)
        s.start(extra=["--train-iterations", "100000"])
        r = s.client()
        events = world(r)
        r.execute_command("TRAIN")
        time.sleep(0.3)
        self.assertEqual(info_section(r, "model")["training"], "1")
        # Acknowledged while training: must survive the kill.
        r.execute_command("POST.ADD", "during", "AUTHOR", "d", "CULTURE", "US")
        r.execute_command("EVENT", "a-fan0", "during", "LIKE")  # a post not liked before
        s.kill()
        s.start()
        r = s.client()
        self.assertEqual(r.ping(), True)
        self.assertEqual(pairs(r.execute_command("POST.GET", "during"))["author"], b"d")
        model = info_section(r, "model")
        # The old model (none) or the new one, consistently with the index.
        live = pairs(r.execute_command("INDEX.INFO"))["live"]
        if model["loaded"] == "1":
            self.assertEqual(live, int(model["posts_with_factors"]))
        else:
            self.assertEqual(live, 0)
        fan = pairs(r.execute_command("USER.GET", "a-fan0"))
        self.assertGreaterEqual(fan["positives"], 9)
        # And it trains again.
        s.stop()
        s.start(extra=["--train-iterations", "5"])
        r = s.client()
        summary = pairs(r.execute_command("TRAIN", "WAIT"))
        self.assertEqual(summary["events"], events + 1)


if __name__ == "__main__":
    unittest.main()
