"""End to end: `scrapy crawl spacewar` against the replica of the site, as a user runs it."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from collections import Counter
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

CONTRACT = ("url", "title", "published", "author", "location", "agency", "body", "images",
            "rights", "extraction", "warc")
SITE_HOSTS = {"www.spacewar.com", "spacewar.com"}
WARC_NAME = re.compile(r"^spacewar-\d{17}-\d{5}-[A-Za-z0-9._-]+\.warc\.gz$")


def records(result):
    out = []
    for path in result.warc_files():
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for rec in it:
                rec.filename = path.name
                rec.raw_payload = rec.raw_stream.read()
                out.append(rec)
    return out


@pytest.fixture(scope="module")
def warc_records(full_crawl):
    return records(full_crawl)


def test_crawl_finishes_cleanly(full_crawl):
    assert full_crawl.returncode == 0
    assert full_crawl.stats.get("finish_reason") == "finished"
    assert "Traceback" not in full_crawl.log


def test_every_expected_article_is_exported_exactly_once(full_crawl, replica):
    urls = [item["url"] for item in full_crawl.items]
    assert len(urls) == len(set(urls)), [u for u, n in Counter(urls).items() if n > 1]
    expected = {item["url"] for item in replica.expected_items()}
    assert set(urls) == expected, (set(urls) - expected, expected - set(urls))


def test_items_have_the_contract_fields(full_crawl):
    for item in full_crawl.items:
        assert set(CONTRACT) <= set(item), item["url"]
        parts = urlsplit(item["url"])
        assert parts.scheme == "https" and parts.netloc == "www.spacewar.com" and not parts.query
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["published"])
        assert "\n\n\n" not in item["body"] and item["body"] == item["body"].strip()
        assert item["author"] != "Staff Writers"
        assert "html" not in item and "raw" not in item


def test_items_equal_the_expected_ones(full_crawl, replica):
    got = {item["url"]: item for item in full_crawl.items}
    mismatches = []
    for exp in replica.expected_items():
        item = got.get(exp["url"])
        assert item is not None, exp["url"]
        for key, value in exp.items():
            if item.get(key) != value:
                mismatches.append((exp["url"], key, value, item.get(key)))
    assert not mismatches, mismatches[:5]


def test_the_modern_layout_article_is_extracted_by_the_fallback_and_counted(full_crawl):
    fallbacks = [i for i in full_crawl.items if i["extraction"] == "fallback"]
    assert len(fallbacks) >= 1
    assert full_crawl.stats.get("articles/extraction/fallback") == len(fallbacks)


def test_no_robots_disallowed_and_no_off_site_fetch(full_crawl, replica):
    """Off the site, only the network's image host is asked, and only for its robots.txt and the images
    the pages show (page requisites, REQUISITE_DOMAINS)."""
    disallowed = replica.disallowed_paths()
    assert disallowed
    for ex in full_crawl.exchanges:
        host = ex.host.split(":")[0]
        if host not in SITE_HOSTS:
            assert host == "www.spxdaily.com" and (ex.path == "/robots.txt" or ex.path.startswith("/images-hg/")), \
                (ex.host, ex.path)
        assert not any(ex.path.startswith(p) for p in disallowed), ex.path


def test_an_article_linked_several_ways_is_fetched_once(full_crawl):
    fetched = Counter((ex.scheme, ex.host.split(":")[0], ex.path) for ex in full_crawl.exchanges
                      if ex.path.startswith(("/reports/", "/afp/")) and ex.status == 200)
    assert fetched and max(fetched.values()) == 1, [k for k, n in fetched.items() if n > 1]
    assert all(scheme == "https" and host == "www.spacewar.com" and "?" not in path
               for scheme, host, path in fetched)


def test_only_gzip_and_deflate_are_asked_for(full_crawl):
    for ex in full_crawl.exchanges:
        head = ex.request_head.decode("latin-1").lower()
        m = re.search(r"^accept-encoding: *(.*?)\r$", head, re.M)
        assert m and m.group(1) == "gzip, deflate", head
        assert re.search(r"^user-agent: spacewar-archiver/", head, re.M)


def read_back_index(path, tmp_path):
    """cdxj-indexer's index of a copy of the WARC file `path` (same name), made by reading the file back."""
    import shutil

    from crawler.warc.cdxj import write_cdxj

    copy = tmp_path / "read-back" / path.name
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, copy)
    return write_cdxj(copy).read_bytes()


def test_warc_files_are_named_closed_indexed_and_pass_warcio_check(full_crawl, tmp_path):
    files = full_crawl.warc_files()
    assert files
    assert not list(full_crawl.warc_dir.glob("*.open"))
    for path in files:
        assert WARC_NAME.match(path.name), path.name
        # the index written as the records were is the one cdxj-indexer makes reading the file back
        index = path.with_name(path.name + ".cdxj").read_bytes()
        assert index.count(b"\n") > 50 and index == read_back_index(path, tmp_path), path.name
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-3000:]


def test_every_exchange_is_archived_as_a_linked_request_response_pair(full_crawl, warc_records):
    by_id = {r.rec_headers.get_header("WARC-Record-ID"): r for r in warc_records}
    responses = [r for r in warc_records if r.rec_type in ("response", "revisit")]
    # one response (or revisit) record per HTTP exchange the replica served
    assert len(responses) == len(full_crawl.exchanges)
    served = Counter(f"{ex.scheme}://{ex.host.split(':')[0]}{ex.path}" for ex in full_crawl.exchanges)
    archived = Counter(r.rec_headers.get_header("WARC-Target-URI") for r in responses)
    assert archived == served
    for resp in responses:
        req = by_id[resp.rec_headers.get_header("WARC-Concurrent-To")]
        assert req.rec_type == "request"
        assert req.rec_headers.get_header("WARC-Concurrent-To") == resp.rec_headers.get_header("WARC-Record-ID")
        assert resp.rec_headers.get_header("WARC-IP-Address") == "127.0.0.1"
        assert resp.rec_headers.get_header("WARC-Date")
    statuses = Counter(r.http_headers.get_statuscode() for r in responses)
    assert statuses["301"] >= 1 and statuses["404"] >= 1 and statuses["503"] >= 1


def test_each_file_opens_with_warcinfo(full_crawl):
    for path in full_crawl.warc_files():
        with open(path, "rb") as fh:
            first = next(iter(ArchiveIterator(fh)))
            assert first.rec_type == "warcinfo"
            fields = first.content_stream().read().decode()
            for name in ("software:", "format: WARC File Format 1.1", "robots: obey",
                         "http-header-user-agent: spacewar-archiver/",
                         "description: Crawl of https://www.spacewar.com/ and https://www.spacewar.com/spacewar.xml"):
                assert name in fields, fields


def test_response_payload_is_stored_as_received_still_gzipped(warc_records):
    gz = [r for r in warc_records if r.rec_type == "response"
          and r.http_headers.get_header("Content-Encoding") == "gzip"]
    assert gz, "the replica gzips text responses; the archive must keep them compressed"
    plain = [r for r in gz if not r.http_headers.get_header("Transfer-Encoding")]
    assert plain
    for rec in plain:
        assert rec.raw_payload[:2] == b"\x1f\x8b"  # the gzip stream as the server sent it
        assert gzip.decompress(rec.raw_payload).lstrip()[:1] in (b"<", b"U", b"#", b".")  # HTML/XML/robots/CSS


def test_item_warc_pointer_leads_to_its_response_record(full_crawl):
    for item in full_crawl.items:
        ptr = item["warc"]
        with open(full_crawl.warc_dir / ptr["filename"], "rb") as fh:
            fh.seek(ptr["offset"])
            rec = next(iter(ArchiveIterator(fh)))
        assert rec.rec_headers.get_header("WARC-Record-ID") == ptr["record_id"]
        assert rec.rec_type in ("response", "revisit")
        assert rec.http_headers.get_statuscode() == "200"


def test_fetched_at_is_the_time_its_response_record_says(full_crawl, warc_records):
    dates = {r.rec_headers.get_header("WARC-Record-ID"): r.rec_headers.get_header("WARC-Date")
             for r in warc_records if r.rec_type == "response"}
    for item in full_crawl.items:
        date = dates[item["warc"]["record_id"]]
        assert item["fetched_at"] == date[:19] + "Z", item["url"]


def test_redirect_and_retry_are_archived_and_the_item_has_the_final_url(full_crawl, warc_records, replica):
    redirects = [r for r in warc_records if r.rec_type == "response" and r.http_headers.get_statuscode() == "301"]
    targets = {r.http_headers.get_header("Location") for r in redirects}
    urls = {item["url"] for item in full_crawl.items}
    assert any(t and urlsplit(t).path in {urlsplit(u).path for u in urls} for t in targets)
    assert not any("_old_" in u for u in urls)
    failed_once = [r.rec_headers.get_header("WARC-Target-URI") for r in warc_records
                   if r.rec_type == "response" and r.http_headers.get_statuscode() == "503"]
    assert failed_once and all(u in urls for u in failed_once)


def test_truncated_response_is_archived_marked_and_not_exported(full_crawl, warc_records):
    truncated = [r for r in warc_records if r.rec_headers.get_header("WARC-Truncated")]
    assert truncated
    urls = {item["url"] for item in full_crawl.items}
    assert not any(r.rec_headers.get_header("WARC-Target-URI") in urls for r in truncated)


def test_cleaned_items_are_archived_as_json_records_referring_to_their_response(full_crawl, warc_records):
    item_records = [r for r in warc_records if r.rec_type == "metadata"
                    and r.rec_headers.get_header("Content-Type") == "application/json"]
    assert len(item_records) == len(full_crawl.items)
    ids = {i["warc"]["record_id"] for i in full_crawl.items}
    assert {r.rec_headers.get_header("WARC-Refers-To") for r in item_records} == ids


def test_each_capture_has_a_metadata_record_with_outlinks_and_hop_path(warc_records):
    responses = {r.rec_headers.get_header("WARC-Record-ID"): r for r in warc_records
                 if r.rec_type in ("response", "revisit")}
    captures = {}
    for rec in warc_records:
        if rec.rec_type == "metadata" and rec.rec_headers.get_header("Content-Type") == "application/warc-fields":
            target = rec.rec_headers.get_header("WARC-Concurrent-To")
            assert target in responses
            captures[target] = rec.raw_payload.decode()
    assert set(captures) == set(responses)  # one per capture
    home = next(i for i, r in responses.items() if r.rec_headers.get_header("WARC-Target-URI") == "https://www.spacewar.com/")
    assert "outlink: https://www.spacewar.com/Missile_Defense.html" in captures[home]
    assert "fetchTimeMs: " in captures[home]
    hops = [text for text in captures.values() if "hopsFromSeed: L" in text]
    assert hops, "pages found by links carry their hop path"


def test_links_requested_before_are_not_requested_again_but_every_record_lists_them(full_crawl, warc_records):
    section = "https://www.spacewar.com/Missile_Defense.html"  # in every article page's navigation
    responses = {r.rec_headers.get_header("WARC-Record-ID"): r.rec_headers.get_header("WARC-Target-URI")
                 for r in warc_records if r.rec_type in ("response", "revisit")}
    article_captures = [rec.raw_payload.decode() for rec in warc_records
                        if rec.rec_type == "metadata" and rec.rec_headers.get_header("Content-Type") == "application/warc-fields"
                        and "/reports/" in responses.get(rec.rec_headers.get_header("WARC-Concurrent-To"), "")]
    # the article pages the spider parsed (not the 3xx/4xx/5xx ones, nor the truncated one)
    article_captures = [text for text in article_captures if "status: 200\r\n" in text and "outlink: " in text]
    assert len(article_captures) >= 40
    assert all(f"outlink: {section}\r\n" in text for text in article_captures)
    # most of those links were requested once only: the spider skipped them, not the duplicate filter
    assert full_crawl.stats.get("links/requested_before", 0) > 10 * len(article_captures)
    assert full_crawl.stats.get("dupefilter/filtered", 0) < full_crawl.stats["links/requested_before"]


def test_records_hold_the_exact_bytes_the_replica_sent_and_received(full_crawl):
    """Byte-exact capture: the response record's block is what the server wrote to the socket,
    the request record's block what it read (status line, header case and order, chunked framing)."""
    blocks = {}
    for path in full_crawl.warc_files():
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, no_record_parse=True):
                if rec.rec_type in ("request", "response"):
                    uri = rec.rec_headers.get_header("WARC-Target-URI")
                    blocks.setdefault((rec.rec_type, uri), []).append(rec.raw_stream.read())
    exact = 0
    for ex in full_crawl.exchanges:
        uri = f"{ex.scheme}://{ex.host.split(':')[0]}{ex.path}"
        assert ex.response_bytes in blocks[("response", uri)], uri
        assert any(block.startswith(ex.request_head) for block in blocks[("request", uri)]), uri
        exact += 1
    assert exact == len(full_crawl.exchanges) > 50


def test_rolled_over_files_are_each_indexed_and_valid(replica, tmp_path):
    from tests.crawling import crawl

    result = crawl(tmp_path, replica.host_map(), settings={"WARC_MAX_SIZE": "60000"})
    files = result.warc_files()
    assert result.returncode == 0 and len(files) >= 3
    for path in files:
        cdxj = path.with_name(path.name + ".cdxj")
        assert cdxj.stat().st_size > 0 and cdxj.read_bytes() == read_back_index(path, tmp_path), path.name
        with open(path, "rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:]
    assert set(result.stats["warc/files"]) == {p.name for p in files}
