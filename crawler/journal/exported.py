"""What earlier runs of a JOBDIR exported: the URLs of the export journal and of the complete lines of their feed files.

An item is its URL, or a backfill's item its URL and capture time (crawler/items.py export_key), as the
exporter journals it (crawler/journal/exporter.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from crawler.items import export_key
from crawler.journal.appendlog import EXPORTED, FEEDS, AppendJournal


def urls_in_feed(path) -> set[str]:
    """URLs of the complete JSON lines of a JSON Lines file (a line cut short is skipped)."""
    urls = set()
    try:
        fh = open(path, "rb")
    except OSError:
        return urls
    with fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                url = export_key(json.loads(line))
            except (ValueError, AttributeError):
                continue
            if url:
                urls.add(url)
    return urls


def exported_before(journal_dir: Path, skip_paths=()) -> set[str]:
    """Every URL earlier runs of this JOBDIR exported (export journal + their feed files)."""
    urls = set(AppendJournal.read_lines(journal_dir / EXPORTED))
    skip = {os.path.abspath(p) for p in skip_paths}
    for feed in dict.fromkeys(AppendJournal.read_lines(journal_dir / FEEDS)):
        if feed and feed not in skip:
            urls |= urls_in_feed(feed)
    urls.discard("")
    return urls
