"""A WACZ's WARC members are named by their path inside archive/, so two members of one name in two folders give
distinct item pointers, alike in `scrapy reprocess -O`, its `--dataset` manifest and `-a from_warc`."""

from __future__ import annotations

import asyncio
import json
import zipfile

import scrapy

from crawler.offline.reprocess.run import Options, run
from crawler.offline.replay import WarcReplayDownloadHandler
from tests.crawling import project_crawler
from tests.unit.offline.test_archived_url_forms import ITEM_URL, response_record

OTHER_URL = ITEM_URL.replace("Kharkiv_officials_999", "Kharkiv_officials_998")


def two_members_of_one_name(tmp_path):
    """archive/a/x.warc.gz and archive/b/x.warc.gz, one article each, each record at offset 0 of its member."""
    wacz = tmp_path / "site.wacz"
    with zipfile.ZipFile(wacz, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/a/x.warc.gz", response_record(1, ITEM_URL))
        z.writestr("archive/b/x.warc.gz", response_record(2, OTHER_URL))
        z.writestr("datapackage.json", '{"profile": "data-package", "resources": []}')
    return wacz


def test_two_members_of_one_name_give_distinct_pointers_in_reprocess_dataset_and_from_warc(tmp_path):
    wacz = two_members_of_one_name(tmp_path)
    out = tmp_path / "out.jsonl"
    _, status = run(Options(paths=[str(wacz)], output=str(out), processes=1, progress_interval=0))
    assert status == 0
    pointers = {item["url"]: item["warc"] for item in map(json.loads, out.read_text().splitlines())}
    assert {url: p["filename"] for url, p in pointers.items()} == {ITEM_URL: "a/x.warc.gz", OTHER_URL: "b/x.warc.gz"}

    _, status = run(Options(paths=[str(wacz)], dataset=str(tmp_path / "dataset"), processes=1, progress_interval=0))
    manifest = json.loads((tmp_path / "dataset" / "manifest.json").read_text())
    assert status == 0 and manifest["source_warc_files"] == ["a/x.warc.gz", "b/x.warc.gz"]

    crawler = project_crawler(FROM_WARC=str(wacz))
    handler = WarcReplayDownloadHandler.from_crawler(crawler)
    for url in (ITEM_URL, OTHER_URL):
        request = scrapy.Request(url)
        assert asyncio.run(handler.download_request(request)).status == 200
        assert request.meta["warc_capture"].pointer == pointers[url]
