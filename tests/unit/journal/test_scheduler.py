"""The journaling scheduler (crawler/journal/scheduler.py) without a crawl: what it journals, and what a rerun
on the same JOBDIR fetches again after the first run was killed (its scheduler never closed)."""

from __future__ import annotations

from scrapy import Request

from crawler import keys
from crawler.capture.signals import warc_write_failed
from crawler.journal.appendlog import REQUESTS, SUBDIR, AppendJournal
from crawler.journal.scheduler import JournalingScheduler
from spiders.sites import SpacewarSpider
from tests.crawling import project_crawler

#: nothing is downloaded here: the engine is built for its middleware list only
NO_DOWNLOADS = dict.fromkeys(("http", "https", "data", "file", "s3", "ftp"))
BASE = "https://www.spacewar.com/reports/"


def page(n: int, **kwargs) -> Request:
    return Request(f"{BASE}Story_{n}_999.html", **kwargs)


class Run:
    """One run of the crawl on a JOBDIR, as far as the scheduler sees it: killed = never closed."""

    def __init__(self, jobdir):
        self.crawler = project_crawler(SpacewarSpider, JOBDIR=str(jobdir), INFLIGHT_FSYNC_INTERVAL=0,
                                       DOWNLOAD_HANDLERS=NO_DOWNLOADS)
        self.crawler._apply_settings()
        self.crawler.engine = self.crawler._create_engine()  # built, never started: the recorder lookup needs it
        self.spider = self.crawler._create_spider()
        self.scheduler = JournalingScheduler.from_crawler(self.crawler)
        self.crawler.stats.open_spider()
        self.scheduler.open(self.spider)

    def offer(self, *requests) -> list[bool]:
        return [self.scheduler.enqueue_request(r) for r in requests]

    def take_all(self) -> list[Request]:
        """Every queued request, as the downloader would get them; none is finished."""
        taken = []
        while (request := self.scheduler.next_request()) is not None:
            taken.append(request)
        return taken

    def stat(self, key, default=None):
        return self.crawler.stats.get_value(key, default)


def journal_lines(jobdir) -> list[str]:
    return list(AppendJournal.read_lines(jobdir / SUBDIR / REQUESTS))


def test_every_accepted_request_is_in_the_journal_before_the_downloader_gets_it(tmp_path):
    run = Run(tmp_path)
    assert run.offer(page(1), page(2)) == [True, True]
    lines = journal_lines(tmp_path)
    assert [line.split(" ")[0] for line in lines] == ["+", "+"]
    assert run.stat(keys.STAT_JOURNALED) == 2


def test_a_rerun_after_a_kill_fetches_again_what_was_pending_and_not_what_was_finished(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1), page(2), page(3))
    taken = killed.take_all()
    assert sorted(r.url for r in taken) == [page(n).url for n in (1, 2, 3)]
    done = next(r for r in taken if r.url == page(2).url)
    killed.scheduler.request_finished(done)  # page 2 downloaded, parsed, exported
    # killed: no close

    rerun = Run(tmp_path)
    again = rerun.take_all()
    assert sorted(r.url for r in again) == [page(1).url, page(3).url]
    assert all(r.dont_filter for r in again)  # the seen-set of the killed run already holds them
    assert rerun.stat(keys.STAT_RESCHEDULED) == 2


def test_a_request_the_killed_run_had_finished_is_not_fetched_by_the_rerun_even_when_found_again(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1))
    (request,) = killed.take_all()
    killed.scheduler.request_finished(request)

    rerun = Run(tmp_path)
    assert rerun.take_all() == []
    assert rerun.offer(page(1)) == [False]  # the seen-set was flushed as the request was accepted


def test_a_request_retried_before_its_first_attempt_ended_stays_pending_until_both_ended(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1))
    (first,) = killed.take_all()
    killed.offer(first.replace(dont_filter=True))  # the retry middleware schedules the retry...
    killed.scheduler.request_finished(first)  # ...then the engine drops the first attempt
    (retry,) = killed.take_all()

    rerun = Run(tmp_path)
    assert [r.url for r in rerun.take_all()] == [page(1).url]


def test_after_a_failed_warc_write_nothing_more_is_marked_finished(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1), page(2))
    one, two = sorted(killed.take_all(), key=lambda r: r.url)
    killed.scheduler.request_finished(one)
    killed.crawler.signals.send_catch_log(warc_write_failed, exc=OSError("disk full"), path="x.warc.gz")
    killed.scheduler.request_finished(two)  # its capture may not be on disk

    rerun = Run(tmp_path)
    assert [r.url for r in rerun.take_all()] == [page(2).url]


def test_a_request_that_cannot_be_serialised_is_counted_and_not_fetched_again(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1, callback=lambda response: None), page(2))
    assert killed.stat(keys.STAT_UNSERIALIZABLE) == 1
    killed.take_all()

    rerun = Run(tmp_path)
    assert [r.url for r in rerun.take_all()] == [page(2).url]


def test_a_rescheduled_request_comes_back_with_its_callback_and_meta(tmp_path):
    killed = Run(tmp_path)
    killed.offer(page(1, callback=killed.spider.parse, meta={"depth": 3}, priority=7))
    killed.take_all()

    rerun = Run(tmp_path)
    (again,) = rerun.take_all()
    assert again.callback.__name__ == "parse" and again.meta["depth"] == 3 and again.priority == 7


def test_a_clean_close_leaves_only_the_pending_requests_for_the_next_run(tmp_path):
    first = Run(tmp_path)
    first.offer(page(1), page(2))
    (a, b) = first.take_all()
    first.scheduler.request_finished(a)
    first.scheduler.close("shutdown")

    second = Run(tmp_path)
    assert [r.url for r in second.take_all()] == [b.url]
    # the journal was compacted on start: one line, the pending request's
    assert [line.split(" ")[0] for line in journal_lines(tmp_path)] == ["+"]
