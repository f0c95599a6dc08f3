"""Extraction: site rules on the network's template, a generic fallback on a redesign, and non-articles refused;
the extraction pipeline stage drops non-articles and warns when too many pages need the fallback."""

from __future__ import annotations

import logging
import random
from dataclasses import replace

import pytest
from scrapy.exceptions import DropItem

from crawler.extract.article import NotAnArticle
from crawler.extract.cleaning import clean
from crawler.extract.page import inner_html, text_of
from crawler.extract.regions import extract
from crawler.extract.rules import RULES
from crawler.items import ArticleItem
from pipelines.extract import ExtractPipeline
from tests.crawling import FIXTURES, project_crawler


AFP_URL = "https://www.spacewar.com/reports/Tokyo_reports_cyber_attack_as_tensions_rise_999.html"


def page(name: str) -> str:
    folder = "samples" if (FIXTURES / "samples" / name).exists() else "pages"
    return (FIXTURES / folder / name).read_bytes().decode("cp1252")


def body_html(raw: dict) -> str:
    """The body region the extraction found, as HTML."""
    return inner_html(raw["body"])


# --- site rules ------------------------------------------------------------------------------------
def test_site_rules_find_headline_dateline_body_region_and_rights():
    raw = extract(page("article-afp.html"), AFP_URL)
    assert raw["extraction"] == "site-rules"
    assert raw["title"] == "Tokyo reports cyber attack as tensions rise"
    assert raw["dateline"] == "by Laurent Thomet\nKyiv (AFP) Jan 26, 2023"
    assert raw["og"]["og:url"] == AFP_URL
    assert raw["og"]["og:image"] == "https://www.spxdaily.com/images-hg/generic-2-hg.jpg"
    assert "Agence France-Presse" in text_of(raw["rights"])
    body = body_html(raw)
    # the body region starts after the dateline and stops at <!--RELATED LINKS-->, clutter still inside
    assert body.lstrip().startswith("<p>") and "Lawmakers in Washington told reporters" in body
    assert "after months of negotiations with the manufacturer" in body
    assert "adsbygoogle" in body
    for outside in ("Kyiv (AFP)", "Related Links", "Space News from SpaceDaily.com", "Copyright Agence",
                    "Missile Defense</a>", "Space Media Network"):
        assert outside not in body, outside


def test_without_the_related_links_comment_the_body_ends_at_the_related_links_heading():
    raw = extract(page("upi-no-related-comment.html"),
                  "https://www.spacewar.com/reports/Navy_orders_two_more_drone_tenders_999.html")
    assert raw["extraction"] == "site-rules"
    assert "a spokeswoman said" in body_html(raw)
    assert "Navy news at SpaceWar.com" not in body_html(raw)
    assert "24/7 News Coverage" not in body_html(raw)


def test_without_any_end_marker_the_body_ends_at_the_first_cross_network_block():
    html = page("article-afp.html").replace("<!--RELATED LINKS-->", "").replace("<b>Related Links</b>", "")
    raw = extract(html, AFP_URL)
    assert "the treaty talks would resume after the summer recess" in body_html(raw)
    assert "Space News from SpaceDaily.com" not in body_html(raw)
    assert "Trump-Musk" not in body_html(raw)


def test_a_variant_template_is_configuration_not_code():
    variant = (page("article-afp.html").replace("<!--body-2-incontainer.php-->", "<!--story-v3-->")
               .replace('class="BHS"', 'class="dline"').replace("<!--RELATED LINKS-->", "<!--MORE-->")
               .replace('class="COPY"', 'class="legal"').replace('class="AD"', 'class="promo"'))
    assert extract(variant, AFP_URL)["extraction"] == "fallback"  # the default rules no longer match
    rules = replace(RULES, start_comment="story-v3", dateline_class="dline", end_comments=("MORE",),
                    rights_class="legal", clutter_classes=RULES.clutter_classes + ("promo", "legal"))
    raw = extract(variant, AFP_URL, rules=rules)
    assert raw["extraction"] == "site-rules"
    item = clean(raw, AFP_URL, rules=rules)
    expected = extract(page("article-afp.html"), AFP_URL)
    assert item.body == clean(expected, AFP_URL).body
    assert item.location == "Kyiv" and item.rights.startswith("All rights reserved.")


# --- generic fallback ------------------------------------------------------------------------------
def test_a_redesigned_page_is_extracted_by_the_fallback_from_article_json_ld_and_time():
    url = "https://www.spacewar.com/reports/Germany_orders_long_range_air_defence_system_999.html"
    raw = extract((FIXTURES / "pages" / "html5-redesign.html").read_text("utf-8"), url)
    assert raw["extraction"] == "fallback"
    assert raw["title"] == "Germany orders long-range air defence system"
    assert raw["meta"] == {"published": "2025-09-18", "author": "Jens Halvorsen"}
    assert "European Sky Shield Initiative" in body_html(raw)
    for clutter in ("Share on X", "Poland buys more interceptors", "Privacy", "Missile Defense"):
        assert clutter not in body_html(raw), clutter


def test_the_fallback_reads_the_date_from_time_when_there_is_no_json_ld():
    paras = "".join(f"<p>Paragraph {k} of a story about interceptors, radars and the satellites that feed them "
                    f"with tracking data during a long exercise.</p>" for k in range(6))
    html = (f"<html><head><title>Radar story</title></head><body><main><article><h1>Radar story</h1>"
            f"<time datetime='2024-02-05T10:00:00Z'>Feb 5</time>{paras}</article></main></body></html>")
    raw = extract(html, "https://www.spacewar.com/reports/Radar_story_999.html")
    assert raw["extraction"] == "fallback"
    assert raw["title"] == "Radar story" and raw["meta"]["published"] == "2024-02-05"
    assert clean(raw, "https://www.spacewar.com/reports/Radar_story_999.html").body.count("\n\n") == 5


# --- not articles ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, reason", [
    ("listing-section.html", "listing-page"),
    ("section-Missile_Defense.html", "listing-page"),
    ("home.html", "listing-page"),
    ("empty-page.html", "empty-page"),
    ("article-without-body.html", "no-body"),
])
def test_pages_that_are_not_articles_are_refused_with_a_reason(name, reason):
    with pytest.raises(NotAnArticle) as err:
        extract(page(name), "https://www.spacewar.com/x.html")
    assert err.value.reason == reason


@pytest.mark.parametrize("html, reason", [
    ("", "empty-page"),
    ("   \r\n\t ", "empty-page"),
    ("\x00\x01\x02\x03\x89PNG\r\n\x1a\n" + "\x00\x7f\x10" * 500, "binary"),
    ("<html><head><title>Only a title</title></head><body></body></html>", "no-body"),
    ("<html><body><p>No headline anywhere, and no marker either.</p></body></html>", "no-headline"),
])
def test_empty_binary_and_bodiless_pages_are_refused(html, reason):
    with pytest.raises(NotAnArticle) as err:
        extract(html, "https://www.spacewar.com/x.html")
    assert err.value.reason == reason


def test_malformed_html_never_raises_anything_but_not_an_article():
    rng = random.Random(7)
    source = page("article-spx.html")
    cases = [source[:k] for k in range(0, len(source), max(1, len(source) // 60))]
    cases += [source[k:] for k in range(0, len(source), max(1, len(source) // 30))]
    cases += ["".join(rng.choice("<>/=\"' abcp\r\n&#;") for _ in range(400)) for _ in range(30)]
    cases += [bytes(rng.randrange(256) for _ in range(600)).decode("latin-1") for _ in range(20)]
    cases += ["<div>" * 5000 + "x", "<p>" * 3000, "<!--" + source, source.replace(">", "", 40),
              "<?xml version='1.0' encoding='utf-8'?>" + source, "<span class='BHS'>Paris (AFP) Jun 03, 2024</span>",
              '<h1>x</h1><span class="BHS"></span><!--RELATED LINKS-->', "<table><td><span class=BHS>",
              b"<h1>bytes</h1>"]
    outcomes = {"article": 0, "refused": 0}
    for html in cases:
        try:
            raw = extract(html, "https://www.spacewar.com/reports/x_999.html")
        except NotAnArticle as exc:
            assert exc.reason
            outcomes["refused"] += 1
        else:
            clean(raw, "https://www.spacewar.com/reports/x_999.html")
            outcomes["article"] += 1
    assert outcomes["article"] > 0 and outcomes["refused"] > 0


def test_a_page_with_an_xml_declaration_is_read():
    html = "<?xml version='1.0' encoding='utf-8'?>\n" + page("article-afp.html")
    assert extract(html, AFP_URL)["title"] == "Tokyo reports cyber attack as tensions rise"


# --- the pipeline stage ------------------------------------------------------------------------------
def make_pipeline(**settings):
    settings.setdefault("CLEANING_LOOKAHEAD", 0)  # judged on arrival: process_item returns the item itself
    crawler = project_crawler(**settings)
    crawler.stats.open_spider()
    return ExtractPipeline.from_crawler(crawler), crawler.stats


def item_of(name: str, url: str = AFP_URL) -> ArticleItem:
    return ArticleItem(url=url, html=page(name), site="spacewar", status=200)


def test_the_stage_sets_the_article_fields_drops_the_html_and_counts_the_method():
    pipe, stats = make_pipeline()
    item = pipe.process_item(item_of("article-afp.html"))
    assert item["extraction"] == "site-rules" and item["title"] == "Tokyo reports cyber attack as tensions rise"
    assert item["body"] and item["agency"] == "AFP" and item["site"] == "spacewar"
    assert "html" not in item
    assert stats.get_value("articles/extraction/site-rules") == 1
    assert stats.get_value("articles/extraction/fallback") is None


def test_the_stage_drops_a_listing_with_a_counted_reason():
    pipe, stats = make_pipeline()
    with pytest.raises(DropItem, match="listing-page"):
        pipe.process_item(item_of("section-Missile_Defense.html"))
    assert stats.get_value("articles/dropped/listing-page") == 1


def test_a_bug_in_the_extraction_is_an_error_with_a_stat_not_a_non_article(caplog, monkeypatch):
    import pipelines.extract as stage

    def broken(html, url, rules=None):
        raise KeyError("a field the code forgot")

    monkeypatch.setattr(stage, "read_page", broken)  # what the stage calls in-process
    pipe, stats = make_pipeline()
    with caplog.at_level(logging.ERROR, logger="pipelines.extract"), pytest.raises(DropItem, match="extraction error"):
        pipe.process_item(item_of("article-afp.html"))
    assert stats.get_value("articles/errors/KeyError") == 1
    assert not any(key.startswith("articles/dropped/") for key in stats.get_stats())
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info and "a bug" in record.getMessage()


def test_a_layout_change_is_warned_about_once_and_again_at_close_with_the_final_share(caplog):
    pipe, stats = make_pipeline(FALLBACK_WARN_RATIO=0.25, FALLBACK_WARN_MIN_PAGES=4)
    redesign = (FIXTURES / "pages" / "html5-redesign.html").read_text("utf-8")
    with caplog.at_level(logging.WARNING, logger="pipelines.extract"):
        for _ in range(2):
            pipe.process_item(item_of("article-afp.html"))
        pipe.process_item(ArticleItem(url=AFP_URL, html=redesign))
        assert not caplog.records  # 1 of 3: fewer pages than FALLBACK_WARN_MIN_PAGES
        pipe.process_item(ArticleItem(url=AFP_URL, html=redesign))  # 2 of 4 = 50% > 25%
        assert len(caplog.records) == 1 and "2 of 4" in caplog.text
        pipe.process_item(ArticleItem(url=AFP_URL, html=redesign))
        assert len(caplog.records) == 1  # once
        pipe.spider_closed()
    assert len(caplog.records) == 2 and "3 of 5" in caplog.records[-1].getMessage()
    assert stats.get_value("articles/extraction/fallback") == 3
    assert stats.get_value("articles/extraction/fallback_ratio") == pytest.approx(0.6)


def test_no_warning_while_the_fallback_share_stays_low(caplog):
    pipe, stats = make_pipeline()
    redesign = (FIXTURES / "pages" / "html5-redesign.html").read_text("utf-8")
    with caplog.at_level(logging.WARNING, logger="pipelines.extract"):
        for _ in range(9):
            pipe.process_item(item_of("article-afp.html"))
        pipe.process_item(ArticleItem(url=AFP_URL, html=redesign))
        pipe.spider_closed()
    assert not caplog.records
    assert stats.get_value("articles/extraction/fallback_ratio") == pytest.approx(0.1)


def test_a_renamed_dateline_class_still_gives_date_place_and_source_through_the_fallback():
    import json

    from bench.quality import token_f1

    variant = (page("article-afp.html").replace("<!--body-2-incontainer.php-->", "")
               .replace('class="BHS"', 'class="dateline-2026"'))
    raw = extract(variant, AFP_URL)
    item = clean(raw, AFP_URL).fields()
    assert raw["extraction"] == "fallback"
    assert (item["published"], item["author"], item["location"], item["agency"]) == \
        ("2023-01-26", "Laurent Thomet", "Kyiv", "AFP")
    expected = json.loads((FIXTURES / "samples" / "article-afp.expected.json").read_text("utf-8"))
    assert token_f1(item["body"], expected["body"]) >= 0.95
    for clutter in ("Kyiv (AFP)", "Related Links", "24/7 News Coverage", "Trump-Musk", "SPACEWAR RSS"):
        assert clutter not in item["body"], clutter


def test_a_headline_in_the_dateline_span_and_the_dateline_below_are_still_read():
    html = ("<html><head><title>Radar story</title></head><body>\r\n<!--body-2-incontainer.php-->\r\n"
            '<span class="BHS">Radar story</span>\r\n<span class="BDC">by Staff Writers</span>\r\n'
            '<span class="BDT">Washington (AFP) May 30, 2024</span>\r\n'
            "<p>First paragraph of the story.</p>\r\n<p>Second paragraph.</p>\r\n"
            '<a href="/">home</a> <a href="/reports/next_999.html">next</a>\r\n</body></html>')
    raw = extract(html, "https://www.spacewar.com/reports/Radar_story_999.html")
    item = clean(raw, "https://www.spacewar.com/reports/Radar_story_999.html").fields()
    assert raw["extraction"] == "site-rules"
    assert (item["title"], item["published"], item["author"], item["location"], item["agency"]) == \
        ("Radar story", "2024-05-30", None, "Washington", "AFP")
    assert item["body"] == "First paragraph of the story.\n\nSecond paragraph."
