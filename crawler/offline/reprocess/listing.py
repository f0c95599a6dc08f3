"""Which records of an input WARC file a CDXJ index lists on the sites asked for: their offsets, read from the index instead of the file.

`reprocess --index FILE` gives the first pass an index of the inputs: a CDXJ file (plain or gzip)
whose lines are `SURT-key timestamp {json}` with the record's `url`, `offset` and `filename`, as
our crawl writes beside each WARC file (`X.warc.gz.cdxj`, crawler/warc/cdxj.py) and as Common
Crawl publishes its URL index (`cdx-NNNNN.gz`, `filename` being the WARC file's path under
`crawl-data/`). A line belongs to the input file whose path ends with its `filename`. For such a
file the first pass reads only the records whose index line is on the sites asked for, at their
offsets (crawler/offline/reprocess/index.py `scan` of a `ListedTask`), and counts the other lines
as `off_site` without reading anything of them: a file that is 99% other sites is read 1%.

The index is trusted to list every response and revisit record of its file, as an index made
from the file does. A record at a listed offset that is not the listed URL's (another file's
index, a file rewritten since) makes the run read that file whole instead, with a warning; an
index that leaves out records of the sites (a partial index) leaves them out of the items too.
Only files read as they are can be listed (not a WACZ member, a whole-file gzip or an ARC, read
through copies or at another base): those are read whole.

`load(paths, sources, sites)` reads the index files once, in the driver: a line is parsed as JSON
only when its URL holds the domain of one of the sites (a site's URLs always do); the others are
counted as `off_site` when they are web captures (http, https). The file's `records` in the summary
are then its index lines.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from crawler.offline.reprocess.index import site_of, site_set
from crawler.warc.uris import target_uri

_FILENAME = re.compile(r'"filename"\s*:\s*"([^"]*)"')
_URL = re.compile(r'"url"\s*:\s*"([^"]*)"')
#: offsets per task of a listed file (a task's records are read one by one, at their offsets)
OFFSETS_PER_TASK = 2000


@dataclass
class Listed:
    """What an index says of one input file: its lines, and the (offset, URL) of those on the sites asked for."""

    index: str  # the index file (the first, when several list this file)
    lines: int = 0
    off_site: int = 0  # lines of web captures (http, https) of other hosts: never read
    on_site: list[tuple[int, str]] = field(default_factory=list)
    bad: int = 0  # lines naming this file that could not be read (no offset, not JSON)
    indexes: set[str] = field(default_factory=set)  # every index file with lines naming this file


def _field(line: str, opening: str, pattern: re.Pattern) -> str | None:
    """A JSON string field's raw text in an index line: found as the indexers write it (`"name": "`) with str.find,
    else by `pattern` (other spacing); None when the line has none."""
    i = line.find(opening)
    if i >= 0:
        start = i + len(opening)
        return line[start:line.find('"', start)]
    m = pattern.search(line)
    return m.group(1) if m else None


def _open(path: Path):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", encoding="utf-8", errors="replace") if gz else open(path, encoding="utf-8",
                                                                                      errors="replace")


def _listable(src) -> bool:
    """A source read as the file is (offsets in an index of the file are offsets in it)."""
    return src.start == 0 and src.base == 0 and not src.note and Path(src.path).is_file() \
        and src.end == Path(src.path).stat().st_size


def _owner(filename: str, by_name: dict[str, list[tuple[int, str]]]) -> int | None:
    """The input file (its place) whose path ends with the index line's `filename`."""
    name = filename.rsplit("/", 1)[-1]
    for file_no, path in by_name.get(name, ()):
        if path == filename or path.endswith("/" + filename.lstrip("/")) or filename == name:
            return file_no
    return None


def load(paths, sources, sites: str | None = None) -> dict[int, Listed]:
    """{file_no: Listed} for the input sources (by their place) that the index files at `paths` list.
    FileNotFoundError for an index file that does not exist."""
    site_list = site_set(sites)
    domains = [d.lower() for d in site_list.domains]
    by_name: dict[str, list[tuple[int, str]]] = {}
    for file_no, src in enumerate(sources):
        if _listable(src):
            path = str(Path(src.path).resolve())
            by_name.setdefault(Path(path).name, []).append((file_no, path))
    out: dict[int, Listed] = {}
    owners: dict[str, int | None] = {}
    for index_path in map(Path, paths):
        if not index_path.is_file():
            raise FileNotFoundError(f"--index {index_path}: no such file")
        with _open(index_path) as fh:
            for line in fh:
                filename = _field(line, '"filename": "', _FILENAME)
                if filename is None:
                    continue
                if filename not in owners:
                    owners[filename] = _owner(filename, by_name)
                file_no = owners[filename]
                if file_no is None:
                    continue
                listed = out.get(file_no)
                if listed is None:
                    listed = out[file_no] = Listed(str(index_path))
                listed.indexes.add(str(index_path))
                listed.lines += 1
                raw = _field(line, '"url": "', _URL)
                if raw is None or not raw[:6].lower().startswith(("http:", "https:")):  # any case (RFC 3986)
                    continue  # not a web capture (our crawl's item records, `urn:`; warcinfo): not a response
                if not any(d in raw.lower() for d in domains):
                    listed.off_site += 1  # no URL of the sites in it: off-site, not parsed
                    continue
                try:
                    fields = json.loads(line.split(" ", 2)[2])
                    offset, url = int(fields["offset"]), target_uri(fields["url"])
                except (IndexError, KeyError, TypeError, ValueError):
                    listed.bad += 1
                    continue
                if site_of(url, site_list) is not None:
                    listed.on_site.append((offset, url))
                else:
                    listed.off_site += 1
    for listed in out.values():
        listed.on_site = sorted(set(listed.on_site))  # a record listed by two index files is read once
    return out
