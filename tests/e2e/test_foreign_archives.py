"""End to end: archives of the replica made by other tools rebuild the live crawl's items, one per article, exactly.

A researcher most often holds someone else's archive of the site. The replica is archived here by
the tools themselves, or by warcio's writer following the tool's documented conventions:

* GNU wget `--warc-file`, in list mode (`-i`) and recursive (`-r`), through a CONNECT proxy that
  sends www.spacewar.com to the replica (tests/sites/connect_proxy.py): wget writes the target URI
  in angle brackets, and stores a transfer it retried with a Range without the body's first bytes;
* warcprox (a MITM archiving proxy, in a virtualenv of its own: `bash .ci/archive-tools`), its
  upstream the same proxy as SOCKS5 on 127.0.0.2 (warcprox refuses 127.0.0.1 upstreams): it stores
  the replica's cut-off article as an ordinary 200 whose body is the first bytes ("The ...");
* Common Crawl's layout (`segments/*/warc/CC-MAIN-*.warc.gz`): WARC/1.0, payloads stored decoded
  with the original Content-Encoding and Content-Length kept as `X-Crawler-*` headers, and mostly
  other sites' pages (skipped on their WARC headers);
* Heritrix-style revisits (identical payload digest, no WARC-Refers-To) in a later file;
* a WACZ made by the `wacz` tool (its archive/ members stored in the ZIP);
* the crawl's own WARC gzipped as a whole, and rewritten as WARC/0.18 without compression;
* one unreadable file among the good ones.

Every article item must equal the live crawl's (the full_crawl fixture) field by field, but the
capture's own fields (`fetched_at`, `warc`); no junk, no duplicates, exit 0.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from tests.crawling import read_items
from tests.e2e.test_reprocess import CAPTURE_FIELDS, reprocess
from tests.sites.commoncrawl import write_common_crawl
from tests.sites.connect_proxy import ConnectProxy

OFF_SITE_PER_PAGE = 3  # other sites' pages per page of the site in the Common Crawl-like file


@pytest.fixture(scope="module")
def live(full_crawl):
    items = {i["url"]: i for i in full_crawl.items}
    assert items and full_crawl.returncode == 0
    return {"items": items, "warc": full_crawl.warc_files(), "template": full_crawl.warc_dir / "boilerplate.json",
            "crawl": full_crawl}


def rebuild(tmp_path: Path, live: dict, *inputs, extra=()) -> dict:
    out, summary = tmp_path / "items.jsonl", tmp_path / "summary.json"
    proc = reprocess(*inputs, "-O", out, "--processes", "2", "--task-size", "16384", "--template", live["template"],
                     "--summary", summary, *extra)
    return {"proc": proc, "items": read_items(out),
            "summary": json.loads(summary.read_text()) if summary.exists() else None}


def assert_same_articles(got: dict, live: dict, *, without: set = frozenset()) -> None:
    """Every live item rebuilt (but the URLs `without` a whole capture in the archive), equal, once; nothing else."""
    assert got["proc"].returncode == 0, got["proc"].stderr[-3000:]
    urls = [i["url"] for i in got["items"]]
    assert len(urls) == len(set(urls)), "duplicate items"
    unknown = set(urls) - set(live["items"])
    assert not unknown, f"items the live crawl did not make (junk): {sorted(unknown)[:5]}"
    assert set(urls) == set(live["items"]) - set(without)
    for item in got["items"]:
        want = live["items"][item["url"]]
        for name in set(want) | set(item):
            if name not in CAPTURE_FIELDS:
                assert item.get(name) == want.get(name), (item["url"], name)
    assert got["summary"]["errors"] == 0 and got["summary"]["extraction_errors"] == 0


# --- the archives -------------------------------------------------------------------------------------
def wget(proxy: ConnectProxy, warc: Path, *args) -> None:
    cmd = ["wget", "-q", f"--warc-file={warc}", "--no-check-certificate", "-e", "use_proxy=yes",
           "-e", f"https_proxy={proxy.url}", "--tries=3", "--retry-on-http-error=503", "--waitretry=0",
           "--timeout=5", "-P", str(warc.parent / "tree"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 4, 8), proc.stderr[-2000:]  # 4, 8: some pages failed or answered errors
    assert warc.with_name(warc.name + ".warc.gz").is_file()


@pytest.fixture(scope="module")
def wget_archives(replica, live, tmp_path_factory):
    if shutil.which("wget") is None:
        pytest.skip("GNU wget is not installed (apt-get install wget)")
    base = tmp_path_factory.mktemp("wget")
    urls = base / "urls.txt"
    urls.write_text("\n".join(["https://www.spacewar.com/", *sorted(live["items"])]) + "\n")
    with ConnectProxy(replica.host_map()) as proxy:
        (base / "list").mkdir()
        wget(proxy, base / "list" / "pages", "-i", str(urls), "--warc-cdx")
        # a second run of the list against the first's CDX: every unchanged page a revisit record, which wget
        # marks `WARC-Truncated: length` (its block is the HTTP headers only)
        (base / "dedup").mkdir()
        shutil.copy(base / "list" / "pages.warc.gz", base / "dedup" / "pages.warc.gz")
        wget(proxy, base / "dedup" / "run2", "-i", str(urls), f"--warc-dedup={base / 'list' / 'pages.cdx'}")
        (base / "recursive").mkdir()
        wget(proxy, base / "recursive" / "site", "-r", "-l", "inf", "https://www.spacewar.com/")
    return base


def flaky_url(replica) -> str:
    """The article the replica answers 503 every other time. wget retries it with `Range: bytes=N-` (N: the
    503 page's length), the replica answers 200 with the whole page, and wget stores that body without its
    first N bytes: the archive holds no whole capture of it, and a rebuild must not make an item of it."""
    return next(a.url for a in replica.site.articles if a.fault == "flaky")


def test_wget_list_mode(wget_archives, live, replica, tmp_path):
    raw = gzip.decompress((wget_archives / "list" / "pages.warc.gz").read_bytes())
    assert b"WARC-Target-URI: <https://www.spacewar.com/" in raw  # what the reader must normalise
    got = rebuild(tmp_path, live, wget_archives / "list")
    assert_same_articles(got, live, without={flaky_url(replica)})
    assert got["summary"]["non_articles"]["truncated"] == 1  # that one; the replica's cut article is not listed


def test_wget_recursive(wget_archives, live, replica, tmp_path):
    got = rebuild(tmp_path, live, wget_archives / "recursive")
    assert_same_articles(got, live, without={flaky_url(replica)})
    # the replica's cut-off article: wget retries it with a Range and writes no response record for it at all
    assert got["summary"]["non_articles"]["truncated"] == 1


def test_wget_dedup_revisits_are_the_latest_captures(wget_archives, live, replica, tmp_path):
    raw = gzip.decompress((wget_archives / "dedup" / "run2.warc.gz").read_bytes())
    assert b"WARC-Type: revisit" in raw and b"WARC-Truncated: length" in raw
    got = rebuild(tmp_path, live, wget_archives / "dedup")
    assert_same_articles(got, live, without={flaky_url(replica)})
    # the items are the second run's revisits, with the first run's payloads; none of them counted truncated
    assert {i["warc"]["filename"] for i in got["items"]} == {"run2.warc.gz"}
    assert got["summary"]["non_articles"]["truncated"] <= 2  # the flaky article's cut captures, one per run


# --- warcprox ------------------------------------------------------------------------------------------
def warcprox_bin() -> Path | None:
    import os

    for candidate in (os.environ.get("WARCPROX_BIN"), Path(__file__).parents[2] / ".replay-tools" / "warcprox-venv"
                      / "bin" / "warcprox", shutil.which("warcprox")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def warcprox_archive(replica, live, tmp_path_factory):
    import os
    import socket
    import time

    tool = warcprox_bin()
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("warcprox is not installed: bash .ci/archive-tools")
        pytest.skip("warcprox is not installed: bash .ci/archive-tools")
    base = tmp_path_factory.mktemp("warcprox")
    cut = next(a.url for a in replica.site.articles if a.fault == "truncated")
    (base / "urls.txt").write_text("\n".join(["https://www.spacewar.com/", cut, *sorted(live["items"])]) + "\n")
    port = free_port()
    with ConnectProxy(replica.host_map(), bind="127.0.0.2") as socks:
        proc = subprocess.Popen([str(tool), "-b", "127.0.0.1", "-p", str(port), "-d", str(base / "warcs"), "-z",
                                 "--socks-proxy", f"127.0.0.2:{socks.port}", "--certs-dir", str(base / "certs"),
                                 "-c", str(base / "ca.pem"), "--dedup-db-file", "/dev/null",
                                 "--stats-db-file", "/dev/null"],
                                stdout=open(base / "warcprox.log", "w"), stderr=subprocess.STDOUT)
        try:
            for _ in range(150):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            fetch = subprocess.run(["wget", "-q", "--no-check-certificate", "-e", "use_proxy=yes",
                                    "-e", f"https_proxy=http://127.0.0.1:{port}", "--tries=3",
                                    "--retry-on-http-error=503", "--waitretry=0", "--timeout=5",
                                    "-P", str(base / "tree"), "-i", str(base / "urls.txt")],
                                   capture_output=True, text=True, timeout=300)
            assert fetch.returncode in (0, 4, 8), fetch.stderr[-2000:]
        finally:
            proc.terminate()  # warcprox finishes writing its WARC files on SIGTERM
            proc.wait(timeout=60)
    return {"dir": base / "warcs", "cut": cut}


def test_warcprox_and_its_cut_off_transfer_stored_as_a_200(warcprox_archive, live, replica, tmp_path):
    got = rebuild(tmp_path, live, warcprox_archive["dir"])
    # the cut-off article is archived as an ordinary 200 under its full Content-Length: truncated, never an item
    # (warcprox archives the replica's whole answer to wget's Range retry of the flaky article: every live item)
    assert_same_articles(got, live)
    assert warcprox_archive["cut"] not in {i["url"] for i in got["items"]}
    assert got["summary"]["non_articles"]["truncated"] >= 1  # one per try of wget's (--tries=3)


def test_a_from_warc_replay_of_warcprox_makes_no_item_of_the_cut_off_transfer(warcprox_archive, live, tmp_path):
    """The cut-off article is stored as an ordinary 200 without WARC-Truncated: the replay judges it by its bytes."""
    from tests.crawling import crawl

    result = crawl(tmp_path / "replay", {}, args=["-a", f"from_warc={warcprox_archive['dir']}"],
                   settings={"BOILERPLATE_FILE": str(live["template"])})
    assert result.returncode == 0, result.log[-3000:]
    items = {i["url"]: i for i in result.items}
    assert warcprox_archive["cut"] not in items
    assert items and set(items) <= set(live["items"])
    for url, item in items.items():
        assert {k: v for k, v in item.items() if k not in CAPTURE_FIELDS} == \
            {k: v for k, v in live["items"][url].items() if k not in CAPTURE_FIELDS}


# --- other forms of the URLs ----------------------------------------------------------------------------
URL_FORMS = (
    lambda u: u.replace("https://", "http://", 1),
    lambda u: u.replace("://www.", "://", 1),
    lambda u: u + ("&" if "?" in u else "?") + "utm_source=feed&utm_medium=rss&fbclid=IwAR0",
    lambda u: u.replace("https://www.spacewar.com", "HTTPS://WWW.SpaceWar.COM", 1),
)


def rewrite_urls(sources, directory: Path) -> Path:
    """The crawl's archive as another tool may hold it: each response under another form of its URL, in turn http://,
    the bare host, tracking parameters, an upper-case scheme and host (the home page's included)."""
    directory.mkdir(parents=True)
    n = 0
    for source in sources:
        with open(source, "rb") as src, open(directory / source.name, "wb") as out:
            writer = WARCWriter(out, gzip=True)
            for record in ArchiveIterator(src):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "response" and uri.startswith("https://www.spacewar.com/"):
                    record.rec_headers.replace_header("WARC-Target-URI", URL_FORMS[n % len(URL_FORMS)](uri))
                    n += 1
                writer.write_record(record)
    return directory


def test_an_archive_under_other_forms_of_the_urls_rebuilds_every_item_in_reprocess_and_from_warc(live, tmp_path):
    """http://, the bare host, ?utm_...&fbclid, HTTPS://WWW.SpaceWar.COM: one page each. reprocess selects an
    article's captures by its item URL; a from_warc replay, which requests the canonical URLs, finds the same
    captures: every live item, its `url` the canonical one, its `warc` pointer the record reprocess took."""
    from tests.crawling import crawl

    archive = rewrite_urls(live["warc"], tmp_path / "rewritten")
    rebuilt = rebuild(tmp_path, live, archive)
    assert_same_articles(rebuilt, live)
    result = crawl(tmp_path / "replay", {}, args=["-a", f"from_warc={archive}"],
                   settings={"BOILERPLATE_FILE": str(live["template"])})
    assert result.returncode == 0, result.log[-3000:]
    items = {i["url"]: i for i in result.items}
    assert len(items) == len(result.items) == len(live["items"])
    assert set(items) == set(live["items"])
    for url, item in items.items():
        assert {k: v for k, v in item.items() if k not in CAPTURE_FIELDS} == \
            {k: v for k, v in live["items"][url].items() if k not in CAPTURE_FIELDS}
    assert {url: item["warc"] for url, item in items.items()} == {i["url"]: i["warc"] for i in rebuilt["items"]}


# --- Common Crawl's layout --------------------------------------------------------------------------
def test_common_crawl_layout_searched_recursively_and_off_site_skipped_on_headers(live, tmp_path):
    tree = write_common_crawl(live["warc"], tmp_path / "cc", OFF_SITE_PER_PAGE)
    got = rebuild(tmp_path, live, tree)
    assert_same_articles(got, live)
    summary = got["summary"]
    assert summary["inputs"]["files"] == 1
    assert summary["non_articles"]["off_site"] >= OFF_SITE_PER_PAGE * len(live["items"])
    assert summary["captures"] < summary["records"] / OFF_SITE_PER_PAGE  # off-site records never became rows


def _cc_index(warc: Path, out: Path, filename: str) -> Path:
    """A gzipped CDXJ index of `warc` whose lines name `filename`, as Common Crawl's cdx-NNNNN.gz name its files."""
    from crawler.warc.cdxj import write_cdxj

    made = write_cdxj(warc)
    lines = []
    for line in made.read_text().splitlines():
        key, ts, fields = line.split(" ", 2)
        lines.append(f"{key} {ts} {json.dumps({**json.loads(fields), 'filename': filename})}\n")
    made.unlink()
    out.write_bytes(gzip.compress("".join(lines).encode()))
    return out


def test_common_crawl_file_through_its_index_reads_only_the_sites_records(live, tmp_path):
    """--index: the first pass reads only what the index lists on the sites; the same items and counts as reading the
    file whole. An index that is not the file's (offsets of another file) is found out and the file read whole."""
    tree = write_common_crawl(live["warc"], tmp_path / "cc", OFF_SITE_PER_PAGE)
    warc = next(tree.rglob("*.warc.gz"))
    index = _cc_index(warc, tmp_path / "cdx-00000.gz", str(warc.relative_to(tree.parent)))
    (tmp_path / "whole").mkdir()
    whole = rebuild(tmp_path / "whole", live, tree)
    (tmp_path / "listed").mkdir()
    listed = rebuild(tmp_path / "listed", live, tree, extra=("--index", index))
    assert_same_articles(listed, live)
    assert listed["items"] == whole["items"]
    for key in ("captures", "selected", "articles", "non_articles"):
        assert listed["summary"][key] == whole["summary"][key], key
    assert "read through the index" in listed["summary"]["files"][0]["note"]

    # the crawl's own index (other offsets) given as the Common Crawl file's
    wrong = _cc_index(live["warc"][0], tmp_path / "cdx-wrong.gz", str(warc.relative_to(tree.parent)))
    (tmp_path / "wrong").mkdir()
    got = rebuild(tmp_path / "wrong", live, tree, extra=("--index", wrong))
    assert_same_articles(got, live)
    assert "is not the index of" in got["proc"].stderr and "read whole" in got["proc"].stderr
    assert got["summary"]["non_articles"] == whole["summary"]["non_articles"]


# --- Heritrix-style revisits --------------------------------------------------------------------------
def test_heritrix_style_revisits_without_refers_to_resolve_by_digest(live, tmp_path):
    later = tmp_path / "arch" / "later.warc.gz"
    later.parent.mkdir()
    for f in live["warc"]:
        shutil.copy(f, later.parent / f.name)
    with open(later, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="WARC/1.0")
        for source in live["warc"]:
            with open(source, "rb") as src:
                for record in ArchiveIterator(src):
                    digest = record.rec_headers.get_header("WARC-Payload-Digest") or \
                        record.rec_headers.get_header("X-Entity-Payload-Digest")
                    if record.rec_type != "response" or not record.http_headers or not digest:
                        continue
                    record.content_stream().read()
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    # as Heritrix wrote them: the profile and the digest, no WARC-Refers-To(-Target-URI, -Date)
                    writer.write_record(writer.create_warc_record(
                        uri, "revisit", http_headers=record.http_headers, warc_headers_dict={
                            "WARC-Date": "2030-01-01T00:00:00Z", "WARC-Payload-Digest": digest,
                            "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"}))
    got = rebuild(tmp_path, live, later.parent)
    assert_same_articles(got, live)
    assert got["summary"]["unresolved_revisits"] == 0
    # the items are the revisits' (the latest captures), with the originals' payloads
    assert {i["warc"]["filename"] for i in got["items"]} == {"later.warc.gz"}
    assert {i["fetched_at"] for i in got["items"]} == {"2030-01-01T00:00:00Z"}


# --- WACZ, whole-file gzip, WARC/0.18 -----------------------------------------------------------------
def wacz_of(live, wacz: Path) -> Path:
    """The live crawl's WARC files packaged by the `wacz` tool (py-wacz) as `wacz`."""
    tool = shutil.which("wacz") or str(Path(sys.executable).with_name("wacz"))
    proc = subprocess.run([tool, "create", "-o", str(wacz), *map(str, live["warc"])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return wacz


def test_a_wacz_made_by_the_wacz_tool_is_read_in_place(live, tmp_path):
    wacz = wacz_of(live, tmp_path / "site.wacz")
    got = rebuild(tmp_path, live, wacz)
    assert_same_articles(got, live)
    assert got["summary"]["files"][0]["file"].startswith(f"{wacz}!archive/")
    assert {i["warc"]["filename"] for i in got["items"]} == {f.name for f in live["warc"]}
    # the pointer is the record's offset in its WARC file, as in the crawl's own items
    assert sorted(i["warc"]["offset"] for i in got["items"]) == sorted(i["warc"]["offset"]
                                                                       for i in live["items"].values())


def test_a_from_warc_replay_of_a_wacz_made_by_the_wacz_tool(live, tmp_path):
    """The replay reads the WACZ's members in place too, and its items point at the member, as reprocess's do."""
    from tests.crawling import crawl

    wacz = wacz_of(live, tmp_path / "site.wacz")
    result = crawl(tmp_path / "replay", {}, args=["-a", f"from_warc={wacz}"],
                   settings={"BOILERPLATE_FILE": str(live["template"])})
    assert result.returncode == 0, result.log[-3000:]
    assert "Not read" not in result.log
    items = {i["url"]: i for i in result.items}
    assert set(items) == set(live["items"])
    for url, item in items.items():
        assert {k: v for k, v in item.items() if k != "captured_at"} == \
            {k: v for k, v in live["items"][url].items() if k != "captured_at"}  # the warc pointer included


def test_a_whole_file_gzip_is_read_as_one_stream_and_said_so(live, tmp_path):
    whole = tmp_path / "whole" / "crawl.warc.gz"
    whole.parent.mkdir()
    whole.write_bytes(gzip.compress(b"".join(gzip.decompress(f.read_bytes()) for f in live["warc"])))
    got = rebuild(tmp_path, live, whole)
    assert_same_articles(got, live)
    assert f"{whole}: gzipped as a whole, not per record: read as one stream" in got["proc"].stderr
    assert not list(Path(tmp_path).glob("crawl.warc.gz-*"))  # the decompressed copy is gone


def test_warc_0_18_uncompressed(live, tmp_path):
    old = tmp_path / "old.warc"
    data = b"".join(gzip.decompress(f.read_bytes()) for f in live["warc"])
    old.write_bytes(data.replace(b"WARC/1.1\r\n", b"WARC/0.18\r\n").replace(b"WARC/1.0\r\n", b"WARC/0.18\r\n"))
    got = rebuild(tmp_path, live, old)
    assert_same_articles(got, live)


# --- one bad file costs only itself ---------------------------------------------------------------------
def test_one_bad_file_among_good_ones_costs_only_itself(live, tmp_path):
    good = tmp_path / "arch"
    good.mkdir()
    for f in live["warc"]:
        shutil.copy(f, good / f.name)
    (good / "broken.warc.gz").write_bytes(b"<html>an error page saved under a WARC name</html>")
    got = rebuild(tmp_path, live, good)
    assert_same_articles(got, live)
    refused = [row for row in got["summary"]["files"] if row.get("refused")]
    assert [r["file"] for r in refused] == [str(good / "broken.warc.gz")]
    assert "not read: a file starting with '<html>an error page" in refused[0]["gave_nothing"]


def test_one_bad_file_costs_only_itself_in_a_from_warc_replay(live, tmp_path):
    from tests.crawling import crawl

    good = tmp_path / "arch" / "nested"
    good.mkdir(parents=True)
    for f in live["warc"]:
        shutil.copy(f, good / f.name)
    shutil.copy(live["template"], tmp_path / "arch" / "boilerplate.json")
    (tmp_path / "arch" / "broken.warc.gz").write_bytes(b"<html>an error page saved under a WARC name</html>")
    result = crawl(tmp_path / "replay", {}, args=["-a", f"from_warc={tmp_path / 'arch'}"],
                   settings={"BOILERPLATE_FILE": str(live["template"])})
    assert result.returncode == 0, result.log[-3000:]
    assert "Not read: " in result.log and "broken.warc.gz: a file starting with '<html>an error page" in result.log
    assert result.stats.get("warcreplay/unreadable") == 1
    items = {i["url"]: i for i in result.items}
    assert set(items) == set(live["items"])
    for url, item in items.items():
        assert {k: v for k, v in item.items() if k not in CAPTURE_FIELDS} == \
            {k: v for k, v in live["items"][url].items() if k not in CAPTURE_FIELDS}
