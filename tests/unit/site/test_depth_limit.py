"""The depth limit: a link first found too deep is still requested when a page nearer the start links to it."""

from __future__ import annotations

def test_a_link_first_found_beyond_the_depth_limit_is_requested_when_found_nearer():
    from scrapy.http import HtmlResponse, Request
    from scrapy.utils.test import get_crawler

    from spiders.sites import SpacewarSpider

    crawler = get_crawler(SpacewarSpider, {"DEPTH_LIMIT": 2})
    spider = SpacewarSpider.from_crawler(crawler)
    crawler.stats.open_spider()
    link = "https://www.spacewar.com/reports/Deep_999.html"

    def found_at(depth):
        request = Request("https://www.spacewar.com/Missile_Defense.html", meta={"depth": depth})
        response = HtmlResponse(request.url, body=f'<a href="{link}">x</a>'.encode(), request=request)
        return [r.url for r in spider.schedule(response, [link])], response.meta["_outlinks"]

    assert found_at(3) == ([link], [link])  # depth 4: the depth middleware drops it
    assert found_at(1) == ([link], [link])  # depth 2: requested again, nearer
    assert found_at(1) == ([], [link])  # same depth again: the duplicate filter would drop it
    assert found_at(0) == ([link], [link])  # nearer still


