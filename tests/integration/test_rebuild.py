"""bridgefeed-rebuild against a database a real server is running on, then
INDEX.LOAD; and the tool's bad-input errors."""
import os
import struct
import subprocess
import tempfile
import unittest

import redis

from harness import Server

REBUILD = os.environ.get("BRIDGEFEED_REBUILD", "bridgefeed-rebuild")


def fp32(*xs):
    return struct.pack("<%df" % len(xs), *xs)


def pairs(flat):
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


def rebuild(*args):
    return subprocess.run([REBUILD, *args], capture_output=True, text=True, timeout=120)


class RebuildTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bf_rebuild_")

    def test_rebuild_while_serving_then_load(self):
        server = Server().start()
        try:
            r = server.client()
            for i in range(300):
                r.execute_command("POST.ADD", f"p{i}", "AUTHOR", f"a{i % 30}", "CULTURE",
                                  ("CN", "US")[i % 2], "VECTOR", "FP32", fp32(1, i % 7, i % 5, 1))
            out = os.path.join(self.tmp, "ivf.idx")
            res = rebuild("--data-dir", server.data_dir, "--out", out, "--index", "IVF4,Flat",
                          "--sample", "50", "--k", "10")
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertIn("IVF4,Flat, 300 posts, dim 4", res.stdout)
            self.assertIn("recall:", res.stdout)
            # Written after the tool read the store: INDEX.LOAD catches up.
            r.execute_command("POST.ADD", "late", "AUTHOR", "x", "CULTURE", "BR",
                              "VECTOR", "FP32", fp32(0, 0, 0, 1))
            r.execute_command("POST.DEL", "p0")
            self.assertEqual(r.execute_command("INDEX.LOAD", out), b"OK")
            info = pairs(r.execute_command("INDEX.INFO"))
            self.assertEqual(info["type"], b"IVF4,Flat")
            self.assertEqual(info["live"], 300)
            self.assertGreater(info["last_rebuild"], 0)
            sim = r.execute_command("SIMILAR", "p7", "COUNT", "300")
            self.assertNotIn(b"p0", sim)
            self.assertIn(b"late", sim)
            # A file made for another database is refused, and nothing changes.
            other = Server().start()
            try:
                other.client().execute_command("POST.ADD", "o", "AUTHOR", "a", "CULTURE", "US",
                                                "VECTOR", "FP32", fp32(1, 0, 0, 0))
                foreign = os.path.join(self.tmp, "foreign.idx")
                self.assertEqual(rebuild("--data-dir", other.data_dir, "--out", foreign,
                                         "--sample", "0").returncode, 0)
                with self.assertRaises(redis.ResponseError):
                    r.execute_command("INDEX.LOAD", foreign)
                self.assertEqual(pairs(r.execute_command("INDEX.INFO"))["type"], b"IVF4,Flat")
            finally:
                other.stop()
                other.cleanup()
        finally:
            self.assertEqual(server.stop(), 0)
            server.cleanup()

    def test_bad_input(self):
        missing = rebuild("--data-dir", os.path.join(self.tmp, "nope"), "--out",
                          os.path.join(self.tmp, "x.idx"))
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no database in", missing.stderr)

        server = Server().start()
        try:
            empty = rebuild("--data-dir", server.data_dir, "--out", os.path.join(self.tmp, "e.idx"))
            self.assertEqual(empty.returncode, 1)
            self.assertIn("has no posts", empty.stderr)
            server.client().execute_command("POST.ADD", "p", "AUTHOR", "a", "CULTURE", "US",
                                            "VECTOR", "FP32", fp32(1, 0, 0, 0))
            wrong_dim = rebuild("--data-dir", server.data_dir, "--out",
                                os.path.join(self.tmp, "d.idx"), "--dim", "64")
            self.assertEqual(wrong_dim.returncode, 1)
            self.assertIn("has dimension 4, not 64 (--dim)", wrong_dim.stderr)
            unwritable = rebuild("--data-dir", server.data_dir, "--out", "/proc/nope/x.idx")
            self.assertEqual(unwritable.returncode, 1)
            self.assertIn("no folder", unwritable.stderr)
            bad_spec = rebuild("--data-dir", server.data_dir, "--out",
                               os.path.join(self.tmp, "b.idx"), "--index", "Bogus99")
            self.assertEqual(bad_spec.returncode, 1)
            self.assertIn("invalid index spec", bad_spec.stderr)
            # A good file is never replaced by a half-written one.
            good = os.path.join(self.tmp, "good.idx")
            self.assertEqual(rebuild("--data-dir", server.data_dir, "--out", good,
                                     "--sample", "0").returncode, 0)
            before = open(good, "rb").read()
            rebuild("--data-dir", server.data_dir, "--out", good, "--index", "IVF999,Flat")
            self.assertEqual(open(good, "rb").read(), before)
            self.assertEqual(sorted(os.listdir(self.tmp)), ["good.idx"])
        finally:
            server.stop()
            server.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
