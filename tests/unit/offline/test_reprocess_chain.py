"""The first pass's byte ranges chain exactly: a range starts where the reading of the one before found the next record, and a record of another host is turned down on its raw target URI alone, as site_of would."""

from __future__ import annotations

import os

import pytest

from crawler.offline.reprocess import index, reader
from crawler.offline.reprocess.run import _chained
from crawler.offline.reprocess.tasks import Task
from crawler.site.profiles import SiteSet, choose
from crawler.warc.files import gzip_member, serialize_record
from crawler.warc.members import record_start


@pytest.fixture(params=["fastwarc", "warcio"], autouse=True)
def warc_reader(request, monkeypatch):
    monkeypatch.setattr(reader, "READER", request.param)
    return request.param


def _record(uri: str, body: bytes) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    n = abs(hash(uri)) % 10**8
    headers = [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{n:08d}-0000-0000-0000-000000000000>"),
               ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", uri),
               ("Content-Type", "application/http; msgtype=response")]
    return serialize_record(headers, http)


def _archive(path) -> tuple[list[int], int]:
    """Six pages; the third is another host's page whose payload is a .warc.gz of a SpaceWar.com page, stored
    as it is (gzip level 0): a gzip member that decompresses to a WARC record, inside a record. The offsets of
    the records, and where the embedded member starts."""
    inner = gzip_member(_record("https://www.spacewar.com/reports/phantom.html", b"<p>not in this archive</p>"))
    pages = [
        gzip_member(_record("https://www.spacewar.com/reports/a.html", b"<p>a</p>" * 500)),
        gzip_member(_record("https://news.example.org/1.html", b"<p>b</p>" * 500)),
        gzip_member(_record("https://files.example.org/old.warc.gz", b"x" * 3000 + inner + b"y" * 3000), level=0),
        gzip_member(_record("https://www.spacewar.com/reports/c.html", b"<p>c</p>" * 500)),
        gzip_member(_record("https://news.example.org/2.html", b"<p>d</p>" * 500)),
        gzip_member(_record("https://www.spacedaily.com/reports/e.html", b"<p>e</p>" * 500)),
    ]
    offsets, at = [], 0
    for page in pages:
        offsets.append(at)
        at += len(page)
    data = b"".join(pages)
    path.write_bytes(data)
    return offsets, offsets[2] + data[offsets[2]:].index(inner)


def _scan_all(path, cuts: list[int]) -> list:
    size = os.path.getsize(path)
    bounds = [0] + cuts + [size]
    tasks = [Task(k, str(path), 0, a, b) for k, (a, b) in enumerate(zip(bounds, bounds[1:]))]
    return list(_chained((index.scan(t) for t in tasks), tasks))


def test_a_false_boundary_at_a_cut_is_found_out_and_the_range_read_again(tmp_path):
    path = tmp_path / "mixed.warc.gz"
    offsets, embedded = _archive(path)
    assert record_start(path, embedded - 10) == embedded  # the search alone takes the embedded member for a record
    whole = _scan_all(path, [])
    cut = _scan_all(path, [embedded - 10])
    uris = [row[2] for res in cut for row in res.rows]
    assert uris == [row[2] for res in whole for row in res.rows] == [
        "https://www.spacewar.com/reports/a.html", "https://www.spacewar.com/reports/c.html",
        "https://www.spacedaily.com/reports/e.html"]
    assert sum(r.records for r in cut) == sum(r.records for r in whole) == 6
    assert sum(r.skipped["off_site"] for r in cut) == 3
    assert not [d for r in cut for d in r.damage]


@pytest.mark.parametrize("cuts", [[1], [500, 1000, 1500], [9000], [9000, 9100, 9200, 20000]])
def test_every_cut_gives_the_records_of_one_whole_reading(tmp_path, cuts):
    path = tmp_path / "mixed.warc.gz"
    offsets, embedded = _archive(path)
    whole = _scan_all(path, [])
    cuts = sorted({c for c in cuts + [embedded - 1, embedded + 1] if 0 < c < os.path.getsize(path)})
    got = _scan_all(path, cuts)
    assert [row[:3] for r in got for row in r.rows] == [row[:3] for r in whole for row in r.rows]
    assert sum(r.records for r in got) == 6


def test_a_range_that_starts_at_the_reading_before_it_is_not_read_again(tmp_path, monkeypatch):
    path = tmp_path / "mixed.warc.gz"
    offsets, _ = _archive(path)
    again = []
    real = index.scan
    monkeypatch.setattr(index, "scan", lambda t: (again.append(t) if t.at_record else None) or real(t))
    results = _scan_all(path, [offsets[1] + 1, offsets[4] - 1])
    assert again == []  # every cut's search found the record the reading before had parsed on to
    assert [r.first for r in results] == [0, offsets[2], offsets[4]]
    assert [r.next for r in results] == [offsets[2], offsets[4], None]


@pytest.mark.parametrize("uri", [
    "https://www.spacewar.com/reports/a.html", "<https://WWW.SpaceWar.COM/x>", " http://spacewar.com:8080/ ",
    "https://user@www.spacedaily.com/", "https://www.energy-daily.com/?utm=1", "https://terradaily.com",
    "https://www.spacewar.com.evil.org/", "https://evil.org/?u=spacewar.com", "https://evil.org/",
    "https://news.example.org/marsdaily.com.html", "https://\u212aspacewar.com/", "https://www.\u0130spacewar.com/",
    "dns:www.spacewar.com", "https://[::1]/spacewar.com", "",
])
def test_the_reader_turns_down_only_what_site_of_would(uri):
    hint = index.site_hint(None)
    sites = SiteSet(choose(None))
    held = reader._hinted(uri, hint)
    normal = reader.target_uri(uri)
    if normal.startswith(("http:", "https:")) and index.site_of(normal, sites) is not None:
        assert held
    for one in ("spacewar", "marsdaily"):
        if not reader._hinted(uri, index.site_hint(one)):
            assert not normal.startswith(("http:", "https:")) or index.site_of(normal, index.site_set(one)) is None
