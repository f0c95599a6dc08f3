"""Site profiles: what the generic code needs to know about each site of the Space Media Network.

A profile is data, not code. Every site of the network runs the same template, so the
URL rules and the article markers are shared; a sister site is one more entry in
PROFILES. Spiders are generated from this table (see spiders/network.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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

    def __post_init__(self) -> None:
        p = self.profile
        self.article_re = re.compile("|".join(p.article_patterns))
        self.feed_re = re.compile("|".join(p.feed_patterns))
        self.skip_re = re.compile("|".join(p.skip_patterns), re.I)
        self.archive_re = re.compile("|".join(p.archive_patterns))


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
