"""The signal the capture sends when a WARC write fails (disk full, directory gone): the components that must react connect to it.

    crawler.signals.connect(handler, signal=warc_write_failed)  # handler(exc, path)

The disk guard stops the crawl (crawler/capture/diskguard.py); the crash-safety journal stops
marking requests finished, so a rerun fetches again whatever may not be on disk
(crawler/journal/scheduler.py).
"""

warc_write_failed = object()
