"""What one exchange left in the archive, handed from the recorder to the spider: the page's capture.

The capture service (crawler/capture/service.py) writes an exchange's request and response (or
revisit) records at once and makes a `PageCapture`: where the response record is and when it was
fetched (the item's `warc` pointer and `fetched_at`), and the facts of the page's capture metadata
record, which waits for the outlinks the spider finds (crawler/capture/outlinks.py hands them
back to the service). It travels in request.meta["warc_capture"] (crawler/keys.py META_CAPTURE);
the from_warc replay (crawler/offline/replay.py) puts one there too, with no metadata to write.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.warc.location import RecordLocation


@dataclass
class PageCapture:
    """The response record of one page (`location`, `date`) and, when its metadata record is still to be
    written (`metadata`), what that record says besides the outlinks."""

    location: RecordLocation
    date: str  # WARC-Date of the response record: when the page was fetched
    #: a page replayed from a backfill's record (crawler/warc/archived.py provenance): when the archive captured
    #: it (its WARC-Date; `date` is then its WARC-Creation-Date) and the archive's host; None and "live" else
    captured_at: str | None = None
    source: str = "live"
    #: the capture metadata record's facts (crawler/warc/records.py capture_metadata's arguments but the
    #: outlinks) and its file series; None: nothing left to write (written already, off, or replayed)
    metadata: dict | None = None

    @property
    def pointer(self) -> dict:
        """{"filename", "record_id", "offset"}: the item's `warc` field."""
        return self.location.pointer()
