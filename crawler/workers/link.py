"""A helper process of the crawl spoken to over a socket pair from the event loop, without threads.

The extraction workers (crawler/workers/extraction.py) and the WARC writer process
(crawler/workers/warcwriter.py) both need the same link: a child `python -m <module> --fd N`, started
with the crawl's interpreter and import path in a session of its own (Ctrl-C at the terminal
reaches the crawl, not it), its end of a socket pair passed as fd N; messages are
length-prefixed pickles, read and written by event-loop callbacks on the crawl's side (no
helper thread competes with the reactor for the GIL) and by blocking calls in the child.

Why not multiprocessing: its start methods either fork a process that has threads and an event
loop, or import the parent's `__main__` again in the child, which re-runs any user script that
starts a crawl without an `if __name__ == "__main__"` guard. POSIX and the asyncio reactor only;
callers fall back to doing the work in the crawl process elsewhere (`usable()`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import time

HEADER = struct.Struct("!I")  # length of the pickle that follows
PROTOCOL = pickle.HIGHEST_PROTOCOL


def usable() -> bool:
    """Helper processes can be driven here: POSIX, and Scrapy runs on the asyncio reactor (or no
    Twisted reactor is installed: plain asyncio)."""
    if os.name != "posix":
        return False
    if "twisted.internet.reactor" not in sys.modules:
        return True
    from scrapy.utils.reactor import is_asyncio_reactor_installed

    return is_asyncio_reactor_installed()


def spare_cpus() -> int:
    """CPUs this process may run on, minus the one the reactor uses."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(cpus - 1, 0)


def helper_setting(settings, name: str, get, default):
    """A helper-process setting (EXTRACT_WORKERS, WARC_WRITER_PROCESS): its value read with `get`
    (settings.getint, settings.getbool), or `default()` when unset (None decides from the CPUs)."""
    return default() if settings.get(name) in (None, "", "None") else get(name)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def frame(obj) -> bytes:
    payload = pickle.dumps(obj, PROTOCOL)
    return HEADER.pack(len(payload)) + payload


# --- the child's side -----------------------------------------------------------------------------
def child_main(serve, description: str, argv=None) -> int:
    """The `python -m <module> --fd N` entry point of a helper process: serve the socket passed as fd N."""
    ap = argparse.ArgumentParser(description=f"{description} (started by the crawl, not by hand).")
    ap.add_argument("--fd", type=int, required=True)
    args = ap.parse_args(argv)
    serve(ChildEnd(args.fd))
    return 0


class ChildEnd:
    """The child's end of the link: blocking recv()/send() of whole messages."""

    def __init__(self, fd: int):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
        self.sock = socket.socket(fileno=fd)
        self.stream = self.sock.makefile("rwb")

    def recv(self):
        """The next message; None once the crawl closed its end (or died)."""
        header = self.stream.read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        return pickle.loads(self.stream.read(HEADER.unpack(header)[0]))

    def send(self, obj) -> None:
        self.stream.write(frame(obj))
        self.stream.flush()


# --- the crawl's side -----------------------------------------------------------------------------
class ChildProcess:
    """One child process and its socket, read and written by event-loop callbacks.

    `on_message(obj)` is called for each message the child sends, `on_eof()` once when the link
    breaks (the child exited or closed it) unless close() was called first."""

    def __init__(self, loop: asyncio.AbstractEventLoop, module: str, on_message, on_eof, *,
                 pass_fds: tuple[int, ...] = ()):
        self.loop = loop
        self.on_message = on_message
        self.on_eof = on_eof
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, "--fd", str(theirs.fileno())],
                pass_fds=[theirs.fileno(), *pass_fds], env=env, stdin=subprocess.DEVNULL,
                start_new_session=True)
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.fd = ours.fileno()
        self.alive = True
        self._out = bytearray()
        self._in = bytearray()
        loop.add_reader(self.fd, self._readable)

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, obj) -> bool:
        """Queue one message; False when the link is already broken."""
        if not self.alive:
            return False
        data = frame(obj)
        if self._out:
            self._out += data
            return True
        try:
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._broken()
            return False
        if sent < len(data):
            self._out += data[sent:]
            self.loop.add_writer(self.fd, self._writable)
        return True

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._broken()
            return
        del self._out[:sent]
        if not self._out:
            self.loop.remove_writer(self.fd)

    def _readable(self) -> None:
        try:
            chunk = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self._broken()
            return
        self._dispatch(chunk)

    def _dispatch(self, chunk: bytes) -> None:
        buf = self._in
        buf += chunk
        size = HEADER.size
        while len(buf) >= size:
            (length,) = HEADER.unpack_from(buf)
            if len(buf) < size + length:
                break
            message = pickle.loads(bytes(buf[size:size + length]))
            del buf[:size + length]
            self.on_message(message)

    def wait_for(self, done, timeout: float) -> bool:
        """Block (outside the loop's callbacks) until done() is true, sending what is queued and
        dispatching what arrives; False on timeout or when the link broke first."""
        deadline = time.monotonic() + timeout
        while not done():
            if not self.alive:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                if self._out:
                    self.sock.settimeout(left)
                    self.sock.sendall(bytes(self._out))
                    self._out.clear()
                    self.loop.remove_writer(self.fd)
                self.sock.settimeout(left)
                chunk = self.sock.recv(1 << 20)
            except (TimeoutError, socket.timeout):
                return False
            except OSError:
                chunk = b""
            finally:
                if self.alive:
                    self.sock.setblocking(False)
            if not chunk:
                self._broken()
                return False
            self._dispatch(chunk)
        return True

    def _broken(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self._detach()
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:  # its socket broke but it lives on: it has to go
            self.process.kill()
            self.process.wait()
        self.on_eof()

    def _detach(self) -> None:
        for remove in (self.loop.remove_reader, self.loop.remove_writer):
            try:
                remove(self.fd)
            except (ValueError, OSError, RuntimeError):
                pass
        self.sock.close()

    def close(self, timeout: float = 5.0) -> float:
        """Stop the child (EOF on its socket) and wait for it; its CPU seconds, read before it exits."""
        cpu = cpu_seconds(self.process.pid)
        if self.alive:
            self.alive = False
            self._detach()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout)
        return cpu
