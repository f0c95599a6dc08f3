"""The archive replays whole in the tools archivists use: pywb 2.10 and ReplayWeb.page 2.5.3 in headless Chromium.

Two scheduled runs of a replica of its own (faults on: a 301, 404s, a 503 then a 200, a slow and a
truncated article) write into one WARC_DIR with one STATE_PATH, each with its WACZ; between them two
articles are edited, so run 2 holds 2 changed articles and revisits of 304s for the others. Then:

* the archive's records: 304s as server-not-modified revisits that name their original, item and
  capture-metadata records under no page's index key, every image an item lists and the pages' CSS
  archived (page requisites), and the run-2 WACZ carrying the run-1 file its revisits point into;
* pywb over all WARC files of both runs: every article's latest capture is its HTML page with its
  latest text, at the date of its latest record; over the run-2 WACZ alone every article replays;
  the items' images replay as images; with docs/pywb-rules.yaml, links with ?ref= and tracking
  parameters find their article;
* ReplayWeb.page over the run-2 WACZ, offline: the page list shows every article; a sample of
  articles (those with images, the edited ones, the 503-then-200 one) replays with its text and its
  images, and a search for a word of its body finds it; no request leaves 127.0.0.1;
* the same two runs with the articles sent chunked: no revisit refers to a chunked response, so the
  articles are fetched in full again and pywb still shows each at its latest capture.

pywb, ReplayWeb.page and Chromium come from tests/replay/tools.py (`.ci/replay-tools` in CI).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import lxml.html
import pytest
from w3lib.encoding import html_to_unicode
from warcio.archiveiterator import ArchiveIterator

from crawler.offline.wacz import capture_time
from crawler.warc.records import ITEM_URN, refers_to_date
from tests.crawling import REPO
from tests.replay import tools
from tests.replay.crawls import records, two_runs
from tests.replay.pywb import fetch, memento_ts, pywb_server, warc_ts
from tests.replay.rwp import search_words
from tests.sites.replica.pages import JPEG_SIZE
from tests.sites.replica.server import ReplicaServer

RULES = REPO / "docs" / "pywb-rules.yaml"


def words(text: str) -> str:
    return " ".join(text.split())


def page_text(headers, body: bytes) -> str:
    _, html = html_to_unicode(headers.get("Content-Type"), body)
    root = lxml.html.document_fromstring(html)
    for el in root.iter("script", "style"):
        el.text = ""
    return words(root.text_content())


def paragraphs(item: dict) -> list[str]:
    return [words(p) for p in item["body"].split("\n\n") if p.strip()]


def shows(item: dict, text: str) -> bool:
    """The page text holds the item's first and last paragraph (an edit adds a last one)."""
    paras = paragraphs(item)
    return paras[0] in text and paras[-1] in text


# --- the two runs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def replica2():
    with ReplicaServer(n_articles=40, faults=True, slow_seconds=0.5) as server:
        yield server


@pytest.fixture(scope="module")
def runs(replica2, tmp_path_factory):
    result = two_runs(tmp_path_factory.mktemp("replay"), replica2)
    assert [r.result.returncode for r in result.runs] == [0, 0], result.runs[-1].result.log[-3000:]
    assert set(result.items) == set(result.expected)
    return result


@pytest.fixture(scope="module")
def latest_records(runs):
    """url -> WARC-Date of its latest response or revisit record in both runs' files."""
    latest = {}
    for _, headers, _ in records(runs.all_warc_files()):
        url, date = headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Date")
        latest[url] = max(latest.get(url, ""), date)
    return latest


def test_run_2_revalidates_with_304s_and_exports_only_the_edited_articles(runs):
    second = runs.runs[1]
    assert sorted(i["url"] for i in second.result.items) == sorted(runs.edited)
    unchanged = len(runs.expected) - len(runs.edited)
    assert second.stats["incremental/not_modified"] == unchanged
    assert second.stats["warc/revisits/server-not-modified"] == unchanged
    assert not second.stats.get("warc/not_modified_without_original")


def test_a_304_is_a_revisit_with_no_block_naming_the_response_it_confirms(runs):
    first = {h.get_header("WARC-Record-ID"): h for _, h, _ in records(runs.runs[0].warc_files)}
    revisits = [h for _, h, _ in records(runs.runs[1].warc_files, ("revisit",))
                if h.get_header("WARC-Profile").endswith("/server-not-modified")]
    assert len(revisits) == len(runs.expected) - len(runs.edited)
    for h in revisits:
        assert h.get_header("Content-Length") == "0"
        original = first[h.get_header("WARC-Refers-To")]
        assert original.get_header("WARC-Type") == "response"
        assert h.get_header("WARC-Refers-To-Target-URI") == original.get_header("WARC-Target-URI") \
            == h.get_header("WARC-Target-URI")
        assert h.get_header("WARC-Refers-To-Date") == refers_to_date(original.get_header("WARC-Date"))
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", h.get_header("WARC-Refers-To-Date"))
        assert h.get_header("WARC-Payload-Digest") == original.get_header("WARC-Payload-Digest")


def test_the_304s_own_head_is_kept_in_the_capture_metadata_record(runs):
    heads = []
    for path in runs.runs[1].warc_files:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "metadata" and record.rec_headers.get_header("Content-Type") == \
                        "application/warc-fields":
                    block = record.content_stream().read().decode()
                    if "status: 304" in block:
                        heads.append(block)
    assert len(heads) == len(runs.expected) - len(runs.edited)
    assert all("notModifiedStatus: HTTP/1.1 304 Not Modified" in b and "notModifiedHeader: ETag:" in b for b in heads)


def test_both_runs_pass_warcio_check(runs):
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", *map(str, runs.all_warc_files())],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]


def test_no_index_line_files_an_item_or_capture_metadata_under_a_page(runs):
    """Replay tools answer a page's URL from its index key: only HTTP records may be filed under one."""
    lines = []
    for path in runs.all_warc_files():
        index = path.with_name(path.name + ".cdxj")
        lines += [json.loads(line.split(" ", 2)[2]) for line in index.read_text().splitlines() if line.strip()]
    pages = [f for f in lines if f["url"].startswith(("http://", "https://"))]
    assert pages and all(f.get("mime") not in ("application/json", "application/warc-fields") for f in pages)
    items = [f for f in lines if f["url"].startswith(ITEM_URN)]
    assert {f["url"][len(ITEM_URN):] for f in items} == set(runs.expected)


def test_every_image_an_item_lists_has_a_200_image_record_and_the_css_is_archived(runs):
    archived = {}
    for _, headers, status in records(runs.all_warc_files()):
        archived.setdefault(headers.get_header("WARC-Target-URI"), set()).add(status)
    images = {img["url"] for items in runs.items.values() for img in items[-1].get("images") or []}
    assert len(images) > 20
    assert [url for url in images if 200 not in archived.get(url, set())] == []
    assert 200 in archived["https://www.spacewar.com/css/spacewar.css"]
    stats = runs.runs[0].stats
    assert stats["requisites/requested"] >= len(images) + 1
    assert stats["requisites/status/200"] >= len(images) + 1
    # requisites are archived, never items
    assert all(not url.endswith((".jpg", ".gif", ".css")) for url in runs.items)


def test_the_run_2_wacz_carries_the_run_1_file_its_revisits_refer_to_and_lists_every_article(runs):
    wacz = runs.runs[1].wacz
    with zipfile.ZipFile(wacz) as z:
        names = set(z.namelist())
        header, *pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines() if line.strip()]
        package = json.loads(z.read("datapackage.json"))
    for path in runs.all_warc_files():
        assert f"archive/{path.name}" in names
    assert {p["url"] for p in pages} == set(runs.expected)
    for page in pages:
        item = runs.latest_item(page["url"])
        assert page["title"] == item["title"] and page["text"] == item["body"]
    assert "crawl" in package["title"] and "earlier runs" in package["description"]
    stats = runs.runs[1].stats
    assert stats["wacz/earlier_warc_files"] == len(runs.runs[0].warc_files)
    assert stats["wacz/valid"] is True


def test_the_run_1_wacz_is_valid_and_its_pages_are_the_exported_articles_captures(runs):
    run = runs.runs[0]
    check = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(run.wacz)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    with zipfile.ZipFile(run.wacz) as z:
        for warc in run.warc_files:
            assert z.read(f"archive/{warc.name}") == warc.read_bytes()
        header, *pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines() if line.strip()]
    assert header["format"] == "json-pages-1.0"
    items = {item["url"]: item for item in run.result.items}
    assert {page["url"] for page in pages} == set(items)
    for page in pages:
        assert (page["url"], page["ts"]) == capture_time(runs.warc_dir, items[page["url"]]["warc"])


def test_no_wacz_unless_asked(full_crawl):
    assert not list(full_crawl.outdir.glob("*.wacz"))
    assert not list(full_crawl.warc_dir.parent.glob("*.wacz"))


# --- pywb ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pywb_all(runs, replica2, tmp_path_factory):
    """pywb over every WARC file of both runs, with the project's fuzzy-match rules."""
    tools.need("pywb")
    before = len(replica2.log)
    with pywb_server(runs.all_warc_files(), tmp_path_factory.mktemp("pywb-all"), rules_file=RULES) as base:
        yield base
    assert len(replica2.log) == before, "pywb reached the replica: it must replay from the archive only"


def test_pywb_shows_every_articles_latest_capture_as_its_page(runs, pywb_all, latest_records):
    """`/coll/mp_/<url>` with no timestamp: what a reader gets asking for the page."""
    wrong = []
    for url in runs.expected:
        status, headers, body, _ = fetch(f"{pywb_all}/coll/mp_/{url}")
        ok = status == 200 and headers.get_content_type() == "text/html" and \
            shows(runs.latest_item(url), page_text(headers, body))
        if not ok or memento_ts(headers) != warc_ts(latest_records[url]):
            wrong.append((url, status, headers.get_content_type(), memento_ts(headers), warc_ts(latest_records[url])))
    assert wrong == []


def test_pywb_replays_each_capture_by_its_timestamp_byte_for_byte(runs, pywb_all):
    for item in runs.runs[0].result.items[:10]:
        _, date = capture_time(runs.warc_dir, item["warc"])
        status, headers, body, _ = fetch(f"{pywb_all}/coll/{warc_ts(date)}id_/{item['url']}")
        assert status == 200 and item["title"] in page_text(headers, body), item["url"]


def test_pywb_replays_the_items_images_and_the_item_json_at_its_urn(runs, pywb_all):
    for url in runs.expected:
        for img in runs.latest_item(url).get("images") or []:
            status, headers, body, _ = fetch(f"{pywb_all}/coll/id_/{img['url']}")
            assert (status, headers.get_content_type()) == (200, "image/jpeg") and body[:2] == b"\xff\xd8", img["url"]
    url = runs.expected[0]
    status, headers, body, _ = fetch(f"{pywb_all}/coll/id_/{ITEM_URN}{url}")
    assert status == 200 and json.loads(body)["url"] == url


def test_pywb_with_the_rules_file_finds_articles_linked_with_ref_and_tracking_parameters(runs, pywb_all, replica2):
    flaky = {a.url for a in replica2.site.articles if a.fault == "flaky"}
    for url in [u for u in runs.expected if "/reports/" in u and u not in flaky][:6]:
        bare = url.replace("https://www.", "https://")
        for link in (f"{bare}?ref=mostread", f"{url}?utm_source=home&utm_medium=box", url.replace("https://www.", "http://")):
            status, headers, body, _ = fetch(f"{pywb_all}/coll/mp_/{link}")
            assert status == 200 and shows(runs.latest_item(url), page_text(headers, body)), link


def test_pywb_answers_404_for_pages_not_in_the_archive(pywb_all):
    status, _, _, _ = fetch(f"{pywb_all}/coll/2024id_/https://www.spacewar.com/reports/Never_archived_999.html")
    assert status == 404


def test_pywb_replays_every_article_from_the_run_2_wacz_alone(runs, tmp_path):
    tools.need("pywb")
    with pywb_server([runs.runs[1].wacz], tmp_path / "pywb-wacz") as base:
        wrong = []
        for url in runs.expected:
            status, headers, body, _ = fetch(f"{base}/coll/mp_/{url}")
            if not (status == 200 and shows(runs.latest_item(url), page_text(headers, body))):
                wrong.append((url, status))
        for img in {i["url"] for items in runs.items.values() for i in items[-1].get("images") or []}:
            status, headers, _, _ = fetch(f"{base}/coll/id_/{img}")
            if status != 200:
                wrong.append((img, status))
    assert wrong == []


# --- ReplayWeb.page ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rwp(runs):
    tools.need("rwp", "chromium", "playwright")
    from tests.replay.rwp import ReplayWebPage

    with ReplayWebPage(runs.runs[1].wacz, tools.rwp_dir(), tools.chromium()) as browser:
        yield browser
        assert browser.outside_requests() == [], "the browser must stay offline"


@pytest.fixture(scope="module")
def rwp_pages(rwp):
    return rwp.page_list()


@pytest.fixture(scope="module")
def sample(runs, replica2):
    """The articles ReplayWeb.page replays and searches (all of them take about 2 minutes): the first
    four with images, the edited ones, and the one that answered 503 before its 200."""
    with_images = [u for u in runs.expected if runs.latest_item(u).get("images")][:4]
    flaky = [a.url for a in replica2.site.articles if a.fault == "flaky" and a.url in runs.expected]
    return list(dict.fromkeys(with_images + runs.edited + flaky))


def test_replaywebpage_lists_every_article(runs, rwp_pages):
    listed = {entry["url"] for entry in rwp_pages}
    assert [url for url in runs.expected if url not in listed] == []


def test_replaywebpage_shows_an_articles_text_and_its_images(runs, rwp, rwp_pages, sample):
    from tests.replay.rwp import shown as shown_image

    ts_of = {entry["url"]: entry["ts"] for entry in rwp_pages}
    wrong = []
    for url in sample:
        item = runs.latest_item(url)
        data = rwp.replay(url, ts_of.get(url, ""))
        if not shows(item, data["text"]):
            wrong.append((url, "text", data["text"][:200]))
        for img in item.get("images") or []:
            image = shown_image(data["images"], img["url"])
            if image is None or (image["width"], image["height"]) != JPEG_SIZE:
                wrong.append((url, "image", img["url"]))
    assert wrong == []


def test_replaywebpage_finds_an_article_by_a_word_of_its_body(runs, rwp, rwp_pages, sample):
    wanted = search_words({url: runs.latest_item(url) for url in runs.expected})
    missed = [(url, wanted[url]) for url in sample if url not in rwp.search(wanted[url])]
    assert missed == []


# --- chunked articles -----------------------------------------------------------------------------
class ChunkedArticles(ReplicaServer):
    """The replica with its article pages sent chunked too (by default only feeds and some listings are)."""

    def _page_reply(self, page, req_headers):
        reply = super()._page_reply(page, req_headers)
        if page.kind == "article" and reply.status == 200:
            reply.chunked = True
        return reply


def test_chunked_articles_are_fetched_in_full_and_replay_at_their_latest_capture(tmp_path):
    with ChunkedArticles(n_articles=24, faults=True, slow_seconds=0.5) as server:
        result = two_runs(tmp_path / "runs", server)
    assert [r.result.returncode for r in result.runs] == [0, 0]
    second = result.runs[1].stats
    # every known article asked for without validators (the 503-then-200 one twice: its retry too)
    assert len(result.expected) <= second["incremental/unconditional/chunked"] <= len(result.expected) + 1
    assert not second.get("incremental/not_modified")
    originals = {h.get_header("WARC-Record-ID"): h for _, h, _ in records(result.all_warc_files())}
    for _, h, _ in records(result.all_warc_files(), ("revisit",)):
        assert not originals[h.get_header("WARC-Refers-To")].get_header("X-Entity-Payload-Digest")
    # the unchanged articles fetched again are pages of the run-2 WACZ
    with zipfile.ZipFile(result.runs[1].wacz) as z:
        pages = [json.loads(line) for line in z.read("pages/pages.jsonl").splitlines()[1:] if line.strip()]
    assert {p["url"] for p in pages} == set(result.expected)
    tools.need("pywb")
    latest = {}
    for _, headers, _ in records(result.all_warc_files()):
        url = headers.get_header("WARC-Target-URI")
        latest[url] = max(latest.get(url, ""), headers.get_header("WARC-Date"))
    with pywb_server(result.all_warc_files(), tmp_path / "pywb") as base:
        wrong = []
        for url in result.expected:
            status, headers, body, _ = fetch(f"{base}/coll/mp_/{url}")
            if not (status == 200 and shows(result.latest_item(url), page_text(headers, body))
                    and memento_ts(headers) == warc_ts(latest[url])):
                wrong.append((url, status, memento_ts(headers), warc_ts(latest[url])))
    assert wrong == []


# --- the run report -------------------------------------------------------------------------------
def test_the_run_report_names_the_error_urls_truncations_retries_and_the_wacz(runs, replica2):
    run = runs.runs[0]
    [report] = run.result.outdir.glob("*-report.md")
    text = report.read_text("utf-8")
    not_found = sorted({h.get_header("WARC-Target-URI") for _, h, status in records(run.warc_files) if status == 404})
    pages = [url for url in not_found if not url.endswith((".svg", ".jpg", ".gif", ".css"))]
    assert pages and f"### HTTP 404 (page): {len(pages)}" in text
    assert f"### HTTP 404 (requisite): {len(not_found) - len(pages)}" in text or len(not_found) == len(pages)
    assert all(f"`{url}`" in text for url in not_found)
    truncated = [a.url for a in replica2.site.articles if a.fault == "truncated"]
    flaky = [a.url for a in replica2.site.articles if a.fault == "flaky"]
    assert truncated and f"`{truncated[0]}` (HTTP 200" in text
    assert flaky and f"`{flaky[0]}` (503 -> 200)" in text
    assert "| Retries | 1 (503 Service Unavailable: 1) |" in text
    assert f"| WACZ | {run.wacz}: valid (wacz validate)" in text
    [second] = runs.runs[1].result.outdir.glob("*-report.md")
    assert f"{len(runs.runs[0].warc_files)} of earlier runs, holding the originals of revisits" in second.read_text()
