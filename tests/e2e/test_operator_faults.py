"""An operator's mistakes and faults of the operator's own machine: a run never reports success for lost data.

Each case runs `scrapy crawl` as a subprocess, as an operator (or cron, systemd, scrapyd) does:
- a bad setting value stops the crawl before any request, exit status 78, one line naming the
  setting, the value and what is allowed (crawler/settingspec.py);
- an output location that cannot be written stops it before any request, exit status 74, one line
  naming the path (crawler/outputs.py); a read-only tmpfs stands for it (root is not stopped by
  permission bits);
- a feed that fills its disk mid-crawl stops the crawl with exit status 74 and the way to rebuild
  the items; the file holds only whole lines, as many as the outcome says were exported, and a
  rerun with the same JOBDIR exports the rest (crawler/journal/feedfile.py);
- `-O` onto an existing file leaves it intact when the crawl exports nothing.

No case leaves a traceback. SIGTERM with JOBDIR (exit 75, the rerun completes) is
tests/e2e/test_killed_crawl.py::test_sigterm_or_ctrl_c_stops_gracefully_and_the_rerun_resumes;
Redis down is tests/e2e/test_distributed.py's.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.crawling import REPO, crawl_command, read_items, start_crawl, warcio_check
from tests.sites.faultsite import FaultSite

OLD_FEED = "".join(json.dumps({"url": f"https://www.spacewar.com/reports/Old_{i}.html"}) + "\n" for i in range(49))


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


class _Site:
    """The shared replica seen as the crawl helpers want a site (its host map, quick settings)."""

    crawl_settings = FaultSite.crawl_settings

    def __init__(self, replica):
        self.replica = replica

    def host_map(self):
        return self.replica.host_map()


@pytest.fixture
def mounted(tmp_path):
    """mounted(size, *options): a tmpfs of that size (needs root), unmounted afterwards."""
    points = []

    def mount(size: str, *options: str) -> Path:
        point = tmp_path / f"disk{len(points)}"
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join((f"size={size}",) + options), "tmpfs",
                               str(point)], capture_output=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
        points.append(point)
        return point

    def remount(point: Path, *options: str) -> None:
        subprocess.run(["mount", "-o", ",".join(("remount",) + options), str(point)], check=True)

    mount.remount = remount
    yield mount
    for point in reversed(points):
        subprocess.run(["umount", str(point)], capture_output=True)


def run(tmp_path, site, items: Path, settings: dict | None = None, name: str = "run", timeout: float = 120) -> dict:
    """`scrapy crawl spacewar -O ITEMS` of a site to its end: returncode, output (stderr), log_text, stats_data."""
    log, stats = tmp_path / f"{name}.log", tmp_path / f"{name}.stats.json"
    settings = {"LOG_FILE": str(log), "STATS_FILE": str(stats), **(settings or {})}
    cmd = crawl_command(tmp_path, site, items=items, settings=settings, log=log, stats=stats)
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    log = Path(settings["LOG_FILE"])
    return {"returncode": proc.returncode, "output": proc.stderr,
            "log_text": log.read_text("utf-8", "replace") if log.is_file() else "",
            "stats_data": json.loads(stats.read_text()) if stats.is_file() else {}}


def refused_before_any_request(tmp_path, replica, settings: dict, *, items: Path | None = None) -> dict:
    """A crawl of the replica that must stop at start-up: its result, with what the replica saw."""
    before = len(replica.log)
    if items is None:
        items = tmp_path / "items.jsonl"
        items.write_text(OLD_FEED)  # an earlier run's feed, which a refused run must leave as it was
    result = run(tmp_path, _Site(replica), items, settings, timeout=60)
    result["requests"] = len(replica.log) - before
    result["text"] = result["output"] + result["log_text"]
    result["items_path"] = items
    return result


# --- bad setting values: 78 and one line naming the setting ------------------------------------------
BAD_SETTINGS = [
    ({"WARC_COMPRESS_LEVEL": "12"}, "WARC_COMPRESS_LEVEL=12: allowed: a whole number from 0 to 9"),
    ({"WACZ": "maybe"}, "WACZ=maybe: allowed: True or False"),
    ({"DOWNLOAD_DELAY": "abc"}, "DOWNLOAD_DELAY=abc: allowed: a number of at least 0"),
    ({"WARC_MAX_SIZE": "1GB"}, "WARC_MAX_SIZE=1GB: allowed: a whole number of at least 1"),
    ({"CONCURRENT_REQUESTS": "two"}, "CONCURRENT_REQUESTS=two: allowed: a whole number of at least 1"),
    ({"HOST_MAP": "notjson"}, "HOST_MAP=notjson: allowed: a JSON object"),
    ({"FALLBACK_WARN_RATIO": "2"}, "FALLBACK_WARN_RATIO=2: allowed: a number from 0 to 1"),
    ({"CLOSESPIDER_PAGECOUNT": "-5"}, "CLOSESPIDER_PAGECOUNT=-5: allowed: a whole number of at least 0"),
    ({"METRICS_PORT": "9100"}, "METRICS_PORT=9100: allowed only with REDIS_URL"),
    # a misspelt name: before, a WARNING and a full crawl, exit 0 (an incremental run silently was not one)
    ({"STATE_PTH": "state.sqlite"}, "-s STATE_PTH: no such setting; did you mean STATE_PATH?"),
    ({"WARC_DIRR": "w"}, "-s WARC_DIRR: no such setting; did you mean WARC_DIR?"),
]


@pytest.mark.parametrize("settings, named", BAD_SETTINGS, ids=[next(iter(s)) for s, _ in BAD_SETTINGS])
def test_a_bad_setting_value_exits_78_before_any_request_with_one_line_naming_it(tmp_path, replica, settings, named):
    result = refused_before_any_request(tmp_path, replica, settings)
    assert result["returncode"] == 78, result["text"][-3000:]
    assert result["requests"] == 0
    line = last_line(result["output"])
    assert f"Configuration error: {named}" in line and line.endswith("(exit status 78)")
    assert last_line(result["log_text"]) == line  # LOG_FILE says it too
    assert len(result["output"].strip().splitlines()) == 1  # nothing else on stderr
    assert "Traceback" not in result["text"]
    assert result["items_path"].read_text() == OLD_FEED  # -O left the earlier file as it was
    assert not (tmp_path / "warc").exists()


# --- outputs that cannot be written: 74 and one line naming the path ----------------------------------
UNWRITABLE = ["-O", "JOBDIR", "STATE_PATH", "LOG_FILE", "STATS_FILE", "REPORT_DIR", "WARC_DIR"]


@pytest.mark.parametrize("output", UNWRITABLE)
def test_an_output_that_cannot_be_written_exits_74_before_any_request_naming_the_path(tmp_path, replica, mounted,
                                                                                       output):
    readonly = mounted("1m", "ro")
    where = {"-O": readonly / "items.jsonl", "JOBDIR": readonly / "job", "STATE_PATH": readonly / "state.sqlite",
             "LOG_FILE": readonly / "crawl.log", "STATS_FILE": readonly / "stats.json",
             "REPORT_DIR": readonly / "reports", "WARC_DIR": readonly / "warc"}[output]
    settings = {} if output == "-O" else {output: str(where)}
    result = refused_before_any_request(tmp_path, replica, settings,
                                        items=where if output == "-O" else None)
    assert result["returncode"] == 74, result["text"][-3000:]
    assert result["requests"] == 0
    line = last_line(result["output"])
    assert f"at {where}: [Errno 30] Read-only file system (exit status 74)" in line, line
    assert "Traceback" not in result["text"]
    if output != "-O":
        assert (tmp_path / "items.jsonl").read_text() == OLD_FEED


# --- the feed's disk fills up mid-crawl ---------------------------------------------------------------
def test_a_full_feed_disk_stops_the_crawl_with_74_keeps_whole_lines_and_a_rerun_exports_the_rest(tmp_path,
                                                                                                 mounted):
    disk = mounted("16k")
    with FaultSite(n_articles=60) as site:
        job = {"JOBDIR": str(tmp_path / "job"), "INFLIGHT_FSYNC_INTERVAL": "0"}
        first = run(tmp_path, site, disk / "run1.jsonl", job, "run1")
        text = first["output"] + first["log_text"]
        assert first["returncode"] == 74, text[-3000:]
        assert "Traceback" not in text
        stats = first["stats_data"]
        assert stats["finish_reason"] == "feed_write_failed"
        written = read_items(disk / "run1.jsonl")  # every line whole (a cut line would not parse)
        assert 0 < len(written) < 60 and len(written) == stats["feed/items_written"]
        line = last_line(first["log_text"])
        assert f"the feed write failed ({disk / 'run1.jsonl'}: [Errno 28] No space left on device)" in line
        assert f"scrapy reprocess {tmp_path / 'warc'} -O" in line
        assert f"{len(written)} articles exported" in line and line.endswith("(exit status 74)")
        mounted.remount(disk, "size=8m")
        second = run(tmp_path, site, disk / "run2.jsonl", job, "run2")
        assert second["returncode"] == 0, second["log_text"][-3000:]
        again = [item["url"] for item in read_items(disk / "run2.jsonl")]
        first_urls = {item["url"] for item in written}
        assert not first_urls & set(again) and len(again) == len(set(again))
        assert first_urls | set(again) == site.article_urls()


# --- -O onto an earlier run's file ----------------------------------------------------------------------
def test_o_onto_an_existing_file_leaves_it_intact_when_nothing_is_exported(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    items = tmp_path / "items.jsonl"
    items.write_text(OLD_FEED)
    unreachable = {"www.spacewar.com:443": f"127.0.0.1:{port}", "spacewar.com:443": f"127.0.0.1:{port}"}

    class Closed:
        crawl_settings = FaultSite.crawl_settings

        def host_map(self):
            return unreachable

    result = run(tmp_path, Closed(), items, timeout=60)
    assert result["returncode"] == 69, result["log_text"][-3000:]
    assert items.read_text() == OLD_FEED
    assert "Traceback" not in result["output"] + result["log_text"]


# --- the state's disk fills up ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["64k", "200k"], ids=["at-start", "mid-crawl"])
def test_a_full_state_disk_exits_74_naming_the_state_and_a_rerun_exports_the_rest(tmp_path, mounted, size):
    # STATE_PATH on a disk that fills: before, at start-up exit 1 ("The crawl could not start: OperationalError:
    # database or disk is full"); mid-crawl exit 0 "finished", the pages whose state write failed counted as
    # download errors and their articles not exported, and the state's last batch lost at close
    disk = mounted(size)
    state = disk / "state.sqlite"
    with FaultSite(n_articles=60) as site:
        job = {"JOBDIR": str(tmp_path / "job"), "INFLIGHT_FSYNC_INTERVAL": "0", "STATE_PATH": str(state)}
        first = run(tmp_path, site, tmp_path / "run1.jsonl", job, "run1")
        text = first["output"] + first["log_text"]
        assert first["returncode"] == 74, text[-3000:]
        assert "Traceback" not in text
        line = last_line(first["log_text"] or first["output"])
        # the state, or the story groups' file beside it (which of the two fills first is the disk's choice)
        assert re.search(rf"{re.escape(str(state))}|{re.escape(str(disk / 'state.stories.sqlite'))}", line), line
        assert "database or disk is full" in line and line.endswith("(exit status 74)"), line
        assert "Error downloading" not in text
        mounted.remount(disk, "size=16m")
        second = run(tmp_path, site, tmp_path / "run2.jsonl", job, "run2")
        assert second["returncode"] == 0, second["log_text"][-3000:]
        exported = [item["url"] for item in read_items(tmp_path / "run1.jsonl") + read_items(tmp_path / "run2.jsonl")]
        assert set(exported) == site.article_urls()


# --- the JOBDIR deleted mid-crawl -------------------------------------------------------------------------
def test_a_jobdir_deleted_mid_crawl_exits_74_naming_it_and_a_rerun_exports_the_rest(tmp_path, replica):
    # before: exit 0 "finished: 73 pages archived" (a whole crawl archives 76), two asyncio tracebacks of Scrapy's
    # disk queue (FileNotFoundError .../requests.queue/...), its requests dropped, nothing left to resume from
    job = tmp_path / "job"
    settings = {"JOBDIR": str(job), "DOWNLOAD_DELAY": "0.1"}
    before = len(replica.log)
    proc, paths = start_crawl(tmp_path, _Site(replica), "run1", settings=settings)
    deadline = time.monotonic() + 60
    while len(replica.log) - before < 30 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the crawl ended before its JOBDIR could be deleted"
    shutil.rmtree(job)
    output = proc.communicate(timeout=120)[0].decode("utf-8", "replace")
    log = paths["log"].read_text("utf-8", "replace")
    assert proc.returncode == 74, log[-3000:]
    assert "Traceback" not in output + log
    line = last_line(log)
    assert f"Crawl outcome: stopped: JOBDIR at {job} went away; " in line and line.endswith("(exit status 74)"), line
    stats = json.loads(paths["stats"].read_text())
    assert stats["finish_reason"] == "jobdir_failed"
    assert warcio_check(*sorted((tmp_path / "warc").glob("*.warc.gz")))
    first = [item["url"] for item in read_items(paths["items"])]
    assert len(first) == stats["feed/items_written"]
    second = run(tmp_path, _Site(replica), tmp_path / "run2.jsonl", settings, "run2")
    assert second["returncode"] == 0, second["log_text"][-3000:]
    again = [item["url"] for item in read_items(tmp_path / "run2.jsonl")]
    assert not set(first) & set(again) and len(again) == len(set(again))
    assert set(first) | set(again) == {item["url"] for item in replica.expected_items()}


# --- two crawls at once on one state ----------------------------------------------------------------------
def test_a_second_crawl_on_a_state_in_use_exits_75_at_once_and_the_first_runs_whole(tmp_path, replica):
    # before: both ran; the second either stopped at once "STATE_PATH ... cannot be written (duplicate column name:
    # kind)" (both creating the file) or waited 30 s on SQLite's lock and stopped "the state write failed (database
    # is locked); free space ..." (exit 74), while the first skipped as not due what the second had just fetched
    # (37 pages, 11 articles, exit 0) and 11 articles were exported by both
    state = tmp_path / "state.sqlite"
    before = len(replica.log)
    first, paths = start_crawl(tmp_path / "a", _Site(replica), "a",
                               settings={"STATE_PATH": str(state), "DOWNLOAD_DELAY": "0.05"})
    deadline = time.monotonic() + 60
    while len(replica.log) - before < 10 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, "the first crawl ended before the second started"
    second = run(tmp_path / "b", _Site(replica), tmp_path / "b.jsonl", {"STATE_PATH": str(state)}, "b", timeout=60)
    assert second["returncode"] == 75, second["log_text"][-3000:]
    line = last_line(second["log_text"])
    assert (f"Cannot start: STATE_PATH at {state} is in use by another crawl (pid {first.pid}): one crawl per state "
            f"at a time; run this one once it has ended (exit status 75)") in line, line
    assert "Traceback" not in second["output"] + second["log_text"]
    assert not (tmp_path / "b.jsonl").exists()
    first.communicate(timeout=120)
    assert first.returncode == 0, paths["log"].read_text()[-3000:]
    assert {item["url"] for item in read_items(paths["items"])} == {item["url"] for item in replica.expected_items()}


def test_a_full_jobdir_disk_exits_74_naming_it_and_the_rerun_loses_no_article(tmp_path, replica, mounted):
    # before: the journal's ENOSPC was raised into the engine (a traceback per request), the run ended as it could,
    # and the rerun with the same JOBDIR exported 37 of 49 articles: the requests whose journal line was lost were
    # in the seen-set, filtered as done. (Scrapy's own SpiderState, writing JOBDIR/spider.state, and the export
    # journal still log a traceback each on the full disk.)
    disk = mounted("100k")
    job = {"JOBDIR": str(disk / "job"), "INFLIGHT_FSYNC_INTERVAL": "0"}
    first = run(tmp_path, _Site(replica), tmp_path / "run1.jsonl", job, "run1")
    assert first["returncode"] == 74, first["log_text"][-3000:]
    line = last_line(first["log_text"])
    assert f"Crawl outcome: stopped: JOBDIR write failed in {disk / 'job'} ([Errno 28] No space left on device)" in line
    mounted.remount(disk, "size=16m")
    second = run(tmp_path, _Site(replica), tmp_path / "run2.jsonl", job, "run2")
    assert second["returncode"] == 0, second["log_text"][-3000:]
    exported = [item["url"] for name in ("run1", "run2") for item in read_items(tmp_path / f"{name}.jsonl")
                if (tmp_path / f"{name}.jsonl").exists()]
    assert len(exported) == len(set(exported))
    assert set(exported) == {item["url"] for item in replica.expected_items()}
