"""The fields of the warcinfo record that opens every WARC file: software, crawl settings, robots policy, operator."""

from __future__ import annotations

import platform
import socket

import scrapy

from crawler import __version__


def _description(spidercls) -> str:
    """What the crawl starts from (the site profile's home page and feed)."""
    profile = getattr(spidercls, "profile", None)
    if profile is None:
        return f"Crawl by spider {spidercls.name}"
    return f"Crawl of {profile.home_url} and {profile.feed_url} (spider {spidercls.name})"


def warcinfo_fields(crawler) -> dict:
    s = crawler.settings
    robots = "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore"
    return {
        "software": f"spacewar-archiver/{__version__} (Scrapy/{scrapy.__version__}; "
                    f"Python/{platform.python_version()})",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": crawler.spidercls.name,
        "description": _description(crawler.spidercls),
        "hostname": socket.gethostname(),
        "operator": s.get("WARC_OPERATOR") or "",
        "http-header-user-agent": s.get("USER_AGENT") or "",
        "robots": robots,
        "crawl-settings": (
            f"CONCURRENT_REQUESTS={s.getint('CONCURRENT_REQUESTS')}; "
            f"CONCURRENT_REQUESTS_PER_DOMAIN={s.getint('CONCURRENT_REQUESTS_PER_DOMAIN')}; "
            f"DOWNLOAD_DELAY={s.getfloat('DOWNLOAD_DELAY')}; "
            f"AUTOTHROTTLE_ENABLED={s.getbool('AUTOTHROTTLE_ENABLED')}; "
            f"DEPTH_LIMIT={s.getint('DEPTH_LIMIT')}; "
            f"CLOSESPIDER_PAGECOUNT={s.getint('CLOSESPIDER_PAGECOUNT')}; "
            f"Accept-Encoding={s.getdict('DEFAULT_REQUEST_HEADERS').get('Accept-Encoding', '')}"
        ),
    }
