"""The revisit policy: when a known URL of the crawl state falls due again (pure: no Scrapy, no I/O, no clock).

Every function takes the time as an argument (seconds since the epoch, the crawl's clock), so the
policy is tested with any clock and the crawl passes `time.time()` (which `faketime` moves).

Kinds of URL (a row's `kind` in the state, crawler/incremental/state.py):

| kind | what it is | when it falls due again (defaults, days; settings in brackets) |
| --- | --- | --- |
| `front` | home, section pages, feeds, any other listing | every run (`REVISIT_FRONT_DAYS` 0) |
| `static` | a page that is neither home page nor feed, links to no article or archive listing, and was the same at two fetches in a row (about, privacy, advertising) | backs off as an unchanged archive listing from 1 day: the interval doubled at each fetch that finds it the same, up to 90 days (`REVISIT_ARCHIVE_MAX_DAYS`); a change, or a link to an article, makes it `front` again |
| `archive` | a dated archive listing (`/news/<topic>-<yy><letters>.html`) | first seen: within 30 days, spread (`REVISIT_ARCHIVE_START_DAYS`); changed: every run (the newest archive page keeps changing); unchanged: the interval doubled (`REVISIT_ARCHIVE_GROWTH` 2), from 1 day up to 90 (`REVISIT_ARCHIVE_MAX_DAYS`) |
| `article` | an exported article | quiet age q = days since the later of its own date (`published`: the latest time it can have appeared, the end of its date or when the crawl first saw it) and the last change found: every run while q < 3 (`REVISIT_ARTICLE_YOUNG_DAYS`), then q x 2 (`REVISIT_ARTICLE_FACTOR`: the next look at three times the quiet age while nothing changes: 3, 9, 27, 81 days), at least 1 and at most 60 days (`REVISIT_ARTICLE_MAX_DAYS`); a change found resets q to 0. And the weekly sweep: an article older than 365 days (`REVISIT_ARTICLE_OLD_DAYS`; an undated one a first run found counts as old, one found later is dated from that run), or that will be within the next 7 days (`REVISIT_ARTICLE_SWEEP_DAYS`), is in the sweep: due no later than 7 days after its last look, and each run takes its exact share of the sweep ahead of that, least recently looked at first (`sweep_quota`) |
| `dead` | an article URL answered 404 or 410, or moved for good (301, 308) | after 1 day, then the interval doubled while it stays dead, up to 30 days (`REVISIT_DEAD_DAYS`): a page missing for a moment is asked again the next day, a dead link about once a month, not at every run that meets a link to it |
| `asset` | a page requisite (image, stylesheet) | never (archived once) |

`REVISIT_EVERY_RUN = True` makes every known URL due at every run, requisites included (as before the
policy: the most thorough, and the dearest). The rows it fetches keep the schedule above, so the runs
after one with the switch are as they would have been.

An interval of 0 means "every run": the row is due again as soon as it was fetched. Intervals count from
the run's start, less a slack (`run_slack`: half the time between this run and the one before, at most half a
day; half a day when unknown), so that an interval counts in runs whatever the seconds a run takes to start: a
daily run at a fixed hour takes what was given 3 days (or 3 days and a few seconds: an article's quiet age)
three runs later, never four. The first
time a row gets an interval of more than a day (an article or archive page met by a first, full crawl),
its due time is spread over that interval by a hash of its URL (the same for every run), so that the
thousands of rows a first run meets do not all fall due on the same later day.

The sweep is shared exactly, not by a hash: a row in the sweep (state column `swept_at`: the start of the run that
last looked at it) is due at the latest SWEEP days after that look, and a run takes, besides the sweep's rows that
are due, the least recently looked at ones ahead of time until it has taken `sweep_quota` = rows in the sweep
x days since the last run that swept / SWEEP, rounded up (but none when that is under half an article: a run
started again right after one takes none), of them. After a first run that met 1,500 old articles, each daily run
takes 215 (214.3 rounded up) and the seventh the rest; a run twice as far from the last one takes twice the share;
a run every 6 hours a quarter. The bound never rests on the quota: a row whose SWEEP days are over is due
(and a budget that binds takes due rows oldest-due first), so each row in the sweep is looked at again by the
first run that starts SWEEP days less the slack or more after its last look, whatever the runs skipped or
killed before: daily runs look within SWEEP runs.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, fields
from datetime import datetime, timezone

DAY = 86400.0
FRONT, STATIC, ARCHIVE, ARTICLE, DEAD, ASSET = "front", "static", "archive", "article", "dead", "asset"
KINDS = (FRONT, STATIC, ARCHIVE, ARTICLE, DEAD, ASSET)
#: kinds whose revisits count against REVISIT_BUDGET (the others are every run or never)
BUDGETED = (ARCHIVE, ARTICLE)
NEVER = float("inf")
#: a row is due up to this much before its interval is over (`run_slack`), so that a daily run starting a little
#: earlier than the one that gave the interval still takes it: intervals count in runs
RUN_SLACK = DAY / 2


@dataclass(frozen=True)
class RevisitPolicy:
    """The numbers of the policy (days); `from_settings` reads them from REVISIT_* settings."""

    front_days: float = 0.0
    archive_start_days: float = 30.0
    archive_min_days: float = 1.0
    archive_max_days: float = 90.0
    archive_growth: float = 2.0
    article_young_days: float = 3.0
    article_factor: float = 2.0
    article_min_days: float = 1.0
    article_max_days: float = 60.0
    article_old_days: float = 365.0
    article_sweep_days: float = 7.0
    dead_days: float = 30.0
    every_run: bool = False

    SETTINGS = {
        "front_days": "REVISIT_FRONT_DAYS", "archive_start_days": "REVISIT_ARCHIVE_START_DAYS",
        "archive_min_days": "REVISIT_ARCHIVE_MIN_DAYS", "archive_max_days": "REVISIT_ARCHIVE_MAX_DAYS",
        "archive_growth": "REVISIT_ARCHIVE_GROWTH", "article_young_days": "REVISIT_ARTICLE_YOUNG_DAYS",
        "article_factor": "REVISIT_ARTICLE_FACTOR", "article_min_days": "REVISIT_ARTICLE_MIN_DAYS",
        "article_max_days": "REVISIT_ARTICLE_MAX_DAYS", "article_old_days": "REVISIT_ARTICLE_OLD_DAYS",
        "article_sweep_days": "REVISIT_ARTICLE_SWEEP_DAYS", "dead_days": "REVISIT_DEAD_DAYS",
        "every_run": "REVISIT_EVERY_RUN",
    }

    @classmethod
    def from_settings(cls, get) -> "RevisitPolicy":
        """`get(name)` -> a value or None (Scrapy's settings.get); unset ones keep the defaults."""
        values = {}
        for f in fields(cls):
            raw = get(cls.SETTINGS[f.name])
            if f.name == "every_run":
                values[f.name] = str(raw).lower() in ("1", "true", "yes") if raw is not None else False
            elif raw is not None and raw != "":
                value = float(raw)
                if value < 0:
                    raise ValueError(f"{cls.SETTINGS[f.name]}={raw}: must be 0 or more")
                values[f.name] = value
        sweep = values.get("article_sweep_days", cls.article_sweep_days)
        if sweep != int(sweep):
            raise ValueError(f"REVISIT_ARTICLE_SWEEP_DAYS={sweep}: must be a whole number of days (0: no sweep)")
        return cls(**values)

    # --- intervals -------------------------------------------------------------------------------
    def article_interval(self, now: float, published: float | None, changed_at: float | None) -> float:
        """Days until an article is revalidated: from its quiet age (its own date or its last change). An undated
        article with no change found counts as old (at most MAX days; the sweep's SWEEP days when there is one):
        the run that finds it says when it appeared (`Revisits.reschedule`), so None is one a first run found."""
        known = [t for t in (published, changed_at) if t is not None]
        if not known:
            return self.article_max_days
        quiet = max(0.0, (now - max(known)) / DAY)
        if quiet < self.article_young_days:
            return 0.0
        return min(self.article_max_days, max(self.article_min_days, quiet * self.article_factor))

    def archive_interval(self, previous: float | None, changed: bool) -> float:
        """Days until an archive listing is fetched again (adaptive, as StormCrawler's AdaptiveScheduler)."""
        if previous is None:
            return self.archive_start_days
        if changed:
            return 0.0
        return min(self.archive_max_days, max(self.archive_min_days, previous * self.archive_growth))

    def interval(self, kind: str, now: float, *, previous: float | None = None, changed: bool = False,
                 published: float | None = None, changed_at: float | None = None) -> float:
        """Days until a row of `kind` fetched now falls due again. REVISIT_EVERY_RUN does not change it: that switch
        takes every known row in its run (crawler/incremental/revisit.py), and the rows keep the policy's schedule,
        so a run with it leaves the next runs without it as they would have been."""
        if kind == ARTICLE:
            return self.article_interval(now, published, changed_at)
        if kind == ARCHIVE:
            return self.archive_interval(previous, changed)
        if kind == STATIC:  # as an unchanged archive listing, from the minimum (1 day) up
            return self.archive_interval(previous or 0.0, changed=False)
        if kind == ASSET:
            return NEVER
        if kind == DEAD:
            return min(self.dead_days, 1.0 if not previous else previous * 2)
        return self.front_days

    def max_days(self, kind: str) -> float | None:
        """The longest interval the policy gives a row of `kind` (days; None: none, or the kind is due every run or
        never). A row given a longer one under an earlier, larger setting is due at its last fetch + this
        (`Revisits.plan`): lowering a maximum holds the rows already scheduled to it, not only those looked at since."""
        return {ARTICLE: self.article_max_days, ARCHIVE: self.archive_max_days, STATIC: self.archive_max_days,
                DEAD: self.dead_days}.get(kind)

    def in_sweep(self, now: float, published: float | None) -> bool:
        """Whether an article (its own date `published`, None: undated) looked at by the run of `now` is in the
        weekly sweep: older than OLD days, or will be before the sweep's SWEEP days from now are over (so that a
        correction made once it is a year old is found within SWEEP days of being made)."""
        if self.article_sweep_days <= 0:
            return False
        return published is None or published + self.article_old_days * DAY <= now + self.article_sweep_days * DAY

    def next_due(self, url: str, kind: str, now: float, interval: float, previous_due: float | None,
                 published: float | None = None, slack: float = RUN_SLACK) -> float:
        """When a row fetched by the run of `now` falls due: now + interval less `slack` (seconds, at most half the
        interval), spread over the interval the first time instead; an article in the sweep no later than SWEEP
        days from now (not spread: each run's share of the sweep does that); an article not in it yet no later
        than the day it turns old (`published`: its own date)."""
        if interval == NEVER:
            return NEVER
        if interval <= 0:
            return now
        swept = kind == ARTICLE and self.in_sweep(now, published)
        if swept:
            interval = min(interval, self.article_sweep_days)
        if previous_due is None and interval > 1.0 and not swept:
            due = now + interval * DAY * spread(url)
        else:
            due = now + interval * DAY - min(slack, interval * DAY / 2)
        if kind == ARTICLE and not swept and self.article_sweep_days > 0:
            due = min(due, published + self.article_old_days * DAY)  # then it joins the sweep
        return due

    @staticmethod
    def run_slack(elapsed: float | None) -> float:
        """How early (seconds) a row fetched by a run `elapsed` seconds after the one before falls due: half that
        time (the runs' own rhythm), at most RUN_SLACK (None, not known: RUN_SLACK)."""
        return RUN_SLACK if elapsed is None else max(0.0, min(RUN_SLACK, elapsed / 2))

    def sweep_quota(self, members: int, elapsed: float | None) -> int:
        """How many of the `members` rows of the sweep a run takes, due or not: its exact share of a SWEEP-day
        cycle for `elapsed` seconds since the last run that swept (None: none did, 0 taken ahead of time)."""
        if not members or elapsed is None or elapsed <= 0 or self.article_sweep_days <= 0 or self.every_run:
            return 0
        share = members * elapsed / (self.article_sweep_days * DAY)
        return 0 if share < 0.5 else min(members, math.ceil(share - 1e-9))


def spread(url: str) -> float:
    """A number in (0, 1] fixed by the URL: where in its first interval a row falls due."""
    h = int.from_bytes(hashlib.sha1(url.encode("utf-8")).digest()[:4], "big")
    return (h + 1) / 2 ** 32


def parse_date(value: str | None) -> float | None:
    """An item's `published` ("2025-11-26", or an ISO date-time) as epoch seconds; None if absent or unreadable."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = datetime.strptime(text[:10], "%Y-%m-%d")
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def latest_publication(value: str | None) -> float | None:
    """The latest time an article whose `published` is `value` can have appeared (epoch seconds; None if absent
    or unreadable): a date without a time of day (the site's datelines give none) stands for the whole day, so
    its end. Ages counted from it are never too old: an article published late in the day stays young its 3
    whole days."""
    t = parse_date(value)
    if t is None:
        return None
    return t + DAY if len(str(value).strip()) <= 10 else t
