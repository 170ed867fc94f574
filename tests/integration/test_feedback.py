"""EVENT's fold-in through the real server and redis-py, on 127.0.0.1: a FEED
moves toward what the user liked, hides alone give no vector, and hostile event
sequences never leave a NaN in a user's vector."""
import math
import os
import struct
import subprocess
import unittest

import redis

from harness import Server

DIM = 8


def fp32(xs):
    return struct.pack("<%df" % len(xs), *xs)


def floats(blob):
    return struct.unpack("<%df" % (len(blob) // 4), blob)


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def topic_vector(topic, k):
    """Topic 0 lives on dims 0-3, topic 1 on dims 4-7; k varies the post."""
    v = [0.05] * DIM
    base = 4 * topic
    v[base + k % 4] = 1.0
    v[base + (k + 1) % 4] = 0.5
    return v


class FeedbackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(dim=DIM).start()
        cls.r = cls.server.client()
        pipe = cls.r.pipeline(transaction=False)
        for topic in (0, 1):
            for k in range(30):
                pipe.execute_command("POST.ADD", f"t{topic}-{k}", "AUTHOR", f"a{topic}-{k}",
                                     "CULTURE", "US" if k % 2 else "CN",
                                     "VECTOR", "FP32", fp32(topic_vector(topic, k)))
        pipe.execute()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, f"server exited with {code}"

    def user_vector(self, user):
        got = self.r.execute_command("USER.GET", user, "WITHVECTOR")
        fields = pairs(got)
        vec = floats(fields["vector"]) if fields.get("vector") else None
        return fields, vec

    def topic_share(self, user, topic):
        page = self.r.execute_command("FEED", user, "COUNT", "10", "PEEK")
        self.assertEqual(len(page), 10)
        return sum(1 for p in page if p.decode().startswith(f"t{topic}-"))

    def test_likes_move_the_feed_toward_the_liked_posts(self):
        self.r.execute_command("USER.SET", "fan", "CULTURE", "US",
                               "VECTOR", "FP32", fp32(topic_vector(0, 0)))
        self.assertGreaterEqual(self.topic_share("fan", 0), 8)
        for k in (3, 8, 13, 17, 22):
            self.assertEqual(self.r.execute_command("EVENT", "fan", f"t1-{k}", "LIKE"), b"OK")
        self.assertGreaterEqual(self.topic_share("fan", 1), 7)
        fields, vec = self.user_vector("fan")
        self.assertEqual(fields["positives"], 5)
        self.assertGreater(sum(vec[4:]), sum(vec[:4]))

    def test_first_like_gives_a_vector_and_hides_alone_none(self):
        self.r.execute_command("EVENT", "shy", "t0-1", "HIDE")
        self.r.execute_command("EVENT", "shy", "t0-2", "REPORT")
        fields, vec = self.user_vector("shy")
        self.assertEqual(fields["has_vector"], 0)
        self.assertIsNone(vec)
        self.r.execute_command("EVENT", "shy", "t1-4", "LIKE")
        fields, vec = self.user_vector("shy")
        self.assertEqual(fields["has_vector"], 1)
        want = topic_vector(1, 4)
        cos = sum(a * b for a, b in zip(vec, want)) / math.sqrt(sum(b * b for b in want))
        self.assertGreater(cos, 0.9)

    def test_hostile_event_sequences_leave_no_nan(self):
        with self.assertRaises(redis.ResponseError) as ctx:
            self.r.execute_command("EVENT", "h", "no-such-post", "LIKE")
        self.assertEqual(str(ctx.exception), "NOTFOUND post")
        with self.assertRaises(redis.ResponseError) as ctx:
            self.r.execute_command("EVENT", "h", "t0-1", "ADORE")
        # redis-py drops the leading "ERR ".
        self.assertTrue(str(ctx.exception).startswith("unknown event type 'ADORE'"))
        pipe = self.r.pipeline(transaction=False)
        kinds = ["LIKE", "HIDE", "VIEW", "REPORT", "SAVE", "SHARE", "COMMENT"]
        for i in range(300):
            pipe.execute_command("EVENT", f"h{i % 3}", f"t{i % 2}-{(i * 7) % 30}", kinds[i % 7])
        for i in range(60):  # one post liked and hidden over and over
            pipe.execute_command("EVENT", "h9", "t0-5", "LIKE" if i % 2 else "HIDE")
        self.assertTrue(all(x == b"OK" for x in pipe.execute()))
        for user in ("h0", "h1", "h2", "h9"):
            fields, vec = self.user_vector(user)
            if vec is not None:
                self.assertEqual(len(vec), DIM)
                self.assertTrue(all(math.isfinite(x) for x in vec), f"{user}: {vec}")
            page = self.r.execute_command("FEED", user, "COUNT", "5", "PEEK")
            self.assertEqual(len(page), 5)
        self.assertTrue(self.r.ping())

    def test_bad_feedback_setting_is_refused(self):
        out = subprocess.run([os.environ["BRIDGEFEED_SERVER"], "--feedback", "maybe",
                              "--port", "0"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 2)
        self.assertIn("feedback must be foldin or nudge", out.stderr)


if __name__ == "__main__":
    unittest.main()
