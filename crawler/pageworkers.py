"""Extraction and cleaning of article pages in worker processes beside the reactor (EXTRACT_WORKERS).

Scrapy runs spiders, middlewares and pipelines in one thread; a CPU-bound crawl is bound by
that one core. Extracting and cleaning an article page is the largest piece of our own
per-page work, and it needs nothing but the page: `await PageWorkers.run(html, url)` sends the
page to a worker process and resolves to what `work(html, url)` returns there (the raw parts of
crawler.extraction with the cleaned fields of crawler.cleaning under "fields"), while the
reactor thread goes on downloading and parsing links.

The link to a worker is a socket pair driven by the event loop itself (length-prefixed pickles,
non-blocking, read and written from loop callbacks): no helper threads in the crawl process,
so nothing competes with the reactor for the GIL. (concurrent.futures' process pool, tried
first, spends about as much of the crawl process's CPU on its feeder and manager threads as
the extraction it moves away.) It needs Scrapy's asyncio reactor (the default); with another
reactor the pages are extracted in the crawl process, as with EXTRACT_WORKERS=0.

When things go wrong (the extraction stage relies on all of it):

* A page that is not an article raises NotAnArticle in the worker; it reaches the caller as
  the same exception, reason included, as it would in-process.
* A worker that dies (killed, out of memory, a crash in a C extension) fails the pages it held
  with WorkerDied; `run` then extracts each of them in the crawl process, so none is lost, and a
  new worker takes the dead one's place, at most MAX_RESTARTS times, after which the crawl goes
  on in-process (logged; stats extract/workers/died and extract/workers/inline).
* Workers ignore SIGINT: Ctrl-C reaches the whole process group, and it is the crawl's to
  handle (Scrapy's graceful shutdown lets the pages in the workers finish).
* A worker whose crawl is gone (killed -9) reads the end of its socket and exits.

A worker is `python -m crawler.pageworkers --fd N`, started with the crawl's interpreter and
import path, in a session of its own (Ctrl-C at the terminal reaches the crawl, not it), its end
of the socket pair passed as fd N. Not multiprocessing: its start methods either fork a process
that has threads and an event loop, or import the parent's `__main__` again in the child, which
re-runs any user script that starts a crawl without an `if __name__ == "__main__"` guard. It
imports the extraction code afresh (about half a second, overlapping the first downloads). POSIX
only; elsewhere the pages are extracted in the crawl process.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys

from crawler.cleaning import clean
from crawler.extraction import extract

logger = logging.getLogger(__name__)

#: Workers started again after one died, before the crawl goes on in-process.
MAX_RESTARTS = 3

_HEADER = struct.Struct("!I")  # length of the pickle that follows
_PROTOCOL = pickle.HIGHEST_PROTOCOL


class WorkerDied(Exception):
    """The worker holding a page exited before answering."""


def work(html: str, url: str) -> dict:
    """What a worker does with one page: extract() it and clean() the raw parts.

    Returns extract()'s raw parts (without the body and rights fragments, which only cleaning
    reads) plus "fields": clean()'s result. Raises NotAnArticle as extract() does."""
    raw = extract(html, url)
    raw["fields"] = clean(raw, url)
    raw.pop("body_html", None)
    raw.pop("rights_html", None)
    return raw


def default_processes() -> int:
    """EXTRACT_WORKERS when unset: 1 when this process may run on more than one CPU, else 0 (a
    worker on the crawl's only core would cost the round trips and gain nothing)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return 1 if cpus > 1 else 0


# --- the worker process ---------------------------------------------------------------------------
def serve(sock: socket.socket) -> None:
    """A worker's life: answer (job, html, url) frames with (job, ok, result) frames until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stream = sock.makefile("rwb")
    while True:
        header = stream.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the crawl closed the socket, or died
        job, html, url = pickle.loads(stream.read(_HEADER.unpack(header)[0]))
        try:
            answer = (job, True, work(html, url))
        except Exception as exc:  # NotAnArticle, or a bug: the caller re-raises it
            answer = (job, False, exc)
        try:
            payload = pickle.dumps(answer, _PROTOCOL)
        except Exception as exc:  # an exception that does not pickle
            payload = pickle.dumps((job, False, RuntimeError(repr(exc))), _PROTOCOL)
        stream.write(_HEADER.pack(len(payload)) + payload)
        stream.flush()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


# --- the crawl's side -----------------------------------------------------------------------------
class _Worker:
    """One worker process and its socket, read and written by event-loop callbacks."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_death):
        self.loop = loop
        self.on_death = on_death
        ours, theirs = socket.socketpair()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "crawler.pageworkers", "--fd", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.fd = ours.fileno()
        self.pending: dict[int, asyncio.Future] = {}
        self.alive = True
        self._out = bytearray()
        self._in = bytearray()
        loop.add_reader(self.fd, self._readable)

    def submit(self, job: int, html: str, url: str) -> asyncio.Future:
        future = self.loop.create_future()
        self.pending[job] = future
        payload = pickle.dumps((job, html, url), _PROTOCOL)
        frame = _HEADER.pack(len(payload)) + payload
        if self._out:
            self._out += frame
        else:
            try:
                sent = self.sock.send(frame)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self._die()
                return future
            if sent < len(frame):
                self._out += frame[sent:]
                self.loop.add_writer(self.fd, self._writable)
        return future

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._die()
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
            self._die()
            return
        buf = self._in
        buf += chunk
        size = _HEADER.size
        while len(buf) >= size:
            (length,) = _HEADER.unpack_from(buf)
            if len(buf) < size + length:
                break
            job, ok, value = pickle.loads(bytes(buf[size:size + length]))
            del buf[:size + length]
            future = self.pending.pop(job, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _die(self) -> None:
        if not self.alive:
            return
        self.alive = False
        self._detach()
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerDied(f"extraction worker {self.process.pid} exited"))
        try:
            self.process.wait(1)
        except subprocess.TimeoutExpired:  # its socket broke but it lives on: it has to go
            self.process.kill()
            self.process.wait()
        self.on_death(self)

    def _detach(self) -> None:
        for remove in (self.loop.remove_reader, self.loop.remove_writer):
            try:
                remove(self.fd)
            except (ValueError, OSError):
                pass
        self.sock.close()

    def close(self, timeout: float = 5.0) -> float:
        """Stop the worker (EOF on its socket); its CPU seconds, read before it exits."""
        cpu = _cpu_seconds(self.process.pid)
        if self.alive:
            self.alive = False
            self._detach()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout)
        return cpu


class PageWorkers:
    """`processes` worker processes for work(); see the module docstring."""

    def __init__(self, processes: int, stats=None, *, max_restarts: int = MAX_RESTARTS):
        self.processes = processes
        self.stats = stats
        self.max_restarts = max_restarts
        self.restarts = 0
        self.inline = processes < 1  # True: run everything in the calling thread
        self.workers: list[_Worker] = []
        self._jobs = 0
        self._cpu = 0.0
        self._loop = None

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers (they import the extraction code while the crawl starts). Called from
        outside the event loop it does nothing: run() starts them."""
        if self.inline or self.workers:
            return
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if not _asyncio_reactor() or os.name != "posix":
            logger.info("EXTRACT_WORKERS needs the asyncio reactor on a POSIX system; extracting in the "
                        "crawl process")
            self.inline = True
            return
        for _ in range(self.processes):
            self.workers.append(_Worker(self._loop, self._died))

    def close(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            self._cpu += worker.close()
        if self.stats is not None and self._cpu:
            # the crawl process's own CPU time leaves the workers out (they are not its children)
            self.stats.set_value("extract/workers/cpu_seconds", round(self._cpu, 3))

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.process.pid for w in self.workers if w.alive]

    # --- work ---------------------------------------------------------------------------
    async def run(self, html: str, url: str) -> dict:
        """work(html, url) in a worker; in this process when the workers are off or the one
        holding the page died."""
        if not self.inline:
            self.start()
        if self.workers:
            worker = min(self.workers, key=lambda w: len(w.pending))
            self._jobs += 1
            try:
                raw = await worker.submit(self._jobs, html, url)
            except WorkerDied:
                pass
            else:
                self._inc("extract/workers/pages")
                return raw
        self._inc("extract/workers/inline")
        return work(html, url)

    def _died(self, worker: _Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        self._inc("extract/workers/died")
        if self.restarts >= self.max_restarts:
            if not self.workers:
                self.inline = True
            logger.error("Extraction worker %s died (exit code %s) after %d restarts: no new one; %s",
                         worker.process.pid, worker.process.returncode, self.restarts,
                         "extracting in the crawl process from now on" if self.inline else "fewer workers")
            return
        self.restarts += 1
        logger.warning("Extraction worker %s died (exit code %s); its pages are extracted in the crawl "
                       "process and a new worker started (%d of %d restarts)", worker.process.pid,
                       worker.process.returncode, self.restarts, self.max_restarts)
        self.workers.append(_Worker(self._loop, self._died))

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)


def _asyncio_reactor() -> bool:
    """Scrapy runs on the asyncio reactor (or no Twisted reactor is installed: plain asyncio)."""
    import sys

    if "twisted.internet.reactor" not in sys.modules:
        return True
    from scrapy.utils.reactor import is_asyncio_reactor_installed

    return is_asyncio_reactor_installed()


def main(argv=None) -> int:
    """`python -m crawler.pageworkers --fd N`: serve the socket passed as file descriptor N."""
    ap = argparse.ArgumentParser(description="An extraction worker (started by the crawl, not by hand).")
    ap.add_argument("--fd", type=int, required=True)
    args = ap.parse_args(argv)
    serve(socket.socket(fileno=args.fd))
    return 0


if __name__ == "__main__":
    sys.exit(main())
