"""The fields of the warcinfo record that opens every WARC file: software, crawl settings, robots policy, operator.

`crawl-settings` states the politeness the site saw: Scrapy's per-process settings, or, when the
workers share one slot per host in Redis (crawler/network/politeness.py), that shared policy
instead of the per-process values it opens wide.
"""

from __future__ import annotations

import platform
import socket

import scrapy

from crawler import __version__
from crawler.components import addon_of


def _description(spidercls, site=None) -> str:
    """What the crawl starts from (the site profile's home page and feed)."""
    profile = site or getattr(spidercls, "profile", None)
    if profile is None:
        return f"Crawl by spider {spidercls.name}"
    return f"Crawl of {profile.home_url} and {profile.feed_url} (spider {spidercls.name})"


def _politeness(crawler) -> str:
    from crawler.network.politeness import HostPoliteness

    s = crawler.settings
    polite = addon_of(crawler, HostPoliteness)
    key = s.get("POLITE_KEY") or "host"
    if polite is not None and polite.policy is not None:
        return f"politeness shared by the workers in Redis, per {key}: {polite.policy.describe()}"
    return (f"CONCURRENT_REQUESTS_PER_DOMAIN={s.getint('CONCURRENT_REQUESTS_PER_DOMAIN')}; "
            f"DOWNLOAD_DELAY={s.getfloat('DOWNLOAD_DELAY')}; "
            f"AUTOTHROTTLE_ENABLED={s.getbool('AUTOTHROTTLE_ENABLED')}"
            + ("; POLITE_KEY=ip" if key == "ip" else ""))


def warcinfo_fields(crawler, site=None) -> dict:
    """The fields, for the files of the crawl or (the network job's per-site files) of `site`, a SiteProfile."""
    s = crawler.settings
    robots = "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore"
    return {
        "software": f"spacewar-archiver/{__version__} (Scrapy/{scrapy.__version__}; "
                    f"Python/{platform.python_version()})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": crawler.spidercls.name if site is None else f"{crawler.spidercls.name}/{site.name}",
        "description": _description(crawler.spidercls, site),
        "hostname": socket.gethostname(),
        "operator": s.get("WARC_OPERATOR") or "",
        "http-header-user-agent": s.get("USER_AGENT") or "",
        "robots": robots,
        "crawl-settings": (
            f"CONCURRENT_REQUESTS={s.getint('CONCURRENT_REQUESTS')}; "
            f"{_politeness(crawler)}; "
            f"DEPTH_LIMIT={s.getint('DEPTH_LIMIT')}; "
            f"CLOSESPIDER_PAGECOUNT={s.getint('CLOSESPIDER_PAGECOUNT')}; "
            f"Accept-Encoding={s.getdict('DEFAULT_REQUEST_HEADERS').get('Accept-Encoding', '')}"
        ),
    }
