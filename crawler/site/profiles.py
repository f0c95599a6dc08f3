"""Site profiles: what the generic code needs to know about each site of the Space Media Network, one spec per site.

A profile is data, not code: a site's URLs and feeds, and its markup rules (crawler/extract/rules.py
SiteRules) in dated versions, picked by a page's capture date (`SiteProfile.rules_at`), as fundus
keeps one PublisherSpec per publisher with parser versions valid until a date. Every site of the
network runs the same template, so the URL rules and the markup rules are shared; a sister site
is one more entry in PROFILES, and a site's redesign one more DatedRules in its `rules`.
Spiders are generated from this table (see spiders/network.py): one per site
(`scrapy crawl spacedaily`), and `scrapy crawl network` for all of them, or for those named
with `-a sites=spacewar,spacedaily` (a SiteSet: each URL judged by the profile of its host).

The network has about 20 sites; the ones below are those the public references we have name
(SITE.md, the cross-network blocks of the sample pages). Another is one line, e.g.

    SiteProfile("gpsdaily", "gpsdaily.com", "/gpsdaily.xml", "GPSDaily.com"),

(name, registered domain, site feed, title): the name becomes `scrapy crawl gpsdaily` and a
valid `-a sites=` entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

from crawler.extract.rules import RULES, DatedRules, SiteRules, rules_at


@dataclass(frozen=True)
class SiteProfile:
    name: str  # spider name, e.g. "spacewar"
    domain: str  # registered domain, e.g. "spacewar.com"
    feed_path: str  # site feed, e.g. "/spacewar.xml"
    title: str = ""
    # URL paths (after canonicalisation) that are articles
    article_patterns: tuple[str, ...] = (
        r"^/reports/[^/]+\.html$",
        r"^/afp/\d{12}\.[0-9a-z]{8}\.html$",
    )
    # URL paths that are RSS feeds
    feed_patterns: tuple[str, ...] = (r"^/[^/]+\.xml$", r"^/news/[^/]+-n\.xml$")
    # Dated archive pages of a section (followed unless FOLLOW_ARCHIVES is False)
    archive_patterns: tuple[str, ...] = (r"^/news/[^/]+-\d\d[a-z]+\.html$",)
    # Paths never worth following (search forms, scripts, static assets)
    skip_patterns: tuple[str, ...] = (
        r"^/cgi-bin/",
        r"\.(?:css|js|jpe?g|gif|png|ico|svg|pdf|zip|mp4|mp3)$",
    )
    # Query parameters that only track the visitor and are removed from URLs
    tracking_params: tuple[str, ...] = ("utm_*", "ref", "fbclid", "gclid", "mc_cid", "mc_eid")
    # The site's markup rules, by layout: the current one (valid_until None) and any from before a redesign
    rules: tuple[DatedRules, ...] = (DatedRules(RULES),)

    def rules_at(self, captured: date | datetime | str | None = None) -> SiteRules:
        """The markup rules for a page of this site captured then (None: now); see rules.rules_at."""
        return rules_at(self.rules, captured)

    @property
    def www_host(self) -> str:
        return f"www.{self.domain}"

    @property
    def hosts(self) -> tuple[str, str]:
        return (self.www_host, self.domain)

    @property
    def home_url(self) -> str:
        return f"https://{self.www_host}/"

    @property
    def feed_url(self) -> str:
        return f"https://{self.www_host}{self.feed_path}"

    def compiled(self) -> "CompiledProfile":
        return CompiledProfile(self)


@dataclass
class CompiledProfile:
    profile: SiteProfile
    article_re: re.Pattern = field(init=False)
    feed_re: re.Pattern = field(init=False)
    skip_re: re.Pattern = field(init=False)
    archive_re: re.Pattern = field(init=False)
    #: the links judged so far, by (origin, href): crawler/site/urls.py site_links
    followed: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        p = self.profile
        self.article_re = re.compile("|".join(p.article_patterns))
        self.feed_re = re.compile("|".join(p.feed_patterns))
        self.skip_re = re.compile("|".join(p.skip_patterns), re.I)
        self.archive_re = re.compile("|".join(p.archive_patterns))

    def site_of(self, url: str) -> "CompiledProfile | None":
        """This site when `url` is on its hosts (crawler/site/urls.py site_links asks it, or a SiteSet)."""
        return self if _host(url) in self.profile.hosts else None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


class SiteSet:
    """The sites one crawl covers (compiled), each URL judged by the profile of its host."""

    def __init__(self, profiles):
        self.sites: dict[str, CompiledProfile] = {p.name: p.compiled() for p in profiles}
        if not self.sites:
            raise ValueError("a crawl needs at least one site")
        self._by_host = {host: c for c in self.sites.values() for host in c.profile.hosts}
        #: the links judged so far, by (origin, href): crawler/site/urls.py site_links
        self.followed: dict = {}

    def site_of(self, url: str) -> CompiledProfile | None:
        return self._by_host.get(_host(url))

    @property
    def profiles(self) -> list[SiteProfile]:
        return [c.profile for c in self.sites.values()]

    @property
    def domains(self) -> list[str]:
        return [p.domain for p in self.profiles]

    def __len__(self) -> int:
        return len(self.sites)


def profile_of(url: str) -> SiteProfile | None:
    """The profile of the site `url` is on (by host), or None for a host of no known site."""
    return _BY_HOST.get(_host(url))


def choose(names: str | None) -> list[SiteProfile]:
    """The profiles of `-a sites=spacewar,spacedaily` (comma- or space-separated, in that order), or
    every profile when None or empty; an unknown name is a ValueError naming the known ones."""
    wanted = [n.strip().lower() for n in re.split(r"[,\s]+", names or "") if n.strip()]
    if not wanted:
        return list(PROFILES.values())
    unknown = [n for n in wanted if n not in PROFILES]
    if unknown:
        raise ValueError(f"no site profile named {', '.join(unknown)}; the sites are: {', '.join(PROFILES)}")
    return [PROFILES[n] for n in dict.fromkeys(wanted)]


PROFILES: dict[str, SiteProfile] = {
    p.name: p
    for p in (
        SiteProfile("spacewar", "spacewar.com", "/spacewar.xml", "SpaceWar.com"),
        SiteProfile("spacedaily", "spacedaily.com", "/spacedaily.xml", "SpaceDaily.com"),
        SiteProfile("energydaily", "energy-daily.com", "/energydaily.xml", "Energy-Daily.com"),
        SiteProfile("terradaily", "terradaily.com", "/terradaily.xml", "TerraDaily.com"),
        SiteProfile("marsdaily", "marsdaily.com", "/marsdaily.xml", "MarsDaily.com"),
    )
}

_BY_HOST: dict[str, SiteProfile] = {host: p for p in PROFILES.values() for host in p.hosts}
