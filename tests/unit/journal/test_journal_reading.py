"""Reading the crash-safety journals: the pending requests of a killed run, and the URLs exported before it
(tests/e2e/test_killed_crawl.py kills real crawls)."""

from __future__ import annotations

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
