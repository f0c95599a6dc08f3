"""Rolling WARC/1.1 file writer: one gzip member per record, `.open` while written, renamed when closed.

File names: <prefix>-<UTC timestamp>-<serial>-<host>.warc.gz (".open" appended while the
file is being written). A file rolls over once it has reached `max_size` bytes; each file
opens with a warcinfo record. Every record is flushed to the operating system as soon as
it is written, so a killed process leaves at most one partial record at the end of a file.

Records are serialised here rather than with warcio's WARCWriter because warcio rebuilds
the HTTP header block from parsed headers, which loses the exact bytes a capture keeps;
warcio remains what reads and checks our files.

With `index=True` each file's CDXJ index (`<file>.cdxj`, crawler/warc/cdxj.py) is made from the
records as they are written, and written when the file is closed, before `on_close`.

Every write goes through the writer's guard: with `min_free_bytes`, a record that would leave
less than that free in the directory is refused (OSError ENOSPC) before a byte of it is
written, and any failed write (the guard's, or the disk's) calls `on_error(exc)` once and
makes every later write fail too. The file stays `.open` without the failed record's bytes;
the next run's recovery (crawler/warc/recovery.py) closes it.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import socket
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

from crawler.warc.cdxj import CdxjLines
from crawler.warc.digests import sha1_digest
from crawler.warc.location import RecordLocation
from crawler.warc.records import new_record_id, warc_date

logger = logging.getLogger(__name__)

WARC_VERSION = "WARC/1.1"
OPEN_SUFFIX = ".open"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name_part(text: str, default: str = "x") -> str:
    """A file-name fragment that cannot contain a path separator or start with a dot."""
    cleaned = _UNSAFE.sub("-", text or "").strip("-.")
    return cleaned[:80] or default


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


def free_bytes(path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class WarcFileWriter:
    """Writes records to rolling WARC files in `directory`.

    `warcinfo` is the dict of fields for the warcinfo record that opens each file.
    `on_close(path)` is called with the final path after each file is closed and renamed;
    `on_error(exc)` once, when a write fails (see the module docstring for `min_free_bytes`);
    `index`: write each closed file's CDXJ index (see the module docstring).
    """

    def __init__(self, directory, prefix: str, *, max_size: int, warcinfo: dict | None = None,
                 host: str | None = None, compress_level: int = 6, min_free_bytes: int = 0,
                 on_close=None, on_error=None, index: bool = False):
        self.directory = Path(directory)
        self.prefix = safe_name_part(prefix, "crawl")
        self.host = safe_name_part(host or socket.gethostname(), "host")
        self.max_size = max_size
        self.warcinfo = dict(warcinfo or {})
        self.compress_level = compress_level
        self.min_free_bytes = min_free_bytes
        self.on_close = on_close
        self.on_error = on_error
        self.index = index
        self._lines: CdxjLines | None = None  # the current file's index, with `index`
        self.failed: OSError | None = None
        self.serial = 0
        self.closed_files: list[str] = []
        self._fh = None
        self._name = None  # final name of the current file
        self._warcinfo_id = None
        self._checked_at = float("-inf")  # monotonic time of the last free-space check
        self._headroom = 0  # bytes that could be written before the margin, at that check
        self._since = 0  # bytes written since that check
        self.directory.mkdir(parents=True, exist_ok=True)
        if not os.access(self.directory, os.W_OK):
            raise PermissionError(f"WARC_DIR {self.directory} is not writable")

    # --- files -------------------------------------------------------------
    @property
    def current_path(self) -> Path | None:
        return self.directory / (self._name + OPEN_SUFFIX) if self._name else None

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
        self._lines = CdxjLines(self.directory) if self.index else None
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
        """Close the current file (if any) and drop its .open suffix; a file a failed write left
        stays .open for the next run's recovery."""
        if self._fh is None:
            return
        if self.failed is not None:
            self.abandon()
            return
        fh, name, lines = self._fh, self._name, self._lines
        self._fh = self._name = self._lines = None
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        final = self.directory / name
        os.replace(self.directory / (name + OPEN_SUFFIX), final)
        self.closed_files.append(name)
        logger.info("WARC file closed: %s", final)
        if lines is not None:
            lines.write(final)
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
        if self._lines is not None:
            self._lines.discard()
        self._fh = self._name = self._lines = None

    # --- records -------------------------------------------------------------
    def _write(self, headers, block: bytes) -> RecordLocation:
        record_id = dict(headers).get("WARC-Record-ID")
        raw = serialize_record(headers, block)
        try:
            data = gzip_member(raw, self.compress_level)
        except (zlib.error, ValueError) as exc:  # a level zlib refuses: no record can be written, a failed write
            raise OSError(errno.EINVAL, f"zlib cannot compress at level {self.compress_level}: {exc}") from exc
        offset = self._fh.tell()
        self._fh.write(data)
        self._fh.flush()
        if self._lines is not None:
            self._lines.add(headers, block, self._name, offset, len(data))
        return RecordLocation(self._name, record_id, offset, len(data))

    def ensure_open(self) -> str:
        """Roll over a file that reached max_size and open one if none is; the current file's name."""
        if self._fh is not None and self._fh.tell() >= self.max_size:
            self.close()
        if self._fh is None:
            self._open()
        return self._name

    def _check_space(self, size: int) -> None:
        """Refuse a write that would leave less than min_free_bytes free (statvfs at most once a
        second, or sooner when the bytes written since the last look may have used the headroom)."""
        now = time.monotonic()
        if now - self._checked_at < 1.0 and self._since + size < self._headroom:
            self._since += size
            return
        if not self.directory.exists():
            return  # a directory gone is the write's to report
        free = free_bytes(self.directory)
        self._checked_at, self._since, self._headroom = now, size, free - self.min_free_bytes
        if free < self.min_free_bytes + size:
            raise OSError(errno.ENOSPC, f"less than WARC_MIN_FREE_BYTES={self.min_free_bytes} free "
                                        f"({free} bytes left)")

    def write_record(self, headers: list[tuple[str, str]], block: bytes) -> RecordLocation:
        """Write one record. `headers` must hold WARC-Type, WARC-Record-ID and WARC-Date;
        WARC-Warcinfo-ID, WARC-Block-Digest and Content-Length are added here."""
        if self.failed is not None:
            raise OSError(errno.EIO, f"WARC writing stopped after an earlier failure ({self.failed})")
        try:
            if self.min_free_bytes:
                self._check_space(len(block))
            self.ensure_open()
            names = {name for name, _ in headers}
            headers = list(headers)
            if "WARC-Warcinfo-ID" not in names:
                headers.append(("WARC-Warcinfo-ID", self._warcinfo_id))
            if "WARC-Block-Digest" not in names:
                headers.append(("WARC-Block-Digest", sha1_digest(block)))
            return self._write(headers, block)
        except OSError as exc:
            self.fail(exc)
            raise

    def fail(self, exc: OSError) -> None:
        """Stop writing: the current file stays .open without the failed bytes; on_error once."""
        if self.failed is not None:
            return
        self.failed = exc
        if self.on_error:
            self.on_error(exc)  # while current_path still names the file left .open
        self.abandon()



class WarcFileSet:
    """Rolling WARC files under several prefixes in one directory: a WarcFileWriter per prefix,
    opened at its first record (the network job writes one series of files per site).

    `prefix` is the series of records written without one; `warcinfos` maps a prefix to the
    warcinfo fields of its files (others get `warcinfo`). A failed write in any series calls
    `on_error(exc)` once and stops every series: the failed file stays `.open` for the next run's
    recovery, the others are closed whole by close()."""

    def __init__(self, directory, prefix: str, *, max_size: int, warcinfo: dict | None = None,
                 warcinfos: dict[str, dict] | None = None, host: str | None = None, compress_level: int = 6,
                 min_free_bytes: int = 0, on_close=None, on_error=None, index: bool = False):
        self.prefix = prefix
        self.warcinfo = dict(warcinfo or {})
        self.warcinfos = {name: dict(fields) for name, fields in (warcinfos or {}).items()}
        self.options = dict(max_size=max_size, host=host, compress_level=compress_level,
                            min_free_bytes=min_free_bytes, index=index)
        self.on_close = on_close
        self.on_error = on_error
        self.failed: OSError | None = None
        self.writers: dict[str, WarcFileWriter] = {}
        self.directory = Path(directory)
        default = self.writer(prefix)  # checks the directory now
        self.host = default.host
        self._last = default  # the series written last: a failure's file

    def writer(self, prefix: str | None = None) -> WarcFileWriter:
        """The series of `prefix` (the default one for None), created at first use."""
        prefix = prefix or self.prefix
        writer = self.writers.get(prefix)
        if writer is None:
            writer = self.writers[prefix] = WarcFileWriter(
                self.directory, prefix, warcinfo=self.warcinfos.get(prefix, self.warcinfo),
                on_close=self._closed, on_error=self._failed, **self.options)
        return writer

    def _closed(self, path: Path) -> None:
        if self.on_close:
            self.on_close(path)

    def _failed(self, exc: OSError) -> None:
        if self.failed is not None:
            return
        self.failed = exc
        if self.on_error:
            self.on_error(exc)  # while current_path still names the file left .open

    @property
    def current_path(self) -> Path | None:
        """The `.open` file of the series written last (the one a failed write leaves)."""
        return self._last.current_path

    def write_record(self, headers: list[tuple[str, str]], block: bytes, prefix: str | None = None) -> RecordLocation:
        """Write one record into the series of `prefix` (WarcFileWriter.write_record)."""
        if self.failed is not None:
            raise OSError(errno.EIO, f"WARC writing stopped after an earlier failure ({self.failed})")
        self._last = self.writer(prefix)
        return self._last.write_record(headers, block)

    def abandon(self) -> None:
        self._last.abandon()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
