"""A run's revisits: which known URLs it fetches (new ones, plus the due ones within REVISIT_BUDGET), and when each
URL it fetched falls due again.

At the run's start the plan is read from the state: every due `front` row (home, sections, feeds:
every run), and the due `archive` and `article` rows, at most REVISIT_BUDGET of them (0: no limit):
first those due at every run (young articles, archive pages found changed), then the others
oldest-due first; the due rows over the budget are left for a later run
(stat revisit/left_due; those due for more than a day, revisit/overdue). Then, within what is left of
the budget, the weekly sweep's share taken ahead of time: old articles that are not due yet, least recently
looked at first, until the run has taken the policy's `sweep_quota` of the sweep (stat revisit/swept: the
sweep's rows the run took, due or ahead), so that each run takes its exact share. The start requests are
the spider's own (home page, feed) followed by one request per planned URL, so that an old article
is revalidated even though no page fetched this run links to it. A known URL found on a page
is requested only when it is in the plan (else stat revisit/not_due): a run fetches what is new
plus what is due, and nothing else. A URL the state has never scheduled (never fetched, or
fetched but never exported) is new.

After a fetch, `reschedule` asks the policy (crawler/incremental/policy.py) when the URL falls due
again and writes it to the state with the facts the policy needs.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from crawler import keys
from crawler.incremental.policy import (ARCHIVE, ARTICLE, ASSET, BUDGETED, DAY, DEAD, FRONT, STATIC, RUN_SLACK,
                                        RevisitPolicy)
from crawler.incremental.state import iso_time

logger = logging.getLogger(__name__)

#: the state's marks (crawler/incremental/state.py) of the first, full crawl: when its first plan found the state
#: empty, and when the first of its runs stopped
FIRST_CRAWL_BEGAN, FIRST_CRAWL_ENDED = "first_crawl_began", "first_crawl_ended"


class Plan:
    """What one run revisits: `taken` (budgeted URLs due now), and counts for the report."""

    def __init__(self, now: float, taken: dict[str, str], front: dict[str, str], left: int, overdue: int,
                 run_slack: float = RUN_SLACK, first: bool = False, caps: dict | None = None):
        self.now = now
        self.first = first  # a run of the first, full crawl (what it finds is the archive's past): `_first_crawl`
        self.run_slack = run_slack  # how early (seconds) the rows this run fetches fall due again (policy.run_slack)
        self.caps = caps or {}  # kind -> (maximum days, lead seconds): Revisits._caps, for this run's slack
        self.taken = taken  # url -> kind, archive and article rows due now, within the budget
        self.front = front  # url -> kind, front rows (every run) and static pages due now
        self.left = left
        self.overdue = overdue


class Revisits:
    """The policy applied to one crawl's state; the clock is the crawl's (time.time, which faketime moves)."""

    def __init__(self, state, policy: RevisitPolicy, budget: int = 0, stats=None, clock=time.time):
        self.state = state
        self.policy = policy
        self.budget = 0 if policy.every_run else budget  # REVISIT_EVERY_RUN: everything, as before the policy
        self.stats = stats
        self.clock = clock
        self._plan: Plan | None = None
        self._fetched: set[str] = set()  # state keys this process fetched (`fetched`)
        self._rescheduled: set[str] = set()  # state keys this process rescheduled (`rescheduled`)

    @property
    def plan(self) -> Plan:
        """The run's plan, read from the state once, at the first question."""
        if self._plan is None:
            now = self.clock()
            first = self._first_crawl(now)
            horizon = float("inf") if self.policy.every_run else now  # REVISIT_EVERY_RUN: every known row is due
            members, last_swept = self.state.sweep()
            elapsed = None if last_swept is None else now - last_swept
            slack = self.policy.run_slack(elapsed)
            caps = self._caps(slack)
            taken = self.state.due(horizon, BUDGETED, limit=self.budget, caps=caps)
            left = self.state.count_due(horizon, BUDGETED, caps=caps) - len(taken)
            quota = self.policy.sweep_quota(members, elapsed)
            swept = sum(1 for row in taken if self._of_sweep(row, now))  # the sweep's rows among those due
            ahead = quota - swept
            if self.budget:
                ahead = min(ahead, self.budget - len(taken))
            # all in the sweep (swept_at set), not due by their due time: none taken already, but those due by a
            # lowered maximum (`_caps`: given a longer interval)
            in_sweep = {r.url for r in taken if r.swept_at is not None and r.interval is not None
                        and r.interval > caps.get(r.kind, (float("inf"),))[0]}
            ahead_rows = [r for r in self.state.sweep_ahead(now, ahead + len(in_sweep) if ahead > 0 else 0)
                          if r.url not in in_sweep][:max(ahead, 0)]
            taken += ahead_rows
            swept += len(ahead_rows)
            overdue_all = self.state.count_due(now - DAY, BUDGETED, caps=caps)
            overdue_taken = sum(1 for row in taken if row.next_due <= now - DAY)
            front = self.state.due(horizon, (FRONT, STATIC), caps=caps)
            self._plan = Plan(now, {r.url: r.kind for r in taken}, {r.url: r.kind for r in front},
                              left=left, overdue=overdue_all - overdue_taken, run_slack=slack, first=first,
                              caps=caps)
            if self.stats is not None:
                self.stats.set_value(keys.STAT_REVISIT.format(event="planned"), len(taken))
                self.stats.set_value(keys.STAT_REVISIT.format(event="left_due"), self._plan.left)
                self.stats.set_value(keys.STAT_REVISIT.format(event="overdue"), self._plan.overdue)
                self.stats.set_value(keys.STAT_REVISIT.format(event="swept"), swept)
            logger.info("Revisit plan: %d due or the sweep's share (archive listings and articles, REVISIT_BUDGET=%s;"
                        " %d of the %d old articles of the weekly sweep) and %d front pages; %d due left for later"
                        " runs (%d overdue by more than a day)", len(taken), self.budget or "no limit", swept, members,
                        len(front), self._plan.left, self._plan.overdue)
        return self._plan

    def _caps(self, slack: float) -> dict[str, tuple[float, float]]:
        """The policy's maximum interval per kind (days) and how long after its last fetch a row given a longer one
        (under an earlier, larger setting) is due (seconds: the maximum less the run's slack, as `next_due`
        counts it): kind -> (maximum, lead), for SqliteState.due; none with REVISIT_EVERY_RUN (every row is due)."""
        caps = {}
        if self.policy.every_run:
            return caps
        for kind in (ARTICLE, ARCHIVE, STATIC, DEAD):
            most = self.policy.max_days(kind)
            if most is not None:
                caps[kind] = (most, most * DAY - min(slack, most * DAY / 2))
        return caps

    def _capped(self, known) -> bool:
        """Whether a row not due by its due time is due by its kind's maximum (`_caps`): given a longer interval,
        and fetched at least the maximum (less the slack) ago."""
        cap = self.plan.caps.get(known.kind)
        return (cap is not None and known.interval is not None and known.interval > cap[0]
                and known.fetched_at is not None and iso_time(known.fetched_at) + cap[1] <= self.plan.now)

    def _first_crawl(self, now: float) -> bool:
        """Whether this run is (a worker of) the first, full crawl: the state is empty, or the first crawl began and
        none of its runs has stopped yet (another worker of a shared first crawl, started while it runs, or the run
        after a first crawl killed with kill -9). The first plan on an empty state marks the first crawl's start."""
        marks = self.state.marks()
        if len(self.state) == 0 or (FIRST_CRAWL_BEGAN in marks and FIRST_CRAWL_ENDED not in marks):
            self.state.mark(FIRST_CRAWL_BEGAN, now)
            return True
        return False

    def stopped(self) -> None:
        """The run stops (spider_closed, whatever the reason): a run of the first crawl marks it ended, so that the
        runs that start from now on are later runs (what they find appeared since)."""
        if self._plan is not None and self._plan.first:
            self.state.mark(FIRST_CRAWL_ENDED, self.clock())

    def _of_sweep(self, row, now: float) -> bool:
        """Whether a row the run takes counts in the sweep's share: in the sweep, or an old article about to join
        it (one an earlier version scheduled, or one turning a year old on its due day)."""
        return row.swept_at is not None or (row.kind == ARTICLE and (row.interval or 0) > 0
                                            and self.policy.in_sweep(now, row.published))

    def fetched(self, url: str) -> None:
        """`url` (a state key) was fetched by this process: `allowed` says no to it for the rest of the run."""
        self._fetched.add(url)

    def rescheduled(self, url: str) -> bool:
        """Whether this process has rescheduled `url` (a state key) since it started."""
        return url in self._rescheduled

    def allowed(self, url: str, known, planned: bool = False) -> bool:
        """May this run request `url`, whose state row is `known`? Not when this process fetched it already (a
        robots.txt, fetched by the robots middleware outside the duplicate filter, is also a front row). What this
        process fetched, not the row's fetched_at against the run's start: those are whole seconds, so a run started
        in the second of the last run's last fetch took that fetch for its own (its robots.txt refused, every page
        of the host with it); and in a shared crawl another worker's robots.txt fetch is not this worker's. A request
        of a plan (`planned`: META_PLANNED, set by RevisitStartMiddleware) was judged by the plan that made it: in a
        shared crawl the worker that takes it from the queue may have read its own plan later (a sweep share already
        taken, rows already rescheduled), or after a restart, and would have dropped it."""
        if known is None or known.next_due is None or self.policy.every_run:
            return True  # new, or never scheduled (fetched but never exported: fetched again), or all due
        if url in self._fetched:
            return False
        if planned:  # a request of a run's plan (META_PLANNED): in a shared crawl, another worker's plan may hold it
            return True
        if known.kind in BUDGETED:
            return url in self.plan.taken
        # a row due at every run (interval 0: home, sections, feeds) is due whatever its due time says: it is the
        # start of the run that fetched it last, in this run's future when the clock went back since
        return known.next_due <= self.plan.now or known.interval == 0 or self._capped(known)

    def start_urls(self) -> list[str]:
        """The URLs a run requests at its start besides the spider's: front pages, then due ones oldest first
        (not robots.txt: the robots middleware asks for it)."""
        plan = self.plan
        return [url for url in (*plan.front, *plan.taken) if urlsplit(url).path != "/robots.txt"]

    def reschedule(self, url: str, kind: str, known, *, changed: bool = False, published: float | None = None,
                   now: float | None = None) -> None:
        """Write when `url` (of `kind`, fetched by the run of `now`, `changed` or not) falls due again; `now`
        defaults to the run's start (its plan's time), so that intervals count in runs of a fixed schedule.
        `published`: the latest time the article can have appeared (policy.latest_publication), kept no later
        than when the crawl first saw it. An undated article stays undated (old: the weekly sweep) when a first
        run found it, and is dated from when the crawl first saw it when a later run did (young: every run for
        its first days, as a dated new article)."""
        plan = self._plan  # None: rescheduled outside a run (its own clock; what it finds is not a first crawl's)
        if now is None:
            now = plan.now if plan is not None else self.clock()
        known_published = known.published if known is not None else None
        changed_at = known.changed_at if known is not None else None
        changes = known.changes if known is not None and known.changes else 0
        if changed:
            changed_at = now
            changes += 1
        if published is None:
            published = known_published
            new = known is None or known.kind != ARTICLE
            if published is None and kind == ARTICLE and new and not (plan and plan.first):
                published = self.clock()  # undated, new since the first run: it appeared by now
        else:  # appeared at the latest when this crawl first saw it
            published = min(published, self.clock() if known_published is None else known_published)
        previous = known.interval if known is not None and known.kind == kind else None
        interval = self.policy.interval(kind, now, previous=previous, changed=changed,
                                        published=published, changed_at=changed_at)
        previous_due = known.next_due if known is not None and known.kind == kind else None
        slack = plan.run_slack if plan is not None else RUN_SLACK
        next_due = self.policy.next_due(url, kind, now, interval, previous_due, published=published, slack=slack)
        # in the sweep: old or undated, and not looked at every run anyway (a change found lately: interval 0)
        swept_at = now if kind == ARTICLE and interval > 0 and self.policy.in_sweep(now, published) else None
        self._rescheduled.add(url)
        self.state.schedule(url, {"kind": kind, "next_due": next_due, "interval": interval,
                                  "published": published, "changed_at": changed_at, "changes": changes,
                                  "swept_at": swept_at})


def url_kind(url: str, spider, requisite: bool = False) -> str:
    """The policy kind of a URL from its form: asset, archive (a dated listing), article, or front."""
    if requisite:
        return ASSET
    from crawler.site.urls import ARTICLE as PAGE_ARTICLE, SKIP, page_kind

    site = spider.site(url) if spider is not None and hasattr(spider, "site") else None
    if site is None:
        return FRONT
    if site.archive_re.match(urlsplit(url).path or "/"):
        return ARCHIVE
    kind = page_kind(url, site)
    if kind == PAGE_ARTICLE:
        return ARTICLE
    return ASSET if kind == SKIP else FRONT


class RevisitStartMiddleware:
    """Spider middleware: the spider's start requests, then one per URL of the run's plan (front pages, due ones)."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_start(self, start):
        from scrapy import Request

        from crawler.components import addon_of
        from crawler.incremental.addon import Incremental

        revisits = addon_of(self.crawler, Incremental).revisits
        revisits.plan  # read from the state now, before the first response is rescheduled  # noqa: B018
        seen = set()
        async for request in start:
            if isinstance(request, Request):
                seen.add(request.url)
            yield request
        spider = self.crawler.spider
        callback = getattr(spider, "parse_page", None)
        for url in revisits.start_urls():
            if url in seen:
                continue
            meta = {keys.META_PLANNED: True}  # judged by this plan: whichever worker takes it fetches it
            site = spider.site(url) if hasattr(spider, "site") else None
            if site is not None:
                meta[keys.META_SITE] = site.profile.name
            yield Request(url, callback=callback, meta=meta)
