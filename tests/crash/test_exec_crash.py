"""EXEC atomicity across SIGKILL (CTest label `crash`).

A client pipelines MULTI ... EXEC blocks on one connection, each block reading the shared
anchor post, creating two posts and a user, liking a post of its own and the anchor, and
reading the anchor again (it must see the block's like); the server is killed with
SIGKILL at a random moment, restarted, and every block ever sent must be all there or not
there at all: both posts, the user with two positives, one like on its post, and the
anchor's likes equal to the number of blocks present. Every acknowledged block is there.

BF_CRASH_SEED replays a run; BF_EXEC_CRASH_ROUNDS sets the number of kill rounds.
"""
import os
import random
import signal
import sys
import threading
import time
import unittest

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import Server  # noqa: E402

SEED = int(os.environ.get("BF_CRASH_SEED", str(int(time.time()))))
ROUNDS = int(os.environ.get("BF_EXEC_CRASH_ROUNDS", "5"))
FSYNC = ["everysec", "no", "always"]
VEC = ["VECTOR", "VALUES", "4", "1", "0.25", "0", "0"]
BATCH = 20  # blocks per pipelined write


def block(i):
    # Reads before and after the writes run in the block too (not stored).
    return [("MULTI",),
            ("POST.GET", "anchor"),
            ("POST.ADD", f"xa{i}", "AUTHOR", "x", "CULTURE", "US", *VEC),
            ("POST.ADD", f"xb{i}", "AUTHOR", "x", "CULTURE", "CN", *VEC),
            ("USER.SET", f"xu{i}", "CULTURE", "BR"),
            ("EVENT", f"xu{i}", f"xa{i}", "LIKE"),
            ("EVENT", f"xu{i}", "anchor", "LIKE"),
            ("POST.GET", "anchor"),
            ("EXEC",)]


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class ExecCrashTest(unittest.TestCase):
    def setUp(self):
        print(f"\n[{self.id()}] BF_CRASH_SEED={SEED}", flush=True)
        self.rnd = random.Random(f"{SEED}/{self.id()}")
        self.server = Server("--snapshot-interval-s", "1", dim=4)

    def tearDown(self):
        self.server.cleanup()

    def send_until_killed(self, first, acked):
        """Pipelines blocks first, first+1, ... until the connection dies; adds each block
        whose EXEC reply was read to acked. Returns the next unsent block number."""
        conn = redis.Connection(host="127.0.0.1", port=self.server.port, socket_timeout=30)
        nxt = first
        try:
            conn.connect()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                batch = list(range(nxt, nxt + BATCH))
                cmds = [c for i in batch for c in block(i)]
                conn.send_packed_command(conn.pack_commands(cmds))
                nxt += BATCH
                for i in batch:
                    for _ in range(8):  # MULTI and seven QUEUED
                        conn.read_response()
                    reply = conn.read_response()
                    self.assertEqual(reply[1:6], [b"OK", b"OK", b"OK", b"OK", b"OK"], f"block {i}")
                    # The read after the block's like sees it; no one else writes.
                    before, after = pairs(reply[0]), pairs(reply[6])
                    self.assertEqual(after["positives"], before["positives"] + 1, f"block {i}")
                    acked.add(i)
            self.fail("the server was not killed within 60 s")
        except (redis.ConnectionError, ConnectionError, OSError):
            return nxt
        finally:
            conn.disconnect()

    def verify(self, sent, acked):
        r = self.server.client()
        pipe = r.pipeline(transaction=False)
        for i in range(sent):
            pipe.execute_command("POST.GET", f"xa{i}")
            pipe.execute_command("POST.GET", f"xb{i}")
            pipe.execute_command("USER.GET", f"xu{i}")
        replies = pipe.execute()
        present = 0
        for i in range(sent):
            a, b, u = replies[3 * i:3 * i + 3]
            there = [a is not None, b is not None, u is not None]
            self.assertIn(there, ([True] * 3, [False] * 3),
                          f"block {i} half applied: {there} (BF_CRASH_SEED={SEED})")
            if a is None:
                self.assertNotIn(i, acked, f"acknowledged block {i} lost (BF_CRASH_SEED={SEED})")
                continue
            present += 1
            self.assertEqual(pairs(a)["positives"], 1, f"block {i}")
            self.assertEqual(pairs(u)["positives"], 2, f"block {i}")
        anchor = pairs(r.execute_command("POST.GET", "anchor"))
        self.assertEqual(anchor["positives"], present, f"(BF_CRASH_SEED={SEED})")
        r.close()
        return present

    def test_exec_blocks_are_all_or_nothing_across_sigkill(self):
        self.server.start(extra=["--fsync", FSYNC[0]])
        r = self.server.client()
        r.execute_command("POST.ADD", "anchor", "AUTHOR", "x", "CULTURE", "US", *VEC)
        r.close()
        acked = set()
        sent = 0
        for round_i in range(ROUNDS):
            timer = threading.Timer(self.rnd.uniform(0.1, 0.8), os.kill,
                                    (self.server.pid, signal.SIGKILL))
            timer.start()
            sent = self.send_until_killed(sent, acked)
            timer.join()
            self.server.stop(signal.SIGKILL)  # reaps the killed process
            self.server.start(extra=["--fsync", FSYNC[round_i % len(FSYNC)]])
            present = self.verify(sent, acked)
            print(f"round {round_i}: {sent} blocks sent, {len(acked)} acknowledged, "
                  f"{present} present", flush=True)
            # Blocks that were lost in flight are never acknowledged later: forget nothing,
            # but the next round's numbers continue after every sent block.
        self.assertGreater(len(acked), 0)
        self.assertEqual(self.server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
