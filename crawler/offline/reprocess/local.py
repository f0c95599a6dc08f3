"""The local engine of a reprocess: the tasks on this machine's processes, the results handed back in task order.

`map_ordered(fn, tasks, processes)` runs `fn` over an iterable of tasks: in this process when
`processes` is 1, else on a pool of that many worker processes (fork, so they start at once with
the modules loaded), with at most two tasks per process given out ahead of the one the caller
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


def map_ordered(fn: Callable, tasks: Iterable, processes: int) -> Iterator:
    """fn(task) for every task, in task order (see the module docstring)."""
    if processes <= 1:
        for task in tasks:
            yield fn(task)
        return
    with ProcessPoolExecutor(max_workers=processes, mp_context=_context()) as pool:
        pending: deque = deque()
        it = iter(tasks)
        for task in it:
            pending.append(pool.submit(fn, task))
            if len(pending) >= processes * AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
