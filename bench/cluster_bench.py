#!/usr/bin/python3
"""Cluster mode against a single node, side by side in one run (docs/cluster.md):

  writes  POST.ADD throughput with C concurrent clients: a single node, and a 3-node cluster
          (3 nats-servers, stream R3) with the clients spread over the nodes; ratio
  lag     replication lag under that write load: for writes sent to n0, the time from n0's
          +OK to the post being visible on n2 (POST.GET polled); p50 and p99
  feed    FEED throughput with C clients on one node of the cluster (its own users) against
          the single node, same posts; ratio

Everything on 127.0.0.1; small by default (the machine is shared): --posts posts of --dim
floats, --seconds per measurement. Prints one JSON object and a short table.
`/usr/bin/python3 bench/cluster_bench.py --bin build/release/bin`
"""
import argparse
import json
import os
import random
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))


def vec(rng, dim):
    return ["VECTOR", "VALUES", str(dim), *[f"{rng.uniform(-1, 1):.4f}" for _ in range(dim)]]


def post_add(c, pid, rng, dim):
    c.execute_command("POST.ADD", pid, "AUTHOR", f"a{rng.randrange(200)}", "CULTURE",
                      rng.choice(["US", "CN", "BR", "JP"]), *vec(rng, dim))


def write_load(clients, seconds, dim, prefix):
    """Each client (a redis-py connection) adds posts for `seconds`; returns writes/s."""
    done = [0] * len(clients)
    stop = time.monotonic() + seconds

    def run(i):
        rng = random.Random(i)
        n = 0
        while time.monotonic() < stop:
            post_add(clients[i], f"{prefix}{i}_{n}", rng, dim)
            n += 1
        done[i] = n

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def feed_load(clients, users, seconds):
    """Each client asks FEED PEEK for its users for `seconds`; returns FEEDs/s."""
    done = [0] * len(clients)
    stop = time.monotonic() + seconds

    def run(i):
        n = 0
        while time.monotonic() < stop:
            clients[i].execute_command("FEED", users[(i + n) % len(users)], "COUNT", "20", "PEEK")
            n += 1
        done[i] = n

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - t0)


def lag_probe(writer, reader, seconds, dim, samples):
    """Writes posts on `writer` one at a time and times until `reader` has each."""
    rng = random.Random(99)
    stop = time.monotonic() + seconds
    n = 0
    while time.monotonic() < stop:
        pid = f"lag{n}"
        post_add(writer, pid, rng, dim)
        acked = time.monotonic()
        while reader.execute_command("POST.GET", pid) is None:
            if time.monotonic() - acked > 10:
                raise RuntimeError(f"{pid} not visible on the reader within 10 s")
            time.sleep(0.0002)
        samples.append((time.monotonic() - acked) * 1000)
        n += 1


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--posts", type=int, default=3000, help="posts loaded before FEED")
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=8)
    args = ap.parse_args()
    os.environ["BRIDGEFEED_SERVER"] = os.path.join(args.bin, "bridgefeed-server")
    import harness
    from cluster_harness import Cluster

    out = {"clients": args.clients, "seconds": args.seconds, "dim": args.dim,
           "posts": args.posts, "loadavg_start": os.getloadavg()[0]}
    single = harness.Server(dim=args.dim)
    cl = Cluster(3, dim=args.dim)
    try:
        single.start()
        cl.start()
        nodes = [n.client(socket_timeout=60) for n in cl.nodes]
        # Writes: single node, then the cluster with the clients spread over its nodes.
        out["single_writes_per_s"] = write_load(
            [single.client(socket_timeout=60) for _ in range(args.clients)], args.seconds,
            args.dim, "s")
        out["cluster_writes_per_s"] = write_load(
            [cl.nodes[i % 3].client(socket_timeout=60) for i in range(args.clients)],
            args.seconds, args.dim, "c")
        out["write_ratio"] = out["cluster_writes_per_s"] / out["single_writes_per_s"]
        # Lag: one probe writer on n0, read on n2, while the other clients keep writing.
        samples = []
        load = threading.Thread(target=write_load, args=(
            [cl.nodes[i % 3].client(socket_timeout=60) for i in range(args.clients - 1)],
            args.seconds, args.dim, "l"))
        load.start()
        lag_probe(nodes[0], nodes[2], args.seconds, args.dim, samples)
        load.join()
        out["lag_samples"] = len(samples)
        out["lag_p50_ms"] = statistics.median(samples)
        out["lag_p99_ms"] = pct(samples, 0.99)
        idle = []
        lag_probe(nodes[0], nodes[2], 2, args.dim, idle)
        out["lag_idle_p50_ms"] = statistics.median(idle)
        # FEED: the same posts everywhere (the cluster already has the written ones; top the
        # single node up to the same count), users of n1 on n1 against the same users alone.
        info = nodes[1].info("storage")
        have = single.client().info("storage")["posts"]
        rng = random.Random(5)
        c = single.client()
        for i in range(max(0, info["posts"] - have)):
            post_add(c, f"top{i}", rng, args.dim)
        users = []
        first, last = 5461, 10922
        i = 0
        while len(users) < args.users // 3:
            u = f"fu{i}"
            i += 1
            if first <= nodes[1].execute_command("CLUSTER", "KEYSLOT", u) <= last:
                users.append(u)
        for u in users:
            v = vec(rng, args.dim)
            nodes[1].execute_command("USER.SET", u, "CULTURE", "US", *v)
            c.execute_command("USER.SET", u, "CULTURE", "US", *v)
        out["feed_posts_single"] = single.client().info("storage")["posts"]
        out["feed_posts_node"] = nodes[1].info("storage")["posts"]
        out["single_feeds_per_s"] = feed_load(
            [single.client(socket_timeout=60) for _ in range(args.clients)], users, args.seconds)
        out["node_feeds_per_s"] = feed_load(
            [cl.nodes[1].client(socket_timeout=60) for _ in range(args.clients)], users,
            args.seconds)
        out["feed_ratio"] = out["node_feeds_per_s"] / out["single_feeds_per_s"]
        out["loadavg_end"] = os.getloadavg()[0]
    finally:
        single.stop()
        single.cleanup()
        cl.stop()
    print(json.dumps(out, indent=2))
    print(f"\nwrites/s  single {out['single_writes_per_s']:.0f}  cluster "
          f"{out['cluster_writes_per_s']:.0f}  ratio {out['write_ratio']:.2f}")
    print(f"lag n0->n2 under load  p50 {out['lag_p50_ms']:.1f} ms  p99 {out['lag_p99_ms']:.1f} ms"
          f"  ({out['lag_samples']} samples; idle p50 {out['lag_idle_p50_ms']:.1f} ms)")
    print(f"FEED/s    single {out['single_feeds_per_s']:.0f}  one cluster node "
          f"{out['node_feeds_per_s']:.0f}  ratio {out['feed_ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
