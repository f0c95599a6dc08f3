"""What an archivist hands over: the archive files at a set of paths, found recursively, each judged by its bytes and turned into readable byte ranges.

`open_inputs(paths, tmp_dir)` looks at every path (a file as given; a directory searched
recursively, as Common Crawl lays out `segments/*/warc/`, for `*.warc.gz`, `*.warc`, `*.arc.gz`,
`*.arc` and `*.wacz`), reads the first bytes of each file and gives:

* `sources`: the byte ranges a WARC reader can cut into tasks, each a `Source`:
  - a WARC file (1.0, 1.1, 0.17, 0.18) compressed per record, or not compressed: the whole file;
  - a WARC file gzipped as a whole (one gzip stream, not a member per record): it has no record
    boundaries to seek to, so it is read as one stream, decompressed once into `tmp_dir`, and said
    so (`note`); offsets are then the records' places in the decompressed stream;
  - a WACZ: each `archive/` member stored uncompressed in the ZIP (as the WACZ spec asks) is a
    byte range of the .wacz file itself, read in place, and named by its path under `archive/`
    (`member_name`: the name a WACZ's CDXJ index gives it), so two members of one name in two
    folders are two files to the items' pointers; a member the ZIP compressed is refused;
  - an ARC file (the WARC's predecessor): converted once into a WARC in `tmp_dir` with warcio
    (its ARC-to-WARC reading), and said so;
* `refused`: each file that cannot be read, with the cause in words (not a WARC: what it starts
  with; an empty file; a ZIP that is no WACZ);
* `extracts`: the Common Crawl WAT and WET files (`*.warc.wat.gz`, `*.warc.wet.gz`) a directory
  holds beside its WARC files, left out: they are WARC files too, but of metadata and text
  extracts of the captures, not of captures (`extract_kind`); one given by name is read, and its
  kind named in the summary;

and `NoInput` (one line: what was found, what was expected) when the paths hold nothing to read.
`Inputs.close()` removes what went into `tmp_dir`. Pure: no Scrapy.
"""

from __future__ import annotations

import gzip
import re
import shutil
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from crawler.findfiles import find_files

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
#: the names a directory is searched for
ARCHIVE_SUFFIXES = (".warc.gz", ".warc", ".arc.gz", ".arc", ".wacz")
EXPECTED = "WARC files (*.warc.gz, *.warc), ARC files (*.arc.gz, *.arc) or WACZ files (*.wacz)"
#: Common Crawl's extracts of its WARC files, by name: {suffix: what they hold}
EXTRACTS = {".wat.gz": ("WAT", "metadata"), ".wat": ("WAT", "metadata"),
            ".wet.gz": ("WET", "text"), ".wet": ("WET", "text")}
#: what the summary says of the WAT and WET files (the warc/ files beside them hold the captures)
EXTRACTS_ARE = "metadata and text extracts of captures, not captures: give the warc/ files"
_VERSION = re.compile(rb"WARC/(1\.[01]|0\.1[78])\r?\n")
_HEAD = 1 << 16


class NoInput(Exception):
    """The paths hold nothing a reader can use; the message is one line: what was found, what was expected."""


@dataclass(frozen=True)
class Source:
    """A byte range [start, end) of a file that holds WARC records back to back."""

    path: str  # the file read
    start: int
    end: int
    gz: bool  # a gzip member per record
    origin: str  # the archive as the user holds it (the .wacz, the .warc.gz gzipped as a whole, the .arc)
    name: str  # the WARC file's name, as items point to it (a WACZ member's name; the archive's own name)
    base: int = 0  # where the WARC file starts in `path` (a WACZ member's data): item offsets are relative to it
    note: str = ""  # how it was read, when not as is

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class Inputs:
    """The sources and refused files of a set of paths (see the module docstring)."""

    sources: list[Source] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, why)
    files: list[str] = field(default_factory=list)  # the archive files found, in order
    extracts: list[str] = field(default_factory=list)  # the WAT and WET files in the directories, left out
    temporary: list[Path] = field(default_factory=list)

    def close(self) -> None:
        for path in self.temporary:
            path.unlink(missing_ok=True)
        self.temporary.clear()

    def __enter__(self) -> "Inputs":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- finding the files -----------------------------------------------------------------------------
def find(paths) -> tuple[list[Path], list[str]]:
    """The archive files at the paths (a file as given, a directory searched recursively, sorted), each
    once; and, for a directory with none, what it holds instead (for the one line of NoInput).
    FileNotFoundError for a path that does not exist."""
    found, empty = find_files(paths, lambda p: p.name.endswith(ARCHIVE_SUFFIXES),
                              "no archive file or directory at {path}")
    return found, [f"{entry} holds no archive file ({_what_is_in(entry)})" for entry in empty]


def extract_kind(path) -> tuple[str, str] | None:
    """("WAT", "metadata") or ("WET", "text") for a Common Crawl extract file, by its name; None for another file."""
    name = Path(path).name.lower()
    return next((kind for suffix, kind in EXTRACTS.items() if name.endswith(suffix)), None)


def extracts_in(paths) -> list[Path]:
    """The WAT and WET files in the directories among `paths` (searched recursively), which `find` leaves out."""
    found, _ = find_files([p for p in paths if Path(p).is_dir()], lambda p: extract_kind(p) is not None, "{path}")
    return found


def _what_is_in(directory: Path) -> str:
    names = list(directory.rglob("*"))
    files = [p for p in names if p.is_file()]
    if not names:
        return "it is empty"
    kinds: dict[str, int] = {}
    for p in files:
        suffix = "".join(p.suffixes[-2:]) or p.name
        kinds[suffix] = kinds.get(suffix, 0) + 1
    shown = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:4])
    dirs = len(names) - len(files)
    return f"{len(files)} files{': ' + shown if shown else ''}; {dirs} directories"


# --- what a file is ---------------------------------------------------------------------------------
def _first_record_length(data: bytes) -> int | None:
    """The bytes of the first WARC record in `data` (headers, block and the two CRLFs), when its headers are whole."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    m = re.search(rb"(?im)^content-length:\s*(\d+)", data[:end])
    return end + 4 + int(m.group(1)) + 4 if m else None


def _gzip_layout(fh) -> tuple[str, bytes]:
    """("member", head) when the first gzip member holds one record, ("whole", head) when it holds more:
    the file is one gzip stream; ("bad", head) when it does not decompress. `head` starts the stream."""
    fh.seek(0)
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = b""
    try:
        while not d.eof:
            data = fh.read(_HEAD)
            if not data:
                return ("cut", out)
            out += d.decompress(data)
            length = _first_record_length(out) if out.startswith(b"WARC/") else None
            if length is not None and len(out) > length + 2:
                return ("whole", out)
            if not out.startswith(b"WARC/") and len(out) >= 16:
                return ("member", out)
    except zlib.error:
        return ("bad", out)
    return ("member", out)


def describe(head: bytes) -> str:
    """What a file that is not an archive starts with, in words."""
    if not head:
        return "an empty file"
    text = head[:40].split(b"\n", 1)[0]
    if all(32 <= b < 127 or b in (9, 13) for b in text):
        return f"a file starting with {text.decode('ascii').strip()[:30]!r}"
    return f"a binary file starting with bytes {head[:4].hex(' ')}"


def kind_of(path) -> tuple[str, str]:
    """(kind, detail) of a file by its first bytes: "warc", "warc.gz" (a member per record), "whole-gzip",
    "arc", "wacz", or "refused" with the cause in `detail`."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
        if head.startswith(ZIP_MAGIC):
            return ("wacz", "") if str(path).endswith(".wacz") else ("refused", "a ZIP file that is not a .wacz")
        if head.startswith(GZIP_MAGIC):
            layout, inner = _gzip_layout(fh)
            if layout == "bad":
                return "refused", "a gzip file that does not decompress"
            if layout == "cut" and (not inner or _VERSION.match(inner) or b"WARC/".startswith(inner[:5])):
                return "warc.gz", ""  # cut short in its first record: the reader names the damage
            if inner.startswith(b"filedesc://"):
                return "arc", ""
            if not _VERSION.match(inner):
                return "refused", f"a gzip file holding {describe(inner)}, not WARC records"
            return ("whole-gzip", "") if layout == "whole" else ("warc.gz", "")
        if _VERSION.match(head):
            return "warc", ""
        if head.startswith(b"filedesc://"):
            return "arc", ""
        return "refused", f"{describe(head)}, not a WARC file"


# --- WACZ ------------------------------------------------------------------------------------------
def wacz_members(path) -> tuple[list[tuple[str, int, int, bool]], list[tuple[str, str]]]:
    """The WARC files in a WACZ's archive/ as (name, start, end, gz) byte ranges of the .wacz file, and the
    members that cannot be read in place (compressed inside the ZIP) with why."""
    ranges, refused = [], []
    with zipfile.ZipFile(path) as zf, open(path, "rb") as fh:
        for info in zf.infolist():
            name = info.filename
            if not name.startswith("archive/") or not name.endswith((".warc.gz", ".warc")):
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                refused.append((f"{path}!{name}", "compressed inside the ZIP (a WACZ stores archive/ members "
                                                  "uncompressed): unzip it and give the WARC file"))
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + name_len + extra_len
            ranges.append((name, start, start + info.compress_size, name.endswith(".gz")))
    return ranges, refused


def member_name(name: str) -> str:
    """The WARC file's name of a WACZ member, as items point to it: its path under `archive/` (`archive/x.warc.gz`:
    `x.warc.gz`, the crawl's own name for it; `archive/b/x.warc.gz`: `b/x.warc.gz`), as the WACZ's CDXJ index names
    it: unique within the WACZ, where the file name alone is not."""
    return name[len("archive/"):]


# --- conversions into tmp_dir -------------------------------------------------------------------------
def _decompressed(path: Path, tmp_dir: str | None) -> Path:
    fd, name = tempfile.mkstemp(prefix=f"{path.name}-", suffix=".warc", dir=tmp_dir)
    with open(fd, "wb") as out, gzip.open(path, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
    return Path(name)


def _from_arc(path: Path, tmp_dir: str | None) -> Path:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    fd, name = tempfile.mkstemp(prefix=f"{path.name}-", suffix=".warc.gz", dir=tmp_dir)
    with open(fd, "wb") as out, open(path, "rb") as src:
        writer = WARCWriter(out, gzip=True)
        for record in ArchiveIterator(src, arc2warc=True, verify_http=False):
            writer.write_record(record)
    return Path(name)


# --- all together ------------------------------------------------------------------------------------
def open_inputs(paths, tmp_dir: str | None = None) -> Inputs:
    """The sources and refused files of the paths (see the module docstring). NoInput when there is no
    source at all; FileNotFoundError for a path that does not exist."""
    files, empty = find(paths)
    inputs = Inputs(files=[str(f) for f in files], extracts=[str(f) for f in extracts_in(paths)])
    try:
        for path in files:
            _add(inputs, path, tmp_dir)
    except BaseException:
        inputs.close()
        raise
    if not inputs.sources:
        found = empty + [f"{f}: {why}" for f, why in inputs.refused]
        if inputs.extracts:
            found.append(f"{len(inputs.extracts)} WAT/WET files left out ({EXTRACTS_ARE})")
        raise NoInput(f"nothing to read: {'; '.join(found[:3]) or 'no file'}{' ...' if len(found) > 3 else ''}; "
                      f"expected {EXPECTED}, or a directory holding them")
    return inputs


#: the kinds read through a temporary copy: (the copy's maker, whether it is gzipped per record, what the summary says)
CONVERTED = {
    "whole-gzip": (_decompressed, False,
                   "gzipped as a whole, not per record: read as one stream (offsets are in the decompressed stream)"),
    "arc": (_from_arc, True,
            "an ARC file: read through warcio's ARC-to-WARC conversion (offsets are the converted records')"),
}


def _add(inputs: Inputs, path: Path, tmp_dir: str | None) -> None:
    try:
        kind, why = kind_of(path)
        size = path.stat().st_size
        if kind in ("warc", "warc.gz"):
            inputs.sources.append(Source(str(path), 0, size, kind == "warc.gz", str(path), path.name))
        elif kind in CONVERTED:
            convert, gz, note = CONVERTED[kind]
            copy = convert(path, tmp_dir)
            inputs.temporary.append(copy)
            inputs.sources.append(Source(str(copy), 0, copy.stat().st_size, gz, str(path), path.name, note=note))
        elif kind == "wacz":
            ranges, refused = wacz_members(path)
            inputs.refused.extend(refused)
            for name, start, end, gz in ranges:
                inputs.sources.append(Source(str(path), start, end, gz, f"{path}!{name}", member_name(name),
                                             base=start))
            if not ranges and not refused:
                inputs.refused.append((str(path), "a WACZ without WARC files in archive/"))
        else:
            inputs.refused.append((str(path), why))
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        inputs.refused.append((str(path), f"unreadable: {type(exc).__name__}: {exc}"))
