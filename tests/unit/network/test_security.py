"""Hostile input cannot steer the crawler, without a crawl: private addresses and off-site redirect targets are
refused, mapped hosts exempt only on their port."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.network.addresses import PrivateAddressMiddleware, address_problem


# --- the address policy, unit by unit ----------------------------------------------------------

@pytest.mark.parametrize("address,problem", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("fc00::1", "private"),
    ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"), ("100.64.0.1", "non-global"),
    ("::ffff:127.0.0.1", "loopback"), ("240.0.0.1", "reserved"),
    ("93.184.216.34", None), ("2606:2800:220:1:248:1893:25c8:1946", None), ("not-an-ip", None),
])
def test_address_classes(address, problem):
    assert address_problem(address) == problem


def run(coro):
    return asyncio.run(coro)


def middleware(resolve_to=None, mapped=()):
    async def resolve(host):
        if resolve_to is None:
            raise OSError("no such name")
        return resolve_to

    return PrivateAddressMiddleware(mapped, None, resolve)


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "https://10.0.0.8/x", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]:8080/", "http://0.0.0.0/"])
def test_requests_to_private_address_literals_are_refused(url):
    with pytest.raises(IgnoreRequest, match="refused"):
        run(middleware().process_request(Request(url)))


def test_a_name_resolving_to_a_private_address_is_refused_unless_host_map_names_it():
    with pytest.raises(IgnoreRequest, match="resolves to 10.0.0.5"):
        run(middleware("10.0.0.5").process_request(Request("https://www.spacewar.com/")))
    assert run(middleware("127.0.0.1", mapped=[("www.spacewar.com", 443)]).process_request(
        Request("https://www.spacewar.com/"))) is None
    assert run(middleware("127.0.0.1", mapped=[("www.spacewar.com", None)]).process_request(
        Request("http://www.spacewar.com/"))) is None  # a key without a port maps every port


def test_a_host_mapped_on_one_port_is_not_exempt_on_another():
    mapped = middleware("10.0.0.5", mapped=[("www.spacewar.com", 443)])
    assert run(mapped.process_request(Request("https://www.spacewar.com/"))) is None
    with pytest.raises(IgnoreRequest, match="resolves to 10.0.0.5"):  # port 80: ordinary DNS, checked
        run(mapped.process_request(Request("http://www.spacewar.com/")))


def test_public_and_unresolvable_names_pass():
    assert run(middleware("93.184.216.34").process_request(Request("https://www.spacewar.com/"))) is None
    assert run(middleware(None).process_request(Request("https://www.spacewar.com/"))) is None


def test_a_response_served_from_a_private_peer_is_refused():
    mw = middleware("93.184.216.34")
    request = Request("https://www.spacewar.com/")
    from ipaddress import ip_address

    response = Response(request.url, request=request, ip_address=ip_address("192.168.0.9"))
    with pytest.raises(IgnoreRequest, match="private_peer|served from"):
        mw.process_response(request, response)


def test_an_off_site_redirect_target_is_refused_even_with_dont_filter():
    mw = middleware("93.184.216.34")

    class Spider:
        allowed_domains = ["spacewar.com"]

    class Crawler:
        spider = Spider()

    mw.crawler = Crawler()
    redirected = Request("https://evil.example/", dont_filter=True,
                         meta={"redirect_urls": ["https://www.spacewar.com/a.html"]})
    with pytest.raises(IgnoreRequest, match="offsite_redirect|leaves"):
        run(mw.process_request(redirected))
    on_site = Request("https://spacewar.com/b.html", dont_filter=True,
                      meta={"redirect_urls": ["https://www.spacewar.com/a.html"]})
    assert run(mw.process_request(on_site)) is None
    for same_host in ("https://www.spacewar.com:443/b.html", "https://www.spacewar.com./b.html",
                      "https://WWW.SpaceWar.com.:443/b.html"):
        redirect = Request(same_host, dont_filter=True, meta={"redirect_urls": ["https://www.spacewar.com/a.html"]})
        assert run(mw.process_request(redirect)) is None, same_host


def test_the_setting_turns_the_policy_off():
    crawler = get_crawler(settings_dict={"ALLOW_PRIVATE_ADDRESSES": True})
    with pytest.raises(NotConfigured):
        PrivateAddressMiddleware.from_crawler(crawler)
