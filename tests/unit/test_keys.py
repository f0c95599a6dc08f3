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


def test_the_reference_page_lists_every_key_and_no_other():
    page = (REPO / "docs" / "reference.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", page, re.M))
    assert listed == set(keys.META) | set(keys.STATS)


