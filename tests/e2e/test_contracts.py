"""`scrapy check spacewar` passes: the article, listing and feed callbacks keep their contracts on fixture pages."""

import subprocess
import sys

from tests.crawling import REPO


def test_scrapy_check_passes_on_fixture_pages(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "check", "spacewar", "-s", f"WARC_DIR={tmp_path / 'warc'}",
         "-s", f"REPORT_DIR={tmp_path}", "-s", "PROGRESS_INTERVAL=0"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Ran 7 contracts" in out and "OK" in out
    assert not list((tmp_path / "warc").glob("*.warc.gz"))  # fixture reads are not HTTP exchanges
