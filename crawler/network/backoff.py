"""Retry middleware that waits before retrying: the server's Retry-After when it sends one, else exponential backoff.

Scrapy 2.19's RetryMiddleware re-schedules a failed request at once and ignores Retry-After.
This subclass (in its place at 550) keeps Scrapy's decision of *whether* to retry
(RETRY_TIMES, RETRY_HTTP_CODES, RETRY_EXCEPTIONS, dont_retry) and only adds *when*:

* a 429 or 503 with Retry-After (delta-seconds or an HTTP date) waits that long, capped at
  RETRY_AFTER_MAX seconds (a longer wait gives up on the request: stat retry/retry_after_too_long);
* any other retry waits RETRY_BACKOFF_BASE * 2**(attempt-1) seconds, capped at RETRY_BACKOFF_MAX.

The wait happens in the downloader middleware chain (the request counts as active meanwhile,
which also slows the crawl down while a server asks it to). Stats: retry/retry_after_honoured,
retry/backoff_seconds; one INFO line per delayed retry.

A request given up after a network failure (the name does not resolve, the connection is
refused, fails or times out) ends as one log line, without a traceback: an ERROR line the first
time a host fails that way ("Cannot fetch from www.spacewar.com: ..."), a WARNING line per request
after that; so does one the server cut short or made too large (DOWNLOAD_MAXSIZE). Stats: download/gave_up/<exception>, download/unreachable/<host> (the first reason,
which the crawl's exit status quotes when nothing was archived: crawler/reporting/outcome.py).
"""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler import keys
from crawler.network.failures import download_failure, network_failure

logger = logging.getLogger(__name__)

def retry_after_seconds(value, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header value asks to wait, or None when it cannot be read."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor, task

    from scrapy.utils.defer import maybe_deferred_to_future

    await maybe_deferred_to_future(task.deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings):
        super().__init__(settings)
        self.failed_hosts: set[str] = set()
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX")
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX")

    def delay_for(self, retry: Request, response=None) -> float | None:
        """Seconds to wait before `retry` goes out; None: give up instead."""
        if response is not None and response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
            if asked is not None:
                if asked > self.retry_after_max:
                    return None
                return asked
        attempt = retry.meta.get("retry_times", 1)
        return min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))

    async def _wait(self, retry, response=None):
        delay = self.delay_for(retry, response)
        stats = self.crawler.stats
        if delay is None:
            stats.inc_value(keys.STAT_RETRY_AFTER_TOO_LONG)
            logger.warning("Gave up on %s: Retry-After asks for more than RETRY_AFTER_MAX=%ss",
                           retry.url, self.retry_after_max)
            return None
        if response is not None and b"Retry-After" in response.headers and response.status in (429, 503):
            stats.inc_value(keys.STAT_RETRY_AFTER_HONOURED)
            logger.info("Retry-After %s from %s: retrying in %.1fs", response.status, retry.url, delay)
        elif delay:
            logger.info("Backing off %.1fs before retrying %s", delay, retry.url)
        if delay:
            stats.inc_value(keys.STAT_BACKOFF_SECONDS, delay)
            await _sleep(delay)
        return retry

    async def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        if isinstance(result, Request):
            return await self._wait(result, response) or response
        return result

    async def process_exception(self, request, exception, spider=None):
        failure = download_failure(exception)
        if failure is not None:
            request.meta.setdefault("give_up_log_level", "DEBUG")  # said once, below, in plain words
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            return await self._wait(result)
        if result is None and failure is not None:
            self._gave_up(request, exception, failure)
        return result

    def _gave_up(self, request, exception, failure: str):
        """One line for a request lost to a known download failure, and IgnoreRequest (no traceback)."""
        host = urlparse_cached(request).hostname or "?"
        attempts = request.meta.get("retry_times", 0) + 1
        stats = self.crawler.stats
        stats.inc_value(keys.STAT_GAVE_UP.format(exception=type(exception).__name__))
        detail = f"{failure} ({exception})" if str(exception) else failure
        if network_failure(exception) is not None and host not in self.failed_hosts:
            self.failed_hosts.add(host)
            stats.set_value(keys.STAT_UNREACHABLE.format(host=host), detail)
            logger.error("Cannot fetch from %s: %s; gave up on %s after %d attempts (later failures of this "
                         "host are logged at WARNING)", host, detail, request.url, attempts)
        else:
            logger.warning("Gave up on %s after %d attempts: %s", request.url, attempts, detail)
        raise IgnoreRequest(f"{failure}: {request.url}")
