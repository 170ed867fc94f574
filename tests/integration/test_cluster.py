"""Cluster mode end to end (docs/cluster.md): 3 nats-servers with JetStream and 3
bridgefeed nodes on loopback, driven by redis-py's RedisCluster and plain clients.

Start-time refusals; routing (CLUSTER SLOTS, -MOVED, RedisCluster); writes through the log on
every node; SIGKILL of a node during writes (every acknowledged LIKE counted once on every
node); a node rebuilt from a peer's BACKUP; a NATS server killed during writes.
"""
import binascii
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

import redis
from redis.cluster import RedisCluster

import harness
from cluster_harness import Cluster, slot_ranges

VEC = ["VECTOR", "VALUES", "4"]


def vec(i):
    return [*VEC, "1", str(i % 7), str(i % 5), "1"]


def add_post(c, post, culture="US", i=1):
    return c.execute_command("POST.ADD", post, "AUTHOR", f"a{i}", "CULTURE", culture, *vec(i))


def post_counts(c, post):
    flat = c.execute_command("POST.GET", post)
    if flat is None:
        return None
    d = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
    return (d["impressions"], d["positives"], d["negatives"])


def keyslot(c, key):
    return c.execute_command("CLUSTER", "KEYSLOT", key)


def users_on(c, ranges, node, prefix):
    """Endless distinct user ids whose slots belong to node `node` (Redis's CRC16, checked
    against the server's CLUSTER KEYSLOT once). A user counts once per post and kind, so
    writers that must move a counter on every EVENT use a new user each time."""
    first, last = ranges[node]
    checked = False
    for i in range(10 ** 9):
        u = f"{prefix}{i}"
        slot = binascii.crc_hqx(u.encode(), 0) % 16384
        if first <= slot <= last:
            if not checked:
                assert keyslot(c, u) == slot, u
                checked = True
            yield u


def user_on(c, ranges, node, prefix="u"):
    """A user id whose slot belongs to node `node`."""
    first, last = ranges[node]
    for i in range(100000):
        u = f"{prefix}{i}"
        if first <= keyslot(c, u) <= last:
            return u
    raise AssertionError("no user found")


class StartRefusalTest(unittest.TestCase):
    """Bad cluster files and flags: a clear error, exit 2, nothing written to the data dir."""

    def run_server(self, *flags):
        data = tempfile.mkdtemp(prefix="bf_cl_refuse_")
        try:
            res = subprocess.run([harness.SERVER, "--data-dir", data, "--dim", "4", *flags],
                                 capture_output=True, text=True, timeout=60)
            self.assertEqual(os.listdir(data), [], "data dir touched")
            return res
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def write(self, text):
        fd, path = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_refusals(self):
        nodes = ('[[node]]\nid = "n0"\naddr = "127.0.0.1:7000"\nslots = "0-9000"\n'
                 '[[node]]\nid = "n1"\naddr = "127.0.0.1:7001"\nslots = "8000-16383"\n')
        overlap = self.write('nats = ["nats://127.0.0.1:1"]\n' + nodes)
        res = self.run_server("--port", "7000", "--cluster", overlap, "--node-id", "n0")
        self.assertEqual(res.returncode, 2)
        self.assertIn(f"{overlap}: slot 8000 is owned by both 'n0' and 'n1'", res.stderr)

        port = harness.free_port()
        dead = harness.free_port()  # nothing listens there
        good = self.write(f'nats = ["nats://127.0.0.1:{dead}"]\n'
                          f'[[node]]\nid = "n0"\naddr = "127.0.0.1:{port}"\nslots = "0-16383"\n')
        res = self.run_server("--port", str(port), "--cluster", good, "--node-id", "n9")
        self.assertEqual(res.returncode, 2)
        self.assertIn("--node-id 'n9' is not a node of this cluster (nodes: n0)", res.stderr)
        res = self.run_server("--port", str(port + 1 if port < 65535 else port - 1),
                              "--cluster", good, "--node-id", "n0")
        self.assertEqual(res.returncode, 2)
        self.assertIn(f"node 'n0' has addr 127.0.0.1:{port} but --port is", res.stderr)
        res = self.run_server("--port", str(port), "--cluster", good, "--node-id", "n0")
        self.assertEqual(res.returncode, 2)
        self.assertIn(f"CLUSTERDOWN no NATS server reachable at nats://127.0.0.1:{dead}",
                      res.stderr)
        res = self.run_server("--port", str(port), "--cluster", good)
        self.assertEqual(res.returncode, 2)
        self.assertIn("cluster and node_id go together", res.stderr)


class ClusterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cl = Cluster(3, ack_timeout_ms=8000).start()
        cls.ranges = slot_ranges(3)

    @classmethod
    def tearDownClass(cls):
        cls.cl.stop()

    def node(self, i):
        return self.cl.nodes[i].client()

    def rc(self):
        n = self.cl.nodes[0]
        return RedisCluster(host="127.0.0.1", port=n.port, socket_timeout=30)

    def test_1_topology_and_moved(self):
        c = self.node(1)
        slots = c.execute_command("CLUSTER", "SLOTS")
        got = sorted((s[0], s[1], s[2][1], s[2][2].decode()) for s in slots)
        want = [(f, l, self.cl.nodes[i].port, f"n{i}") for i, (f, l) in enumerate(self.ranges)]
        self.assertEqual(got, want)
        self.assertEqual(c.execute_command("CLUSTER", "MYID"), b"n1")
        self.assertEqual(keyslot(c, "foo"), 12182)  # as Redis: CRC16 mod 16384
        self.assertEqual(keyslot(c, "{foo}.x"), 12182)
        info = c.execute_command("CLUSTER", "INFO").decode()
        self.assertIn("cluster_state:ok", info)
        self.assertIn("cluster_known_nodes:3", info)
        self.assertIn("n1 127.0.0.1:%d@" % self.cl.nodes[1].port,
                      c.execute_command("CLUSTER", "NODES").decode())
        self.assertTrue(c.execute_command("READONLY"))
        self.assertEqual(self.cl.info(1)["cluster_enabled"], 1)
        # A user of n2 asked on n1: -MOVED to n2, for reads and writes alike.
        u = user_on(c, self.ranges, 2)
        slot = keyslot(c, u)
        for cmd in (["USER.GET", u], ["FEED", u], ["USER.SET", u, "CULTURE", "US"],
                    ["EVENT", u, "p", "LIKE"], ["USER.DEL", u]):
            with self.assertRaises(redis.ResponseError) as e:
                c.execute_command(*cmd)
            self.assertEqual(str(e.exception), f"MOVED {slot} 127.0.0.1:{self.cl.nodes[2].port}")
        # Post commands: any node. A bad write is refused before the log.
        with self.assertRaises(redis.ResponseError) as e:
            c.execute_command("POST.ADD", "bad", "AUTHOR", "a", "CULTURE", "US", *VEC[:2], "2",
                              "1", "2")
        self.assertEqual(str(e.exception), "WRONGDIM expected 4, got 2")

    def test_2_writes_and_feeds_through_redis_cluster(self):
        rc = self.rc()
        for i in range(30):
            self.assertTrue(add_post(rc, f"rp{i}", ("US", "CN", "BR")[i % 3], i))
        users = [f"ru{i}" for i in range(12)]
        for u in users:
            self.assertTrue(rc.execute_command("USER.SET", u, "CULTURE", "US", *vec(3)))
        for u in users:
            self.assertEqual(rc.execute_command("EVENT", u, "rp1", "LIKE"), b"OK")
        # Read-your-writes on the node written to; posts and counters on every node.
        last = int(self.cl.info(0)["cluster_stream_last_seq"])
        self.cl.wait_applied(last)
        for i in range(3):
            self.assertEqual(post_counts(self.node(i), "rp1"), (0, 12, 0), f"n{i}")
            self.assertIsNotNone(post_counts(self.node(i), "rp29"))
        # Users only on their own node.
        owners = {u: next(i for i, (f, l) in enumerate(self.ranges)
                          if f <= keyslot(self.node(0), u) <= l) for u in users}
        for u in users:
            flat = rc.execute_command("USER.GET", u)
            self.assertEqual(flat[flat.index(b"positives") + 1], 1)
            raw = self.cl.nodes[owners[u]].client()
            self.assertIsNotNone(raw.execute_command("USER.GET", u))
        spread = set(owners.values())
        self.assertGreater(len(spread), 1)
        # FEED through RedisCluster: served by the user's node.
        for u in users[:4]:
            feed = rc.execute_command("FEED", u, "COUNT", "5")
            self.assertEqual(len(feed), 5)
            self.assertNotIn(b"rp1", feed)  # liked: seen
        self.assertEqual(rc.execute_command("USER.DEL", users[0]), 1)
        self.assertEqual(rc.execute_command("USER.DEL", users[0]), 0)
        self.assertEqual(rc.execute_command("POST.DEL", "rp29"), 1)
        self.assertEqual(rc.execute_command("POST.DEL", "rp29"), 0)
        with self.assertRaises(redis.ResponseError) as e:
            rc.execute_command("EVENT", users[1], "nosuch", "LIKE")
        self.assertEqual(str(e.exception), "NOTFOUND post")
        rc.close()

    def like_writers(self, posts_by_node, stop, acked, uncertain):
        """One writer thread per node, each LIKEing its post with users of that node."""
        def run(i):
            users = users_on(self.node(0), self.ranges, i, prefix=f"k{i}_")
            c = self.cl.nodes[i].client(socket_timeout=10)
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    c.execute_command("EVENT", next(users), posts_by_node[i], "LIKE")
                    acked[i] += 1
                except (redis.ConnectionError, redis.TimeoutError):
                    uncertain[i] += 1
                    time.sleep(0.05)
                    c = self.cl.nodes[i].client(socket_timeout=10)
                except redis.ResponseError as e:
                    # TRYAGAIN / CLUSTERDOWN: maybe stored; anything else is a failure.
                    self.assertRegex(str(e), "^(TRYAGAIN|CLUSTERDOWN)")
                    uncertain[i] += 1
        threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        return threads

    def model(self, i):
        return {k: str(v) for k, v in self.node(i).info("model").items()}

    def test_2b_train_through_the_log(self):
        # Each node's users like posts through their own node: every node logs every event,
        # so every node trains on the same events and serves the same post factors.
        c0 = self.node(0)
        posts = [f"tp{i}" for i in range(6)]
        for i, p in enumerate(posts):
            add_post(c0, p, "US", i)
        for n in range(3):
            users = users_on(self.node(n), self.ranges, n, f"t{n}_")
            for k in range(3):
                u = next(users)
                for p in posts[k:k + 3]:
                    self.node(n).execute_command("EVENT", u, p, "LIKE")
        with self.assertRaisesRegex(redis.ResponseError, "^MODEL.LOAD is not available in "
                                    "cluster mode .*use TRAIN"):
            self.node(2).execute_command("MODEL.LOAD", "/tmp/none.bfm")
        summary = self.node(1).execute_command("TRAIN", "WAIT")
        summary = {summary[i].decode(): summary[i + 1] for i in range(0, len(summary), 2)}
        self.assertGreaterEqual(summary["events"], 27)
        self.assertGreaterEqual(summary["posts"], 6)
        self.assertEqual(self.model(1)["training"], "0")
        last = int(self.cl.info(1)["cluster_stream_last_seq"])
        self.cl.wait_applied(last)
        deadline = time.monotonic() + 20
        while any(self.model(i)["training"] != "0" or self.model(i)["loaded"] != "1"
                  for i in range(3)):
            self.assertLess(time.monotonic(), deadline, "a node did not swap in")
            time.sleep(0.05)
        want = self.model(1)
        for i in range(3):
            got = self.model(i)
            for k in ("trained_at", "loss", "iterations", "posts_with_factors", "events_seq"):
                self.assertEqual(got[k], want[k], f"n{i} {k}")
        vectors = []
        for i in range(3):
            flat = self.node(i).execute_command("POST.GET", "tp2", "WITHVECTOR")
            vectors.append({flat[j].decode(): flat[j + 1] for j in range(0, len(flat), 2)}["vector"])
        self.assertNotEqual(vectors[0], b"")
        self.assertEqual(vectors[1], vectors[0])
        self.assertEqual(vectors[2], vectors[0])

    def test_3_sigkill_node_during_writes(self):
        c = self.node(0)
        posts = [f"kp{i}" for i in range(3)]
        for p in posts:
            add_post(c, p)
        stop = threading.Event()
        acked, uncertain = [0, 0, 0], [0, 0, 0]
        threads = self.like_writers(posts, stop, acked, uncertain)
        time.sleep(1.0)
        self.cl.nodes[1].kill()
        time.sleep(1.0)
        self.cl.start_node(1)
        time.sleep(1.0)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        last = int(self.cl.info(0)["cluster_stream_last_seq"])
        self.cl.wait_applied(last)
        self.assertGreater(acked[0], 0)
        self.assertGreater(acked[2], 0)
        for i in range(3):
            n = self.node(i)
            # Written through nodes that stayed up: exactly the acknowledged LIKEs, also on
            # the node that was killed while applying them.
            self.assertEqual(post_counts(n, posts[0])[1], acked[0], f"n{i}")
            self.assertEqual(post_counts(n, posts[2])[1], acked[2], f"n{i}")
            # Through the killed node: every acknowledged one, plus at most those in flight.
            got = post_counts(n, posts[1])[1]
            self.assertGreaterEqual(got, acked[1], f"n{i}")
            self.assertLessEqual(got, acked[1] + uncertain[1], f"n{i}")
        self.assertEqual(uncertain[0] + uncertain[2], 0)

    def test_4_node_from_a_peers_backup(self):
        c0 = self.node(0)
        for i in range(5):
            add_post(c0, f"bp{i}", "CN", i)
        backup = tempfile.mkdtemp(prefix="bf_cl_backup_")
        shutil.rmtree(backup)
        self.assertEqual(c0.execute_command("BACKUP", backup), b"OK")
        applied_at_backup = int(self.cl.info(0)["cluster_applied_seq"])
        # Written after the backup: the new node must catch up on them from the stream.
        for i in range(5, 10):
            add_post(c0, f"bp{i}", "US", i)
        u = user_on(c0, self.ranges, 0, prefix="b")
        for i in range(10):
            c0.execute_command("EVENT", u, f"bp{i}", "LIKE")
        # n2 is replaced by a node built from n0's backup.
        node = self.cl.nodes[2]
        node.stop(signal.SIGTERM, timeout=30)
        shutil.rmtree(node.data_dir)
        shutil.copytree(backup, node.data_dir)
        shutil.rmtree(backup)
        self.cl.start_node(2)
        last = int(self.cl.info(0)["cluster_stream_last_seq"])
        self.assertGreater(last, applied_at_backup)
        self.cl.wait_applied(last)
        info = self.cl.info(2)
        self.assertEqual(int(info["cluster_lag_entries"]), 0)
        for i in range(10):
            want = post_counts(c0, f"bp{i}")
            self.assertEqual(want, (0, 1, 0))
            for j in range(3):
                self.assertEqual(post_counts(self.node(j), f"bp{i}"), want, f"n{j} bp{i}")
        for p in ("rp1", "kp0", "kp2"):
            self.assertEqual(post_counts(self.node(2), p), post_counts(c0, p), p)

    def test_5_nats_server_killed_during_writes(self):
        c = self.node(0)
        add_post(c, "np")
        users = users_on(c, self.ranges, 0, prefix="n")
        acked, errors, gaps, after_kill = 0, 0, [], 0
        last_ok = time.monotonic()
        killed = False
        t0 = time.monotonic()
        # Writes for 2 s, the kill, then until 20 writes went through after it (at most 40 s).
        while after_kill < 20 and time.monotonic() - t0 < 40:
            if not killed and time.monotonic() - t0 > 2:
                self.cl.nats.kill(0)
                killed = True
            try:
                c.execute_command("EVENT", next(users), "np", "LIKE")
                acked += 1
                after_kill += 1 if killed else 0
                now = time.monotonic()
                gaps.append(now - last_ok)
                last_ok = now
            except redis.ResponseError as e:
                self.assertRegex(str(e), "^(TRYAGAIN|CLUSTERDOWN)")
                errors += 1
        # Writes went on, or resumed within seconds (a RAFT election is 4 to 9 s; more on a
        # loaded machine).
        self.assertEqual(after_kill, 20)
        self.assertLess(max(gaps), 20.0)
        last = int(self.cl.info(0)["cluster_stream_last_seq"])
        self.cl.wait_applied(last)
        for j in range(3):
            got = post_counts(self.node(j), "np")[1]
            self.assertGreaterEqual(got, acked)
            self.assertLessEqual(got, acked + errors)

    def test_6_no_quorum_refuses_writes_and_serves_reads(self):
        c = self.node(0)
        u = user_on(c, self.ranges, 0, prefix="q")
        c.execute_command("EVENT", u, "np", "LIKE")
        before = post_counts(c, "np")
        dead = [i for i, p in enumerate(self.cl.nats.procs) if p is None]
        alive = [i for i, p in enumerate(self.cl.nats.procs) if p is not None]
        self.cl.nats.kill(alive[0])  # one of three left: no quorum
        t0 = time.monotonic()
        with self.assertRaises(redis.ResponseError) as e:
            add_post(c, "nq")
        self.assertRegex(str(e.exception), "^(CLUSTERDOWN|TRYAGAIN) ")
        self.assertLess(time.monotonic() - t0, 12)  # ack_timeout_ms is 8000
        # Reads go on from local state.
        self.assertEqual(post_counts(c, "np"), before)
        self.assertEqual(len(c.execute_command("FEED", u, "COUNT", "3", "PEEK")), 3)
        # The log back: writes go on.
        for i in dead + [alive[0]]:
            self.cl.nats.start(i)
        deadline = time.monotonic() + 30
        while True:
            try:
                add_post(c, "nq")
                break
            except redis.ResponseError as e:
                self.assertRegex(str(e), "^(CLUSTERDOWN|TRYAGAIN) ")
                self.assertLess(time.monotonic(), deadline, "writes did not resume")
        self.assertIsNotNone(post_counts(c, "nq"))

    def test_7_undecodable_entry_stops_every_node(self):
        # An entry of a newer version (9), published straight to the stream's subject.
        port = next(p for i, p in enumerate(self.cl.nats.ports) if self.cl.nats.procs[i])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.recv(4096)  # INFO
            s.sendall(b'CONNECT {"verbose":false}\r\nPUB bridgefeed.entries 4\r\n\x09\x01ab\r\n'
                      b"PING\r\n")
            got = b""
            while b"PONG" not in got and b"-ERR" not in got:  # replies may come in pieces
                chunk = s.recv(4096)  # the socket's 5 s timeout bounds each wait
                self.assertTrue(chunk, f"NATS closed the connection after {got!r}")
                got += chunk
            self.assertIn(b"PONG", got)
        for i in range(3):
            # A node whose consumer is re-created after test 5's NATS kill may take a while to
            # reach the entry under load (seen: over 20 s).
            deadline = time.monotonic() + 60
            while int(self.cl.info(i)["cluster_applying"]) != 0:
                self.assertLess(time.monotonic(), deadline, f"n{i} still applying")
                time.sleep(0.1)
            info = self.cl.info(i)
            self.assertIn("unknown version 9 (this build reads versions 2 to 3)", info["cluster_error"])
            self.assertIn("stopped applying the log", self.cl.nodes[i].read_log())
        # Nothing skipped: a write now gets the stop error; reads go on.
        with self.assertRaises(redis.ResponseError) as e:
            add_post(self.node(0), "after")
        self.assertIn("unknown version 9", str(e.exception))
        self.assertIsNone(post_counts(self.node(1), "after"))
        self.assertIsNotNone(post_counts(self.node(1), "np"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
