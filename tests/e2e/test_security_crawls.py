"""Hostile input cannot steer a real crawl: off-site, robots and private-address rules hold across redirects, file
names stay inside WARC_DIR, and a crawl opens no listening socket."""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.crawling import read_items, run_crawl, start_crawl, warcio_check
from tests.sites.faultsite import FaultSite


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


def _link(fd: Path) -> str:
    """Where a descriptor of the crawl points; "" when the crawl closed it between the listing and the read."""
    try:
        return os.readlink(fd)
    except OSError:
        return ""


def listening_sockets(pid: int) -> list[str]:
    """TCP/UDP sockets in LISTEN state (or bound UDP) owned by process `pid`, from /proc."""
    inodes = set()
    for target in map(_link, Path(f"/proc/{pid}/fd").iterdir()):
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
            sockets = [link for link in map(_link, Path(f"/proc/{proc.pid}/fd").iterdir())
                       if link.startswith("socket:")]
            assert sockets, "the crawl should hold its client connection at this point"
            assert listening_sockets(proc.pid) == []
        finally:
            site.hold.set()
            proc.wait(timeout=60)
    assert proc.returncode == 0
