"""reprocess --index: which records of an input file a CDXJ index lists on the sites, read from the index alone."""

from __future__ import annotations

import gzip
import json

import pytest

from crawler.offline.reprocess import index, listing, reader
from crawler.offline.reprocess.tasks import listed_tasks
from crawler.warc.files import gzip_member, serialize_record
from crawler.warc.inputs import open_inputs

URIS = ["https://www.spacewar.com/reports/a.html", "https://news1.example.org/x.html",
        "https://spacedaily.com/reports/b.html", "https://news2.example.org/spacewar.com.html",
        "https://www.spacewar.com/reports/c.html"]


@pytest.fixture(params=["fastwarc", "warcio"], autouse=True)
def warc_reader(request, monkeypatch):
    """Both readers find the listed records at their offsets."""
    monkeypatch.setattr(reader, "READER", request.param)


def _warc(path) -> list[int]:
    offsets = []
    with open(path, "wb") as fh:
        for n, uri in enumerate(URIS):
            offsets.append(fh.tell())
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>page</p>"
            fh.write(gzip_member(serialize_record(
                [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{n:08d}-0000-0000-0000-000000000000>"),
                 ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", uri),
                 ("Content-Type", "application/http; msgtype=response")], http)))
    return offsets


def _line(url: str, offset, filename: str, compact: bool = False) -> str:
    fields = {"url": url, "offset": str(offset), "filename": filename}
    return f"key 20260101000000 {json.dumps(fields, separators=(',', ':') if compact else None)}\n"


@pytest.fixture
def archive(tmp_path):
    warc = tmp_path / "crawl-data" / "seg" / "warc" / "CC-1.warc.gz"
    warc.parent.mkdir(parents=True)
    return warc, _warc(warc)


def test_only_the_sites_lines_of_the_file_are_listed_and_the_rest_counted(archive, tmp_path):
    warc, offsets = archive
    lines = [_line(u, o, "crawl-data/seg/warc/CC-1.warc.gz", compact=n % 2 == 1)  # other writers' spacing too
             for n, (u, o) in enumerate(zip(URIS, offsets))]
    lines.append(_line("urn:x-spacewar-item:https://www.spacewar.com/reports/a.html", 9, "CC-1.warc.gz"))  # no capture
    lines.append(_line("https://www.spacewar.com/reports/z.html", 7, "crawl-data/seg/warc/CC-2.warc.gz"))  # other file
    cdx = tmp_path / "cdx-00000.gz"
    cdx.write_bytes(gzip.compress("".join(lines).encode()))
    with open_inputs([warc], None) as inputs:
        listed = listing.load([cdx], inputs.sources)
        assert list(listed) == [0]
        entry = listed[0]
        assert entry.lines == 6 and entry.off_site == 2 and entry.bad == 0  # news1 and news2 (spacewar.com in its path)
        assert entry.on_site == [(offsets[0], URIS[0]), (offsets[2], URIS[2]), (offsets[4], URIS[4])]
        [task] = listed_tasks(0, 0, inputs.sources[0], entry, None, 1000)
        res = index.scan(task)
    assert res.mismatch is None and res.records == 6 and res.skipped["off_site"] == 2
    assert [row[2] for row in res.rows] == [URIS[0], URIS[2], URIS[4]]


def test_an_index_whose_offsets_are_not_the_files_is_found_out(archive, tmp_path):
    warc, offsets = archive
    cdx = tmp_path / "other.cdxj"
    cdx.write_text(_line(URIS[0], offsets[4], "CC-1.warc.gz") + _line(URIS[4], offsets[0], "CC-1.warc.gz"))
    with open_inputs([warc], None) as inputs:
        [task] = listed_tasks(0, 0, inputs.sources[0], listing.load([cdx], inputs.sources)[0], None, 1000)
        res = index.scan(task)
    assert res.mismatch and URIS[4] in res.mismatch and "the index says" in res.mismatch


def test_a_missing_index_file_is_named(archive, tmp_path):
    warc, _ = archive
    with open_inputs([warc], None) as inputs, pytest.raises(FileNotFoundError, match="--index .*nope.cdxj"):
        listing.load([tmp_path / "nope.cdxj"], inputs.sources)


def test_an_index_that_lists_none_of_the_inputs_is_warned_of_not_ignored(archive, tmp_path, caplog):
    """wget --warc-cdx writes the 11-field CDX (`CDX a b a m s k r M V g u`), not CDXJ: given as --index it lists
    nothing, and the run reads every file whole; it says so, naming the index, rather than only `read whole`."""
    import logging

    from crawler.offline.reprocess.run import Options, _listed

    warc, offsets = archive
    cdx = tmp_path / "pages.cdx"
    cdx.write_text(" CDX a b a m s k r M V g u\n" + "".join(
        f"{u} 20260101000000 {u} text/html 200 X - - {o} {warc} <urn:uuid:{n}>\n"
        for n, (u, o) in enumerate(zip(URIS, offsets))))
    good = tmp_path / "good.cdxj"
    good.write_text("".join(_line(u, o, "CC-1.warc.gz") for u, o in zip(URIS, offsets)))
    with open_inputs([warc], None) as inputs, caplog.at_level(logging.INFO, logger="crawler.reprocess"):
        assert _listed(Options([str(warc)], index=[str(cdx)]), inputs.sources) == {}
        assert list(_listed(Options([str(warc)], index=[str(good), str(cdx)]), inputs.sources)) == [0]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2 and all(w.startswith(f"--index {cdx} lists none of the input files") for w in warned)
