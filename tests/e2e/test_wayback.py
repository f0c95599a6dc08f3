"""The backfill (`scrapy crawl spacewar -a wayback=BASE`) against a real Wayback: pywb in the Internet Archive's layout.

The held-out archive is the shared crawl of the replica (tests/conftest.py full_crawl) served by pywb
behind tests/sites/wayback.py, reached as http://web.archive.org (HOST_MAP sends that host to the
proxy; the replica, "the live site", stays reachable under its own names, so a request that
leaked to it would show in its log). The backfill must give every article the archive holds a
complete capture of as the live crawl's item (all fields but the capture's own: fetched_at, warc,
captured_at, source), with the capture time, from a WARC response record under the article's
URL and capture time, and never ask the live site for anything. `scrapy reprocess` of its WARC
files gives the same items back; interrupted (Ctrl-C, kill -9), it resumes with its JOBDIR.
The same backfill pointed at the pywb collection itself (`-a wayback=http://127.0.0.1:PORT/coll`,
pywb's own layout, no proxy) gives the same items.
"""

from __future__ import annotations

import collections
import io
import json
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.crawling import REPO, crawl, read_items, run_crawl, start_crawl, warcio_check
from tests.replay import tools
from tests.sites.wayback import get, wayback_archive

BASE = "http://web.archive.org"
#: the host name the pywb collection is reached under when the backfill speaks pywb's layout
PYWB_HOST = "pywb.archive.test"
#: the fields a capture has of its own: when and where it was fetched and archived
CAPTURE_FIELDS = ("fetched_at", "warc", "captured_at", "source")


@pytest.fixture(scope="module")
def pywb_installed():
    tools.need("pywb")


#: older captures added to the archive: (article, 14-digit time); the first with its headline edited
OLD_EDITED, OLD_OF_TRUNCATED = "20050607080910", "20060102030405"
EDITED = "EARLIER HEADLINE: "


@pytest.fixture(scope="module")
def older(full_crawl, replica, tmp_path_factory) -> dict:
    """A WARC file of older captures, as an archive holds them: article A in 2005 with another headline, and
    a complete capture (A's page) of the article whose live capture is cut off, in 2006."""
    truncated = next(a.url for a in replica.site.articles if a.fault == "truncated")
    live = sorted(item["url"] for item in full_crawl.items)[0]
    page = None
    for path in full_crawl.warc_files():
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == live:
                    page = record.content_stream().read()
    title = next(item["title"] for item in full_crawl.items if item["url"] == live)
    assert page and title.encode() in page
    path = tmp_path_factory.mktemp("older") / "older.warc.gz"
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, when, body in [(live, OLD_EDITED, page.replace(title.encode(), (EDITED + title).encode())),
                                (truncated, OLD_OF_TRUNCATED, page)]:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            date = datetime.strptime(when, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http, warc_headers_dict={"WARC-Date": date}))
    return {"path": path, "edited": live, "edited_title": EDITED + title, "truncated": truncated}


@pytest.fixture(scope="module")
def archive(pywb_installed, full_crawl, older, tmp_path_factory):
    assert full_crawl.returncode == 0
    with wayback_archive([*full_crawl.warc_files(), older["path"]], tmp_path_factory.mktemp("wayback")) as proxy:
        yield proxy
    assert not proxy.errors, proxy.errors[0]


def backfill(archive, replica, outdir, settings=None, args=()):
    """A backfill run against the archive; the result with the requests the replica and the archive saw."""
    seen_live, seen_archive = len(replica.log), len(archive.requests)
    host_map = {**replica.host_map(), "web.archive.org:80": archive.base.split("://", 1)[1]}
    result = crawl(outdir, host_map, args=["-a", f"wayback={BASE}", *args],
                   settings={"WAYBACK_PAGE_SIZE": "20", **(settings or {})})
    result.live_requests = replica.log[seen_live:]
    result.archive_requests = archive.requests[seen_archive:]
    return result


@pytest.fixture(scope="module")
def run(archive, replica, tmp_path_factory):
    """The backfill of the latest versions, its first request answered 429 with Retry-After: 2."""
    archive.answer_next(429, 1, {"Retry-After": "2"})
    started = time.monotonic()
    result = backfill(archive, replica, tmp_path_factory.mktemp("backfill"))
    result.seconds = time.monotonic() - started
    return result


@pytest.fixture(scope="module")
def every_version(archive, replica, tmp_path_factory):
    """WAYBACK_VERSIONS=all with STATE_PATH, then the same backfill again: the archive holds nothing new."""
    outdir = tmp_path_factory.mktemp("versions")
    settings = {"WAYBACK_VERSIONS": "all", "STATE_PATH": str(outdir / "state.sqlite")}
    first = backfill(archive, replica, outdir / "first", settings)
    again = backfill(archive, replica, outdir / "again", settings)
    return first, again


def records(paths) -> list:
    out = []
    for path in paths:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                out.append((record.rec_type, dict(record.rec_headers.headers), record.content_stream().read()))
    return out


def partition(items, among) -> set:
    """The story groups of `items` as sets of URLs (among the URLs of `among`), whatever their ids."""
    groups = collections.defaultdict(set)
    for item in items:
        if item["url"] in among:
            groups[item["story_group"]].add(item["url"])
    return {frozenset(urls) for urls in groups.values()}


def test_every_archived_article_is_the_live_crawls_item_with_its_capture_time(run, full_crawl, older):
    assert run.returncode == 0, run.log[-3000:]
    live = {item["url"]: item for item in full_crawl.items}
    items = {item["url"]: item for item in run.items}
    assert len(run.items) == len(items)  # latest only: one item per article
    # every article of the live crawl, and the one whose live capture is cut off, from its older capture
    assert set(items) == set(live) | {older["truncated"]} and len(items) >= 40
    assert items[older["truncated"]]["captured_at"] == "2006-01-02T03:04:05Z"
    assert items[older["edited"]]["title"] == live[older["edited"]]["title"]  # the latest version, not 2005's
    for url, item in items.items():
        if url == older["truncated"]:
            continue
        assert {k: v for k, v in item.items() if k not in (*CAPTURE_FIELDS, "story_group")} == \
               {k: v for k, v in live[url].items() if k not in (*CAPTURE_FIELDS, "story_group")}, url
        # the archive holds the live crawl's capture: its time is the live item's fetch time, to the second
        assert item["captured_at"] == live[url]["fetched_at"][:19] + "Z", url
        assert item["source"] == "web.archive.org"
        assert item["fetched_at"] > item["captured_at"]  # fetched from the archive now
    # the same stories: a group's id is its founding copy's, the first to arrive, which the live crawl's
    # concurrency decides and the backfill's listing order does not (crawler/syndication/groups.py)
    assert partition(items.values(), live) == partition(live.values(), live)
    # its latest capture is cut off (a 200 in the index): the next older one made the item
    assert run.stats["wayback/fallback/cut_off"] == 1
    assert "wayback/no_complete_capture" not in run.stats


def test_the_archives_429_is_waited_for_as_it_asked_and_the_archive_read_one_request_at_a_time(run):
    assert run.archive_requests[0] and run.stats["retry/retry_after_honoured"] == 1
    assert run.seconds >= 2
    # the crawl's own settings (FAST: DOWNLOAD_DELAY=0) win over the backfill's politeness defaults,
    # which the unit tests check (tests/unit/backfill/test_addon.py); one in flight stays
    assert run.stats["downloader/request_count"] == len(run.archive_requests)


def test_every_version_is_an_item_and_a_second_run_fetches_no_capture(every_version, full_crawl, older):
    first, again = every_version
    assert first.returncode == 0 and again.returncode == 0, (first.log[-2000:], again.log[-2000:])
    versions = {}
    for item in first.items:
        versions.setdefault(item["url"], []).append(item)
    assert len(versions[older["edited"]]) == 2
    assert sorted(i["title"] for i in versions[older["edited"]]) == sorted(
        [older["edited_title"], next(i["title"] for i in full_crawl.items if i["url"] == older["edited"])])
    assert {i["captured_at"] for i in versions[older["edited"]]} > {"2005-06-07T08:09:10Z"}
    assert len(versions) == len(full_crawl.items) + 1  # the truncated article's complete 2006 capture
    # nothing new in the archive: the listing is read again, no capture is fetched, nothing exported
    assert [t for t in again.archive_requests if t.startswith("/web/")] == []
    assert any(t.startswith("/cdx/search/cdx?") for t in again.archive_requests)
    assert again.items == [] and again.stats["wayback/dropped/known"] >= len(first.items)
    assert first.live_requests == [] and again.live_requests == []


def test_pywb_replays_a_backfilled_article_at_its_capture_time(run, tmp_path):
    item = next(i for i in run.items if i["captured_at"].startswith("2006"))
    with wayback_archive(run.warc_files(), tmp_path) as replay:
        answer = get(f"{replay.base}/web/20060102030405id_/{item['url']}")
    assert answer.status == 200 and item["title"].encode() in answer.body_decoded()
    assert answer.headers["memento-datetime"] == "Mon, 02 Jan 2006 03:04:05 GMT"


def test_a_base_that_is_not_an_http_url_is_one_line_and_exit_status_78(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", "wayback=ftp://archive.example",
                           "-s", f"WARC_DIR={tmp_path / 'warc'}", "-O", str(tmp_path / "items.jsonl")],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 78, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "-a wayback=ftp://archive.example: archive base URL must be an http(s) URL with a host, not "
        "'ftp://archive.example' (exit status 78)")


def test_no_request_reaches_the_live_site(run):
    assert run.live_requests == []
    assert run.archive_requests and all(t.startswith(("/cdx/search/cdx?", "/web/", "/robots.txt"))
                                        for t in run.archive_requests)
    assert all("id_/" in t for t in run.archive_requests if t.startswith("/web/"))
    assert run.stats["wayback/cdx_pages"] >= 3  # pages of 20, by resume key


def test_a_response_record_under_the_original_url_and_capture_time_for_every_item(run):
    assert warcio_check(run.warc_files())
    by_id = {headers["WARC-Record-ID"]: (kind, headers, body) for kind, headers, body in records(run.warc_files())}
    for item in run.items:
        kind, headers, body = by_id[item["warc"]["record_id"]]
        assert kind == "response"
        assert headers["WARC-Target-URI"] == item["url"]
        assert headers["WARC-Date"] == item["captured_at"]
        assert headers["WARC-Source-URI"].startswith(f"{BASE}/web/") and "id_/" in headers["WARC-Source-URI"]
        assert headers["WARC-Creation-Date"][:19] == item["fetched_at"][:19]
    exchanges = [h for kind, h, _ in by_id.values() if kind == "metadata" and h.get("X-Record-Kind") ==
                 "archive-exchange"]
    assert {h["WARC-Refers-To"] for h in exchanges} >= {item["warc"]["record_id"] for item in run.items}
    listings = [body for kind, h, body in by_id.values() if kind == "resource"
                and h["Content-Type"] == "application/json"]
    assert len(listings) == run.stats["wayback/cdx_pages"]
    assert all(json.loads(body)[0][0] == "urlkey" for body in listings)


def reprocess(*args) -> subprocess.CompletedProcess:
    """`python -m scrapy reprocess ARGS` from the project directory, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "scrapy", "reprocess", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)


def test_reprocess_of_the_backfills_warc_files_gives_the_backfills_items(run, tmp_path):
    """The dataset rebuilds from its archives: each item equal to the one the backfill exported, every field, the
    `warc` pointer included (both point to the capture's response record); the archive exchanges' metadata
    records and the CDX answers' resource records are no item and no error."""
    assert run.returncode == 0
    out, summary = tmp_path / "rebuilt.jsonl", tmp_path / "summary.json"
    proc = reprocess(run.warc_dir, "-O", out, "--summary", summary)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rebuilt = {item["url"]: item for item in read_items(out)}
    exported = {item["url"]: item for item in run.items}
    assert set(rebuilt) == set(exported) and len(rebuilt) == len(read_items(out))
    differ = [(url, name, item[name], rebuilt[url].get(name)) for url, item in exported.items() for name in item
              if rebuilt[url].get(name) != item[name]]
    assert differ == []
    assert all(list(rebuilt[url]) == list(item) for url, item in exported.items())  # same fields, same order
    assert {item["source"] for item in rebuilt.values()} == {"web.archive.org"}
    s = json.loads(summary.read_text())
    assert s["errors"] == 0 and s["articles"] == len(exported)
    # what is not an item: the cut-off capture, and the archive's own records, skipped on their headers
    # (a metadata or resource record is never read as a page; their URLs are the archive's, off the network)
    assert set(s["non_articles"]) <= {"truncated", "off_site"}, s["non_articles"]
    assert s["non_articles"].get("truncated") == 1


def count_lines(path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def journal_pending(jobdir) -> set[str]:
    """The request targets (path and query) a killed run's journal holds as accepted and not finished."""
    import base64
    import pickle

    from crawler.journal.appendlog import REQUESTS, SUBDIR, AppendJournal
    from crawler.journal.scheduler import pending_requests

    pending = pending_requests(AppendJournal.read_lines(jobdir / SUBDIR / REQUESTS))
    targets = set()
    for payload in pending.values():
        url = pickle.loads(base64.b64decode(payload))["url"]
        targets.add(url.split("://", 1)[1].partition("/")[1] + url.split("://", 1)[1].partition("/")[2])
    return targets


@pytest.mark.parametrize("sig, versions", [(signal.SIGINT, "latest"), (signal.SIGKILL, "all")],
                         ids=["Ctrl-C", "kill-9-all-versions"])
def test_an_interrupted_backfill_resumes_with_its_jobdir_every_article_once(archive, replica, run, every_version,
                                                                            tmp_path, sig, versions):
    """Interrupted once it exported some articles (Ctrl-C once: 75; kill -9), the same command with the same JOBDIR
    and WARC_DIR takes up where it stopped: every article (with WAYBACK_VERSIONS=all, every version) once across
    the two runs' files, no capture or listing page fetched again that the first run had done, the second run
    exits 0 and its WARC files pass."""
    host_map = {**replica.host_map(), "web.archive.org:80": archive.base.split("://", 1)[1]}
    # a short look-ahead and no warm-up (as tests/e2e/test_killed_worker.py): articles are exported before the stop
    settings = {"WAYBACK_PAGE_SIZE": "20", "JOBDIR": str(tmp_path / "job"), "DOWNLOAD_DELAY": "0.05",
                "CLEANING_LOOKAHEAD": "3", "CLEANING_WARMUP": "0", "WAYBACK_VERSIONS": versions}
    expected = every_version[0].items if versions == "all" else run.items
    seen = len(archive.requests)
    proc, first = start_crawl(tmp_path, host_map, "run1", settings=settings, args=["-a", f"wayback={BASE}"])
    began = time.monotonic()
    while count_lines(first["items"]) < 2:
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-3000:]
        assert time.monotonic() - began < 60
        time.sleep(0.01)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == (75 if sig == signal.SIGINT else -9), out.decode(errors="replace")[-3000:]
    first_requests = archive.requests[seen:]
    pending = journal_pending(tmp_path / "job") if sig == signal.SIGKILL else set()
    second = run_crawl(tmp_path, host_map, "run2", settings=settings, args=["-a", f"wayback={BASE}"])
    assert second["returncode"] == 0, second["output"][-3000:] + second["log_text"][-3000:]
    second_requests = archive.requests[seen + len(first_requests):]
    # every article (version) once across the runs' files: those the uninterrupted backfill exported
    captures = collections.Counter((item["url"], item["captured_at"]) for path in (first["items"], second["items"])
                                   for item in read_items(path))
    assert set(captures) == {(item["url"], item["captured_at"]) for item in expected}
    assert [c for c, n in captures.items() if n > 1] == []
    assert read_items(first["items"]) and read_items(second["items"])
    # nothing done fetched again: only what the killed run's journal held as not finished (its item not exported;
    # Ctrl-C: nothing)
    again = (set(first_requests) & set(second_requests)) - {"/robots.txt"}
    assert again <= pending, sorted(again - pending)
    warc_files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert list((tmp_path / "warc").glob("*.open")) == [] and warcio_check(warc_files)
    responses = {h["WARC-Record-ID"] for kind, h, _ in records(warc_files) if kind == "response"}
    assert all(item["warc"]["record_id"] in responses for path in (first["items"], second["items"])
               for item in read_items(path))
    assert second["stats_data"]["finish_reason"] == "finished"
    if sig == signal.SIGINT:
        # the job is done: run again, it asks the archive for nothing, exports nothing and says so, exit status 0
        third = run_crawl(tmp_path, host_map, "run3", settings=settings, args=["-a", f"wayback={BASE}"])
        assert third["returncode"] == 0, third["log_text"][-3000:]
        assert "nothing left to do" in third["log_text"].splitlines()[-1]
        assert archive.requests[seen + len(first_requests) + len(second_requests):] == []
        assert read_items(third["items"]) == []


@pytest.fixture(scope="module")
def direct(archive, replica, tmp_path_factory):
    """The backfill with BASE the pywb collection itself (pywb's layout: BASE/cdx, BASE/<ts>id_/<url>), reached as
    http://pywb.archive.test/coll (HOST_MAP; the address policy refuses 127.0.0.1 by its address)."""
    seen_live, seen_proxy = len(replica.log), len(archive.requests)
    pywb = urlsplit(archive.collection_url)
    coll = f"http://{PYWB_HOST}{pywb.path}"
    host_map = {**replica.host_map(), f"{PYWB_HOST}:80": pywb.netloc}
    result = crawl(tmp_path_factory.mktemp("direct"), host_map, args=["-a", f"wayback={coll}"])
    result.coll = coll
    result.live_requests = replica.log[seen_live:]
    result.proxy_requests = archive.requests[seen_proxy:]
    return result


def test_pointed_at_a_pywb_collection_directly_every_article_is_the_live_crawls_item(direct, full_crawl, older):
    assert direct.returncode == 0, direct.log[-3000:]
    live = {item["url"]: item for item in full_crawl.items}
    items = {item["url"]: item for item in direct.items}
    assert len(direct.items) == len(items)
    assert set(items) == set(live) | {older["truncated"]} and len(items) >= 40
    assert items[older["truncated"]]["captured_at"] == "2006-01-02T03:04:05Z"
    assert items[older["edited"]]["title"] == live[older["edited"]]["title"]  # the latest version, not 2005's
    for url, item in items.items():
        assert item["source"] == PYWB_HOST
        if url == older["truncated"]:
            continue
        assert {k: v for k, v in item.items() if k not in (*CAPTURE_FIELDS, "story_group")} == \
               {k: v for k, v in live[url].items() if k not in (*CAPTURE_FIELDS, "story_group")}, url
        assert item["captured_at"] == live[url]["fetched_at"][:19] + "Z", url
    assert direct.stats["wayback/fallback/cut_off"] == 1 and "wayback/no_complete_capture" not in direct.stats
    # pywb has no resume key: one answer per article prefix, under its cap
    assert direct.stats["wayback/cdx_pages"] == 2 and "wayback/bad_answer" not in direct.stats \
        and "wayback/listings_left_out" not in direct.stats


def test_pointed_at_a_pywb_collection_no_request_leaves_it_and_each_item_has_its_response_record(direct):
    assert direct.live_requests == [] and direct.proxy_requests == []
    coll = direct.coll
    warc = records(direct.warc_files())
    assert warcio_check(direct.warc_files())
    # every exchange is in the WARC files: each URL fetched is the collection's CDX API, an id_ capture of it,
    # or its host's robots.txt
    fetched = {h["WARC-Target-URI"] for kind, h, _ in warc if kind == "metadata" and
               h.get("X-Record-Kind") == "archive-exchange"}
    fetched |= {h["WARC-Target-URI"] for kind, h, _ in warc if kind == "request"}
    # (pywb redirects /robots.txt to /robots.txt/, then answers 404: no rules)
    robots = {f"http://{PYWB_HOST}/robots.txt", f"http://{PYWB_HOST}/robots.txt/"}
    capture = re.compile(re.escape(coll) + r"/\d{14}id_/https?://.+")
    assert [u for u in fetched if not (u.startswith(f"{coll}/cdx?") or capture.fullmatch(u) or u in robots)] == []
    assert len([u for u in fetched if capture.fullmatch(u)]) >= len(direct.items)
    by_id = {h["WARC-Record-ID"]: (kind, h) for kind, h, _ in warc}
    for item in direct.items:
        kind, headers = by_id[item["warc"]["record_id"]]
        assert kind == "response" and headers["WARC-Target-URI"] == item["url"]
        assert headers["WARC-Date"] == item["captured_at"]
        stamp = item["captured_at"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
        assert headers["WARC-Source-URI"] == f"{coll}/{stamp}id_/{item['url']}"
    listings = [body for kind, h, body in warc if kind == "resource" and h["WARC-Target-URI"].startswith(f"{coll}/cdx?")]
    assert len(listings) == 2 and all(json.loads(body.splitlines()[0])["urlkey"] for body in listings)
