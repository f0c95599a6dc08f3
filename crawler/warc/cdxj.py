"""CDXJ indexes of WARC files: written beside each closed file (cdxj-indexer), and read back line by line.

`write_cdxj(path)` writes `<file>.cdxj`, the sorted index pywb and the replay read; an index is
derived data, so a failure to write one is logged and never stops a crawl. `read_cdxj(path)`
yields the index's lines as (key, timestamp, fields); a line that cannot be read costs that line
only (it is counted and skipped, the rest of the index stays in use).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterator

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
