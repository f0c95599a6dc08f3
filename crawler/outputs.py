"""Every place a crawl writes to, and the start-up check that each can be written.

A crawl writes its WARC files (WARC_DIR, with the digest index and the learned boilerplate in it
unless WARC_DIGEST_INDEX / BOILERPLATE_FILE say otherwise), its items (the feeds: -O/-o, FEEDS,
else DEFAULT_FEED), the job directory (JOBDIR), the incremental state (STATE_PATH, when a file),
its log (LOG_FILE), its stats (STATS_FILE), its run report (REPORT_DIR, else the parent of
WARC_DIR) and, with WACZ=True, the WACZ (WACZ_PATH, else beside WARC_DIR). `scrapy crawl` checks
them all before the crawl is created (crawler/commands/crawl.py): one that cannot be written
stops it with exit status 74 and one line naming the output and the path, e.g.

    Cannot write the feed (-O/-o/FEEDS) at /srv/ro/items.jsonl: [Errno 30] Read-only file system (exit status 74)

The check creates nothing: it writes and removes a probe file in the directory (or the nearest
existing parent of one still to be created), and opens an existing file for appending without
writing to it, so it gives the same answer for root (whom permission bits do not stop) as the
writes themselves would, read-only mounts included.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

DIR = "dir"
FILE = "file"


def feed_path(uri) -> str | None:
    """The local path of a feed URI (a plain path or file://), None for other storages (stdout, s3, ...).
    A template's placeholders (%(name)s, %(time)s) are cut off: what is left is the file's directory."""
    text = str(uri)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        if scheme != "file":
            return None
        text = unquote(urlparse(text).path)
    elif text.startswith("stdout:") or text == "-":
        return None
    if "%(" in text:
        return os.path.dirname(text.split("%(", 1)[0]) or "."
    return text


def locations(settings, *, archiving: bool = True) -> list[tuple[str, str, str]]:
    """(what, path, DIR or FILE) of every output the settings name; `archiving`: the crawl writes WARC
    files (not a rebuild from them)."""
    out: list[tuple[str, str, str]] = []
    warc_dir = settings.get("WARC_DIR") or "output/warc"
    if archiving and settings.get("WARC_ENABLED") in (None, *_ON):  # unset: settings.py switches it on
        out.append(("WARC_DIR", str(warc_dir), DIR))
        for name in ("WARC_DIGEST_INDEX", "BOILERPLATE_FILE"):
            if settings.get(name):
                out.append((name, str(settings.get(name)), FILE))
    feeds = settings.get("FEEDS") or {}
    if isinstance(feeds, str):  # -s FEEDS='{...}'
        import json

        feeds = json.loads(feeds)
    uris = list(feeds) or ([settings.get("DEFAULT_FEED")] if settings.get("DEFAULT_FEED") else [])
    for uri in uris:
        path = feed_path(uri)
        if path is not None:
            out.append(("the feed (-O/-o/FEEDS)", path, DIR if "%(" in str(uri) else FILE))
    if settings.get("JOBDIR"):
        out.append(("JOBDIR", str(settings.get("JOBDIR")), DIR))
    state = settings.get("STATE_PATH")
    if state and not (str(state) == "redis" or str(state).startswith(("redis://", "rediss://", "unix://"))):
        out.append(("STATE_PATH", str(state), FILE))
    for name in ("LOG_FILE", "STATS_FILE"):
        if settings.get(name):
            out.append((name, str(settings.get(name)), FILE))
    report = settings.get("REPORT_DIR") or (str(Path(warc_dir).parent) if archiving else None)
    if report:
        out.append(("REPORT_DIR", str(report), DIR))
    if archiving and settings.get("WACZ") in _ON:
        wacz = settings.get("WACZ_PATH")
        out.append(("WACZ_PATH", str(wacz), FILE) if wacz else ("WACZ_PATH", str(Path(warc_dir).parent), DIR))
    return out


_ON = (True, 1, "1", "True", "true")  # what Scrapy's getbool reads as on


def why_unwritable(path: str, kind: str) -> str | None:
    """None when the crawl can write `path` (a DIR, or a FILE to create or replace), else why not."""
    target = Path(path)
    if kind == FILE and target.exists():
        if target.is_dir():
            return "it is a directory"
        try:
            with open(target, "ab"):
                pass
        except OSError as exc:
            return _reason(exc)
        return None
    directory = target if kind == DIR else target.parent
    existing = directory
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return f"{existing} is not a directory"
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
    except OSError as exc:
        return _reason(exc)
    os.close(fd)
    os.unlink(probe)
    return None


def _reason(exc: OSError) -> str:
    return f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)


def first_unwritable(settings, *, archiving: bool = True) -> str | None:
    """The line for the first output that cannot be written, or None when all can."""
    for what, path, kind in locations(settings, archiving=archiving):
        why = why_unwritable(path, kind)
        if why is not None:
            return f"Cannot write {what} at {path}: {why}"
    return None
