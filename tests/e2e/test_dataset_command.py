"""The dataset build as a command (`python -m crawler.offline.dataset`): its outputs, and its one-line error on a
missing input."""

from __future__ import annotations

import subprocess
import sys

from tests.crawling import REPO
from tests.unit.offline.test_dataset import runs  # noqa: F401 (the fixture: three runs by two workers)


def test_command_line_build(runs, tmp_path):
    out = tmp_path / "dataset"
    proc = subprocess.run([sys.executable, "-m", "crawler.offline.dataset", "build", str(out), str(runs)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "3 articles" in proc.stdout and "3 duplicates collapsed" in proc.stdout
    assert {p.name for p in out.iterdir()} == {"articles.jsonl", "articles.parquet", "stories.jsonl", "manifest.json"}


def test_command_line_reports_a_missing_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "crawler.offline.dataset", "build", str(tmp_path / "out"),
                           str(tmp_path / "nowhere")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "nowhere" in proc.stderr
