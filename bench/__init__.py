"""Benchmarks of the archival crawler (issue 6); this module holds what they share: the machine's
facts, medians, and the replica of the site run in a process of its own.

Entry point: `python -m bench.run --smoke|--full` (bench/run.py). Each benchmark is a module with a
`run(...) -> dict` function and a `--help`-able `main()`:

    bench.crawl_throughput   full archival crawl vs a plain link-following spider (pages/s)
    bench.extraction_speed   our extraction + cleaning vs trafilatura, readability-lxml, jusText
    bench.warc_write         WarcFileWriter vs writing the same bytes with gzip directly (MB/s)
    bench.memory             peak RSS of the crawl at growing page counts
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed_reprocess(repo: Path, inputs: Path, out: Path, *options: str, processes: int = 2) -> dict:
    """One `scrapy reprocess INPUTS -O OUT --processes N [options]` from the checkout `repo`, timed end to end
    as a user times it: wall and CPU seconds (the whole process tree), exit status, its --summary ({} when it
    wrote none), the end of its stderr."""
    summary = out.with_suffix(".summary.json")
    cmd = [sys.executable, "-m", "scrapy", "reprocess", str(inputs), "-O", str(out), "--processes", str(processes),
           "--summary", str(summary), "--progress-interval", "0", *options]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "status": proc.returncode, "stderr": proc.stderr[-3000:],
            "summary": json.loads(summary.read_text()) if summary.exists() else {}}


def machine_info() -> dict:
    """CPU model, cores, load, Python/Scrapy/lxml versions and the UTC date: the context of a figure."""
    import lxml.etree
    import scrapy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_avg_1m": round(load[0], 2),
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "os": f"{platform.system()} {platform.release()}",
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def spread(values) -> str:
    """"min-max" of a series, to show the noise next to a median."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{min(values):.3g}-{max(values):.3g}"


class ReplicaProcess:
    """The replica server (tests/sites/replica) in its own process, so it does not share the crawl's GIL.

        with ReplicaProcess(articles=1500) as replica:
            replica.host_map    # HOST_MAP value for the crawl
    """

    def __init__(self, articles: int, *, faults: bool = False, startup_timeout: float = 60.0,
                 clutter_seed: int | None = None, multi_story: bool = False, sisters: int = 0):
        self.articles = articles
        self.faults = faults
        self.clutter_seed = clutter_seed  # the cluttered replica (docs/clutter-replica.md)
        self.multi_story = multi_story
        self.sisters = sisters  # articles of each sister site served in full (the network job); 0: none
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self._tmp = None
        self._log = None

    @property
    def host_map(self) -> dict:
        return self.info["host_map"]

    def __enter__(self) -> "ReplicaProcess":
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-replica-")
        info_file = Path(self._tmp.name) / "info.json"
        cmd = [sys.executable, "-m", "tests.sites.replica", "--articles", str(self.articles),
               "--info-file", str(info_file)]
        if not self.faults:
            cmd.append("--no-faults")
        if self.clutter_seed is not None:
            cmd += ["--clutter-seed", str(self.clutter_seed)]
        if self.multi_story:
            cmd.append("--multi-story")
        if self.sisters:
            cmd += ["--sisters", str(self.sisters)]
        # a file, not a pipe: a chatty server must never block on a full pipe
        self._log = open(Path(self._tmp.name) / "replica.log", "w+b")
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode("utf-8", "replace")[-3000:]
                self.__exit__(None, None, None)
                raise RuntimeError(f"replica exited with {self.proc.returncode}:\n{err}")
            if info_file.exists():
                try:
                    self.info = json.loads(info_file.read_text())
                    break
                except ValueError:  # half written
                    pass
            time.sleep(0.05)
        else:
            self.__exit__(None, None, None)
            raise RuntimeError("replica did not start in time")
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
