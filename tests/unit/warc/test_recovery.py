"""A WARC file left `.open` by a killed crawl is recovered: complete records kept, the partial tail set aside."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc.recovery import recover_directory, recover_file
from crawler.warc.files import WarcFileWriter
from crawler.warc.records import new_record_id, warc_date
from tests.crawling import warcio_check


def record_ids(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        return [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(fh)]


def write_open_file(directory: Path, n: int = 5) -> tuple[Path, list[int]]:
    """A WARC file still being written (.open) with a warcinfo and n resource records;
    returns its path and the end offset of each record."""
    writer = WarcFileWriter(directory, "t", host="h", max_size=1_000_000_000)
    ends = []
    for i in range(n):
        body = (f"record {i} " * (200 + 50 * i)).encode() + os.urandom(300)
        loc = writer.write_record([("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()),
                                   ("WARC-Date", warc_date()),
                                   ("WARC-Target-URI", f"https://www.spacewar.com/{i}.html"),
                                   ("Content-Type", "text/plain")], body)
        if not ends:
            ends.append(loc.offset)  # end of the warcinfo record
        ends.append(loc.offset + loc.length)
    path = writer.current_path
    writer._fh.close()  # the process "dies": no close(), no rename
    return path, ends


@pytest.mark.parametrize("where", ["inside the header", "inside the body", "one byte short"])
def test_a_partial_last_record_is_cut_and_kept_aside(tmp_path, where):
    path, ends = write_open_file(tmp_path)
    original = path.read_bytes()
    last_start, last_end = ends[-2], ends[-1]
    cut_at = {"inside the header": last_start + 10,
              "inside the body": (last_start + last_end) // 2,
              "one byte short": last_end - 1}[where]
    with open(path, "r+b") as fh:
        fh.truncate(cut_at)

    result = recover_file(path, index=False)

    assert not path.exists()
    final = result.final_path
    assert final.name == path.name.removesuffix(".open")
    assert final.read_bytes() == original[:last_start]
    assert result.partial_path.read_bytes() == original[last_start:cut_at]  # nothing deleted
    assert result.records == len(ends) - 1  # warcinfo + all but the cut record
    assert len(record_ids(final)) == len(ends) - 1
    check = warcio_check(final)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_complete_file_is_only_renamed(tmp_path):
    path, ends = write_open_file(tmp_path, n=3)
    original = path.read_bytes()
    result = recover_file(path, index=True)
    assert result.final_path.read_bytes() == original
    assert result.partial_path is None and result.cut_bytes == 0
    assert result.final_path.with_name(result.final_path.name + ".cdxj").exists()
    assert warcio_check(result.final_path).returncode == 0


def test_garbage_after_the_last_record_is_set_aside(tmp_path):
    path, ends = write_open_file(tmp_path, n=2)
    with open(path, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00 not really gzip")
    result = recover_file(path, index=False)
    assert result.records == 3
    assert result.partial_path.read_bytes() == b"\x1f\x8b\x08\x00 not really gzip"
    assert warcio_check(result.final_path).returncode == 0


def test_a_file_without_one_complete_record_leaves_only_the_sidecar(tmp_path):
    path, ends = write_open_file(tmp_path, n=1)
    data = path.read_bytes()[: ends[0] - 5]  # even the warcinfo record is cut
    path.write_bytes(data)
    result = recover_file(path, index=False)
    assert result.final_path is None and not path.exists()
    assert result.partial_path.read_bytes() == data
    assert list(tmp_path.glob("*.warc.gz")) == []


def test_a_record_with_a_wrong_block_digest_is_not_kept(tmp_path):
    path, ends = write_open_file(tmp_path, n=2)
    # the last member is a complete gzip member whose record lies about its block
    import zlib
    bad = (b"WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:x>\r\n"
           b"WARC-Block-Digest: sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n")
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(path, "ab") as fh:
        fh.write(comp.compress(bad) + comp.flush())
    result = recover_file(path, index=False)
    assert result.records == 3
    assert result.cut_bytes > 0


def test_recover_directory_recovers_every_open_file_and_leaves_closed_ones(tmp_path):
    p1, e1 = write_open_file(tmp_path, n=2)
    with open(p1, "r+b") as fh:
        fh.truncate(e1[-1] - 7)
    closed = WarcFileWriter(tmp_path, "closed", host="h", max_size=1_000_000_000)
    closed.write_record([("WARC-Type", "resource"), ("WARC-Record-ID", new_record_id()),
                         ("WARC-Date", warc_date())], b"x")
    closed.close()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("closed-*.warc.gz")}
    results = recover_directory(tmp_path, index=False)
    assert [r.open_path for r in results] == [p1]
    assert list(tmp_path.glob("*.open")) == []
    assert {p.name: p.read_bytes() for p in tmp_path.glob("closed-*.warc.gz")} == before
    for warc in tmp_path.glob("*.warc.gz"):
        assert warcio_check(warc).returncode == 0


