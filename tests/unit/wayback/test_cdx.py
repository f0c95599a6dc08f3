"""The CDX API in the Internet Archive's layout: the query URLs we send, the answers we read, the capture URLs."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest

from crawler.wayback.cdx import (
    FIELDS, IA_BASE, PYWB, PYWB_LIMIT, CDXAnswerError, CDXPage, CDXQuery, archive_layout, capture_url, iter_pages,
    parse_answer, parse_capture_url,
)
from tests.crawling import FIXTURES

HERE = FIXTURES / "wayback"
HEADER = list(FIELDS)
ROW = ["com,spacewar)/reports/x_999.html", "20050312101204", "http://www.spacewar.com/reports/X_999.html",
       "text/html", "200", "TZ5H2WQK3MVJ7DRNX6BPLY4CAFE2GUSO", "5310"]


# --- query URLs ----------------------------------------------------------------------------------
def test_query_url_is_the_internet_archives_layout_with_every_parameter_encoded():
    url = CDXQuery(IA_BASE, "spacewar.com/reports/*", from_ts=2004, to_ts="2010", limit=500).page_url()
    assert url == ("https://web.archive.org/cdx/search/cdx?url=spacewar.com%2Freports%2F%2A&output=json"
                   "&from=2004&to=2010&filter=statuscode%3A200&collapse=digest&showResumeKey=true&limit=500")
    params = parse_qs(urlsplit(url).query)
    assert params == {"url": ["spacewar.com/reports/*"], "output": ["json"], "from": ["2004"], "to": ["2010"],
                      "filter": ["statuscode:200"], "collapse": ["digest"], "showResumeKey": ["true"],
                      "limit": ["500"]}


def test_a_url_with_a_query_of_its_own_stays_one_parameter():
    url = CDXQuery("http://127.0.0.1:8080/", "www.spacewar.com/x.html?a=1&b=c d").page_url()
    assert url.startswith("http://127.0.0.1:8080/cdx/search/cdx?")
    assert dict(parse_qsl(urlsplit(url).query))["url"] == "www.spacewar.com/x.html?a=1&b=c d"
    assert "from=" not in url and "to=" not in url


@pytest.mark.parametrize("value,expected", [
    (2004, "2004"), ("200406", "200406"), (date(2004, 6, 1), "20040601"),
    (datetime(2004, 6, 1, 12, 30, 5), "20040601123005"),
    (datetime(2004, 6, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2))), "20040601123005"),
])
def test_time_bounds_become_the_archives_digits(value, expected):
    query = CDXQuery(IA_BASE, "spacewar.com/*", from_ts=value, to_ts=value)
    assert (query.from_ts, query.to_ts) == (expected, expected)


@pytest.mark.parametrize("kw", [
    {"from_ts": "2004-06"}, {"to_ts": "200406011230059"}, {"from_ts": True}, {"limit": 0}, {"limit": "10"},
    {"match_type": "suffix"},
])
def test_bad_query_settings_are_refused(kw):
    with pytest.raises(ValueError):
        CDXQuery(IA_BASE, "spacewar.com/*", **kw)


@pytest.mark.parametrize("base", ["web.archive.org", "ftp://web.archive.org", "https://web.archive.org/?x=1", ""])
def test_bad_archive_base_is_refused(base):
    with pytest.raises(ValueError, match="archive base URL"):
        CDXQuery(base, "spacewar.com/*")


def test_the_next_page_carries_the_resume_key_as_the_archive_gave_it():
    key = "com%2Cspacewar%29%2Freports%2Farmy_restarts_reactor_talks_999.html+20080122081501%21"
    url = CDXQuery(IA_BASE, "spacewar.com/reports/*", limit=2).page_url(key)
    assert url.endswith("&limit=2&resumeKey=" + key)
    assert parse_qs(urlsplit(url).query)["resumeKey"] == ["com,spacewar)/reports/army_restarts_reactor_talks_999.html "
                                                          "20080122081501!"]


def test_a_resume_key_with_unsafe_characters_is_encoded():
    url = CDXQuery(IA_BASE, "spacewar.com/*").page_url("a&b=c d")
    assert parse_qs(urlsplit(url).query)["resumeKey"] == ["a&b=c d"]


# --- capture URLs ---------------------------------------------------------------------------------
def test_capture_url_is_the_id_form_with_the_original_url_after_it():
    original = "http://www.spacewar.com:80/reports/X_999.html?utm_source=rss"
    url = capture_url(IA_BASE + "/", "20050312101204", original)
    assert url == "https://web.archive.org/web/20050312101204id_/" + original
    assert parse_capture_url(url, IA_BASE) == ("20050312101204", original)


def test_capture_url_escapes_only_what_a_url_cannot_hold():
    url = capture_url(IA_BASE, "20050312101204", "http://www.spacewar.com/a b/é.html?q=%41")
    assert url == "https://web.archive.org/web/20050312101204id_/http://www.spacewar.com/a%20b/%C3%A9.html?q=%41"


@pytest.mark.parametrize("timestamp", ["2005031210120", "200503121012045", "2005-03-12", 20050312101204])
def test_capture_url_needs_a_full_timestamp(timestamp):
    with pytest.raises(ValueError, match="14 digits"):
        capture_url(IA_BASE, timestamp, "http://www.spacewar.com/")


@pytest.mark.parametrize("url", [
    "https://web.archive.org/web/20050312101204/http://www.spacewar.com/",  # replay, rewritten
    "https://web.archive.org/web/20050312101204im_/http://www.spacewar.com/x.jpg",
    "https://web.archive.org/web/2005id_/http://www.spacewar.com/",
    "https://web.archive.org/web/20050312101204id_/www.spacewar.com/",
    "https://other.example/web/20050312101204id_/http://www.spacewar.com/",
])
def test_only_id_capture_urls_of_the_archive_are_accepted(url):
    with pytest.raises(ValueError):
        parse_capture_url(url, IA_BASE)


# --- answers ---------------------------------------------------------------------------------------
def test_rows_become_captures_with_their_time_in_utc_and_their_capture_url():
    page = parse_answer(json.dumps([HEADER, ROW]).encode(), "http://127.0.0.1:9000/")
    [capture] = page.captures
    assert page.resume_key is None
    assert (capture.urlkey, capture.original, capture.mimetype, capture.statuscode, capture.digest,
            capture.length) == (ROW[0], ROW[2], "text/html", "200", ROW[5], "5310")
    assert capture.captured_at == datetime(2005, 3, 12, 10, 12, 4, tzinfo=timezone.utc)
    assert capture.capture_url == \
        "http://127.0.0.1:9000/web/20050312101204id_/http://www.spacewar.com/reports/X_999.html"


def test_nothing_matches_is_an_empty_page():
    assert parse_answer(b"[]", IA_BASE) == CDXPage(())
    assert parse_answer(b"[]\n", IA_BASE).captures == ()
    assert parse_answer(json.dumps([HEADER]), IA_BASE) == CDXPage(())  # the header row alone: nothing either


def test_a_page_may_hold_only_its_resume_key():
    """Nothing in the documented shape forbids it; the listing then goes on with the key."""
    assert parse_answer(json.dumps([HEADER, [], ["k"]]), IA_BASE) == CDXPage((), "k")


def test_recorded_style_answer_keeps_every_row_in_order():
    page = parse_answer((HERE / "cdx-spacewar-2004-2010.json").read_bytes(), IA_BASE)
    rows = json.loads((HERE / "cdx-spacewar-2004-2010.json").read_text())[1:]
    assert [[getattr(c, f) for f in FIELDS] for c in page.captures] == rows
    assert len(page.captures) == 15 and page.resume_key is None
    assert {c.statuscode for c in page.captures} == {"200", "301", "404", "503", "-"}


def test_an_excerpt_of_a_real_answer_of_the_internet_archive_is_read_row_for_row():
    """Four rows IA really answered (published, see the fixtures' README): revisits with status "-", an "unk"
    mimetype, a 301, and IA's own spacing between values."""
    raw = (HERE / "ia-cdx-published-excerpt.json").read_bytes()
    page = parse_answer(raw, IA_BASE)
    assert [[getattr(c, f) for f in FIELDS] for c in page.captures] == json.loads(raw)[1:]
    assert page.resume_key is None
    assert [(c.mimetype, c.statuscode) for c in page.captures] == \
        [("warc/revisit", "-"), ("warc/revisit", "-"), ("unk", "301"), ("text/html", "301")]
    assert page.captures[0].captured_at == datetime(2021, 11, 1, 0, 24, 42, tzinfo=timezone.utc)
    assert page.captures[3].capture_url == "https://web.archive.org/web/20211101022822id_/https://en.wikipedia.org/"


def test_pages_are_followed_by_their_resume_key_until_the_last():
    key = json.loads((HERE / "cdx-reports-page1.json").read_text())[-1][0]
    query = CDXQuery(IA_BASE, "spacewar.com/reports/*", limit=2)
    answers = {query.page_url(): "cdx-reports-page1.json", query.page_url(key): "cdx-reports-page2.json"}
    asked = []

    def fetch(url):
        asked.append(url)
        return (HERE / answers[url]).read_bytes()

    pages = list(iter_pages(query, fetch))
    assert asked == [query.page_url(), query.page_url(key)]
    assert [p.resume_key for p in pages] == [key, None]
    assert [c.timestamp for p in pages for c in p.captures] == ["20060507132210", "20080122081501", "20040615103000"]


def test_a_resume_key_that_comes_back_is_an_error_not_an_endless_loop():
    body = json.dumps([HEADER, ROW, [], ["k"]])
    with pytest.raises(CDXAnswerError, match="repeats the resume key 'k'"):
        list(iter_pages(CDXQuery(IA_BASE, "spacewar.com/*"), lambda url: body))


@pytest.mark.parametrize("body,found", [
    (b"<html><body>Service Unavailable</body></html>", "not JSON: '<html><body>Service"),
    (b"com,spacewar)/ 20040612031544 http://www.spacewar.com:80/ text/html 200 K 9214\n", "not JSON"),
    (b'\xff\xfe[]', "not UTF-8"),
    (b'{"urlkey": "com,spacewar)/"}', "JSON dict, not a list of rows"),
    (b'"[]"', "JSON str, not a list"),
    # pywb's output=json: one object per line, not IA's list of lists
    (b'{"urlkey": "com,spacewar)/", "timestamp": "20040612031544"}\n{"urlkey": "x"}\n', "JSON lines, pywb's shape, not IA's list of lists: for a pywb collection give its URL"),
    (json.dumps([["urlkey", "timestamp", "original"], ROW[:3]]), "first row is"),
    (json.dumps([ROW]), "first row is"),
    (json.dumps([HEADER, ROW[:6]]), "row 1 is not a list of 7 values"),
    (json.dumps([HEADER, ROW, {"a": 1}]), "row 2 is not a list of 7 values"),
    (json.dumps([HEADER, ROW[:6] + [5310]]), "row 1 has non-string length"),
    (json.dumps([HEADER, [ROW[0], "2005031210120", *ROW[2:]]]), "row 1 has timestamp '2005031210120'"),
    (json.dumps([HEADER, [ROW[0], "20050231101204", *ROW[2:]]]), "row 1 has timestamp '20050231101204'"),
    (json.dumps([HEADER, [*ROW[:2], "/reports/X_999.html", *ROW[3:]]]), "row 1 has original"),
    (json.dumps([HEADER, ROW, []]), "empty row 2 is not followed by one row holding only the resume key"),
    (json.dumps([HEADER, ROW, [], ["k", "l"]]), "empty row 2"),
    (json.dumps([HEADER, ROW, [], ["k"], ROW]), "empty row 2"),
    (json.dumps([HEADER, ROW, [], [""]]), "empty row 2"),
])
def test_any_other_shape_is_one_clear_error_naming_what_was_found(body, found):
    with pytest.raises(CDXAnswerError, match="^CDX answer") as err:
        parse_answer(body, IA_BASE)
    assert found in str(err.value)
    assert isinstance(err.value, ValueError)


# --- a pywb collection's layout -----------------------------------------------------------------------
COLL = "http://127.0.0.1:8080/my-coll"
ARMY = "https://www.spacewar.com/reports/Army_restarts_reactor_talks_999.html"


@pytest.mark.parametrize("base, setting, layout", [
    ("https://web.archive.org", None, "ia"),
    ("https://web.archive.org/", None, "ia"),
    ("http://127.0.0.1:8080/my-coll", None, "pywb"),
    ("http://127.0.0.1:8080/my-coll/", None, "pywb"),
    ("http://archive.example/a/b", "", "pywb"),
    ("http://front.example/under/a/path", "ia", "ia"),  # an IA-layout front under a path: said with the setting
    ("http://pywb.example", "pywb", "pywb"),  # a collection served at the root
])
def test_the_layout_is_the_settings_else_a_path_after_the_host_is_a_pywb_collection(base, setting, layout):
    assert archive_layout(base, setting) == layout


def test_an_unknown_layout_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="one of ia, pywb, not 'wayback'"):
        archive_layout(COLL, "wayback")


def test_a_pywb_listing_asks_pywbs_cdx_api_with_its_exact_status_filter_and_a_cap_and_has_no_next_page():
    query = CDXQuery(COLL + "/", "spacewar.com/reports/*", from_ts=2004, to_ts="2010", limit=PYWB_LIMIT,
                     layout=PYWB)
    url = query.page_url()
    assert url == ("http://127.0.0.1:8080/my-coll/cdx?url=spacewar.com%2Freports%2F%2A&output=json&from=2004"
                   "&to=2010&filter=%3Dstatus%3A200&limit=100000")
    assert parse_qs(urlsplit(url).query)["filter"] == ["=status:200"]  # pywb's "=": exact, not "contains"
    with pytest.raises(ValueError, match="no resume key"):
        query.page_url("com%2Cspacewar%29%2F+20080122081501%21")


def test_pywbs_json_lines_are_captures_under_iAs_field_names_and_its_capture_urls():
    page = parse_answer((HERE / "pywb-cdx-reports.ndjson").read_bytes(), COLL, PYWB)
    assert page.resume_key is None and len(page.captures) == 8
    first, revisit = page.captures[1], page.captures[2]
    assert (first.urlkey, first.timestamp, first.original, first.mimetype, first.statuscode, first.digest,
            first.length) == ("com,spacewar)/reports/army_restarts_reactor_talks_999.html", "20080122081501", ARMY,
                              "text/html", "200", "N7WQZ2TK5XJMVDE3HLCB4RPAGY6FUS2I", "5466")
    assert first.captured_at == datetime(2008, 1, 22, 8, 15, 1, tzinfo=timezone.utc)
    assert first.capture_url == f"{COLL}/20080122081501id_/{ARMY}"
    assert parse_capture_url(first.capture_url, COLL, PYWB) == ("20080122081501", ARMY)
    assert (revisit.mimetype, revisit.statuscode) == ("warc/revisit", "-")  # pywb's index holds no status for it
    assert [c.statuscode for c in page.captures] == ["200", "200", "-", "200", "200", "200", "301", "404"]


def test_an_empty_pywb_answer_is_an_empty_listing():
    assert parse_answer(b"", COLL, PYWB) == CDXPage(())
    assert parse_answer(b"\n", COLL, PYWB) == CDXPage(())


PYWB_LINE = {"urlkey": ROW[0], "timestamp": ROW[1], "url": ROW[2], "mime": "text/html", "status": "200",
             "digest": ROW[5], "length": ROW[6], "offset": "0", "filename": "a.warc.gz"}


@pytest.mark.parametrize("body, found", [
    (json.dumps([HEADER, ROW]), "JSON list of rows, IA's shape, not pywb's JSON lines: for an archive in IA's layout"),
    (json.dumps([]), "IA's shape"),
    (b"<html>Not found</html>\n", "line 1 is not JSON: '<html>Not found</html>'"),
    (json.dumps(PYWB_LINE) + "\n[1, 2]\n", "line 2 is a JSON list, not an object"),
    (json.dumps({k: v for k, v in PYWB_LINE.items() if k != "url"}), "line 1 has no url"),
    (json.dumps({**PYWB_LINE, "length": 5310}), "line 1 has non-string length"),
    (json.dumps({**PYWB_LINE, "timestamp": "2005"}), "line 1 has timestamp '2005'"),
])
def test_a_pywb_answer_in_any_other_shape_is_one_clear_error(body, found):
    with pytest.raises(CDXAnswerError, match="^CDX answer") as err:
        parse_answer(body, COLL, PYWB)
    assert found in str(err.value)


@pytest.mark.parametrize("url", [
    f"{COLL}/20080122081501/{ARMY}",  # a replay URL, rewritten by pywb
    f"{COLL}/20080122081501mp_/{ARMY}",
    f"{COLL}/web/20080122081501id_/{ARMY}",  # IA's layout under the collection
    f"http://127.0.0.1:8080/other-coll/20080122081501id_/{ARMY}",  # another collection
])
def test_only_the_collections_id_captures_are_pywb_capture_urls(url):
    with pytest.raises(ValueError):
        parse_capture_url(url, COLL, PYWB)


def test_iter_pages_of_a_pywb_listing_is_one_answer():
    asked = []
    pages = list(iter_pages(CDXQuery(COLL, "spacewar.com/reports/*", layout=PYWB),
                            lambda url: asked.append(url) or (HERE / "pywb-cdx-reports.ndjson").read_bytes()))
    assert len(pages) == 1 and len(pages[0].captures) == 8 and asked == [f"{COLL}/cdx?url=spacewar.com%2Freports%2F"
                                                                          f"%2A&output=json&filter=%3Dstatus%3A200"
                                                                          f"&limit=1000"]
