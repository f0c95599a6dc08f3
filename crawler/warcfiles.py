"""Rolling WARC/1.1 file writer: one gzip member per record, `.open` while written, renamed when closed.

File names: <prefix>-<UTC timestamp>-<serial>-<host>.warc.gz (".open" appended while the
file is being written). A file rolls over once it has reached `max_size` bytes; each file
opens with a warcinfo record. Every record is flushed to the operating system as soon as
it is written, so a killed process leaves at most one partial record at the end of a file.

Records are serialised here rather than with warcio's WARCWriter because warcio rebuilds
the HTTP header block from parsed headers, which loses the exact bytes a capture keeps;
warcio remains what reads, checks and indexes our files (write_cdxj: the sorted CDXJ index
cdxj-indexer writes beside each closed file).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import socket
import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name_part(text: str, default: str = "x") -> str:
    """A file-name fragment that cannot contain a path separator or start with a dot."""
    cleaned = _UNSAFE.sub("-", text or "").strip("-.")
    return cleaned[:80] or default


def warc_date(dt: datetime | None = None) -> str:
    """WARC/1.1 date with microseconds, UTC: 2026-11-25T02:00:00.123456Z."""
    dt = (dt or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@dataclass(frozen=True)
class RecordLocation:
    """Where a record landed: the final file name (without .open), its offset and gzip length."""

    filename: str
    record_id: str
    offset: int
    length: int

    def pointer(self) -> dict:
        return {"filename": self.filename, "record_id": self.record_id, "offset": self.offset}


def serialize_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """The uncompressed bytes of one WARC record; adds Content-Length last."""
    head = [WARC_VERSION]
    head += [f"{name}: {value}" for name, value in headers]
    head.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def _window_bits(size: int) -> int:
    """The smallest deflate window that holds `size` bytes with deflate's look-ahead margin (262):
    compressing with it gives the same bytes as the full 32 KiB window, but zlib sets up (and
    clears) a window and tables that much smaller, most of the cost of a small record."""
    bits = 9
    while bits < 15 and (1 << bits) - 262 < size:
        bits += 1
    return bits


def gzip_member(data: bytes, level: int = 6) -> bytes:
    """One complete gzip member (a gzip file of its own), as WARC readers expect per record."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 16 + _window_bits(len(data)))
    return comp.compress(data) + comp.flush()


class WarcFileWriter:
    """Writes records to rolling WARC files in `directory`.

    `warcinfo` is the dict of fields for the warcinfo record that opens each file.
    `on_close(path)` is called with the final path after each file is closed and renamed.
    """

    def __init__(self, directory, prefix: str, *, max_size: int = 1_000_000_000,
                 warcinfo: dict | None = None, host: str | None = None,
                 compress_level: int = 6, on_close=None):
        self.directory = Path(directory)
        self.prefix = safe_name_part(prefix, "crawl")
        self.host = safe_name_part(host or socket.gethostname(), "host")
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.compress_level = compress_level
        self.on_close = on_close
        self.serial = 0
        self.closed_files: list[str] = []
        self._fh = None
        self._name = None  # final name of the current file
        self._warcinfo_id = None
        self.directory.mkdir(parents=True, exist_ok=True)
        if not os.access(self.directory, os.W_OK):
            raise PermissionError(f"WARC_DIR {self.directory} is not writable")

    # --- files -------------------------------------------------------------
    @property
    def current_path(self) -> Path | None:
        return self.directory / (self._name + OPEN_SUFFIX) if self._name else None

    @property
    def warcinfo_id(self) -> str | None:
        return self._warcinfo_id

    def _new_name(self) -> str:
        now = datetime.now(timezone.utc)
        stamp = now.strftime("%Y%m%d%H%M%S") + f"{now.microsecond // 1000:03d}"
        while True:
            name = f"{self.prefix}-{stamp}-{self.serial:05d}-{self.host}.warc.gz"
            self.serial += 1
            if not (self.directory / name).exists() and not (self.directory / (name + OPEN_SUFFIX)).exists():
                return name

    def _open(self) -> None:
        self._name = self._new_name()
        # "xb": never overwrite or append to an existing file
        self._fh = open(self.directory / (self._name + OPEN_SUFFIX), "xb")
        self._warcinfo_id = new_record_id()
        fields = "".join(f"{k}: {v}\r\n" for k, v in self.warcinfo.items() if v not in (None, ""))
        self._write([
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", self._warcinfo_id),
            ("WARC-Date", warc_date()),
            ("WARC-Filename", self._name),
            ("Content-Type", "application/warc-fields"),
        ], fields.encode("utf-8"))
        logger.info("WARC file opened: %s", self.current_path)

    def close(self) -> None:
        """Close the current file (if any) and drop its .open suffix."""
        if self._fh is None:
            return
        fh, name = self._fh, self._name
        self._fh = self._name = None
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        final = self.directory / name
        os.replace(self.directory / (name + OPEN_SUFFIX), final)
        self.closed_files.append(name)
        logger.info("WARC file closed: %s", final)
        if self.on_close:
            self.on_close(final)

    def abandon(self) -> None:
        """Stop writing after a failed write: drop what the failed write left in the buffer and
        leave the file `.open` (the next run's recovery cuts any partial tail)."""
        fh = self._fh
        if fh is not None:
            try:
                fh.raw.close()
            except Exception:
                pass
        self._fh = self._name = None

    # --- records -------------------------------------------------------------
    def _write(self, headers, block: bytes) -> RecordLocation:
        record_id = dict(headers).get("WARC-Record-ID")
        data = gzip_member(serialize_record(headers, block), self.compress_level)
        offset = self._fh.tell()
        self._fh.write(data)
        self._fh.flush()
        return RecordLocation(self._name, record_id, offset, len(data))

    def ensure_open(self) -> str:
        """Roll over a file that reached max_size and open one if none is; the current file's name."""
        if self._fh is not None and self._fh.tell() >= self.max_size:
            self.close()
        if self._fh is None:
            self._open()
        return self._name

    def write_record(self, headers: list[tuple[str, str]], block: bytes) -> RecordLocation:
        """Write one record. `headers` must hold WARC-Type, WARC-Record-ID and WARC-Date;
        WARC-Warcinfo-ID, WARC-Block-Digest and Content-Length are added here."""
        self.ensure_open()
        names = {name for name, _ in headers}
        headers = list(headers)
        if "WARC-Warcinfo-ID" not in names:
            headers.append(("WARC-Warcinfo-ID", self._warcinfo_id))
        if "WARC-Block-Digest" not in names:
            headers.append(("WARC-Block-Digest", sha1_digest(block)))
        return self._write(headers, block)


def write_cdxj(warc_path: Path) -> Path | None:
    """Write <file>.cdxj (sorted CDXJ index, cdxj-indexer) beside a closed WARC file."""
    try:
        from cdxj_indexer.main import write_cdx_index
    except ImportError:  # pragma: no cover - cdxj-indexer is a declared dependency
        return None
    out = warc_path.with_name(warc_path.name + ".cdxj")
    try:
        write_cdx_index(str(out), [str(warc_path)], {"sort": True})
    except Exception:  # an index is derived data: never lose the crawl over it
        logger.exception("CDXJ indexing failed for %s", warc_path)
        return None
    return out
