"""Cluster mode on loopback: a JetStream cluster of nats-servers and bridgefeed nodes fed by it
(docs/cluster.md), for the cluster integration test, ./bridgefeed cluster and the cluster
benchmark. Builds on harness.py's Process and Server.

Nats: N nats-server processes with JetStream, routed to each other, each with a temp store.
Cluster: a Nats plus M bridgefeed-servers, a cluster file giving each node an equal share of
the 16384 slots. Every wait is bounded; stop() kills what is still running.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness

NATS_SERVER = os.environ.get("BF_NATS_SERVER") or (
    "/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else "nats-server")


def _accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def slot_ranges(n):
    """n nearly equal slot ranges covering 0-16383, as Redis's create --cluster splits them."""
    out, first = [], 0
    for i in range(n):
        last = (16384 * (i + 1)) // n - 1
        out.append((first, last))
        first = last + 1
    return out


class Nats:
    """n nats-servers named bf0.. with JetStream in one cluster, on free loopback ports."""

    def __init__(self, n=3, root=None, ports=None, cluster_ports=None):
        self.own_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="bf_nats_")
        os.makedirs(self.root, exist_ok=True)
        self.ports = ports or [harness.free_port() for _ in range(n)]
        self.cluster_ports = cluster_ports or [harness.free_port() for _ in range(n)]
        self.procs = [None] * n

    @property
    def urls(self):
        return [f"nats://127.0.0.1:{p}" for p in self.ports]

    def start(self, i=None, timeout=10):
        """Starts server i (all when None) and waits until it accepts clients."""
        for j in (range(len(self.ports)) if i is None else [i]):
            routes = ",".join(f"nats://127.0.0.1:{p}"
                              for k, p in enumerate(self.cluster_ports) if k != j)
            d = os.path.join(self.root, f"bf{j}")
            log = open(d + ".log", "ab")
            self.procs[j] = subprocess.Popen(
                [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.ports[j]), "-n", f"bf{j}",
                 "-js", "-sd", d, "--cluster_name", "bfit",
                 "--cluster", f"nats://127.0.0.1:{self.cluster_ports[j]}", "--routes", routes],
                stdout=log, stderr=subprocess.STDOUT)
            log.close()
        deadline = time.monotonic() + timeout
        for j in (range(len(self.ports)) if i is None else [i]):
            while not _accepts(self.ports[j]):
                if self.procs[j].poll() is not None:
                    raise RuntimeError(f"nats-server bf{j} exited; log {self.root}/bf{j}.log")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nats-server bf{j} not up within {timeout} s")
                time.sleep(0.05)
        return self

    def kill(self, i):
        """SIGKILLs server i."""
        p = self.procs[i]
        if p is not None:
            p.kill()
            p.wait(timeout=10)
            self.procs[i] = None

    def stop(self, sig=signal.SIGKILL):
        """Stops every server (sig, then SIGKILL after 10 s); removes a temp root."""
        for p in self.procs:
            if p is not None:
                p.send_signal(sig)
        for i, p in enumerate(self.procs):
            if p is not None:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
                self.procs[i] = None
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)


class Cluster:
    """A Nats of nats_n servers and n bridgefeed nodes n0.. with the slots split evenly.
    extra: server flags for every node (e.g. --index Flat)."""

    def __init__(self, n=3, nats_n=3, dim=4, extra=(), stream="bridgefeed", replicas=3,
                 ack_timeout_ms=5000, nats=None, data_dirs=None, ports=None, log_dir=None):
        self.nats = nats or Nats(nats_n)
        self.dim = dim
        self.nodes = []
        for i in range(n):
            s = harness.Server(*extra, dim=dim, name=f"bridgefeed n{i}",
                               data_dir=data_dirs[i] if data_dirs else None,
                               log_path=os.path.join(log_dir, f"n{i}.log") if log_dir else None)
            if ports:
                s.port = ports[i]
            self.nodes.append(s)
        self.file = os.path.join(self.nats.root, "cluster.toml")
        self.write_file(stream, replicas, ack_timeout_ms)

    def write_file(self, stream="bridgefeed", replicas=3, ack_timeout_ms=5000, nodes=None):
        nodes = nodes if nodes is not None else self.nodes
        lines = ["nats = [" + ", ".join(f'"{u}"' for u in self.nats.urls) + "]",
                 f'stream = "{stream}"', f"replicas = {replicas}",
                 f"ack_timeout_ms = {ack_timeout_ms}", ""]
        for i, (node, (first, last)) in enumerate(zip(nodes, slot_ranges(len(nodes)))):
            lines += ["[[node]]", f'id = "n{i}"', f'addr = "127.0.0.1:{node.port}"',
                      f'slots = "{first}-{last}"', ""]
        with open(self.file, "w") as f:
            f.write("\n".join(lines))

    def start_node(self, i, timeout=60):
        return self.nodes[i].start(["--cluster", self.file, "--node-id", f"n{i}"],
                                   timeout=timeout)

    def start(self):
        self.nats.start()
        for i in range(len(self.nodes)):
            self.start_node(i)
        return self

    def info(self, i):
        """INFO cluster of node i as a dict."""
        return self.nodes[i].client().info("cluster")

    def wait_applied(self, seq, timeout=20, nodes=None):
        """Waits until every running node (or those given) applied the log up to seq."""
        deadline = time.monotonic() + timeout
        for i in (nodes if nodes is not None else range(len(self.nodes))):
            if not self.nodes[i].running:
                continue
            while int(self.info(i)["cluster_applied_seq"]) < seq:
                if time.monotonic() > deadline:
                    raise AssertionError(f"n{i} did not apply up to {seq} within {timeout} s: "
                                         f"{self.info(i)}")
                time.sleep(0.05)

    def stop(self):
        for node in self.nodes:
            if node.running:
                try:
                    node.stop(signal.SIGTERM, timeout=30)
                except RuntimeError:
                    pass
            node.cleanup()
        self.nats.stop()
