"""Reprocess's cut of WARC files into byte ranges: every record is read exactly once, whatever the cut, and damage is named."""

from __future__ import annotations

import os
import random

import pytest

from crawler.offline.reprocess import reader
from crawler.offline.reprocess.tasks import Task, split, task_size, warc_files
from crawler.warc.files import gzip_member, serialize_record
from crawler.warc.http import decode_content
from crawler.warc.inputs import open_inputs
from crawler.warc.members import record_end, record_start


@pytest.fixture(params=["fastwarc", "warcio"], autouse=True)
def warc_reader(request, monkeypatch):
    """Every test here runs under both readers: they must give the same records on every input."""
    monkeypatch.setattr(reader, "READER", request.param)
    return request.param


def _record(n: int, size: int, uri: str | None = None) -> bytes:
    body = (f"<p>page {n}</p>" + "x" * size).encode()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    headers = [("WARC-Type", "response"), ("WARC-Record-ID", f"<urn:uuid:{n:08d}-0000-0000-0000-000000000000>"),
               ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", uri or f"https://www.spacewar.com/reports/p{n}.html"),
               ("Content-Type", "application/http; msgtype=response")]
    return serialize_record(headers, http)


def write_warc(path, n: int = 60, gz: bool = True, seed: int = 1) -> list[int]:
    """A WARC file of n response records of random sizes; the offsets of the records."""
    rng = random.Random(seed)
    offsets = []
    with open(path, "wb") as fh:
        for i in range(n):
            offsets.append(fh.tell())
            data = _record(i, rng.randrange(10, 20_000))
            fh.write(gzip_member(data) if gz else data)
    return offsets


def read_all(path, size: int) -> list[tuple[int, str]]:
    total = os.path.getsize(path)
    out = []
    for start in range(0, total, size):
        for rec in reader.records(path, start, min(total, start + size)):
            out.append((rec.offset, rec.get("warc-target-uri")))
    return out


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
@pytest.mark.parametrize("size", [997, 4096, 50_000, 10**9])
def test_every_record_is_read_once_whatever_the_ranges(tmp_path, gz, size):
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    offsets = write_warc(path, gz=gz)
    got = read_all(path, size)
    assert [o for o, _ in got] == offsets
    assert [u for _, u in got] == [f"https://www.spacewar.com/reports/p{i}.html" for i in range(len(offsets))]


@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_record_boundaries_are_found_from_any_offset(tmp_path, gz):
    path = tmp_path / ("a.warc.gz" if gz else "a.warc")
    offsets = write_warc(path, n=20, gz=gz)
    for k, off in enumerate(offsets):
        assert record_start(path, off) == off
        assert record_start(path, off + 1) == (offsets[k + 1] if k + 1 < len(offsets) else None)
        assert record_end(path, off) == (offsets[k + 1] if k + 1 < len(offsets) else os.path.getsize(path))


def test_a_corrupt_member_and_a_cut_end_are_named_and_the_rest_is_read(tmp_path):
    path = tmp_path / "a.warc.gz"
    offsets = write_warc(path, n=30)
    size = os.path.getsize(path)
    with open(path, "r+b") as fh:
        fh.seek(offsets[10] + 30)
        fh.write(b"\x00" * 40)  # inside the deflate data of record 10
        fh.truncate(size - 50)  # record 29 cut short
    damage = []
    got = [rec.offset for start in range(0, size, 20_000)
           for rec in reader.records(path, start, start + 20_000, on_damage=lambda o, w: damage.append(o))]
    assert got == offsets[:10] + offsets[11:29]
    assert sorted(damage) == [offsets[10], offsets[29]]


def test_tasks_cover_the_files_in_order_and_the_size_is_bounded(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz"):
        write_warc(tmp_path / name, n=40)
    (tmp_path / "notes.txt").write_text("not a WARC file")
    files = warc_files([tmp_path])
    assert [f.name for f in files] == ["a.warc.gz", "b.warc.gz"]
    with open_inputs([tmp_path]) as inputs:
        tasks = split(inputs.sources, processes=2, size=100_000)
    assert [t.index for t in tasks] == list(range(len(tasks)))
    for file_no, f in enumerate(files):
        mine = [t for t in tasks if t.file_no == file_no]
        assert mine[0].start == 0 and mine[-1].end == f.stat().st_size
        assert all(a.end == b.start for a, b in zip(mine, mine[1:]))
    assert task_size(10, 2) == 1 << 20 and task_size(10**12, 2) == 4 << 20
    assert task_size(24 << 20, 2) == (24 << 20) // 8 + 1


def test_a_path_that_is_neither_file_nor_directory_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        warc_files([tmp_path / "missing"])


def test_the_http_message_is_split_and_its_codings_undone():
    import gzip

    body = gzip.compress(b"<html>hello</html>")
    chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
    block = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
             b"Content-Type: text/html\r\n\r\n" + chunked)
    msg = reader.http_message(block)
    assert msg.status == 200 and msg.header("content-type") == "text/html"
    assert decode_content(msg.body, msg.headers) == b"<html>hello</html>"
    assert reader.http_status(block) == 200 and reader.http_status(b"GET / HTTP/1.1\r\n") is None


def test_a_task_is_a_plain_value():
    t = Task(0, "a.warc.gz", 0, 10, 30)
    assert t.size == 20


@pytest.mark.parametrize("written", ["<https://www.spacewar.com/reports/w.html>",
                                     "  https://www.spacewar.com/reports/w.html ",
                                     "< https://www.spacewar.com/reports/w.html >",
                                     "HTTPS://WWW.SpaceWar.COM/reports/w.html",
                                     "<Https://www.SPACEWAR.com/reports/w.html>"])
def test_a_target_uri_in_angle_brackets_or_whitespace_is_read_as_the_bare_uri(tmp_path, written):
    """... and its scheme and host in lower case, the rest as written (RFC 3986: they are case-insensitive)."""
    path = tmp_path / "wget.warc.gz"
    with open(path, "wb") as fh:
        fh.write(gzip_member(_record(1, 100, uri=written)))
    got = [rec.get("warc-target-uri") for rec in reader.records(path, 0, os.path.getsize(path))]
    assert got == ["https://www.spacewar.com/reports/w.html"]
