"""The per-file lines of the reprocess summary: a file that gave nothing says why, for every capture in it."""

from __future__ import annotations

from collections import Counter

from crawler.offline.reprocess.run import gave_nothing


def row(**kw):
    return {"file": "a.warc.gz", "records": 395, "captures": 194, "selected": 0, "articles": 0,
            "skipped": Counter(), "damaged": 0, "note": "", **kw}


def test_captures_passed_over_for_later_ones_are_said_so_not_hidden_behind_another_reason():
    """Two wget runs of a site: every capture of the first is passed over for the second's, one was cut short. The
    line said `194 captures, no article (truncated: 1)`, as if one reason covered the 194."""
    assert gave_nothing(row(skipped=Counter(truncated=1))) == (
        "194 captures, no article (truncated: 1; 193 not selected: a later capture of the same page, "
        "or not a 2xx answer)")
    assert gave_nothing(row()) == ("194 captures, no article (194 not selected: a later capture of the same page, "
                                   "or not a 2xx answer)")


def test_every_capture_accounted_for_by_the_reasons_adds_nothing():
    assert gave_nothing(row(captures=3, selected=2, skipped=Counter(listing=2, not_text=1))) == \
        "3 captures, no article (listing: 2, not_text: 1)"
