"""The servers a benchmark run starts: bridgefeed-server and redis-server on 127.0.0.1, through
the harness the integration tests use (tests/integration/harness.py). Every server started here
is remembered and stop_all() stops what is still running."""
import os
import re
import sys

from common import DIM, ROOT, log

sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

RUNNING = []  # every server started, stopped by stop_all() on the way out


def start_bridgefeed(args, data_dir, name, extra=(), dim=DIM, timeout=300, index=None):
    """A bridgefeed-server from args.bin on data_dir, with the run's index spec (or `index`),
    no periodic snapshots and the server's default thread count; its log is args.logs/NAME.log.
    Returns the started harness.Server (ready_s: seconds to the first reply)."""
    s = harness.Server("--index", index or args.index, "--snapshot-interval-s", "0", *extra,
                       data_dir=data_dir, dim=dim, name=name, threads=None,
                       log_path=os.path.join(args.logs, f"{name}.log"),
                       server=os.path.join(args.bin, "bridgefeed-server"))
    RUNNING.append(s)
    return s.start(timeout=timeout)


def start_redis(args):
    """redis-server without persistence, protected mode on."""
    port = harness.free_port()
    s = harness.Process("redis-server", port, os.path.join(args.logs, "redis-server.log"))
    RUNNING.append(s)
    return s.launch(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                     "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
                    timeout=30)


def stop(server, timeout=120):
    """SIGTERM and a bounded wait (harness: SIGKILL and RuntimeError past it); raises unless it
    exits 0. Returns the seconds the stop took (0 when it was not running)."""
    if not server.running:
        return 0.0
    code = server.stop(timeout=timeout)
    if code != 0:
        raise RuntimeError(f"{server.name} exited {code} on SIGTERM; log {server.log_path}")
    return server.stop_s


def stop_all():
    for s in RUNNING:
        if s.running:
            try:
                stop(s, 30)
            except Exception as e:  # noqa: BLE001 - best effort on the way out
                log(f"stopping {s.name}: {e}")
    RUNNING.clear()


def info(server, section="all"):
    """INFO of a server as a dict (redis-py's parsing: numbers as int or float)."""
    return server.client().info(section)


def index_build_seconds(server):
    """Seconds the server logged for building its index from the store, None if it did not."""
    m = re.search(r"index: built \S+ in ([0-9.]+) s", server.read_log())
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
        build_s = index_build_seconds(b)
        b.client(socket_timeout=600).save()
        stop(b, timeout=600)
    return start_bridgefeed(args, data, name, dim=dim, timeout=timeout), build_s
