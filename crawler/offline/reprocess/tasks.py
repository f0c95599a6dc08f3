"""The work of a reprocess cut into tasks: (file, byte range) pieces of the inputs' sources, in source and offset order.

The sources are what crawler/warc/inputs.py makes of the PATH arguments: a WARC file, a WACZ's
stored `archive/` member (a byte range of the .wacz), a decompressed or converted copy. A source larger than the task size is cut into ranges of about that size; a range's reader starts
at the first record boundary in it (crawler/warc/members.py), so the cut points need not be
record boundaries and every record belongs to exactly one range: the one its first byte is in.
That search can be fooled by a record inside a record's payload (a stored .warc.gz), so the run
checks each range's start against where the reading of the range before parsed on to, and reads
a range again from there when they differ (run.py, `_chained`; `at_record`).
The task size is the input's size spread over four tasks per process (so a slow task does not
leave the other processes idle at the end), at least MIN_TASK_BYTES (a task has a fixed cost)
and at most MAX_TASK_BYTES (a task's results are held until it is done, and a few tasks are in
flight: this bounds the driver's memory). The results do not depend on the cut: records come out
ordered by file and offset whatever the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.warc.inputs import Source, find

MIN_TASK_BYTES = 1 << 20
MAX_TASK_BYTES = 4 << 20
TASKS_PER_PROCESS = 4


@dataclass(frozen=True)
class Task:
    """Records starting in [start, end) of one file; `index` is the task's place in the output order."""

    index: int
    path: str
    file_no: int  # the source's place in the input order
    start: int
    end: int
    gz: bool | None = None  # the records are gzip members (None: by the file's name)
    sites: str | None = None  # the sites kept (`--sites`: names, comma-separated; None: every site)
    at_record: bool = False  # `start` is a record boundary (found by the reading of the range before): no search

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ListedTask:
    """The records of one file that its index lists on the sites asked for (crawler/offline/reprocess/listing.py):
    read at their offsets, each checked to be the listed URL's. `lines` and `off_site`: the index lines of the file
    this task stands for (the first task of the file counts them all)."""

    index: int
    path: str
    file_no: int
    listed: tuple[tuple[int, str], ...]  # (offset, URL), ascending
    size: int  # the share of the file's bytes, for the progress
    lines: int = 0
    off_site: int = 0
    gz: bool | None = None
    sites: str | None = None


def listed_tasks(first: int, file_no: int, src: Source, listed, sites: str | None, per_task: int) -> list[ListedTask]:
    """The tasks of a listed file, numbered from `first`."""
    chunks = [tuple(listed.on_site[i:i + per_task]) for i in range(0, len(listed.on_site), per_task)] or [()]
    return [ListedTask(first + k, src.path, file_no, chunk, src.size // len(chunks),
                       listed.lines if k == 0 else 0, listed.off_site if k == 0 else 0,
                       src.gz, sites)
            for k, chunk in enumerate(chunks)]


def warc_files(paths) -> list[Path]:
    """The archive files named by PATH arguments (crawler/warc/inputs.py's `find`: a file as given, a
    directory searched recursively); each file once, in argument order. FileNotFoundError for a path
    that is neither."""
    return find(paths)[0]


def task_size(total: int, processes: int) -> int:
    """Bytes per task for `total` bytes of input over `processes` processes (see the module docstring)."""
    want = total // max(1, processes * TASKS_PER_PROCESS) + 1
    return max(MIN_TASK_BYTES, min(MAX_TASK_BYTES, want))


def split(sources: list[Source], processes: int, size: int | None = None, sites: str | None = None) -> list[Task]:
    """The tasks of a set of sources, in source and offset order."""
    size = size or task_size(sum(s.size for s in sources), processes)
    tasks = []
    for file_no, src in enumerate(sources):
        start = src.start
        while start < src.end:
            end = min(src.end, start + size)
            tasks.append(Task(len(tasks), src.path, file_no, start, end, src.gz, sites))
            start = end
    return tasks
