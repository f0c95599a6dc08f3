"""The harness's IA semantics over pywb's answers (tests/sites/wayback.py): filters, collapsing, resume keys."""

from __future__ import annotations

import re

import pytest

from tests.sites.wayback import HarnessError, collapse, ia_row, pywb_filter, resume_position


def rows(*specs):
    """Rows of (urlkey, timestamp, digest)."""
    return [[urlkey, ts, f"http://{urlkey}", "text/html", "200", digest, "100"] for urlkey, ts, digest in specs]


def test_pywb_objects_become_ia_rows_in_ias_field_order():
    obj = {"urlkey": "com,spacewar)/", "timestamp": "20040612031544", "url": "https://www.spacewar.com/",
           "mime": "text/html", "status": "200", "digest": "D", "length": "9214", "offset": "0", "filename": "f"}
    assert ia_row(obj) == ["com,spacewar)/", "20040612031544", "https://www.spacewar.com/", "text/html", "200", "D",
                           "9214"]
    assert ia_row({"urlkey": "k", "timestamp": "20040612031544"})[2:] == ["-"] * 5


def test_collapse_drops_only_adjacent_repeats():
    data = rows(("a", "20040101000000", "X"), ("a", "20050101000000", "X"), ("a", "20060101000000", "Y"),
                ("a", "20070101000000", "X"))
    assert [r[5] for r in collapse(data, "digest")] == ["X", "Y", "X"]


def test_collapse_on_the_first_n_characters():
    data = rows(("a", "20040101000000", "X"), ("a", "20040615000000", "Y"), ("b", "20040101000000", "Z"))
    assert [r[1] for r in collapse(data, "timestamp:4")] == ["20040101000000"]
    assert len(collapse(data, "urlkey")) == 2


@pytest.mark.parametrize("ia,pywb", [
    ("statuscode:200", "~status:(?:200)$"),
    ("!statuscode:200", "!~status:(?:200)$"),
    ("mimetype:text/.*", "~mime:(?:text/.*)$"),
    ("original:https?://www\\.spacewar\\.com/.*", "~url:(?:https?://www\\.spacewar\\.com/.*)$"),
])
def test_ia_filters_become_anchored_pywb_regex_filters(ia, pywb):
    assert pywb_filter(ia) == pywb


def test_filters_match_the_whole_field_like_javas_matches():
    regex = pywb_filter("statuscode:20").split(":", 1)[1]  # pywb applies it with re.match
    assert not re.match(regex, "200") and re.match(regex, "20")


@pytest.mark.parametrize("spec", ["statuscode", "size:1", ":200"])
def test_bad_filters_are_a_400(spec):
    with pytest.raises(HarnessError):
        pywb_filter(spec)


def test_resume_keys_name_the_last_row_given():
    assert resume_position("com,spacewar)/reports/x_999.html 20080122081501!") == \
        ("com,spacewar)/reports/x_999.html", "20080122081501")
    with pytest.raises(HarnessError):
        resume_position("com,spacewar)/ 2008")
