"""The revisit policy: when a known URL of the crawl state falls due again (pure: no Scrapy, no I/O, no clock).

Every function takes the time as an argument (seconds since the epoch, the crawl's clock), so the
policy is tested with any clock and the crawl passes `time.time()` (which `faketime` moves).

Kinds of URL (a row's `kind` in the state, crawler/incremental/state.py):

| kind | what it is | when it falls due again (defaults, days; settings in brackets) |
| --- | --- | --- |
| `front` | home, section pages, feeds, any other listing | every run (`REVISIT_FRONT_DAYS` 0) |
| `archive` | a dated archive listing (`/news/<topic>-<yy><letters>.html`) | first seen: within 7 days, spread (`REVISIT_ARCHIVE_START_DAYS`); changed: every run (the newest archive page keeps changing); unchanged: the interval doubled (`REVISIT_ARCHIVE_GROWTH` 2), from 1 day up to 90 (`REVISIT_ARCHIVE_MAX_DAYS`) |
| `article` | an exported article | quiet age q = days since the later of its own date (`published`) and the last change found: every run while q < 3 (`REVISIT_ARTICLE_YOUNG_DAYS`), then q x 0.5 (`REVISIT_ARTICLE_FACTOR`), at least 1 and at most 7 days (`REVISIT_ARTICLE_MAX_DAYS`); a change found resets q to 0 |
| `asset` | a page requisite (image, stylesheet) | never (archived once) |

`REVISIT_EVERY_RUN = True` makes every known URL due at every run, requisites included (as before
the policy: the most thorough, and the dearest).

An interval of 0 means "every run": the row is due again as soon as it was fetched. The first time a
row gets an interval of more than a day (an old article or archive page met by a first, full crawl),
its due time is spread over that interval by a hash of its URL (the same for every run), so that the
thousands of rows a first run meets do not all fall due on the same later day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import datetime, timezone

DAY = 86400.0
FRONT, ARCHIVE, ARTICLE, ASSET = "front", "archive", "article", "asset"
KINDS = (FRONT, ARCHIVE, ARTICLE, ASSET)
#: kinds whose revisits count against REVISIT_BUDGET (the others are every run or never)
BUDGETED = (ARCHIVE, ARTICLE)
NEVER = float("inf")


@dataclass(frozen=True)
class RevisitPolicy:
    """The numbers of the policy (days); `from_settings` reads them from REVISIT_* settings."""

    front_days: float = 0.0
    archive_start_days: float = 7.0
    archive_min_days: float = 1.0
    archive_max_days: float = 90.0
    archive_growth: float = 2.0
    article_young_days: float = 3.0
    article_factor: float = 0.5
    article_min_days: float = 1.0
    article_max_days: float = 7.0
    every_run: bool = False

    SETTINGS = {
        "front_days": "REVISIT_FRONT_DAYS", "archive_start_days": "REVISIT_ARCHIVE_START_DAYS",
        "archive_min_days": "REVISIT_ARCHIVE_MIN_DAYS", "archive_max_days": "REVISIT_ARCHIVE_MAX_DAYS",
        "archive_growth": "REVISIT_ARCHIVE_GROWTH", "article_young_days": "REVISIT_ARTICLE_YOUNG_DAYS",
        "article_factor": "REVISIT_ARTICLE_FACTOR", "article_min_days": "REVISIT_ARTICLE_MIN_DAYS",
        "article_max_days": "REVISIT_ARTICLE_MAX_DAYS", "every_run": "REVISIT_EVERY_RUN",
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
        return cls(**values)

    # --- intervals -------------------------------------------------------------------------------
    def article_interval(self, now: float, published: float | None, changed_at: float | None) -> float:
        """Days until an article is revalidated: from its quiet age (its own date or its last change)."""
        known = [t for t in (published, changed_at) if t is not None]
        since = max(known) if known else now
        quiet = max(0.0, (now - since) / DAY)
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
        if self.every_run:
            return 0.0
        if kind == ARTICLE:
            return self.article_interval(now, published, changed_at)
        if kind == ARCHIVE:
            return self.archive_interval(previous, changed)
        if kind == ASSET:
            return NEVER
        return self.front_days

    def next_due(self, url: str, kind: str, now: float, interval: float, previous_due: float | None) -> float:
        """When a row fetched `now` falls due: now + interval, spread over the interval the first time."""
        if interval == NEVER:
            return NEVER
        if previous_due is None and interval > 1.0:
            return now + interval * DAY * spread(url)
        return now + interval * DAY


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
