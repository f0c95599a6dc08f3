"""Add-on for the crawl's network policy: which addresses may be fetched, how failures are retried, cookies offline.

It puts in the downloader chain, with their order:
- the offsite check, with host names read the way URLs mean them (a default port, a trailing
  dot), in place of Scrapy's (50, crawler/network/offsite.py);
- the address policy, before robots.txt: no request to loopback, private or reserved addresses
  unless HOST_MAP names the host and port (60, crawler/network/addresses.py);
- robots.txt, with RFC 9309's complete disallow when robots.txt answers 5xx or cannot be fetched
  (100, in place of Scrapy's, crawler/network/robots.py);
- retries that wait: Retry-After on 429/503, else exponential backoff, and download failures
  given up as one log line (550, in place of Scrapy's RetryMiddleware, crawler/network/backoff.py);
- cookies with the public-suffix list bundled with tldextract, never downloaded (700, in place
  of Scrapy's CookiesMiddleware, crawler/network/cookies.py);
- Scrapy's telnet console and remote control, which open ports, left out of the extensions while
  TELNETCONSOLE_ENABLED and REMOTE_CONTROL_ENABLED are off: loaded, they would only say "not
  configured", after importing twisted.conch and aiohttp (about 50 ms of CPU at every start);

and sets its defaults below at add-on priority. Where hosts live (HOST_MAP, read by the name
resolver crawler/network/hostmap.py) is a process-wide setting, so it stays in crawler/settings.py.
"""

from __future__ import annotations

from crawler.components import defaults, register

DEFAULTS = {
    #: Crawl hosts that are or resolve to loopback/private/link-local/reserved addresses (hosts
    #: named in HOST_MAP are always allowed). See docs/crash-safety.md, "Address policy".
    "ALLOW_PRIVATE_ADDRESSES": False,
    #: Seconds before the first retry, doubled at each further one, at most RETRY_BACKOFF_MAX.
    "RETRY_BACKOFF_BASE": 1.0,
    "RETRY_BACKOFF_MAX": 60.0,
    #: Longest Retry-After honoured; a server asking for more gets the request given up.
    "RETRY_AFTER_MAX": 120.0,
    #: Cookies as browsers keep them (RFC 6265, 6.1): bytes of name and value at most, cookies per
    #: domain at most, bytes of a request's Cookie header at most (whole cookies are left out).
    "COOKIES_MAX_SIZE": 4096,
    "COOKIES_MAX_PER_DOMAIN": 50,
    "COOKIES_MAX_HEADER": 8192,
}

#: Scrapy's extensions that open a port, by their switch (off in crawler/settings.py)
PORT_EXTENSIONS = {
    "TELNETCONSOLE_ENABLED": "scrapy.extensions.telnet.TelnetConsole",
    "REMOTE_CONTROL_ENABLED": "scrapy.extensions.remote_control.RemoteControl",
}


class NetworkPolicy:
    """Add-on: see the module docstring."""

    def update_settings(self, settings):
        defaults(settings, DEFAULTS)
        register(settings, "DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware", None)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.offsite.OnSiteMiddleware", 50)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.addresses.PrivateAddressMiddleware", 60)
        register(settings, "DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware", None)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.robots.Rfc9309RobotsTxtMiddleware", 100)
        register(settings, "DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.retry.RetryMiddleware", None)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.backoff.BackoffRetryMiddleware", 550)
        register(settings, "DOWNLOADER_MIDDLEWARES", "scrapy.downloadermiddlewares.cookies.CookiesMiddleware", None)
        register(settings, "DOWNLOADER_MIDDLEWARES", "crawler.network.cookies.OfflineCookiesMiddleware", 700)
        # out of EXTENSIONS_BASE, not set to None in EXTENSIONS: Scrapy imports every key of EXTENSIONS
        left_out = [path for switch, path in PORT_EXTENSIONS.items() if not settings.getbool(switch)]
        if left_out:
            base = settings.getdict("EXTENSIONS_BASE")
            settings.set("EXTENSIONS_BASE", {path: order for path, order in base.items() if path not in left_out},
                         priority="addon")
