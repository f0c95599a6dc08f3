"""Test helper: a real redis-server on 127.0.0.1, on a free port, in a temp dir, without persistence (or, persistent,
with every write fsync'd to its append-only file, and restartable with its data after a kill)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

import pytest

REDIS_SERVER = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/sbin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """`with RedisServer() as r: r.url` -> "redis://127.0.0.1:<port>/0"; stopped and removed on exit."""

    def __init__(self, persistent: bool = False):
        if REDIS_SERVER is None:
            raise FileNotFoundError("redis-server not found (Debian: apt-get install redis-server)")
        self.persistent = persistent
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.dir = None
        self.proc = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="redis-test-")
        return self.start()

    def start(self):
        """Start the server (again, after a kill: a persistent one with its data) and wait for its PONG."""
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
             "--save", "", *persistence, "--protected-mode", "yes", "--daemonize", "no",
             "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def __exit__(self, *exc):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)


def redis_server_or_skip(persistent: bool = False) -> RedisServer:
    if REDIS_SERVER is None:
        pytest.skip("redis-server binary not installed (CI installs Debian's redis-server)")
    return RedisServer(persistent)
