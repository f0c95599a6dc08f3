"""`scrapy frontier [SPIDER] -s REDIS_URL=... [-s CRAWL_ID=...] [--json] [--watch SECONDS]`: a shared crawl at a glance.

Prints, for a running or stopped crawl on the Redis frontier: the queue length, the requests in
flight and waiting, per worker the requests it took from the queue and has not finished (a dead
worker's until they are queued again), the last heartbeat, pages and items, and per host (shared
politeness) the rate over the last 10 s and 60 s, the requests in flight and the current delay.
Without SPIDER, every crawl found on the Redis server. Reads only (crawler/frontier/status.py
lists the keys). The module's name is the command's: Scrapy names a COMMANDS_MODULE command
after its module (`frontier`, not `frontier-status`: `scrapy --help` aligns names of up to 13
characters).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.helpformat import CommandHelpFormatter
from crawler.reporting.outcome import NOTHING_ARCHIVED


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[options] [SPIDER]"

    def short_desc(self) -> str:
        return "Print a shared (REDIS_URL) crawl's queue, requests in flight, workers and per-host rate and delay"

    def add_options(self, parser):
        super().add_options(parser)
        parser.formatter_class = CommandHelpFormatter
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument("--watch", type=float, default=0, metavar="SECONDS", help="print again every SECONDS")

    def run(self, args, opts):
        from crawler.config import ConfigError
        from crawler.frontier.addon import redis_client, redis_errors, unreachable
        from crawler.network.politeness import DEFAULTS

        if len(args) > 1:
            raise UsageError("at most one spider name")
        if not self.settings.get("REDIS_URL"):
            raise UsageError("set REDIS_URL (and CRAWL_ID) with -s, as for the crawl")
        try:
            server = redis_client(self.settings, socket_timeout=10, socket_connect_timeout=5)
        except ConfigError as e:
            raise UsageError(str(e)) from None
        namespace = self.settings.get("POLITE_NAMESPACE") or DEFAULTS["POLITE_NAMESPACE"]
        try:
            self._show(server, namespace, args, opts)
        except redis_errors() as e:
            print(f"{unreachable(self.settings, e)} (exit status {NOTHING_ARCHIVED})", file=sys.stderr, flush=True)
            self.exitcode = NOTHING_ARCHIVED

    def _show(self, server, namespace, args, opts):
        from crawler.frontier.status import format_status, frontier_status, status_prefixes

        while True:
            prefixes = status_prefixes(self.settings, args[0] if args else None, server)
            found = [frontier_status(server, prefix, namespace) for prefix in prefixes]
            if opts.json:
                print(json.dumps(found if not args else found[0], indent=1), flush=True)
            elif not found:
                print(f"no crawl on {self.settings.get('REDIS_URL')}", flush=True)
            else:
                print("\n\n".join(format_status(st) for st in found), flush=True)
            if not opts.watch:
                return
            time.sleep(opts.watch)
