"""Digests: the SHA-1 digests of WARC headers, and the index of payload digests already archived (revisits).

`sha1_digest(data)` is the "sha1:<base32>" form WARC-Block-Digest and WARC-Payload-Digest use.

One SQLite file next to the WARC files (WARC_DIR/digest-index.sqlite by default) serves
every crawl that writes to that directory; lookups hit an in-memory dict first. It holds two
tables:

* `payloads`: each payload digest with the first record that holds that payload whole (the
  original later identical payloads revisit). Only records whose WARC-Payload-Digest a replay tool
  can match are entered: never a response stored with its chunked framing, whose indexers' digest
  is not its WARC 1.1 payload digest (crawler/warc/records.py).
* `validated`: for each URL, the validators (ETag, Last-Modified) of every 200 capture with its
  payload digest and whether it was stored chunked: a 304 to a conditional request that sent those
  validators is a revisit of that payload (WARC 1.1 6.7.3: "the original payload content from which
  a 'Last-Modified' and/or 'ETag' value was taken").

Entries are committed in batches and on close: a killed crawl may forget its newest entries, which
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


@dataclass(frozen=True)
class ValidatedCapture:
    """A 200 capture of `uri` that carried validators: what a later 304 for them stands for."""

    uri: str
    etag: str  # "" when the response had none
    last_modified: str  # "" when the response had none
    digest: str  # WARC 1.1 payload digest of the capture
    date: str  # its WARC-Date
    chunked: bool  # stored with its chunked framing (so never an original in `payloads`)


class DigestIndex:
    """Payload digests already archived, from WARC_DIR's SQLite file and this crawl."""

    def __init__(self, path: Path | str | None, batch: int = 200):
        self.memory: dict[str, ArchivedPayload] = {}
        self._rows: list[tuple] = []  # added, not yet in the file
        # (uri, "etag"|"last_modified", value) -> the newest capture that sent it
        self.validators: dict[tuple[str, str, str], ValidatedCapture] = {}
        self._validated_rows: list[tuple] = []
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
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS validated (uri TEXT, etag TEXT, last_modified TEXT, digest TEXT,"
                " date TEXT, chunked INTEGER, PRIMARY KEY (uri, etag, last_modified))"
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

    def add_validated(self, capture: ValidatedCapture) -> None:
        """Remember the validators of a 200 capture (the newest capture per validator wins)."""
        for kind, value in (("etag", capture.etag), ("last_modified", capture.last_modified)):
            if value:
                self.validators[(capture.uri, kind, value)] = capture
        if self.path is None:
            return
        self._validated_rows.append((capture.uri, capture.etag, capture.last_modified, capture.digest,
                                     capture.date, int(capture.chunked)))
        if len(self._validated_rows) >= self.batch:
            self._flush()

    def validated(self, uri: str, etag: str | None = None, last_modified: str | None = None) -> ValidatedCapture | None:
        """The newest 200 capture of `uri` whose ETag is `etag` (when given), else whose Last-Modified is
        `last_modified`: the capture a 304 to a request sending these validators confirms."""
        kind, value = ("etag", etag) if etag else ("last_modified", last_modified)
        if not value:
            return None
        found = self.validators.get((uri, kind, value))
        if found is None and self.path is not None:
            row = self.db.execute(
                f"SELECT uri, etag, last_modified, digest, date, chunked FROM validated WHERE uri = ? AND {kind} = ?"
                " ORDER BY date DESC LIMIT 1", (uri, value)).fetchone()
            if row:
                found = ValidatedCapture(*row[:5], bool(row[5]))
                self.validators[(uri, kind, value)] = found
        return found

    def _flush(self) -> None:
        if self._rows:
            self.db.executemany("INSERT OR IGNORE INTO payloads VALUES (?, ?, ?, ?, ?, ?)", self._rows)
            self._rows = []
        if self._validated_rows:
            self.db.executemany("INSERT OR REPLACE INTO validated VALUES (?, ?, ?, ?, ?, ?)", self._validated_rows)
            self._validated_rows = []
        if self._db is not None:
            self._db.commit()

    def close(self) -> None:
        if self._rows or self._validated_rows or self._db is not None:
            self._flush()
            self._db.close()
            self._db = None
