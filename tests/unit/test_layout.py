"""The shape of the code (docs/architecture.md): WARC and extraction code is pure, every module says its job."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: packages that must not import Scrapy (or Twisted): used by the crawl, the reprocessor and tools alike
PURE = ("crawler/warc", "crawler/extract", "crawler/syndication", "crawler/wayback")


def modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def imported(path: Path) -> set[str]:
    """Top-level package names a module imports, anywhere in it (also inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", modules(*PURE), ids=lambda p: str(p.relative_to(REPO)))
def test_warc_and_extraction_code_imports_no_scrapy(path):
    assert not imported(path) & {"scrapy", "twisted", "itemadapter"}, path


@pytest.mark.parametrize("path", modules("crawler", "spiders", "pipelines"), ids=lambda p: str(p.relative_to(REPO)))
def test_every_module_says_its_job_in_its_docstring(path):
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path.relative_to(REPO)} has no docstring"


def test_the_pure_packages_exist():
    """A renamed folder must not turn the first test into one that checks nothing."""
    assert all(len(modules(folder)) >= 3 for folder in PURE)
