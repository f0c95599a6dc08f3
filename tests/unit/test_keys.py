"""Every meta key and stats key is defined once (crawler/keys.py) and listed in docs/reference.md, and a crawl uses no other."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from crawler import keys
from tests.crawling import REPO

SOURCES = [p for d in ("crawler", "spiders", "pipelines") for p in (REPO / d).rglob("*.py")
           if p != REPO / "crawler" / "keys.py"]
STATS_CALLS = {"inc_value", "set_value", "get_value", "max_value", "min_value", "_inc", "_set"}
#: stats keys of Scrapy itself and of the Scrapy components the crawl runs (documented by Scrapy)
SCRAPY_STATS = re.compile(
    r"^(downloader/|scheduler/|log_count/|memusage/|robotstxt/|httpcompression/|dupefilter/|offsite/"
    r"|response_received_count$|item_scraped_count$|item_dropped_count$|item_dropped_reasons_count/"
    r"|items_per_minute$|responses_per_minute$|request_depth_max$|request_depth_count/"
    r"|start_time$|finish_time$|finish_reason$|elapsed_time_seconds$|feedexport/|retry/count$"
    r"|retry/max_reached$|retry/reason_count/|spider_exceptions/|httperror/|urllength/)")


def literal_keys_in_calls(path: Path) -> list[str]:
    """String keys written out in stats calls (a constant of crawler.keys must be used instead)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            first = node.args[0]
            if name in STATS_CALLS and isinstance(first, (ast.Constant, ast.JoinedStr)):
                value = first.value if isinstance(first, ast.Constant) else ast.unparse(first)
                if not (isinstance(value, str) and SCRAPY_STATS.match(value)):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {value}")
    return found


def literal_meta_keys(path: Path) -> list[str]:
    """Our meta keys written out in subscripts or .get()/.pop()/.setdefault() of .meta."""
    ours = set(keys.META)
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        key = None
        if isinstance(node, ast.Subscript) and getattr(node.value, "attr", None) == "meta":
            key = node.slice
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("get", "pop", "setdefault") \
                and getattr(node.func.value, "attr", None) == "meta" and node.args:
            key = node.args[0]
        if isinstance(key, ast.Constant) and key.value in ours:
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: {key.value}")
    return found


def test_no_module_spells_a_stats_key_or_a_meta_key_of_its_own():
    assert [hit for path in SOURCES for hit in literal_keys_in_calls(path)] == []
    assert [hit for path in SOURCES for hit in literal_meta_keys(path)] == []


def reference_sections() -> dict[str, str]:
    """docs/reference.md's sections by title."""
    page = (REPO / "docs" / "reference.md").read_text("utf-8")
    return {part.split("\n", 1)[0].strip(): part for part in page.split("\n## ")[1:]}


def test_the_reference_page_lists_every_key_and_no_other():
    sections = reference_sections()
    listed = {title: set(re.findall(r"^\| `([^`]+)` \|", sections[title], re.M)) for title in ("request.meta", "Stats")}
    assert listed["request.meta"] == set(keys.META)
    assert listed["Stats"] == set(keys.STATS)


def test_the_reference_page_shows_each_declared_setting_with_its_type_and_range():
    from crawler.settingspec import SETTINGS

    rows = re.findall(r"^\| `([A-Z_0-9]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", reference_sections()["Settings"], re.M)
    shown = {name: (kind.strip(), allowed.strip()) for name, kind, allowed, _help in rows}
    assert shown == {name: (spec.kind, spec.allowed()) for name, spec in SETTINGS.items()}
    assert shown["WARC_COMPRESS_LEVEL"] == ("int", "a whole number from 0 to 9")  # zlib's levels


