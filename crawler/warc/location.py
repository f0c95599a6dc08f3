"""Where a WARC record is: its file, id, offset and length (`RecordLocation`).

The writer returns one for every record it wrote (crawler/warc/files.py); its `pointer()` is the
item's `warc` field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RecordLocation:
    """Where a record landed: the final file name (without .open), its offset and gzip length."""

    filename: str
    record_id: str
    offset: int
    length: int

    def pointer(self) -> dict:
        return {"filename": self.filename, "record_id": self.record_id, "offset": self.offset}
