"""The archive replays: `-s WACZ=True` writes a valid WACZ of the crawl, and pywb, started on
127.0.0.1 over the crawl's WARC files, serves the article pages with their text."""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

import lxml.html
import pytest
from w3lib.encoding import html_to_unicode
from warcio.timeutils import iso_date_to_timestamp

from crawler.offline.wacz import capture_time
from tests.crawling import crawl

# pywb 2.8.0 in this virtualenv needs one shim: it pins fakeredis<1.0, which imports
# redis.utils.dummy, a class redis-py dropped in 4.0 (the project needs redis>=5 for
# scrapy-redis). `dummy` was an empty attribute container; nothing else is patched.
PYWB_LAUNCHER = r'''
import sys
import redis.utils
if not hasattr(redis.utils, "dummy"):
    class dummy:
        pass
    redis.utils.dummy = dummy
from gevent.monkey import patch_all; patch_all()
from gevent.pywsgi import WSGIServer
from pywb.apps.frontendapp import FrontEndApp
from pywb.manager.manager import main as wb_manager

port, warcs = int(sys.argv[1]), sys.argv[2:]
wb_manager(["init", "coll"])
wb_manager(["add", "coll", *warcs])
app = FrontEndApp(config_file="config.yaml")
WSGIServer(("127.0.0.1", port), app, log=None).serve_forever()
'''

# Replay from the archive only: no "live" collection, no proxy mode, no recording.
PYWB_CONFIG = "collections_root: collections\nenable_memento: true\nframed_replay: true\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def pywb(warcs: list[Path], workdir: Path, timeout: float = 60):
    """pywb serving one collection "coll" of the given WARC files on 127.0.0.1; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(PYWB_CONFIG)
    port = free_port()
    log = open(workdir / "pywb.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", PYWB_LAUNCHER, str(port), *map(str, warcs)],
                            cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("pywb exited:\n" + (workdir / "pywb.log").read_text(errors="replace"))
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("pywb did not start:\n" + (workdir / "pywb.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def fetch(url: str):
    """(status, headers, body decoded from its content-coding)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status, headers, body = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, headers, body = err.code, err.headers, err.read()
    coding = (headers.get("Content-Encoding") or "").lower()
    if coding == "gzip":
        body = gzip.decompress(body)
    elif coding == "deflate":
        body = zlib.decompress(body)
    return status, headers, body


def words(text: str) -> str:
    return " ".join(text.split())


def page_text(headers, body: bytes) -> str:
    _, html = html_to_unicode(headers.get("Content-Type"), body)
    return words(lxml.html.document_fromstring(html).text_content())


def first_paragraph(item) -> str:
    return words(item["body"].split("\n\n")[0])


def capture_ts(crawl_result, item) -> str:
    """14-digit timestamp of the capture an item was extracted from."""
    _, date = capture_time(crawl_result.warc_dir, item["warc"])
    return iso_date_to_timestamp(date)


# --- WACZ ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wacz_crawl(replica, tmp_path_factory):
    outdir = tmp_path_factory.mktemp("wacz")
    result = crawl(outdir, replica.host_map(), settings={"WACZ": "True", "WACZ_PATH": str(outdir / "crawl.wacz")})
    result.wacz = outdir / "crawl.wacz"
    return result


def test_wacz_true_packages_the_crawl_as_a_valid_wacz(wacz_crawl):
    assert wacz_crawl.returncode == 0
    assert wacz_crawl.wacz.is_file(), wacz_crawl.log[-3000:]
    check = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(wacz_crawl.wacz)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "WACZ written" in wacz_crawl.log and "does not validate" not in wacz_crawl.log


def test_wacz_holds_the_crawls_warc_files_and_its_article_pages(wacz_crawl):
    with zipfile.ZipFile(wacz_crawl.wacz) as wacz:
        names = set(wacz.namelist())
        warcs = wacz_crawl.warc_files()
        assert warcs
        for warc in warcs:
            assert f"archive/{warc.name}" in names
            assert wacz.read(f"archive/{warc.name}") == warc.read_bytes()
        assert {"datapackage.json", "pages/pages.jsonl"} <= names
        assert any(name.startswith("indexes/") for name in names)
        header, *pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines() if line.strip()]
    assert header["format"] == "json-pages-1.0"
    items = {item["url"]: item for item in wacz_crawl.items}
    assert items
    assert {page["url"] for page in pages} == set(items)
    for page in pages:
        assert page["title"] == items[page["url"]]["title"]
        assert iso_date_to_timestamp(page["ts"]) == capture_ts(wacz_crawl, items[page["url"]])


def test_no_wacz_unless_asked(full_crawl):
    assert not list(full_crawl.outdir.glob("*.wacz"))
    assert not list(full_crawl.warc_dir.parent.glob("*.wacz"))


# --- pywb -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def replay_server(full_crawl, replica, tmp_path_factory):
    before = len(replica.log)
    with pywb(full_crawl.warc_files(), tmp_path_factory.mktemp("pywb")) as base:
        yield base
    assert len(replica.log) == before, "pywb reached the replica: it must replay from the archive only"


@pytest.mark.parametrize("mode", ["id_", "mp_"])
def test_pywb_replays_every_article_page_with_its_text(full_crawl, replay_server, mode):
    """id_: the archived bytes unchanged; mp_: the page as pywb rewrites it for replay."""
    assert full_crawl.items
    for item in full_crawl.items:
        url = f"{replay_server}/coll/{capture_ts(full_crawl, item)}{mode}/{item['url']}"
        status, headers, body = fetch(url)
        assert status == 200, url
        assert headers.get_content_type() == "text/html", (url, headers.get("Content-Type"))
        assert first_paragraph(item) in page_text(headers, body), url
        if mode == "id_":
            assert item["title"] in page_text(headers, body)


def test_pywb_answers_404_for_pages_not_in_the_archive(replay_server):
    status, _, _ = fetch(f"{replay_server}/coll/2024id_/https://www.spacewar.com/reports/Never_archived_999.html")
    assert status == 404
