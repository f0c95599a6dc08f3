"""Server faults never crash the crawl or corrupt a file: each leaves a stat and a log line, other articles unaffected.

The faults run on the fault site (tests/sites/faultsite.py): www.spacewar.com on 127.0.0.1 through
HOST_MAP, articles at /reports/*.html, and one path per fault linked from the home page.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.crawling import read_items, run_crawl, warc_uris, warcio_check
from tests.sites.faultsite import HOSTILE, ROUTES, SITE, FaultSite

FAULTS = [path for path in ROUTES if path not in HOSTILE]  # hostile input: tests/e2e/test_hostile.py
FAULTS.remove("/loop/b.html")
FAULTS.remove("/reports/Slow_999.html")


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory):
    with FaultSite(n_articles=12, faults=FAULTS) as site:
        out = tmp_path_factory.mktemp("faults")
        result = run_crawl(out, site, settings={"DOWNLOAD_MAXSIZE": str(256 * 1024),
                                                "DOWNLOAD_WARNSIZE": str(128 * 1024)})
        result["hits"] = Counter(site.hits)
        result["site"] = site
        result["warc_dir"] = out / "warc"
        yield result


def test_faults_do_not_stop_the_crawl_and_good_articles_are_all_exported(faulty_crawl):
    assert faulty_crawl["returncode"] == 0, faulty_crawl["output"][-3000:]
    stats = faulty_crawl["stats_data"]
    assert stats.get("finish_reason") == "finished"
    urls = [item["url"] for item in read_items(faulty_crawl["items"])]
    assert len(urls) == len(set(urls))
    assert faulty_crawl["site"].article_urls() <= set(urls)
    log = faulty_crawl["log_text"]
    for crash in ("Spider error processing", "Error processing", "Unhandled error", "Error caught on signal",
                  "Scraper bug"):
        assert crash not in log


def test_no_file_is_left_open_or_corrupt(faulty_crawl):
    warc_dir = faulty_crawl["warc_dir"]
    assert list(warc_dir.glob("*.open")) == []
    assert all(warcio_check(p) for p in warc_dir.glob("*.warc.gz"))
    for line in faulty_crawl["items"].read_text("utf-8").splitlines():
        json.loads(line)


def test_a_connection_reset_is_retried_then_given_up_with_a_stat(faulty_crawl):
    # RETRY_TIMES=2; Twisted itself retries once more on a reused keep-alive connection
    assert 3 <= faulty_crawl["hits"]["/reports/Reset_999.html"] <= 6
    assert faulty_crawl["stats_data"].get("retry/max_reached", 0) >= 1
    # one line, in words, without a traceback: an ERROR line the first time the host fails this way
    gave_up = [line for line in faulty_crawl["log_text"].splitlines() if "/reports/Reset_999.html after" in line]
    assert len(gave_up) == 1 and "the connection failed" in gave_up[0], gave_up
    assert faulty_crawl["stats_data"].get("download/gave_up/DownloadFailedError") == 1
    assert "Traceback" not in faulty_crawl["log_text"]


def test_a_timeout_is_retried_and_counted(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    assert any("TimeoutError" in key for key in stats if key.startswith("retry/reason_count/"))
    assert "Timeout_999.html" in faulty_crawl["log_text"]


def test_5xx_is_retried_with_backoff(faulty_crawl):
    assert faulty_crawl["hits"]["/reports/Unavailable_999.html"] == 3
    stats = faulty_crawl["stats_data"]
    assert stats.get("retry/reason_count/503 Service Unavailable") == 2
    assert stats.get("retry/backoff_seconds", 0) >= 0.2 + 0.4
    assert "Gave up retrying" in faulty_crawl["log_text"]


def test_429_retry_after_is_honoured(faulty_crawl):
    assert faulty_crawl["hits"]["/reports/Retry_after_999.html"] == 2
    assert faulty_crawl["stats_data"].get("retry/retry_after_honoured") == 1
    assert "Retry-After 429" in faulty_crawl["log_text"]
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Retry_after_999.html" in urls


def test_a_redirect_loop_ends(faulty_crawl):
    hits = faulty_crawl["hits"]
    # a -> b -> a: the second visit of a is a duplicate request, so the loop stops there
    assert hits["/loop/a.html"] == 1 and hits["/loop/b.html"] == 1
    assert faulty_crawl["stats_data"].get("downloader/response_status_count/302") == 2
    assert faulty_crawl["stats_data"].get("dupefilter/filtered", 0) >= 1


def test_a_truncated_body_is_archived_as_truncated_and_not_exported(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    assert stats.get("warc/truncated", 0) >= 1
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Truncated_999.html" not in urls
    assert "Truncated_999.html" in faulty_crawl["log_text"]


def test_a_response_over_download_maxsize_is_dropped_with_a_log_line(faulty_crawl):
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Oversized_999.html" not in urls
    log = faulty_crawl["log_text"]
    assert "larger than download max size (262144) in request <GET https://www.spacewar.com/reports/Oversized_999" in log
    assert faulty_crawl["stats_data"].get("warc/exchange_failed/DownloadCancelledError") == 1


def test_a_gzip_bomb_is_not_decompressed_past_download_maxsize(faulty_crawl):
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    assert SITE + "/reports/Gzip_bomb_999.html" not in urls
    # decompression stopped right after DOWNLOAD_MAXSIZE (256 KiB) of the 50 MiB
    log = faulty_crawl["log_text"]
    line = next(l for l in log.splitlines() if "Gzip_bomb_999.html" in l and "exceeded DOWNLOAD_MAXSIZE" in l)
    decompressed = int(line.split("B decompressed")[0].rsplit(",", 1)[1].strip())
    assert decompressed < 2 * 256 * 1024


def test_wrong_or_missing_charset_still_gives_an_article(faulty_crawl):
    items = {item["url"]: item for item in read_items(faulty_crawl["items"])}
    for name in ("Wrong_charset_999.html", "Missing_charset_999.html"):
        item = items.get(f"{SITE}/reports/{name}")
        assert item is not None, name
        assert "\ufffd" not in item["body"] or "caf" in item["body"]


def test_binary_empty_malformed_and_bodiless_pages_are_counted_not_fatal(faulty_crawl):
    stats = faulty_crawl["stats_data"]
    urls = {item["url"] for item in read_items(faulty_crawl["items"])}
    for name in ("Binary_999.html", "Empty_999.html", "No_body_999.html"):
        assert f"{SITE}/reports/{name}" not in urls
    dropped = sum(v for k, v in stats.items() if k.startswith("articles/dropped/") or k.startswith("item_dropped"))
    assert dropped >= 3
    for name in ("Binary_999.html", "Empty_999.html", "Malformed_999.html", "No_body_999.html"):
        assert faulty_crawl["hits"][f"/reports/{name}"] == 1


def test_connection_refused_everywhere_ends_cleanly(tmp_path):
    with FaultSite(n_articles=1) as site:
        pass  # the port is closed now
    result = run_crawl(tmp_path, site, settings={"RETRY_TIMES": "1"})
    assert result["returncode"] == 69, result["output"][-3000:]  # nothing archived: a scheduler is told
    assert "Traceback" not in result["log_text"]
    stats = result["stats_data"]
    assert any("ConnectionRefusedError" in key for key in stats)
    assert stats.get("retry/max_reached", 0) >= 1
    assert "Connection was refused" in result["log_text"] or "ConnectionRefused" in result["log_text"]
    assert list((tmp_path / "warc").glob("*.open")) == []


# --- disk trouble ---------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A size-limited directory (tmpfs; needs root), unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()

    def mount(size: str, *options: str) -> Path:
        opts = ",".join((f"size={size}",) + options)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mountpoint)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        return mountpoint

    def remount(*options: str) -> None:
        subprocess.run(["mount", "-o", ",".join(("remount",) + options), str(mountpoint)], check=True)

    mount.remount = remount
    yield mount
    subprocess.run(["umount", str(mountpoint)], capture_output=True)


def test_a_full_warc_dir_stops_the_crawl_and_a_rerun_loses_nothing(tmp_path, small_disk):
    disk = small_disk("160k")
    with FaultSite(n_articles=120) as site:
        job = {"JOBDIR": str(tmp_path / "job"), "INFLIGHT_FSYNC_INTERVAL": "0",
               "WARC_DIGEST_INDEX": str(tmp_path / "digests.sqlite")}
        first = run_crawl(tmp_path, site, "run1", warc_dir=disk, settings=job)
        stats = first["stats_data"]
        assert stats.get("finish_reason") == "warc_write_failed", first["log_text"][-3000:]
        assert first["returncode"] == 74  # the scheduler learns that the disk failed
        assert "No space left on device" in stats.get("warc/write_failed", "")
        assert "WARC write failed" in first["log_text"] and "stopping the crawl" in first["log_text"]
        exported = {item["url"] for item in read_items(first["items"])}
        assert len(exported) < 120
        small_disk.remount("size=64m")
        second = run_crawl(tmp_path, site, "run2", warc_dir=disk, settings=job)
        assert second["stats_data"].get("finish_reason") == "finished", second["log_text"][-3000:]
        again = [item["url"] for item in read_items(second["items"])]
        assert not exported & set(again)
        assert exported | set(again) == site.article_urls()
        assert list(disk.glob("*.open")) == []
        assert all(warcio_check(p) for p in disk.glob("*.warc.gz"))
        archived = warc_uris(disk)
        assert all(archived[url] for url in site.article_urls())


def test_too_little_free_space_stops_the_crawl_before_writing(tmp_path, small_disk):
    disk = small_disk("1m")
    with FaultSite(n_articles=5) as site:
        result = run_crawl(tmp_path, site, warc_dir=disk, settings={"WARC_MIN_FREE_BYTES": str(8 * 1024 * 1024)})
    assert result["stats_data"].get("finish_reason") == "warc_write_failed"
    assert "less than WARC_MIN_FREE_BYTES" in result["log_text"]
    assert read_items(result["items"]) == []


def test_an_unwritable_warc_dir_is_refused_at_start(tmp_path, small_disk):
    disk = small_disk("1m", "ro")
    with FaultSite(n_articles=2) as site:
        result = run_crawl(tmp_path, site, warc_dir=disk)
    assert result["returncode"] == 74
    assert f"Cannot write WARC_DIR at {disk}: [Errno 30] Read-only file system" in result["output"] + result["log_text"]
    assert "Traceback" not in result["output"] + result["log_text"]
    assert read_items(result["items"]) == []
