"""Hostile input cannot steer the crawler: off-site, robots and private-address rules hold across redirects,
file names stay inside WARC_DIR, and a crawl opens no listening socket."""

from __future__ import annotations

import asyncio
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from crawler.network.addresses import PrivateAddressMiddleware, address_problem
from tests.crawling import read_items, run_crawl, start_crawl, warcio_check
from tests.sites.faultsite import FaultSite


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


# --- through a crawl ---------------------------------------------------------------------------

class Bait:
    """A plain HTTP server on 127.0.0.1 that a hostile redirect points at; counts its hits."""

    def __enter__(self):
        bait = self
        self.hits = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                bait.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"hi")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class HostileSite(FaultSite):
    """Pages that redirect to loopback, to another site and to a robots-disallowed path."""

    def __init__(self, bait_port: int):
        super().__init__(n_articles=3, faults=["/go/loopback.html", "/go/offsite.html", "/go/private.html",
                                                f"http://127.0.0.1:{bait_port}/direct-link.html"])
        self.bait_port = bait_port

    def route(self, h, path, count):
        targets = {"/go/loopback.html": f"http://127.0.0.1:{self.bait_port}/stolen.html",
                   "/go/offsite.html": "https://www.spacedaily.com/elsewhere.html",
                   "/go/private.html": "/private/secret.html"}
        if path in targets:
            return self.send(h, 301, b"", headers=[("Location", targets[path])])
        return super().route(h, path, count)


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    with Bait() as bait, HostileSite(bait.port) as site:
        # the bait host is mapped as well, so only the address policy stands in the way
        result = run_crawl(out, site, settings={"WARC_PREFIX": "../../../escaped/../x"})
        result["bait_hits"] = bait.hits
        result["hits"] = dict(site.hits)
        result["out"] = out
    return result


def test_redirects_to_loopback_other_sites_or_disallowed_paths_are_not_followed(hostile_crawl):
    assert hostile_crawl["returncode"] == 0, hostile_crawl["output"][-3000:]
    assert hostile_crawl["bait_hits"] == 0
    assert "/private/secret.html" not in hostile_crawl["hits"]
    stats = hostile_crawl["stats_data"]
    assert stats.get("robotstxt/forbidden", 0) >= 1
    assert stats.get("offsite/filtered", 0) + stats.get("safety/refused/offsite_redirect", 0) >= 2
    assert len(read_items(hostile_crawl["items"])) == 3  # the good articles are unaffected


def test_a_hostile_warc_prefix_cannot_escape_warc_dir(hostile_crawl):
    out = hostile_crawl["out"]
    warc_dir = out / "warc"
    files = list(warc_dir.glob("*.warc.gz"))
    assert files and all(warcio_check(p) for p in files)
    assert not (out.parent / "escaped").exists() and not any(out.parent.parent.glob("escaped*"))
    for path in out.rglob("*"):
        if path.is_file() and ".warc.gz" in path.name:
            assert path.parent == warc_dir
            assert path.resolve().parent == warc_dir.resolve() and not path.name.startswith(".")


def listening_sockets(pid: int) -> list[str]:
    """TCP/UDP sockets in LISTEN state (or bound UDP) owned by process `pid`, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.append(f"{table} {fields[1]}")
    for table in ("udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and fields[2].endswith(":0000"):  # bound, not connected
                found.append(f"{table} {fields[1]}")
    return found


def test_a_crawl_opens_no_listening_socket(tmp_path):
    with FaultSite(n_articles=2, faults=["/reports/Slow_999.html"]) as site:
        proc, paths = start_crawl(tmp_path, site)
        try:
            assert site.arrived.wait(60), "crawl never reached the slow page"
            assert Path(f"/proc/{proc.pid}/fd").exists()
            sockets = [link for link in (os.readlink(fd) for fd in Path(f"/proc/{proc.pid}/fd").iterdir())
                       if link.startswith("socket:")]
            assert sockets, "the crawl should hold its client connection at this point"
            assert listening_sockets(proc.pid) == []
        finally:
            site.hold.set()
            proc.wait(timeout=60)
    assert proc.returncode == 0
