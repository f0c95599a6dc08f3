"""From a site's CDX rows, per article its status-200 HTML captures newest first, across the article's URL variants."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from crawler.site.profiles import PROFILES, SiteSet
from crawler.wayback.cdx import FIELDS, IA_BASE, parse_answer
from crawler.wayback.select import (
    NOT_200, NOT_ARTICLE, NOT_HTML, OFF_SITE, SAME_DIGEST, select_articles,
)
from tests.crawling import FIXTURES, REPO

SW = PROFILES["spacewar"].compiled()
PENTAGON = "https://www.spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"
WITHDRAWN = "https://www.spacewar.com/reports/Story_withdrawn_by_publisher_999.html"
AFP = "https://www.spacewar.com/afp/050311083015.k3m9x2pq.html"


def captures(*rows):
    """Captures of hand-written rows (urlkey, timestamp, original, mimetype, statuscode, digest, length)."""
    return parse_answer(json.dumps([list(FIELDS), *map(list, rows)]), IA_BASE).captures


def row(timestamp, original, status="200", digest=None, mimetype="text/html"):
    return ("com,spacewar)/x", timestamp, original, mimetype, status, digest or f"D{timestamp}", "1000")


def test_the_recorded_style_answer_gives_one_entry_per_article_newest_first():
    answer = parse_answer((FIXTURES / "wayback" / "cdx-spacewar-2004-2010.json").read_bytes(), IA_BASE)
    selection = select_articles(answer.captures, SW)
    assert list(selection.articles) == [AFP, PENTAGON, WITHDRAWN]
    # the 2006 capture (tracking parameters) is the newest 200; the 2005 one has the same digest, the
    # 2007 revisit and the 2008 503 are not pages; the 2004 one (":80") is the fallback
    assert [(c.timestamp, c.original) for c in selection.articles[PENTAGON]] == [
        ("20060301120000", PENTAGON.replace("https:", "http:") + "?utm_source=rss&utm_medium=feed"),
        ("20040615103000", "http://www.spacewar.com:80/reports/Pentagon_warns_of_drone_swarms_999.html"),
    ]
    # taken down in 2009 (a 404), still in the archive from 2004
    assert [c.timestamp for c in selection.articles[WITHDRAWN]] == ["20041010142002"]
    assert selection.latest()[AFP].capture_url == \
        "https://web.archive.org/web/20050312101204id_/http://www.spacewar.com/afp/050311083015.k3m9x2pq.html"
    # home page x2, listing, feed, image; 301, revisit, 503, 404; the "unk" capture; the same bytes again
    assert selection.dropped == {NOT_ARTICLE: 5, NOT_200: 4, NOT_HTML: 1, SAME_DIGEST: 1}
    assert sum(selection.dropped.values()) + sum(map(len, selection.articles.values())) == len(answer.captures)


def test_url_variants_of_one_article_are_one_article():
    selection = select_articles(captures(
        row("20040101000000", "http://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"),
        row("20050101000000", "http://www.spacewar.com:80/reports/Pentagon_warns_of_drone_swarms_999.html#top"),
        row("20060101000000", "https://WWW.SpaceWar.com/reports/Pentagon_warns_of_drone_swarms_999.html?ref=rss"),
        row("20070101000000", PENTAGON + "?page=2"),
    ), SW)
    assert list(selection.articles) == [PENTAGON]
    assert [c.timestamp for c in selection.articles[PENTAGON]] == ["20070101000000", "20060101000000",
                                                                   "20050101000000", "20040101000000"]


def test_newest_first_whatever_the_order_of_the_rows():
    rows = [row(ts, PENTAGON) for ts in ("20080101000000", "20040101000000", "20100101000000", "20060101000000")]
    selection = select_articles(captures(*rows), SW)
    assert [c.timestamp for c in selection.articles[PENTAGON]] == sorted((r[1] for r in rows), reverse=True)


def test_same_second_prefers_the_article_url_itself_then_https():
    ts = "20080101000000"
    selection = select_articles(captures(
        row(ts, "http://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html", digest="A"),
        row(ts, "https://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html", digest="B"),
        row(ts, PENTAGON, digest="C"),
    ), SW)
    assert [c.digest for c in selection.articles[PENTAGON]] == ["C", "B", "A"]


def test_the_same_bytes_are_kept_once_at_their_newest_capture():
    selection = select_articles(captures(
        row("20040101000000", PENTAGON, digest="SAME"),
        row("20050101000000", PENTAGON, digest="OTHER"),
        row("20060101000000", "http://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html", digest="SAME"),
    ), SW)
    assert [(c.timestamp, c.digest) for c in selection.articles[PENTAGON]] == [("20060101000000", "SAME"),
                                                                               ("20050101000000", "OTHER")]
    assert selection.dropped == {SAME_DIGEST: 1}


def test_only_status_200_html_pages_count():
    selection = select_articles(captures(
        row("20040101000000", PENTAGON, status="301"),
        row("20040101000001", PENTAGON, status="404"),
        row("20040101000002", PENTAGON, status="503"),
        row("20040101000003", PENTAGON, status="-", mimetype="warc/revisit"),
        row("20040101000004", PENTAGON, mimetype="application/pdf"),
        row("20040101000005", PENTAGON, mimetype="Text/HTML; charset=iso-8859-1"),
    ), SW)
    assert [c.timestamp for c in selection.articles[PENTAGON]] == ["20040101000005"]
    assert selection.dropped == {NOT_200: 4, NOT_HTML: 1}


def test_an_article_with_no_good_capture_is_not_listed():
    selection = select_articles(captures(row("20040101000000", PENTAGON, status="404")), SW)
    assert selection.articles == {}


def test_listings_feeds_assets_and_other_hosts_are_left_out():
    selection = select_articles(captures(
        row("20040101000000", "http://www.spacewar.com/"),
        row("20040101000001", "http://www.spacewar.com/Missile_Defense.html"),
        row("20040101000002", "http://www.spacewar.com/news/missile-defense-05a.html"),
        row("20040101000003", "http://www.spacewar.com/spacewar.xml"),
        row("20040101000004", "http://www.spacewar.com/cgi-bin/search.cgi?q=x"),
        row("20040101000005", "http://ads.spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"),
        row("20040101000006", "http://www.spacedaily.com/reports/Pentagon_warns_of_drone_swarms_999.html"),
    ), SW)
    assert selection.articles == {}
    assert selection.dropped == {NOT_ARTICLE: 5, OFF_SITE: 2}


def test_several_sites_are_each_judged_by_their_own_profile():
    sites = SiteSet([PROFILES["spacewar"], PROFILES["spacedaily"]])
    selection = select_articles(captures(
        row("20040101000000", PENTAGON),
        row("20040101000001", "http://spacedaily.com/reports/Mars_probe_999.html"),
        row("20040101000002", "http://www.marsdaily.com/reports/Mars_probe_999.html"),
    ), sites)
    assert list(selection.articles) == ["https://www.spacedaily.com/reports/Mars_probe_999.html", PENTAGON]
    assert selection.dropped == {OFF_SITE: 1}


def _crawler_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_wayback_package_and_the_site_rules_it_uses_import_no_scrapy():
    """crawler/wayback/ and every project module it imports, followed through, import no Scrapy or Twisted."""
    todo = sorted((REPO / "crawler" / "wayback").glob("*.py"))
    assert len(todo) >= 3
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        names = _crawler_imports(path)
        assert not {n.split(".")[0] for n in names} & {"scrapy", "twisted", "itemadapter"}, path
        for name in names:
            if name.split(".")[0] == "crawler":
                module = REPO.joinpath(*name.split("."))
                todo += [p for p in (module.with_suffix(".py"), module / "__init__.py") if p.exists()]
    assert REPO / "crawler" / "site" / "urls.py" in seen and REPO / "crawler" / "site" / "profiles.py" in seen


def test_each_sites_listings_are_its_article_prefixes():
    from crawler.site.profiles import PROFILES, SiteProfile
    from crawler.wayback.select import article_prefixes

    assert article_prefixes(PROFILES["spacewar"]) == ["spacewar.com/reports/*", "spacewar.com/afp/*"]
    assert article_prefixes(PROFILES["spacedaily"]) == ["spacedaily.com/reports/*", "spacedaily.com/afp/*"]
    anywhere = SiteProfile("x", "x.example", "/x.xml", article_patterns=(r"^/reports/[^/]+\.html$", r"^/\d+\.html$"))
    assert article_prefixes(anywhere) == ["x.example/*"]  # a pattern with no directory of its own: the whole site
