"""The exit-status decision (crawler/reporting/outcome.py): what a scheduler is told by the status, and the last log
line saying why."""

from __future__ import annotations

from crawler.reporting import outcome
from crawler.reporting.outcome import decide


# --- the decision, from the final stats ---------------------------------------------------------
def test_a_crawl_that_archived_pages_exits_0():
    result = decide({"warc/pages_archived": 12, "item_scraped_count": 5}, "finished")
    assert result.status == 0 and "12 pages archived, 5 articles exported" in result.summary


def test_the_operators_bounds_are_not_failures():
    assert decide({"warc/pages_archived": 3}, "closespider_pagecount").status == 0
    assert decide({"warc/pages_archived": 3}, "closespider_timeout").status == 0


def test_nothing_archived_names_the_cause():
    dns = decide({"download/unreachable/www.spacewar.com": "the host name does not resolve"}, "finished")
    assert dns.status == outcome.NOTHING_ARCHIVED == 69
    assert "www.spacewar.com: the host name does not resolve" in dns.summary
    refused = decide({"safety/refused/private_address": 2}, "finished")
    assert refused.status == 69 and "address policy" in refused.summary
    robots = decide({"robotstxt/forbidden": 2, "warc/pages_archived": 0}, "finished")
    assert robots.status == 69 and "robots.txt" in robots.summary
    errors = decide({"downloader/response_status_count/503": 3}, "finished")
    assert errors.status == 69 and "HTTP 503 x3" in errors.summary


def test_a_stop_from_outside_or_an_error_bound_is_stopped_early():
    assert decide({"warc/pages_archived": 3}, "shutdown").status == outcome.STOPPED_EARLY == 75
    assert decide({"warc/pages_archived": 3}, "closespider_errorcount").status == 75
    assert decide({}, "shutdown").status == 75  # stopped before anything: still "stopped early"


def test_a_failed_warc_write_wins_over_everything_else():
    failed = decide({"warc/pages_archived": 3, "warc/write_failed": "[Errno 28] No space left"}, "shutdown")
    assert failed.status == outcome.WARC_WRITE_FAILED == 74 and "No space left" in failed.summary


def test_a_worker_whose_share_held_only_errors_exits_by_the_shared_crawl():
    alone = decide({"downloader/response_status_count/404": 3}, "finished")
    assert alone.status == 69
    shared = decide({"downloader/response_status_count/404": 3, "frontier/crawl_pages_archived": 40}, "finished")
    assert shared.status == 0
    assert "this worker archived no page itself" in shared.summary and "archived 40 pages" in shared.summary
    assert decide({"frontier/crawl_pages_archived": 0}, "finished").status == 69


def test_a_worker_that_found_the_queue_empty_while_the_others_work_exits_0():
    """A worker that joins late finds the shared queue empty (the others queue their start requests as they go) and
    stops: it did not fail the crawl, while another worker is still at work."""
    late = decide({"frontier/crawl_pages_archived": 0, "frontier/workers_at_work": 1}, "finished")
    assert late.status == 0
    assert "this worker archived no page itself" in late.summary and "1 other worker of the shared crawl is still" \
        in late.summary


def test_a_rebuild_from_warc_counts_the_pages_it_replayed():
    assert decide({"warcreplay/pages": 4}, "finished").status == 0




def test_a_rerun_of_a_jobdir_whose_earlier_runs_did_everything_finished_with_nothing_left():
    """A run stopped by Ctrl-C once its downloader had taken every request finishes them (exit 75); its rerun finds
    no pending request in the journal and the start requests done: the job is finished, not "nothing archived"."""
    done = decide({"inflight/rescheduled": 0, "dupefilter/filtered": 2, "feed/items_written": 0}, "finished")
    assert done.status == 0 and "nothing left to do" in done.summary
    # without a JOBDIR (no journal), or with requests that went out and failed, it is still nothing archived
    assert decide({"dupefilter/filtered": 2}, "finished").status == 69
    assert decide({"inflight/rescheduled": 0, "dupefilter/filtered": 2, "downloader/request_count": 2,
                   "downloader/response_status_count/503": 2}, "finished").status == 69
    assert decide({"inflight/rescheduled": 3, "downloader/request_count": 3,
                   "downloader/exception_type_count/twisted.internet.error.DNSLookupError": 3}, "finished").status == 69


def test_an_incremental_run_with_nothing_due_finishes_with_status_0():
    """STATE_PATH with front pages that back off (-s REVISIT_FRONT_DAYS=1) and a second run the same day: every start
    request is known and not due, only robots.txt is fetched. Nothing failed and nothing was due: exit 0, said as
    such; before, exit 69 "the site answered only with errors (HTTP 200 x1)", which a systemd unit retries every half
    hour and reports as failed."""
    stats = {"downloader/request_count": 1, "downloader/response_status_count/200": 1, "robotstxt/response_count": 1,
             "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 2, "revisit/not_due": 2,
             "incremental/new": 0, "incremental/changed": 0, "incremental/unchanged": 0, "revisit/left_due": 0}
    idle = decide(stats, "finished")
    assert idle.status == 0 and "nothing due" in idle.summary and "2 known URLs" in idle.summary
    # errors or refusals besides: still nothing archived
    assert decide({**stats, "downloader/response_status_count/503": 3}, "finished").status == 69
    assert decide({**stats, "robotstxt/forbidden": 2}, "finished").status == 69
    assert decide({**stats, "download/unreachable/www.spacewar.com": "refused"}, "finished").status == 69
    assert decide({k: v for k, v in stats.items() if k != "revisit/not_due"}, "finished").status == 69
