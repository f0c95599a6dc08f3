"""Recovery of WARC files left `.open` by a killed crawl: keep every complete record, set the partial tail aside.

A crawl writes each record as one gzip member and flushes it (crawler/warc/files.py), so a
process killed mid-write leaves a `<name>.warc.gz.open` file whose last member may be cut
short. Recovery, per file:

1. walk the gzip members from the start; the good prefix ends after the last member that
   decompresses completely *and* parses as a whole WARC record with warcio (header block,
   Content-Length bytes of content, digests when present);
2. copy the bytes after it (the partial record, or garbage) to `<name>.warc.gz.partial`
   beside the file, fsync'd: nothing captured is ever deleted;
3. truncate the file to the good prefix, fsync, and rename it to `<name>.warc.gz`
   (a file left without one complete record is removed once its bytes are in the sidecar);
4. optionally write the CDXJ index as the recorder does for files it closes itself.

`recover_directory(warc_dir)` recovers every `.open` file of a directory; the capture's recovery
extension (crawler/capture/recovery.py) calls it when a crawl starts, holding an exclusive lock on
the directory (`WarcDirLock`, `.warc-dir.lock`) for the whole crawl so a second crawl sharing
WARC_DIR never "recovers" files another live process is still writing.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler.warc.digests import sha1_digest
from crawler.warc.cdxj import write_cdxj
from crawler.warc.files import OPEN_SUFFIX

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
LOCK_NAME = ".warc-dir.lock"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class RecoveryResult:
    """What recovering one `.open` file did."""

    open_path: Path
    final_path: Path | None  # None when no complete record was left
    records: int  # complete records kept
    kept_bytes: int
    cut_bytes: int
    partial_path: Path | None  # sidecar holding the cut bytes, None when nothing was cut


def gzip_member_ends(path: Path) -> tuple[list[int], int]:
    """(end offsets of the complete gzip members from the start, file size), streaming.

    Stops at the first member that is cut short or is not gzip at all."""
    ends: list[int] = []
    size = path.stat().st_size
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            fh.seek(pos)
            d = zlib.decompressobj(31)
            consumed = 0
            complete = False
            try:
                while True:
                    chunk = fh.read(_CHUNK)
                    if not chunk:
                        break
                    d.decompress(chunk, 0)
                    # decompressing without keeping the output: bounded memory
                    while d.unconsumed_tail:
                        d.decompress(d.unconsumed_tail, 0)
                    if d.eof:
                        consumed += len(chunk) - len(d.unused_data)
                        complete = True
                        break
                    consumed += len(chunk)
            except zlib.error:
                break
            if not complete or consumed == 0:
                break
            pos += consumed
            ends.append(pos)
    return ends, size


def _records_ok(path: Path, start: int, end: int) -> bool:
    """Does [start, end) hold exactly one whole WARC record according to warcio: parsable
    headers, Content-Length bytes of block, and a matching WARC-Block-Digest when present?"""
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    try:
        count = 0
        for record in ArchiveIterator(io.BytesIO(data), no_record_parse=True):
            declared = record.rec_headers.get_header("Content-Length")
            block = record.raw_stream.read()
            if declared is None or int(declared) != len(block):
                return False
            digest = record.rec_headers.get_header("WARC-Block-Digest")
            if digest and digest.lower().startswith("sha1:") and digest != sha1_digest(block):
                return False
            count += 1
        return count == 1
    except Exception:  # warcio raises assorted errors on damaged input
        return False


def good_prefix(path: Path) -> tuple[int, int, int]:
    """(bytes of whole, valid records from the start, how many records, file size)."""
    ends, size = gzip_member_ends(path)
    good, count, start = 0, 0, 0
    for end in ends:
        if not _records_ok(path, start, end):
            break
        good, count, start = end, count + 1, end
    return good, count, size


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sidecar_path(final: Path) -> Path:
    candidate = final.with_name(final.name + PARTIAL_SUFFIX)
    n = 1
    while candidate.exists():  # an earlier, interrupted recovery left one: keep it too
        candidate = final.with_name(f"{final.name}{PARTIAL_SUFFIX}.{n}")
        n += 1
    return candidate


def recover_file(open_path, *, index: bool = True) -> RecoveryResult:
    """Recover one `<name>.warc.gz.open` file (see the module docstring)."""
    open_path = Path(open_path)
    if not open_path.name.endswith(OPEN_SUFFIX):
        raise ValueError(f"not an open WARC file: {open_path}")
    final = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
    if final.exists():
        raise FileExistsError(f"cannot recover {open_path}: {final} already exists")
    good, count, size = good_prefix(open_path)
    partial = None
    if good < size:
        partial = _sidecar_path(final)
        tmp = partial.with_name(partial.name + ".tmp")
        with open(open_path, "rb") as src, open(tmp, "wb") as dst:
            src.seek(good)
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, partial)
        with open(open_path, "r+b") as fh:
            fh.truncate(good)
            fh.flush()
            os.fsync(fh.fileno())
    if count == 0:
        open_path.unlink()  # its bytes, if any, are in the sidecar
        final_path = None
    else:
        os.replace(open_path, final)
        final_path = final
        if index:
            write_cdxj(final)
    _fsync_dir(open_path.parent)
    return RecoveryResult(open_path, final_path, count, good, size - good, partial)


def recover_directory(warc_dir, *, index: bool = True) -> list[RecoveryResult]:
    """Recover every `.open` WARC file in `warc_dir`; logs one line per file."""
    warc_dir = Path(warc_dir)
    if not warc_dir.is_dir():
        return []
    results = []
    for open_path in sorted(warc_dir.glob("*.warc.gz" + OPEN_SUFFIX)):
        try:
            result = recover_file(open_path, index=index)
        except OSError:
            logger.exception("WARC recovery failed for %s", open_path)
            continue
        results.append(result)
        if result.cut_bytes:
            logger.warning("WARC recovered: %s, %d complete records kept, %d partial bytes cut to %s",
                           result.final_path or "(no complete record)", result.records,
                           result.cut_bytes, result.partial_path)
        else:
            logger.info("WARC recovered: %s, %d complete records, nothing cut",
                        result.final_path, result.records)
    return results


class WarcDirLock:
    """An exclusive advisory lock on a WARC directory for as long as a crawl runs (released by the
    kernel when the process dies, even by kill -9)."""

    def __init__(self, warc_dir):
        self.path = Path(warc_dir) / LOCK_NAME
        self._fd = None

    def acquire(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise PermissionError(f"WARC_DIR {self.path.parent} is not writable: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def fileno(self) -> int | None:
        """The locked file's descriptor (a child process holding it open holds the lock too)."""
        return self._fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
