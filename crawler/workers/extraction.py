"""Extraction and cleaning of article pages in worker processes beside the reactor (EXTRACT_WORKERS).

Scrapy runs spiders, middlewares and pipelines in one thread; a CPU-bound crawl is bound by
that one core. Reading an article page (parsing it, finding its parts, cutting its text into
blocks) is the largest piece of our own per-page work, and it needs nothing but the page:
`await PageWorkers.read(html, url)` sends the page to a worker process and resolves to the
PageReading that `read_page(html, url)` (crawler/extract/extractor.py) returns there, while the
reactor thread goes on downloading and parsing links. The decisions that need the crawl's
learned template are taken in the crawl process (pipelines/extract.py), so they are the same
whichever process read the page. `await PageWorkers.run(html, url)` is the whole
`article_from_page(html, url)` in a worker, for callers without a template.

A worker is `python -m crawler.workers.extraction --fd N`, linked to the crawl as crawler/workers/link.py
describes (a socket pair driven by the event loop, no helper threads, not multiprocessing).
(concurrent.futures' process pool, tried first, spends about as much of the crawl process's CPU
on its feeder and manager threads as the extraction it moves away.) It needs Scrapy's asyncio
reactor (the default) on POSIX; elsewhere the pages are extracted in the crawl process, as with
EXTRACT_WORKERS=0.

When things go wrong (the extraction stage relies on all of it):

* A page that is not an article raises NotAnArticle in the worker (a page nested past the
  parser's bound, PageTooDeep); it reaches the caller as the same exception, reason included, as
  it would in-process. Any other exception in the
  worker is a bug: it reaches the caller as WorkerError, with the worker's traceback in its
  message, and the extraction stage logs it at ERROR (pipelines/extract.py).
* A worker that dies (killed, out of memory, a crash in a C extension) fails the pages it held
  with WorkerDied; `run` then extracts each of them in the crawl process, so none is lost, and a
  new worker takes the dead one's place, at most MAX_RESTARTS times, after which the crawl goes
  on in-process (logged; stats extract/workers/died and extract/workers/inline).
* Workers ignore SIGINT: Ctrl-C reaches the whole process group, and it is the crawl's to
  handle (Scrapy's graceful shutdown lets the pages in the workers finish).
* A worker whose crawl is gone (killed -9) reads the end of its socket and exits.

A worker imports the extraction code afresh (about half a second, overlapping the first
downloads).
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback

from crawler import keys
from crawler.extract.article import Article, NotAnArticle, PageTooDeep
from crawler.extract.cleaning import PageReading
from crawler.extract.extractor import article_from_page, read_page
from crawler.workers.link import ChildEnd, ChildProcess, child_main, spare_cpus, usable

logger = logging.getLogger(__name__)

#: Workers started again after one died, before the crawl goes on in-process.
MAX_RESTARTS = 3


class WorkerDied(Exception):
    """The worker holding a page exited before answering."""


class WorkerError(Exception):
    """An exception other than NotAnArticle raised in a worker (a bug); the message ends with its traceback."""


def default_processes() -> int:
    """EXTRACT_WORKERS when unset: 1 when this process may run on more than one CPU, else 0 (a
    worker on the crawl's only core would cost the round trips and gain nothing)."""
    return 1 if spare_cpus() else 0


# --- the worker process ---------------------------------------------------------------------------
def _operation(name: str):
    """What a worker does with a page: "read" (read_page, what the extraction stage asks) or "article"
    (the whole article_from_page)."""
    return read_page if name == "read" else article_from_page


def serve(end: ChildEnd) -> None:
    """A worker's life: answer (job, operation, html, url) messages (or (job, html, url): "article") with
    (job, ok, result) until EOF."""
    while True:
        message = end.recv()
        if message is None:
            return  # the crawl closed the socket, or died
        if len(message) == 3:
            (job, html, url), operation = message, "article"
        else:
            job, operation, html, url = message
        try:
            answer = (job, True, _operation(operation)(html, url))
        except (NotAnArticle, PageTooDeep) as exc:
            answer = (job, False, exc)
        except Exception as exc:  # a bug: the caller logs it, with this traceback
            answer = (job, False, WorkerError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        end.send(answer)


# --- the crawl's side -----------------------------------------------------------------------------
class _Worker:
    """One worker process and the pages it holds."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_death):
        self.loop = loop
        self.on_death = on_death
        self.pending: dict[int, asyncio.Future] = {}
        self.child = ChildProcess(loop, "crawler.workers.extraction", self._answer, self._died)
        self.process = self.child.process

    @property
    def alive(self) -> bool:
        return self.child.alive

    def submit(self, job: int, operation: str, html: str, url: str) -> asyncio.Future:
        future = self.loop.create_future()
        self.pending[job] = future
        self.child.send((job, operation, html, url))  # a broken link fails the page through _died
        return future

    def _answer(self, message) -> None:
        job, ok, value = message
        future = self.pending.pop(job, None)
        if future is None or future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _died(self) -> None:
        pending, self.pending = self.pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WorkerDied(f"extraction worker {self.process.pid} exited"))
        self.on_death(self)

    def close(self, timeout: float = 5.0) -> float:
        """Stop the worker (EOF on its socket); its CPU seconds, read before it exits."""
        return self.child.close(timeout)


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
        if not usable():
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
            # read before they exit; once reaped they are in the crawl's RUSAGE_CHILDREN too, so the
            # benchmark subtracts this to get the crawl process's own CPU
            self.stats.set_value(keys.STAT_WORKER_CPU, round(self._cpu, 3))

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers."""
        return [w.process.pid for w in self.workers if w.alive]

    # --- work ---------------------------------------------------------------------------
    async def run(self, html: str, url: str) -> Article:
        """article_from_page(html, url) in a worker; in this process when the workers are off or the
        one holding the page died."""
        return await self._do("article", html, url)

    async def read(self, html: str, url: str) -> PageReading:
        """read_page(html, url) in a worker (what the extraction stage sends); in this process when the
        workers are off or the one holding the page died."""
        return await self._do("read", html, url)

    async def _do(self, operation: str, html: str, url: str):
        if not self.inline:
            self.start()
        if self.workers:
            worker = min(self.workers, key=lambda w: len(w.pending))
            self._jobs += 1
            try:
                result = await worker.submit(self._jobs, operation, html, url)
            except WorkerDied:
                pass
            else:
                self._inc(keys.STAT_WORKER_PAGES)
                return result
        self._inc(keys.STAT_WORKER_INLINE)
        return _operation(operation)(html, url)

    def _died(self, worker: _Worker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)
        self._inc(keys.STAT_WORKER_DIED)
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


if __name__ == "__main__":
    sys.exit(child_main(serve, "An extraction worker"))
