#!/usr/bin/env python3
"""bridgefeed-eval end to end on a small generated world: the table, the JSON, and the
learned model beating most-popular; bad input gets a clear error and exit status 1 or 2."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

GEN = os.environ["BRIDGEFEED_GEN"]
EVAL = os.environ["BRIDGEFEED_EVAL"]


class EvalCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bf-eval-cli-")
        cls.world = os.path.join(cls.tmp.name, "world")
        subprocess.run([GEN, "--out-dir", cls.world, "--posts", "3000", "--users", "400",
                        "--dim", "16", "--quiet"], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_eval(self, *args):
        return subprocess.run([EVAL, "--quiet", "--threads", "2", *args], capture_output=True,
                              text=True, timeout=120)

    def test_demo_world_table_and_json(self):
        out = os.path.join(self.tmp.name, "demo.json")
        w = self.world
        r = self.run_eval("--events", f"{w}/events.jsonl", "--posts", f"{w}/posts.jsonl",
                          "--users", f"{w}/users.jsonl", "--no-tune", "--json", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("held-out    als+prior (ip)", r.stdout)
        self.assertIn("most-popular", r.stdout)
        with open(out) as f:
            j = json.load(f)
        self.assertEqual(j["users"], 400)
        self.assertEqual(j["k"], 20)
        self.assertEqual(j["chosen"]["dim"], 16)  # factors take the given vectors' dimension
        self.assertTrue(j["chosen"]["priors"])
        self.assertEqual(j["trials"], [])  # --no-tune
        held = {x["method"]: x for x in j["results"] if x["part"] == "held-out"}
        self.assertEqual(set(held), {"als+prior (ip)", "als+prior (cosine)", "most-popular",
                                     "als, no prior (ip)", "exact-given-vectors"})
        self.assertGreater(held["als+prior (ip)"]["recall"], held["most-popular"]["recall"])
        for m in held.values():
            self.assertGreaterEqual(m["cross"], 0.0)  # cultures exist in the demo world
            self.assertLessEqual(m["recall"], 1.0)

    def test_bad_input(self):
        r = self.run_eval("--events", os.path.join(self.tmp.name, "none.jsonl"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bridgefeed-eval: cannot open", r.stderr)
        bad = os.path.join(self.tmp.name, "bad.jsonl")
        with open(bad, "w") as f:
            f.write('{"user":"u","post":"p","type":"LIKE","ts":1}\n{"user":"u","post":"p"}\n')
        r = self.run_eval("--events", bad)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f'{bad}:2: missing field "type"', r.stderr)
        r = self.run_eval()
        self.assertEqual(r.returncode, 2)
        self.assertIn("give exactly one of --movielens and --events", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
