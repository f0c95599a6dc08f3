"""Add-on that makes a JOBDIR survive kill -9 (JOBDIR set): every accepted request and every export journaled.

With JOBDIR it puts in place the journaling scheduler (crawler/journal/scheduler.py; with the
Redis frontier the shared queue keeps the requests instead, and only the exports are journaled)
and the exported-before stage, after de-duplication (item pipeline 450,
pipelines/exportedbefore.py). The feed exporter that flushes each line and journals each export
(crawler/journal/exporter.py) is the project's JSON Lines exporter with or without JOBDIR.
Rerun with the same -s JOBDIR= and -s WARC_DIR=: nothing archived is lost or exported twice
(docs/crash-safety.md).
"""

from __future__ import annotations

from scrapy.exceptions import NotConfigured

from crawler.components import defaults, register

DEFAULTS = {
    #: With JOBDIR: fsync the request and export journals at most this often (seconds; 0 = every
    #: append). Appends reach the OS at once, so a killed process loses nothing either way.
    "INFLIGHT_FSYNC_INTERVAL": 1.0,
}


class CrashSafeJob:
    """Add-on: see the module docstring."""

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.get("JOBDIR"):
            raise NotConfigured
        return cls()

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        if not settings.get("REDIS_URL"):
            settings.set("SCHEDULER", "crawler.journal.scheduler.JournalingScheduler",
                         priority=max(settings.getpriority("SCHEDULER") or 0, 15))
        register(settings, "ITEM_PIPELINES", "pipelines.exportedbefore.ExportedBeforePipeline", 450)
