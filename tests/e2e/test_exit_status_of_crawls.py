"""The exit status of real crawls tells a scheduler whether the crawl archived anything, and the last log line says
why."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time


from tests.crawling import REPO, crawl
from tests.sites.faultsite import FaultSite


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


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
    expected = "expected WARC files (*.warc.gz, *.warc), ARC files (*.arc.gz, *.arc) or WACZ files (*.wacz)"
    # a file given by name that is no archive (the items of a crawl): before, the same 69 "robots.txt disallows"
    items = tmp_path / "items.jsonl"
    items.write_text('{"url": "https://www.spacewar.com/a.html"}\n')
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.warc.gz").write_bytes(b"not a WARC file" * 10)
    for path, says in ((tmp_path / "missing", f"no archive file or directory at {tmp_path / 'missing'}"),
                       (tmp_path / "empty", f"{tmp_path / 'empty'} holds no archive file (it is empty); {expected}"),
                       (items, f"nothing to read: {items}: a file starting with '{{\"url\": \"https://www.spacewar.', "
                               f"not a WARC file; {expected}, or a directory holding them"),
                       (tmp_path / "junk", f"nothing to read: {tmp_path / 'junk' / 'x.warc.gz'}: a file starting with "
                                           f"'not a WARC filenot a WARC file', not a WARC file; {expected}, or a "
                                           f"directory holding them")):
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"from_warc={path}",
             "-O", str(tmp_path / "items.jsonl")],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 78, proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        assert last_line(proc.stderr).endswith(f"from_warc: {says} (exit status 78)")


def test_a_state_path_that_is_not_a_crawl_state_exits_78_with_one_line_and_scrapy_state_66(tmp_path):
    # a STATE_PATH pointing at a corrupt file, or at an SQLite file of something else: the crawl ended with
    # "The crawl could not start: DatabaseError: file is not a database" and exit status 1 (Scrapy's "unexpected
    # error"), naming neither the setting nor the file; `scrapy state` printed a traceback; and a foreign SQLite
    # file was given a `pages` table
    state = tmp_path / "state.sqlite"
    state.write_bytes(b"garbage, not SQLite\n" * 20)
    before = state.read_bytes()
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-s", f"STATE_PATH={state}",
         "-s", f"WARC_DIR={tmp_path / 'warc'}", "-O", str(tmp_path / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 78, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert last_line(proc.stderr).endswith(
        f"Configuration error: STATE_PATH={state}: not a crawl state (file is not a database): give the state "
        f"file of earlier runs, or a new path (exit status 78)")
    assert state.read_bytes() == before
    proc = subprocess.run([sys.executable, "-m", "scrapy", "state", str(state)], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 66, proc.stderr[-3000:]
    assert proc.stderr.strip() == (f"scrapy state: STATE_PATH={state}: not a crawl state (file is not a database): "
                                   f"give the state file of earlier runs, or a new path")
    assert state.read_bytes() == before


def test_a_state_in_a_redis_that_is_down_exits_69_with_one_line_naming_it(tmp_path):
    # STATE_PATH=redis://... (a state on a Redis of its own, no REDIS_URL) whose server is down: before, the crawl
    # ended "stopped early (start_error)", exit 75, with the connection error only in tracebacks
    url = f"redis://127.0.0.1:{closed_port()}/0"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-s", f"STATE_PATH={url}",
         "-s", f"WARC_DIR={tmp_path / 'warc'}", "-O", str(tmp_path / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 69, proc.stderr[-3000:]
    line = last_line(proc.stderr)
    assert f"Cannot start: Redis at {url} (STATE_PATH) is unreachable (" in line, line
    assert line.endswith("start it, or fix STATE_PATH (exit status 69)")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "items.jsonl").exists()


def test_a_misspelt_spider_argument_exits_78_before_any_request_naming_it(tmp_path):
    # `-a from_warcs=DIR` (for from_warc): before, Scrapy set it as an attribute nothing reads, and the crawl
    # fetched the live site instead of rebuilding from the archive, exit 0, not a word about it
    port = closed_port()
    host_map = {"www.spacewar.com:443": f"127.0.0.1:{port}", "spacewar.com:443": f"127.0.0.1:{port}"}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"from_warcs={tmp_path}",
         "-s", f"HOST_MAP={json.dumps(host_map)}", "-s", f"WARC_DIR={tmp_path / 'warc'}",
         "-O", str(tmp_path / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 78, proc.stderr[-3000:]
    assert last_line(proc.stderr).endswith(
        f"Configuration error: -a from_warcs={tmp_path}: spider spacewar takes no such argument (a typo?); its "
        f"arguments: from_warc, sites, wayback (exit status 78)")
    assert "Traceback" not in proc.stderr and "Spider opened" not in proc.stderr
    assert not (tmp_path / "warc").exists()
    # scrapyd's own argument (_job) is not an operator's: it passes
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", "_job=abc", "-s", f"HOST_MAP={json.dumps(host_map)}",
         "-s", f"WARC_DIR={tmp_path / 'warc'}", "-s", "RETRY_TIMES=0", "-O", str(tmp_path / "items.jsonl")],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 69, proc.stderr[-3000:]


def test_a_setting_name_near_none_the_crawl_reads_is_only_warned_of(tmp_path):
    # an operator's own extension may read a setting the project does not know: only a name one or two edits from a
    # known one is a typo (tests/e2e/test_operator_faults.py: -s STATE_PTH exits 78); this one is warned of and run
    port = closed_port()
    host_map = {"www.spacewar.com:443": f"127.0.0.1:{port}", "spacewar.com:443": f"127.0.0.1:{port}"}
    result = crawl(tmp_path, host_map, settings={"MYORG_NOTIFY_URL": "https://example.org/hook", "RETRY_TIMES": "0"})
    assert result.returncode == 69, result.log[-3000:]
    assert "WARNING: -s MYORG_NOTIFY_URL: no part of the crawl reads this setting (a typo?)" in result.log
