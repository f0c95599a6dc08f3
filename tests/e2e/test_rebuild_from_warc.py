"""Rebuild: crawl the replica, rebuild the items from the crawl's WARC files with no route to the replica, compare the
two datasets."""

from __future__ import annotations

import pytest


# --- end to end: the replica crawled, then rebuilt from its WARC files ----------------------

COMPARED = ("url", "title", "published", "author", "location", "agency", "body", "images",
            "rights", "extraction", "warc")


def by_url(items):
    return {item["url"]: {k: item.get(k) for k in COMPARED} for item in items}


def rebuild(outdir, path):
    from tests.crawling import crawl

    return crawl(outdir, {}, args=["-a", f"from_warc={path}"])


@pytest.fixture(scope="module")
def rebuilt(full_crawl, replica, tmp_path_factory):
    before = len(replica.log)
    result = rebuild(tmp_path_factory.mktemp("rebuild"), full_crawl.warc_dir)
    result.exchanges = replica.log[before:]
    return result


def test_rebuild_from_a_directory_exports_the_live_crawls_items(full_crawl, rebuilt):
    assert full_crawl.items, "the live crawl exported nothing"
    assert rebuilt.returncode == 0
    live, again = by_url(full_crawl.items), by_url(rebuilt.items)
    assert sorted(again) == sorted(live)
    for url, item in live.items():
        for field in COMPARED:
            assert again[url][field] == item[field], (url, field)


def test_rebuild_never_reaches_the_network_nor_writes_warc(rebuilt):
    assert rebuilt.exchanges == []  # the replica served nothing: HOST_MAP was empty
    assert list(rebuilt.warc_dir.glob("*.warc*")) == []
    stats = rebuilt.stats
    assert stats.get("warcreplay/responses", 0) > 0
    assert stats.get("downloader/response_count") == stats.get("warcreplay/responses", 0) + stats.get(
        "warcreplay/missing", 0)
    # robots.txt refusals (IgnoreRequest) happen in a rebuild as live; no download may fail
    assert not [key for key in stats if key.startswith("downloader/exception_type_count")
                and not key.endswith("IgnoreRequest")]


def test_rebuild_from_a_single_warc_file(full_crawl, replica, tmp_path):
    files = full_crawl.warc_files()
    assert len(files) == 1, "the replica crawl fits in one WARC file"
    before = len(replica.log)
    result = rebuild(tmp_path, files[0])
    assert result.returncode == 0
    assert len(replica.log) == before
    assert by_url(result.items) == by_url(full_crawl.items)
