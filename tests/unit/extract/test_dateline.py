"""Datelines as the site writes them become the item's date, author, place and source."""

from __future__ import annotations

import pytest

from crawler.extract.dateline import normalise_author, parse_dateline


@pytest.mark.parametrize("text, published, author, location, agency", [
    # the forms the network's pages use
    ("Washington, May 30 (AFP) May 30, 2024", "2024-05-30", None, "Washington", "AFP"),
    ("Paris (AFP) Jun 03, 2024", "2024-06-03", None, "Paris", "AFP"),
    ("by Staff Writers\nWashington DC (SPX) Jun 03, 2024", "2024-06-03", None, "Washington DC", "SPX"),
    ("by Laurent Thomet\nKyiv (AFP) Jan 26, 2023", "2023-01-26", "Laurent Thomet", "Kyiv", "AFP"),
    # full month names, "Sept", a dotted month, no leading zero
    ("Cape Canaveral FL (UPI) June 3, 2024", "2024-06-03", None, "Cape Canaveral FL", "UPI"),
    ("Brussels (AFP) Sept 4, 2024", "2024-09-04", None, "Brussels", "AFP"),
    ("Brussels (AFP) Sep. 14, 2024", "2024-09-14", None, "Brussels", "AFP"),
    ("Berlin, December 2 (AFP) December 2, 2024", "2024-12-02", None, "Berlin", "AFP"),
    # several authors, other sources, other staff bylines
    ("by Marie Dubois and Kenji Watanabe\nTokyo (AFP) Feb 11, 2025", "2025-02-11",
     "Marie Dubois and Kenji Watanabe", "Tokyo", "AFP"),
    ("Moscow (Sputnik) Mar 12, 2024", "2024-03-12", None, "Moscow", "Sputnik"),
    ("by Staff Writer\nBeijing (XNA) Apr 01, 2024", "2024-04-01", None, "Beijing", "XNA"),
    ("Staff Writers\nMoscow (RIA Novosti) Oct 14, 2024", "2024-10-14", None, "Moscow", "RIA Novosti"),
    ("By Staff Writers Paris (SPX) Jun 03, 2024", "2024-06-03", None, "Paris", "SPX"),
    # a comma inside the place is kept; CRLF and runs of spaces are not
    ("by Daniel Okafor\r\nCape Canaveral,  Fla. (UPI)   Jul 9, 2024", "2024-07-09", "Daniel Okafor",
     "Cape Canaveral, Fla.", "UPI"),
])
def test_dateline_forms(text, published, author, location, agency):
    assert parse_dateline(text) == {"published": published, "author": author, "location": location,
                                    "agency": agency}


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "garbage (((", "(", ")(", "by", "by \n",
                                  "Washington (AFP) Feb 30, 2024", "Paris (AFP) Smarch 3, 2024",
                                  "x" * 10000, "(" * 500 + "AFP" + ")" * 500, None, 42])
def test_an_unreadable_dateline_gives_nones_never_an_exception(text):
    out = parse_dateline(text)
    assert set(out) == {"published", "author", "location", "agency"}
    assert out["published"] is None


def test_an_impossible_date_is_not_invented_but_place_and_source_are_kept():
    assert parse_dateline("Washington (AFP) Feb 30, 2024") == {
        "published": None, "author": None, "location": "Washington", "agency": "AFP"}


@pytest.mark.parametrize("byline, expected", [
    ("by Staff Writers", None), ("Staff Writers", None), ("Staff Writer", None), ("by staff writers", None),
    ("by Laurent Thomet", "Laurent Thomet"), ("By  Ana Lúcia Ferreira ", "Ana Lúcia Ferreira"),
    ("", None), (None, None),
])
def test_bylines_that_name_nobody_are_null(byline, expected):
    assert normalise_author(byline) == expected
