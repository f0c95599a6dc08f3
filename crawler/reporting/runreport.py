"""Extension that writes a run report (Markdown, and HTML with inline SVG bar charts) when the crawl ends.

The files go to REPORT_DIR (default: the parent of WARC_DIR, i.e. next to the outputs), named
<spider>-<UTC start time>-report.md and .html. They say when the run started and ended and why,
pages, articles, fallbacks, drops by reason, HTTP statuses, WARC files written, item outputs, and
articles by site, section, month and agency. Everything is inline: no scripts, no network.
"""

from __future__ import annotations

import html
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals

from crawler import keys
from crawler.reporting.counts import Counts, format_elapsed

logger = logging.getLogger(__name__)

#: Past this many months, the HTML chart shows years instead (the tables keep the months).
MAX_MONTH_BARS = 36


def section_of(item: dict) -> str:
    """The item's "section" if it has one, else the first path segment of its URL ("reports", "afp")."""
    if item.get("section"):
        return str(item["section"])
    path = urlsplit(item.get("url") or "").path.strip("/")
    return path.split("/")[0] if "/" in path else "(root)"


@dataclass
class ArticleCounts:
    """Scraped articles counted as they pass (item_scraped)."""

    by_site: Counter = field(default_factory=Counter)
    by_section: Counter = field(default_factory=Counter)
    by_month: Counter = field(default_factory=Counter)
    by_agency: Counter = field(default_factory=Counter)

    def add(self, item: dict) -> None:
        self.by_site[item.get("site") or "(none)"] += 1
        self.by_section[section_of(item)] += 1
        published = item.get("published") or ""
        self.by_month[published[:7] if len(published) >= 7 else "(no date)"] += 1
        self.by_agency[item.get("agency") or "(none)"] += 1


@dataclass
class RunSummary:
    """Everything a report shows: plain values, so the renderers are pure functions."""

    spider: str
    start_time: datetime | None
    finish_time: datetime | None
    finish_reason: str
    outcome: str  # "exit status N: <summary>" (crawler/reporting/outcome.py)
    totals: Counts
    drops_by_reason: dict[str, int]
    statuses: dict[str, int]
    warc_files: list[str]
    outputs: list[str]
    counts: ArticleCounts

    @property
    def elapsed(self) -> str:
        if not (self.start_time and self.finish_time):
            return "?"
        return format_elapsed((self.finish_time - self.start_time).total_seconds())

    @classmethod
    def from_stats(cls, spider: str, reason: str | None, stats: dict, warc_files: list[str], outputs: list[str],
                   counts: ArticleCounts) -> "RunSummary":
        dropped = keys.STAT_DROPPED.format(reason="")
        drops = {k[len(dropped):]: int(v) for k, v in stats.items() if k.startswith(dropped)}
        statuses = {k.rsplit("/", 1)[1]: int(v) for k, v in stats.items()
                    if k.startswith("downloader/response_status_count/")}
        return cls(
            spider=spider,
            start_time=stats.get("start_time"),
            finish_time=stats.get("finish_time") or datetime.now(timezone.utc),
            finish_reason=reason or stats.get("finish_reason") or "?",
            outcome=(f"exit status {stats[keys.STAT_EXIT_STATUS]}: {stats.get(keys.STAT_OUTCOME, '')}"
                     if keys.STAT_EXIT_STATUS in stats else "?"),
            totals=Counts.from_stats(stats),
            drops_by_reason=dict(sorted(drops.items(), key=lambda kv: (-kv[1], kv[0]))),
            statuses=dict(sorted(statuses.items())),
            warc_files=list(warc_files),
            outputs=list(outputs),
            counts=counts,
        )


def _when(dt: datetime | None) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if dt else "?"


def _by_count(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


def _facts(s: RunSummary) -> list[tuple[str, str]]:
    t = s.totals
    share = f" ({t.fallbacks / t.articles:.0%} of articles)" if t.articles else ""
    return [
        ("Spider", s.spider),
        ("Started", _when(s.start_time)),
        ("Finished", _when(s.finish_time)),
        ("Elapsed", s.elapsed),
        ("Finish reason", s.finish_reason),
        ("Outcome", s.outcome),
        ("Pages", str(t.pages)),
        ("Articles", str(t.articles)),
        ("Fallback extractions", f"{t.fallbacks}{share}"),
        ("Dropped items", str(t.dropped)),
        ("Errors", str(t.errors)),
    ]


def _md_table(head: tuple[str, str], rows) -> list[str]:
    rows = list(rows)
    if not rows:
        return ["(none)", ""]
    out = [f"| {head[0]} | {head[1]} |", "| --- | ---: |"]
    out += [f"| {str(k).replace('|', '/')} | {v} |" for k, v in rows]
    return out + [""]


def render_markdown(s: RunSummary) -> str:
    lines = [f"# Run report: {s.spider}, {_when(s.start_time)}", ""]
    lines += ["| | |", "| --- | --- |"] + [f"| {k} | {v} |" for k, v in _facts(s)] + [""]
    lines += ["## Drops by reason", ""] + _md_table(("reason", "items"), s.drops_by_reason.items())
    lines += ["## HTTP status codes", ""] + _md_table(("status", "responses"), s.statuses.items())
    lines += ["## Articles by month (published)", ""] + _md_table(("month", "articles"), sorted(s.counts.by_month.items()))
    lines += ["## Articles by section", ""] + _md_table(("section", "articles"), _by_count(s.counts.by_section))
    lines += ["## Articles by agency", ""] + _md_table(("agency", "articles"), _by_count(s.counts.by_agency))
    lines += ["## Articles by site", ""] + _md_table(("site", "articles"), _by_count(s.counts.by_site))
    lines += ["## WARC files written", ""] + ([f"- `{f}`" for f in s.warc_files] or ["(none)"]) + [""]
    lines += ["## Item outputs", ""] + ([f"- `{f}`" for f in s.outputs] or ["(none)"]) + [""]
    return "\n".join(lines)


def svg_bar_chart(rows: list[tuple[str, int]], title: str, bar_color: str = "#3b6ea5") -> str:
    """A horizontal bar chart as inline SVG: one labelled bar per row."""
    label_w, bar_w, row_h, top = 150, 360, 20, 26
    height = top + row_h * max(len(rows), 1) + 8
    biggest = max((v for _, v in rows), default=0) or 1
    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" '
             f'role="img" aria-label="{e(title)}">',
             f'<text x="0" y="16" font-weight="bold">{e(title)}</text>']
    if not rows:
        parts.append(f'<text x="0" y="{top + 14}">(no articles)</text>')
    for i, (label, value) in enumerate(rows):
        label = str(label)
        y = top + i * row_h
        width = max(1, round(bar_w * value / biggest))
        shown = label if len(label) <= 22 else label[:21] + "\u2026"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{e(shown)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{width}" height="{row_h - 6}" fill="{bar_color}">'
                     f'<title>{e(str(label))}: {value}</title></rect>'
                     f'<text x="{label_w + width + 4}" y="{y + 14}">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(head: tuple[str, str], rows) -> str:
    rows = list(rows)
    if not rows:
        return "<p>(none)</p>"
    e = html.escape
    body = "".join(f"<tr><td>{e(str(k))}</td><td class=n>{e(str(v))}</td></tr>" for k, v in rows)
    return f"<table><tr><th>{e(head[0])}</th><th>{e(head[1])}</th></tr>{body}</table>"


def render_html(s: RunSummary) -> str:
    e = html.escape
    facts = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _facts(s))
    dates = sorted(s.counts.by_month.items())
    if len(dates) > MAX_MONTH_BARS:  # years of archives: one bar per year keeps the chart readable
        by_year = Counter()
        for month, n in dates:
            by_year[month[:4] if month[:1].isdigit() else month] += n
        dates_chart = svg_bar_chart(sorted(by_year.items()), "Articles by year (published)")
    else:
        dates_chart = svg_bar_chart(dates, "Articles by month (published)")
    charts = [
        dates_chart,
        svg_bar_chart(_by_count(s.counts.by_section), "Articles by section", "#6a8f3a"),
        svg_bar_chart(_by_count(s.counts.by_agency), "Articles by agency", "#a5673b"),
    ]
    files = "".join(f"<li><code>{e(f)}</code></li>" for f in s.warc_files) or "<li>(none)</li>"
    outputs = "".join(f"<li><code>{e(f)}</code></li>" for f in s.outputs) or "<li>(none)</li>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Run report: {e(s.spider)}, {e(_when(s.start_time))}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
td.n {{ text-align: right; }}
svg {{ display: block; margin: 1em 0; font-size: 12px; }}
</style></head>
<body>
<h1>Run report: {e(s.spider)}</h1>
<table>{facts}</table>
<h2>Articles</h2>
{"".join(charts)}
<h2>Drops by reason</h2>
{_html_table(("reason", "items"), s.drops_by_reason.items())}
<h2>HTTP status codes</h2>
{_html_table(("status", "responses"), s.statuses.items())}
<h2>Articles by site</h2>
{_html_table(("site", "articles"), _by_count(s.counts.by_site))}
<h2>WARC files written</h2>
<ul>{files}</ul>
<h2>Item outputs</h2>
<ul>{outputs}</ul>
</body></html>
"""


class RunReport:
    def __init__(self, report_dir: Path, stats, warc_dir: Path | None = None, outputs: list[str] | None = None):
        self.report_dir = Path(report_dir)
        self.stats = stats
        self.warc_dir = Path(warc_dir) if warc_dir else None
        self.outputs = list(outputs or [])
        self.counts = ArticleCounts()
        self.spider_name: str | None = None
        self.reason: str | None = None
        self.paths: list[Path] = []

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        warc_dir = s.get("WARC_DIR") or None
        report_dir = s.get("REPORT_DIR") or (Path(warc_dir).parent if warc_dir else Path("output"))
        o = cls(report_dir, crawler.stats, warc_dir, [str(k) for k in s.getdict("FEEDS")])
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        # written once the engine has stopped: WARC files are closed and renamed by then
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def item_scraped(self, item, response=None, spider=None):
        self.counts.add(dict(item))

    def spider_closed(self, spider, reason):
        self.spider_name = spider.name
        self.reason = reason

    def warc_files(self) -> list[str]:
        files = self.stats.get_value(keys.STAT_FILES)
        if files:
            return list(files)
        if self.warc_dir and self.warc_dir.is_dir():
            return sorted(p.name for p in self.warc_dir.iterdir() if ".warc" in p.name
                          and not p.name.endswith((".cdxj", ".open")))
        return []

    def summary(self) -> RunSummary:
        return RunSummary.from_stats(self.spider_name or "crawl", self.reason, self.stats.get_stats(),
                                     self.warc_files(), self.outputs, self.counts)

    def engine_stopped(self):
        if self.spider_name is None:  # the spider never ran
            return
        self.write(self.summary())

    def write(self, summary: RunSummary) -> list[Path]:
        stamp = (summary.start_time or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        base = self.report_dir / f"{summary.spider}-{stamp}-report"
        self.report_dir.mkdir(parents=True, exist_ok=True)
        self.paths = []
        for suffix, text in ((".md", render_markdown(summary)), (".html", render_html(summary))):
            path = base.with_name(base.name + suffix)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, "utf-8")
            tmp.replace(path)
            self.paths.append(path)
        logger.info("run report: %s", ", ".join(map(str, self.paths)))
        return self.paths
