"""`scrapy explain URL`: how the cleaning reads one archived article page, each removed block with its reason.

    scrapy explain URL                          # from WARC_DIR
    scrapy explain URL --warc output/warc/      # a WARC file or directory
    scrapy explain URL --file saved-page.html   # a page on disk
    scrapy explain URL --template other/boilerplate.json --kept
    (URL: an article's URL, e.g. https://www.spacewar.com/reports/Some_story_999.html)

The page comes from the archive (the best capture of URL, as `-a from_warc` replays it: under another
form of the URL, such as http://, the bare host or tracking parameters, when URL itself is not archived) or from a
file, and is read and judged by the crawl's own code (crawler/extract/extractor.py) with the
site's learned template (crawler/extract/boilerplate.py: BOILERPLATE_FILE, else boilerplate.json
beside the WARC files), which it only reads. It prints the article's fields, then every block
the cleaning took out of the body: its signal (the `cleaning/removed/<signal>` stats key), the
reason in words, and its text; then every block a signal looked at and kept as story text, and why
(a line that speaks to the reader but names the story's people or places, a sentence that recurs
from one agency only, a stock closing sentence); `--kept` also prints the paragraphs kept, with what
the template knows about each. The crawl judged the page with the template as it stood then, so the verdict
of a page from an early crawl can differ where the template has learned since.

The archive is read as `scrapy reprocess` reads it (crawler/warc/inputs.py: a directory searched
recursively, WACZ, whole-file gzip, ARC); a file that cannot be read costs only itself.

Exit status 0 when the page is an article, 1 when it is not, its capture is cut short, or it cannot be found; 66 when the
archive path holds nothing readable (one line: what was found, what was expected).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse

from crawler.commands.helpformat import CommandHelpFormatter
from crawler.extract.article import NotAnArticle, PageTooDeep
from crawler.extract.boilerplate import BoilerplateStore, store_location
from crawler.extract.extractor import judge_reading, read_page
from crawler.reporting.outcome import NO_INPUT
from crawler.warc.http import decode_content
from crawler.warc.inputs import NoInput


def page_from_warc(url: str, path) -> tuple[str, str]:
    """(the page's text as the crawl decodes it, where it came from) of URL's best capture at `path`."""
    from crawler.offline.replay import page_key
    from crawler.warc.archive import WarcArchive

    archive = WarcArchive.open(path, page_key=page_key)
    try:
        answer = archive.response_for(url)
    finally:
        archive.close()
    if answer is None:
        raise LookupError(f"{url} is not archived in {path}")
    where = f"{answer.location.filename} at offset {answer.location.offset}, fetched {answer.date}"
    if answer.source_uri:  # a backfill's record: captured then by the archive, fetched from it later
        where = (f"{answer.location.filename} at offset {answer.location.offset}, captured {answer.date}, "
                 f"fetched {answer.creation_date} from {answer.source_uri}")
    if answer.truncated:  # its first bytes only: the crawl, -a from_warc and reprocess make no item of it
        raise LookupError(f"{url}: the archived capture ({where}) is cut short (truncated): not an article")
    headers = answer.headers
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    body = decode_content(answer.body, headers)
    response = HtmlResponse(url=url, body=body, headers={"Content-Type": content_type} if content_type else {})
    return response.text, where


def page_from_file(url: str, path) -> tuple[str, str]:
    response = HtmlResponse(url=url, body=Path(path).read_bytes())
    return response.text, str(path)


def explain(html: str, url: str, store: BoilerplateStore | None, *, kept: bool = False) -> tuple[str, bool]:
    """The report for one page (text) and whether it is an article."""
    reading = None
    try:
        reading = read_page(html, url)
    except NotAnArticle as exc:
        return f"not an article ({exc.reason}{': ' + exc.detail if exc.detail else ''})", False
    except PageTooDeep as exc:
        return f"not read: {exc}", False
    template = store.sites.get(reading.site) if store is not None else None
    cleaned = judge_reading(reading, template)
    a = cleaned.article
    lines = [
        f"title: {a.title}",
        f"published: {a.published}   author: {a.author}   location: {a.location}   agency: {a.agency}   "
        f"extraction: {a.extraction}",
        f"body: {len(a.body.split(chr(10) * 2)) if a.body else 0} paragraphs   images: {len(a.images)}   "
        f"related stories: {len(a.related_stories)}   rights: {'yes' if a.rights else 'no'}",
    ]
    if template is None:
        lines.append(f"learned template: none for {reading.site} (structure and the site rules alone decide)")
    else:
        lines.append(f"learned template: {reading.site}, {template.pages} pages counted, {len(template)} blocks"
                     + (f" ({store.path})" if store.path else ""))
    for k, story in enumerate(a.related_stories, start=1):
        lines.append(f"related story {k}: {story['title']!r} ({story['location']}, {story['agency']}, "
                     f"{story['published']}), {len(story['body'].split(chr(10) * 2))} paragraphs")
    lines.append("")
    lines.append(f"removed ({len(cleaned.removed)}):" if cleaned.removed else "removed: nothing")
    for removal in cleaned.removed:
        where = f" (related story {removal.story})" if removal.story else ""
        lines.append(f"  [{removal.signal}] {removal.reason}{where}")
        lines.append(f"      {_short(removal.text)}")
    if cleaned.kept:
        lines.append("")
        lines.append(f"kept although a signal looked at it ({len(cleaned.kept)}):")
        for note in cleaned.kept:
            where = f" (related story {note.story})" if note.story else ""
            lines.append(f"  [kept] {note.reason}{where}")
            lines.append(f"      {_short(note.text)}")
    if kept:
        lines.append("")
        lines.append("kept:")
        for b in reading.blocks:
            if b.text in a.body:
                ev = template.evidence(b.key) if template is not None and b.key else None
                known = f" (template: {ev.df} pages, {round(100 * ev.rate)}% of its span, {ev.out} out of place)" \
                    if ev is not None and ev.df else ""
                lines.append(f"  {_short(b.text)}{known}")
    return "\n".join(lines), True


def _short(text: str, limit: int = 160) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class Command(ScrapyCommand):
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options] <url>"

    def short_desc(self) -> str:
        return "Show how the cleaning reads an archived article page: each removed block and why"

    def long_desc(self) -> str:
        return __doc__.split("\n\n", 1)[1].strip("\n")  # the examples keep their indentation

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.formatter_class = CommandHelpFormatter
        parser.add_argument("--warc", metavar="PATH", help="a WARC file or a directory of them (default: WARC_DIR)")
        parser.add_argument("--file", metavar="PATH", help="read the page from this HTML file instead")
        parser.add_argument("--template", metavar="PATH", help="the learned templates' file (default: "
                                                               "BOILERPLATE_FILE, else boilerplate.json beside "
                                                               "the WARC files)")
        parser.add_argument("--kept", action="store_true", help="also print the paragraphs kept")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError()
        url = args[0]
        s = self.settings
        warc = opts.warc or s.get("WARC_DIR") or _default_warc_dir()
        try:
            if opts.file:
                html, where = page_from_file(url, opts.file)
            else:
                html, where = page_from_warc(url, warc)
        except NoInput as exc:
            print(f"explain: {exc} (exit status {NO_INPUT})", file=sys.stderr)
            self.exitcode = NO_INPUT
            return
        except (LookupError, OSError) as exc:
            print(f"explain: {exc}")
            self.exitcode = 1
            return
        # the crawl's learned templates: the given file, else the one beside the WARC files (only read)
        path, _ = store_location(opts.template or s.get("BOILERPLATE_FILE"), None, warc)
        store = BoilerplateStore.load(path) if path is not None else None
        report, is_article = explain(html, url, store, kept=opts.kept)
        print(f"{url}\n  from {where}\n")
        print(report)
        self.exitcode = 0 if is_article else 1


def _default_warc_dir() -> str:
    from crawler.capture.addon import DEFAULTS

    return DEFAULTS["WARC_DIR"]

