"""Dataset build: many runs' JSON Lines become one de-duplicated dataset (JSONL, Parquet, manifest)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.offline.dataset import build
from crawler.itemschema import SCHEMA_VERSION
from tests.unit.test_itemschema import article

URL_A = "https://www.spacewar.com/reports/Moscow_court_upholds_ban_against_satellite_image_distributor_999.html"
URL_B = "https://www.spacewar.com/afp/260303115101.76yp06cs.html"
URL_C = "https://www.spacewar.com/reports/Pentagon_tests_new_interceptor_999.html"


def uuid(n: int) -> str:
    return f"<urn:uuid:00000000-0000-4000-8000-{n:012d}>"


def capture(url, fetched_at, n, warc_file="spacewar-20260301000000000-00000-w1.warc.gz", **fields):
    return article(url=url, fetched_at=fetched_at,
                   warc={"filename": warc_file, "record_id": uuid(n), "offset": 1000 * n}, **fields)


def write_jsonl(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture
def runs(tmp_path):
    """Three runs by two workers: A seen three times (edited once), B twice (unchanged), C once."""
    items = tmp_path / "items"
    w1 = "spacewar-20260301000000000-00000-w1.warc.gz"
    w2 = "spacewar-20260302000000000-00000-w2.warc.gz"
    write_jsonl(items / "run1" / "spacewar-2026-03-01T00-00-00.jsonl", [
        capture(URL_A, "2026-03-01T10:00:00Z", 1, w1, title="Court bans distributor"),
        capture(URL_B, "2026-03-01T10:05:00Z", 2, w1, published="2026-03-03", author="Laurent Thomet"),
    ])
    write_jsonl(items / "run2" / "worker-1.jsonl", [
        capture(URL_A, "2026-03-02T09:00:00Z", 3, w2),  # edited headline: a new version
        capture(URL_C, "2026-03-02T09:01:00Z", 4, w2, published="2025-12-31", agency="SPX", rights=None,
                images=[], extraction="fallback"),
    ])
    write_jsonl(items / "run2" / "worker-2.jsonl", [
        capture(URL_B, "2026-03-02T09:02:00.250000Z", 5, w2, published="2026-03-03", author="Laurent Thomet"),
    ])
    # an older capture found in a later file: it must not win
    write_jsonl(items / "run3" / "late-upload.jsonl", [
        capture(URL_A, "2026-02-28T08:00:00Z", 6, w1, title="Court bans distributor"),
    ])
    return items


def test_the_latest_capture_of_each_article_wins(runs, tmp_path):
    out = tmp_path / "dataset"
    build([runs], out)
    rows = {r["url"]: r for r in read_jsonl(out / "articles.jsonl")}
    assert set(rows) == {URL_A, URL_B, URL_C}
    assert rows[URL_A]["title"] == "Moscow court upholds ban against satellite image distributor"
    assert rows[URL_A]["fetched_at"] == "2026-03-02T09:00:00Z"
    assert rows[URL_A]["warc"] == {"filename": "spacewar-20260302000000000-00000-w2.warc.gz",
                                   "record_id": uuid(3), "offset": 3000}
    assert rows[URL_B]["fetched_at"] == "2026-03-02T09:02:00.250000Z"


def test_history_columns_count_captures_and_distinct_versions(runs, tmp_path):
    out = tmp_path / "dataset"
    build([runs], out)
    rows = {r["url"]: r for r in read_jsonl(out / "articles.jsonl")}
    a, b, c = rows[URL_A], rows[URL_B], rows[URL_C]
    assert (a["history_count"], a["versions"]) == (3, 2)
    assert (a["first_seen"], a["last_seen"]) == ("2026-02-28T08:00:00Z", "2026-03-02T09:00:00Z")
    assert (b["history_count"], b["versions"]) == (2, 1)
    assert (c["history_count"], c["versions"], c["first_seen"], c["last_seen"]) == (1, 1, "2026-03-02T09:01:00Z",
                                                                                    "2026-03-02T09:01:00Z")


def test_the_same_file_given_twice_or_copied_does_not_inflate_the_history(runs, tmp_path):
    copy = tmp_path / "backup" / "copy.jsonl"
    copy.parent.mkdir()
    copy.write_bytes((runs / "run2" / "worker-1.jsonl").read_bytes())
    out = tmp_path / "dataset"
    manifest = build([runs, runs / "run2" / "worker-1.jsonl", copy], out)
    assert manifest["inputs"]["files"] == 5  # the file named twice is read once; the copy is read
    rows = {r["url"]: r for r in read_jsonl(out / "articles.jsonl")}
    assert rows[URL_A]["history_count"] == 3 and rows[URL_C]["history_count"] == 1


def test_manifest_counts_dates_sources_and_schema_version(runs, tmp_path):
    out = tmp_path / "dataset"
    manifest = build([runs], out)
    assert json.loads((out / "manifest.json").read_text("utf-8")) == manifest
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["inputs"]["files"] == 4
    assert manifest["lines"] == {"read": 6, "valid": 6, "skipped": 0, "skipped_by_reason": {},
                                 "skipped_examples": []}
    assert manifest["articles"] == 3 and manifest["duplicates_collapsed"] == 3
    assert manifest["articles_with_several_versions"] == 1
    assert manifest["published"] == {"first": "2024-05-30", "last": "2026-03-03"}
    assert manifest["source_warc_files"] == ["spacewar-20260301000000000-00000-w1.warc.gz",
                                             "spacewar-20260302000000000-00000-w2.warc.gz"]
    assert manifest["by_site"] == {"spacewar": 3}
    assert manifest["by_agency"] == {"AFP": 2, "SPX": 1}
    assert manifest["by_extraction"] == {"site-rules": 2, "fallback": 1}
    assert manifest["outputs"]["jsonl"]["bytes"] == (out / "articles.jsonl").stat().st_size
    assert manifest["outputs"]["parquet"]["bytes"] == (out / "articles.parquet").stat().st_size
    assert manifest["built_at"].endswith("Z") and manifest["build_seconds"] >= 0


def test_bad_lines_are_skipped_counted_and_explained_and_good_lines_kept(tmp_path, caplog):
    good1 = capture(URL_A, "2026-03-01T10:00:00Z", 1)
    good2 = capture(URL_B, "2026-03-01T10:05:00Z", 2)
    path = write_jsonl(tmp_path / "in" / "run.jsonl", [
        good1,
        '{"url": "https://www.spacewar.com/reports/cut_off_by_a_kill',  # a crawl killed mid-write
        json.dumps(capture(URL_C, "2026-03-01T10:06:00Z", 3, published="May 30, 2024")),
        "[1, 2, 3]",
        "",
        good2,
    ])
    with open(path, "ab") as fh:
        fh.write(b'{"title": "caf\xe9"}\n')  # not UTF-8
    out = tmp_path / "dataset"
    manifest = build([path], out)
    assert sorted(r["url"] for r in read_jsonl(out / "articles.jsonl")) == sorted([URL_A, URL_B])
    lines = manifest["lines"]
    assert (lines["read"], lines["valid"], lines["skipped"]) == (6, 2, 4)
    assert lines["skipped_by_reason"] == {"malformed_json": 1, "not_an_object": 1, "not_utf8": 1,
                                          "schema_invalid": 1}
    by_line = {e["line"]: e for e in lines["skipped_examples"]}
    assert by_line[3]["reason"] == "schema_invalid" and "published" in by_line[3]["detail"]
    assert by_line[2]["path"] == str(path)
    assert "run.jsonl:3: skipped (schema_invalid): published" in caplog.text


def test_parquet_loads_in_pandas_with_nested_images_and_warc(runs, tmp_path):
    import pandas as pd

    out = tmp_path / "dataset"
    build([runs], out)
    df = pd.read_parquet(out / "articles.parquet")
    assert len(df) == 3
    assert list(df.columns) == list(read_jsonl(out / "articles.jsonl")[0])
    row = df.set_index("url").loc[URL_A]
    assert row["history_count"] == 3 and row["versions"] == 2
    assert str(row["published"]) == "2024-05-30"
    assert row["fetched_at"] == pd.Timestamp("2026-03-02T09:00:00Z")
    assert row["warc"]["record_id"] == uuid(3) and row["warc"]["offset"] == 3000
    images = list(row["images"])
    assert images[0]["url"] == "https://www.spxdaily.com/images-lg/satellite-image-lg.jpg"
    assert images[0]["caption"] == "Illustration only"
    assert len(df.set_index("url").loc[URL_C]["images"]) == 0
    assert pd.isna(df.set_index("url").loc[URL_C]["rights"])


def test_parquet_loads_in_hugging_face_datasets_offline(runs, tmp_path, hf_offline):
    import datasets

    out = tmp_path / "dataset"
    build([runs], out)
    ds = datasets.load_dataset("parquet", data_files=str(out / "articles.parquet"), split="train",
                               cache_dir=str(hf_offline))
    assert ds.num_rows == 3
    assert set(ds.column_names) == set(read_jsonl(out / "articles.jsonl")[0])
    rows = {r["url"]: r for r in ds}
    assert rows[URL_A]["warc"]["filename"] == "spacewar-20260302000000000-00000-w2.warc.gz"
    assert rows[URL_A]["images"] == [{"url": "https://www.spxdaily.com/images-lg/satellite-image-lg.jpg",
                                      "caption": "Illustration only"}]
    assert rows[URL_B]["author"] == "Laurent Thomet" and rows[URL_B]["history_count"] == 2


def test_an_empty_input_directory_gives_an_empty_dataset(tmp_path):
    (tmp_path / "items").mkdir()
    manifest = build([tmp_path / "items"], tmp_path / "dataset")
    assert manifest["articles"] == 0 and manifest["inputs"]["files"] == 0
    assert (tmp_path / "dataset" / "articles.jsonl").read_text() == ""
    import pandas as pd

    assert len(pd.read_parquet(tmp_path / "dataset" / "articles.parquet")) == 0


def test_the_command_on_inputs_without_items_says_what_it_found_and_keeps_the_dataset(tmp_path, capsys):
    from crawler.offline.dataset import main

    out = tmp_path / "dataset"
    out.mkdir()
    (out / "articles.jsonl").write_text("kept\n")
    warc = tmp_path / "crawl.jsonl"  # a file named like items that holds none (the empty cases: below)
    warc.write_bytes(b"\x1f\x8b\x08\x00binary, not JSON\n")
    assert main(["build", str(out), str(warc)]) == 66
    err = capsys.readouterr().err
    assert "error: no item to build a dataset from:" in err
    assert f"{warc}: 1 lines none of which is an item" in err  # the file named as a file
    assert main(["build", str(out), str(tmp_path)]) == 66  # a directory: what it holds
    assert f"{tmp_path} holds 1 JSON Lines files, 1 lines none of which is an item" in capsys.readouterr().err
    assert (out / "articles.jsonl").read_text() == "kept\n"
    assert not (out / "manifest.json").exists()


def test_no_input_or_only_empty_files_is_a_warning_and_exit_66_and_leaves_the_dataset(tmp_path, caplog, capsys):
    from crawler.offline.dataset import NO_INPUT, main

    out = tmp_path / "dataset"
    out.mkdir()
    (out / "manifest.json").write_text("{}")  # an earlier build: not replaced by an empty one
    (tmp_path / "items").mkdir()
    caplog.set_level("WARNING")
    assert main(["build", str(out), str(tmp_path / "items")]) == NO_INPUT == 66
    assert f"no *.jsonl files in {tmp_path / 'items'}: no dataset built" in caplog.text
    (tmp_path / "items" / "spacewar-2026-12-07T01-00-00.jsonl").write_bytes(b"")  # a run that exported nothing
    assert main(["build", str(out), str(tmp_path / "items")]) == NO_INPUT
    assert "are all empty: no dataset built" in caplog.text
    assert "reading 1 JSON Lines file(s)" in capsys.readouterr().out  # it says what it read
    assert [p.name for p in out.iterdir()] == ["manifest.json"] and (out / "manifest.json").read_text() == "{}"


def test_a_build_into_its_input_directory_never_reads_its_own_outputs(runs, capsys):
    # `build DIR DIR` (or OUTDIR below an INPUT directory): before, the second build read its own articles.jsonl and
    # stories.jsonl as inputs and reported "8 bad lines skipped"
    from crawler.offline.dataset import main

    assert main(["build", str(runs), str(runs)]) == 0
    first = read_jsonl(runs / "articles.jsonl")
    assert main(["build", str(runs), str(runs)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "reading 4 JSON Lines file(s)" in out[-2] and "left out, a dataset's own outputs: " in out[-2]
    assert "3 articles from 6 valid lines in 4 files (3 duplicates collapsed, 0 bad lines skipped)" in out[-1]
    manifest = json.loads((runs / "manifest.json").read_text())
    assert manifest["lines"]["skipped"] == 0 and manifest["inputs"]["files"] == 4
    assert read_jsonl(runs / "articles.jsonl") == first
    # an earlier dataset found below an INPUT directory is left out too
    assert main(["build", str(runs.parent / "dataset2"), str(runs.parent)]) == 0
    assert "0 bad lines skipped" in capsys.readouterr().out


def test_an_input_that_is_one_of_the_outputs_is_a_usage_error(runs, capsys):
    from crawler.offline.dataset import main

    assert main(["build", str(runs), str(runs)]) == 0
    before = (runs / "articles.jsonl").read_bytes()
    with pytest.raises(SystemExit) as stop:
        main(["build", str(runs), str(runs / "articles.jsonl"), str(runs / "run1")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {runs / 'articles.jsonl'} is one of the dataset's outputs" in err
    assert (runs / "articles.jsonl").read_bytes() == before
