"""Reading the crash-safety journals: the pending requests of a killed run, and the URLs exported before it
(tests/e2e/test_killed_crawl.py kills real crawls)."""

from __future__ import annotations

import json

from scrapy.exceptions import DropItem

# --- the journals, unit by unit -------------------------------------------------------------------

def test_pending_requests_count_retries_and_ignore_a_line_cut_short(tmp_path):
    from crawler.journal.appendlog import AppendJournal
    from crawler.journal.scheduler import pending_requests

    journal = AppendJournal(tmp_path / "requests.journal", fsync_interval=0)
    for line in ["+ aa A1", "+ bb B1", "+ aa A2",  # a retry of aa before its first attempt ended
                 "- aa", "+ cc C1", "- cc", "- zz"]:  # zz: not ours (robots.txt)
        journal.append(line)
    journal.close()
    with open(tmp_path / "requests.journal", "ab") as fh:
        fh.write(b"- bb")  # the process died in the middle of this line
    pending = pending_requests(AppendJournal.read_lines(tmp_path / "requests.journal"))
    assert pending == {"aa": "A2", "bb": "B1"}


def test_exported_before_reads_the_journal_and_the_complete_lines_of_earlier_feeds(tmp_path):
    from crawler.journal.appendlog import AppendJournal
    from crawler.journal.exported import exported_before

    feed = tmp_path / "run1.jsonl"
    feed.write_bytes(b'{"url": "https://www.spacewar.com/a.html"}\n{"url": "https://www.spacewar.com/b.html"}\n'
                     b'{"url": "https://www.spacewar.com/c.ht')
    AppendJournal(tmp_path / "j" / "feeds.journal", 0).append(str(feed))
    AppendJournal(tmp_path / "j" / "exported.journal", 0).append("https://www.spacewar.com/gone.html")
    assert exported_before(tmp_path / "j") == {"https://www.spacewar.com/a.html", "https://www.spacewar.com/b.html",
                                               "https://www.spacewar.com/gone.html"}


def test_a_backfills_versions_of_one_article_are_each_exported_once_across_runs(tmp_path):
    """WAYBACK_VERSIONS=all exports several captures of one URL: an earlier run of the JOBDIR that exported one
    version (its feed, or only the export journal) does not keep the rerun from exporting the others."""
    from crawler.journal.appendlog import AppendJournal
    from crawler.journal.exported import exported_before
    from pipelines.exportedbefore import ExportedBeforePipeline

    url = "https://www.spacewar.com/reports/Old_999.html"
    version = lambda when: {"url": url, "captured_at": when, "source": "web.archive.org"}  # noqa: E731
    feed = tmp_path / "run1.jsonl"
    feed.write_text(json.dumps(version("2005-06-07T08:09:10Z")) + "\n" +
                    json.dumps({"url": "https://www.spacewar.com/reports/Live_999.html", "source": "live"}) + "\n")
    AppendJournal(tmp_path / "j" / "feeds.journal", 0).append(str(feed))
    AppendJournal(tmp_path / "j" / "exported.journal", 0).append(f"{url} 2006-01-02T03:04:05Z")
    stage = ExportedBeforePipeline(tmp_path / "j")
    stage.urls = exported_before(tmp_path / "j")
    kept, dropped = [], []
    for item in (version("2005-06-07T08:09:10Z"), version("2006-01-02T03:04:05Z"), version("2026-11-25T02:00:00Z"),
                 {"url": "https://www.spacewar.com/reports/Live_999.html", "source": "live"}):
        try:
            kept.append(stage.process_item(item))
        except DropItem:
            dropped.append(item)
    assert [i["captured_at"] for i in kept] == ["2026-11-25T02:00:00Z"]
    assert len(dropped) == 3
