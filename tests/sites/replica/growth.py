"""The replica growing by simulated day: new articles every day, editors' corrections, listings that close.

    site = GrowingSite(n_articles=200, days=5, per_day=5)     # day 0: the 200 articles of the archive
    with GrowingServer(site) as srv:                          # a ReplicaServer serving it
        for day in range(6):
            changes = srv.set_day(day)                        # publish day `day`'s articles, make its corrections
            ... `faketime -f +{day}d scrapy crawl spacewar -s STATE_PATH=...`

Time: day 0 is when the site is made (`start`, the real clock); day d is start + d days, the clock of
a crawl run under `faketime -f +{d}d`. The archive's articles are dated back from day 0 with the
replica's usual spacing (90-600 minutes apart: 3,000 articles cover about two years, so about half are
older than a year; `span_days` stretches the archive over that many days instead); the `per_day` articles of day d are dated within day d, before its crawl.
A page, once published, keeps its bytes until it is corrected (as the site's static pages do: an
article links to the three articles published before it, whatever was published since).

Listings: a section page shows its newest articles; its archive pages hold `per_page` articles each,
counted from the oldest, so a full archive page is closed (it changes no more, but for its "Newer
stories" link when the next page opens) and only the newest one fills up day by day.

Corrections (`set_day(d)` for d >= 1, each a new last paragraph, as ReplicaSite.edit_article): `young`
articles published in the 3 days before day d, and `old` articles older than a year. `corrections` lists
them all: (day, url, text). The expected items are the articles published by the day, in their
latest version (ReplicaSite.expected_items()).
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone

from tests.sites.replica.content import SECTIONS, Article, ReplicaSite, archive_letters
from tests.sites.replica.pages import Renderer
from tests.sites.replica.server import ReplicaServer


class GrowingSite(ReplicaSite):
    """A ReplicaSite (no faults, no fixture pages) of n_articles at day 0, plus per_day new articles on each
    of `days` days, with `young` and `old` corrections a day."""

    def __init__(self, n_articles: int = 200, days: int = 5, per_day: int = 5, *, young: int = 2, old: int = 1,
                 seed: int = 2024, start: datetime | None = None, span_days: float | None = None):
        super().__init__(n_articles + days * per_day, faults=False, seed=seed, fixtures_dir=None)
        self.days = days
        self.per_day = per_day
        self.n_young, self.n_old = young, old
        self.start = (start or datetime.now(timezone.utc)).replace(microsecond=0)
        self.span_days = span_days
        self.all_articles = list(self.articles)  # newest first; Article.index is its place here, for good
        self._redate()
        self.day = -1
        self.corrections: list[tuple[int, str, str]] = []
        self._rng = random.Random(f"corrections:{seed}")
        self.set_day(0)

    def _redate(self) -> None:
        grown = self.days * self.per_day
        base = self.all_articles[grown:]
        newest = base[0].when
        scale = 1.0
        if self.span_days and len(base) > 1:  # stretch (or shrink) the archive to cover span_days
            scale = self.span_days * 86400 / (newest - base[-1].when).total_seconds()
        for art in base:
            art.when = self.start - timedelta(hours=1) - (newest - art.when) * scale
        for d in range(1, self.days + 1):
            day_start = self.start + timedelta(days=d - 1)
            batch = self.all_articles[grown - d * self.per_day:grown - (d - 1) * self.per_day]  # newest first
            for k, art in enumerate(reversed(batch)):
                art.when = day_start + timedelta(hours=1) + timedelta(minutes=k * 20 * 60 // self.per_day)

    def clock(self, day: int) -> datetime:
        """The simulated time of day `day`'s crawl (its start)."""
        return self.start + timedelta(days=day)

    # --- navigation: what day `day` shows ----------------------------------------------------------
    def set_day(self, day: int) -> list[tuple[int, str, str]]:
        """Publish up to day `day` and make that day's corrections (once); returns them."""
        if not 0 <= day <= self.days:
            raise ValueError(f"day {day}: the site grows over days 0..{self.days}")
        hidden = (self.days - day) * self.per_day
        self.articles = self.all_articles[hidden:]
        self.by_path = {a.path: a for a in self.articles}
        self.sections = {s.page: [a for a in self.articles if a.section == s] for s in SECTIONS}
        self.archives = {}
        for s in SECTIONS:
            for page_no, path in enumerate(self.archive_paths(s), start=1):
                self.archives[path] = (s, page_no)
        made = []
        if day > self.day:
            for d in range(max(self.day + 1, 1), day + 1):
                made += self._correct(d)
        self.day = max(self.day, day)
        self.version += 1
        return made

    def _chunks(self, section) -> list[list[Article]]:
        """The section's archive pages, oldest first: per_page articles each, the last one filling up."""
        arts = list(reversed(self.sections[section.page]))  # oldest first
        return [arts[k:k + self.per_page] for k in range(0, len(arts), self.per_page)]

    def archive_paths(self, section) -> list[str]:
        out = []
        for k, chunk in enumerate(self._chunks(section)):
            out.append(f"/news/{section.topic}-{chunk[0].when:%y}{archive_letters(k, 3)}.html")
        return out[::-1]  # newest first, as ReplicaSite's

    def listing(self, section, page_no: int) -> list[Article]:
        if page_no == 0:
            return self.sections[section.page][:self.per_page]
        chunk = self._chunks(section)[::-1][page_no - 1]
        return chunk[::-1]  # newest first on the page

    def neighbour(self, a: Article, k: int) -> Article:
        j = a.index + k if a.index + k < len(self.all_articles) else a.index - k
        return self.all_articles[j]

    # --- corrections ------------------------------------------------------------------------------------
    def _correct(self, day: int) -> list[tuple[int, str, str]]:
        now = self.clock(day)
        young = [a for a in self.articles if now - timedelta(days=3) <= a.when < now]
        old = [a for a in self.articles if a.when < now - timedelta(days=365)]
        made = []
        for pool, n, what in ((young, self.n_young, "recent"), (old, self.n_old, "old")):
            for art in self._rng.sample(pool, min(n, len(pool))):
                # each correction worded for its story (a text repeated across pages would read as clutter)
                n = self._rng.randint(3, 90)
                text = (f"Editor's note, day {day}: the {what} report \u201c{art.title}\u201d first gave "
                        f"{n + self._rng.randint(1, 9)} where {n} was meant; the figure is corrected above.")
                self.edit_article(art.url, text)
                art.modified = now - timedelta(hours=2)
                made.append((day, art.url, text))
        self.corrections += made
        return made


class GrowingServer(ReplicaServer):
    """A ReplicaServer serving a GrowingSite; `set_day(d)` moves it to day d."""

    def __init__(self, site: GrowingSite, **kwargs):
        super().__init__(n_articles=12, faults=False, fixtures_dir=None, **kwargs)
        self.site = site
        self.renderer = Renderer(site)
        self.requests_by_host: Counter = Counter()  # requests answered, by Host header (also with record=False)
        #: (host, path, status, conditional) of every request answered since the last clear (also with record=False)
        self.requests_log: list[tuple[str, str, int, bool]] = []

    def _route(self, scheme: str, host: str, method: str, target: str, headers: dict):
        hostname = host.rsplit(":", 1)[0]
        self.requests_by_host[hostname] += 1
        reply = super()._route(scheme, host, method, target, headers)
        conditional = any(k.lower() in ("if-none-match", "if-modified-since") for k in headers)
        self.requests_log.append((hostname, target.split("#")[0].split("?")[0] or "/", reply.status, conditional))
        return reply

    def set_day(self, day: int) -> list[tuple[int, str, str]]:
        made = self.site.set_day(day)
        self.renderer = Renderer(self.site)  # its chunked listings follow the new archive pages
        return made
