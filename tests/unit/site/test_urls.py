"""An article linked with tracking parameters, over http or on the bare host has one canonical URL."""

import pytest

from crawler.site.profiles import PROFILES
from crawler.site.urls import ARTICLE, FEED, LISTING, SKIP, article_url, canonicalize, is_on_site, page_kind

SW = PROFILES["spacewar"]
CANON = "https://www.spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html"


@pytest.mark.parametrize("link", [
    CANON,
    "http://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html",
    "https://spacewar.com/reports/Pentagon_warns_of_drone_swarms_999.html",
    "http://www.spacewar.com:80/reports/Pentagon_warns_of_drone_swarms_999.html",
    "https://WWW.SpaceWar.com/reports/Pentagon_warns_of_drone_swarms_999.html#comments",
    CANON + "?utm_source=rss&utm_medium=feed",
    CANON + "?ref=mostread",
    CANON + "?utm_campaign=x&fbclid=abc",
])
def test_variants_of_one_article_share_the_canonical_url(link):
    assert canonicalize(link, SW) == CANON
    assert article_url(link, SW) == CANON


def test_meaningful_query_survives_scheduling_but_not_the_item_url():
    url = "https://www.spacewar.com/news/list.html?page=2&utm_source=x"
    assert canonicalize(url, SW) == "https://www.spacewar.com/news/list.html?page=2"
    assert article_url(url, SW) == "https://www.spacewar.com/news/list.html"


def test_index_html_is_the_home_page():
    assert canonicalize("http://spacewar.com/index.html", SW) == "https://www.spacewar.com/"


def test_off_site_and_other_subdomains_are_not_on_site():
    assert is_on_site("https://spacewar.com/x.html", SW)
    assert not is_on_site("https://www.spacedaily.com/reports/x_999.html", SW)
    assert not is_on_site("https://ads.spacewar.com/x.html", SW)
    assert not is_on_site("ftp://www.spacewar.com/x.html", SW)
    assert not is_on_site("https://www.spacewar.com.evil.example/x.html", SW)


@pytest.mark.parametrize("url,kind", [
    ("https://www.spacewar.com/reports/Moscow_court_upholds_ban_against_satellite_image_distributor_999.html", ARTICLE),
    ("https://www.spacewar.com/reports/Older_story_without_number.html", ARTICLE),
    ("https://www.spacewar.com/afp/260303115101.76yp06cs.html", ARTICLE),
    ("https://www.spacewar.com/spacewar.xml", FEED),
    ("https://www.spacewar.com/news/miltech-n.xml", FEED),
    ("https://www.spacewar.com/Missile_Defense.html", LISTING),
    ("https://www.spacewar.com/news/missile-defense-24a.html", LISTING),
    ("https://www.spacewar.com/", LISTING),
    ("https://www.spacewar.com/cgi-bin/search.cgi?q=", SKIP),
    ("https://www.spacewar.com/images/logo.gif", SKIP),
])
def test_page_kind_by_url(url, kind):
    assert page_kind(url, SW.compiled()) == kind


def test_sister_sites_are_profiles_of_one_spider_class():
    from scrapy.spiderloader import SpiderLoader
    from scrapy.utils.project import get_project_settings

    from spiders.network import NetworkSpider

    loader = SpiderLoader.from_settings(get_project_settings())
    names = set(loader.list())
    assert {"spacewar", "spacedaily", "terradaily", "energydaily", "marsdaily"} <= names
    for name in names:
        cls = loader.load(name)
        assert issubclass(cls, NetworkSpider) and cls.parse_page is NetworkSpider.parse_page
        assert cls.profile.name == name if name != "network" else cls.profile is None  # network: every profile


def test_site_links_keeps_each_on_site_page_once_in_page_order():
    from crawler.site.urls import site_links

    hrefs = ["/reports/A_999.html?utm_source=x", "#top", "mailto:x@example.org", "javascript:void(0)",
             "http://spacewar.com/reports/A_999.html", "https://www.spacedaily.com/reports/B_999.html",
             "/cgi-bin/search.cgi?q=", "../Missile_Defense.html#list", "  /spacewar.xml  "]
    assert site_links("https://www.spacewar.com/news/x.html", hrefs, SW.compiled()) == ([
        "https://www.spacewar.com/reports/A_999.html",
        "https://www.spacewar.com/Missile_Defense.html",
        "https://www.spacewar.com/spacewar.xml",
    ], 0)


def test_site_links_stop_at_the_bound_and_say_how_many_hrefs_were_left():
    from crawler.site.urls import site_links

    hrefs = [f"/reports/Story_{i}_999.html" for i in range(100)]
    links, left = site_links("https://www.spacewar.com/", hrefs, SW.compiled(), limit=10)
    assert len(links) == 10 and left == 90


def test_site_links_judge_a_link_by_the_page_it_is_on_even_when_another_page_had_it_before():
    """Hrefs from the root and absolute ones are judged once per origin (most of a page's links are its
    navigation): the same href on another host, over http, or relative to another path gives its own answer."""
    from crawler.site.profiles import SiteSet, choose
    from crawler.site.urls import site_links

    network = SiteSet(choose(""))
    hrefs = ["/reports/A_999.html", "reports/B_999.html", "http://www.spacewar.com/reports/C_999.html",
             "//www.spacedaily.com/reports/D_999.html", "/a/../reports/E_999.html;x"]
    for _ in range(2):  # the second time from what was remembered
        assert site_links("https://www.spacewar.com/news/x.html", hrefs, network)[0] == [
            "https://www.spacewar.com/reports/A_999.html", "https://www.spacewar.com/news/reports/B_999.html",
            "https://www.spacewar.com/reports/C_999.html", "https://www.spacedaily.com/reports/D_999.html",
            "https://www.spacewar.com/reports/E_999.html;x"]
        assert site_links("https://www.spacedaily.com/reports/y.html", hrefs, network)[0] == [
            "https://www.spacedaily.com/reports/A_999.html", "https://www.spacedaily.com/reports/reports/B_999.html",
            "https://www.spacewar.com/reports/C_999.html", "https://www.spacedaily.com/reports/D_999.html",
            "https://www.spacedaily.com/reports/E_999.html;x"]
    # a site that is not in the crawl's set: its links are off-site for this set only
    assert site_links("https://www.spacedaily.com/", ["/reports/A_999.html"], SW.compiled())[0] == []
    assert site_links("https://www.spacewar.com/", ["/reports/A_999.html"], SW.compiled())[0] == [
        "https://www.spacewar.com/reports/A_999.html"]
