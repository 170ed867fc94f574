"""./bridgefeed cluster: cluster mode on one machine (docs/cluster.md). Starts 3 nats-servers
with JetStream and 3 bridgefeed nodes on loopback, each node on the same imported demo world
(as if restored from one backup taken at stream sequence 0), prints how to use
`redis-cli -c`, and stops everything on Ctrl-C or SIGTERM.

Data (kept between runs, so a second start is quick and resumes the log): DIR/nats/ (the
JetStream stores), DIR/n0..n2/ (the nodes' databases), DIR/*.log.
"""
import argparse
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))


def demo_world(bin_dir, world, data_dirs, posts, users):
    """Generates the demo world once and imports it into every node's empty data dir."""
    if not os.path.exists(os.path.join(world, "posts.jsonl")):
        print(f"generating the demo world ({posts} posts, {users} users) in {world}", flush=True)
        subprocess.run([os.path.join(bin_dir, "bridgefeed-gen"), "--out-dir", world,
                        "--posts", str(posts), "--users", str(users),
                        "--now", str(int(time.time()))], check=True)
    for d in data_dirs:
        if os.path.isdir(os.path.join(d, "db")):
            continue
        print(f"importing the demo world into {d}", flush=True)
        subprocess.run([os.path.join(bin_dir, "bridgefeed-import"), "--data-dir", d,
                        "--posts", f"{world}/posts.jsonl", "--users", f"{world}/users.jsonl",
                        "--events", f"{world}/events.jsonl"], check=True,
                       stdout=subprocess.DEVNULL)


def first_user(world, culture):
    with open(os.path.join(world, "users.jsonl")) as f:
        for line in f:
            if f'"culture":"{culture}"' in line and '"vector"' in line:
                return line.split('"id":"', 1)[1].split('"', 1)[0]
    return "u1"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="folder of bridgefeed-server, -gen, -import")
    ap.add_argument("--dir", required=True, help="data folder (nats stores, node databases)")
    ap.add_argument("--world", required=True, help="demo world folder (JSON Lines)")
    ap.add_argument("--port", type=int, default=7000, help="first node's port (then +1, +2)")
    ap.add_argument("--nats-port", type=int, default=4222,
                    help="first NATS client port (then +1, +2; routes at +2000)")
    ap.add_argument("--posts", type=int, default=50000)
    ap.add_argument("--users", type=int, default=5000)
    args = ap.parse_args()

    os.environ["BRIDGEFEED_SERVER"] = os.path.join(args.bin, "bridgefeed-server")
    from cluster_harness import Cluster, Nats  # reads BRIDGEFEED_SERVER
    os.makedirs(args.dir, exist_ok=True)
    data_dirs = [os.path.join(args.dir, f"n{i}") for i in range(3)]
    demo_world(args.bin, args.world, data_dirs, args.posts, args.users)

    nats_ports = [args.nats_port + i for i in range(3)]
    nats = Nats(3, root=os.path.join(args.dir, "nats"), ports=nats_ports,
                cluster_ports=[p + 2000 for p in nats_ports])
    ports = [args.port + i for i in range(3)]
    cl = Cluster(3, dim=64, nats=nats, data_dirs=data_dirs, ports=ports, log_dir=args.dir)
    for node in cl.nodes:
        node.own_dir = False
        node.own_log = False
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        print(f"starting nats-servers on {', '.join(map(str, nats_ports))} and bridgefeed "
              f"nodes on {', '.join(map(str, ports))} (logs in {args.dir})", flush=True)
        cl.start()
        us, cn = first_user(args.world, "US"), first_user(args.world, "CN")
        p = ports[0]
        print(f"""
bridgefeed cluster is up: 3 nodes, users split by Redis Cluster slots, posts on every node.
Any node will do; -c follows -MOVED to the user's node:
  redis-cli -c -p {p} CLUSTER SLOTS
  redis-cli -c -p {p} FEED {us} COUNT 10 EXPLAIN
  redis-cli -c -p {p} FEED {cn} COUNT 10
  redis-cli -c -p {p} POST.ADD mypost AUTHOR me CULTURE US VECTOR VALUES 64 $(seq -s ' ' 64)
  redis-cli -c -p {p + 1} EVENT {us} mypost LIKE
  redis-cli -p {p + 2} POST.GET mypost          # the LIKE is counted on every node
  redis-cli -p {p} INFO cluster                 # applied sequence, stream sequence, lag
In Python: redis.cluster.RedisCluster(host="127.0.0.1", port={p}).
Stop with Ctrl-C (or kill {os.getpid()}); data stays in {args.dir} for the next start.
""", flush=True)
        while not stop.wait(1.0):
            for i, node in enumerate(cl.nodes):
                if node.proc is not None and node.proc.poll() is not None:
                    print(f"node n{i} exited with {node.proc.returncode}; log "
                          f"{node.log_path}", flush=True)
                    node._reap()
    finally:
        print("stopping the nodes and the nats-servers", flush=True)
        for node in cl.nodes:
            if node.running:
                try:
                    node.stop(signal.SIGTERM, timeout=60)
                except RuntimeError as e:
                    print(e, flush=True)
        nats.stop(signal.SIGTERM)
    return 0


if __name__ == "__main__":
    sys.exit(main())
