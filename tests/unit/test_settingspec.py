"""Every documented setting is declared once with its type and range, and a bad value is named in one line."""

from __future__ import annotations

import ast

import pytest

from crawler import settingspec
from crawler.settingspec import SETTINGS, problems
from tests.crawling import REPO, project_settings

#: settings the code reads that are Scrapy's plumbing, set by the add-ons, not by an operator
PLUMBING = {"SCHEDULER", "DUPEFILTER_CLASS", "DUPEFILTER_DEBUG", "SCHEDULER_QUEUE_KEY", "SCHEDULER_DUPEFILTER_KEY",
            "SCHEDULER_QUEUE_CLASS", "DEFAULT_DROPITEM_LOG_LEVEL",
            "SCRAPER_SLOT_MAX_ACTIVE_SIZE", "EXTENSIONS_BASE"}
#: upper-case keys read with .get() that are not settings
NOT_SETTINGS = {"CPU"}  # Ray's cluster resources (crawler/offline/reprocess/ray_engine.py)


SETTINGS_GETTERS = {"get", "getint", "getbool", "getfloat", "getlist", "getdict", "getpriority", "getwithbase"}


def settings_read_by_the_code() -> set[str]:
    found = set()
    for path in [p for d in ("crawler", "spiders", "pipelines") for p in (REPO / d).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in SETTINGS_GETTERS and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str) \
                    and node.args[0].value.isupper() and "environ" not in ast.unparse(node.func.value):
                found.add(node.args[0].value)
    return found


def test_every_setting_the_code_reads_is_declared():
    read = settings_read_by_the_code()
    assert "WARC_COMPRESS_LEVEL" in read  # the scan finds them
    assert sorted(read - set(SETTINGS) - PLUMBING - NOT_SETTINGS) == []


def test_every_default_of_the_project_and_its_add_ons_is_allowed():
    from tests.unit.test_settings import _add_on_defaults

    values = project_settings()
    for defaults in _add_on_defaults().values():
        values.update(defaults)
    assert problems(values) == []
    assert set(SETTINGS) >= {name for defaults in _add_on_defaults().values() for name in defaults}


@pytest.mark.parametrize("name, value, line", [
    ("WARC_COMPRESS_LEVEL", "12", "WARC_COMPRESS_LEVEL=12: allowed: a whole number from 0 to 9"),
    ("WACZ", "maybe", "WACZ=maybe: allowed: True or False"),
    ("DOWNLOAD_DELAY", "abc", "DOWNLOAD_DELAY=abc: allowed: a number of at least 0"),
    ("WARC_MAX_SIZE", "1GB", "WARC_MAX_SIZE=1GB: allowed: a whole number of at least 1"),
    ("CONCURRENT_REQUESTS", "two", "CONCURRENT_REQUESTS=two: allowed: a whole number of at least 1"),
    ("HOST_MAP", "notjson", "HOST_MAP=notjson: allowed: a JSON object"),
    ("HOST_MAP", '{"www.spacewar.com:443": "127.0.0.1:x"}', "HOST_MAP="),
    ("HOST_MAP", "[1, 2]", "HOST_MAP=[1, 2]: allowed: a JSON object"),
    ("FALLBACK_WARN_RATIO", "2", "FALLBACK_WARN_RATIO=2: allowed: a number from 0 to 1"),
    ("CLOSESPIDER_PAGECOUNT", "-5", "CLOSESPIDER_PAGECOUNT=-5: allowed: a whole number of at least 0"),
    ("CLOSESPIDER_PAGECOUNT", "1.5", "CLOSESPIDER_PAGECOUNT=1.5: allowed"),
    ("DOWNLOAD_DELAY", "nan", "DOWNLOAD_DELAY=nan: allowed"),
    ("POLITE_KEY", "url", "POLITE_KEY=url: allowed: one of host, ip"),
    ("REDIS_URL", "localhost:6379", "REDIS_URL=localhost:6379: allowed: a URL starting redis://"),
    ("LOG_LEVEL", "LOUD", "LOG_LEVEL=LOUD: allowed: one of CRITICAL"),
    ("METRICS_PORT", "70000", "METRICS_PORT=70000: allowed: a whole number from 0 to 65535"),
])
def test_a_bad_value_is_one_entry_naming_the_setting_the_value_and_what_is_allowed(name, value, line):
    found = problems(project_settings(**{name: value}))
    assert len(found) == 1 and found[0].startswith(line), found
    assert "\n" not in found[0]


@pytest.mark.parametrize("name, value", [
    ("WARC_COMPRESS_LEVEL", "0"), ("WARC_COMPRESS_LEVEL", 9), ("WACZ", "true"), ("WACZ", "1"), ("WACZ", False),
    ("DOWNLOAD_DELAY", "0.25"), ("DOWNLOAD_DELAY", 2), ("CONCURRENT_REQUESTS", "8"), ("WARC_DIGEST_INDEX", None),
    ("HOST_MAP", '{"www.spacewar.com:443": "127.0.0.1:8443"}'), ("HOST_MAP", {}), ("REDIS_URL", None),
    ("CLOSESPIDER_PAGECOUNT", "0"), ("REQUISITE_DOMAINS", "a.com,b.com"), ("FALLBACK_WARN_RATIO", "1"),
])
def test_good_values_as_typed_on_the_command_line_or_in_settings_py_pass(name, value):
    assert problems(project_settings(**{name: value})) == []


def test_settings_that_need_another_say_which():
    assert problems(project_settings(METRICS_PORT="9100")) == [
        "METRICS_PORT=9100: allowed only with REDIS_URL (the metrics are those of a shared crawl); "
        "set REDIS_URL or drop METRICS_PORT"]
    assert problems(project_settings(METRICS_PORT="9100", REDIS_URL="redis://127.0.0.1:6379/0")) == []
    assert problems(project_settings(STATE_PATH="redis"))[0].startswith("STATE_PATH=redis: allowed only with REDIS_URL")


def test_several_bad_values_are_all_named():
    found = problems(project_settings(WACZ="maybe", DOWNLOAD_DELAY="abc"))
    assert [line.split("=", 1)[0] for line in found] == ["WACZ", "DOWNLOAD_DELAY"]


def test_each_declaration_has_a_type_and_one_line_of_help():
    kinds = {settingspec.BOOL, settingspec.INT, settingspec.FLOAT, settingspec.TEXT, settingspec.PATH,
             settingspec.CHOICE, settingspec.OBJECT, settingspec.LIST, settingspec.URL}
    for spec in SETTINGS.values():
        assert spec.kind in kinds and spec.help and "\n" not in spec.help and "|" not in spec.help, spec.name
        assert (spec.kind == settingspec.CHOICE) == bool(spec.choices), spec.name


def test_a_name_no_part_of_the_crawl_reads_is_found_for_a_warning():
    assert settingspec.unknown(["WARC_COMPRES_LEVEL", "WARC_COMPRESS_LEVEL", "DOWNLOAD_DELAY", "RETRY_HTTP_CODES",
                                "FRONTIER_KEEP", "DEFAULT_FEED"]) == ["WARC_COMPRES_LEVEL"]


def test_a_name_a_few_edits_from_a_setting_is_a_typo_of_it_and_a_name_near_none_is_not():
    found = settingspec.misspelt(["STATE_PTH", "WARC_DIRR", "jobdir", "STAET_PATH", "REVISIT_BUDGT", "DEPTH_LIMT",
                                  "STATE_PATH", "MYORG_NOTIFY_URL", "SENTRY_DSN", "REDIS_HOST", "MAIL_TO"])
    assert found == {"STATE_PTH": "STATE_PATH", "WARC_DIRR": "WARC_DIR", "jobdir": "JOBDIR", "STAET_PATH": "STATE_PATH",
                     "REVISIT_BUDGT": "REVISIT_BUDGET", "DEPTH_LIMT": "DEPTH_LIMIT"}
