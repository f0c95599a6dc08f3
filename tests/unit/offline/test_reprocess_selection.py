"""Reprocess's selection of captures: the latest 2xx capture of each URL (or every one), revisits resolved to their payload."""

from __future__ import annotations

import pytest

from crawler.offline.reprocess.index import CaptureIndex
from crawler.offline.reprocess.tasks import Task

A, B, C = ("https://www.spacewar.com/reports/a.html", "https://www.spacewar.com/reports/b.html",
           "https://www.spacewar.com/reports/c.html")


def row(file, off, uri, date, status=200, *, revisit=False, snm=False, rid=None, digest=None, refers_to=None,
        refers_uri=None, mime="text/html", key=None, cut=None):
    return (file, off, uri, date, status, int(revisit), int(snm), rid or f"<urn:{file}:{off}>", digest, refers_to,
            refers_uri, mime, key or uri, cut)


@pytest.fixture
def index(tmp_path):
    idx = CaptureIndex(str(tmp_path))
    yield idx
    idx.close()


def selected(idx: CaptureIndex) -> list[tuple]:
    return [tuple(r) for r in idx.db.execute("SELECT file, off, src_file, src_off FROM sel ORDER BY file, off")]


def test_the_latest_2xx_capture_of_each_url_is_selected(index):
    index.add([
        row(0, 100, A, "2026-01-01T00:00:00Z"),
        row(0, 200, A, "2026-02-01T00:00:00Z"),
        row(0, 300, A, "2026-03-01T00:00:00Z", status=404),  # later, but not a 2xx
        row(1, 100, B, "2026-01-01T00:00:00Z", status=503),  # never a 2xx: nothing
        row(1, 200, C, "2026-01-01T00:00:00Z", mime="image/png"),  # never a page
    ])
    left_out = index.select()
    assert selected(index) == [(0, 200, 0, 200)]
    assert left_out == {"unresolved_revisits": 0, "truncated": 0, "not_text": 1}


def test_every_capture_with_all_captures(index):
    index.add([row(0, 100, A, "2026-01-01T00:00:00Z"), row(0, 200, A, "2026-02-01T00:00:00Z"),
               row(0, 300, B, "2026-02-01T00:00:00Z", status=301)])
    index.select(all_captures=True)
    assert selected(index) == [(0, 100, 0, 100), (0, 200, 0, 200)]


def test_a_tie_on_the_date_goes_to_the_last_written(index):
    index.add([row(0, 100, A, "2026-01-01T00:00:00Z"), row(1, 50, A, "2026-01-01T00:00:00Z")])
    index.select()
    assert selected(index) == [(1, 50, 1, 50)]


def test_an_identical_payload_revisit_resolves_to_the_record_it_names_else_to_the_same_digest(index):
    index.add([
        row(0, 100, A, "2026-01-01T00:00:00Z", rid="<urn:orig>", digest="sha1:X"),
        row(1, 100, A, "2026-02-01T00:00:00Z", revisit=True, digest="sha1:X", refers_to="<urn:orig>"),
        row(0, 200, B, "2026-01-01T00:00:00Z", digest="sha1:Y"),
        row(1, 200, C, "2026-02-01T00:00:00Z", revisit=True, digest="sha1:Y"),  # no WARC-Refers-To
    ])
    index.select()
    assert selected(index) == [(0, 200, 0, 200), (1, 100, 0, 100), (1, 200, 0, 200)]


def test_a_not_modified_revisit_resolves_to_the_latest_full_response_of_its_url(index):
    index.add([
        row(0, 100, A, "2026-01-01T00:00:00Z"),
        row(0, 200, A, "2026-02-01T00:00:00Z"),
        row(1, 100, A, "2026-03-01T00:00:00Z", status=304, revisit=True, snm=True, refers_uri=A),
    ])
    index.select()
    assert selected(index) == [(1, 100, 0, 200)]


def test_a_revisit_whose_original_is_missing_is_left_out_and_counted(index):
    index.add([row(0, 100, A, "2026-01-01T00:00:00Z"),
               row(0, 200, A, "2026-02-01T00:00:00Z", revisit=True, digest="sha1:Z", refers_to="<urn:gone>"),
               row(0, 300, B, "2026-02-01T00:00:00Z", status=304, revisit=True, snm=True)])
    left_out = index.select()
    assert left_out["unresolved_revisits"] == 2
    assert selected(index) == [(0, 100, 0, 100)]  # A's earlier full capture is the latest that resolves


def test_entries_are_the_selected_records_of_a_range_in_offset_order(index):
    index.add([row(0, off, f"https://www.spacewar.com/reports/{off}.html", "2026-01-01T00:00:00Z")
               for off in (500, 100, 300, 900)])
    index.select()
    files = ["a.warc.gz"]
    assert index.entries(Task(0, "a.warc.gz", 0, 100, 600), files) == [
        (100, "a.warc.gz", 100), (300, "a.warc.gz", 300), (500, "a.warc.gz", 500)]
    assert index.entries(Task(1, "a.warc.gz", 0, 600, 1000), files) == [(900, "a.warc.gz", 900)]


def test_the_index_file_is_removed_when_closed(tmp_path):
    idx = CaptureIndex(str(tmp_path))
    path = idx.path
    idx.close()
    assert not list(tmp_path.iterdir()) and path


def test_captures_of_one_article_under_several_urls_give_one_selection(index):
    """wget -r followed ?utm_ links, http and the bare host: one item per article, as the crawl gives."""
    key = "https://www.spacewar.com/reports/a.html"
    index.add([
        row(0, 100, "http://spacewar.com/reports/a.html", "2026-01-01T00:00:00Z", key=key),
        row(0, 200, key + "?utm_source=rss", "2026-01-02T00:00:00Z", key=key),
        row(0, 300, key, "2026-01-01T12:00:00Z", key=key),
    ])
    index.select()
    assert selected(index) == [(0, 200, 0, 200)]


def test_every_capture_is_still_given_with_all_captures_whatever_its_key(tmp_path):
    idx = CaptureIndex(str(tmp_path))
    key = "https://www.spacewar.com/reports/a.html"
    idx.add([row(0, 100, "http://spacewar.com/reports/a.html", "2026-01-01T00:00:00Z", key=key),
             row(0, 200, key + "?utm_source=rss", "2026-01-02T00:00:00Z", key=key)])
    idx.select(all_captures=True)
    assert selected(idx) == [(0, 100, 0, 100), (0, 200, 0, 200)]
    idx.close()


def test_a_cut_short_capture_is_never_selected_an_earlier_whole_one_is(index):
    index.add([
        row(0, 100, A, "2026-01-01T00:00:00Z", digest="sha1:X"),
        row(0, 200, A, "2026-02-01T00:00:00Z", cut="body of 3 bytes, Content-Length 9000"),
        row(0, 300, B, "2026-01-01T00:00:00Z", cut="chunked body without its last chunk", digest="sha1:Y"),
        row(1, 100, B, "2026-02-01T00:00:00Z", revisit=True, digest="sha1:Y"),  # a revisit of a cut capture
    ])
    left_out = index.select()
    assert selected(index) == [(0, 100, 0, 100)]
    assert left_out["truncated"] == 3 and left_out["unresolved_revisits"] == 0
    assert index.left_out == {0: {"truncated": 2}, 1: {"truncated": 1}}


@pytest.mark.parametrize("uri", ["https://www.spacewar.com/reports/a.html", "http://SpaceWar.com:80/x?y#z",
                                 "https://user@www.spacewar.com./a", "https://news.example.org/www.spacewar.com/",
                                 "https://[::1]/a", "https://www.spacewar.com?q=1", "mailto:someone"])
def test_the_site_of_a_uri_by_its_host_is_the_site_sets_answer(uri):
    from crawler.offline.reprocess.index import site_of, site_set

    sites = site_set(None)
    want = sites.site_of(uri)
    assert site_of(uri, sites) is want


@pytest.mark.parametrize("warc_reader", ["fastwarc", "warcio"])
def test_a_wget_dedup_revisit_marked_truncated_length_is_selected_with_its_original(tmp_path, monkeypatch,
                                                                                    warc_reader):
    """wget --warc-dedup writes each revisit with `WARC-Truncated: length` (the WARC 1.0 recommendation for a
    revisit: its block is the HTTP headers only, the payload left out on purpose): that says nothing of the
    payload, which is the original's; the revisit is the latest whole capture, not a cut-short one."""
    from crawler.offline.reprocess import index as index_module
    from crawler.offline.reprocess import reader
    from crawler.warc.files import gzip_member, serialize_record

    monkeypatch.setattr(reader, "READER", warc_reader)
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\n"
    response = gzip_member(serialize_record([
        ("WARC-Type", "response"), ("WARC-Record-ID", "<urn:uuid:orig>"), ("WARC-Date", "2026-01-01T00:00:00Z"),
        ("WARC-Target-URI", f"<{A}>"), ("WARC-Payload-Digest", "sha1:AAAA"),
        ("Content-Type", "application/http;msgtype=response")], http + b"<p>a</p>\n"))
    revisit = gzip_member(serialize_record([
        ("WARC-Type", "revisit"), ("WARC-Record-ID", "<urn:uuid:again>"), ("WARC-Refers-To", "<urn:uuid:orig>"),
        ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
        ("WARC-Truncated", "length"), ("WARC-Target-URI", f"<{A}>"), ("WARC-Date", "2026-02-01T00:00:00Z"),
        ("WARC-Payload-Digest", "sha1:AAAA"), ("Content-Type", "application/http;msgtype=response")], http))
    path = tmp_path / "run.warc.gz"
    path.write_bytes(response + revisit)
    found = index_module.scan(Task(0, str(path), 0, 0, path.stat().st_size))
    idx = CaptureIndex(str(tmp_path))
    try:
        idx.add(found.rows)
        left_out = idx.select()
        assert left_out["truncated"] == 0
        assert selected(idx) == [(0, len(response), 0, 0)]  # the revisit, with the original's payload
    finally:
        idx.close()
