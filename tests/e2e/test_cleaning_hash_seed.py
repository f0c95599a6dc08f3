"""Cleaning gives the same body whatever Python's hash seed (each seed is a Python process of its own)."""

from __future__ import annotations

import lxml.etree as etree

from crawler.extract.page import fragment

URL = "https://www.spacewar.com/reports/Test_story_999.html"


def parsed(html: str | None):
    """An HTML fragment as the cleaning gets it from the extraction: a parsed, parentless fragment."""
    if html is None:
        return None
    return fragment(etree.HTML(f"<div>{html}</div>").find("body/div"))


def test_a_two_line_dateline_joined_into_one_body_line_is_skipped_whatever_the_hash_seed():
    # a fallback body may hold the dateline's lines joined, in their order, as one line: it is the dateline,
    # skipped, not a removal that `scrapy explain` and the stats report. The lines used to be joined in
    # set order, which depends on PYTHONHASHSEED: the same page gave other stats from run to run
    import os
    import subprocess
    import sys

    snippet = (
        "from crawler.extract.cleaning import judge, read\n"
        "from tests.unit.extract.test_cleaning import parsed, URL\n"
        "raw = {'title': 'T', 'dateline': 'by Olena Kovalenko\\nKyiv (AFP) Jan 26, 2023', 'og': {},\n"
        "       'body': parsed('<p>by Olena Kovalenko Kyiv (AFP) Jan 26, 2023<p>Story text.'),\n"
        "       'rights': None, 'extraction': 'fallback'}\n"
        "done = judge(read(raw, URL))\n"
        "print(repr((done.article.body, [r.text for r in done.removed])))\n")
    for seed in range(6):
        out = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
        assert out.strip() == repr(("Story text.", [])), (seed, out)
