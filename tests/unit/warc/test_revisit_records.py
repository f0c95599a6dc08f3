"""Revisit and item records spelled for replay: the 304 revisit names its original, dates at whole seconds,
validators find the capture a 304 confirms, chunked captures are no originals, the item has a URN."""

from crawler.warc import records
from crawler.warc.digests import DigestIndex, ValidatedCapture

URL = "https://www.spacewar.com/reports/a_999.html"


def test_refers_to_date_is_the_originals_instant_at_whole_seconds():
    assert records.refers_to_date("2026-11-25T02:00:00.987654Z") == "2026-11-25T02:00:00Z"
    assert records.refers_to_date("2026-11-25T02:00:00Z") == "2026-11-25T02:00:00Z"
    headers = dict(records.not_modified("<urn:uuid:1>", URL, "2026-11-25T02:00:00.5Z"))
    assert headers == {"WARC-Profile": records.PROFILE_NOT_MODIFIED, "WARC-Refers-To": "<urn:uuid:1>",
                       "WARC-Refers-To-Target-URI": URL, "WARC-Refers-To-Date": "2026-11-25T02:00:00Z"}
    assert dict(records.identical_payload("<urn:uuid:1>", URL, "2026-11-25T02:00:00.5Z"))["WARC-Refers-To-Date"] \
        == "2026-11-25T02:00:00Z"
    assert dict(records.not_modified()) == {"WARC-Profile": records.PROFILE_NOT_MODIFIED}


def test_a_revisit_without_a_known_payload_carries_no_payload_digest():
    _, response = records.exchange_headers(request_id="<a>", response_id="<b>", date="d", uri=URL, ip=None,
                                           record_type="revisit", digest=None, digest_in_extension=False,
                                           revisit=records.not_modified(), method="raw")
    names = [name for name, _ in response]
    assert "WARC-Payload-Digest" not in names and "X-Entity-Payload-Digest" not in names


def test_the_item_record_has_a_urn_of_its_own():
    headers, _ = records.item_record({"url": URL, "title": "t"}, "<urn:uuid:1>")
    assert dict(headers)["WARC-Target-URI"] == "urn:x-spacewar-item:" + URL
    assert "://" not in dict(headers)["WARC-Target-URI"].split(":", 2)[1]  # no authority for an indexer to key on


def test_the_304_capture_metadata_keeps_the_304_head_line_by_line():
    _, block = records.capture_metadata(response_id="<b>", uri=URL, hop_path="L", via="", fetch_seconds=0.1,
                                        status=304, outlinks=[],
                                        response_head=b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n')
    assert b'notModifiedStatus: HTTP/1.1 304 Not Modified\r\nnotModifiedHeader: ETag: "x"\r\n' in block


def test_validators_find_the_newest_capture_that_sent_them_across_crawls(tmp_path):
    path = tmp_path / "digest-index.sqlite"
    index = DigestIndex(path)
    index.add_validated(ValidatedCapture(URL, '"v1"', "Mon, 01 Jan 2024 00:00:00 GMT", "sha1:A", "2026-01-01T00:00:00Z", False))
    index.add_validated(ValidatedCapture(URL, '"v2"', "", "sha1:B", "2026-01-02T00:00:00Z", True))
    index.close()
    again = DigestIndex(path)
    assert again.validated(URL, etag='"v1"').digest == "sha1:A"
    assert again.validated(URL, last_modified="Mon, 01 Jan 2024 00:00:00 GMT").digest == "sha1:A"
    assert again.validated(URL, etag='"v2"').chunked is True
    assert again.validated(URL, etag='"v3"') is None
    assert again.validated("https://www.spacewar.com/other.html", etag='"v1"') is None
    assert again.validated(URL) is None
    again.close()
