"""The dataset build as a command (`python -m crawler.offline.dataset`): its outputs, and its one-line error on a
missing input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_itemschema import article
from tests.crawling import REPO

URL_A = "https://www.spacewar.com/reports/Moscow_court_upholds_ban_against_satellite_image_distributor_999.html"
URL_B = "https://www.spacewar.com/afp/260303115101.76yp06cs.html"
URL_C = "https://www.spacewar.com/reports/Pentagon_tests_new_interceptor_999.html"


def uuid(n: int) -> str:
    return f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>"


def capture(url, fetched_at, n, warc_file="spacewar-20260301000000000-00000-w1.warc.gz", **fields):
    return article(url=url, fetched_at=fetched_at,
                   warc={"filename": warc_file, "record_id": uuid(n), "offset": 1000 * n}, **fields)


def write_jsonl(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")
    return path


@pytest.fixture
def runs(tmp_path):
    """Three runs by two workers: A seen three times (edited once), B twice (unchanged), C once."""
    items = tmp_path / "items"
    w1 = "spacewar-20260301000000000-00000-w1.warc.gz"
    w2 = "spacewar-20260302000000000-00000-w2.warc.gz"
    write_jsonl(items / "run1" / "spacewar-2026-03-01T00-00-00.jsonl", [
        capture(URL_A, "2026-03-01T10:00:00Z", 1, w1, title="Court bans distributor"),
        capture(URL_B, "2026-03-01T10:05:00Z", 2, w1, published="2026-03-03", author="Laurent Thomet"),
    ])
    write_jsonl(items / "run2" / "worker-1.jsonl", [
        capture(URL_A, "2026-03-02T09:00:00Z", 3, w2),  # edited headline: a new version
        capture(URL_C, "2026-03-02T09:01:00Z", 4, w2, published="2025-12-31", agency="SPX", rights=None,
                images=[], extraction="fallback"),
    ])
    write_jsonl(items / "run2" / "worker-2.jsonl", [
        capture(URL_B, "2026-03-02T09:02:00.250000Z", 5, w2, published="2026-03-03", author="Laurent Thomet"),
    ])
    # an older capture found in a later file: it must not win
    write_jsonl(items / "run3" / "late-upload.jsonl", [
        capture(URL_A, "2026-02-28T08:00:00Z", 6, w1, title="Court bans distributor"),
    ])
    return items


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
