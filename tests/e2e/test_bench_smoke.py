"""The benchmark scripts still run: `python -m bench.run --smoke` on a tiny replica produces every number."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.crawling import REPO

RESULTS = REPO / "bench" / "RESULTS.md"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    before = RESULTS.read_bytes() if RESULTS.exists() else None
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    after = RESULTS.read_bytes() if RESULTS.exists() else None
    assert proc.returncode == 0, proc.stderr[-4000:] + proc.stdout[-2000:]
    return {"data": json.loads(out.read_text()), "stdout": proc.stdout, "results_untouched": before == after}


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_crawl_throughput_compares_both_spiders_over_the_same_pages(smoke):
    crawl = smoke["data"]["results"]["crawl"]
    assert positive(crawl["plain_pages_per_s"]) and positive(crawl["full_pages_per_s"])
    assert positive(crawl["ratio"]) and positive(crawl["paired_ratio"])
    assert len(crawl["paired_ratios"]) == crawl["rounds"]
    assert crawl["full_items"] > 0
    # CPU per page of the crawl processes (the replica's own CPU is not counted)
    assert positive(crawl["plain_cpu_ms_per_page"]) and positive(crawl["full_cpu_ms_per_page"])
    # the baseline follows the same links: same pages, within a page or two of robots/redirect timing;
    # skipping the links requested before changes what is fetched in no way
    assert abs(crawl["plain_pages"] - crawl["full_pages"]) <= max(2, 0.02 * crawl["full_pages"])
    assert abs(crawl["plain_skip_pages"] - crawl["plain_pages"]) <= max(2, 0.02 * crawl["plain_pages"])
    assert positive(crawl["like_for_like_ratio"]) and len(crawl["like_for_like_paired_ratios"]) == crawl["rounds"]


def test_rawcapture_cost_compares_the_full_crawl_with_and_without_byte_exact_capture(smoke):
    cost = smoke["data"]["results"]["rawcapture"]
    assert cost["ok"]
    assert positive(cost["raw_pages_per_s"]) and positive(cost["rebuilt_pages_per_s"]) and positive(cost["ratio"])
    assert "Cost of byte-exact capture" in smoke["stdout"]


def test_extraction_table_times_and_scores_every_extractor(smoke):
    ext = smoke["data"]["results"]["extraction"]
    assert set(ext["table"]) == {"ours", "trafilatura", "readability-lxml", "jusText"}
    assert ext["page_groups"].get("samples", 0) >= 2 and ext["page_groups"].get("replica", 0) >= 1
    for row in ext["table"].values():
        assert positive(row["median_ms_per_page"])
        assert 0 <= row["f1_min"] <= row["f1_median"] <= 1
    assert ext["table"]["ours"]["errors"] == 0
    assert positive(ext["speedup_vs_trafilatura"])


def test_warc_writing_rates_against_plain_gzip(smoke):
    warc = smoke["data"]["results"]["warc"]
    assert positive(warc["ours_mb_s"]) and positive(warc["gzip_mb_s"]) and positive(warc["ratio_vs_gzip"])


def test_memory_peaks_grow_with_pages(smoke):
    mem = smoke["data"]["results"]["memory"]
    assert [r["target_pages"] for r in mem["rows"]] == [50, 200]
    assert all(positive(r["peak_rss_mb"]) for r in mem["rows"])
    assert mem["rows"][-1]["pages"] >= 190
    assert positive(mem["growth"])


def test_smoke_prints_tables_with_machine_and_command_but_leaves_results_md_alone(smoke):
    out = smoke["stdout"]
    assert "python -m bench.run --smoke" in out and "cores" in out
    for heading in ("Crawl throughput", "Extraction", "WARC writing", "Memory"):
        assert heading in out
    assert smoke["results_untouched"]


def test_warc_readers_compare_fastwarc_with_warcio_record_by_record(smoke):
    readers = smoke["data"]["results"]["readers"]
    assert {(r["compression"], r["task"]) for r in readers["rows"]} == {
        (c, t) for c in ("gzip", "none") for t in ("full", "responses")}
    for row in readers["rows"]:
        assert row["counts_agree"], row
        assert positive(row["ratio"]) and positive(row["warcio"]["records_per_s"])
    for comp in ("gzip", "none"):
        check = readers["check"][comp]
        # with its options at their defaults FastWARC returns every record warcio returns, unchanged
        assert check["defaults"]["dropped"] == check["defaults"]["added"] == 0
        assert check["defaults"]["payload_or_uri_differs"] == 0
        assert check["responses_only"]["dropped"] == 0
        assert check["digests"]["block_bad_count"] == 0
    assert "WARC readers" in smoke["stdout"]


def test_reprocess_bench_replays_generated_archives_of_every_size(smoke):
    rep = smoke["data"]["results"]["reprocess"]
    assert [s["requested"] for s in rep["sizes"]] == [40, 80]
    for size in rep["sizes"]:
        rows = {r["variant"]: r for r in size["rows"]}
        base = rows["from_warc"]
        assert base["returncode"] == 0 and positive(base["articles_per_s"]) and positive(base["peak_rss_mb"])
        # the generated copies are reachable from the start page: the replay rebuilds every copy's items
        assert base["items"] == size["items_expected"]
        for name in ("local1", "local2", "ray"):
            row = rows[name]
            assert row["available"] or row["why"].startswith("not available")
            if row["available"] and row["returncode"] == 0:
                assert row["items_agree"], row
    assert "Reprocessing" in smoke["stdout"]
