"""The project's commands in `scrapy --help` and their own --help: aligned, examples kept, only real headings underlined."""

from __future__ import annotations

import argparse
import pkgutil

import pytest
from scrapy.commands import ScrapyHelpFormatter

import crawler.commands


def test_command_names_fit_scrapy_help_column():
    # `scrapy --help` prints f"  {name:<13} {description}": a longer name pushes its description out of line
    names = [m.name for m in pkgutil.iter_modules(crawler.commands.__path__) if m.name != "helpformat"]
    assert "frontier" in names and "explain" in names
    assert [n for n in names if len(n) > 13] == []


def help_text(module: str, monkeypatch) -> str:
    """The --help of a project command, laid out as `scrapy <command> --help` does, 80 columns wide."""
    import importlib

    monkeypatch.setenv("COLUMNS", "80")
    from scrapy.settings import Settings

    cmd = importlib.import_module(f"crawler.commands.{module}").Command()
    cmd.settings = Settings()
    parser = argparse.ArgumentParser(prog=f"scrapy {module}", formatter_class=ScrapyHelpFormatter,
                                     usage=f"scrapy {module} {cmd.syntax()}", description=cmd.long_desc(),
                                     conflict_handler="resolve")
    cmd.add_options(parser)
    return parser.format_help()


@pytest.mark.parametrize("module", ["explain", "reprocess", "frontier"])
def test_help_underlines_only_its_section_titles(module, monkeypatch):
    lines = help_text(module, monkeypatch).splitlines()
    underlined = [lines[i - 1] for i, line in enumerate(lines) if line and set(line) in ({"="}, {"-"})]
    assert underlined == ["Usage", "Options", "Global Options"]
    assert max(map(len, lines)) <= 100  # nothing runs far past the terminal (one example line is long)


def test_explain_help_keeps_its_examples_one_per_line(monkeypatch):
    text = help_text("explain", monkeypatch)
    assert "\n    scrapy explain URL --warc output/warc/      # a WARC file or directory\n" in text
    assert "\n    scrapy explain URL --file saved-page.html   # a page on disk\n" in text
    assert "  --template PATH       the learned templates' file (default:" in text  # not a title-cased heading
