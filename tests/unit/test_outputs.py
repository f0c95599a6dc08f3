"""Every output location a crawl's settings name is found, and one that cannot be written is named with why."""

from __future__ import annotations

from crawler.outputs import DIR, FILE, feed_path, first_unwritable, locations, why_unwritable


def test_every_output_of_the_settings_is_listed():
    found = locations({"WARC_DIR": "w", "FEEDS": {"items/a.jsonl": {}, "s3://b/x.jsonl": {}, "stdout:": {}},
                       "JOBDIR": "job", "STATE_PATH": "state.sqlite", "LOG_FILE": "crawl.log",
                       "STATS_FILE": "stats.json", "WARC_DIGEST_INDEX": "d.sqlite", "WACZ": "True"})
    assert found == [("WARC_DIR", "w", DIR), ("WARC_DIGEST_INDEX", "d.sqlite", FILE),
                     ("the feed (-O/-o/FEEDS)", "items/a.jsonl", FILE), ("JOBDIR", "job", DIR),
                     ("STATE_PATH", "state.sqlite", FILE), ("LOG_FILE", "crawl.log", FILE),
                     ("STATS_FILE", "stats.json", FILE), ("REPORT_DIR", ".", DIR), ("WACZ_PATH", ".", DIR)]


def test_a_rebuild_from_warc_files_and_a_redis_state_write_no_file_of_theirs():
    found = locations({"WARC_DIR": "w", "STATE_PATH": "redis", "REPORT_DIR": "r"}, archiving=False)
    assert found == [("REPORT_DIR", "r", DIR)]


def test_feed_uris_give_their_local_path_or_their_directory():
    assert feed_path("file:///srv/items%20x.jsonl") == "/srv/items x.jsonl"
    assert feed_path("output/items/%(name)s-%(time)s.jsonl") == "output/items"
    assert feed_path("s3://bucket/items.jsonl") is None and feed_path("stdout:") is None
    assert locations({"WARC_ENABLED": False, "DEFAULT_FEED": "out/%(name)s.jsonl"}) == [
        ("the feed (-O/-o/FEEDS)", "out", DIR), ("REPORT_DIR", "output", DIR)]


def test_a_path_under_a_file_cannot_be_written_and_the_line_names_it(tmp_path):
    (tmp_path / "plain").write_text("x")
    assert why_unwritable(str(tmp_path / "plain" / "job"), DIR) == f"{tmp_path / 'plain'} is not a directory"
    assert why_unwritable(str(tmp_path), FILE) == "it is a directory"
    line = first_unwritable({"WARC_ENABLED": False, "REPORT_DIR": str(tmp_path),
                             "JOBDIR": str(tmp_path / "plain" / "job")})
    assert line == f"Cannot write JOBDIR at {tmp_path / 'plain' / 'job'}: {tmp_path / 'plain'} is not a directory"


def test_the_check_creates_nothing_and_leaves_an_existing_file_as_it_was(tmp_path):
    existing = tmp_path / "items.jsonl"
    existing.write_text('{"a": 1}\n')
    assert why_unwritable(str(existing), FILE) is None
    assert why_unwritable(str(tmp_path / "new" / "deeper"), DIR) is None
    assert existing.read_text() == '{"a": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["items.jsonl"]
