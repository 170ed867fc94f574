"""Starts and stops real servers on loopback: the one harness of the integration and crash
tests and of the end-to-end benchmark (bench/servers.py).

Process: any RESP server child (bridgefeed-server, redis-server) with its log in a file.
Server: a bridgefeed-server with a data dir (a temporary one unless given).

Loopback only (127.0.0.1 unless another loopback address is given), a free port, and a
bounded wait for every start and stop. Not thread-safe: one thread drives each object.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest

import redis

SERVER = os.environ.get("BRIDGEFEED_SERVER", "bridgefeed-server")
START_TIMEOUT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """A server child listening on bind:port. launch() may be called again after stop();
    the log file is emptied when the object is made and appended to by every launch."""

    def __init__(self, name, port, log_path, bind="127.0.0.1"):
        self.name = name
        self.bind = bind  # a loopback address: tests and benchmarks never listen publicly
        self.port = port
        self.log_path = log_path
        self.proc = None
        self.ready_s = None  # seconds from the last launch to the first reply
        self.stop_s = None  # seconds the last stop took
        open(self.log_path, "wb").close()

    def launch(self, cmd, timeout=START_TIMEOUT_S, preexec_fn=None, env=None):
        """Starts cmd and waits until the server answers PING (any reply counts, NOAUTH too).
        Raises RuntimeError with the log when it exits first or is not up within timeout
        seconds (the child is killed then). preexec_fn runs in the child before exec (e.g. to
        set rlimits); env replaces the environment. Returns self."""
        self.log = open(self.log_path, "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn, env=env)
        while time.monotonic() < t0 + timeout:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self._reap()
                raise RuntimeError(f"{self.name} exited with {code} (log {self.log_path}):\n"
                                   f"{self.read_log()[-3000:]}")
            if self._answers():
                self.ready_s = time.monotonic() - t0
                return self
            time.sleep(0.05)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"{self.name} did not start in {timeout} s (log {self.log_path}):\n"
                           f"{self.read_log()[-3000:]}")

    def _answers(self):
        c = redis.Redis(host=self.bind, port=self.port, socket_timeout=2,
                        socket_connect_timeout=1, retry_on_timeout=False)
        try:
            c.ping()
            return True
        except (redis.AuthenticationError, redis.ResponseError):
            return True  # it parsed PING and replied: it is serving
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        finally:
            c.close()

    @property
    def pid(self):
        return self.proc.pid

    @property
    def running(self):
        return self.proc is not None

    def client(self, **kw):
        """A redis-py client of this server; socket_timeout 30 s unless given."""
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.bind, port=self.port, **kw)

    def _status(self, key):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {key} for {self.name}")

    def rss_kb(self):
        """Resident set size of the process (VmRSS, kB)."""
        return self._status("VmRSS")

    def peak_rss_kb(self):
        """Peak resident set size of the process (VmHWM, kB)."""
        return self._status("VmHWM")

    def cpu_seconds(self):
        """User plus system CPU time of the process so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends sig and waits for the exit. Returns the exit code (negative: the signal that
        ended it), None when not running. Past timeout seconds it kills the process and raises
        RuntimeError. stop_s holds the seconds the stop took."""
        if self.proc is None:
            return None
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._reap()
            raise RuntimeError(f"{self.name} did not stop within {timeout} s of signal {sig}")
        self.stop_s = time.monotonic() - t0
        self._reap()
        return code

    def kill(self):
        """SIGKILL: no shutdown path runs (no final snapshot, no WAL sync)."""
        return self.stop(signal.SIGKILL)

    def _reap(self):
        self.proc = None
        self.log.close()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Server(Process):
    """A bridgefeed-server. args are extra server flags for every start; threads None leaves
    --threads to the server's default; server is the binary (default $BRIDGEFEED_SERVER)."""

    def __init__(self, *args, data_dir=None, dim=4, bind="127.0.0.1", name="bridgefeed-server",
                 log_path=None, threads=2, server=SERVER):
        port = free_port()
        super().__init__(name, port,
                         log_path or os.path.join(tempfile.gettempdir(), f"bf_it_{port}.log"), bind)
        self.args = list(args)
        self.dim = dim
        self.threads = threads
        self.server = server
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="bf_it_")
        self.own_log = log_path is None

    def start(self, extra=(), preexec_fn=None, env=None, timeout=START_TIMEOUT_S):
        """Starts the server with extra flags for this start; see Process.launch."""
        threads = [] if self.threads is None else ["--threads", str(self.threads)]
        dim = [] if self.dim is None else ["--dim", str(self.dim)]  # None: the server decides
        cmd = [self.server, "--bind", self.bind, "--port", str(self.port),
               "--data-dir", self.data_dir, *dim, *threads, *self.args, *extra]
        return self.launch(cmd, timeout=timeout, preexec_fn=preexec_fn, env=env)

    def cleanup(self):
        """Kills a running server; removes the data dir and log this object made."""
        if self.proc is not None:
            self.stop(signal.SIGKILL)
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.own_log:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass


def fp32(*xs):
    """The FP32 wire form of a vector."""
    return struct.pack("<%df" % len(xs), *xs)


def pairs(flat):
    """A flat field/value reply as a dict with str keys."""
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


class ServerCase(unittest.TestCase):
    """One server for the test class, a redis-py client to it (cls.r), and cmd()."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.r = cls.server.client()

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.cleanup()
        assert code == 0, f"server exited with {code}"

    def cmd(self, *args):
        """The reply as the server sent it (redis-py's per-command reply
        callbacks, e.g. PING -> True, are bypassed)."""
        conn = self.r.connection_pool.get_connection("_")
        try:
            conn.send_command(*args)
            return conn.read_response()
        finally:
            self.r.connection_pool.release(conn)
