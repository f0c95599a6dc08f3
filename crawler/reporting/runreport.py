"""Extension that writes a run report (Markdown, and HTML with inline SVG bar charts) when the crawl ends.

The files go to REPORT_DIR (default: the parent of WARC_DIR, i.e. next to the outputs), named
<spider>-<UTC start time>-report.md and .html. They say when the run started and ended and why,
The first screen tells the run's story: the outcome, highlighted (green, amber for a stop, red for
a failure); pages archived (the one "pages" figure, as the outcome line counts them; the responses
received are named as such below), articles exported, and for an incremental run new, changed and
unchanged articles (then INCREMENTAL_ROWS: revalidated, ...); the errors; then what needs an
operator's look, URL by URL (HTTP statuses of final answers, downloads that got no answer,
truncated responses, requests refused by robots.txt or the address policy, the retries with each
URL's answers in turn). Then the details (times, responses, requisites, drops, retries, the WACZ
with its validation result), HTTP statuses, articles by month, section, agency and site, the WARC
files written and the item outputs (their paths as written). Everything is inline: no scripts, no
network.

REPORT_DIR defaults to the parent of WARC_DIR (output/ beside output/warc/), or WARC_DIR itself
when its parent is the directory the crawl runs in (`-s WARC_DIR=warc/` keeps the reports out of
the project's root). A worker of a distributed crawl puts its WORKER_ID in the file name, and a
report never replaces another: a second run started in the same second gets "-2".

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
from crawler.network.signals import request_refused
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

    def request_refused(self, request, reason, spider=None):
        """A request the network policy refused before any download (crawler/network/signals.py)."""
        self._kind(f"refused by {reason}").add(request.url)

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
        # an error answer whose retry this process never fetched (a shared crawl's queue gave it to
        # another worker, or the crawl stopped) is shown as such, so the HTTP counts add up
        self.retried = {url: answers if len(answers) > 1 else answers + ["retry not fetched here"]
                        for url, answers in self.retried.items()
                        if len(answers) > 1 or answers[-1] not in ("no answer",) and answers[-1][:1] in "45"}


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
    worker: str = ""  # WORKER_ID of a distributed crawl

    @property
    def elapsed(self) -> str:
        if not (self.start_time and self.finish_time):
            return "?"
        return format_elapsed((self.finish_time - self.start_time).total_seconds())

    @classmethod
    def from_stats(cls, spider: str, reason: str | None, stats: dict, warc_files: list[str], outputs: list[str],
                   counts: ArticleCounts, problems: ProblemLog | None = None, worker: str = "") -> "RunSummary":
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
            worker=worker,
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
            words.append(f"of them {refused} refused before any download (robots.txt, address policy; "
                         f"listed under Needs a look)")
        words.append(f"ERROR log lines: {self.count('log_count/ERROR')}")
        http = self.counted("downloader/response_status_count/")
        bad = {k: v for k, v in http.items() if k[:1] in "45"}
        if bad:
            words.append("HTTP answers " + ", ".join(f"{k}: {v}" for k, v in sorted(bad.items())) +
                         " (see Needs a look)")
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


#: What "pages" means wherever the operator's views say it (the outcome line, the progress lines, here).
PAGES_MEANING = ("spider pages (articles, listings, feeds) answered below 400 and archived as a response or "
                 "revisit record; the figure of the outcome line")
REPLAYED_MEANING = "spider pages answered below 400 from the WARC files (-a from_warc); nothing was fetched"
RESPONSES_MEANING = "every HTTP answer received: pages, robots.txt, images and stylesheets, redirects, errors"
#: Rows of an incremental run after new/changed/unchanged, each shown when its stat is in the crawl's
#: stats (a revisit policy's "revalidated" and "left due" figures belong here).
INCREMENTAL_ROWS = [
    ("Revalidated", keys.STAT_NOT_MODIFIED, "known articles asked with validators and answered 304: archived as "
                                            "revisits, not exported again"),
    ("Known, not requested", keys.STAT_SKIPPED_KNOWN, "known articles left alone (STATE_REVALIDATE off)"),
    ("Not due yet", keys.STAT_REVISIT.format(event="not_due"), "known pages the revisit policy leaves for a later run "
                                                               "(docs/scheduling.md)"),
    ("Left due", keys.STAT_REVISIT.format(event="left_due"), "due pages over REVISIT_BUDGET: first in line next run"),
]


def verdict(s: RunSummary) -> str:
    """"ok", "stopped", "failed" or "unknown" (no outcome extension): the outcome's colour."""
    status = s.stats.get(keys.STAT_EXIT_STATUS)
    if status is None:
        return "unknown"
    if status == 0:
        return "ok"
    return "stopped" if status == 75 else "failed"


VERDICT_WORDS = {"ok": "\u2714 OK", "stopped": "\u23f8 STOPPED EARLY", "failed": "\u2716 FAILED",
                 "unknown": "NO OUTCOME RECORDED"}


def incremental(s: RunSummary) -> list[tuple[str, str]]:
    """The incremental rows (new, changed, unchanged, then INCREMENTAL_ROWS present), or [] for a full crawl."""
    found = {v: s.stats.get(keys.STAT_INCREMENTAL.format(verdict=v)) for v in ("new", "changed", "unchanged")}
    if all(value is None for value in found.values()):
        return []
    rows = [("Since the last run", f"{int(found['new'] or 0)} new, {int(found['changed'] or 0)} changed, "
                                   f"{int(found['unchanged'] or 0)} unchanged articles")]
    rows += [(label, f"{s.count(key)} ({meaning})") for label, key, meaning in INCREMENTAL_ROWS if key in s.stats]
    return rows


def headline(s: RunSummary) -> list[tuple[str, str]]:
    """The run's story for the first screen, after the outcome: pages, articles, what changed, errors."""
    t = s.totals
    replayed = not s.stats.get(keys.STAT_PAGES_ARCHIVED) and s.stats.get(keys.STAT_REPLAY_PAGES)
    share = f" ({t.fallbacks} by fallback extraction, {t.fallbacks / t.articles:.0%})" if t.articles else ""
    nothing_new = " (nothing new or changed)" if not t.articles and incremental(s) else ""
    rows = [("Pages replayed" if replayed else "Pages archived",
             f"{t.pages} ({REPLAYED_MEANING if replayed else PAGES_MEANING})"),
            ("Articles exported", f"{t.articles}{share}{nothing_new}")]
    rows += incremental(s)
    if keys.STAT_SHARED_PAGES_ARCHIVED in s.stats:
        rows.append(("Shared crawl", f"{s.count(keys.STAT_SHARED_PAGES_ARCHIVED)} (pages archived by all the "
                                     f"workers while this one ran, this one's included)"))
    rows.append(("Errors", s.errors()))
    problems = _problem_rows(s)
    rows.append(("Needs a look", "; ".join(f"{kind}: {count}" for kind, count, _ in problems) + " (URLs below)"
                 if problems else "nothing"))
    return rows


def _dropped(s: RunSummary) -> str:
    t = s.totals
    if not t.dropped:
        return "0"
    reasons = dict(s.drops_by_reason)
    rest = t.dropped - sum(reasons.values())
    if rest > 0:
        reasons["(no reason counted)"] = rest
    return f"{t.dropped} (" + ", ".join(f"{reason}: {n}" for reason, n in reasons.items()) + ")"


def _facts(s: RunSummary) -> list[tuple[str, str]]:
    """The details, after the first screen."""
    return [
        ("Spider", s.spider + (f" (worker {s.worker})" if s.worker else "")),
        ("Started", _when(s.start_time)),
        ("Finished", _when(s.finish_time)),
        ("Elapsed", s.elapsed),
        ("Finish reason", s.finish_reason),
        ("Responses received", f"{s.totals.responses} ({RESPONSES_MEANING})"),
        ("Page requisites", s.requisites()),
        ("Dropped items", _dropped(s)),
        ("Truncated responses", str(s.count(keys.STAT_TRUNCATED))),
        ("Retries", f"{s.count('retry/count')}" + (" (" + ", ".join(
            f"{k}: {v}" for k, v in sorted(s.counted("retry/reason_count/").items())) + ")"
            if s.count("retry/count") else "")),
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


def _title(s: RunSummary) -> str:
    return f"Run report: {s.spider}" + (f", worker {s.worker}" if s.worker else "") + f", {_when(s.start_time)}"


def render_markdown(s: RunSummary) -> str:
    lines = [f"# {_title(s)}", "", f"> **{VERDICT_WORDS[verdict(s)]}: {_md(s.outcome)}**", ""]
    lines += ["| This run | |", "| --- | --- |"] + [f"| {k} | {_md(v)} |" for k, v in headline(s)] + [""]
    lines += ["## Needs a look", ""]
    rows = _problem_rows(s)
    if not rows:
        lines += ["Nothing: no error answers, failed downloads, refusals or retries.", ""]
    for kind, count, urls in rows:
        lines += [f"### {kind}: {count}", ""]
        lines += [f"- `{url}`" + (f" ({_md(detail)})" if detail else "") for url, detail in urls]
        if count > len(urls):
            lines.append(f"- ... and {count - len(urls)} more")
        lines.append("")
    lines += ["## Details", "", "| | |", "| --- | --- |"] + [f"| {k} | {_md(v)} |" for k, v in _facts(s)] + [""]
    lines += ["## Drops by reason", ""] + _md_table(("reason", "items"), s.drops_by_reason.items())
    lines += ["## HTTP status codes", ""] + _md_table(("status", "responses"), s.statuses.items())
    lines += ["## Articles by month (published)", ""] + _md_table(("month", "articles"), sorted(s.counts.by_month.items()))
    lines += ["## Articles by section", ""] + _md_table(("section", "articles"), _by_count(s.counts.by_section))
    lines += ["## Articles by agency", ""] + _md_table(("agency", "articles"), _by_count(s.counts.by_agency))
    lines += ["## Articles by site", ""] + _md_table(("site", "articles"), _by_count(s.counts.by_site))
    lines += ["## WARC files written", ""] + ([f"- `{f}`" for f in s.warc_files] or ["(none)"]) + [""]
    lines += ["## Item outputs", ""] + ([f"- `{path}`" + (f" ({rest}" if rest else "") for path, _, rest in
                                         (f.partition(" (") for f in s.outputs)] or ["(none)"]) + [""]
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


def _html_rows(rows) -> str:
    """Label/value rows; a value "N (meaning)" shows N in bold and its meaning in grey."""
    e = html.escape
    out = []
    for label, value in rows:
        value = str(value)
        number, sep, rest = value.partition(" (")
        shown = (f"<b>{e(number)}</b> <span class=m>({e(rest)}</span>" if sep and number.replace(",", "").isdigit()
                 else e(value))
        out.append(f"<tr><th>{e(label)}</th><td>{shown}</td></tr>")
    return "".join(out)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; max-width: 64em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 .5em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1em; margin: .8em 0 .2em; }
.outcome { padding: .7em 1em; border-radius: 6px; font-size: 1.15em; margin-bottom: 1em; border-left: 8px solid; }
.outcome b { margin-right: .6em; }
.ok { background: #e6f4ea; border-color: #2e7d32; }
.stopped { background: #fff4e0; border-color: #e08a00; }
.failed { background: #fde8e8; border-color: #c62828; }
.unknown { background: #f2f2f2; border-color: #888; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; white-space: nowrap; }
table.story td { font-size: 1.05em; }
td.n { text-align: right; }
.m { color: #666; font-size: .9em; }
ul.urls { margin: .2em 0 .6em; padding-left: 1.4em; }
ul.urls li { font-size: .9em; }
.nothing { color: #2e7d32; }
svg { display: block; margin: 1em 0; font-size: 12px; }
"""


def render_html(s: RunSummary) -> str:
    e = html.escape
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
        f"<h3>{e(kind)}: {count}</h3><ul class=urls>" + "".join(
            f"<li><code>{e(url)}</code>" + (f" <span class=m>({e(detail)})</span>" if detail else "") + "</li>"
            for url, detail in urls)
        + (f"<li>... and {count - len(urls)} more</li>" if count > len(urls) else "") + "</ul>"
        for kind, count, urls in _problem_rows(s)) or \
        "<p class=nothing>Nothing: no error answers, failed downloads, refusals or retries.</p>"
    files = "".join(f"<li><code>{e(f)}</code></li>" for f in s.warc_files) or "<li>(none)</li>"
    outputs = "".join(f"<li><code>{e(path)}</code>" + (f" ({e(rest)}" if rest else "") + "</li>"
                      for path, _, rest in (f.partition(" (") for f in s.outputs)) or "<li>(none)</li>"
    kind = verdict(s)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(_title(s))}</title>
<style>{STYLE}</style></head>
<body>
<h1>{e(_title(s))}</h1>
<div class="outcome {kind}"><b>{e(VERDICT_WORDS[kind])}</b>{e(s.outcome)}</div>
<table class=story>{_html_rows(headline(s))}</table>
<h2>Needs a look</h2>
{problems}
<h2>Details</h2>
<table>{_html_rows(_facts(s))}</table>
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


def default_report_dir(warc_dir: str | None) -> Path:
    """Beside the outputs: WARC_DIR's parent, or WARC_DIR itself when its parent is where the crawl runs."""
    if not warc_dir:
        return Path("output")
    parent = Path(warc_dir).parent
    return Path(warc_dir) if parent.resolve() == Path.cwd().resolve() else parent


def claim(report_dir: Path, name: str) -> Path:
    """<report_dir>/<name>-report, or -2-report, -3-report... : the first whose .md nobody has written
    (created empty at once, so two processes never take the same one)."""
    for n in range(1, 1000):
        base = report_dir / f"{name}{'' if n == 1 else f'-{n}'}-report"
        try:
            base.with_name(base.name + ".md").open("x").close()
            return base
        except FileExistsError:
            continue
    raise FileExistsError(f"{report_dir}/{name}-report.md and 998 others exist")


def feed_paths(crawler) -> list[str]:
    """The item outputs as Scrapy's feed exporter opened them (%(name)s and %(time)s filled in), with
    their item counts: "output/items/spacewar-2026-12-07T14-15-00.jsonl (49 items)"."""
    from scrapy.extensions.feedexport import FeedExporter

    middlewares = getattr(getattr(crawler, "extensions", None), "middlewares", ())
    paths = []
    for ext in middlewares:
        if isinstance(ext, FeedExporter):
            for slot in ext.slots:
                uri = slot.uri[len("file://"):] if slot.uri.startswith("file://") else slot.uri
                written = slot.itemcount or slot.store_empty
                paths.append(f"{uri} ({slot.itemcount} items{'' if written else ', not written'})")
    return paths


class RunReport:
    def __init__(self, report_dir: Path, stats, warc_dir: Path | None = None, outputs: list[str] | None = None,
                 worker: str = ""):
        self.report_dir = Path(report_dir)
        self.worker = worker
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
        report_dir = s.get("REPORT_DIR") or default_report_dir(warc_dir)
        worker = s.get("WORKER_ID") or "" if s.get("REDIS_URL") else ""
        o = cls(report_dir, crawler.stats, warc_dir, [str(k) for k in s.getdict("FEEDS")], worker)
        o.crawler = crawler
        crawler.signals.connect(o.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(o.problems.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(o.problems.response_received, signal=signals.response_received)
        crawler.signals.connect(o.problems.request_left_downloader, signal=signals.request_left_downloader)
        crawler.signals.connect(o.problems.request_refused, signal=request_refused)
        crawler.signals.connect(o.spider_closed, signal=signals.spider_closed)
        # written once the engine has stopped: WARC files are closed and renamed by then
        crawler.signals.connect(o.engine_stopped, signal=signals.engine_stopped)
        return o

    def item_scraped(self, item, response=None, spider=None):
        self.counts.add(dict(item))

    def spider_closed(self, spider, reason):
        self.spider_name = spider.name
        self.reason = reason
        self.outputs = feed_paths(getattr(self, "crawler", None)) or self.outputs

    def warc_files(self) -> list[str]:
        files = self.stats.get_value(keys.STAT_FILES)
        if files:
            return list(files)
        if self.warc_dir and self.warc_dir.is_dir():
            return sorted(p.name for p in self.warc_dir.iterdir() if p.name.endswith((".warc", ".warc.gz")))
        return []

    def summary(self) -> RunSummary:
        self.problems.finish()
        return RunSummary.from_stats(self.spider_name or "crawl", self.reason, self.stats.get_stats(),
                                     self.warc_files(), self.outputs, self.counts, self.problems, self.worker)

    def engine_stopped(self):
        if self.spider_name is None:  # the spider never ran
            return
        self.write(self.summary())

    def write(self, summary: RunSummary) -> list[Path]:
        stamp = (summary.start_time or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        name = "-".join(part for part in (summary.spider, summary.worker, stamp) if part)
        self.report_dir.mkdir(parents=True, exist_ok=True)
        base = claim(self.report_dir, name)
        self.paths = []
        for suffix, text in ((".md", render_markdown(summary)), (".html", render_html(summary))):
            path = base.with_name(base.name + suffix)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, "utf-8")
            tmp.replace(path)
            self.paths.append(path)
        logger.info("run report: %s", ", ".join(map(str, self.paths)))
        return self.paths
