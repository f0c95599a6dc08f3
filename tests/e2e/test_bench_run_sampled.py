"""bench.crawl_throughput.run_sampled: the peak resident memory of a command's process tree."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.crawl_throughput import run_sampled


def test_a_short_child_started_by_a_wrapper_is_sampled(tmp_path):
    """bench/revisit.py runs each day's crawl under `faketime`, which starts the crawl as its child; a later day's run
    takes 1-2 s. The tree was looked up only every 10 samples (2 s at bench/revisit.py's 0.2 s), the first time before
    the child existed: the peak was the wrapper's alone (1.6 MB on half the days of `--articles 600 --days 10`, 100 MB
    on the others)."""
    child = f"import time; x = bytearray(80 * 2 ** 20); time.sleep(1.2)"
    cmd = ["/bin/sh", "-c", f"sleep 0.3; exec {sys.executable} -c '{child}'"]
    # the wrapper: a process that starts the command as its child and waits for it, as faketime does
    wrapper = [sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))", *cmd]
    proc, peak_kb = run_sampled(wrapper, Path(tmp_path), tmp_path / "stdio.log", timeout=30, sample_every=0.2)
    assert proc.returncode == 0
    assert peak_kb > 80 * 1024, peak_kb
