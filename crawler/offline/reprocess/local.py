"""The local engine of a reprocess: the tasks on this machine's processes, the results handed back in task order.

`LocalEngine(processes).map_ordered(fn, tasks)` runs `fn` over an iterable of tasks: in this
process when `processes` is 1, else on a pool of that many worker processes (fork, so they start
at once with the modules loaded and warmed; one pool serves both passes of a run), with at most two tasks per process given out ahead of the one the caller
waits for. The tasks are drawn from the iterable as they are given out and each result is held
only until its turn, so memory stays bounded by the tasks in flight, however many tasks there are.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

#: tasks given out per process ahead of the one waited for
AHEAD = 2


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class LocalEngine:
    """`with LocalEngine(processes) as engine: engine.map_ordered(fn, tasks)`: one pool for every pass of a run
    (forked once, after the caller loaded and warmed what the workers need)."""

    def __init__(self, processes: int):
        self.processes = max(1, processes)
        self.pool = None

    def __enter__(self) -> "LocalEngine":
        if self.processes > 1:
            self.pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=_context())
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def map_ordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        """fn(task) for every task, in task order (see the module docstring)."""
        if self.pool is None:
            for task in tasks:
                yield fn(task)
            return
        pending: deque = deque()
        for task in tasks:
            pending.append(self.pool.submit(fn, task))
            if len(pending) >= self.processes * AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def engine(processes: int) -> LocalEngine:
    return LocalEngine(processes)
