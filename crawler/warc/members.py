"""Record boundaries inside a WARC file, found from any byte offset: where a reader can start, and where damage ends.

A `.warc.gz` file is a series of gzip members, one per record (WARC 1.1 annex D, and how
crawler/warc/files.py writes them); a plain `.warc` file is a series of records, each starting
with a `WARC/1.x` version line. `record_start(path, pos)` is the first record that starts at or
after `pos`: for gzip, the first gzip header (1f 8b 08) whose member decompresses to a WARC
version line; for a plain file, the first `WARC/1.` line followed by a header block that carries
a Content-Length. So a file can be cut into byte ranges by anyone (crawler/offline/reprocess/
splits one large file over several processes): a record belongs to the range its first byte is
in, and the reader of each range starts at `record_start(range start)` and stops at the first
record starting at or after the range's end.

`record_end(path, start)` is where the record starting at `start` ends (for gzip, the end of
its member, known only by decompressing it; None when the member is cut short or corrupt): a
reader that stopped early uses it to name the offset of the damage and to resume after it.

Pure (no Scrapy), reads the file in bounded chunks.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 16
_VERSION = re.compile(rb"WARC/(1\.[01]|0\.1[78])\r?\n")  # 1.0, 1.1, and the drafts 0.17 and 0.18


def is_gzip(path) -> bool:
    """The file is gzip-compressed (by its name, as readers decide)."""
    return str(path).endswith(".gz")


def _starts_record_gz(fh, pos: int) -> bool:
    """A gzip member starts at `pos` and decompresses to a WARC version line."""
    fh.seek(pos)
    data = fh.read(_CHUNK)
    if not data.startswith(GZIP_MAGIC):
        return False
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, 64)
    except zlib.error:
        return False
    return _VERSION.match(out) is not None


def _starts_record_plain(fh, pos: int) -> bool:
    fh.seek(pos)
    head = fh.read(_CHUNK)
    if not _VERSION.match(head):
        return False
    end = head.find(b"\r\n\r\n")
    return end > 0 and b"\ncontent-length:" in head[:end].lower()


def record_start(path, pos: int, limit: int | None = None, gz: bool | None = None) -> int | None:
    """The offset of the first record starting at or after `pos` (and before `limit`), or None. `gz`: the records
    are gzip members (None: judged by the file's name)."""
    path = Path(path)
    gz = is_gzip(path) if gz is None else gz
    needle = GZIP_MAGIC if gz else b"WARC/"
    check = _starts_record_gz if gz else _starts_record_plain
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        limit = size if limit is None else min(limit, size)
        at = max(0, pos)
        while at < limit:
            fh.seek(at)
            block = fh.read(_CHUNK + len(needle))
            if not block:
                return None
            i = block.find(needle)
            while i >= 0 and at + i < limit:
                cand = at + i
                # a plain record's version line starts a line, the file, or the range asked for (a WACZ's member
                # starts right after the ZIP's local header, not after a newline)
                if (gz or cand == pos or _line_start(fh, cand)) and check(fh, cand):
                    return cand
                i = block.find(needle, i + 1)
            at += _CHUNK
    return None


def _line_start(fh, pos: int) -> bool:
    fh.seek(pos - 1)
    return fh.read(1) == b"\n"


def record_end(path, start: int, gz: bool | None = None) -> int | None:
    """Where the record starting at `start` ends: the end of its gzip member, or for a plain file the end of
    its Content-Length bytes and the two CRLFs after them. None when it is cut short or corrupt."""
    path = Path(path)
    with open(path, "rb") as fh:
        fh.seek(start)
        if is_gzip(path) if gz is None else gz:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pos = start
            try:
                while not d.eof:
                    data = fh.read(_CHUNK)
                    if not data:
                        return None
                    d.decompress(data)
                    pos += len(data)
            except zlib.error:
                return None
            return pos - len(d.unused_data)
        head = fh.read(_CHUNK)
        end = head.find(b"\r\n\r\n")
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head[:end] if end > 0 else b"")
        if end < 0 or m is None:
            return None
        stop = start + end + 4 + int(m.group(1)) + 4
        return stop if stop <= fh.seek(0, 2) else None
