"""Spider contract `@fixture PATH URL`: run a callback on a fixture page as if it had been fetched from URL.

`scrapy check spacewar` then tests the spider's callbacks on the pages in tests/fixtures/
with no network: the request goes to the fixture file, and the callback receives a
response carrying the page's real URL (the spider routes by URL).
"""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from scrapy.contracts import Contract
from scrapy.http import Request
from scrapy.responsetypes import responsetypes

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


class FixtureContract(Contract):
    """@fixture samples/article-afp.html https://www.spacewar.com/reports/..._999.html"""

    name = "fixture"

    def adjust_request_args(self, args: dict) -> dict:
        path = (FIXTURES / self.args[0]).resolve()
        if FIXTURES not in path.parents:
            raise ValueError(f"@fixture path must stay inside {FIXTURES}: {self.args[0]}")
        args["url"] = path.as_uri()
        return args

    def add_pre_hook(self, request: Request, results) -> Request:
        callback = request.callback
        url = self.args[1]

        @wraps(callback)
        def as_fetched(response, **kwargs):
            # each fixture page is checked on its own, as the first page of a crawl: links another
            # contract's page requested are requested again (spiders/network.py schedule)
            requested = getattr(getattr(callback, "__self__", None), "requested_links", None)
            if requested is not None:
                requested.clear()
            cls = responsetypes.from_args(headers=response.headers, url=url, body=response.body)
            fetched = cls(url=url, body=response.body, headers=response.headers, status=200,
                          request=response.request)
            return callback(fetched, **kwargs)

        request.callback = as_fetched
        return request
