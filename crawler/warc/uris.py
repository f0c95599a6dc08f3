"""WARC-Target-URI values as other tools write them, normalised to the plain URI the crawl would have requested.

GNU wget writes `WARC-Target-URI: <https://...>` (the angle brackets of WARC 1.0's grammar, which
WARC 1.1 dropped); some writers leave whitespace around it or inside the brackets, and some keep the
scheme and host as a link spelled them (`HTTPS://WWW.SpaceWar.COM/...`), which RFC 3986 makes
case-insensitive. `target_uri` gives the bare URI, its scheme and host in lower case, in every case;
both readers of reprocess and the `-a from_warc` index call it, so a capture is filed under the same
URI whichever library read it. Pure.
"""

from __future__ import annotations


def target_uri(value: str | bytes | None) -> str:
    """The URI of a WARC-Target-URI value: surrounding whitespace and angle brackets removed, scheme and host in
    lower case ("" for none)."""
    if not value:
        return ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    uri = _trim(value)
    if uri.startswith("<") and uri.endswith(">"):
        uri = _trim(uri[1:-1])
    return _lower_scheme_and_host(uri)


def _lower_scheme_and_host(uri: str) -> str:
    """`SCHEME://USER@HOST:PORT/rest` with SCHEME and HOST in lower case (the user info and the rest as written);
    a URI without `://` (a `urn:`, `dns:`) as it is. Most URIs are written in lower case: those come back at once."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return uri
    end = len(rest)
    for delimiter in "/?#":
        at = rest.find(delimiter, 0, end)
        if at >= 0:
            end = at
    userinfo, at_sign, host = rest[:end].rpartition("@")
    if scheme.islower() and not any(c.isupper() for c in host):
        return uri
    return f"{scheme.lower()}://{userinfo}{at_sign}{host.lower()}{rest[end:]}"


def _trim(uri: str) -> str:
    """Whitespace removed at both ends, also where a reader percent-encoded it (warcio writes a space as %20)."""
    uri = uri.strip()
    while uri.startswith("%20"):
        uri = uri[3:].lstrip()
    while uri.endswith("%20"):
        uri = uri[:-3].rstrip()
    return uri
