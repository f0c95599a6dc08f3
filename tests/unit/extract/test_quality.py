"""Extraction quality on every fixture article, decoded from its bytes as Scrapy decodes them: the body
matches the hand-written expectation (token F1 >= 0.99), no clutter string survives, the metadata is exact.
Speed is not asserted here: bench/extraction_speed.py measures it against trafilatura (make bench)."""

from __future__ import annotations

import pytest

from bench.quality import decode_like_scrapy, fixture_pages, ours, token_f1

PAGES = fixture_pages()
EXACT = ("title", "published", "author", "location", "agency", "rights", "extraction")

#: Texts that appear on the fixture pages outside the story; none may reach a body.
CLUTTER = (
    "ADVERTISEMENT", "adsbygoogle", "Sponsored", "Related Links", "at SpaceWar.com",
    "Space News from SpaceDaily.com", "24/7 Energy News Coverage",
    "Military Space News, Nuclear Weapons, Missile Defense", "24/7 News Coverage",
    "Trump-Musk showdown", "Ailing Baltic Sea", "Canadian firm will be first",
    "All rights reserved", "Agence France-Presse", "United Press International",
    "The content herein", "Privacy Statement", "Advertise With Us", "SPACEWAR RSS", "Latest headlines",
    "Subscribe Free To Our Daily Newsletters", "Comment on this article", "Disqus", "Thanks for being here",
    "PayPal", "donation", "Archive Search", "Cyber Wars",
    "Washington, May 30 (AFP)", "(AFP) Jan 26, 2023", "by Staff Writers", "Illustration only",
    "Artist\u2019s impression", "A tracking radar in Western Australia", "Share on X", "Poland buys more interceptors",
)


def test_there_are_fixture_articles_of_every_kind():
    names = {p.name for p in PAGES}
    assert {"samples/article-afp", "samples/article-spx", "pages/kharkiv-2024-05-30"} <= names
    assert len(PAGES) >= 9
    assert {p.expected.get("extraction") for p in PAGES if "extraction" in p.expected} == {"site-rules", "fallback"}


@pytest.fixture(scope="module")
def items():
    return {p.name: ours(p.html, p.url) for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_body_matches_the_expected_paragraphs(page, items):
    assert token_f1(items[page.name]["body"], page.expected["body"]) >= 0.99


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_no_clutter_string_in_the_body(page, items):
    body = items[page.name]["body"].lower()
    leaked = [c for c in CLUTTER if c.lower() in body]
    assert not leaked


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_metadata_and_images_are_exact(page, items):
    item = items[page.name]
    for key in EXACT:
        if key in page.expected:
            assert item[key] == page.expected[key], key
    if "images" in page.expected:
        # compare only the keys the expectation names (the sample expects captions only)
        got = [{k: img.get(k) for k in exp} for img, exp in zip(item["images"], page.expected["images"])]
        assert len(item["images"]) == len(page.expected["images"]) and got == page.expected["images"]


def test_the_seed_story_yields_exactly_its_sixteen_paragraphs(items):
    [page] = [p for p in PAGES if p.name == "pages/kharkiv-2024-05-30"]
    got = items[page.name]["body"].split("\n\n")
    assert len(got) == 16
    assert got == page.expected["body"].split("\n\n")
    assert items[page.name]["rights"].startswith("All rights reserved. Copyright Agence France-Presse.")


def test_windows_1252_bytes_declared_as_latin1_decode_to_typographic_characters(items):
    [page] = [p for p in PAGES if p.name == "pages/cp1252-declared-latin1"]
    raw = page.path.read_bytes()
    assert b"charset=iso-8859-1" in raw and b"\x93" in raw and b"\xe9" in raw
    html = decode_like_scrapy(page.url, raw)
    body = items[page.name]["body"]
    assert "\u201cEurodome\u201d" in items[page.name]["title"]
    assert "\u00c9lys\u00e9e" in body and "\u2013" in body and "\u20ac1.2 billion" in body
    assert "\u201c" in html and "\x93" not in body


def test_token_f1_scores_what_it_should():
    assert token_f1("a b c", "a b c") == 1.0
    assert token_f1("", "") == 1.0 and token_f1("a", "") == 0.0 and token_f1("", "a") == 0.0
    assert token_f1("A, b!", "a b") == 1.0  # case and punctuation do not count
    assert token_f1("a b", "a b c d") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert token_f1("x y", "a b") == 0.0
