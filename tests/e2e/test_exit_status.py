"""The exit status tells a scheduler whether the crawl archived anything, and the last log line says why."""

from __future__ import annotations

import socket
import subprocess
import sys
import time


from crawler.reporting import outcome
from crawler.reporting.outcome import decide
from tests.crawling import REPO, crawl
from tests.sites.faultsite import FaultSite


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


# --- the decision, from the final stats ---------------------------------------------------------
def test_a_crawl_that_archived_pages_exits_0():
    result = decide({"warc/pages_archived": 12, "item_scraped_count": 5}, "finished")
    assert result.status == 0 and "12 pages archived, 5 articles exported" in result.summary


def test_the_operators_bounds_are_not_failures():
    assert decide({"warc/pages_archived": 3}, "closespider_pagecount").status == 0
    assert decide({"warc/pages_archived": 3}, "closespider_timeout").status == 0


def test_nothing_archived_names_the_cause():
    dns = decide({"download/unreachable/www.spacewar.com": "the host name does not resolve"}, "finished")
    assert dns.status == outcome.NOTHING_ARCHIVED == 69
    assert "www.spacewar.com: the host name does not resolve" in dns.summary
    refused = decide({"safety/refused/private_address": 2}, "finished")
    assert refused.status == 69 and "address policy" in refused.summary
    robots = decide({"robotstxt/forbidden": 2, "warc/pages_archived": 0}, "finished")
    assert robots.status == 69 and "robots.txt" in robots.summary
    errors = decide({"downloader/response_status_count/503": 3}, "finished")
    assert errors.status == 69 and "HTTP 503 x3" in errors.summary


def test_a_stop_from_outside_or_an_error_bound_is_stopped_early():
    assert decide({"warc/pages_archived": 3}, "shutdown").status == outcome.STOPPED_EARLY == 75
    assert decide({"warc/pages_archived": 3}, "closespider_errorcount").status == 75
    assert decide({}, "shutdown").status == 75  # stopped before anything: still "stopped early"


def test_a_failed_warc_write_wins_over_everything_else():
    failed = decide({"warc/pages_archived": 3, "warc/write_failed": "[Errno 28] No space left"}, "shutdown")
    assert failed.status == outcome.WARC_WRITE_FAILED == 74 and "No space left" in failed.summary


def test_a_worker_whose_share_held_only_errors_exits_by_the_shared_crawl():
    alone = decide({"downloader/response_status_count/404": 3}, "finished")
    assert alone.status == 69
    shared = decide({"downloader/response_status_count/404": 3, "frontier/crawl_pages_archived": 40}, "finished")
    assert shared.status == 0
    assert "this worker archived no page itself" in shared.summary and "archived 40 pages" in shared.summary
    assert decide({"frontier/crawl_pages_archived": 0}, "finished").status == 69


def test_a_rebuild_from_warc_counts_the_pages_it_replayed():
    rebuilt = decide({"warcreplay/pages": 4, "item_scraped_count": 2}, "finished")
    assert rebuilt.status == 0 and rebuilt.summary == "finished: 4 pages replayed, 2 articles exported"


# --- real crawls --------------------------------------------------------------------------------
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_site_ends_fast_with_one_clear_line_and_status_69(tmp_path):
    port = closed_port()
    host_map = {"www.spacewar.com:443": f"127.0.0.1:{port}", "spacewar.com:443": f"127.0.0.1:{port}"}
    started = time.monotonic()
    result = crawl(tmp_path, host_map, settings={"RETRY_BACKOFF_BASE": "0.2"})
    assert time.monotonic() - started < 60
    assert result.returncode == 69
    log = result.log
    assert "Traceback" not in log
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert "Cannot fetch from www.spacewar.com: the connection was refused" in errors[0]
    assert "Crawl outcome: nothing archived: the site could not be reached (www.spacewar.com" in last_line(log)
    assert last_line(log).endswith("(exit status 69)")
    assert result.items == []


def test_a_site_whose_robots_txt_denies_the_start_pages_exits_69(tmp_path):
    with FaultSite(n_articles=2, robots="User-agent: *\nDisallow: /\n") as site:
        result = crawl(tmp_path, site.host_map())
    assert result.returncode == 69
    assert "nothing archived: robots.txt disallows the start pages" in last_line(result.log)


def test_a_successful_crawl_ends_with_its_outcome(full_crawl):
    assert full_crawl.returncode == 0
    line = last_line(full_crawl.log)
    assert "Crawl outcome: finished: " in line and line.endswith("(exit status 0)")
    assert full_crawl.stats["outcome/exit_status"] == 0


def test_a_feature_switched_on_without_its_extra_stops_at_start_up_with_one_line(tmp_path):
    # stand-in for an environment without the `replay` extra: a `wacz` that is not there
    fake = tmp_path / "site"
    (fake / "wacz").mkdir(parents=True)
    (fake / "wacz" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'wacz'\", name='wacz')\n")
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-s", "WACZ=True",
         "-s", f"WARC_DIR={tmp_path / 'warc'}", "-O", str(tmp_path / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(fake), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert proc.returncode == 78, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert last_line(proc.stderr).endswith(
        'WACZ=True is set but wacz is not installed: pip install -e ".[replay]" (exit status 78)')


def test_a_rebuild_from_a_path_without_warc_files_is_a_configuration_error(tmp_path):
    # Scrapy only logs a download handler that fails to load: without this check every request failed and the
    # crawl ended as "robots.txt disallows the start pages" (69), which sends an operator to the wrong place
    (tmp_path / "empty").mkdir()
    for path, says in ((tmp_path / "missing", "no WARC file or directory at"),
                       (tmp_path / "empty", "no WARC files (*.warc.gz, *.warc) in")):
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"from_warc={path}",
             "-O", str(tmp_path / "items.jsonl")],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 78, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        assert last_line(proc.stderr).endswith(f"from_warc: {says} {path} (exit status 78)")
