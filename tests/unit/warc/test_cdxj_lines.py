"""The CDXJ index made as records are written is the one cdxj-indexer makes by reading the file back.

Each test writes real records with the crawl's writer (index=True) into a real file, then indexes a
copy of the closed file with cdxj-indexer (crawler.warc.cdxj.write_cdxj) and compares the bytes."""

import json
import shutil

from crawler.warc import records
from crawler.warc.cdxj import cdxj_path, write_cdxj
from crawler.warc.digests import sha1_digest
from crawler.warc.files import WarcFileSet, WarcFileWriter

DATE = "2026-11-25T02:00:00.123456Z"


def _exchange(w, uri, head: bytes, payload: bytes, *, record_type="response", digest=True, chunked=False,
              revisit=(), block=None, date=DATE):
    request_id, response_id = records.new_record_id(), records.new_record_id()
    req, resp = records.exchange_headers(
        request_id=request_id, response_id=response_id, date=date, uri=uri, ip="127.0.0.1",
        record_type=record_type, digest=sha1_digest(payload) if digest else None, digest_in_extension=chunked,
        revisit=list(revisit), method="raw")
    w.write_record(req, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    return w.write_record(resp, head + payload if block is None else block)


def _read_back(tmp_path, warc):
    """cdxj-indexer's index of a copy of `warc` (the same file name, another directory)."""
    other = tmp_path / "readback"
    other.mkdir(exist_ok=True)
    copy = other / warc.name
    shutil.copyfile(warc, copy)
    return write_cdxj(copy).read_bytes()


def _write_all_kinds(w):
    html = b"<html><title>t</title></html>"
    ok = _exchange(w, "https://www.spacewar.com/reports/A.html",
                   b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n", html)
    # a content type with a space before its parameter, one upper-cased, one absent, one empty
    _exchange(w, "https://www.spacewar.com/b.css", b"HTTP/1.1 200 OK\r\ncontent-type: text/css ;x=1\r\n\r\n", b"a{}")
    _exchange(w, "https://www.spacewar.com/c", b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n", b"gone")
    _exchange(w, "https://www.spacewar.com/d", b"HTTP/1.1 200 OK\r\nContent-Type:\r\n\r\n", b"x")
    # a status line without a reason, and folded header lines
    _exchange(w, "https://www.spacewar.com/e", b"HTTP/1.0 301\r\nLocation: /a\r\nX-Long: a\r\n b\r\n\r\n", b"")
    # stored with its chunked framing: no WARC-Payload-Digest, the indexer digests the bytes after the head
    _exchange(w, "https://www.spacewar.com/chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: text/html\r\n\r\n", b"4\r\nabcd\r\n0\r\n\r\n", chunked=True)
    # a head cut short (a truncated response), Latin-1 bytes in a header
    _exchange(w, "https://www.spacewar.com/cut", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A: \xe9",
              b"", block=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A: \xe9")
    # revisits: identical payload (head only), and a server-not-modified one with no block and no digest
    _exchange(w, "https://www.spacewar.com/reports/A.html", b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
              html, record_type="revisit", block=b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
              revisit=records.identical_payload(ok.record_id, "https://www.spacewar.com/reports/A.html", DATE))
    _exchange(w, "https://www.spacewar.com/reports/A.html", b"", b"", record_type="revisit", digest=False,
              block=b"", revisit=records.not_modified())
    # the same URL and second twice (a repeated line is written once)
    for _ in range(2):
        _exchange(w, "https://www.spacewar.com/same", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", b"s")
    # a URL with a space (warcio percent-encodes it), and one of another scheme
    _exchange(w, "https://www.spacewar.com/a b", b"HTTP/1.1 200 OK\r\n\r\n", b"sp")
    w.write_record([("WARC-Type", "resource"), ("WARC-Record-ID", records.new_record_id()), ("WARC-Date", DATE),
                    ("WARC-Target-URI", "dns:www.spacewar.com"), ("Content-Type", "text/dns")], b"1.2.3.4")
    # bytes no HTTP parser accepts, kept as a resource record
    w.write_record(records.unparseable_response(record_id=records.new_record_id(), request_id=records.new_record_id(),
                                                date=DATE, uri="https://www.spacewar.com/bad", ip=None,
                                                reason="bad status line"), b"garbage\x00\xff")
    # capture metadata (warc-fields: left out) and an item record (JSON: indexed under its URN)
    headers, block = records.capture_metadata(response_id=ok.record_id, uri="https://www.spacewar.com/reports/A.html",
                                              hop_path="L", via="", fetch_seconds=0.1, status=200,
                                              outlinks=["https://www.spacewar.com/x y"])
    w.write_record(headers, block)
    headers, block = records.item_record({"url": "https://www.spacewar.com/reports/A.html", "title": "Été"},
                                         ok.record_id)
    w.write_record(headers, block)


def test_the_index_written_with_the_records_is_cdxj_indexers_byte_for_byte(tmp_path):
    w = WarcFileWriter(tmp_path / "w", "test", warcinfo={"software": "t"}, max_size=10**9, index=True)
    _write_all_kinds(w)
    w.close()
    (warc,) = (tmp_path / "w").glob("*.warc.gz")
    ours = cdxj_path(warc).read_bytes()
    lines = ours.decode().splitlines()
    assert len(lines) == 15  # all but the requests, the warcinfo, the warc-fields metadata and a repeat
    assert any(json.loads(line.split(" ", 2)[2]).get("mime") == "warc/revisit" for line in lines)
    assert ours == _read_back(tmp_path, warc)


def test_each_file_of_a_rollover_gets_its_own_index(tmp_path):
    files = WarcFileSet(tmp_path / "w", "test", max_size=3000, index=True)
    for n in range(6):
        _exchange(files.writer(), f"https://www.spacewar.com/{n}", b"HTTP/1.1 200 OK\r\n\r\n", bytes(range(256)) * 8)
        _exchange(files.writer("site2"), f"https://www.spacedaily.com/{n}", b"HTTP/1.1 200 OK\r\n\r\n", b"p" * 50)
    files.close()
    warcs = sorted((tmp_path / "w").glob("*.warc.gz"))
    assert len(warcs) > 3
    for warc in warcs:
        assert cdxj_path(warc).read_bytes() == _read_back(tmp_path, warc), warc.name


def test_a_file_whose_records_could_not_all_be_indexed_as_written_is_read_back(tmp_path, caplog, monkeypatch):
    import crawler.warc.cdxj as cdxj

    w = WarcFileWriter(tmp_path / "w", "test", max_size=10**9, index=True)
    _exchange(w, "https://www.spacewar.com/a", b"HTTP/1.1 200 OK\r\n\r\n", b"a")

    def broken(*args):  # a programming error in the line maker, for one record
        raise RuntimeError("bug")

    with monkeypatch.context() as m:
        m.setattr(cdxj, "index_line", broken)
        _exchange(w, "https://www.spacewar.com/b", b"HTTP/1.1 200 OK\r\n\r\n", b"b")
    _exchange(w, "https://www.spacewar.com/c", b"HTTP/1.1 200 OK\r\n\r\n", b"c")
    w.close()
    (warc,) = (tmp_path / "w").glob("*.warc.gz")
    assert "will be read back" in caplog.text and "RuntimeError: bug" in caplog.text
    index = cdxj_path(warc).read_bytes()
    assert index.count(b"\n") == 3 and index == _read_back(tmp_path, warc)


def test_an_index_too_large_to_hold_goes_to_sorted_runs_and_comes_out_the_same(tmp_path, monkeypatch):
    import crawler.warc.cdxj as cdxj

    monkeypatch.setattr(cdxj, "SPILL_CHARS", 600)  # a run every two or three lines
    w = WarcFileWriter(tmp_path / "w", "test", max_size=10**9, index=True)
    _write_all_kinds(w)
    for n in (5, 3, 9, 1, 7):  # out of order, and one URL twice
        _exchange(w, f"https://www.spacewar.com/n{n}", b"HTTP/1.1 200 OK\r\n\r\n", b"n")
    _exchange(w, "https://www.spacewar.com/n3", b"HTTP/1.1 200 OK\r\n\r\n", b"n")
    runs = len(w._lines._runs)
    w.close()
    (warc,) = (tmp_path / "w").glob("*.warc.gz")
    assert runs > 5
    assert cdxj_path(warc).read_bytes() == _read_back(tmp_path, warc)
    assert [p.name for p in (tmp_path / "w").iterdir() if p.name.startswith(".cdxj")] == []
