"""End to end: `scrapy reprocess` on the WARC files of a replica crawl gives the live crawl's items, on every engine.

The crawl goes deeper than the default DEPTH_LIMIT (0: no bound), as a backfill does; reprocess
reads the archive directly, so it needs neither the depth nor the links.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.crawling import REPO, crawl, read_items
from tests.sites.replica.server import ReplicaServer

#: the fields that are the capture's own: the rest must equal the live crawl's
CAPTURE_FIELDS = ("fetched_at", "warc", "captured_at")  # each capture's own (captured_at: as fetched_at for a live crawl)


def reprocess(*args, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m scrapy reprocess ARGS` from the project directory, as a user runs it."""
    cmd = [sys.executable, "-m", "scrapy", "reprocess", *map(str, args)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if proc.returncode not in (0,):
        print(proc.stdout[-3000:], proc.stderr[-6000:], sep="\n")
    return proc


@pytest.fixture(scope="module")
def site():
    with ReplicaServer(n_articles=150, faults=True, slow_seconds=0.5, seed=1616) as server:
        yield server


@pytest.fixture(scope="module")
def crawls(site, tmp_path_factory):
    """A first crawl (the archive as it stood then: `first_warc`), then an incremental second one into the same
    WARC_DIR (`warc`: both crawls' files)."""
    base = tmp_path_factory.mktemp("reprocess")
    warc, state = base / "warc", base / "state.sqlite"
    # REVISIT_EVERY_RUN: the second crawl revalidates every known article (304 revisits), not only the due ones
    settings = {"DEPTH_LIMIT": "0", "WARC_DIR": str(warc), "STATE_PATH": str(state), "REVISIT_EVERY_RUN": "True"}
    first = crawl(base / "first", site.host_map(), settings=settings)
    assert first.returncode == 0, first.log[-3000:]
    first_warc = base / "first_warc"
    shutil.copytree(warc, first_warc, ignore=shutil.ignore_patterns("*.lock", "*.sqlite"))
    second = crawl(base / "second", site.host_map(), settings=settings)
    assert second.returncode == 0, second.log[-3000:]
    return {"base": base, "first": first, "first_warc": first_warc, "second": second, "warc": warc}


@pytest.fixture(scope="module")
def rebuilt(crawls):
    """The first crawl's archive reprocessed on 2 processes, its one WARC file cut in 64 KiB ranges."""
    out, summary = crawls["base"] / "rebuilt.jsonl", crawls["base"] / "rebuilt.summary.json"
    proc = reprocess(crawls["first_warc"], "-O", out, "--processes", "2", "--task-size", "65536",
                     "--summary", summary)
    assert proc.returncode == 0
    return {"proc": proc, "items": read_items(out), "path": out, "summary": json.loads(summary.read_text())}


def test_every_live_item_is_rebuilt_equal_field_by_field_but_the_capture_fields(crawls, rebuilt):
    live = crawls["first"].items
    assert len(live) >= 140
    got = {item["url"]: item for item in rebuilt["items"]}
    assert len(got) == len(rebuilt["items"]) == len(live)
    differ = [(item["url"], name) for item in live for name in item
              if name not in CAPTURE_FIELDS and got[item["url"]].get(name) != item[name]]
    assert differ == []
    assert all(list(got[item["url"]]) == list(item) for item in live)  # the same fields, in the same order


def test_the_warc_pointer_is_the_archived_response_record_and_fetched_at_its_date(crawls, rebuilt):
    by_file = defaultdict(list)
    for item in rebuilt["items"]:
        by_file[item["warc"]["filename"]].append(item)
    for name, items in by_file.items():
        with open(crawls["first_warc"] / name, "rb") as fh:
            for item in items:
                fh.seek(item["warc"]["offset"])
                record = next(iter(ArchiveIterator(fh)))
                assert record.rec_type in ("response", "revisit")
                assert record.rec_headers.get_header("WARC-Record-ID") == item["warc"]["record_id"]
                assert record.rec_headers.get_header("WARC-Target-URI").split("?")[0] == item["url"]
                assert record.rec_headers.get_header("WARC-Date")[:19] + "Z" == item["fetched_at"]


def test_the_summary_counts_what_a_user_asks_about(crawls, rebuilt):
    s = rebuilt["summary"]
    assert {"records", "articles", "non_articles", "fallbacks", "errors", "seconds"} <= set(s)
    assert s["articles"] == len(rebuilt["items"]) and s["errors"] == 0 and s["records"] > s["articles"]
    assert s["fallbacks"] == sum(1 for i in rebuilt["items"] if i["extraction"] == "fallback") >= 1
    assert s["non_articles"].get("listing", 0) > 0 and s["non_articles"].get("not_text", 0) > 0
    assert s["template"].endswith("boilerplate.json") and s["processes"] == 2
    log = rebuilt["proc"].stderr
    assert f"Reprocess: {s['articles']} articles" in log and "Reprocess outcome: exit status 0" in log
    assert "Traceback" not in log


def test_one_and_two_processes_write_the_same_bytes(crawls, rebuilt):
    out = crawls["base"] / "one.jsonl"
    proc = reprocess(crawls["first_warc"], "-O", out, "--processes", "1")
    assert proc.returncode == 0
    assert out.read_bytes() == rebuilt["path"].read_bytes()


def test_o_appends_as_in_scrapy(crawls, rebuilt, tmp_path):
    out = tmp_path / "appended.jsonl"
    out.write_text('{"earlier": true}\n')
    assert reprocess(crawls["first_warc"], "-o", out, "--processes", "1").returncode == 0
    lines = out.read_text("utf-8").splitlines()
    assert lines[0] == '{"earlier": true}' and len(lines) == 1 + len(rebuilt["items"])


def test_every_capture_after_an_incremental_crawl_with_its_revisits_resolved(crawls, rebuilt):
    out, summary = crawls["base"] / "all.jsonl", crawls["base"] / "all.summary.json"
    proc = reprocess(crawls["warc"], "-O", out, "--all-captures", "--summary", summary)
    assert proc.returncode == 0
    items = read_items(out)
    by_url = defaultdict(list)
    for item in items:
        by_url[item["url"]].append(item)
    live = {item["url"]: item for item in crawls["first"].items}
    assert set(by_url) == set(live)
    twice = [u for u, got in by_url.items() if len(got) >= 2]
    assert len(twice) >= 0.9 * len(live)  # the second crawl fetched (or revalidated) nearly every article again
    for url, got in by_url.items():  # every capture of an unchanged article gives the same item
        assert all({k: v for k, v in g.items() if k not in CAPTURE_FIELDS}
                   == {k: v for k, v in live[url].items() if k not in CAPTURE_FIELDS} for g in got), url
        assert len({g["fetched_at"] for g in got}) == len(got) or len(got) == 1
    # the second crawl's captures are revisit records, resolved to the payload they refer to
    kinds = set()
    for item in items:
        with open(crawls["warc"] / item["warc"]["filename"], "rb") as fh:
            fh.seek(item["warc"]["offset"])
            record = next(iter(ArchiveIterator(fh)))
            kinds.add(record.rec_type)
    assert kinds == {"response", "revisit"}
    # and by default, the latest capture of each URL: the live items again
    latest = crawls["base"] / "latest.jsonl"
    assert reprocess(crawls["warc"], "-O", latest).returncode == 0
    got = {i["url"]: i for i in read_items(latest)}
    assert set(got) == set(live)
    assert all(got[u]["fetched_at"] >= live[u]["fetched_at"] for u in live)
    assert all(max(g["fetched_at"] for g in by_url[u]) == got[u]["fetched_at"] for u in live)


def test_a_damaged_warc_file_is_read_past_and_the_damage_named(crawls, rebuilt, tmp_path):
    damaged = tmp_path / "warc"
    shutil.copytree(crawls["first_warc"], damaged)
    (path,) = sorted(damaged.glob("*.warc.gz"))
    size = path.stat().st_size
    # the record of a known article: its gzip member overwritten in its middle
    victim = rebuilt["items"][len(rebuilt["items"]) // 2]
    with open(path, "r+b") as fh:
        fh.seek(victim["warc"]["offset"] + 40)
        fh.write(b"\x00" * 64)
        fh.truncate(size - 300)  # and the file cut short
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    proc = reprocess(damaged, "-O", out, "--summary", summary)
    assert proc.returncode == 0  # articles were made
    s = json.loads(summary.read_text())
    assert s["errors"] >= 2 and len(s["damaged"]) >= 2
    assert f"Damaged WARC file {path} at offset {victim['warc']['offset']}" in proc.stderr
    got = {i["url"] for i in read_items(out)}
    assert victim["url"] not in got
    assert len(got) >= len(rebuilt["items"]) - 3  # the rest is read


def test_without_a_template_it_says_so_and_structure_decides(crawls, tmp_path):
    bare = tmp_path / "warc"
    bare.mkdir()
    for path in crawls["first_warc"].glob("*.warc.gz"):
        shutil.copy(path, bare)
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    proc = reprocess(bare, "-O", out, "--summary", summary)
    assert proc.returncode == 0
    assert "No learned template (boilerplate.json) beside" in proc.stderr
    assert json.loads(summary.read_text())["template"] is None
    assert len(read_items(out)) == len(crawls["first"].items)


def test_straight_into_the_dataset_build(crawls, rebuilt, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    outdir = tmp_path / "dataset"
    proc = reprocess(crawls["first_warc"], "--dataset", outdir)
    assert proc.returncode == 0
    manifest = json.loads((outdir / "manifest.json").read_text())
    assert manifest["articles"] == len(rebuilt["items"])
    # the inputs are the archives, not reprocess's temporary JSON Lines
    assert manifest["inputs"] == {"files": len(list(crawls["first_warc"].glob("*.warc.gz"))),
                                  "archives": [{"path": str(p)} for p in sorted(crawls["first_warc"].glob("*.warc.gz"))]}
    table = pq.read_table(outdir / "articles.parquet")
    assert table.num_rows == len(rebuilt["items"])
    assert set(table.column("url").to_pylist()) == {i["url"] for i in rebuilt["items"]}
    assert not list(outdir.glob("reprocess-*"))


def one_line(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_inputs_it_cannot_use_give_one_line_66_and_keep_the_existing_output(tmp_path):
    out = tmp_path / "items.jsonl"
    out.write_text('{"url": "kept"}\n' * 49)
    empty = tmp_path / "empty"
    empty.mkdir()
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not a WARC file" * 100)
    runs = tmp_path / "runs"  # a directory of run folders: reports and items, no archive
    for name in ("2026-01-01", "2026-01-02"):
        (runs / name).mkdir(parents=True)
        (runs / name / "report.html").write_text("<html></html>")
        (runs / name / "items.jsonl").write_text("{}\n")
    for path, found in ((empty, "it is empty"), (junk, "a file starting with 'this is not a WARC file"),
                        (runs, "4 files: 2 .html, 2 .jsonl; 2 directories")):
        proc = reprocess(path, "-O", out)
        assert proc.returncode == 66, proc.stderr
        lines = one_line(proc.stderr)
        assert len(lines) == 1 and found in lines[0] and "expected WARC files" in lines[0], lines
        assert lines[0].endswith("(exit status 66)")
        assert out.read_text() == '{"url": "kept"}\n' * 49  # -O writes beside and renames only on success
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "items.jsonl", "junk.warc.gz", "runs"]


def test_nothing_readable_exits_74_and_no_article_69(tmp_path):
    from tests.unit.offline.test_reprocess_split import write_warc

    listing = tmp_path / "listing.warc.gz"
    write_warc(listing, n=3)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(listing.read_bytes()[:60])  # a WARC file cut inside its first record
    out = tmp_path / "out.jsonl"
    out.write_text("earlier\n")
    proc = reprocess(cut, "-O", out)
    assert proc.returncode == 74 and "exit status 74" in proc.stderr
    assert f"{cut}: no WARC record could be read (no whole record header in it: cut short or corrupt)" in proc.stderr
    # a WARC file with records but no article page in it
    proc = reprocess(listing, "-O", out)
    assert proc.returncode == 69
    assert out.read_text() == "earlier\n"


def test_usage_errors(tmp_path):
    assert reprocess(tmp_path / "missing", "-O", tmp_path / "x.jsonl").returncode == 2
    assert reprocess(tmp_path, "-O", tmp_path / "x.jsonl", "-o", tmp_path / "y.jsonl").returncode == 2


# --- the Ray engine ---------------------------------------------------------------------------------
def test_the_ray_engine_writes_the_local_engines_bytes(crawls, rebuilt):
    pytest.importorskip("ray.data")
    out = crawls["base"] / "ray.jsonl"
    proc = reprocess(crawls["first_warc"], "-O", out, "--engine", "ray", "--processes", "2",
                     "--task-size", "65536", timeout=300)
    assert proc.returncode == 0
    assert out.read_bytes() == rebuilt["path"].read_bytes()


def test_the_ray_engine_without_ray_is_one_line_and_78(crawls, tmp_path):
    fake = tmp_path / "noray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no ray here')\n")
    env = {"PYTHONPATH": os.pathsep.join([str(fake.parent), str(REPO)])}
    proc = reprocess(crawls["first_warc"], "-O", tmp_path / "x.jsonl", "--engine", "ray", env=env)
    assert proc.returncode == 78
    lines = [line for line in proc.stderr.splitlines() if "ray" in line.lower()]
    assert lines == ['Configuration error: --engine ray needs Ray: pip install -e ".[ray]" (exit status 78)']
    assert not (tmp_path / "x.jsonl").exists()


def _article_warc(path: Path) -> None:
    """A WARC file holding one archived article page (a fixture page as the crawl would have fetched it)."""
    import io
    import json as _json

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    page = REPO / "tests" / "fixtures" / "pages" / "br-paragraphs-staff-writers"
    url = _json.loads(page.with_suffix(".expected.json").read_text())["url"]
    body = page.with_suffix(".html").read_bytes()
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                              ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))


def test_an_output_that_is_one_of_the_inputs_is_refused_and_the_archive_kept(tmp_path):
    # `-O` (or `-o`) onto an archive file it reads: the run replaced the WARC file with the JSON lines
    # (or appended them to it) and exited 0: the archive was lost
    warc_dir = tmp_path / "warc"
    warc_dir.mkdir()
    warc = warc_dir / "a.warc.gz"
    _article_warc(warc)
    before = warc.read_bytes()
    assert reprocess(warc_dir, "-O", tmp_path / "items.jsonl").returncode == 0  # an article comes of it
    for args in ((warc_dir, "-O", warc), (warc, "-o", warc), (warc_dir, "-O", warc_dir / "." / "a.warc.gz")):
        proc = reprocess(*args)
        assert warc.read_bytes() == before
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert f"{warc} is one of the inputs" in proc.stderr
        assert "Traceback" not in proc.stderr
