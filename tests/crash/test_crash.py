"""Crash consistency of the real bridgefeed-server (CTest label `crash`).

A redis-py client pipelines POST.ADD, POST.DEL, USER.SET and EVENT and records
every acknowledgement; the server is killed with SIGKILL at random moments,
restarted, and checked against what the client was told (crash_model.py):
acknowledged posts and users read back identically, acknowledged deletes stay
deleted and are never served by FEED or SIMILAR, counters are at least the
acknowledged events (and at most those plus the ones in flight), and INDEX.INFO
live equals INFO storage posts. Also: a snapshot older than the writes, and a
truncated or corrupted snapshot file (the server rebuilds and logs it).

BF_CRASH_SEED replays a run; BF_CRASH_ROUNDS sets the number of kill rounds;
BF_CRASH_INDEX the index spec of the random rounds (default auto).
"""
import glob
import os
import random
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))

from harness import Server  # noqa: E402
from crash_model import DIM, Model, Writer, normalized, raw_vector, fp32, pairs  # noqa: E402

SEED = int(os.environ.get("BF_CRASH_SEED", str(int(time.time()))))
ROUNDS = int(os.environ.get("BF_CRASH_ROUNDS", "24"))
INDEX = os.environ.get("BF_CRASH_INDEX", "auto")  # the random rounds' --index
FSYNC = ["everysec", "no", "always"]  # each survives a killed process


def log_since(server, offset):
    return server.read_log()[offset:]


class CrashTest(unittest.TestCase):
    def setUp(self):
        print(f"\n[{self.id()}] BF_CRASH_SEED={SEED}", flush=True)
        self.rnd = random.Random(f"{SEED}/{self.id()}")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()

    def new_server(self, *args):
        s = Server(*args, dim=DIM)
        self.servers.append(s)
        return s

    def check(self, cond, msg):
        self.assertTrue(cond, f"{msg} (BF_CRASH_SEED={SEED})")

    def setup_stable(self, model, server):
        writer = Writer(model, server.port, self.rnd)
        ops = model.setup_ops()
        _, died = writer.run(lambda n, b: [ops.pop(0) for _ in range(min(n, len(ops)))])
        self.assertFalse(died)

    def test_random_sigkill_rounds(self):
        server = self.new_server("--snapshot-interval-s", "1", "--index", INDEX)
        model = Model(self.rnd, admin=True)
        server.start(extra=["--fsync", FSYNC[0]])
        self.setup_stable(model, server)
        t0 = time.time()
        acked = lost = 0
        for rnd_i in range(ROUNDS):
            writer = Writer(model, server.port, self.rnd)
            before = model.acked_ops
            pid = server.pid
            delay = self.rnd.uniform(0.05, 0.8)
            timer = threading.Timer(delay, os.kill, (pid, signal.SIGKILL))
            timer.start()
            sent, died = writer.run(lambda n, believed: [model.random_op(believed)
                                                         for _ in range(n)],
                                    max_batches=2000)
            timer.join()
            self.assertTrue(died, "the writer outlived the kill")
            server.kill()
            acked += model.acked_ops - before
            lost += len(model.in_flight)
            server.start(extra=["--fsync", FSYNC[(rnd_i + 1) % len(FSYNC)]])
            live, deleted, served = model.verify(server.client(), self.check)
            print(f"  round {rnd_i}: killed after {delay:.2f}s, {sent} sent, "
                  f"{model.acked_ops - before} acked, {live} live, {deleted} deleted, "
                  f"{served} served checked", flush=True)
        self.assertGreaterEqual(ROUNDS, 20)
        self.assertGreater(acked, 1000)
        print(f"  {ROUNDS} rounds, {acked} acknowledged writes, {lost} in flight at kills, "
              f"{time.time() - t0:.1f}s", flush=True)
        # After a clean stop: the live server may have a periodic snapshot in flight before it,
        # but every temporary file of the killed ones was removed at a start.
        server.stop()
        self.assertEqual(glob.glob(os.path.join(server.data_dir, "index.snap.tmp.*")), [])

    def test_snapshot_older_than_the_writes(self):
        # No automatic tombstone rebuild either: it would write a newer snapshot.
        server = self.new_server("--snapshot-interval-s", "0", "--index", "HNSW32",
                                 "--rebuild-tombstone-ratio", "1")
        model = Model(self.rnd)
        server.start()
        self.setup_stable(model, server)
        writer = Writer(model, server.port, self.rnd)
        writer.run(lambda n, b: [model.random_op(b) for _ in range(n)], max_batches=15)
        r = server.client()
        self.assertTrue(r.execute_command("SAVE"))  # redis-py maps +OK to True
        snap_seq = int(pairs(r.execute_command("INDEX.INFO"))["snapshot_seq"])
        in_snapshot = set(model.live_posts())
        # After the snapshot: replace and delete posts it holds, add new ones.
        victims = self.rnd.sample(sorted(p for p in in_snapshot if p.startswith("p")), 20)
        replaced, deleted = victims[:10], victims[10:]
        ops = [("post", p, model._version(p)) for p in replaced]
        ops += [("post", p, None) for p in deleted]
        writer = Writer(model, server.port, self.rnd)
        _, died = writer.run(lambda n, b: [ops.pop(0) for _ in range(min(n, len(ops)))])
        self.assertFalse(died)
        writer.run(lambda n, b: [model.random_op(b) for _ in range(n)], max_batches=15)
        # The last batch is still in flight when the kill lands.
        threading.Timer(0.02, os.kill, (server.pid, signal.SIGKILL)).start()
        writer.run(lambda n, b: [model.random_op(b) for _ in range(n)], batch=(400, 400))
        server.kill()
        offset = len(server.read_log())
        server.start()
        log = log_since(server, offset)
        self.assertIn(f"index: loaded snapshot {server.data_dir}/index.snap (seq {snap_seq})", log)
        self.assertIn(f"index: caught up past seq {snap_seq}:", log)
        r = server.client()
        model.verify(r, self.check)
        self.assertGreater(int(pairs(r.execute_command("INDEX.INFO"))["ntotal"]), 0)
        # The index holds the replaced vectors, not the snapshot's: a probe
        # next to a replaced post's new vector finds that post first.
        for i, p in enumerate(replaced):
            if model.posts[p] is None:
                continue
            v = normalized(raw_vector(p, model.posts[p]))
            v[1] += 1e-4
            probe = f"probe{i}"
            r.execute_command("POST.ADD", probe, "AUTHOR", "prober", "CULTURE", "US",
                              "VECTOR", "FP32", fp32(v))
            self.assertEqual(r.execute_command("SIMILAR", probe, "COUNT", "1"), [p.encode()])
            self.assertEqual(r.execute_command("POST.DEL", probe), 1)
        for p in deleted:
            if model.posts[p] is not None:
                continue
            v = normalized(raw_vector(p, model.next_version[p] - 1))  # its last live version
            r.execute_command("POST.ADD", "probe-d", "AUTHOR", "prober", "CULTURE", "US",
                              "VECTOR", "FP32", fp32(v))
            self.assertNotIn(p.encode(), r.execute_command("SIMILAR", "probe-d", "COUNT", "20"))
        server.stop()

    def test_truncated_or_corrupt_snapshot_is_rebuilt(self):
        server = self.new_server("--snapshot-interval-s", "0")
        model = Model(self.rnd)
        server.start()
        self.setup_stable(model, server)
        snap = os.path.join(server.data_dir, "index.snap")

        def truncate(data):
            return data[:len(data) // 2]

        def flip_middle(data):
            i = len(data) // 2
            return data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:]

        def flip_header_length(data):
            return data[:9] + bytes([data[9] ^ 0xFF]) + data[10:]

        def garbage(data):
            return self.rnd.randbytes(len(data))

        def empty(data):
            return b""

        for damage in (truncate, flip_middle, flip_header_length, garbage, empty):
            writer = Writer(model, server.port, self.rnd)
            writer.run(lambda n, b: [model.random_op(b) for _ in range(n)], max_batches=8)
            self.assertTrue(server.client().execute_command("SAVE"))
            writer.run(lambda n, b: [model.random_op(b) for _ in range(n)], max_batches=4)
            server.kill()
            with open(snap, "rb") as f:
                data = f.read()
            with open(snap, "wb") as f:
                f.write(damage(data))
            offset = len(server.read_log())
            server.start()
            log = log_since(server, offset)
            live = len(model.live_posts())
            self.assertIn(f"index: snapshot {snap} unusable (", log, damage.__name__)
            self.assertIn("; rebuilding from the store", log, damage.__name__)
            self.assertIn(f"index: building from {live} stored posts (snapshot unusable)", log)
            self.assertNotIn("index: loaded snapshot", log)
            model.verify(server.client(), self.check)
        self.assertEqual(server.stop(), 0)

    def test_interrupted_snapshot_leftovers_are_removed(self):
        # A SIGKILL while a snapshot is written leaves its temporary file.
        server = self.new_server()
        model = Model(self.rnd)
        server.start()
        self.setup_stable(model, server)
        server.kill()
        leftovers = [os.path.join(server.data_dir, f"index.snap.tmp.{4242 + i}.0")
                     for i in range(2)]
        for path in leftovers:
            with open(path, "wb") as f:
                f.write(b"BFIX" + b"\0" * 1000)
        keep = os.path.join(server.data_dir, "index.snap.keep")
        open(keep, "wb").close()
        offset = len(server.read_log())
        server.start()
        log = log_since(server, offset)
        for path in leftovers:
            self.assertFalse(os.path.exists(path))
            self.assertIn(f"index: removed {path} left by an interrupted snapshot", log)
        self.assertTrue(os.path.exists(keep))  # only the snapshot's own temporaries
        model.verify(server.client(), self.check)
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
