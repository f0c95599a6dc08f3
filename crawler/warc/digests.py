"""Digests: the SHA-1 digests of WARC headers, and the index of payload digests already archived (revisits).

`sha1_digest(data)` is the "sha1:<base32>" form WARC-Block-Digest and WARC-Payload-Digest use.

One SQLite file next to the WARC files (WARC_DIR/digest-index.sqlite by default) serves
every crawl that writes to that directory; lookups hit an in-memory dict first. Entries
are committed in batches and on close: a killed crawl may forget its newest entries, which
costs a full record instead of a revisit later, never a revisit pointing at nothing.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@dataclass(frozen=True)
class ArchivedPayload:
    digest: str
    uri: str
    date: str  # WARC-Date of the original record
    record_id: str
    filename: str
    offset: int


class DigestIndex:
    """Payload digests already archived, from WARC_DIR's SQLite file and this crawl."""

    def __init__(self, path: Path | str | None, batch: int = 200):
        self.memory: dict[str, ArchivedPayload] = {}
        self._rows: list[tuple] = []  # added, not yet in the file
        self.batch = batch
        self.path = path
        self._db = None

    @property
    def db(self):
        """The SQLite connection, opened on first use (a crawl that archives nothing creates no file)."""
        if self._db is None and self.path is not None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path))
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS payloads (digest TEXT PRIMARY KEY, uri TEXT, date TEXT,"
                " record_id TEXT, filename TEXT, offset INTEGER)"
            )
            self._db.commit()
        return self._db

    def get(self, digest: str) -> ArchivedPayload | None:
        found = self.memory.get(digest)
        if found is None and self.path is not None:
            row = self.db.execute(
                "SELECT digest, uri, date, record_id, filename, offset FROM payloads WHERE digest = ?",
                (digest,),
            ).fetchone()
            if row:
                found = ArchivedPayload(*row)
                self.memory[digest] = found
        return found

    def add(self, entry: ArchivedPayload) -> None:
        self.memory[entry.digest] = entry  # lookups see it at once; the file gets it in batches
        if self.path is None:
            return
        self._rows.append((entry.digest, entry.uri, entry.date, entry.record_id, entry.filename, entry.offset))
        if len(self._rows) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self.db.executemany("INSERT OR IGNORE INTO payloads VALUES (?, ?, ?, ?, ?, ?)", self._rows)
            self._rows = []
        if self._db is not None:
            self._db.commit()

    def close(self) -> None:
        if self._rows or self._db is not None:
            self._flush()
            self._db.close()
            self._db = None
