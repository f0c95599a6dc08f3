"""The revisit policy: whether an exchange is stored whole or as a revisit of a record already archived.

A payload already archived (the same digest, in this crawl or an earlier one writing to the same
WARC_DIR: crawler/warc/digests.py) is stored as an identical-payload-digest revisit (the HTTP head
kept, the payload in the original); a 304 to a conditional request as a server-not-modified revisit
with no block, naming the response its validators came from (`original_for`, which the revalidation
middleware asks first), so that replay tools show the page and not an empty 304 (docs/replay.md,
"Revisits that replay"); a 304 whose original is not known is kept as received. A response stored
with its chunked framing is never an original. The names of the earlier files those originals are
in (`referenced_files`) and the URLs confirmed by a 304 (`revalidated`) are what the WACZ of the
crawl needs (crawler/offline/wacz.py). `archived(...)` enters a written response in the index.

Pure: no Scrapy. The capture service (crawler/capture/service.py) owns one.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.warc import records
from crawler.warc.digests import ArchivedPayload, DigestIndex, ValidatedCapture
from crawler.warc.location import RecordLocation

IDENTICAL = "identical-payload-digest"
NOT_MODIFIED = "server-not-modified"

#: what a revisit record keeps of the response: nothing, the HTTP head, or the bytes as received
EMPTY, HEAD, WHOLE = "empty", "head", "whole"


@dataclass(frozen=True)
class Revisit:
    """The decision to store an exchange as a revisit: its profile, WARC headers (WARC-Profile and
    WARC-Refers-To*), the payload digest it carries (None: none), and what block it keeps."""

    profile: str
    headers: list[tuple[str, str]]
    digest: str | None
    block: str
    original: ArchivedPayload | None  # None: a 304 whose original is not known (kept as received)


class RevisitPolicy:
    """See the module docstring. `digests` None: never an identical-payload revisit, and a 304 never
    resolved to its original."""

    def __init__(self, digests: DigestIndex | None):
        self.digests = digests
        # names of the WARC files (in WARC_DIR) of earlier crawls holding originals this crawl's revisits
        # refer to: a WACZ of this crawl must carry them
        self.referenced_files: set[str] = set()
        # URLs answered 304 and archived as revisits of a known original: url -> (revisit WARC-Date, original)
        self.revalidated: dict[str, tuple[str, ArchivedPayload]] = {}

    def decide(self, *, uri: str, date: str, status: int | None, conditional: tuple[str | None, str | None] | None,
               digest: str, has_payload: bool, truncated: str | None) -> Revisit | None:
        """The revisit an exchange is stored as, or None (a response record). `conditional`: the request's
        (If-None-Match, If-Modified-Since) when it sent either, else None; `digest`: its payload's."""
        if status == 304 and conditional is not None:
            original, _why = self.original_for(uri, *conditional)
            if original is None:  # the 304 as received, nothing to refer to
                return Revisit(NOT_MODIFIED, records.not_modified(), None, WHOLE, None)
            # WARC 1.1 6.7.3: no block (Content-Length 0), the original named, its payload digest: replay
            # takes the original's HTTP headers and payload instead of an empty 304 (the 304's own head goes
            # into the capture metadata record)
            self._refer(original)
            self.revalidated[uri] = (date, original)
            return Revisit(NOT_MODIFIED, records.not_modified(original.record_id, original.uri, original.date),
                           original.digest, EMPTY, original)
        if self.digests is not None and status == 200 and has_payload and not truncated:
            original = self.digests.get(digest)
            if original is not None:
                self._refer(original)
                return Revisit(IDENTICAL, records.identical_payload(original.record_id, original.uri, original.date),
                               digest, HEAD, original)
        return None

    def original_for(self, uri: str, etag: str | None, last_modified: str | None):
        """(the record a 304 to a request for `uri` sending these validators would refer to, or None;
        why not: "not_archived" or "chunked").

        The original is the record holding the payload of the URL's newest capture that carried those
        validators (crawler/warc/digests.py): that capture itself, or the first record of its payload.
        A capture stored chunked has no payload digest replay tools can match, so unless the same
        payload is held whole elsewhere a revisit could not be resolved: "chunked"."""
        if self.digests is None:
            return None, "not_archived"
        capture = self.digests.validated(uri, etag, last_modified)
        if capture is None:
            return None, "not_archived"
        original = self.digests.get(capture.digest)
        if original is None:
            return None, "chunked" if capture.chunked else "not_archived"
        return original, None

    def archived(self, *, uri: str, date: str, location: RecordLocation, digest: str, original: bool,
                 validators: tuple[str | None, str | None], chunked: bool) -> None:
        """A 200 response with a whole payload was written at `location`: an original for later revisits
        when `original` (a response record not stored chunked), and what a 304 for its validators
        (ETag, Last-Modified) stands for."""
        if self.digests is None:
            return
        if original:
            self.digests.add(ArchivedPayload(digest, uri, date, location.record_id, location.filename, location.offset))
        etag, last_modified = validators
        if etag or last_modified:
            self.digests.add_validated(ValidatedCapture(uri, etag or "", last_modified or "", digest, date, chunked))

    def _refer(self, original: ArchivedPayload) -> None:
        """A revisit of this crawl refers to `original`: remember its file (the WACZ carries it)."""
        if original.filename:
            self.referenced_files.add(original.filename)

    def close(self) -> None:
        if self.digests is not None:
            self.digests.close()
