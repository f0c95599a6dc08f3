"""How many processes a local reprocess runs: no more than its byte-range tasks, so a small input runs without a pool."""

from __future__ import annotations

import random

from crawler.offline.reprocess import local
from crawler.offline.reprocess.run import Options, processes_for, run
from crawler.offline.reprocess.tasks import MIN_TASK_BYTES, split
from crawler.warc.inputs import open_inputs
from crawler.warc.files import gzip_member, serialize_record
from tests.unit.offline.test_reprocess_split import write_warc


def write_large_warc(path, n: int, size: int = 32_000) -> None:
    """n response records whose bodies do not compress (so the file is about n x size bytes)."""
    rng = random.Random(29)
    with open(path, "wb") as fh:
        for i in range(n):
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + rng.randbytes(size)
            fh.write(gzip_member(serialize_record(
                [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{i:08d}-0000-0000-0000-000000000000>"),
                 ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", f"https://www.spacewar.com/reports/p{i}.html"),
                 ("Content-Type", "application/http; msgtype=response")], http)))


def _tasks(path, processes: int):
    with open_inputs([str(path)]) as inputs:
        return split(inputs.sources, processes)


def test_no_more_processes_than_tasks(tmp_path):
    small, large = tmp_path / "small.warc.gz", tmp_path / "large.warc.gz"
    write_warc(small, n=20)
    write_large_warc(large, n=100)
    assert small.stat().st_size <= MIN_TASK_BYTES < 2 * MIN_TASK_BYTES < large.stat().st_size
    assert len(_tasks(small, 2)) == 1 and processes_for(_tasks(small, 2), 2, "local") == 1
    tasks = _tasks(large, 2)
    assert len(tasks) >= 2 and processes_for(tasks, 2, "local") == 2
    assert processes_for(tasks, 64, "local") == len(tasks) < 64
    assert processes_for(_tasks(small, 2), 2, "ray") == 2  # Ray's CPUs are its own
    assert processes_for([], 2, "local") == 1


def test_a_one_task_input_runs_in_this_process_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "small.warc.gz"
    write_warc(path, n=20)

    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started for a one-task input")

    monkeypatch.setattr(local, "ProcessPoolExecutor", no_pool)
    summary, status = run(Options(paths=[str(path)], output=str(tmp_path / "out.jsonl"), processes=2,
                                  progress_interval=0))
    assert summary["processes"] == 1
    assert summary["records"] == 20 and summary["captures"] == 20  # every record read, in this process


def test_the_docs_give_the_size_that_runs_without_a_pool():
    from pathlib import Path

    docs = (Path(__file__).parents[3] / "docs" / "reprocess.md").read_text("utf-8")
    assert f"an input of one task (at most {MIN_TASK_BYTES >> 20} MiB" in " ".join(docs.split())
