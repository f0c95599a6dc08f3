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
record starting at or after `end`, whose offset it gives (`Span.next`): the run checks that the
next range's reading started at that very record (crawler/offline/reprocess/run.py). Records the
caller does not want (`want_block`, and first `hint`: strings one of which a wanted record's target
URI holds) are judged on their WARC type and target URI, read from FastWARC's header map without
building a header dict or a record object, and only counted (`Span`): that is most of the work
on an archive of the whole web. Where the file is damaged (a gzip member that does not
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
    and its block (for a response: the HTTP message as archived)."""

    offset: int
    type: str
    headers: dict[str, str]
    block: bytes

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


_CAPTURES = ("response", "revisit")
_HTTP = ("http:", "https:")


@dataclass
class Span:
    """What a reading of a range saw besides the records it gave: every record read (`records`), the web
    captures skipped on their headers (`skipped_captures`: responses and revisits of an http(s) URI that
    `want_block` or `hint` turned down), where the reading started (`first`, a record boundary), and
    where the next range's first record starts as this reading found it by parsing on (`next`; None
    when the reading did not get there: the file's end, or damage)."""

    records: int = 0
    skipped_captures: int = 0
    first: int | None = None
    next: int | None = None


def _is_capture(kind: str, raw) -> bool:
    """A response or revisit of an http(s) URI (`raw`: its WARC-Target-URI as written)."""
    if kind not in _CAPTURES or not raw:
        return False
    return raw.startswith(_HTTP) or target_uri(raw).startswith(_HTTP)


def _hinted(raw, hint) -> bool:
    """The raw target URI, lower-cased, holds one of the hint's strings."""
    low = raw.lower() if raw else ""
    return any(needle in low for needle in hint)


def _iter_fastwarc(fh, want_block, hint):
    """(offset, Record) of a wanted record, (offset, None) of a skipped one, (offset, False) of a skipped web
    capture: only the WARC type and target URI of a skipped record are looked at, as FastWARC's header map's
    (the WarcHeader keys, no string matching of names), and one record object is reused (inplace)."""
    from fastwarc.warc import ArchiveIterator, WarcHeader

    type_key, uri_key = WarcHeader.WARC_TYPE, WarcHeader.WARC_TARGET_URI
    for rec in ArchiveIterator(fh, parse_http=False, verify_digests=False, inplace=True):
        h = rec.headers  # FastWARC's header map: names case-insensitive
        kind = h.get(type_key) or ""
        raw = h.get(uri_key)
        if hint is not None:  # turned down without building anything when the URI holds none of the hint
            # (`_hinted` written out: a call per record of a 100,000-record file is a tenth of its Python work)
            low = raw.lower() if raw else ""
            for needle in hint:
                if needle in low:
                    break
            else:
                yield rec.stream_pos, (False if _is_capture(kind, raw) else None)
                continue
        brief = _brief(kind, raw)
        if want_block(kind, brief):
            yield rec.stream_pos, Record(rec.stream_pos, kind, _headers(h.items()), rec.reader.read())
        else:
            yield rec.stream_pos, (False if _is_capture(kind, raw) else None)


def _iter_warcio(fh, want_block, hint):
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(fh, no_record_parse=True)
    for rec in records:
        h = rec.rec_headers
        kind = h.get_header("WARC-Type") or ""
        raw = h.get_header("WARC-Target-URI")
        brief = _brief(kind, raw)
        wanted = (hint is None or _hinted(raw, hint)) and want_block(kind, brief)
        block = rec.raw_stream.read() if wanted else b""  # before the offset: warcio reads to the record's end for it
        # warcio's offsets are already absolute (it starts from fh.tell()): adding the start again lost every
        # record after a file's first task
        offset = records.get_record_offset()
        if wanted:
            yield offset, Record(offset, kind, _headers(h.headers), block)
        else:
            yield offset, (False if _is_capture(kind, raw) else None)


def _iterate(fh, want_block, hint=None):
    return (_iter_fastwarc if READER == "fastwarc" else _iter_warcio)(fh, want_block, hint)


def records(path, start: int, end: int, *, want_block: Callable[[str, dict], bool] = lambda kind, headers: True,
            on_damage: Callable[[int, str], None] | None = None, gz: bool | None = None, hint=None,
            span: Span | None = None, at_record: bool = False) -> Iterator[Record]:
    """The records starting in [start, end) of the file at `path` (see the module docstring) that `want_block`
    wants; `gz`: the records are gzip members (None: by the file's name). `hint`: lower-case strings one of
    which the raw WARC-Target-URI, lower-cased, of every wanted record holds (a record whose URI holds none is
    skipped without a call of `want_block`); `span`: filled with what was read besides (Span); `at_record`:
    `start` is a record boundary (a reading that goes on from where another one found the next record), no
    search."""
    path = Path(path)
    span = span if span is not None else Span()
    size = path.stat().st_size
    end = min(end, size)
    at = start if at_record and start < end else record_start(path, start, end, gz)
    span.first = at
    while at is not None and at < end:
        last = None  # (offset, Record | None | False) of the last record started: whole only once the next starts
        why = None
        with open(path, "rb") as fh:
            fh.seek(at)
            try:
                for item in _iterate(fh, want_block, hint):
                    if last is not None:  # whole: the next record started
                        span.records += 1
                        rec = last[1]
                        if rec:
                            yield rec
                        elif rec is False:
                            span.skipped_captures += 1
                    if item[0] >= end:  # the next range's: `last` ended where this one starts
                        span.next = item[0]
                        return
                    last = item
            except Exception as exc:  # a corrupt member or header: the library's own error
                why = f"{type(exc).__name__}: {exc}"
        if last is None:
            damage = at  # not even the first record could be read
        else:
            done = record_end(path, last[0], gz)  # the last record is whole only when its member ends
            if done is None:
                damage = last[0]
                why = why or "record cut short"
            else:
                span.records += 1
                if last[1]:
                    yield last[1]
                elif last[1] is False:
                    span.skipped_captures += 1
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
        for _, rec in _iterate(fh, lambda kind, headers: True):
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
