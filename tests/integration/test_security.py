"""Security defaults and backups, against the real server on loopback:
protected mode (a public bind without a password is refused before anything
listens), passwords never logged, a private data dir, and BACKUP taken while a
writer pipelines posts, served by a second server."""
import copy
import os
import random
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crash"))

import redis  # noqa: E402

from harness import SERVER, Server, free_port  # noqa: E402
from crash_model import DIM, Model, Writer, pairs  # noqa: E402


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class ProtectedModeTest(unittest.TestCase):
    def run_server(self, *args):
        data = tempfile.mkdtemp(prefix="bf_sec_")
        shutil.rmtree(data)
        cmd = [SERVER, "--port", str(free_port()), "--data-dir", data, "--dim", "4", *args]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return out, os.path.exists(data)
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def test_public_bind_without_password_is_refused(self):
        for bind in ("0.0.0.0", "::", "192.0.2.1"):
            out, touched = self.run_server("--bind", bind)
            self.assertEqual(out.returncode, 2, out.stderr)
            self.assertIn(f"refusing to listen on {bind}: it is not a loopback address and no "
                          "password is set", out.stderr)
            self.assertIn("--protected-mode no", out.stderr)
            # Refused before the data dir was opened, so before anything listened.
            self.assertFalse(touched)

    def test_other_loopback_addresses_need_no_password(self):
        server = Server(bind="127.0.0.2")
        try:
            server.start()
            self.assertTrue(server.client().ping())
            self.assertIn("on 127.0.0.2:", server.read_log())
        finally:
            self.assertEqual(server.stop(), 0)
            server.cleanup()


class SecretsTest(unittest.TestCase):
    def test_password_never_logged_even_at_trace(self):
        password = "pw-" + secrets.token_hex(8)
        env = dict(os.environ, SPDLOG_LEVEL="trace")
        # Every command is "slow" (slowlog 0), so every one is logged.
        server = Server("--requirepass", password, "--log-level", "trace", "--slowlog-log-slower-than", "0")
        try:
            server.start(env=env)
            r = server.client(password=password)
            self.assertTrue(r.ping())
            self.assertEqual(r.execute_command("ECHO", password), password.encode())
            self.assertEqual(r.execute_command("CONFIG", "GET", "requirepass"), [])
            self.assertNotIn(password.encode(), r.execute_command("CONFIG", "GET", "*"))
            self.assertNotIn(password, str(r.execute_command("INFO", "all")))
            bad = server.client()
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)):
                bad.execute_command("AUTH", password + "x")
            with self.assertRaises((redis.AuthenticationError, redis.ResponseError)):
                bad.execute_command("AUTH", "default", password[:-1])
            conn = bad.connection_pool.get_connection("_")
            conn.send_command("HELLO", "2", "AUTH", "default", password)
            self.assertIsInstance(conn.read_response(), list)
            bad.connection_pool.release(conn)
            # A protocol error right after the password.
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
                s.sendall(b"AUTH " + password.encode() + b" \"unbalanced\r\n")
                self.assertTrue(s.recv(256).startswith(b"-ERR Protocol error"))
            self.assertEqual(server.stop(), 0)
            log = server.read_log()
            self.assertIn("slow command ", log)      # commands were logged...
            self.assertNotIn(password, log)          # ...never their arguments
            self.assertNotIn(password[3:], log)
        finally:
            server.stop()
            server.cleanup()

    def test_data_dir_is_private(self):
        parent = tempfile.mkdtemp(prefix="bf_sec_")
        try:
            fresh = os.path.join(parent, "a", "data")
            server = Server(data_dir=fresh)
            try:
                server.start()
                self.assertEqual(mode(fresh), 0o700)
                backup = os.path.join(parent, "backup")
                self.assertEqual(server.client().execute_command("BACKUP", backup), b"OK")
                self.assertEqual(mode(backup), 0o700)
                self.assertEqual(server.stop(), 0)
            finally:
                server.cleanup()
            # An existing dir open to everyone is made private at start.
            loose = os.path.join(parent, "loose")
            os.mkdir(loose)
            os.chmod(loose, 0o777)
            server = Server(data_dir=loose)
            try:
                server.start()
                self.assertEqual(mode(loose), 0o700)
                self.assertEqual(server.stop(), 0)
            finally:
                server.cleanup()
        finally:
            shutil.rmtree(parent, ignore_errors=True)


class BackupTest(unittest.TestCase):
    def test_backup_while_a_writer_pipelines(self):
        seed = int(os.environ.get("BF_CRASH_SEED", str(int(time.time()))))
        print(f"\n  BF_CRASH_SEED={seed}", flush=True)
        rnd = random.Random(seed)
        primary = Server(dim=DIM)
        backup_dir = tempfile.mkdtemp(prefix="bf_backup_")
        replica = Server(data_dir=backup_dir, dim=DIM)
        try:
            primary.start()
            model = Model(rnd)
            ops = model.setup_ops()
            Writer(model, primary.port, rnd).run(
                lambda n, b: [ops.pop(0) for _ in range(min(n, len(ops)))])
            lock = threading.Lock()
            writer = Writer(model, primary.port, rnd, lock=lock)
            stop = threading.Event()
            result = {}

            def ops_source(n, believed):
                # random_op updates the model's version table: under the lock the copy takes.
                with lock:
                    return [] if stop.is_set() else [model.random_op(believed) for _ in range(n)]

            thread = threading.Thread(
                target=lambda: result.update(out=writer.run(ops_source)), daemon=True)
            thread.start()
            time.sleep(1.0)
            # What was acknowledged before BACKUP is sent must be in it; what
            # was sent after that point may or may not be.
            with lock:
                before = copy.deepcopy(model)
                acked_before = writer.acked
            r = primary.client()
            self.assertEqual(r.execute_command("BACKUP", backup_dir), b"OK")
            time.sleep(0.3)  # the writer keeps going after the backup
            stop.set()
            thread.join(timeout=60)
            self.assertEqual(result["out"][1], False)
            before.in_flight = list(writer.sent[acked_before:])
            self.assertGreater(acked_before, 200)
            self.assertGreater(writer.acked, acked_before)
            print(f"  {acked_before} writes acknowledged before BACKUP, "
                  f"{writer.acked - acked_before} during and after", flush=True)

            replica.start()
            self.assertIn("index: loaded snapshot", replica.read_log())
            live, deleted, _ = before.verify(replica.client(), self.check)
            self.assertGreater(live, 100)
            self.assertEqual(mode(backup_dir), 0o700)
            # The primary is unaffected and holds everything.
            model.verify(primary.client(), self.check)
        finally:
            primary.stop()
            replica.stop()
            primary.cleanup()
            replica.cleanup()
            shutil.rmtree(backup_dir, ignore_errors=True)

    def check(self, cond, msg):
        self.assertTrue(cond, msg)

    def test_backup_target_must_be_new_or_empty(self):
        server = Server()
        target = tempfile.mkdtemp(prefix="bf_backup_")
        try:
            server.start()
            with open(os.path.join(target, "x"), "w") as f:
                f.write("x")
            with self.assertRaises(redis.ResponseError) as ctx:
                server.client().execute_command("BACKUP", target)
            self.assertEqual(str(ctx.exception), "backup directory must be new or empty")
        finally:
            server.stop()
            server.cleanup()
            shutil.rmtree(target, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
