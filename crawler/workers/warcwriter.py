"""WARC records written by a process of their own beside the reactor (WARC_WRITER_PROCESS).

Compressing, digesting and writing the four records of an article page is the largest piece of
the crawl process's own per-page work after link discovery. `WarcWriterProcess` has the
`write_record(headers, block, prefix)` of crawler.warc.files.WarcFileSet (one series of files per
prefix: the network job's sites), but hands the record to a child process (`python -m
crawler.workers.warcwriter --fd N`, linked as crawler/workers/link.py describes) that adds the
block digest, compresses and writes it with a WarcFileSet of its own, and
returns a `PendingRecord` whose future resolves to the RecordLocation once the record is
written and flushed to the operating system. Records are batched per turn of the event loop
and written in the order they were handed over; acknowledgements come back in that order. The
child also writes the CDXJ index of each file it closes (the crawl process used to, at the end).

With WARC_WRITER_PROCESS=False, or where a child cannot be driven (no asyncio reactor, not
POSIX), the same object writes in the crawl process and its PendingRecords are done at once.

What depends on the location waits for it: the item's `warc` pointer is resolved by the
archived stage before the item goes on (pipelines/archived.py), so no item is exported before
its response record is written; the in-flight journal marks a request finished only once every
record handed over until then is written (`barrier()`, crawler/journal/scheduler.py); the crawl's close
waits for the last acknowledgement (`close()`).

When things go wrong:

* A failed write in the child (disk full, less than WARC_MIN_FREE_BYTES free, I/O error): the
  child leaves its file `.open` without the failed record's buffered bytes and refuses
  everything after it; the records fail with OSError and `on_error(exc)` is called (the disk
  guard stops the crawl, as for a failure in-process, crawler/capture/diskguard.py).
* The child dies (killed, out of memory): its `.open` file is recovered at once as a rerun
  would (crawler/warc/recovery.py: complete records kept, a partial tail set aside), the records it
  had not acknowledged are looked up in that file, those missing are written again by a
  WarcFileWriter in the crawl process, and the crawl goes on writing in-process (WARNING; stat
  warc/writer/died). Nothing handed over is lost and no record is written twice.
* The crawl is killed -9: the child writes what it already received, then sees the end of
  its socket and exits, leaving the file `.open` for the next run's recovery. It holds the
  WARC_DIR lock (crawler/warc/recovery.py) with the crawl, so a rerun cannot recover that file
  while it is still being written.
* Ctrl-C: the child ignores SIGINT; the crawl's graceful close drains it.
* A slow or stalled disk: once MAX_UNWRITTEN_BYTES are handed over and not written,
  write_record() waits for the child to catch up (stat warc/writer/waited), so the crawl slows
  down as it would writing in-process, instead of holding the backlog in memory.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler import keys
from crawler.warc.cdxj import write_cdxj
from crawler.warc.files import OPEN_SUFFIX, WarcFileSet
from crawler.warc.location import PendingRecord, RecordLocation
from crawler.warc.recovery import recover_file
from crawler.workers.link import ChildEnd, ChildProcess, child_main, spare_cpus, usable

logger = logging.getLogger(__name__)

#: Seconds close() waits for the child to acknowledge the last records and close its file.
CLOSE_TIMEOUT = 120.0
#: Bytes of records handed over and not yet written past which write_record() waits for the
#: child to catch up (to half of it), as a slow disk slows an in-process writer: a stalled disk
#: must slow the crawl down, not fill the crawl's memory.
MAX_UNWRITTEN_BYTES = 64 * 1024 * 1024


def default_enabled() -> bool:
    """WARC_WRITER_PROCESS when unset: on when this process may run on more than one CPU."""
    return spare_cpus() > 0


# --- the writer process ---------------------------------------------------------------------------
def serve(end: ChildEnd) -> None:
    """The child's life: ("open", config), then ("records", first, [(headers, block, prefix)...])
    answered with ("written", first, [location...]) or ("failed", first, errno, message), and
    ("close",) answered with ("done",). Files opened and closed are announced as
    ("opened", name, prefix) and ("closed", name)."""
    message = end.recv()
    if message is None:
        return
    _, config = message
    indexers: list[threading.Thread] = []

    def closed(path: Path) -> None:
        # index it beside the writing (a roll-over mid-crawl), as the recorder does in-process
        thread = threading.Thread(target=write_cdxj, args=(path,), name=f"cdxj-{path.name}")
        thread.start()
        indexers.append(thread)
        end.send(("closed", path.name))

    writer = WarcFileSet(**config, on_close=closed)
    failed = None
    names: dict[str, str] = {}  # prefix -> the file announced last
    while True:
        message = end.recv()
        if message is None:
            # the crawl is gone without closing: what was received is written and flushed; the
            # file stays .open for the next run's recovery
            return
        kind = message[0]
        if kind == "records":
            _, first, records = message
            locations = []
            if failed is None:
                try:
                    for headers, block, prefix in records:
                        current = writer.ensure_open(prefix)
                        if names.get(prefix) != current:
                            # a new file: say so before anything is written in it after its warcinfo
                            names[prefix] = current
                            end.send(("opened", current, prefix))
                        locations.append(writer.write_record(headers, block, prefix))
                except OSError as exc:
                    writer.abandon()
                    failed = exc
            if locations:
                end.send(("written", first, locations))
            if failed is not None:  # this record and all after it
                end.send(("failed", first + len(locations), failed.errno, str(failed.strerror or failed)))
        elif kind == "close":
            if failed is None:
                writer.close()
            for thread in indexers:  # every .cdxj is complete when the crawl ends
                thread.join()
            end.send(("done",))
            return


# --- the crawl's side -----------------------------------------------------------------------------
class WarcWriterProcess:
    """Writes WARC records through a child process (`use_process`, WARC_WRITER_PROCESS) or in this
    process; see the module docstring. `write_record` returns a PendingRecord either way.

    `warcinfos` maps a prefix to its files' warcinfo fields (WarcFileSet).
    `on_close(path)` is called with the final path of each file closed, as by WarcFileWriter, and
    with `indexed=True` for the files the child closed and indexed (CDXJ) itself; `on_error(exc)`
    once when a write fails, wherever it failed. `min_free_bytes` guards every write, in the child
    and in this process alike (crawler/warc/files.py)."""

    def __init__(self, directory, prefix: str, *, max_size: int, warcinfo: dict | None = None,
                 warcinfos: dict[str, dict] | None = None, host: str | None = None, compress_level: int = 6,
                 min_free_bytes: int = 0, use_process: bool = True, on_close=None, on_error=None,
                 lock_fd: int | None = None, stats=None):
        # the in-process writer: checks the directory now, names files, and takes over if need be
        self.local = WarcFileSet(directory, prefix, max_size=max_size, warcinfo=warcinfo, warcinfos=warcinfos,
                                 host=host, compress_level=compress_level, min_free_bytes=min_free_bytes,
                                 on_close=lambda path: self.on_close and self.on_close(path),
                                 on_error=self._failed)
        self.directory = self.local.directory
        self.config = dict(directory=str(directory), prefix=prefix, max_size=max_size,
                           warcinfo=dict(warcinfo or {}), warcinfos=dict(warcinfos or {}), host=self.local.host,
                           compress_level=compress_level, min_free_bytes=min_free_bytes)
        self.on_close = on_close
        self.on_error = on_error
        self.lock_fd = lock_fd
        self.stats = stats
        self.child: ChildProcess | None = None
        # True: write in this process (asked to, no event loop, the child died)
        self.inline = not use_process
        self.failed: OSError | None = None
        self._child_closed: list[str] = []
        self._names: dict[str, str] = {}  # prefix -> the child's current file of that series
        self._last_prefix: str | None = None  # the series handed a record last
        self._seq = 0  # sequence number of the next record handed over
        self._unacked: dict[int, tuple[list, bytes, PendingRecord, str | None]] = {}
        self._unacked_bytes = 0
        self.max_unwritten = MAX_UNWRITTEN_BYTES
        self._batch: list[tuple[list, bytes, str | None]] = []
        self._batch_first = 0
        self._loop = None
        self._done = False
        self._child_done = False  # the child closed its file and said so
        self.cpu_seconds = 0.0

    # --- WarcFileWriter's interface --------------------------------------------------------
    @property
    def closed_files(self) -> list[str]:
        """Names of the files closed so far, by the child and in this process."""
        return [*self._child_closed, *self.local.closed_files]

    @property
    def current_path(self) -> Path | None:
        """The `.open` file of the series written last (the one a failed write leaves)."""
        if self.inline:
            return self.local.current_path
        name = self._names.get(self._last_prefix or self.local.prefix)
        return self.directory / (name + OPEN_SUFFIX) if name else None

    def write_record(self, headers: list[tuple[str, str]], block: bytes, prefix: str | None = None) -> PendingRecord:
        """Hand one record over (or write it, in this process) for the series of `prefix` (None:
        the default one); its PendingRecord. A record that cannot be written comes back failed
        (with the OSError), never raises."""
        fields = dict(headers)
        record_id, date = fields.get("WARC-Record-ID"), fields.get("WARC-Date")
        if self.failed is not None:
            return PendingRecord.failed(record_id, date, OSError(f"WARC writing stopped after an earlier "
                                                                 f"failure ({self.failed})"))
        if self.child is None and not self.inline:
            self._start()
        if self.inline:
            try:
                return PendingRecord.written(self.local.write_record(headers, block, prefix), date)
            except OSError as exc:  # reported through on_error by the local writer
                return PendingRecord.failed(record_id, date, exc)
        pending = PendingRecord(record_id, date, self._loop.create_future())
        seq = self._seq
        self._seq += 1
        self._unacked[seq] = (headers, block, pending, prefix)
        self._last_prefix = prefix
        self._unacked_bytes += len(block)
        if not self._batch:
            self._batch_first = seq
            self._loop.call_soon(self._send_batch)
        self._batch.append((headers, block, prefix))
        if self._unacked_bytes > self.max_unwritten:
            self._catch_up()
        return pending

    def _failed(self, exc: OSError) -> None:
        """A write failed (the child's, or this process's): everything after it fails too; on_error once."""
        if self.failed is not None:
            return
        self.failed = exc
        if self.on_error is not None:
            self.on_error(exc)

    def _catch_up(self) -> None:
        """Block until the child has written all but half of max_unwritten bytes."""
        self._send_batch()
        if self.child is None:
            return  # the link broke: _died wrote everything in-process
        if self.stats is not None:
            self.stats.inc_value(keys.STAT_WRITER_WAITED)
        self.child.wait_for(lambda: self._unacked_bytes <= self.max_unwritten // 2, CLOSE_TIMEOUT)

    def barrier(self) -> asyncio.Future | None:
        """A future resolved once every record handed over so far is written (failed if one
        could not be); None when there is nothing to wait for."""
        if not self._unacked:
            return None
        return self._unacked[self._seq - 1][2].future

    def drain(self, timeout: float = CLOSE_TIMEOUT) -> bool:
        """Block until every record handed over so far is written (or failed); False on timeout."""
        if self.child is None or not self._unacked:
            return not self._unacked
        self._send_batch()
        return self.child.wait_for(lambda: not self._unacked, timeout) or not self._unacked


    def close(self) -> None:
        """Wait for the child to write what it holds and close its file, then stop it."""
        if self._done:
            return
        self._done = True
        if self.child is not None and self.child.alive:
            self._send_batch()
            self.child.send(("close",))
            if not self.child.wait_for(lambda: self._child_done, CLOSE_TIMEOUT):
                if self.child.alive:
                    logger.error("The WARC writer process %s did not finish within %.0f s; its file "
                                 "stays .open for the next run's recovery", self.child.pid, CLOSE_TIMEOUT)
            if self.child is not None:
                self.cpu_seconds += self.child.close()
        if self.inline:
            self.local.close()
        if self.stats is not None and self.cpu_seconds:
            self.stats.set_value(keys.STAT_WRITER_CPU, round(self.cpu_seconds, 3))

    # --- the child --------------------------------------------------------------------------
    def _start(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        if self._loop is None or not usable():
            logger.info("WARC_WRITER_PROCESS needs the asyncio reactor on a POSIX system; writing "
                        "WARC records in the crawl process")
            self.inline = True
            return
        # the WARC_DIR lock's descriptor, inherited: the lock is held while the child lives
        pass_fds = (self.lock_fd,) if self.lock_fd is not None else ()
        self.child = ChildProcess(self._loop, "crawler.workers.warcwriter", self._message, self._died, pass_fds=pass_fds)
        self.child.send(("open", self.config))

    def _send_batch(self) -> None:
        if not self._batch or self.child is None:
            return
        batch, self._batch = self._batch, []
        self.child.send(("records", self._batch_first, batch))  # a broken link ends in _died

    def _message(self, message) -> None:
        kind = message[0]
        if kind == "written":
            _, first, locations = message
            for i, loc in enumerate(locations, first):
                entry = self._unacked.pop(i, None)
                if entry is None:
                    continue
                self._unacked_bytes -= len(entry[1])
                if not entry[2].future.done():
                    entry[2].future.set_result(loc)
        elif kind == "failed":
            _, first, errno, text = message
            exc = OSError(errno, text) if errno is not None else OSError(text)
            for i in sorted(k for k in self._unacked if k >= first):
                entry = self._unacked.pop(i)
                self._unacked_bytes -= len(entry[1])
                if not entry[2].future.done():
                    entry[2].future.set_exception(exc)
                    entry[2].future.exception()  # retrieved: nobody may be waiting for this one
            self._failed(exc)
        elif kind == "opened":
            _, name, prefix = message
            self._names[prefix or self.local.prefix] = name
        elif kind == "closed":  # closed by the child, which indexes it too
            name = message[1]
            self._names = {prefix: n for prefix, n in self._names.items() if n != name}
            self._child_closed.append(name)
            if self.on_close:
                self.on_close(self.directory / name, indexed=True)
        elif kind == "done":
            self._child_done = True

    def _died(self) -> None:
        """The child exited without being asked: recover its file, write what it did not."""
        child, self.child = self.child, None
        self.inline = True
        if self.stats is not None:
            self.stats.inc_value(keys.STAT_WRITER_DIED)
        self._batch = []  # never sent: written below with the rest
        unacked = [self._unacked[k] for k in sorted(self._unacked)]
        self._unacked.clear()
        self._unacked_bytes = 0
        found = self._recover_current()
        rewritten = failed = 0
        for headers, block, pending, prefix in unacked:
            location = found.get(pending.record_id)
            if location is None:
                try:  # the local writer's guard and on_error, as for any write in this process
                    location = self.local.write_record(headers, block, prefix)
                except OSError as exc:
                    pending.future.set_exception(exc)
                    pending.future.exception()
                    failed += 1
                    continue
                rewritten += 1
            pending.future.set_result(location)
        logger.warning("The WARC writer process %s exited (code %s): of the %d records it had not confirmed, "
                       "%d were found in its file, %d written again, %d could not be written; writing WARC "
                       "records in the crawl process from now on", child.pid, child.process.returncode,
                       len(unacked), len(unacked) - rewritten - failed, rewritten, failed)

    def _recover_current(self) -> dict[str, RecordLocation]:
        """Recover the dead child's current files (one per series); the locations of the records
        in them, by id."""
        names, self._names = list(self._names.values()), {}
        found: dict[str, RecordLocation] = {}
        for name in names:
            found.update(self._recover_file(name))
        return found

    def _recover_file(self, name: str) -> dict[str, RecordLocation]:
        open_path = self.directory / (name + OPEN_SUFFIX)
        final = self.directory / name
        if open_path.exists():
            result = recover_file(open_path, index=False)
            final = result.final_path
        if final is None or not final.exists():
            return {}
        with open(final, "rb") as fh:
            records = ArchiveIterator(fh)
            starts = [(record.rec_headers.get_header("WARC-Record-ID"), records.get_record_offset())
                      for record in records]
        # each record ends where the next one starts, the last one at the end of the file
        ends = [offset for _, offset in starts[1:]] + [final.stat().st_size]
        locations = {record_id: RecordLocation(final.name, record_id, offset, end - offset)
                     for (record_id, offset), end in zip(starts, ends)}
        self._child_closed.append(final.name)
        if self.on_close:
            self.on_close(final)  # indexed by the caller, as files written in-process are
        return locations


if __name__ == "__main__":
    sys.exit(child_main(serve, "The WARC writer process"))
