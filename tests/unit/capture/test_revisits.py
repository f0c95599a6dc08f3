"""The revisit decision (crawler/capture/revisits.py): a payload already archived is a revisit naming its
original, a 304 names the capture its validators came from, and nothing else is one."""

from __future__ import annotations

from crawler.capture.revisits import EMPTY, HEAD, IDENTICAL, NOT_MODIFIED, WHOLE, RevisitPolicy
from crawler.warc import records
from crawler.warc.digests import ArchivedPayload, DigestIndex, ValidatedCapture
from crawler.warc.location import RecordLocation

URL = "https://www.spacewar.com/reports/a_999.html"
OTHER = "https://www.spacewar.com/reports/b_999.html"
WHEN = "2026-01-01T00:00:00.100000Z"
LATER = "2026-01-02T00:00:00.200000Z"


def policy(tmp_path) -> RevisitPolicy:
    return RevisitPolicy(DigestIndex(tmp_path / "digest-index.sqlite"))


def decide(p: RevisitPolicy, **kw):
    args = dict(uri=OTHER, date=LATER, status=200, conditional=None, digest="sha1:A", has_payload=True,
                truncated=None)
    args.update(kw)
    return p.decide(**args)


def archive_original(p: RevisitPolicy, *, digest="sha1:A", chunked=False, etag='"v1"', filename="run1.warc.gz"):
    p.archived(uri=URL, date=WHEN, location=RecordLocation(filename, "<urn:uuid:1>", 120, 900), digest=digest,
               original=not chunked, validators=(etag, None), chunked=chunked)


def test_a_payload_seen_before_is_an_identical_payload_revisit_keeping_the_http_head(tmp_path):
    p = policy(tmp_path)
    assert decide(p) is None  # nothing archived yet: a response record
    archive_original(p)
    revisit = decide(p)
    assert (revisit.profile, revisit.block, revisit.digest) == (IDENTICAL, HEAD, "sha1:A")
    assert dict(revisit.headers) == dict(records.identical_payload("<urn:uuid:1>", URL, WHEN))
    assert p.referenced_files == {"run1.warc.gz"}  # the WACZ must carry the original's file
    assert p.revalidated == {}


def test_no_identical_payload_revisit_for_an_error_an_empty_or_a_truncated_payload(tmp_path):
    p = policy(tmp_path)
    archive_original(p)
    assert decide(p, status=404) is None
    assert decide(p, has_payload=False) is None
    assert decide(p, truncated="length") is None
    assert decide(p, digest="sha1:B") is None
    assert RevisitPolicy(None).decide(uri=OTHER, date=LATER, status=200, conditional=None, digest="sha1:A",
                                      has_payload=True, truncated=None) is None  # WARC_REVISITS off


def test_a_response_stored_chunked_is_never_an_original(tmp_path):
    p = policy(tmp_path)
    archive_original(p, chunked=True)
    assert decide(p) is None
    assert p.original_for(URL, '"v1"', None) == (None, "chunked")


def test_a_304_to_a_conditional_request_names_the_capture_its_validators_came_from(tmp_path):
    p = policy(tmp_path)
    archive_original(p)
    revisit = decide(p, uri=URL, status=304, conditional=('"v1"', None), digest="sha1:EMPTY", has_payload=False)
    assert (revisit.profile, revisit.block, revisit.digest) == (NOT_MODIFIED, EMPTY, "sha1:A")
    assert dict(revisit.headers) == dict(records.not_modified("<urn:uuid:1>", URL, WHEN))
    assert p.revalidated[URL][0] == LATER and p.revalidated[URL][1].record_id == "<urn:uuid:1>"


def test_a_304_whose_original_is_unknown_is_kept_as_received_with_no_payload_digest(tmp_path):
    p = policy(tmp_path)
    archive_original(p)
    revisit = decide(p, uri=URL, status=304, conditional=('"v9"', None), has_payload=False)
    assert (revisit.profile, revisit.block, revisit.digest, revisit.original) == (NOT_MODIFIED, WHOLE, None, None)
    assert dict(revisit.headers) == {"WARC-Profile": records.PROFILE_NOT_MODIFIED}
    assert URL not in p.revalidated
    # a 304 to a request that was not conditional is no revisit at all
    assert decide(p, uri=URL, status=304, conditional=None, has_payload=False) is None


def test_the_original_is_found_only_where_a_replay_tool_can_find_it(tmp_path):
    index = DigestIndex(tmp_path / "digest-index.sqlite")
    index.add(ArchivedPayload("sha1:A", URL, "2026-01-01T00:00:00.1Z", "<urn:uuid:1>", "run1.warc.gz", 0))
    index.add_validated(ValidatedCapture(URL, '"v1"', "", "sha1:A", "2026-01-01T00:00:00.1Z", False))
    index.add_validated(ValidatedCapture(URL, '"v2"', "", "sha1:B", "2026-01-02T00:00:00Z", True))  # stored chunked
    p = RevisitPolicy(index)
    original, why = p.original_for(URL, '"v1"', None)
    assert (original.record_id, original.filename, why) == ("<urn:uuid:1>", "run1.warc.gz", None)
    assert p.original_for(URL, '"v2"', None) == (None, "chunked")
    assert p.original_for(URL, '"v9"', None) == (None, "not_archived")
    assert RevisitPolicy(None).original_for(URL, '"v1"', None) == (None, "not_archived")


def test_originals_survive_into_the_next_crawl_through_the_index_file(tmp_path):
    p = policy(tmp_path)
    archive_original(p)
    p.close()
    again = policy(tmp_path)
    assert decide(again).original.filename == "run1.warc.gz"
