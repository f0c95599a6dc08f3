"""What the operator's views count, read once from the crawl's stats: pages, responses, articles, fallbacks, drops, errors."""

from __future__ import annotations

from dataclasses import dataclass

from crawler import keys


@dataclass(frozen=True)
class Counts:
    """The counts a progress line and the run report show, from the crawl's stats.

    `pages` is the one "pages" figure of the operator's views: spider pages answered below 400 and
    archived (stat warc/pages_archived), or replayed from WARC files with -a from_warc, as the
    outcome line counts them. `responses` is every HTTP answer received (robots.txt, images,
    stylesheets, redirects and errors included)."""

    pages: int = 0
    articles: int = 0
    fallbacks: int = 0
    dropped: int = 0
    errors: int = 0
    responses: int = 0

    @classmethod
    def from_stats(cls, stats: dict) -> "Counts":
        def get(key):
            return int(stats.get(key) or 0)

        return cls(
            pages=get(keys.STAT_PAGES_ARCHIVED) or get(keys.STAT_REPLAY_PAGES),
            articles=get("item_scraped_count"),
            fallbacks=get(keys.STAT_EXTRACTION.format(method="fallback")),
            dropped=get("item_dropped_count"),
            errors=get("downloader/exception_count") + get("log_count/ERROR"),
            responses=get("response_received_count"),
        )


def format_elapsed(seconds: float) -> str:
    """0:12:34 (hours grow past 24: 27:00:00)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
