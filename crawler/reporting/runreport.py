"""Extension that writes a run report (Markdown, and HTML with inline SVG bar charts) when the crawl ends.

The files go to REPORT_DIR (default: the parent of WARC_DIR, i.e. next to the outputs), named
<spider>-<UTC start time>-report.md and .html. They say when the run started and ended and why,
pages, articles, fallbacks, drops by reason, HTTP statuses, what needs an operator's look (error
URLs by kind: HTTP statuses of final answers, downloads that got no answer, truncated responses;
the retries with each URL's answers in turn; requests refused by robots.txt or the address policy),
page requisites, the WACZ with its validation result, WARC files written, item outputs, and
articles by site, section, month and agency. Everything is inline: no scripts, no network.

The URLs come from Scrapy's signals (every answer as downloaded, before retries and redirects;
every final answer), so the report needs nothing from the capture; at most PROBLEM_URLS_SHOWN URLs
per kind are kept and shown, with the full count.
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
from crawler.reporting.outcome import incremental_counts

logger = logging.getLogger(__name__)

#: Past this many months, the HTML chart shows years instead (the tables keep the months).
MAX_MONTH_BARS = 36
#: URLs kept and shown per kind of problem (the count is always complete).
PROBLEM_URLS_SHOWN = 25


@dataclass
class Problem:
    """One kind of problem: how many, and the first URLs (with a detail each)."""

    count: int = 0
    urls: list[tuple[str, str]] = field(default_factory=list)

    def add(self, url: str, detail: str = "") -> None:
        self.count += 1
        if len(self.urls) < PROBLEM_URLS_SHOWN:
            self.urls.append((url, detail))


class ProblemLog:
    """What went wrong, URL by URL, from Scrapy's signals (see the module docstring)."""

    def __init__(self):
        self.kinds: dict[str, Problem] = {}
        self.retried: dict[str, list[str]] = {}  # url -> its answers in turn ("503", "200", "no answer")
        self._answered: set[int] = set()  # id() of requests in the downloader that got an answer

    def _kind(self, kind: str) -> Problem:
        return self.kinds.setdefault(kind, Problem())

    @staticmethod
    def _robots(request) -> bool:
        return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")

    def _answer(self, request, answer: str) -> None:
        """Follow a URL's answers in turn once one of them was a server error, 429 or no answer."""
        url = request.url
        if url in self.retried:
            self.retried[url].append(answer)
        elif (answer == "no answer" or answer[:1] == "5" or answer == "429" or request.meta.get("retry_times")) \
                and len(self.retried) < PROBLEM_URLS_SHOWN * 4:
            self.retried[url] = [answer]

    def response_downloaded(self, response, request, spider=None):
        """Every answer as the server gave it (before retries and redirects)."""
        self._answered.add(id(request))
        if "dataloss" in response.flags:
            self._kind("truncated response (archived with WARC-Truncated, no item)").add(
                response.url, f"HTTP {response.status}, {len(response.body)} bytes arrived")
        self._answer(request, str(response.status))

    def request_left_downloader(self, request, spider=None):
        """A download ended: one that got no response failed (timeout, refused connection, ...)."""
        if id(request) in self._answered:
            self._answered.discard(id(request))
        else:
            self._answer(request, "no answer")

    def response_received(self, response, request, spider=None):
        """The final answer to a request (after retries; a redirect is its own request)."""
        if response.status >= 400 and not self._robots(request):
            kind = "requisite" if request.meta.get(keys.META_REQUISITE) else "page"
            self._kind(f"HTTP {response.status} ({kind})").add(response.url)

    def finish(self) -> None:
        """URLs whose last attempt got no answer are download failures; the others with several
        answers were retried."""
        kind = "no answer (the download failed, after any retries)"
        if kind not in self.kinds:
            for url, answers in self.retried.items():
                if answers[-1] == "no answer":
                    self._kind(kind).add(url, " -> ".join(answers))
        self.retried = {url: answers for url, answers in self.retried.items() if len(answers) > 1}


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
    problems: dict[str, Problem] = field(default_factory=dict)
    retried: dict[str, list[str]] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def elapsed(self) -> str:
        if not (self.start_time and self.finish_time):
            return "?"
        return format_elapsed((self.finish_time - self.start_time).total_seconds())

    @classmethod
    def from_stats(cls, spider: str, reason: str | None, stats: dict, warc_files: list[str], outputs: list[str],
                   counts: ArticleCounts, problems: ProblemLog | None = None) -> "RunSummary":
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
            problems=dict(sorted((problems.kinds if problems else {}).items())),
            retried=dict(problems.retried) if problems else {},
            stats=dict(stats),
        )

    def count(self, key: str) -> int:
        return int(self.stats.get(key) or 0)

    def counted(self, prefix: str) -> dict[str, int]:
        """{rest of the key: value} of the stats starting with `prefix`."""
        return {k[len(prefix):]: int(v) for k, v in self.stats.items() if k.startswith(prefix) and
                isinstance(v, (int, float))}

    def errors(self) -> str:
        """The Errors count (crawler/reporting/counts.py) and what it is made of."""
        t = self.totals
        exceptions = self.counted("downloader/exception_type_count/")
        parts = [f"{n} {name.rsplit('.', 1)[-1]}" for name, n in sorted(exceptions.items())]
        refused = self.count("robotstxt/forbidden") + sum(self.counted(keys.prefix(keys.STAT_REFUSED)).values())
        words = [f"download exceptions: {', '.join(parts) or 'none'}"]
        if refused:
            words.append(f"of them {refused} refused before any download (robots.txt, address policy)")
        words.append(f"ERROR log lines: {self.count('log_count/ERROR')}")
        http = self.counted("downloader/response_status_count/")
        bad = {k: v for k, v in http.items() if k[:1] in "45"}
        if bad:
            words.append("HTTP answers " + ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) +
                         " (see Problems)")
        return f"{t.errors} ({'; '.join(words)})"

    def wacz(self) -> str:
        fact = keys.STAT_WACZ.format
        if self.stats.get(fact(fact="failed")):
            return "packaging FAILED (see the log)"
        path = self.stats.get(fact(fact="path"))
        if not path:
            return "not written (WACZ off)"
        valid = self.stats.get(fact(fact="valid"))
        verdict = "valid (wacz validate)" if valid is True else "NOT VALID (wacz validate)" if valid is False \
            else "not validated (WACZ_VALIDATE off)"
        earlier = self.count(fact(fact="earlier_warc_files"))
        return (f"{path}: {verdict}; {self.count(fact(fact='pages'))} pages, {self.count(fact(fact='warc_files'))} "
                f"WARC files" + (f" ({earlier} of earlier runs, holding the originals of revisits)" if earlier else ""))

    def requisites(self) -> str:
        statuses = self.counted(keys.prefix(keys.STAT_REQUISITES_STATUS))
        requested = self.count(keys.STAT_REQUISITES_REQUESTED)
        if not requested and not statuses:
            return "none"
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        off = self.count(keys.STAT_REQUISITES_OFF_NETWORK)
        return f"{requested} requested, archived by status {shown or 'none'}" + \
            (f"; {off} off the network, not fetched" if off else "")


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
        ("Errors", s.errors()),
        ("Truncated responses", str(s.count(keys.STAT_TRUNCATED))),
        ("Retries", f"{s.count('retry/count')}" + (" (" + ", ".join(
            f"{k}: {v}" for k, v in sorted(s.counted("retry/reason_count/").items())) + ")"
            if s.count("retry/count") else "")),
        ("Page requisites", s.requisites()),
        ("WACZ", s.wacz()),
        # incremental runs (STATE_PATH): what was new, changed, revalidated, left due (crawler/reporting/outcome.py)
        ("Incremental", incremental_counts(s.stats) or "off (no STATE_PATH)"),
    ]


def _md_table(head: tuple[str, str], rows) -> list[str]:
    rows = list(rows)
    if not rows:
        return ["(none)", ""]
    out = [f"| {head[0]} | {head[1]} |", "| --- | ---: |"]
    out += [f"| {str(k).replace('|', '/')} | {v} |" for k, v in rows]
    return out + [""]


def _problem_rows(s: RunSummary):
    """(kind, count, [(url, detail)]) of each problem, then the retries."""
    rows = [(kind, p.count, p.urls) for kind, p in s.problems.items()]
    if s.retried:
        rows.append(("retried (each answer in turn)", len(s.retried),
                     [(url, " -> ".join(answers)) for url, answers in list(s.retried.items())[:PROBLEM_URLS_SHOWN]]))
    return rows


def _md(text: str) -> str:
    return str(text).replace("|", "/")


def render_markdown(s: RunSummary) -> str:
    lines = [f"# Run report: {s.spider}, {_when(s.start_time)}", ""]
    lines += ["| | |", "| --- | --- |"] + [f"| {k} | {_md(v)} |" for k, v in _facts(s)] + [""]
    lines += ["## Problems by kind", ""]
    rows = _problem_rows(s)
    if not rows:
        lines += ["(none)", ""]
    for kind, count, urls in rows:
        lines += [f"### {kind}: {count}", ""]
        lines += [f"- `{url}`" + (f" ({_md(detail)})" if detail else "") for url, detail in urls]
        if count > len(urls):
            lines.append(f"- ... and {count - len(urls)} more")
        lines.append("")
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
    problems = "".join(
        f"<h3>{e(kind)}: {count}</h3><ul>" + "".join(
            f"<li><code>{e(url)}</code>" + (f" ({e(detail)})" if detail else "") + "</li>" for url, detail in urls)
        + (f"<li>... and {count - len(urls)} more</li>" if count > len(urls) else "") + "</ul>"
        for kind, count, urls in _problem_rows(s)) or "<p>(none)</p>"
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
<h2>Problems by kind</h2>
{problems}
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
        self.problems = ProblemLog()
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
        crawler.signals.connect(o.problems.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(o.problems.response_received, signal=signals.response_received)
        crawler.signals.connect(o.problems.request_left_downloader, signal=signals.request_left_downloader)
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
        self.problems.finish()
        return RunSummary.from_stats(self.spider_name or "crawl", self.reason, self.stats.get_stats(),
                                     self.warc_files(), self.outputs, self.counts, self.problems)

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
