"""HTTP/1.1 download handler that keeps the exact bytes of each exchange for the WARC recorder.

Scrapy's HTTP/1.1 handler hands on parsed objects only: header case and order, the status
line's reason phrase and the chunked framing are gone by the time a downloader middleware
sees a Response. This handler downloads exactly like Scrapy's (same Twisted client, same
Response) and also tees the bytes the client protocol writes to and reads from the
connection, per exchange, into request.meta["raw_exchange"] as a RawExchange. The WARC
recorder (crawler.capture.recorder) pops it and stores those bytes.

How: the handler's connection pool tags the connection it hands out for a download with
that download's capture; the client protocol (Scrapy's lenient one, subclassed) writes the
request through a tee and copies every received byte to the capture of the exchange in
flight, trimming what the parser left over once the response is complete. On a
persistent connection each request gets its own capture.

Not captured (no raw_exchange, stat "rawcapture/fallback"): requests through a proxy
(request.meta["proxy"]; the request would carry Proxy-Authorization) and anything the
protocol never bound to a capture. HTTP/2 uses another handler altogether.

Download failures that leave bytes behind (size limit, timeout, connection lost, data
loss) still get a RawExchange with `truncated` set ("length", "time", "disconnect";
"unspecified" when a StopDownload handler cut it short): Scrapy returns a Response
flagged "dataloss"/"download_stopped" or raises, and the recorder's process_exception
finds the RawExchange in request.meta. Bytes the HTTP parser rejected (a bad status line, bad
headers) are not a cut-short response: their RawExchange says `unparseable` (the parser's
reason) and nothing is marked truncated.

Settings: RAWCAPTURE_ENABLED (default True; False = plain Scrapy HTTP/1.1 handler).
The subclass relies on private Scrapy/Twisted pieces: it supports SUPPORTED_SCRAPY only
and refuses to start otherwise (NotConfigured plus an error naming the setting).
"""

from __future__ import annotations

import fnmatch
import logging
from contextvars import ContextVar

import scrapy
from scrapy.core.downloader.handlers import http11
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    NotConfigured,
    StopDownload,
)
from twisted.web import _newclient, client

from crawler import keys
from crawler.network.failures import unparseable_reason
from crawler.warc.http import build_exchange

logger = logging.getLogger(__name__)

#: Scrapy versions whose HTTP/1.1 handler internals this module was written against.
SUPPORTED_SCRAPY = "2.19.*"
# the download whose connection the pool hands out next (set in download_request, read
# synchronously by the pool's getConnection within the same call)
_PENDING: ContextVar[_Capture | None] = ContextVar("rawcapture_pending", default=None)


# --- the capture plumbing ---------------------------------------------------------------

class _Attempt:
    """Bytes of one attempt at sending a request (Twisted retries once on a new connection)."""

    __slots__ = ("sent", "received", "complete")

    def __init__(self):
        self.sent = bytearray()
        self.received = bytearray()
        self.complete = False  # the parser saw the whole response


class _Capture:
    """One download's capture; `attempt` is None until a protocol sends the request."""

    __slots__ = ("attempt",)

    def __init__(self):
        self.attempt: _Attempt | None = None

    def begin(self) -> _Attempt:
        self.attempt = _Attempt()
        return self.attempt


class _WriteTee:
    """Transport stand-in for one request: copies what is written, forwards everything."""

    def __init__(self, transport, sink: bytearray):
        self._transport = transport
        self._sink = sink

    def write(self, data):
        self._sink += data
        self._transport.write(data)

    def writeSequence(self, seq):
        seq = list(seq)
        for data in seq:
            self._sink += data
        self._transport.writeSequence(seq)

    def __getattr__(self, name):
        return getattr(self._transport, name)


class _TaggedConnection:
    """What the pool hands the Agent: requests sent through it carry the download's capture."""

    def __init__(self, protocol, capture: _Capture):
        self._protocol = protocol
        self._capture = capture

    def request(self, txrequest):
        # kept on the request so that Twisted's retry on a fresh connection keeps capturing
        txrequest._rawcapture = self._capture
        return self._protocol.request(txrequest)

    def __getattr__(self, name):
        return getattr(self._protocol, name)


class _CapturingHTTP11ClientProtocol(http11._LenientHTTP11ClientProtocol):
    """Scrapy's lenient client protocol, teeing each exchange's bytes into its capture."""

    _attempt: _Attempt | None = None

    def request(self, request):
        capture = getattr(request, "_rawcapture", None)
        if capture is None:
            self._attempt = None
            return super().request(request)
        self._attempt = attempt = capture.begin()
        real = self.transport
        self.transport = _WriteTee(real, attempt.sent)
        try:
            return super().request(request)
        finally:
            self.transport = real

    def dataReceived(self, data):
        attempt = self._attempt
        if attempt is not None and not attempt.complete:
            attempt.received += data
        super().dataReceived(data)

    def _finishResponse(self, rest):
        attempt = self._attempt
        if attempt is not None and not attempt.complete:
            if rest:  # bytes past the end of this response are not part of it
                del attempt.received[len(attempt.received) - len(rest):]
            attempt.complete = True
            self._attempt = None
        return super()._finishResponse(rest)

    def connectionLost(self, reason):
        self._attempt = None
        return super().connectionLost(reason)


class _CapturingHTTP11ClientFactory(http11._LenientHTTP11ClientFactory):
    def buildProtocol(self, addr):
        return _CapturingHTTP11ClientProtocol(self._quiescentCallback)


class _CapturingConnectionPool(client.HTTPConnectionPool):
    """Connection pool that tags the connection for the download being started."""

    _factory = _CapturingHTTP11ClientFactory

    def getConnection(self, key, endpoint):
        d = super().getConnection(key, endpoint)
        capture = _PENDING.get()
        if capture is None:
            return d
        _PENDING.set(None)
        return d.addCallback(_TaggedConnection, capture)


# --- the version guard ------------------------------------------------------------------

def missing_private_pieces() -> list[str]:
    """Private Scrapy/Twisted names this module relies on that are missing (empty = all there)."""
    needed = [
        (http11, "_LenientHTTP11ClientProtocol"),
        (http11, "_LenientHTTP11ClientFactory"),
        (_newclient.HTTP11ClientProtocol, "_finishResponse"),
        (_newclient.HTTP11ClientProtocol, "dataReceived"),
        (_newclient.HTTP11ClientProtocol, "connectionLost"),
        (_newclient.HTTP11ClientProtocol, "request"),
        (_newclient.HTTPClientParser, "_finished"),
        (client.HTTPConnectionPool, "getConnection"),
        (client.HTTPConnectionPool, "_factory"),
        (client.Agent, "_requestWithEndpoint"),
        (client._HTTP11ClientFactory, "__init__"),
    ]
    missing = [f"{getattr(owner, '__name__', owner)}.{name}" for owner, name in needed
               if not hasattr(owner, name)]
    # the factory keeps the pool's callback where buildProtocol reads it
    init = getattr(client._HTTP11ClientFactory.__init__, "__code__", None)
    if init is None or "_quiescentCallback" not in init.co_names:
        missing.append("_HTTP11ClientFactory._quiescentCallback")
    return missing


def unsupported_reason(version: str | None = None) -> str | None:
    """Why this Scrapy cannot be used (None when it can)."""
    version = version or scrapy.__version__
    if not fnmatch.fnmatch(version, SUPPORTED_SCRAPY):
        return f"Scrapy {version} is installed; crawler.capture.handler supports Scrapy {SUPPORTED_SCRAPY}"
    missing = missing_private_pieces()
    if missing:
        return f"private pieces it relies on are missing: {', '.join(missing)}"
    return None


# --- the handler ------------------------------------------------------------------------

class RawCaptureDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler plus request.meta["raw_exchange"]; see the module."""

    def __init__(self, crawler):
        self.enabled = crawler.settings.getbool("RAWCAPTURE_ENABLED")
        reason = unsupported_reason() if self.enabled else None
        if reason:  # checked first: nothing is built on pieces that are not there
            message = (f"{type(self).__name__} cannot start: {reason}. Pin scrapy=={SUPPORTED_SCRAPY}, "
                       f"or set RAWCAPTURE_ENABLED=False to download without byte-exact capture "
                       f"(WARC records are then reconstructed from Scrapy's objects).")
            logger.error(message)
            raise NotConfigured(message)
        super().__init__(crawler)
        self.stats = crawler.stats
        self._unbound_warned = False
        if not self.enabled:
            return
        from twisted.internet import reactor

        pool = _CapturingConnectionPool(reactor, persistent=True)
        pool.maxPersistentPerHost = self._pool.maxPersistentPerHost
        self._pool = pool

    async def download_request(self, request):
        if not self.enabled:
            return await super().download_request(request)
        if request.meta.get("proxy"):
            self._inc(keys.STAT_RAWCAPTURE_FALLBACK)
            self._inc(keys.STAT_RAWCAPTURE_FALLBACK_WHY.format(reason="proxy"))
            return await super().download_request(request)
        capture = _Capture()
        _PENDING.set(capture)  # consumed by the pool within super().download_request's first step
        try:
            response = await super().download_request(request)
        except Exception as exc:
            _PENDING.set(None)
            reason = unparseable_reason(exc)
            self._attach(request, capture, None if reason else _truncation_of_exception(exc), failed=True,
                         unparseable=reason)
            raise
        _PENDING.set(None)
        self._attach(request, capture, _truncation_of_flags(response.flags))
        return response

    def _attach(self, request, capture: _Capture, truncated: str | None, failed: bool = False,
                unparseable: str | None = None):
        attempt = capture.attempt
        if attempt is None:
            if not failed:
                self._inc(keys.STAT_RAWCAPTURE_FALLBACK)
                self._inc(keys.STAT_RAWCAPTURE_FALLBACK_WHY.format(reason="unbound"))
                if not self._unbound_warned:
                    self._unbound_warned = True
                    logger.warning("No raw bytes captured for %s: the connection was not tagged "
                                   "(have Scrapy/Twisted internals changed?)", request)
            return
        exchange = build_exchange(bytes(attempt.sent), bytes(attempt.received), truncated, unparseable)
        request.meta[keys.META_RAW_EXCHANGE] = exchange
        self._inc(keys.STAT_RAWCAPTURE_EXCHANGES)
        if truncated:
            self._inc(keys.STAT_RAWCAPTURE_TRUNCATED.format(reason=truncated))

    def _inc(self, key):
        if self.stats is not None:
            self.stats.inc_value(key)


def _truncation_of_flags(flags) -> str | None:
    if "dataloss" in flags:
        return "disconnect"
    if "download_stopped" in flags:
        return "unspecified"
    return None  # "partial" is a body delimited by the connection closing: complete


def _truncation_of_exception(exc: BaseException) -> str:
    if isinstance(exc, DownloadTimeoutError):
        return "time"
    if isinstance(exc, DownloadCancelledError):
        return "length"  # DOWNLOAD_MAXSIZE (the handler's only other cancel is its timeout)
    if isinstance(exc, StopDownload):
        return "unspecified"
    return "disconnect"
