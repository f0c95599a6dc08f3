"""The second pass of a reprocess, per task: each selected record becomes the crawl's item, or a counted reason why not.

For each selected record of a task's range (crawler/offline/reprocess/index.py), in offset order:

1. the archived response as the crawl's spider saw it: the record's HTTP message (a revisit's
   payload from the record it resolves to: an identical-payload revisit keeps its own headers, a
   304 revisit stands for the full response it confirmed), the content-coding undone as
   HttpCompressionMiddleware undoes it, Scrapy's own response class and text decoding;
2. the spider's routing (crawler/site/links.py `route`: a page of no site of the network is
   "off_site", a non-text response "not_text", a truncated one "truncated" (also a content-coding
   stream that ends early; one that does not decode at all is "undecodable"), feeds and listings
   "feed" and "listing");
3. the crawl's item steps in one call (crawler/articleitem.py `item_from_page`), with the sites'
   learned templates frozen: read once per process from the template file, never learned
   further, never saved, so every process judges every page alike; a backfill's record
   (WARC-Source-URI, WARC-Creation-Date) gives the backfill's captured_at, fetched_at and source.

An exception anywhere in that is a bug (or an unreadable record): it is counted as an error with
the record's file and offset and its traceback, never as not an article.

A task's result holds its JSON lines in offset order; the run writes the tasks' results in task
order, so the output is the same bytes whatever the number of processes or the engine.
"""

from __future__ import annotations

import json
import logging
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from crawler.articleitem import BUG, item_from_page
from crawler.extract.article import FALLBACK
from crawler.extract.boilerplate import BoilerplateStore
from crawler.offline.reprocess import reader
from crawler.offline.reprocess.index import site_set
from crawler.site.links import route
from crawler.site.profiles import SiteSet
from crawler.site.urls import ARTICLE
from crawler.syndication.groups import Story, null_group_at, sketch_of
from crawler.warc.http import decode_content

logger = logging.getLogger(__name__)


@dataclass
class PageTask:
    """The selected records of one (file, range) task: (offset, payload's file, payload's offset) each."""

    index: int
    path: str
    entries: list[tuple[int, str, int]]
    template: str | None  # the learned templates' file (read only), or None
    size: int = 0  # bytes of the range, for the progress
    file_no: int = 0  # the source's place in the input order (the per-file summary)
    name: str = ""  # the WARC file's name as items point to it (default: the file's own name)
    base: int = 0  # where that WARC file starts in `path` (a WACZ member): item offsets are relative to it
    sites: str | None = None  # `--sites` (None: every site)
    sketch: bool = False  # also each item's story fields and body sketch (`TaskResult.stories`), for the run's grouping


@dataclass
class TaskResult:
    """What one task made: its JSON lines, in offset order, and its counts."""

    index: int
    lines: list[str] = field(default_factory=list)
    file_no: int = 0
    records: int = 0
    articles: int = 0
    fallbacks: int = 0
    non_articles: Counter = field(default_factory=Counter)
    errors: list[tuple[str, int, str]] = field(default_factory=list)  # (file, offset, traceback)
    size: int = 0
    #: with `PageTask.sketch`, one crawler.syndication.groups.Story per line (None: a line without groups.UNGROUPED,
    #: so the run groups by parsing the lines)
    stories: list | None = None


_STATE: dict = {}


def _templates(path: str | None) -> dict:
    """The sites' learned templates of the file at `path`, read once per process, frozen."""
    key = ("templates", path)
    if key not in _STATE:
        _STATE[key] = BoilerplateStore.load(path).sites if path else {}
    return _STATE[key]


def warm(template: str | None, sites: str | None = None) -> None:
    """Load, before the workers fork, what every page needs: the templates, the sites, the schema's compiled
    check, the fallback extractor's library (so each worker does not load them again). The library (trafilatura,
    0.04 s) is loaded here even when no page may need it: a worker that loads it on its first fallback page holds
    up the second pass longer than this (bench/RESULTS.md, issue 29)."""
    _templates(template)
    _sites(sites)
    from crawler import itemschema

    itemschema.validate({})
    try:
        import trafilatura  # noqa: F401 (the generic fallback's, imported on its first page otherwise)
    except ImportError:
        pass


def _sites(names: str | None = None) -> SiteSet:
    return site_set(names)


class Undecodable(Exception):
    """The body's content-coding does not decode (corrupt, not cut short): the capture's fault, not a bug."""


def _decoded(body: bytes, headers) -> tuple[bytes, bool]:
    """(the body without its content-coding, cut short): a gzip or deflate stream that ends before its end
    marker is a truncated capture; one that does not decode at all is Undecodable."""
    try:
        return decode_content(body, headers), False
    except (EOFError, zlib.error, OSError) as exc:  # OSError: gzip.BadGzipFile
        if _ends_early(body, headers):
            return body, True
        raise Undecodable(f"{type(exc).__name__}: {exc}") from None


def _ends_early(body: bytes, headers) -> bool:
    """The outermost content-coding's stream decodes without error as far as it goes, and has no end."""
    coding = ",".join(v for k, v in headers if k.lower() == "content-encoding").lower()
    names = [c.strip() for c in coding.split(",") if c.strip()]
    if not names:
        return False
    wbits = {"gzip": (16 + zlib.MAX_WBITS,), "x-gzip": (16 + zlib.MAX_WBITS,),
             "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS)}.get(names[-1], ())
    for bits in wbits:
        d = zlib.decompressobj(bits)
        try:
            d.decompress(body)
        except zlib.error:
            continue
        return not d.eof
    return False


def response_of(path: str, offset: int, src_path: str, src_offset: int):
    """(url, status, headers, decoded body, truncated, record) of the selected record at `offset`."""
    rec = reader.read_at(path, offset)
    truncated = bool(rec.get("warc-truncated"))
    if rec.type != "revisit":
        msg = reader.http_message(rec.block)
    else:
        src = reader.read_at(src_path, src_offset)
        original = reader.http_message(src.block)
        truncated = bool(src.get("warc-truncated"))
        if "server-not-modified" in (rec.get("warc-profile") or ""):
            msg = original  # the 304 confirmed that response (its record may hold no HTTP headers): answer with it
        else:
            own = reader.http_message(rec.block)  # its own headers, the original's payload
            msg = reader.HttpMessage(own.status, own.headers, original.body)
    body, cut = _decoded(msg.body, msg.headers)
    return rec.get("warc-target-uri"), msg.status, msg.headers, body, truncated or cut, rec


def page(task: PageTask, offset: int, src_path: str, src_offset: int, templates: dict, result: TaskResult) -> None:
    """One selected record into `result`: a JSON line, or a counted reason (see the module docstring)."""
    from scrapy.http import Headers, TextResponse, XmlResponse
    from scrapy.responsetypes import responsetypes

    path = task.path
    try:
        url, status, headers, body, truncated, rec = response_of(path, offset, src_path, src_offset)
    except Undecodable:
        result.non_articles["undecodable"] += 1
        return
    site = _sites(task.sites).site_of(url)
    if site is None:
        result.non_articles["off_site"] += 1
        return
    scrapy_headers = Headers()
    for name, value in headers:
        if name.lower() in ("content-type", "content-disposition"):
            scrapy_headers.appendlist(name, value.encode("latin-1", "replace"))
    respcls = responsetypes.from_args(headers=scrapy_headers, url=url, body=body)
    if not issubclass(respcls, TextResponse):
        result.non_articles["not_text"] += 1
        return
    if truncated:
        result.non_articles["truncated"] += 1
        return
    response = respcls(url=url, status=status, headers=scrapy_headers, body=body)
    text = response.text
    kind = route(url, text, site, xml=isinstance(response, XmlResponse))
    if kind != ARTICLE:
        result.non_articles[kind] += 1
        return
    pointer = {"filename": task.name or Path(path).name, "record_id": rec.get("warc-record-id"),
               "offset": offset - task.base}
    made = item_from_page(url, text, status, site.profile, pointer, rec.get("warc-date") or "", templates,
                          source_uri=rec.get("warc-source-uri"), creation_date=rec.get("warc-creation-date"))
    if made.item is None:
        if made.kind == BUG:
            raise made.error
        result.non_articles[made.reason] += 1
        return
    result.articles += 1
    if made.item["extraction"] == FALLBACK:
        result.fallbacks += 1
    line = json.dumps(made.item, ensure_ascii=False)
    if result.stories is not None:
        item = made.item
        if null_group_at(line) < 0:  # (never, as items are exported): the run parses the lines
            result.stories = None
        else:
            packed, sketch = sketch_of(item.get("body"))
            result.stories.append(Story(item["url"], item.get("agency"), item.get("published"), item.get("fetched_at"),
                                        packed, sketch))
    result.lines.append(line)


def run_task(task: PageTask) -> TaskResult:
    """Every selected record of one task (in a worker process, or a Ray worker)."""
    templates = _templates(task.template)
    result = TaskResult(task.index, size=task.size, file_no=task.file_no, stories=[] if task.sketch else None)
    for offset, src_path, src_offset in task.entries:
        result.records += 1
        try:
            page(task, offset, src_path, src_offset, templates, result)
        except Exception as exc:
            result.errors.append((task.path, offset, "".join(traceback.format_exception(exc))))
    return result
