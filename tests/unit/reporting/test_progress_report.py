"""The operator's view: periodic progress lines in the log, and a run report (Markdown + HTML) at the end."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.reporting.counts import Counts
from crawler.reporting.progress import ProgressLog, progress_line
from crawler.reporting.runreport import (VERDICT_WORDS, ArticleCounts, RunReport, RunSummary, render_html,
                                         render_markdown, section_of)


# --- progress lines -------------------------------------------------------------------------
class FakeStats:
    def __init__(self, values=None):
        self.values = dict(values or {})

    def get_stats(self):
        return self.values

    def get_value(self, key, default=None):
        return self.values.get(key, default)


class FakeClock:
    def __init__(self, now=1000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_progress_line_reads_the_crawl_stats():
    stats = FakeStats({"warc/pages_archived": 1234, "response_received_count": 2345, "item_scraped_count": 789,
                       "articles/extraction/fallback": 3, "item_dropped_count": 4,
                       "downloader/exception_count": 1, "log_count/ERROR": 1})
    clock = FakeClock()
    progress = ProgressLog(stats, interval=60, clock=clock)
    progress.started = clock.now - 694  # 0:11:34 ago
    progress.last = Counts(pages=1234 - 56, articles=789 - 36)
    progress.last_time = clock.now - 60 * 4
    assert progress.log_progress() == (
        "progress: pages=1234 (+56) responses=2345 articles=789 fallbacks=3 dropped=4 errors=2 "
        "rate=14.0 pages/min, 9.0 articles/min, elapsed 0:11:34")


def test_each_line_reports_the_change_since_the_previous_line():
    stats = FakeStats({"warc/pages_archived": 30, "item_scraped_count": 10})
    clock = FakeClock()
    progress = ProgressLog(stats, interval=30, clock=clock)
    progress.started = progress.last_time = clock.now
    clock.now += 30
    first = progress.log_progress()
    stats.values.update({"warc/pages_archived": 45, "item_scraped_count": 25})
    clock.now += 30
    second = progress.log_progress()
    assert "pages=30 (+30)" in first and "rate=60.0 pages/min, 20.0 articles/min" in first
    assert "pages=45 (+15)" in second and "rate=30.0 pages/min, 30.0 articles/min, elapsed 0:01:00" in second


def test_the_final_line_gives_whole_run_rates_and_the_reason(caplog):
    caplog.set_level("INFO")
    stats = FakeStats({"warc/pages_archived": 600, "item_scraped_count": 300})
    clock = FakeClock()
    progress = ProgressLog(stats, interval=60, clock=clock)
    progress.started = clock.now - 3600 * 2
    line = progress.spider_closed(None, "closespider_pagecount")
    assert line.startswith("progress (end, closespider_pagecount): pages=600 ")
    assert "rate=5.0 pages/min, 2.5 articles/min, elapsed 2:00:00" in line
    assert line in caplog.text


def test_progress_lines_are_off_when_the_interval_is_zero():
    with pytest.raises(NotConfigured):
        ProgressLog.from_crawler(get_crawler(settings_dict={"PROGRESS_INTERVAL": 0}))
    assert ProgressLog.from_crawler(get_crawler(settings_dict={"PROGRESS_INTERVAL": "2.5"})).interval == 2.5


def test_progress_line_with_an_idle_interval():
    line = progress_line(Counts(pages=5), Counts(pages=5), 60, 90061)
    assert line.endswith("pages=5 (+0) responses=0 articles=0 fallbacks=0 dropped=0 errors=0 rate=0.0 pages/min, "
                         "0.0 articles/min, elapsed 25:01:01")


# --- run report, without a crawl ---------------------------------------------------------------
def items():
    return [
        {"url": "https://www.spacewar.com/reports/A_999.html", "site": "spacewar", "published": "2024-05-30",
         "agency": "AFP"},
        {"url": "https://www.spacewar.com/reports/B_999.html", "site": "spacewar", "published": "2024-05-02",
         "agency": "SPX"},
        {"url": "https://www.spacewar.com/afp/260303115101.76yp06cs.html", "site": "spacewar",
         "published": "2026-03-03", "agency": "AFP"},
        {"url": "https://www.spacedaily.com/news/X.html", "site": "spacedaily", "published": "2026-03-01",
         "agency": None, "section": "Launch Pad"},
    ]


def test_sections_come_from_the_item_or_the_url():
    assert [section_of(i) for i in items()] == ["reports", "reports", "afp", "Launch Pad"]
    assert section_of({"url": "https://www.spacewar.com/index.html"}) == "(root)"


def summary() -> RunSummary:
    counts = ArticleCounts()
    for item in items():
        counts.add(item)
    stats = {
        "start_time": datetime(2026, 3, 3, 10, 0, 0, tzinfo=timezone.utc),
        "finish_time": datetime(2026, 3, 3, 11, 2, 3, tzinfo=timezone.utc),
        "warc/pages_archived": 40, "response_received_count": 57, "item_scraped_count": 4, "articles/extraction/fallback": 1,
        "item_dropped_count": 3, "articles/dropped/invalid": 1, "articles/dropped/duplicate": 2,
        "downloader/response_status_count/200": 50, "downloader/response_status_count/404": 7,
    }
    return RunSummary.from_stats("spacewar", "finished", stats, ["spacewar-20260303100000000-00000-h.warc.gz"],
                                 ["items.jsonl"], counts)


def test_markdown_report_has_the_run_facts_and_tables():
    md = render_markdown(summary())
    for expected in ("| Finish reason | finished |", "| Pages archived | 40 (spider pages", "| Responses received | 57 (",
                     "| Articles exported | 4 (1 by fallback extraction, 25%) |", "| Elapsed | 1:02:03 |",
                     "| Dropped items | 3 (duplicate: 2, invalid: 1) |",
                     "| duplicate | 2 |", "| invalid | 1 |", "| 404 | 7 |", "| 2024-05 | 2 |", "| 2026-03 | 2 |",
                     "| reports | 2 |", "| afp | 1 |", "| Launch Pad | 1 |", "| AFP | 2 |", "| (none) | 1 |",
                     "| spacedaily | 1 |", "`spacewar-20260303100000000-00000-h.warc.gz`", "`items.jsonl`"):
        assert expected in md, expected


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = Counter()
        self.text = []
        self.attrs = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] += 1
        self.attrs.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html_text: str) -> Page:
    page = Page()
    page.feed(html_text)
    page.close()
    return page


def test_html_report_has_svg_bar_charts_and_no_scripts_or_remote_resources():
    page = parse(render_html(summary()))
    assert page.tags["svg"] == 3
    assert page.tags["script"] == 0 and page.tags["img"] == 0 and page.tags["link"] == 0
    bars = [a for tag, a in page.attrs if tag == "rect"]
    assert len(bars) == 2 + 3 + 3  # months, sections, agencies
    # the longest bar is the biggest count of its chart
    widths = [int(a["width"]) for a in bars]
    assert widths[:2] == [widths[0]] * 2  # 2024-05 and 2026-03 both have 2
    text = " ".join(page.text)
    assert "Articles by month" in text and "Launch Pad" in text and "finished" in text


def test_html_escapes_what_it_shows():
    s = summary()
    s.counts.add({"url": "https://www.spacewar.com/x/y.html", "agency": "<script>alert(1)</script>",
                  "published": "2026-03-04"})
    page = parse(render_html(s))
    assert page.tags["script"] == 0
    assert "<script>alert(1)</script>" in "".join(page.text)


def test_report_goes_next_to_the_warc_directory_unless_report_dir_is_set(tmp_path):
    crawler = get_crawler(settings_dict={"WARC_DIR": str(tmp_path / "out" / "warc")})
    assert RunReport.from_crawler(crawler).report_dir == tmp_path / "out"
    # -s WARC_DIR=warc/ from the project's directory: the reports go beside the WARC files, not into the root
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        assert RunReport.from_crawler(get_crawler(settings_dict={"WARC_DIR": "warc/"})).report_dir == Path("warc/")
    crawler = get_crawler(settings_dict={"WARC_DIR": str(tmp_path / "warc"), "REPORT_DIR": str(tmp_path / "rep")})
    assert RunReport.from_crawler(crawler).report_dir == tmp_path / "rep"


def test_years_of_archives_are_charted_by_year():
    s = summary()
    for year in range(2000, 2004):
        for month in range(1, 13):
            s.counts.add({"url": "https://www.spacewar.com/reports/x.html", "published": f"{year}-{month:02d}-15"})
    s.counts.add({"url": "https://www.spacewar.com/reports/y.html"})
    page = parse(render_html(s))
    text = " ".join(page.text)
    assert "Articles by year (published)" in text and "Articles by month" not in text
    months_chart = render_html(s).split("<svg")[1]
    assert months_chart.count("<rect") == 4 + 2 + 1  # 2000..2003, 2024, 2026, (no date)
    assert "| 2001-07 | 1 |" in render_markdown(s)  # the Markdown table keeps the months


def test_the_report_names_problem_urls_by_kind_and_the_wacz_with_its_validation():
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.reporting.runreport import ProblemLog

    log = ProblemLog()

    def answer(url, status, retry=0, flags=None):
        request = Request(url, meta={"retry_times": retry} if retry else {})
        response = HtmlResponse(url, status=status, request=request, body=b"<html>", flags=flags or [])
        log.response_downloaded(response, request)
        log.request_left_downloader(request)
        return request, response

    answer("https://www.spacewar.com/reports/a_999.html", 503)
    log.response_received(*reversed(answer("https://www.spacewar.com/reports/a_999.html", 200, retry=1)))
    log.response_received(*reversed(answer("https://www.spacewar.com/reports/gone_999.html", 404)))
    answer("https://www.spacewar.com/reports/cut_999.html", 200, flags=["dataloss"])
    dead = Request("https://www.spacewar.com/reports/dead_999.html")
    log.request_left_downloader(dead)  # left the downloader with no answer
    stats = {"retry/count": 1, "retry/reason_count/503 Service Unavailable": 1, "warc/truncated": 1,
             "wacz/path": "/out/spacewar.wacz", "wacz/valid": False, "wacz/pages": 3, "wacz/warc_files": 2,
             "wacz/earlier_warc_files": 1}
    s = RunSummary.from_stats("spacewar", "finished", stats, [], [], ArticleCounts(), log)
    md = render_markdown(s)
    for expected in ("### HTTP 404 (page): 1", "- `https://www.spacewar.com/reports/gone_999.html`",
                     "- `https://www.spacewar.com/reports/cut_999.html` (HTTP 200, 6 bytes arrived)",
                     "- `https://www.spacewar.com/reports/a_999.html` (503 -> 200)",
                     "- `https://www.spacewar.com/reports/dead_999.html` (no answer)",
                     "| Retries | 1 (503 Service Unavailable: 1) |", "| Truncated responses | 1 |",
                     "| WACZ | /out/spacewar.wacz: NOT VALID (wacz validate); 3 pages, 2 WARC files (1 of earlier runs"):
        assert expected in md, expected
    page = render_html(s)
    assert "gone_999.html" in page and "NOT VALID" in page


# --- the first screen: the run's story ---------------------------------------------------------------
def test_the_outcome_comes_first_highlighted_by_its_exit_status():
    for status, css, words in ((0, "ok", "OK"), (75, "stopped", "STOPPED EARLY"), (69, "failed", "FAILED")):
        s = summary()
        s.stats["outcome/exit_status"] = status
        s.outcome = f"exit status {status}: something"
        md = render_markdown(s).splitlines()
        assert md[2] == f"> **{VERDICT_WORDS[css]}: exit status {status}: something**" and words in md[2]
        page = render_html(s)
        assert f'<div class="outcome {css}">' in page
        # the outcome is the first thing after the title, before the story table and the details
        assert page.index('class="outcome') < page.index("Pages archived") < page.index("Needs a look") \
            < page.index("<h2>Details")


def test_an_incremental_run_says_new_changed_unchanged_and_revalidated():
    s = summary()
    s.stats.update({"incremental/new": 0, "incremental/changed": 0, "incremental/unchanged": 49,
                    "incremental/not_modified": 49})
    s.totals = Counts(pages=76, articles=0, dropped=0)
    md = render_markdown(s)
    assert "| Since the last run | 0 new, 0 changed, 49 unchanged articles |" in md
    assert "| Revalidated | 49 (known articles asked with validators and answered 304" in md
    assert "| Articles exported | 0 (nothing new or changed) |" in md
    assert "Since the last run" not in render_markdown(summary())  # a full crawl has no such row


def test_refused_requests_are_listed_with_their_urls():
    from scrapy import Request

    from crawler.reporting.runreport import ProblemLog

    log = ProblemLog()
    log.request_refused(Request("https://www.spacewar.com/private/x.html"), "robots.txt")
    log.request_refused(Request("http://10.0.0.1/y.html"), "address policy (private address)")
    s = RunSummary.from_stats("spacewar", "finished", {"robotstxt/forbidden": 1}, [], [], ArticleCounts(), log)
    md = render_markdown(s)
    assert "### refused by robots.txt: 1\n\n- `https://www.spacewar.com/private/x.html`" in md
    assert "### refused by address policy (private address): 1" in md
    assert "Needs a look | refused by address policy (private address): 1; refused by robots.txt: 1" in md


def test_reports_are_never_overwritten_and_name_the_worker(tmp_path):
    report = RunReport(tmp_path, FakeStats())
    first, second = report.write(summary()), report.write(summary())
    assert [p.name for p in first] == ["spacewar-20260303T100000Z-report.md", "spacewar-20260303T100000Z-report.html"]
    assert [p.name for p in second] == ["spacewar-20260303T100000Z-2-report.md",
                                        "spacewar-20260303T100000Z-2-report.html"]
    s = summary()
    s.worker = "host-a-1234"
    [md, _] = RunReport(tmp_path, FakeStats(), worker="host-a-1234").write(s)
    assert md.name == "spacewar-host-a-1234-20260303T100000Z-report.md"
    assert "# Run report: spacewar, worker host-a-1234, 2026-03-03 10:00:00 UTC" in md.read_text()


def test_a_server_error_whose_retry_another_worker_fetched_is_still_shown():
    from scrapy import Request
    from scrapy.http import HtmlResponse

    from crawler.reporting.runreport import ProblemLog

    log = ProblemLog()
    request = Request("https://www.spacewar.com/reports/flaky_999.html")
    log.response_downloaded(HtmlResponse(request.url, status=503, request=request, body=b""), request)
    log.request_left_downloader(request)  # the retry went back to the shared queue
    log.finish()
    md = render_markdown(RunSummary.from_stats("spacewar", "finished", {}, [], [], ArticleCounts(), log))
    assert "- `https://www.spacewar.com/reports/flaky_999.html` (503 -> retry not fetched here)" in md
