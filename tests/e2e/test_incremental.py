"""Scheduled runs against the replica with one STATE_PATH: a second run exports only new or changed articles."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawling import FAST, REPO

ARTICLE = "https://www.spacewar.com/reports/Navy_tests_new_interceptor_999.html"

# --- two and three runs against the replica -------------------------------------------------------
def scheduled_run(outdir: Path, host_map: dict, state_path: Path, timeout: float = 300) -> dict:
    """A run as cron would start it: no -o, the dated default feed, a shared WARC_DIR and STATE_PATH."""
    stats = outdir / f"stats-{len(list(outdir.glob('stats-*.json')))}.json"
    # REVISIT_EVERY_RUN: every known article revalidated at every run (tests/e2e/test_revisit.py runs the policy)
    opts = dict(FAST, HOST_MAP=json.dumps(host_map), WARC_DIR=str(outdir / "warc"), STATE_PATH=str(state_path),
                REVISIT_EVERY_RUN="True",
                DEFAULT_FEED=str(outdir / "items" / "%(name)s-%(time)s.jsonl"), STATS_FILE=str(stats),
                REPORT_DIR=str(outdir / "reports"), LOG_FILE=str(outdir / "crawl.log"))
    cmd = [sys.executable, "-m", "scrapy", "crawl", "spacewar"]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    proc = subprocess.run(cmd, cwd=REPO, timeout=timeout, capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(stats.read_text())


def fingerprints(paths) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def change_article(replica, url: str) -> None:
    """Make the replica serve a different body for one article, the way an editor's correction would."""
    site = replica.site
    for hook in ("edit_article", "modify_article", "change_article"):
        if hasattr(site, hook):
            getattr(site, hook)(url, body_suffix="Editor's note: this story was corrected.")
            return
    pytest.skip("the replica has no way to modify an article (ReplicaSite.edit_article) yet")


def test_second_run_exports_only_new_or_changed_articles(replica, tmp_path):
    state_path = tmp_path / "state.sqlite"
    expected = {item["url"] for item in replica.expected_items()}

    first = scheduled_run(tmp_path, replica.host_map(), state_path)
    first_files = sorted((tmp_path / "items").glob("*.jsonl")) + sorted((tmp_path / "warc").glob("*.warc.gz"))
    before = fingerprints(first_files)
    [first_items] = sorted((tmp_path / "items").glob("*.jsonl"))
    assert {i["url"] for i in jsonl(first_items)} == expected
    assert first["incremental/new"] == len(expected) and first["incremental/unchanged"] == 0

    mid = len(replica.log)
    second = scheduled_run(tmp_path, replica.host_map(), state_path)
    second_paths = {(e.host, e.path.split("?")[0]) for e in replica.log[mid:]}
    # listings and feeds are fetched again, every known article is looked at again...
    assert ("www.spacewar.com", "/") in second_paths and ("www.spacewar.com", "/spacewar.xml") in second_paths
    assert second["incremental/new"] == 0 and second["incremental/changed"] == 0
    assert second["incremental/unchanged"] == len(expected)
    # ...and nothing is exported: no empty JSON Lines file is left (the default feed is not stored
    # empty); earlier files are untouched
    items_files = sorted((tmp_path / "items").glob("*.jsonl"))
    assert items_files == [first_items]
    assert fingerprints(first_files) == before
    assert len(list((tmp_path / "warc").glob("*.warc.gz"))) > len([p for p in first_files if p.suffix == ".gz"])

    changed_url = sorted(expected)[0]
    change_article(replica, changed_url)
    third = scheduled_run(tmp_path, replica.host_map(), state_path)
    latest = sorted((tmp_path / "items").glob("*.jsonl"))[-1]
    assert [i["url"] for i in jsonl(latest)] == [changed_url]
    assert third["incremental/changed"] == 1 and third["incremental/unchanged"] == len(expected) - 1
    assert "Incremental crawl: 0 new, 1 changed" in (tmp_path / "crawl.log").read_text("utf-8")
