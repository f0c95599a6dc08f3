"""Figures in the README that cannot drift: its settings table against the code's defaults, its exit statuses."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from scrapy.settings import default_settings

from crawler import settings as project

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text("utf-8")
#: modules whose DEFAULTS a feature's add-on applies
ADDON_DEFAULTS = ("crawler.capture.addon", "crawler.network.addon", "crawler.network.politeness",
                  "crawler.frontier.addon", "crawler.journal.addon", "crawler.incremental.addon",
                  "crawler.offline.replay", "crawler.offline.wacz")


def table_after(heading: str) -> list[list[str]]:
    """The rows (cells without the backticks) of the first table after a heading."""
    rest = README[README.index(heading):]
    rows = re.findall(r"^\|(.+)\|\s*$", rest[:rest.index("\n\n", rest.index("| ---"))], re.M)
    return [[cell.strip() for cell in row.split("|")] for row in rows[2:]]


def known_defaults() -> dict:
    values = {name: getattr(default_settings, name) for name in dir(default_settings) if name.isupper()}
    for module in ADDON_DEFAULTS:
        values.update(importlib.import_module(module).DEFAULTS)
    values.update({name: getattr(project, name) for name in dir(project) if name.isupper()})
    # settings read by the code without a declared default (WORKER_ID: the add-on makes one up)
    for path in (REPO / "crawler").rglob("*.py"):
        for name in re.findall(r"""\.get(?:bool|int|float|list|dict)?\(\s*["']([A-Z][A-Z_]+)["']""", path.read_text()):
            values.setdefault(name, NOT_DECLARED)
    return values


NOT_DECLARED = object()


def test_every_setting_in_the_readme_table_exists_and_its_plain_defaults_are_the_codes():
    defaults = known_defaults()
    rows = table_after("## Settings")
    assert len(rows) > 20
    checked = 0
    for names, default, _ in rows:
        for name in re.findall(r"`([A-Z_]+)`", names):
            assert name in defaults, f"README names {name}, which no settings module declares"
        [name, *more] = re.findall(r"`([A-Z_]+)`", names)
        if more:
            continue
        value = defaults[name]
        if value is NOT_DECLARED:
            continue
        if re.fullmatch(r"-?\d+(\.\d+)?|True|False", default):  # a plain literal: it must be the code's
            assert str(value) == default, f"README: {name} defaults to {default}, the code says {value!r}"
            checked += 1
        elif default == "none":
            assert value in (None, "", {}, []), (name, value)
            checked += 1
    assert checked >= 10


def test_the_readme_exit_statuses_are_the_codes():
    from crawler.reporting import outcome

    statuses = {int(row[0]) for row in table_after("### Exit status") if row[0].isdigit()}
    assert {outcome.OK, outcome.NOTHING_ARCHIVED, outcome.WARC_WRITE_FAILED, outcome.STOPPED_EARLY,
            outcome.CONFIG_ERROR} <= statuses
