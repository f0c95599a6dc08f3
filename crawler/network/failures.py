"""Download failures told apart and worded: the network's (name, connection, time-out), the server's (a
response cut short, too large, or not valid HTTP), or neither (a bug, which keeps its traceback).

The retry middleware words the give-up line with these (crawler/network/backoff.py), and the
byte-exact download handler marks a response the HTTP parser rejected as unparseable rather than
truncated (crawler/capture/handler.py).
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.web import _newclient

#: failures of the network itself (name, connection, time-out), with how a log line words them
NETWORK_FAILURES = {
    CannotResolveHostError: "the host name does not resolve",
    DownloadConnectionRefusedError: "the connection was refused",
    DownloadTimeoutError: "the download timed out",
    DownloadFailedError: "the connection failed",
}


#: other ways a download fails that are the server's doing, not a bug: one line each, no traceback
DOWNLOAD_FAILURES = {
    DownloadCancelledError: "the download was stopped (larger than DOWNLOAD_MAXSIZE, or cancelled)",
    ResponseDataLossError: "the response was cut short",
}


def network_failure(exception) -> str | None:
    """How a log line words a network failure, or None when `exception` is not one (a response the
    parser rejected is not: the host answered)."""
    if unparseable_reason(exception):
        return None
    for kind, words in NETWORK_FAILURES.items():
        if isinstance(exception, kind):
            return words
    return None


def download_failure(exception) -> str | None:
    """How a log line words any known download failure (network or server), or None (a bug, say)."""
    if unparseable_reason(exception):
        return "the response is not valid HTTP"
    for kind, words in DOWNLOAD_FAILURES.items():
        if isinstance(exception, kind):
            return words
    return network_failure(exception)


def unparseable_reason(exc: BaseException) -> str | None:
    """Why Twisted's HTTP parser rejected a response (a bad status line, bad headers), when it is
    what `exc` (Scrapy's wrapper of Twisted's ResponseFailed) comes from; else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for failure in getattr(exc, "reasons", None) or ():
            value = getattr(failure, "value", None)
            if isinstance(value, (_newclient.ParseError, _newclient.BadHeaders)):
                detail = " ".join(a.decode("latin-1", "replace") if isinstance(a, bytes) else str(a)
                                  for a in value.args)
                return f"{type(value).__name__}: {detail}"[:300]
        exc = exc.__cause__ or exc.__context__
    return None
