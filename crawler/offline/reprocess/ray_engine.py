"""The Ray engine of a reprocess (`--engine ray`): the same tasks and the same per-task function, run by Ray Data.

Ray is an optional extra (`pip install -e ".[ray]"`), imported only here and only when this engine
is chosen; without it the run stops with one line naming the install (exit status 78). Ray Data
runs `fn` over a dataset of tasks (each a pickled task: a file's byte range, the selected records
in it) with one CPU per task, on the cluster `ray.init()` connects to (RAY_ADDRESS), or else on a
local instance started with `processes` CPUs and no dashboard; results come back in task order
(`preserve_order`), so the output is byte for byte the local engine's.

The tasks are handed to Ray in windows of WINDOW_PER_CPU tasks per CPU, one dataset each, so the
driver never holds the selection of the whole archive. The WARC files (and the template file)
must be readable at the same paths on every node (a shared file system), as Ray's own file-based
datasources expect.
"""

from __future__ import annotations

import os
import pickle
from itertools import islice
from typing import Callable, Iterable, Iterator

from crawler.config import ConfigError

#: tasks per CPU in one Ray dataset
WINDOW_PER_CPU = 8
MISSING = '--engine ray needs Ray: pip install -e ".[ray]"'


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError(MISSING) from None
    return ray


def _apply(fn: Callable):
    def run(row: dict) -> dict:
        return {"result": pickle.dumps(fn(pickle.loads(row["task"])))}
    return run


class RayEngine:
    """`with RayEngine(processes) as engine: engine.map_ordered(fn, tasks)`: Ray started (or joined) once per run."""

    def __init__(self, processes: int):
        self.processes = max(1, processes)
        self.ray = _ray()
        self.started_here = False

    def __enter__(self) -> "RayEngine":
        ray = self.ray
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False)
            else:
                ray.init(num_cpus=self.processes, include_dashboard=False, log_to_driver=False)
            self.started_here = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True
        ctx.enable_progress_bars = False
        return self

    def __exit__(self, *exc) -> None:
        if self.started_here:
            self.ray.shutdown()

    def map_ordered(self, fn: Callable, tasks: Iterable) -> Iterator:
        """fn(task) for every task, in task order, on Ray Data."""
        ray = self.ray
        cpus = max(1, int(ray.cluster_resources().get("CPU") or self.processes))
        it = iter(tasks)
        while True:
            window = list(islice(it, cpus * WINDOW_PER_CPU))
            if not window:
                break
            ds = ray.data.from_items([{"task": pickle.dumps(t)} for t in window], override_num_blocks=len(window))
            for row in ds.map(_apply(fn), num_cpus=1).iter_rows():
                yield pickle.loads(row["result"])


def engine(processes: int) -> RayEngine:
    return RayEngine(processes)
