"""`scrapy state STATE_PATH [--spider NAME] [--json]`: what a crawl state holds and what the next run will revisit.

Prints the known URLs by kind (front pages, static pages, archive listings, articles, dead links, page requisites;
"unscheduled": fetched but never exported, or a state of an earlier version), how many are due at every run (front
pages, young articles, changed archive pages), how many others are due now and how many overdue (archive listings
and articles due for more than a day: the budget left them, or no run came), and when the next ones fall due, per
day for the next week (crawler/incremental/overview.py). "Now" is the machine's clock, so
`faketime -f +3d scrapy state ...` shows the state as a run three days later would find it.
STATE_PATH as for the crawl: a SQLite file, or `redis` / a redis:// URL (with -s REDIS_URL=... and,
for `redis`, the spider whose STATE_REDIS_KEY to read). Reads only. Exit status 66 (no input) when
the SQLite file does not exist, 69 when Redis cannot be reached. It changes nothing, but that
a state file of an earlier version gains the revisit columns and the marks table, as a crawl would give it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options] STATE_PATH"

    def short_desc(self) -> str:
        return (
            "Print a crawl state's known URLs by kind, what is due at every run, due now, overdue, and when the next"
            " fall due")

    def add_options(self, parser):
        super().add_options(parser)
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--spider", default="spacewar", help="whose STATE_REDIS_KEY (Redis states only)")

    def run(self, args, opts):
        from crawler.incremental.overview import format_overview, overview
        from crawler.incremental.state import NotAState, is_redis_spec, open_state

        if len(args) != 1:
            raise UsageError("give one STATE_PATH")
        spec = args[0]
        if not is_redis_spec(spec) and not Path(spec).is_file():
            print(f"scrapy state: {spec}: no such state file", file=sys.stderr)
            self.exitcode = 66
            return
        try:
            state = open_state(spec, spider=opts.spider, redis_url=self.settings.get("REDIS_URL"),
                               redis_key=self.settings.get("STATE_REDIS_KEY") or "%(spider)s:state")
            result = overview(state, time.time())
        except NotAState as e:  # not SQLite, damaged, or an SQLite file of something else: left as it was
            print(f"scrapy state: {e}", file=sys.stderr)
            self.exitcode = 66
            return
        except Exception as e:  # noqa: BLE001 - any failure to reach or read the store: one line, status 69
            if type(e).__module__.startswith("redis"):
                print(f"scrapy state: {spec}: Redis cannot be reached ({e})", file=sys.stderr)
                self.exitcode = 69
                return
            raise
        state.close()
        print(json.dumps(result, indent=1) if opts.json else format_overview(result, spec))
