"""The load generator (redis-benchmark) and the bare search (annbench), run to completion and
their output parsed."""
import csv
import io
import json
import os

from common import FEED_COUNT, run


def redis_benchmark(port, clients, n, extra):
    """Runs redis-benchmark --csv; returns {test: {rps, avg_ms, p50_ms, p95_ms, p99_ms,
    max_ms}}."""
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


def feed_cmd(users):
    """FEED of a random one of `users` users (their ids as common.user_id makes them)."""
    return ["-r", str(users), "FEED", "u:__rand_int__", "COUNT", str(FEED_COUNT), "PEEK"]


def feed_run(port, clients, users, seconds, est_rps):
    """FEED with `clients` clients for about `seconds` at the estimated rate; one row."""
    n = max(clients * 20, int(seconds * est_rps))
    rows = redis_benchmark(port, clients, n, feed_cmd(users))
    return dict(next(iter(rows.values())), clients=clients, requests=n)


def annbench(args, build, mode, **kw):
    """Runs annbench_<build> MODE --key value...; returns its JSON lines."""
    cmd = [os.path.join(args.bin, f"annbench_{build}"), mode]
    for k, v in kw.items():
        cmd += [f"--{k}", str(v)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = run(cmd, env=env, timeout=3600)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def available_builds(args):
    """The Faiss builds with an annbench in args.bin (package, avx2)."""
    return [b for b in ("package", "avx2") if os.path.exists(os.path.join(args.bin, f"annbench_{b}"))]
