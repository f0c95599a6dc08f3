"""Reading WARC records for reprocess: the records of a byte range of a file, or the one record at an offset, and its HTTP message.

The one module that knows which WARC library reads: FastWARC (Rust, the fastest maintained
reader) where it is installed, else warcio (`READER`, or `REPROCESS_READER=warcio` in the
environment to force it). Both are asked for the raw record block only: FastWARC's digest check
drops records and its HTTP decoding can stop silently on some records, so the HTTP message is
split, and its transfer-codings removed, by the project's own crawler/warc/http.py, the code the
capture digested with. Content-codings (gzip, deflate) are undone here as the crawl's
HttpCompressionMiddleware undoes them.

`records(path, start, end)` yields the records that start in [start, end): the reader starts at
the first record boundary at or after `start` (crawler/warc/members.py) and stops at the first
record starting at or after `end`. Where the file is damaged (a gzip member that does not
decompress, a file cut short) it calls `on_damage(offset, what)` with the offset where the damage
starts, resumes at the next record boundary after it, and goes on: what can be read is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from crawler.warc.http import entity_body, split_response
from crawler.warc.members import record_end, record_start
from crawler.warc.uris import target_uri


def _fastwarc_available() -> bool:
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
    return True


#: "fastwarc" or "warcio"
READER = os.environ.get("REPROCESS_READER") or ("fastwarc" if _fastwarc_available() else "warcio")


@dataclass
class Record:
    """One WARC record: its offset, type ("response", "revisit", ...), WARC headers (names lower-cased)
    and its block (for a response: the HTTP message as archived). A record whose block was not asked
    for (`want_block`) carries its type and target URI only, and an empty block."""

    offset: int
    type: str
    headers: dict[str, str]
    block: bytes
    whole: bool = True  # False: skipped on its headers (`want_block`), only its type and target URI read

    def get(self, name: str, default=None):
        return self.headers.get(name.lower(), default)


@dataclass
class HttpMessage:
    """The HTTP response in a record's block."""

    status: int
    headers: list[tuple[str, str]]  # archived order
    body: bytes  # transfer-codings removed, content-coding kept

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


# --- iteration, per library -----------------------------------------------------------------
def _headers(pairs) -> dict[str, str]:
    """WARC headers, names lower-cased, the target URI normalised (crawler/warc/uris.py) whichever library read them."""
    headers = {k.lower(): v for k, v in pairs}
    for name in ("warc-target-uri", "warc-refers-to-target-uri"):
        if name in headers:
            headers[name] = target_uri(headers[name])
    return headers


def _brief(kind: str, uri) -> dict[str, str]:
    """The headers a caller judges a record on before its block is read: its type and target URI."""
    brief = {"warc-type": kind}
    if uri is not None:
        brief["warc-target-uri"] = target_uri(uri)
    return brief


def _iter_fastwarc(fh, want_block: bool):
    from fastwarc.warc import ArchiveIterator

    for rec in ArchiveIterator(fh, parse_http=False, verify_digests=False):
        h = rec.headers  # FastWARC's header map: names case-insensitive
        kind = h.get("WARC-Type") or ""
        brief = _brief(kind, h.get("WARC-Target-URI"))
        if want_block(kind, brief):
            yield Record(rec.stream_pos, kind, _headers(h.items()), rec.reader.read())
        else:  # skipped on its headers (most of an archive of the whole web): no more work than that
            yield Record(rec.stream_pos, kind, brief, b"", False)


def _iter_warcio(fh, want_block: bool):
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(fh, no_record_parse=True)
    for rec in records:
        h = rec.rec_headers
        kind = h.get_header("WARC-Type") or ""
        brief = _brief(kind, h.get_header("WARC-Target-URI"))
        wanted = want_block(kind, brief)
        block = rec.raw_stream.read() if wanted else b""
        # warcio's offsets are already absolute (it starts from fh.tell()): adding the start again lost every
        # record after a file's first task
        yield Record(records.get_record_offset(), kind, _headers(h.headers) if wanted else brief, block, wanted)


def _iterate(fh, want_block):
    return (_iter_fastwarc if READER == "fastwarc" else _iter_warcio)(fh, want_block)


def records(path, start: int, end: int, *, want_block: Callable[[str, dict], bool] = lambda kind, headers: True,
            on_damage: Callable[[int, str], None] | None = None, gz: bool | None = None) -> Iterator[Record]:
    """The records starting in [start, end) of the file at `path` (see the module docstring); `gz`: the records
    are gzip members (None: by the file's name)."""
    path = Path(path)
    size = path.stat().st_size
    end = min(end, size)
    at = record_start(path, start, end, gz)
    while at is not None and at < end:
        last = None
        why = None
        with open(path, "rb") as fh:
            fh.seek(at)
            try:
                for rec in _iterate(fh, want_block):
                    if rec.offset >= end:  # the next range's: `last` ended where this one starts
                        if last is not None:
                            yield last
                        return
                    if last is not None:
                        yield last
                    last = rec
            except Exception as exc:  # a corrupt member or header: the library's own error
                why = f"{type(exc).__name__}: {exc}"
        if last is None:
            damage = at  # not even the first record could be read
        else:
            done = record_end(path, last.offset, gz)  # the last record is whole only when its member ends
            if done is None:
                damage = last.offset
                why = why or "record cut short"
            else:
                yield last
                if done >= end:
                    return
                damage = done  # the library stopped before the range's end
        if on_damage is not None:
            on_damage(damage, why or "unreadable record")
        at = record_start(path, damage + 1, end, gz)


def read_at(path, offset: int) -> Record:
    """The record at `offset` (a record boundary) of the file at `path`."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        for rec in _iterate(fh, lambda kind, headers: True):
            return rec
    raise EOFError(f"no WARC record at offset {offset} of {path}")


# --- the HTTP message -------------------------------------------------------------------------
def http_message(block: bytes) -> HttpMessage:
    """The HTTP response in a response (or revisit) record's block."""
    _, final, header_length, _ = split_response(block)
    head, body = final[:header_length], final[header_length:]
    lines = head.decode("latin-1").splitlines()
    try:
        status = int(lines[0].split(None, 2)[1])
    except (IndexError, ValueError):
        raise ValueError(f"no HTTP status line: {lines[:1]!r}") from None
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return HttpMessage(status, headers, entity_body(head, body))


def http_status(block: bytes) -> int | None:
    """The status code of the HTTP response a block starts with (None: not an HTTP response)."""
    line = block[:64].split(b"\n", 1)[0]
    parts = line.split()
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None
