"""The operator's view of a real crawl: periodic progress lines in its log, and the run report (Markdown + HTML) next
to its outputs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from tests.unit.reporting.test_progress_report import items, parse


# --- a tiny real crawl ------------------------------------------------------------------------
SPIDER = '''
import base64
import scrapy
from scrapy.exceptions import DropItem

ITEMS = {items}


def data_url(text):
    return "data:text/html;base64," + base64.b64encode(text.encode()).decode()


class DropBadPipeline:
    """Stands in for the project's pipelines: counts fallbacks, drops one item with a reason."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item):
        if item.get("extraction") == "fallback":
            self.stats.inc_value("articles/extraction/fallback")
        if item.get("bad"):
            self.stats.inc_value("articles/dropped/invalid")
            raise DropItem("invalid")
        return item


class TinySpider(scrapy.Spider):
    name = "tiny"
    custom_settings = {{"ITEM_PIPELINES": {{DropBadPipeline: 300}}}}

    async def start(self):
        for i in range(len(ITEMS)):
            yield scrapy.Request(data_url(f"<html><body>page {{i}}</body></html>"), cb_kwargs={{"i": i}})

    def parse(self, response, i):
        yield dict(ITEMS[i])
'''


@pytest.fixture(scope="module")
def tiny_crawl(tmp_path_factory):
    work = tmp_path_factory.mktemp("tiny")
    crawl_items = [dict(i, extraction="site-rules") for i in items()]
    crawl_items[2]["extraction"] = "fallback"
    crawl_items.append(dict(items()[0], url="https://www.spacewar.com/reports/Bad_999.html", bad=True))
    (work / "tiny_spider.py").write_text(textwrap.dedent(SPIDER).format(items=repr(crawl_items)))
    warc_dir = work / "out" / "warc"
    warc_dir.mkdir(parents=True)
    (warc_dir / "tiny-20260303100000000-00000-host.warc.gz").write_bytes(b"")  # as if a recorder wrote it
    (warc_dir / ".warc-dir.lock").write_bytes(b"")  # the capture's lock: not a WARC file
    extensions = {"crawler.reporting.progress.ProgressLog": 500, "crawler.reporting.runreport.RunReport": 510}
    settings = {"EXTENSIONS": json.dumps(extensions), "PROGRESS_INTERVAL": "0.25", "DOWNLOAD_DELAY": "0.2",
                "CONCURRENT_REQUESTS": "1", "RANDOMIZE_DOWNLOAD_DELAY": "False", "WARC_DIR": str(warc_dir),
                "LOG_FILE": str(work / "crawl.log"), "TELNETCONSOLE_ENABLED": "False"}
    # the item output as a template: the report shows the path the feed exporter wrote
    cmd = [sys.executable, "-m", "scrapy", "runspider", "tiny_spider.py", "-O", str(work / "items-%(name)s.jsonl")]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    # run outside the project directory: only this spider's settings apply
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=120)
    log = (work / "crawl.log").read_text("utf-8") if (work / "crawl.log").exists() else ""
    assert proc.returncode == 0, proc.stderr[-3000:] + log[-3000:]
    return work, log


def test_a_crawl_logs_progress_lines_and_a_final_one(tiny_crawl):
    _, log = tiny_crawl
    lines = re.findall(r"progress: pages=\d+ .*", log)
    assert lines, log[-2000:]
    assert all(re.fullmatch(r"progress: pages=\d+ \(\+\d+\) responses=\d+ articles=\d+ fallbacks=\d+ dropped=\d+ errors=\d+ "
                            r"rate=\d+\.\d pages/min, \d+\.\d articles/min, elapsed \d+:\d\d:\d\d", line)
               for line in lines), lines
    final = re.search(r"progress \(end, finished\): (.*)", log)
    # no WARC recorder in this crawl: no page archived, five responses
    assert final and "pages=0 (+0) responses=5 articles=4 fallbacks=1 dropped=1 errors=0" in final.group(1)


def test_a_crawl_writes_markdown_and_html_reports_next_to_the_outputs(tiny_crawl):
    work, log = tiny_crawl
    md_files = list((work / "out").glob("tiny-*-report.md"))
    html_files = list((work / "out").glob("tiny-*-report.html"))
    assert len(md_files) == 1 and len(html_files) == 1, list((work / "out").iterdir())
    assert re.fullmatch(r"tiny-\d{8}T\d{6}Z-report\.md", md_files[0].name)
    assert md_files[0].name[:-3] == html_files[0].name[:-5]
    md = md_files[0].read_text("utf-8")
    for expected in ("| Finish reason | finished |", "| Pages archived | 0 (", "| Responses received | 5 (",
                     "| Articles exported | 4 (1 by fallback extraction, 25%) |", "| Dropped items | 1 (invalid: 1) |",
                     "| invalid | 1 |", "| 200 | 5 |",
                     "| reports | 2 |", "| afp | 1 |", "| 2024-05 | 2 |", "| AFP | 2 |",
                     "`tiny-20260303100000000-00000-host.warc.gz`", f"`{work / 'items-tiny.jsonl'}` (4 items)"):
        assert expected in md, (expected, md)
    assert ".warc-dir.lock" not in md and "%(name)s" not in md
    page = parse(html_files[0].read_text("utf-8"))
    assert page.tags["svg"] == 3 and page.tags["rect"] == 2 + 3 + 3
    assert "run report:" in log


