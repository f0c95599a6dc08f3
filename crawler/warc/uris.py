"""WARC-Target-URI values as other tools write them, normalised to the plain URI the crawl would have requested.

GNU wget writes `WARC-Target-URI: <https://...>` (the angle brackets of WARC 1.0's grammar, which
WARC 1.1 dropped); some writers leave whitespace around it or inside the brackets. `target_uri`
gives the bare URI in every case; both readers of reprocess and the `-a from_warc` index call it,
so a capture is filed under the same URI whichever library read it. Pure.
"""

from __future__ import annotations


def target_uri(value: str | bytes | None) -> str:
    """The URI of a WARC-Target-URI value: surrounding whitespace and angle brackets removed ("" for none)."""
    if not value:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    uri = _trim(value)
    if uri.startswith("<") and uri.endswith(">"):
        uri = _trim(uri[1:-1])
    return uri


def _trim(uri: str) -> str:
    """Whitespace removed at both ends, also where a reader percent-encoded it (warcio writes a space as %20)."""
    uri = uri.strip()
    while uri.startswith("%20"):
        uri = uri[3:].lstrip()
    while uri.endswith("%20"):
        uri = uri[:-3].rstrip()
    return uri
