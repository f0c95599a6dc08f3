"""Rebuild: `scrapy crawl spacewar -a from_warc=PATH` answers every request from the archive.

These tests drive the replay download handler over small WARC files written with the project's own
writer; tests/e2e/test_rebuild_from_warc.py rebuilds a whole crawl of the replica.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import pytest
import scrapy
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.warc.digests import sha1_digest
from crawler.warc.files import WarcFileWriter
from crawler.warc.inputs import NoInput
from crawler.warc.records import new_record_id, warc_date
from crawler.offline.replay import WarcReplayDownloadHandler
from tests.crawling import project_crawler
from crawler.warc.archive import WarcArchive

SITE = "https://www.spacewar.com"
IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PAGE = b"<html><head><title>Archived</title></head><body><h1>Archived page<br></h1><p>First paragraph.</body></html>"


def chunked(data: bytes, size: int = 40) -> bytes:
    parts = [data[i:i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


class Archive:
    """A WARC file written the way the crawler writes one: request + response records."""

    def __init__(self, directory):
        self.directory = directory
        self.writer = WarcFileWriter(directory, "spacewar", host="test", max_size=1_000_000_000)
        self.ids = {}

    def exchange(self, url, head: bytes, block_body: bytes, *, revisit_of=None, digest_of=b"",
                 extra=(), ip="127.0.0.1"):
        request = b"GET / HTTP/1.1\r\nHost: www.spacewar.com\r\n\r\n"
        common = [("WARC-Date", warc_date()), ("WARC-Target-URI", url), ("WARC-IP-Address", ip)]
        self.writer.write_record([("WARC-Type", "request"), ("WARC-Record-ID", new_record_id()), *common,
                                  ("Content-Type", "application/http;msgtype=request")], request)
        record_id = new_record_id()
        headers = [("WARC-Type", "revisit" if revisit_of else "response"), ("WARC-Record-ID", record_id),
                   *common, ("Content-Type", "application/http;msgtype=response"),
                   ("WARC-Payload-Digest", sha1_digest(digest_of or block_body))]
        if revisit_of:
            headers += [("WARC-Profile", IDENTICAL), ("WARC-Refers-To", revisit_of),
                        ("WARC-Refers-To-Target-URI", SITE + "/"), ("WARC-Refers-To-Date", warc_date())]
        location = self.writer.write_record(headers + list(extra), head + block_body)
        self.ids[url] = location.pointer()
        return location

    def item_record(self, url):
        """The JSON item record the recorder writes under the page's URL."""
        self.writer.write_record([("WARC-Type", "metadata"), ("WARC-Record-ID", new_record_id()),
                                  ("WARC-Date", warc_date()), ("WARC-Target-URI", url),
                                  ("Content-Type", "application/json")], b'{"title": "not a page"}')

    def close(self):
        self.writer.close()
        return self.writer.closed_files


@pytest.fixture
def archive(tmp_path):
    """One WARC file: a gzip+chunked page, a revisit of it, a redirect, a 503 then a 200,
    a truncated response, and an item record sharing the page's URL."""
    a = Archive(tmp_path / "warc")
    body = gzip.compress(PAGE)
    a.exchange(SITE + "/reports/Page_999.html",
               b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
               b"Vary: Accept-Encoding\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
               chunked(body), digest_of=body)
    a.item_record(SITE + "/reports/Page_999.html")
    original = a.ids[SITE + "/reports/Page_999.html"]["record_id"]
    a.exchange(SITE + "/reports/Same_page_999.html",
               b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body), b"", revisit_of=original, digest_of=body)
    a.exchange("http://www.spacewar.com/reports/Page_999.html",
               b"HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.spacewar.com/reports/Page_999.html\r\n"
               b"Content-Length: 0\r\n\r\n", b"")
    a.exchange(SITE + "/reports/Flaky_999.html", b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\n", b"busy")
    a.exchange(SITE + "/reports/Flaky_999.html",
               b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n\r\n", b"<p>second try")
    a.exchange(SITE + "/reports/Cut_999.html",
               b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n", b"<p>only the start",
               extra=[("WARC-Truncated", "disconnect")])
    a.close()
    return a


def replay(archive_or_path, url, use_cdxj=True, **meta):
    crawler = project_crawler(FROM_WARC=str(archive_or_path), FROM_WARC_USE_CDXJ=use_cdxj)
    handler = WarcReplayDownloadHandler.from_crawler(crawler)
    request = scrapy.Request(url, meta=meta)
    response = asyncio.run(handler.download_request(request))
    return response, request, crawler.stats


def test_archived_page_is_answered_as_received_content_coded_without_chunking(archive):
    response, request, _ = replay(archive.directory, SITE + "/reports/Page_999.html")
    assert response.status == 200
    assert "from_warc" in response.flags
    assert response.headers.get("Content-Encoding") == b"gzip"  # HttpCompressionMiddleware decodes it
    assert gzip.decompress(response.body) == PAGE
    assert b"Transfer-Encoding" not in response.headers  # framing is gone, as with a live response
    assert response.headers.getlist("Set-Cookie") == [b"a=1", b"b=2"]
    assert str(response.ip_address) == "127.0.0.1"
    assert isinstance(response, scrapy.http.HtmlResponse)
    assert request.meta["warc_capture"].pointer == archive.ids[SITE + "/reports/Page_999.html"]


def test_revisit_is_answered_with_the_original_payload_and_points_at_the_revisit(archive):
    response, request, _ = replay(archive.directory, SITE + "/reports/Same_page_999.html")
    assert response.status == 200
    assert gzip.decompress(response.body) == PAGE
    assert request.meta["warc_capture"].pointer == archive.ids[SITE + "/reports/Same_page_999.html"]


def test_archived_redirect_is_replayed_for_the_redirect_middleware(archive):
    response, _, _ = replay(archive.directory, "http://www.spacewar.com/reports/Page_999.html")
    assert response.status == 301
    assert response.headers["Location"] == b"https://www.spacewar.com/reports/Page_999.html"


def test_the_successful_capture_wins_over_an_earlier_server_error(archive):
    response, _, _ = replay(archive.directory, SITE + "/reports/Flaky_999.html")
    assert (response.status, response.body) == (200, b"<p>second try")


def test_truncated_record_comes_back_flagged_dataloss(archive):
    response, _, _ = replay(archive.directory, SITE + "/reports/Cut_999.html")
    assert "dataloss" in response.flags and response.body == b"<p>only the start"


@pytest.mark.parametrize("head, body", [
    # warcprox stores a transfer cut off by the server as an ordinary 200 under its full Content-Length
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n", b"<p>The"),
    # a chunked body without its last chunk
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n", b"6\r\n<p>The\r\n"),
])
def test_a_record_cut_short_without_warc_truncated_comes_back_flagged_dataloss(tmp_path, head, body):
    """Judged by its bytes, as `scrapy reprocess` judges it (crawler/warc/truncation.py): never an item of "The"."""
    a = Archive(tmp_path / "warc")
    a.exchange(SITE + "/reports/Cut_999.html", head, body)
    a.close()
    response, _, _ = replay(a.directory, SITE + "/reports/Cut_999.html")
    assert "dataloss" in response.flags


def test_url_not_in_the_archive_is_a_404_flagged_not_archived(archive):
    response, request, stats = replay(archive.directory, SITE + "/reports/Never_seen_999.html",
                                      warc_capture={"stale": "pointer"})
    assert response.status == 404
    assert {"from_warc", "not_archived"} <= set(response.flags)
    assert "warc_capture" not in request.meta
    assert stats.get_value("warcreplay/missing") == 1


@pytest.mark.parametrize("use_cdxj", [True, False])
def test_cdxj_index_and_file_scan_answer_alike(archive, use_cdxj):
    from crawler.warc.cdxj import write_cdxj

    (warc,) = archive.directory.glob("*.warc.gz")
    if use_cdxj:
        assert write_cdxj(warc) is not None
    for path in (archive.directory, warc):
        for url in (SITE + "/reports/Page_999.html", SITE + "/reports/Same_page_999.html"):
            response, request, _ = replay(path, url, use_cdxj=use_cdxj)
            assert gzip.decompress(response.body) == PAGE  # never the item record under the same URL
            assert request.meta["warc_capture"].pointer == archive.ids[url]


def test_stale_cdxj_is_ignored(archive):
    (warc,) = archive.directory.glob("*.warc.gz")
    cdxj = warc.with_name(warc.name + ".cdxj")
    cdxj.write_text("")  # an index of nothing, older than the WARC file
    os.utime(cdxj, (warc.stat().st_mtime - 60,) * 2)
    response, _, _ = replay(warc, SITE + "/reports/Page_999.html")
    assert response.status == 200


def test_one_bad_cdxj_line_costs_that_line_and_the_rest_of_the_index_stays_in_use(archive, monkeypatch):
    import crawler.warc.archive as archive_module
    from crawler.warc.cdxj import write_cdxj

    (warc,) = archive.directory.glob("*.warc.gz")
    cdxj = write_cdxj(warc)
    lines = cdxj.read_text("utf-8").splitlines()
    page = next(i for i, line in enumerate(lines) if "Page_999" in line and '"status": "200"' in line)
    lines[page] = lines[page].replace('"status": "200"', '"status": "2x0"')  # what an unparseable status gives
    lines.insert(0, "not a cdxj line")
    cdxj.write_text("\n".join(lines) + "\n", "utf-8")

    def no_scan(path):
        raise AssertionError("the whole index was thrown away for a file scan")

    monkeypatch.setattr(archive_module, "captures_from_scan", no_scan)
    index = WarcArchive.open(archive.directory)
    assert index.bad_index_lines.count == 2
    assert index.lookup(SITE + "/reports/Same_page_999.html") is not None  # the other lines answer
    assert index.lookup(SITE + "/reports/Page_999.html") is None or \
        index.lookup(SITE + "/reports/Page_999.html").status != 200  # only the bad line is lost


def test_handler_is_off_without_from_warc():
    with pytest.raises(NotConfigured):
        WarcReplayDownloadHandler.from_crawler(get_crawler())


def test_a_path_without_warc_files_is_an_error_naming_what_was_found(tmp_path):
    with pytest.raises(NoInput, match=r"holds no archive file \(it is empty\); expected WARC files"):
        WarcArchive.open(tmp_path)
    with pytest.raises(FileNotFoundError):
        WarcArchive.open(tmp_path / "missing.warc.gz")
    (tmp_path / "notes.warc.gz").write_text("not a WARC")
    with pytest.raises(NoInput, match="notes.warc.gz: a file starting with 'not a WARC', not a WARC file"):
        WarcArchive.open(tmp_path)


def test_one_unreadable_file_costs_only_itself_and_a_tree_is_searched(tmp_path):
    from tests.unit.offline.test_reprocess_split import write_warc

    deep = tmp_path / "segments" / "1" / "warc"
    deep.mkdir(parents=True)
    write_warc(deep / "a.warc.gz", n=5)
    (tmp_path / "segments" / "broken.warc.gz").write_bytes(b"\x1f\x8b\x08" + b"\x00" * 50)
    archive = WarcArchive.open(tmp_path)
    assert archive.size == 5
    assert [(Path(f).name, why) for f, why in archive.unreadable] == [
        ("broken.warc.gz", "a gzip file that does not decompress")]
    assert archive.response_for("https://www.spacewar.com/reports/p3.html").status == 200
    archive.close()


@pytest.mark.parametrize("extra, head, body", [
    ([("WARC-Truncated", "disconnect")], b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n",
     PAGE[:60]),  # the crawl's own archive of a cut-off transfer
    ([], b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n", PAGE[:60]),  # warcprox's
])
def test_explain_says_a_cut_short_capture_is_not_an_article(tmp_path, extra, head, body):
    """The crawl, `-a from_warc` and `scrapy reprocess` make no item of a cut-short capture: `scrapy explain` must
    not read its first bytes as an article (exit status 0)."""
    from crawler.commands.explain import page_from_warc

    a = Archive(tmp_path / "warc")
    a.exchange(SITE + "/reports/Cut_999.html", head, body, extra=extra)
    a.close()
    with pytest.raises(LookupError, match="is cut short"):
        page_from_warc(SITE + "/reports/Cut_999.html", a.directory)


def _wacz_of(archive: Archive, path: Path, member_dir: str = "archive/") -> Path:
    """A WACZ holding the archive's WARC files as stored members, followed by other entries (as `wacz create`
    writes them: the member's records end where the next ZIP entry's header begins)."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name in archive.writer.closed_files:
            z.write(Path(archive.directory) / Path(name).name, member_dir + Path(name).name)
        z.writestr("datapackage.json", '{"profile": "data-package", "resources": []}')
    return path


def test_a_wacz_is_replayed_and_its_items_point_into_its_warc_member(archive, tmp_path):
    """-a from_warc reads a WACZ as reprocess does: each archive/ member in place, the `warc` pointer the member's
    name and the record's offset in it (the crawl's own pointer), not the .wacz and an offset in the ZIP."""
    (tmp_path / "site").mkdir()
    wacz = _wacz_of(archive, tmp_path / "site" / "site.wacz")
    for url in (SITE + "/reports/Page_999.html", SITE + "/reports/Same_page_999.html"):
        response, request, _ = replay(wacz, url)
        assert response.status == 200 and gzip.decompress(response.body) == PAGE
        assert request.meta["warc_capture"].pointer == archive.ids[url]


def test_a_whole_file_gzip_replayed_points_at_the_archive_not_its_temporary_copy(archive, tmp_path):
    (warc,) = archive.writer.closed_files
    whole = tmp_path / "whole" / "crawl.warc.gz"
    whole.parent.mkdir()
    whole.write_bytes(gzip.compress(gzip.decompress((Path(archive.directory) / Path(warc).name).read_bytes())))
    _, request, _ = replay(whole, SITE + "/reports/Flaky_999.html")
    assert request.meta["warc_capture"].pointer["filename"] == "crawl.warc.gz"


@pytest.mark.parametrize("extra, head, body", [
    ([("WARC-Truncated", "length")], b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n",
     PAGE[:60]),  # marked cut
    ([], b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n", PAGE[:60]),  # cut by its bytes
])
def test_an_earlier_whole_capture_wins_over_a_later_cut_short_one(tmp_path, extra, head, body):
    """As `scrapy reprocess` selects: the latest whole capture; the page gives its item, not nothing."""
    from crawler.commands.explain import page_from_warc

    a = Archive(tmp_path / "warc")
    url = SITE + "/reports/Recaptured_999.html"
    whole = a.exchange(url, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(PAGE),
                       PAGE).pointer()
    a.exchange(url, head, body, extra=extra)
    a.close()
    response, request, _ = replay(a.directory, url)
    assert "dataloss" not in response.flags and response.body == PAGE
    assert request.meta["warc_capture"].pointer == whole
    assert "First paragraph" in page_from_warc(url, a.directory)[0]  # explain reads the same capture
