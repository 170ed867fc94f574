"""Transactions through redis-py 4.3 (Debian) against the real bridgefeed-server on
127.0.0.1: the default pipeline() is MULTI ... EXEC, an aborted block writes nothing (so a
retry counts once), WATCH conflicts raise WatchError, and Redis's errors for misplaced
MULTI, EXEC, DISCARD and WATCH; reads queued with writes run in their place at EXEC."""
import unittest

import redis

from harness import ServerCase, pairs

VEC = ["VECTOR", "VALUES", "4", "1", "0.5", "0", "0"]


class TransactionsTest(ServerCase):
    def add_post(self, pid):
        self.assertEqual(self.r.execute_command("POST.ADD", pid, "AUTHOR", "a", "CULTURE", "US",
                                                *VEC), b"OK")

    def post_positives(self, pid):
        return pairs(self.r.execute_command("POST.GET", pid))["positives"]

    def user(self, uid):
        reply = self.r.execute_command("USER.GET", uid)
        return None if reply is None else pairs(reply)

    def test_default_pipeline_is_one_block(self):
        self.add_post("tp1")
        pipe = self.r.pipeline()  # transaction=True: MULTI ... EXEC
        pipe.execute_command("USER.SET", "tu1", "CULTURE", "BR")
        pipe.execute_command("EVENT", "tu1", "tp1", "LIKE")
        pipe.execute_command("POST.ADD", "tp1b", "AUTHOR", "a", "CULTURE", "CN", *VEC)
        pipe.execute_command("EVENT", "tu1", "tp1b", "SHARE")  # a post of the same block
        pipe.execute_command("USER.DEL", "nobody")
        pipe.execute_command("PING")
        self.assertEqual(pipe.execute(), [b"OK", b"OK", b"OK", b"OK", 0, True])
        self.assertEqual(self.post_positives("tp1"), 1)
        self.assertEqual(self.post_positives("tp1b"), 1)
        self.assertEqual(self.user("tu1")["positives"], 2)
        self.assertEqual(self.user("tu1")["culture"], b"BR")

    def test_aborted_block_writes_nothing_so_a_retry_counts_once(self):
        self.add_post("tp2")
        pipe = self.r.pipeline()
        pipe.execute_command("EVENT", "tu2", "tp2", "LIKE")
        pipe.execute_command("EVENT", "tu2", "tp2", "POKE")  # refused when queued
        with self.assertRaisesRegex(redis.ResponseError, "unknown event type 'POKE'"):
            pipe.execute()
        self.assertEqual(self.post_positives("tp2"), 0)
        self.assertIsNone(self.user("tu2"))
        # The backend retries the corrected block: one like, not two.
        pipe = self.r.pipeline()
        pipe.execute_command("EVENT", "tu2", "tp2", "LIKE")
        pipe.execute_command("EVENT", "tu2", "tp2", "VIEW")
        self.assertEqual(pipe.execute(), [b"OK", b"OK"])
        self.assertEqual(self.post_positives("tp2"), 1)
        self.assertEqual(self.user("tu2")["positives"], 1)

    def test_exec_time_errors_are_per_command(self):
        self.add_post("tp3")
        pipe = self.r.pipeline()
        pipe.execute_command("EVENT", "tu3", "tp3", "LIKE")
        pipe.execute_command("EVENT", "tu3", "no-such-post", "LIKE")
        pipe.execute_command("EVENT", "tu4", "tp3", "LIKE")
        out = pipe.execute(raise_on_error=False)
        self.assertEqual(out[0], b"OK")
        self.assertIsInstance(out[1], redis.ResponseError)
        self.assertIn("NOTFOUND post", str(out[1]))
        self.assertEqual(out[2], b"OK")
        self.assertEqual(self.post_positives("tp3"), 2)

    def test_pipeline_mixes_reads_and_writes(self):
        self.add_post("tp7")
        pipe = self.r.pipeline(transaction=True)
        pipe.execute_command("USER.GET", "tu7")  # before the writes: sees none of them
        pipe.execute_command("POST.GET", "tp7")
        pipe.execute_command("USER.SET", "tu7", "CULTURE", "CN")
        pipe.execute_command("POST.ADD", "tp7b", "AUTHOR", "tu7a", "CULTURE", "CN", *VEC)
        pipe.execute_command("EVENT", "tu7", "tp7", "LIKE")
        pipe.execute_command("PING")
        pipe.execute_command("USER.GET", "tu7")  # after the writes: sees all of them
        pipe.execute_command("POST.GET", "tp7")
        pipe.execute_command("FEED", "tu8", "COUNT", "500")  # records its page
        pipe.execute_command("FEED", "tu8", "COUNT", "500")
        pipe.execute_command("SIMILAR", "nope")  # its own error, found at EXEC
        out = pipe.execute(raise_on_error=False)
        self.assertEqual(len(out), 11)
        self.assertIsNone(out[0])
        self.assertEqual(pairs(out[1])["positives"], 0)
        self.assertEqual(out[2:6], [b"OK", b"OK", b"OK", True])
        self.assertEqual(pairs(out[6])["culture"], b"CN")
        self.assertEqual(pairs(out[6])["positives"], 1)
        self.assertEqual(pairs(out[7])["positives"], 1)
        self.assertIn(b"tp7b", out[8])  # a post of the same block
        self.assertTrue(out[8] and not set(out[8]) & set(out[9]))  # never served twice
        self.assertIsInstance(out[10], redis.ResponseError)
        self.assertIn("NOTFOUND post", str(out[10]))

    def test_write_after_a_read_after_a_write_aborts_the_pipeline(self):
        self.add_post("tp9")
        pipe = self.r.pipeline(transaction=True)
        pipe.execute_command("EVENT", "tu9", "tp9", "LIKE")
        pipe.execute_command("POST.GET", "tp9")
        pipe.execute_command("EVENT", "tu9", "tp9", "SHARE")
        with self.assertRaisesRegex(redis.ResponseError,
                                    "EVENT cannot follow a read that follows a write inside "
                                    "MULTI: the block's writes are stored as one batch"):
            pipe.execute()
        self.assertEqual(self.post_positives("tp9"), 0)  # nothing of the block ran
        self.assertIsNone(self.user("tu9"))

    def test_watch_conflict_raises_watch_error(self):
        self.add_post("tp4")
        other = self.server.client()
        with self.r.pipeline() as pipe:
            pipe.watch("tp4")
            other.execute_command("EVENT", "someone", "tp4", "LIKE")
            pipe.multi()
            pipe.execute_command("EVENT", "tu5", "tp4", "LIKE")
            with self.assertRaises(redis.WatchError):
                pipe.execute()
        self.assertEqual(self.post_positives("tp4"), 1)  # the other client's like only
        self.assertIsNone(self.user("tu5"))

        # redis-py's transaction() helper retries on WatchError; without a
        # conflict its block runs once.
        def like(pipe):
            pipe.multi()
            pipe.execute_command("EVENT", "tu5", "tp4", "LIKE")

        self.assertEqual(self.r.transaction(like, "tp4", "tu5"), [b"OK"])
        self.assertEqual(self.post_positives("tp4"), 2)
        self.assertEqual(self.user("tu5")["positives"], 1)

    def test_redis_errors_for_misplaced_commands(self):
        c = self.server.client(single_connection_client=True)
        try:
            with self.assertRaisesRegex(redis.ResponseError, "^EXEC without MULTI$"):
                c.execute_command("EXEC")
            with self.assertRaisesRegex(redis.ResponseError, "^DISCARD without MULTI$"):
                c.execute_command("DISCARD")
            self.assertEqual(c.execute_command("MULTI"), b"OK")
            with self.assertRaisesRegex(redis.ResponseError, "^MULTI calls can not be nested$"):
                c.execute_command("MULTI")
            with self.assertRaisesRegex(redis.ResponseError, "^WATCH inside MULTI is not allowed$"):
                c.execute_command("WATCH", "x")
            self.assertEqual(c.execute_command("USER.SET", "tu6"), b"QUEUED")
            with self.assertRaisesRegex(redis.ResponseError, "SAVE is not allowed inside MULTI"):
                c.execute_command("SAVE")
            with self.assertRaises(redis.exceptions.ExecAbortError):
                c.execute_command("EXEC")
            self.assertIsNone(self.user("tu6"))
            self.assertEqual(c.execute_command("MULTI"), b"OK")
            c.execute_command("USER.SET", "tu6")
            self.assertEqual(c.execute_command("DISCARD"), b"OK")
            self.assertIsNone(self.user("tu6"))
            self.assertEqual(c.execute_command("PING"), True)  # the server is fine
        finally:
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
