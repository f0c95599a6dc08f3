"""WARC records written by the writer process (crawler/workers/warcwriter.py): same archive, nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import collections
import errno
import os
import resource
import signal
import threading
import time

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc.files import OPEN_SUFFIX
from crawler.warc.location import PendingRecord, RecordLocation
from crawler.warc.records import new_record_id, warc_date
from crawler.workers.warcwriter import WarcWriterProcess
from tests.crawling import crawl, warcio_check
from tests.e2e.test_extraction_workers import alive, survivors_of_a_killed_parent


def headers(n: int) -> list[tuple[str, str]]:
    return [("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()), ("WARC-Date", warc_date()),
            ("WARC-Target-URI", f"https://www.spacewar.com/{n}"), ("Content-Type", "application/octet-stream")]


def records_on_disk(directory) -> dict[str, tuple[str, int, bytes]]:
    """record id -> (file name, offset, content) of every record in the finished WARC files."""
    found = {}
    for path in sorted(directory.glob("*.warc.gz")):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                rid = record.rec_headers.get_header("WARC-Record-ID")
                assert rid not in found, f"record {rid} written twice"
                content = record.content_stream().read()  # before get_record_offset(), which ends the record
                found[rid] = (path.name, it.get_record_offset(), content)
    return found


def check_dir(directory):
    """`warcio check` of every finished WARC file in `directory`."""
    return warcio_check(sorted(directory.glob("*.warc.gz")))


def run_in_loop(coro_fn):
    return asyncio.run(coro_fn())


def test_records_written_by_the_process_are_where_their_locations_say(tmp_path):
    blocks = [os.urandom(200 + 37 * n) for n in range(300)]
    closed = []

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", max_size=20_000, warcinfo={"software": "t"},
                                   on_close=lambda path, indexed=False: closed.append((path, indexed)))
        pending = [writer.write_record(headers(n), block) for n, block in enumerate(blocks)]
        assert all(isinstance(p, PendingRecord) for p in pending)
        locations = [await p for p in pending]
        pid = writer.child.pid
        writer.close()
        return pending, locations, pid

    pending, locations, pid = run_in_loop(main)
    assert all(isinstance(loc, RecordLocation) for loc in locations)
    on_disk = records_on_disk(tmp_path)
    for p, loc, block in zip(pending, locations, blocks):
        assert loc.record_id == p.record_id
        assert on_disk[loc.record_id][:2] == (loc.filename, loc.offset)
        assert on_disk[loc.record_id][2] == block
    # rolled over at max_size, each file closed, indexed by the child and announced; none left .open
    assert len(closed) == len({loc.filename for loc in locations}) > 3
    assert all(indexed and path.with_name(path.name + ".cdxj").stat().st_size > 0 for path, indexed in closed)
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))
    assert check_dir(tmp_path).returncode == 0
    assert not alive(pid)


def writer_is_inline(record) -> bool:
    """A record written in this process: done at once, with no future of the writer process."""
    return record.future is None


def test_records_held_by_a_killed_writer_are_written_once_and_the_crawl_goes_on_in_process(tmp_path):
    blocks = [os.urandom(30_000) for _ in range(200)]

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", max_size=1_000_000_000)
        first = writer.write_record(headers(0), b"first")
        await first  # the child is up
        pending = [writer.write_record(headers(n), block) for n, block in enumerate(blocks, 1)]
        await asyncio.sleep(0)  # the batch goes out; the child is busy writing it
        os.kill(writer.child.pid, signal.SIGKILL)
        locations = [await p for p in pending]
        after = writer.write_record(headers(999), b"after")  # in-process now
        writer.close()
        return first, pending, locations, after

    first, pending, locations, after = run_in_loop(main)
    on_disk = records_on_disk(tmp_path)  # asserts no record id twice
    assert after.done() and writer_is_inline(after)
    for p, loc, block in zip([first, *pending], [first.location(), *locations], [b"first", *blocks]):
        assert on_disk[p.record_id][:2] == (loc.filename, loc.offset)
        assert on_disk[p.record_id][2] == block
    assert on_disk[after.record_id][2] == b"after"
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))
    assert check_dir(tmp_path).returncode == 0, check_dir(tmp_path).stdout


def warcinfo_of(path) -> bytes:
    with open(path, "rb") as fh:
        first = next(iter(ArchiveIterator(fh)))
        assert first.rec_type == "warcinfo"
        return first.content_stream().read()


def test_records_of_each_series_go_to_files_of_their_own_and_survive_a_killed_writer(tmp_path):
    """The network job's per-site files: each series in files named for it, opening with its own
    warcinfo; a writer killed while holding records of both series loses none and writes none twice."""
    series = {"spacewar": b"www.spacewar.com", "spacedaily": b"www.spacedaily.com"}
    blocks = [(name, os.urandom(20_000)) for _ in range(100) for name in (None, *series)]

    async def main():
        writer = WarcWriterProcess(tmp_path, "network", max_size=1_000_000_000, warcinfo={"isPartOf": "network"},
                                   warcinfos={name: {"isPartOf": f"network/{name}"} for name in series})
        first = [writer.write_record(headers(0), b"first", name) for name in (None, *series)]
        for p in first:
            await p  # the child is up and has a file of each series open
        pending = [writer.write_record(headers(n), block, name) for n, (name, block) in enumerate(blocks, 1)]
        await asyncio.sleep(0)
        os.kill(writer.child.pid, signal.SIGKILL)
        locations = [await p for p in pending]
        writer.close()
        return first, pending, locations

    first, pending, locations = run_in_loop(main)
    on_disk = records_on_disk(tmp_path)  # asserts no record id twice
    written = {p.record_id for p in [*first, *pending]}
    warcinfos = set(on_disk) - written
    assert len(warcinfos) == len(list(tmp_path.glob("*.warc.gz")))  # nothing else: no record lost or added
    for p, loc, (name, block) in zip(pending, locations, blocks):
        assert on_disk[p.record_id][2] == block
        assert on_disk[p.record_id][0] == loc.filename
        assert loc.filename.startswith(f"{name or 'network'}-"), (name, loc.filename)
    for path in sorted(tmp_path.glob("*.warc.gz")):
        name = path.name.split("-", 1)[0]
        assert warcinfo_of(path) == (b"isPartOf: network" + (b"/" + name.encode() if name != "network" else b"")
                                     + b"\r\n")
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))
    assert check_dir(tmp_path).returncode == 0, check_dir(tmp_path).stdout


def test_a_failed_write_fails_that_record_and_all_after_it_and_leaves_the_file_open(tmp_path):
    """The child's file may not grow past 64 KiB (RLIMIT_FSIZE, inherited; SIGXFSZ ignored, so the
    write fails with EFBIG as a full disk fails with ENOSPC)."""
    errors = []

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", compress_level=0, max_size=1_000_000_000)
        writer.on_error = errors.append
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, hard))
        try:
            kept = writer.write_record(headers(0), b"kept")  # starts the child, with the limit
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            signal.signal(signal.SIGXFSZ, old)
        await kept
        lost = [writer.write_record(headers(n), os.urandom(30_000)) for n in range(1, 6)]
        outcomes = []
        for p in lost:
            try:
                outcomes.append(await p)
            except OSError as exc:
                outcomes.append(exc)
        refused = writer.write_record(headers(9), b"refused")  # nothing is taken after a failure
        assert refused.done()
        with pytest.raises(OSError):
            refused.location()
        path = writer.current_path
        writer.close()
        return kept, outcomes, path

    kept, outcomes, path = run_in_loop(main)
    written = [o for o in outcomes if isinstance(o, RecordLocation)]
    failed = [o for o in outcomes if isinstance(o, OSError)]
    assert len(written) == 2 and len(failed) == 3  # two records fit under the limit, the third fails
    assert outcomes[:2] == written and all(f.errno == errno.EFBIG for f in failed)
    assert len(errors) == 1 and errors[0].errno == errno.EFBIG
    # the file stays .open, for the next run's recovery to keep the complete records
    assert path.exists() and path.name.endswith(OPEN_SUFFIX)
    from crawler.warc.recovery import recover_file

    result = recover_file(path, index=False)
    assert result.records == 4  # warcinfo, "kept" and the two that fitted


def test_a_crawl_with_the_writer_process_archives_what_one_without_does(replica, tmp_path):
    runs = {flag: crawl(tmp_path / f"writer-{flag}", replica.host_map(),
                        settings={"WARC_WRITER_PROCESS": flag})
            for flag in ("True", "False")}

    def archive(result):
        kinds = collections.Counter()
        for path in sorted(result.warc_dir.glob("*.warc.gz")):
            with open(path, "rb") as fh:
                for record in ArchiveIterator(fh):
                    kinds[(record.rec_headers.get_header("WARC-Type"),
                           record.rec_headers.get_header("WARC-Target-URI"))] += 1
        return kinds

    for result in runs.values():
        assert result.returncode == 0
        assert check_dir(result.warc_dir).returncode == 0
    proc, inproc = runs["True"], runs["False"]
    assert archive(proc) == archive(inproc)
    assert proc.stats.get("warc/writer/cpu_seconds", 0) > 0 and "warc/writer/cpu_seconds" not in inproc.stats

    def comparable(result):
        return {i["url"]: {k: v for k, v in i.items() if k not in ("warc", "fetched_at")} for i in result.items}

    assert len(comparable(proc)) >= 40 and comparable(proc) == comparable(inproc)
    # every item points at its own response record, written before the item was exported
    on_disk = records_on_disk(proc.warc_dir)
    for item in proc.items:
        pointer = item["warc"]
        name, offset, _ = on_disk[pointer["record_id"]]
        assert (name, offset) == (pointer["filename"], pointer["offset"])


def test_the_writer_exits_and_keeps_the_warc_dir_locked_until_then_when_the_crawl_is_killed(tmp_path):
    script = (
        "import asyncio, os, sys\n"
        "from crawler.warc.recovery import WarcDirLock\n"
        "from crawler.warc.records import new_record_id, warc_date\n"
        "from crawler.workers.warcwriter import WarcWriterProcess\n"
        "async def main():\n"
        f"    lock = WarcDirLock({str(tmp_path)!r}); assert lock.acquire()\n"
        f"    w = WarcWriterProcess({str(tmp_path)!r}, 'test', lock_fd=lock.fileno(), max_size=1_000_000_000)\n"
        "    h = [('WARC-Type', 'resource'), ('WARC-Record-ID', new_record_id()), ('WARC-Date', warc_date())]\n"
        "    await w.write_record(h, b'x' * 1000)\n"
        "    print(w.child.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    pids, alive_after = survivors_of_a_killed_parent(script)
    assert len(pids) == 1 and not alive_after, "the writer outlived the crawl process"
    # what it had written stays .open for the next run's recovery, and the lock is free again
    from crawler.warc.recovery import WarcDirLock

    assert len(list(tmp_path.glob("*.warc.gz" + OPEN_SUFFIX))) == 1
    lock = WarcDirLock(tmp_path)
    assert lock.acquire()
    lock.release()


def test_while_the_writer_lives_the_warc_dir_stays_locked(tmp_path):
    from crawler.warc.recovery import WarcDirLock

    async def main():
        lock = WarcDirLock(tmp_path)
        assert lock.acquire()
        writer = WarcWriterProcess(tmp_path, "test", lock_fd=lock.fileno(), max_size=1_000_000_000)
        await writer.write_record(headers(0), b"x")
        # the crawl process lets go of its descriptor (as when it dies); the child still holds the lock
        os.close(lock.fileno())
        lock._fd = None
        other = WarcDirLock(tmp_path)
        held = not other.acquire()
        writer.close()
        freed = other.acquire()
        other.release()
        return held, freed

    held, freed = run_in_loop(main)
    assert held and freed


def test_without_an_event_loop_records_are_written_in_process(tmp_path):
    writer = WarcWriterProcess(tmp_path, "test", max_size=1_000_000_000)
    record = writer.write_record(headers(0), b"sync")
    writer.close()
    assert record.done() and writer.child is None
    location = record.location()
    assert isinstance(location, RecordLocation)
    assert records_on_disk(tmp_path)[location.record_id][2] == b"sync"


def test_a_stalled_writer_holds_the_crawl_back_instead_of_filling_its_memory(tmp_path):
    async def main():
        writer = WarcWriterProcess(tmp_path, "test", compress_level=0, max_size=1_000_000_000)
        writer.max_unwritten = 200_000
        await writer.write_record(headers(0), b"up")
        os.kill(writer.child.pid, signal.SIGSTOP)
        resume = threading.Timer(1.0, os.kill, (writer.child.pid, signal.SIGCONT))
        resume.start()
        started = time.monotonic()
        peak, pending = 0, []
        for n in range(1, 21):  # 20 x 30 kB while the writer is stopped
            pending.append(writer.write_record(headers(n), os.urandom(30_000)))
            peak = max(peak, writer._unacked_bytes)
        waited = time.monotonic() - started
        for p in pending:
            await p
        writer.close()
        resume.join()
        return waited, peak, pending

    waited, peak, pending = run_in_loop(main)
    assert waited >= 0.8  # write_record waited for the stopped writer
    assert peak <= 200_000 + 30_000  # the backlog never grew past the limit (plus one record)
    on_disk = records_on_disk(tmp_path)
    assert all(p.record_id in on_disk for p in pending)


def test_a_retried_request_carrying_a_pending_record_still_pickles(tmp_path):
    """Retries and redirects copy request.meta, the record pointer included, into queues that pickle
    requests (JOBDIR, the Redis frontier, the in-flight journal)."""
    import pickle

    import scrapy

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", max_size=1_000_000_000)
        pending = writer.write_record(headers(0), b"x")
        request = scrapy.Request("https://www.spacewar.com/", meta={"warc_record": pending})
        before = pickle.loads(pickle.dumps(request.meta))
        location = await pending
        after = pickle.loads(pickle.dumps(request.meta))
        writer.close()
        return before, after, location

    before, after, location = run_in_loop(main)
    assert before["warc_record"] is None
    assert after["warc_record"].pointer() == location.pointer()


def test_the_archived_stage_waits_for_the_record_then_gives_the_item_its_pointer_and_time(tmp_path):
    from pipelines.archived import ArchivedPipeline

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", max_size=1_000_000_000)
        date = warc_date()
        pending = writer.write_record([("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()),
                                       ("WARC-Date", date)], b"page")
        item = {"url": "https://www.spacewar.com/reports/X_999.html", "html": "<p>x</p>", "warc": pending}
        result = ArchivedPipeline().process_item(item)
        assert not pending.done()  # it waits: nothing goes on before the record is on disk
        placed = await result
        location = pending.location()
        writer.close()
        return placed, location, date

    placed, location, date = run_in_loop(main)
    assert placed["warc"] == location.pointer()
    assert placed["fetched_at"] == date[:19] + "Z"

def test_records_rewritten_after_the_writer_died_still_meet_the_free_space_guard(tmp_path, monkeypatch):
    """The writer process dies holding records; they are written again in this process, through the
    same WARC_MIN_FREE_BYTES guard and the same on_error as every other write."""
    import crawler.warc.files as files

    errors = []

    async def main():
        writer = WarcWriterProcess(tmp_path, "test", max_size=1_000_000_000, min_free_bytes=1024,
                                   on_error=errors.append)
        await writer.write_record(headers(0), b"up")  # the child is up
        os.kill(writer.child.pid, signal.SIGSTOP)  # it will hold what comes next
        held = [writer.write_record(headers(n), b"x" * 5000) for n in range(1, 4)]
        await asyncio.sleep(0.2)
        # the disk fills up, as far as this process can tell (the child, stopped, never sees it)
        monkeypatch.setattr(files, "free_bytes", lambda path: 100)
        os.kill(writer.child.pid, signal.SIGKILL)
        outcomes = []
        for record in held:
            try:
                outcomes.append(await record)
            except OSError as exc:
                outcomes.append(exc)
        writer.close()
        return outcomes

    outcomes = run_in_loop(main)
    assert len(outcomes) == 3 and all(isinstance(o, OSError) for o in outcomes), outcomes
    assert outcomes[0].errno == errno.ENOSPC  # refused by the guard, not written past the margin
    assert len(errors) == 1 and "WARC_MIN_FREE_BYTES" in str(errors[0])  # on_error, once
