"""Where a WARC record is: its file, id and offset once written, or a record still being written.

`RecordLocation` is where a record landed. `PendingRecord` is how the rest of the crawl holds a
response record: the recorder hands one to the spider for every page (request.meta
"warc_record"), whether the record was written in the crawl process (already done), is still with
the WARC writer process (done once it acknowledges), or came from an archive being replayed
(done). The item's `warc` field is a PendingRecord until the archived stage
(pipelines/archived.py) waits for it and puts its pointer and capture time in place.
"""

from __future__ import annotations

import asyncio
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


class PendingRecord:
    """A response record: its id and WARC-Date now, its location once written (or the write's error).

    Made done (`written(...)`, `failed(...)`), or pending on an asyncio future the writer process
    resolves. `await record.wait()` returns the location or raises what the write raised."""

    __slots__ = ("record_id", "date", "future", "_location", "_error")

    def __init__(self, record_id: str, date: str, future: asyncio.Future | None = None):
        self.record_id = record_id
        self.date = date  # WARC-Date of the record: when the page was fetched
        self.future = future
        self._location: RecordLocation | None = None
        self._error: BaseException | None = None

    @classmethod
    def written(cls, location: RecordLocation, date: str) -> "PendingRecord":
        record = cls(location.record_id, date)
        record._location = location
        return record

    @classmethod
    def failed(cls, record_id: str, date: str, error: BaseException) -> "PendingRecord":
        record = cls(record_id, date)
        record._error = error
        return record

    def done(self) -> bool:
        return self.future is None or self.future.done()

    def location(self) -> RecordLocation:
        """The location of a written record (raises what the write raised); only once done()."""
        if self.future is not None:
            return self.future.result()
        if self._error is not None:
            raise self._error
        return self._location

    def pointer(self) -> dict:
        """{"filename", "record_id", "offset"} of a written record (the item's `warc` field)."""
        return self.location().pointer()

    async def wait(self) -> RecordLocation:
        if self.future is not None:
            return await self.future
        return self.location()

    def __await__(self):
        return self.wait().__await__()

    def __reduce__(self):
        # A request that is retried or redirected carries its meta, this included, into queues that
        # pickle it (JOBDIR, the Redis frontier, the journal): it travels as a written record once
        # written, else as None (the recorder sets a new one for the next exchange).
        if self.done():
            try:
                return _written, (self.location(), self.date)
            except BaseException:
                pass
        return _none, ()

    def __repr__(self) -> str:
        if not self.done():
            state = "pending"
        elif self.future is not None and self.future.cancelled():
            state = "cancelled"
        else:
            try:
                self.location()
                state = "written"
            except BaseException:
                state = "failed"
        return f"<PendingRecord {self.record_id} {state}>"


def _written(location, date):
    return PendingRecord.written(location, date)


def _none():
    return None
