"""A payload archived by an earlier crawl in the same WARC_DIR is found again (revisits across crawls)."""

from crawler.warc.digests import ArchivedPayload, DigestIndex


def test_digests_survive_a_new_crawl_and_nothing_is_created_until_used(tmp_path):
    path = tmp_path / "warc" / "digest-index.sqlite"
    first = DigestIndex(path)
    assert first.get("sha1:AAA") is None
    entry = ArchivedPayload("sha1:AAA", "https://www.spacewar.com/a.html", "2026-01-01T00:00:00.000000Z",
                            "<urn:uuid:1>", "f.warc.gz", 123)
    first.add(entry)
    first.close()
    second = DigestIndex(path)
    assert second.get("sha1:AAA") == entry
    assert second.get("sha1:BBB") is None
    second.close()
    untouched = DigestIndex(tmp_path / "other" / "digest-index.sqlite")
    untouched.close()
    assert not (tmp_path / "other").exists()
