"""The per-file lines of the reprocess summary: a file that gave nothing says why, for every capture in it."""

from __future__ import annotations

from collections import Counter

from crawler.offline.reprocess.run import gave_nothing


def row(**kw):
    return {"file": "a.warc.gz", "records": 395, "captures": 194, "selected": 0, "articles": 0,
            "skipped": Counter(), "damaged": 0, "note": "", **kw}


def test_captures_passed_over_for_later_ones_are_said_so_not_hidden_behind_another_reason():
    """Two wget runs of a site: every capture of the first is passed over for the second's, one was cut short. The
    line said `194 captures, no article (truncated: 1)`, as if one reason covered the 194."""
    assert gave_nothing(row(skipped=Counter(truncated=1))) == (
        "194 captures, no article (truncated: 1; 193 not selected: a later capture of the same page, "
        "or not a 2xx answer)")
    assert gave_nothing(row()) == ("194 captures, no article (194 not selected: a later capture of the same page, "
                                   "or not a 2xx answer)")


def test_every_capture_accounted_for_by_the_reasons_adds_nothing():
    assert gave_nothing(row(captures=3, selected=2, skipped=Counter(listing=2, not_text=1))) == \
        "3 captures, no article (listing: 2, not_text: 1)"


# --- Common Crawl's WAT and WET files ------------------------------------------------------------------
def _extract(path, kind: str, n: int = 3):
    """A WAT (metadata records, JSON) or WET (conversion records, text) file as Common Crawl writes them: WARC files
    of extracts of the warc/ file's captures, under the same target URIs."""
    from crawler.warc.files import gzip_member, serialize_record
    from tests.unit.offline.test_archived_url_forms import ITEM_URL

    wat = kind == "wat"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for i in range(n):
            fh.write(gzip_member(serialize_record(
                [("WARC-Type", "metadata" if wat else "conversion"),
                 ("WARC-Record-ID", f"<urn:uuid:{i:08d}-0000-0000-0000-00000000000{int(wat)}>"),
                 ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Target-URI", ITEM_URL),
                 ("Content-Type", "application/json" if wat else "text/plain")],
                b'{"Envelope": {}}' if wat else b"Biden lets Ukraine hit Russia")))


def _common_crawl_tree(root):
    from tests.unit.offline.test_archived_url_forms import FORMS, response_record, write

    segment = root / "crawl-data" / "CC-MAIN-2026-01" / "segments" / "1700000000000.1"
    write(segment / "warc" / "CC-MAIN-1-00000.warc.gz", response_record(1, FORMS["http"]))
    _extract(segment / "wat" / "CC-MAIN-1-00000.warc.wat.gz", "wat")
    _extract(segment / "wet" / "CC-MAIN-1-00000.warc.wet.gz", "wet")
    return segment


def _run(tmp_path, *paths):
    from crawler.offline.reprocess.run import Options, run, summary_lines

    summary, status = run(Options(paths=[str(p) for p in paths], output=str(tmp_path / "out.jsonl"), processes=1,
                                  progress_interval=0))
    return summary, status, summary_lines(summary)


def test_wat_and_wet_files_in_a_common_crawl_tree_are_left_out_and_said_so(tmp_path):
    _common_crawl_tree(tmp_path)
    summary, status, lines = _run(tmp_path, tmp_path / "crawl-data")
    assert status == 0 and summary["articles"] == 1 and summary["inputs"]["files"] == 1  # what is read: unchanged
    said = [line for line in lines if "WAT/WET" in line]
    assert said == ["  left out: 2 WAT/WET files (metadata and text extracts of captures, not captures: "
                    "give the warc/ files)"]


def test_a_wat_or_wet_file_given_by_name_says_what_it_is_on_its_line(tmp_path):
    segment = _common_crawl_tree(tmp_path)
    wat, wet = next((segment / "wat").iterdir()), next((segment / "wet").iterdir())
    summary, status, lines = _run(tmp_path, segment / "warc", wat, wet)
    assert status == 0 and summary["articles"] == 1
    assert f"    {wat}: a WAT file, 3 records: metadata extracts of captures, not captures: give the warc/ file" in lines
    assert f"    {wet}: a WET file, 3 records: text extracts of captures, not captures: give the warc/ file" in lines
    assert not [line for line in lines if "no response of the sites" in line]


# --- damage on the line of a file that gave articles ------------------------------------------------------
def test_a_damaged_file_that_still_gave_articles_says_so_on_its_line(tmp_path):
    """The damage was only in the errors block: the file's own line read as if the file were whole."""
    from tests.unit.offline.test_archived_url_forms import FORMS, response_record, write

    whole = response_record(1, FORMS["http"])
    damaged = write(tmp_path / "in" / "damaged.warc.gz", whole, whole[:40] + b"\x00" * 200,
                    response_record(2, FORMS["bare host"].replace("_999", "_998")))
    write(tmp_path / "in" / "good.warc.gz", response_record(3, FORMS["tracking parameters"].replace("_999", "_997")))
    summary, status, lines = _run(tmp_path, tmp_path / "in")
    assert status == 0 and summary["files"][0]["articles"] == 2 and summary["files"][0]["damaged"] == 1
    line = next(line for line in lines if line.startswith(f"    {damaged}: "))
    assert line.endswith(", 1 damaged place")  # the words of a file that gave nothing: "(1 damaged place)"
    assert next(line for line in lines if "good.warc.gz" in line).endswith(": 1 articles of 1 records, 1 captures")
