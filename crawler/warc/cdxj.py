"""CDXJ indexes of WARC files: written beside each closed file, and read back line by line.

`<file>.cdxj` is the sorted index pywb and the replay read, the lines cdxj-indexer writes with its
default fields. Two ways make it:
- `CdxjLines`, as the records are written: the writer (crawler/warc/files.py) hands it each record's
  headers, block, offset and length, and it writes the sorted index when the file is closed (lines
  past SPILL_CHARS wait in sorted runs in temporary files, so a 1 GB file's index is not all held in
  memory). This is the crawl's way: nothing is read back or decompressed. Its lines are the ones cdxj-indexer would
  write for the same file, byte for byte (tests/unit/warc/test_cdxj_lines.py compares them on a
  crawl's files); `index_line` spells cdxj-indexer's choices, each noted where it is made.
- `write_cdxj(path)` runs cdxj-indexer over a closed file (a file recovered from `.open`, or one
  whose lines could not all be made as it was written).

An index is derived data, so a failure to write one is logged and never stops a crawl.
`read_cdxj(path)` yields the index's lines as (key, timestamp, fields); a line that cannot be read
costs that line only (it is counted and skipped, the rest of the index stays in use).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import json
import logging
import os
import re
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Iterator

import surt
from warcio.statusandheaders import StatusAndHeadersParser
from warcio.timeutils import iso_date_to_timestamp

logger = logging.getLogger(__name__)


#: the record types indexed: cdxj-indexer's defaults (warc-fields metadata left out), kept as a list of our
#: own because importing `wacz` (WACZ=True) appends "warcinfo" to the class-wide default, and an index
#: line under no URL breaks its readers
RECORDS = ["response", "revisit", "resource", "metadata"]


def cdxj_path(warc_path: Path) -> Path:
    return warc_path.with_name(warc_path.name + ".cdxj")


def write_cdxj(warc_path: Path) -> Path | None:
    """Write <file>.cdxj (sorted CDXJ index, cdxj-indexer) beside a closed WARC file."""
    from cdxj_indexer.main import CDXJIndexer  # a core dependency, imported where it is used

    class Indexer(CDXJIndexer):
        DEFAULT_RECORDS = list(RECORDS)

    out = cdxj_path(warc_path)
    try:
        Indexer(str(out), [str(warc_path)], sort=True).process_all()
    except Exception:  # an index is derived data: never lose the crawl over it
        logger.exception("CDXJ indexing failed for %s", warc_path)
        return None
    return out


_MIME_END = re.compile(r"[;\s]")  # cdxj-indexer's RE_SPACE: a mime ends at the first ";" or space
_HTTP_HEAD = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)  # warcio's, as the indexer runs it


def _url_key(url: str) -> str:
    try:  # cdxj-indexer's get_url_key: the SURT, else the URL itself
        return surt.surt(url)
    except Exception:
        return url


def index_line(headers: list[tuple[str, str]], block: bytes, filename: str, offset: int,
               length: int) -> str | None:
    """The CDXJ line (with its newline) of one record, the one cdxj-indexer writes for it when it reads
    the record back at `offset` (`length` bytes, gzipped) of `filename`; None for a record type it
    leaves out. `headers`: the record's WARC headers as written (Content-Length aside)."""
    fields: dict[str, str] = {}
    for name, value in headers:  # warcio: the first header of a name, its value stripped
        fields.setdefault(name.lower(), value.strip())
    rec_type = fields.get("warc-type")
    content_type = fields.get("content-type")
    if rec_type not in RECORDS or (rec_type in ("resource", "metadata")
                                   and content_type == "application/warc-fields"):
        return None
    uri = fields.get("warc-target-uri")
    if uri is not None:  # warcio's _ensure_target_uri_format
        if uri.startswith("<") and uri.endswith(">"):
            uri = uri[1:-1]
        uri = uri.replace(" ", "%20")
    http = None
    head_length = 0  # the bytes warcio's HTTP parser read: the payload starts after them
    if block and rec_type in ("response", "revisit") and uri is not None and uri.startswith(("http:", "https:")):
        stream = BytesIO(block)
        http = _HTTP_HEAD.parse(stream)
        head_length = stream.tell()
    index: dict[str, str] = {}
    if uri is not None:
        index["url"] = uri
    if rec_type == "revisit":
        mime = "warc/revisit"
    else:
        mime = (http.get_header("content-type") if http else None) if rec_type == "response" else content_type
        if mime:
            mime = _MIME_END.split(mime, 1)[0].strip()
    if mime is not None:
        index["mime"] = mime
    if http:
        index["status"] = http.get_statuscode()
    digest = fields.get("warc-payload-digest")
    if not digest and rec_type != "revisit":  # warcio's ensure_digest: the bytes after the HTTP head
        digest = "sha1:" + base64.b32encode(hashlib.sha1(block[head_length:]).digest()).decode("ascii")
    if digest is not None:
        index["digest"] = digest
    index["length"] = str(length)
    index["offset"] = str(offset)
    index["filename"] = os.path.basename(filename)
    key = _url_key(index.get("url") or fields.get("warc-target-uri"))
    return f"{key} {iso_date_to_timestamp(fields['warc-date'])} {json.dumps(index)}\n"


#: characters of index lines held in memory per file before they go, sorted, to a temporary file (a 1 GB
#: WARC file has about 100 MB of index lines; cdxj-indexer's own sort spills at 32 MB)
SPILL_CHARS = 8 << 20


class CdxjLines:
    """The index lines of one WARC file, gathered as its records are written; `write(path)` writes
    them sorted beside the closed file. Past `spill_chars` characters the lines held go, sorted, to
    an anonymous temporary file in `directory` (the WARC directory), and `write` merges those runs,
    as cdxj-indexer's sort does. A record whose line could not be made, or a run that could not be
    written (logged), makes `write` index the closed file with cdxj-indexer instead."""

    def __init__(self, directory=None, spill_chars: int | None = None):
        self.lines: list[str] = []
        self.failed = False
        self.directory = directory
        self.spill_chars = spill_chars or SPILL_CHARS
        self._chars = 0
        self._runs: list = []  # temporary files, each a sorted run of lines

    def add(self, headers, block: bytes, filename: str, offset: int, length: int) -> None:
        if self.failed:
            return
        try:
            line = index_line(headers, block, filename, offset, length)
        except Exception:  # an index is derived data: the closed file is indexed by reading it back
            logger.exception("Could not index a record of %s as it was written; the file will be read back",
                             filename)
            self._give_up()
            return
        if line is None:
            return
        self.lines.append(line)
        self._chars += len(line)
        if self._chars >= self.spill_chars:
            self._spill(filename)

    def _spill(self, filename: str) -> None:
        self.lines.sort()
        try:
            # newline="\n": a line ends at "\n" only, as written (no translation either way)
            run = tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n", dir=self.directory, prefix=".cdxj-")
            self._runs.append(run)
            run.writelines(self.lines)
            run.flush()
        except OSError:
            logger.exception("Could not set aside the index lines of %s; the file will be read back", filename)
            self._give_up()
            return
        self.lines.clear()
        self._chars = 0

    def _give_up(self) -> None:
        self.failed = True
        self.discard()

    def discard(self) -> None:
        """Drop the lines and the temporary files (a file abandoned after a failed write)."""
        self.lines.clear()
        self._chars = 0
        for run in self._runs:
            run.close()
        self._runs.clear()

    def write(self, warc_path: Path) -> Path | None:
        """Write <file>.cdxj beside the closed `warc_path`: sorted, repeated lines once (cdxj-indexer's
        sort)."""
        if self.failed:
            return write_cdxj(warc_path)
        out = cdxj_path(warc_path)
        self.lines.sort()
        try:
            for run in self._runs:
                run.seek(0)
            lines = heapq.merge(*self._runs, self.lines) if self._runs else self.lines
            with open(out, "w", encoding="utf-8") as fh:
                last = None
                for line in lines:
                    if line != last:
                        fh.write(line)
                    last = line
        except OSError:
            logger.exception("CDXJ indexing failed for %s", warc_path)
            return None
        finally:
            self.discard()
        return out


class BadIndexLines:
    """Lines of an index that could not be read: how many, and the first one (file and line number)."""

    def __init__(self):
        self.count = 0
        self.first: str | None = None

    def add(self, where: str, why: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = f"{where}: {why}"


def read_cdxj(path: Path, bad: BadIndexLines | None = None) -> Iterator[tuple[str, str, dict]]:
    """(SURT key, timestamp, JSON fields) of each line of a CDXJ file; unreadable lines go to `bad`."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) < 3:
                if line.strip() and bad is not None:
                    bad.add(f"{path.name}:{number}", "not key, timestamp and JSON")
                continue
            try:
                fields = json.loads(parts[2])
            except ValueError as exc:
                if bad is not None:
                    bad.add(f"{path.name}:{number}", f"bad JSON ({exc})")
                continue
            if not isinstance(fields, dict):
                if bad is not None:
                    bad.add(f"{path.name}:{number}", "the JSON part is not an object")
                continue
            yield parts[0], parts[1], fields
