"""The work of a reprocess cut into tasks: (file, byte range) pieces of the WARC files, in file and offset order.

A file larger than the task size is cut into ranges of about that size; a range's reader starts
at the first record boundary in it (crawler/warc/members.py), so the cut points need not be
record boundaries and every record belongs to exactly one range: the one its first byte is in.
The task size is the input's size spread over four tasks per process (so a slow task does not
leave the other processes idle at the end), at least MIN_TASK_BYTES (a task has a fixed cost)
and at most MAX_TASK_BYTES (a task's results are held until it is done, and a few tasks are in
flight: this bounds the driver's memory). The results do not depend on the cut: records come out
ordered by file and offset whatever the number of processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.warc.archive import warc_files as files_at

MIN_TASK_BYTES = 1 << 20
MAX_TASK_BYTES = 4 << 20
TASKS_PER_PROCESS = 4


@dataclass(frozen=True)
class Task:
    """Records starting in [start, end) of one file; `index` is the task's place in the output order."""

    index: int
    path: str
    file_no: int  # the file's place in the input order
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


def warc_files(paths) -> list[Path]:
    """The WARC files named by PATH arguments (crawler/warc/archive.py's warc_files for each: a file as
    given, a directory's *.warc.gz and *.warc, not recursive, sorted by name); each file once, in argument
    order. FileNotFoundError for a path that is neither."""
    found, seen = [], set()
    for entry in paths:
        for path in files_at(entry):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found


def task_size(total: int, processes: int) -> int:
    """Bytes per task for `total` bytes of input over `processes` processes (see the module docstring)."""
    want = total // max(1, processes * TASKS_PER_PROCESS) + 1
    return max(MIN_TASK_BYTES, min(MAX_TASK_BYTES, want))


def split(files: list[Path], processes: int, size: int | None = None) -> list[Task]:
    """The tasks of a set of files, in file and offset order."""
    sizes = [Path(f).stat().st_size for f in files]
    size = size or task_size(sum(sizes), processes)
    tasks = []
    for file_no, (path, length) in enumerate(zip(files, sizes)):
        start = 0
        while start < length:
            end = min(length, start + size)
            tasks.append(Task(len(tasks), str(path), file_no, start, end))
            start = end
    return tasks
