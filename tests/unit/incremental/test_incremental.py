"""Incremental state (STATE_PATH): item digests, conditional requests, new/changed/unchanged, the add-on's one shared state."""

from __future__ import annotations

import hashlib

import pytest
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler

from crawler.components import addon_of
from crawler.incremental.addon import Incremental
from crawler.incremental.revalidate import RevalidateMiddleware
from crawler.incremental.state import SqliteState, item_digest
from pipelines.incremental import IncrementalPipeline, UnchangedItem
from spiders.sites import SpacewarSpider
from tests.crawling import project_crawler

ARTICLE = "https://www.spacewar.com/reports/Navy_tests_new_interceptor_999.html"

def article(**changes) -> dict:
    item = {"url": ARTICLE, "title": "Navy tests new interceptor", "published": "2024-05-30",
            "author": None, "location": "Washington", "agency": "AFP",
            "body": "First paragraph.\n\nSecond paragraph.", "images": [], "rights": None,
            "extraction": "site-rules", "warc": {"filename": "a.warc.gz", "record_id": "<urn:uuid:1>", "offset": 0},
            "site": "spacewar", "fetched_at": "2024-05-30T10:00:00Z"}
    item.update(changes)
    return item


@pytest.fixture
def state(tmp_path):
    s = SqliteState(tmp_path / "state.sqlite")
    yield s
    s.close()


# --- the state and the item digest ------------------------------------------------------
def test_item_digest_follows_the_text_not_the_capture():
    assert item_digest(article()) == item_digest(article(warc={"filename": "b.warc.gz"}, fetched_at="2025-01-01T00:00:00Z"))
    assert item_digest(article()) != item_digest(article(body="First paragraph.\n\nA corrected paragraph."))
    assert item_digest(article()) != item_digest(article(title="Navy tests a new interceptor"))


def test_state_survives_reopening_and_a_fetch_alone_is_not_an_export(tmp_path):
    path = tmp_path / "state.sqlite"
    s = SqliteState(path)
    s.record_fetch(ARTICLE, "2024-05-30T10:00:00Z", 200, "sha1:abc")
    assert not s.get(ARTICLE).exported
    s.record_export(ARTICLE, "d1", "2024-05-30T10:00:01Z", '"etag-1"', "Thu, 30 May 2024 10:00:00 GMT")
    s.close()
    again = SqliteState(path)
    row = again.get(ARTICLE)
    assert (row.item_digest, row.etag, row.payload_digest, row.status) == ("d1", '"etag-1"', "sha1:abc", 200)
    assert again.get("https://www.spacewar.com/") is None
    again.close()


# --- conditional requests ----------------------------------------------------------------
def test_known_article_is_requested_conditionally_and_a_304_counts_as_unchanged(state):
    state.record_export(ARTICLE, "d1", "t", '"etag-1"', "Thu, 30 May 2024 10:00:00 GMT")
    crawler = get_crawler(SpacewarSpider)
    mw = RevalidateMiddleware(state, crawler.stats)
    request = Request(ARTICLE)
    assert mw.process_request(request) is None
    assert request.headers[b"If-None-Match"] == b'"etag-1"'
    assert request.headers[b"If-Modified-Since"] == b"Thu, 30 May 2024 10:00:00 GMT"
    with pytest.raises(IgnoreRequest):
        mw.process_response(request, Response(ARTICLE, status=304, request=request))
    assert crawler.stats.get_value("incremental/unchanged") == 1
    assert state.get(ARTICLE).status == 304


def test_pages_never_exported_are_fetched_in_full(state):
    listing = "https://www.spacewar.com/Missile_Defense.html"
    state.record_fetch(listing, "t", 200, "sha1:abc")  # a listing seen by the last run
    mw = RevalidateMiddleware(state)
    for url in (listing, "https://www.spacewar.com/reports/Never_seen_999.html"):
        request = Request(url)
        mw.process_request(request)
        assert b"If-None-Match" not in request.headers and b"If-Modified-Since" not in request.headers


def test_without_revalidation_known_articles_are_not_requested(state):
    state.record_export(ARTICLE, "d1", "t", None, None)
    with pytest.raises(IgnoreRequest):
        RevalidateMiddleware(state, revalidate=False).process_request(Request(ARTICLE))


def test_a_full_answer_records_the_fetch(state):
    mw = RevalidateMiddleware(state)
    request = Request(ARTICLE)
    response = HtmlResponse(ARTICLE, body=b"<html>x</html>", request=request)
    assert mw.process_response(request, response) is response
    row = state.get(ARTICLE)
    assert row.status == 200 and row.payload_digest == "sha1:" + hashlib.sha1(b"<html>x</html>").hexdigest()


# --- the pipeline ----------------------------------------------------------------------------
def test_new_then_unchanged_then_changed(state):
    crawler = get_crawler(SpacewarSpider)
    pipe = IncrementalPipeline(state, crawler.stats)
    response = HtmlResponse(ARTICLE, body=b"x", headers={"ETag": '"etag-1"'})

    first = article()
    assert pipe.process_item(first) is first
    pipe.item_scraped(first, response)
    assert state.get(ARTICLE).etag == '"etag-1"'

    with pytest.raises(UnchangedItem):
        pipe.process_item(article(fetched_at="2024-06-01T00:00:00Z"))

    changed = article(body="First paragraph.\n\nA corrected paragraph.")
    assert pipe.process_item(changed) is changed
    stats = crawler.stats.get_stats()
    assert (stats["incremental/new"], stats["incremental/unchanged"], stats["incremental/changed"]) == (1, 1, 1)


def test_an_item_dropped_later_is_not_remembered_as_exported(state):
    pipe = IncrementalPipeline(state)
    pipe.process_item(article())  # e.g. the export stage never saw it: no item_scraped
    assert pipe.process_item(article()) is not None  # still new next time


def test_without_state_path_nothing_changes():
    crawler = project_crawler(SpacewarSpider)
    assert addon_of(crawler, Incremental) is None
    assert "pipelines.incremental.IncrementalPipeline" not in crawler.settings.getdict("ITEM_PIPELINES")
    assert "crawler.incremental.revalidate.RevalidateMiddleware" not in crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")


def test_with_state_path_both_incremental_components_are_in_the_chain_and_share_one_state(tmp_path):
    crawler = project_crawler(SpacewarSpider, STATE_PATH=str(tmp_path / "state.sqlite"))
    assert crawler.settings.getdict("ITEM_PIPELINES")["pipelines.incremental.IncrementalPipeline"] == 800
    assert crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")["crawler.incremental.revalidate.RevalidateMiddleware"] == 580
    pipeline, middleware = IncrementalPipeline.from_crawler(crawler), RevalidateMiddleware.from_crawler(crawler)
    assert pipeline.state is middleware.state is addon_of(crawler, Incremental).state
    pipeline.state.close()


# --- the revisit policy in the middleware: dead links, one fetch a run ----------------------------
def test_a_dead_link_is_remembered_and_not_asked_again_until_it_is_due(tmp_path):
    import time

    from crawler.incremental.policy import DAY, DEAD, FRONT, RevisitPolicy
    from crawler.incremental.revisit import Revisits

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()  # url_kind asks the spider for the site's URL rules
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()  # fetch times are the real clock's: so is this run's

    def run(at: float) -> RevalidateMiddleware:
        return RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                    revisits=Revisits(state, RevisitPolicy(), clock=lambda: at))

    mw = run(now)
    gone = "https://www.spacewar.com/reports/Story_withdrawn_by_publisher_999.html"
    moved = "https://www.spacewar.com/reports/Navy_tests_new_interceptor_old_999.html"
    section = "https://www.spacewar.com/Missile_Defense.html"
    for url in (gone, section):
        request = Request(url)
        assert mw.process_request(request) is None
        mw.process_response(request, HtmlResponse(url, status=404, body=b"Not Found", request=request))
    old = Request(moved)
    assert mw.process_request(old) is None
    mw.response_downloaded(Response(moved, status=301, headers={"Location": ARTICLE}, request=old), old)
    assert state.get(gone).kind == state.get(moved).kind == DEAD
    assert state.get(section) is None  # a listing answered 404 is no dead link: asked at every run
    # asked again by the next day's run (due half a day early: RUN_SLACK): it may have been missing a moment
    assert state.get(gone).next_due == now + DAY / 2
    # a robots.txt fetched by this run (by the robots middleware) is not asked again as a page of it
    robots = Request("https://www.spacewar.com/robots.txt")
    mw.process_response(robots, Response(robots.url, body=b"User-agent: *\n", request=robots))
    assert state.get(robots.url).kind == FRONT
    with pytest.raises(IgnoreRequest, match="not due"):
        mw.process_request(Request(robots.url))
    mw = run(now + DAY)  # robots.txt and the section page are asked by the next day's run
    assert mw.process_request(Request(robots.url)) is None
    assert mw.process_request(Request(section)) is None

    asked = {gone: [], moved: []}  # daily runs for two months, the pages linking to them fetched every day
    for day in range(1, 62):
        mw = run(now + day * DAY)
        for url in asked:
            request = Request(url)
            try:
                mw.process_request(request)
            except IgnoreRequest as e:
                assert "not due" in str(e)
                continue
            asked[url].append(day)
            if url == gone:
                mw.process_response(request, HtmlResponse(url, status=404, body=b"Not Found", request=request))
            else:
                mw.response_downloaded(Response(url, status=301, headers={"Location": ARTICLE}, request=request),
                                       request)
    assert asked[gone] == asked[moved] == [1, 3, 7, 15, 31, 61]  # after 1, 2, 4, 8, 16 days, then 30
    state.close()


def test_an_archive_listing_of_a_run_that_did_not_finish_is_fetched_again_by_the_next(tmp_path):
    """Without JOBDIR, the links a killed run took from a listing die with its queue: the listing stays due, so the
    next run follows them (kill -9 loses no article); a finished run schedules it as the policy says."""
    import time

    from crawler.incremental.policy import ARCHIVE, RevisitPolicy
    from crawler.incremental.revisit import Revisits

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()
    listing = "https://www.spacewar.com/news/missile-defense-24a.html"

    def fetch(at: float, reason: str) -> None:
        mw = RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                  revisits=Revisits(state, RevisitPolicy(), clock=lambda: at))
        request = Request(listing)
        assert mw.process_request(request) is None
        mw.process_response(request, HtmlResponse(listing, body=b"<html>links</html>", request=request))
        mw.spider_closed(reason=reason)

    fetch(now, "shutdown")  # Ctrl-C, a kill or a bound: not scheduled
    assert state.get(listing).next_due is None
    nxt = RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                               revisits=Revisits(state, RevisitPolicy(), clock=lambda: now + 60))
    assert nxt.process_request(Request(listing)) is None  # asked again by the next run
    fetch(now + 60, "finished")
    row = state.get(listing)
    assert row.kind == ARCHIVE and row.next_due > now + 60
    state.close()


def test_a_static_page_backs_off_while_home_sections_and_feeds_are_fetched_every_run(tmp_path):
    """Daily runs over 40 days: a page that links to no article and stays the same (about, privacy) is asked after 1,
    2, 4, 8, 16 days; the home page, a section page and a feed at every run, though they never change either; a
    static page that changes, or starts linking to an article, is asked at every run again."""
    import time

    from crawler.incremental.policy import DAY, FRONT, STATIC, RevisitPolicy
    from crawler.incremental.revisit import Revisits

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()
    nav = b'<a href="/Missile_Defense.html">Missile Defense</a> <a href="/about.html">About</a>'
    pages = {
        "https://www.spacewar.com/about.html": b"<html><body><h2>About Us</h2>" + nav + b"</body></html>",
        "https://www.spacewar.com/privacy.html": b"<html><body><h2>Privacy</h2>" + nav + b"</body></html>",
        "https://www.spacewar.com/": b"<html><body>" + nav + b'<a href="/reports/A_999.html">A</a></body></html>',
        "https://www.spacewar.com/Missile_Defense.html":
            b'<html><body><a href="/reports/A_999.html">A</a> <a href="/news/missile-defense-24a.html">older</a>'
            + nav + b"</body></html>",
        "https://www.spacewar.com/spacewar.xml": b"<rss><channel><title>SpaceWar</title></channel></rss>",
    }
    asked: dict[str, list[int]] = {url: [] for url in pages}
    for day in range(40):
        if day == 20:  # the privacy statement is rewritten
            pages["https://www.spacewar.com/privacy.html"] += b"<p>new</p>"
        if day == 30:  # the about page starts linking to a story
            pages["https://www.spacewar.com/about.html"] += b'<a href="/reports/B_999.html">B</a>'
        mw = RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                  revisits=Revisits(state, RevisitPolicy(), clock=lambda: now + day * DAY + 60))
        for url, body in pages.items():
            request = Request(url)
            try:
                mw.process_request(request)
            except IgnoreRequest:
                continue
            asked[url].append(day)
            cls = HtmlResponse if url.endswith((".html", "/")) else Response
            mw.process_response(request, cls(url, body=body, request=request))
    every_day = list(range(40))
    assert asked["https://www.spacewar.com/"] == every_day
    assert asked["https://www.spacewar.com/Missile_Defense.html"] == every_day
    assert asked["https://www.spacewar.com/spacewar.xml"] == every_day
    # the same at days 0 and 1: static, then asked after 1, 2, 4, 8, 16 days; changed on day 20, seen changed on
    # day 32: a front page again (every run) until two fetches find it the same, then backing off again
    assert asked["https://www.spacewar.com/privacy.html"] == [0, 1, 2, 4, 8, 16, 32, 33, 34, 36]
    # about links to an article from day 30: seen at day 32, every run since
    assert asked["https://www.spacewar.com/about.html"] == [0, 1, 2, 4, 8, 16, 32, 33, 34, 35, 36, 37, 38, 39]
    assert state.get("https://www.spacewar.com/about.html").kind == FRONT
    assert state.get("https://www.spacewar.com/privacy.html").kind == STATIC
    state.close()


def test_a_request_of_another_workers_plan_is_fetched_though_this_workers_plan_does_not_hold_it(tmp_path):
    """A shared crawl: worker 1's plan takes an old article ahead of its due day (the weekly sweep's share) and puts
    it in the shared queue; worker 2, which read its plan after worker 1 had swept (its share then 0), takes it from
    the queue. It fetches it (conditionally) instead of dropping it as "known and not due"; a request of its own
    that is not planned and not due is still refused, and what it fetched itself is not fetched again."""
    import time

    from crawler import keys
    from crawler.incremental.policy import ARTICLE as KIND_ARTICLE, DAY, RevisitPolicy
    from crawler.incremental.revisit import Revisits

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()
    state.record_export(ARTICLE, "digest", "2024-06-01T00:00:00Z", '"etag-1"', None)
    state.schedule(ARTICLE, {"kind": KIND_ARTICLE, "next_due": now + 5 * DAY, "interval": 60.0,
                             "published": now - 900 * DAY, "swept_at": now - 2 * DAY})
    worker2 = RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                   revisits=Revisits(state, RevisitPolicy(), clock=lambda: now))
    assert ARTICLE not in worker2.plan.plan.taken  # not due, and its plan took no share of the sweep
    with pytest.raises(IgnoreRequest, match="known and not due"):
        worker2.process_request(Request(ARTICLE))  # found as a link: not due
    planned = Request(ARTICLE, meta={keys.META_PLANNED: True})  # from worker 1's plan, through the shared queue
    assert worker2.process_request(planned) is None
    assert planned.headers.get("If-None-Match") == b'"etag-1"'
    worker2.process_response(planned, HtmlResponse(ARTICLE, status=200, body=b"<html></html>", request=planned))
    assert crawler.stats.get_value("revisit/revalidated") == 1  # counted by the worker that fetched it
    with pytest.raises(IgnoreRequest, match="known and not due"):  # fetched by this worker: not again
        worker2.process_request(Request(ARTICLE, meta={keys.META_PLANNED: True}))
    state.close()


def test_each_worker_fetches_robots_txt_whatever_another_worker_wrote_in_the_shared_state(tmp_path):
    """A shared crawl: worker 2, started 5 s after worker 1, fetched the image host's robots.txt and gave its front row
    a due time of its own start. Worker 1's robots middleware asks for it too (each process needs its own parser): it
    is fetched, not refused as "known and not due" (which closed the host to worker 1: every request for it dropped,
    exit 0). The same URL found as a link on a page once the worker fetched it is not fetched again."""
    import time

    from crawler.incremental.policy import FRONT, RevisitPolicy
    from crawler.incremental.revisit import Revisits
    from crawler.incremental.state import utc_iso

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()
    robots = "https://www.spxdaily.com/robots.txt"
    state.record_fetch(robots, utc_iso(now + 6), 200, "sha1:x")
    state.schedule(robots, {"kind": FRONT, "next_due": now + 5, "interval": 0.0})  # worker 2's run start
    worker1 = RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                   revisits=Revisits(state, RevisitPolicy(), clock=lambda: now))
    request = Request(robots, meta={"dont_obey_robotstxt": True})
    assert worker1.process_request(request) is None
    worker1.process_response(request, Response(robots, body=b"User-agent: *\n", request=request))
    with pytest.raises(IgnoreRequest, match="known and not due"):  # a link to it: this worker fetched it already
        worker1.process_request(Request(robots))
    state.close()


# --- a STATE_PATH that is not a crawl state ---------------------------------------------------------
def test_a_state_file_that_is_not_a_crawl_state_is_refused_naming_it_and_left_as_it_was(tmp_path):
    import sqlite3

    from crawler.config import ConfigError
    from crawler.incremental.state import NotAState

    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all\n" * 10)
    cut = tmp_path / "cut.sqlite"
    whole = SqliteState(tmp_path / "whole.sqlite")
    for i in range(300):
        whole.record_fetch(f"{ARTICLE}?{i}", "2024-05-30T10:00:00Z", 200, "sha1:abc" * 20)
    whole.close()
    cut.write_bytes((tmp_path / "whole.sqlite").read_bytes()[:5000])
    other = tmp_path / "digests.sqlite"  # an SQLite file of something else (the WARC digest index, say)
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE payloads (digest TEXT PRIMARY KEY)")
    db.commit()
    db.close()
    for path, why in ((garbage, "file is not a database"), (cut, "malformed"), (other, "no table pages")):
        before = path.read_bytes()
        with pytest.raises(NotAState) as caught:
            SqliteState(path)
        assert isinstance(caught.value, ConfigError)
        assert str(caught.value).startswith(f"STATE_PATH={path}: not a crawl state (") and why in str(caught.value)
        assert path.read_bytes() == before


def test_a_known_article_answered_in_full_by_a_run_killed_before_its_item_was_exported_stays_due(tmp_path):
    """A run revalidates an old article (a full answer: the server sends no 304) and is killed -9 before the item
    pipeline has exported the correction it holds. The article must stay due: before, the middleware rescheduled it
    as unchanged when the response came in (7 days on for an article of the weekly sweep, up to 60 for a settling
    one), the state kept that, and the correction waited for that next look (beyond the 7 runs promised). A run that
    finishes still reschedules an article whose item was made nowhere (no change seen)."""
    import time

    from crawler.incremental.policy import ARTICLE as KIND, DAY, RevisitPolicy
    from crawler.incremental.revisit import Revisits

    crawler = project_crawler(SpacewarSpider)
    crawler.spider = crawler._create_spider()
    state = SqliteState(tmp_path / "state.sqlite")
    now = time.time()
    state.record_fetch(ARTICLE, "2024-05-30T10:00:00Z", 200, "sha1:old")
    state.record_export(ARTICLE, "digest-of-the-old-text", "2024-05-30T10:00:00Z", None, None)
    state.schedule(ARTICLE, {"kind": KIND, "next_due": now - 60, "interval": 7.0, "published": now - 400 * DAY,
                             "swept_at": now - 7 * DAY})

    def run(at: float) -> RevalidateMiddleware:
        return RevalidateMiddleware(state, crawler.stats, crawler=crawler,
                                    revisits=Revisits(state, RevisitPolicy(), clock=lambda: at))

    mw = run(now)
    request = Request(ARTICLE)
    assert mw.process_request(request) is None  # due: asked
    mw.process_response(request, HtmlResponse(ARTICLE, body=b"<html>corrected</html>", request=request))
    state.commit()  # ... and the process is killed -9: no item_scraped, no spider_closed
    assert run(now + DAY).process_request(Request(ARTICLE)) is None  # still due for the next run
    mw.spider_closed(reason="shutdown")  # stopped early (SIGTERM): the response may never have been scraped
    assert run(now + DAY).process_request(Request(ARTICLE)) is None

    mw = run(now + DAY)  # a run that finishes without making an item of it: scheduled as unchanged
    request = Request(ARTICLE)
    mw.process_request(request)
    mw.process_response(request, HtmlResponse(ARTICLE, body=b"<html>corrected</html>", request=request))
    mw.spider_closed(reason="finished")
    assert state.get(ARTICLE).next_due > now + 6 * DAY
    state.close()
