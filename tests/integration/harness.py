"""Starts and stops a real bridgefeed-server for the integration tests.

Loopback only (127.0.0.1), an ephemeral port, a temporary data dir, and a
bounded wait for every start and stop.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import redis

SERVER = os.environ.get("BRIDGEFEED_SERVER", "bridgefeed-server")
START_TIMEOUT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process; start() may be called again after stop()."""

    def __init__(self, *args, data_dir=None, dim=4, bind="127.0.0.1"):
        self.args = list(args)
        self.bind = bind  # a loopback address: tests never listen publicly
        self.dim = dim
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="bf_it_")
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(tempfile.gettempdir(), f"bf_it_{self.port}.log")

    def start(self, extra=(), preexec_fn=None, env=None):
        """preexec_fn runs in the child before exec (e.g. to set rlimits);
        env replaces the environment."""
        self.log = open(self.log_path, "ab")
        cmd = [SERVER, "--bind", self.bind, "--port", str(self.port),
               "--data-dir", self.data_dir, "--dim", str(self.dim),
               "--threads", "2", *self.args, *extra]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn, env=env)
        deadline = time.time() + START_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.read_log()}")
            try:
                with socket.create_connection((self.bind, self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("server did not start in time: " + self.read_log())

    @property
    def pid(self):
        return self.proc.pid

    def rss_kb(self):
        """Resident set size of the server process (VmRSS, kB)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def kill(self):
        """SIGKILL: no shutdown path runs (no final snapshot, no WAL sync)."""
        return self.stop(signal.SIGKILL)

    def client(self, **kw):
        return redis.Redis(host=self.bind, port=self.port, socket_timeout=30, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        self.log.close()
        return code

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self):
        if self.proc is not None:
            self.stop(signal.SIGKILL)
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
