"""What an archivist hands over, judged by its bytes: each kind read (or refused in words), a tree searched, a WACZ's members in place."""

from __future__ import annotations

import gzip
import os
import zipfile

import pytest

from crawler.offline.reprocess import reader
from crawler.warc.files import gzip_member
from crawler.warc.inputs import NoInput, kind_of, open_inputs
from tests.unit.offline.test_reprocess_split import _record, write_warc

HTTP = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n\r\n<html>an arc!</html>"


def write_arc(path) -> None:
    """A version 1 ARC file (the Internet Archive's format before WARC) of one HTTP response."""
    desc = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    head = b"filedesc://%s 0.0.0.0 20060101000000 text/plain %d\n" % (path.name.encode(), len(desc))
    rec = b"https://www.spacewar.com/reports/arc.html 127.0.0.1 20060102030405 text/html %d\n" % len(HTTP)
    path.write_bytes(head + desc + b"\n" + rec + HTTP + b"\n")


def records_of(inputs) -> list[tuple[str, str]]:
    out = []
    for src in inputs.sources:
        for rec in reader.records(src.path, src.start, src.end, gz=src.gz):
            out.append((rec.type, rec.get("warc-target-uri")))
    return out


def test_each_kind_is_judged_by_its_bytes_not_its_name(tmp_path):
    write_warc(tmp_path / "a.warc.gz", n=3)
    write_warc(tmp_path / "b.warc", n=3, gz=False)
    (tmp_path / "c.warc.gz").write_bytes(gzip.compress((tmp_path / "b.warc").read_bytes()))
    write_arc(tmp_path / "d.arc")
    (tmp_path / "e.warc.gz").write_bytes(b"")
    (tmp_path / "f.warc").write_bytes(b"<html>404</html>")
    assert [kind_of(tmp_path / n) for n in ("a.warc.gz", "b.warc", "c.warc.gz", "d.arc", "e.warc.gz", "f.warc")] == [
        ("warc.gz", ""), ("warc", ""), ("whole-gzip", ""), ("arc", ""), ("refused", "an empty file, not a WARC file"),
        ("refused", "a file starting with '<html>404</html>', not a WARC file")]


@pytest.mark.parametrize("warc_reader", ["fastwarc", "warcio"])
def test_whole_gzip_and_arc_are_read_through_a_temporary_copy_that_goes_at_the_close(tmp_path, monkeypatch,
                                                                                     warc_reader):
    monkeypatch.setattr(reader, "READER", warc_reader)
    write_warc(tmp_path / "b.warc", n=4, gz=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress((tmp_path / "b.warc").read_bytes()))
    (tmp_path / "b.warc").unlink()
    write_arc(tmp_path / "old.arc")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with open_inputs([tmp_path], str(tmp)) as inputs:
        notes = {os.path.basename(s.origin): s.note.split(":")[0] for s in inputs.sources}
        assert notes == {"old.arc": "an ARC file", "whole.warc.gz": "gzipped as a whole, not per record"}
        got = records_of(inputs)
        assert ("response", "https://www.spacewar.com/reports/arc.html") in got
        assert [u for t, u in got if t == "response" and "/p" in u] == [
            f"https://www.spacewar.com/reports/p{i}.html" for i in range(4)]
        assert len(list(tmp.iterdir())) == 2
    assert not list(tmp.iterdir())


def test_a_wacz_member_stored_is_a_byte_range_read_in_place_a_compressed_one_is_refused(tmp_path):
    write_warc(tmp_path / "a.warc.gz", n=5)
    write_warc(tmp_path / "b.warc", n=2, gz=False, seed=2)
    wacz = tmp_path / "x.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("datapackage.json", "{}")
        zf.write(tmp_path / "a.warc.gz", "archive/a.warc.gz", compress_type=zipfile.ZIP_STORED)
        zf.write(tmp_path / "b.warc", "archive/b.warc", compress_type=zipfile.ZIP_STORED)
        zf.write(tmp_path / "a.warc.gz", "archive/c.warc.gz", compress_type=zipfile.ZIP_DEFLATED)
    with open_inputs([wacz]) as inputs:
        assert [(s.origin, s.name, s.path) for s in inputs.sources] == [
            (f"{wacz}!archive/a.warc.gz", "a.warc.gz", str(wacz)), (f"{wacz}!archive/b.warc", "b.warc", str(wacz))]
        assert [why.split(":")[0] for _, why in inputs.refused] == [
            "compressed inside the ZIP (a WACZ stores archive/ members uncompressed)"]
        assert len(records_of(inputs)) == 7
        a = inputs.sources[0]
        first = next(reader.records(a.path, a.start, a.end, gz=a.gz))
        assert first.offset == a.base  # the member's first record, where the member's data starts


def test_a_tree_is_searched_and_nothing_readable_is_one_line(tmp_path):
    deep = tmp_path / "crawl-data" / "CC-MAIN-2026-49" / "segments" / "1" / "warc"
    deep.mkdir(parents=True)
    (deep / "CC-MAIN-1.warc.gz").write_bytes(gzip_member(_record(1, 100)))
    with open_inputs([tmp_path]) as inputs:
        assert [os.path.basename(s.path) for s in inputs.sources] == ["CC-MAIN-1.warc.gz"]
    (deep / "CC-MAIN-1.warc.gz").write_bytes(b"PK\x03\x04 not a wacz")
    with pytest.raises(NoInput) as err:
        open_inputs([tmp_path])
    assert str(err.value) == (f"nothing to read: {deep / 'CC-MAIN-1.warc.gz'}: a ZIP file that is not a .wacz; "
                              "expected WARC files (*.warc.gz, *.warc), ARC files (*.arc.gz, *.arc) or WACZ files "
                              "(*.wacz), or a directory holding them")
