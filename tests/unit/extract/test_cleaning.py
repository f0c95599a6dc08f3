"""Cleaning: what a reader of the dataset sees — paragraphs without clutter, decoded text, images with
captions kept apart, the copyright notice in its own field."""

from __future__ import annotations

import lxml.etree as etree
import pytest

from crawler.extract.cleaning import clean
from crawler.extract.page import fragment

URL = "https://www.spacewar.com/reports/Test_story_999.html"


def parsed(html: str | None):
    """An HTML fragment as the cleaning gets it from the extraction: a parsed, parentless fragment."""
    if html is None:
        return None
    return fragment(etree.HTML(f"<div>{html}</div>").find("body/div"))


def cleaned(body_html: str, rights_html: str | None = None, **raw) -> dict:
    base = {"title": "Test story", "dateline": "Paris (AFP) Jun 03, 2024", "body": parsed(body_html),
            "rights": parsed(rights_html), "og": {}, "extraction": "site-rules"}
    base.update(raw)
    return clean(base, URL).fields()


def paras(body_html: str) -> list[str]:
    return cleaned(body_html)["body"].split("\n\n")


# --- paragraphs -------------------------------------------------------------------------------------
def test_unclosed_p_closed_p_and_br_br_all_make_paragraphs():
    assert paras("<p>\r\nOne.\r\n<p>\r\nTwo.\r\n<p>Three.</p><p>Four.</p>Five.<br><br>Six.<br><br>\r\nSeven.") == \
        ["One.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven."]


def test_a_hard_wrapped_paragraph_and_a_single_br_stay_one_paragraph():
    assert paras("First line of a paragraph\r\nwrapped here<br>and after a single break.<br><br>Next.") == \
        ["First line of a paragraph wrapped here and after a single break.", "Next."]


def test_entities_are_decoded_and_whitespace_normalised_inside_paragraphs():
    body = cleaned("<p>\r\n&#8220;We  are&nbsp;ready,&#8221;\tsaid   the&#160;minister &amp; his aide.\r\n\r\n<p>\u00a0</p>")
    assert body["body"] == "\u201cWe are ready,\u201d said the minister & his aide."


def test_no_empty_paragraphs_and_no_triple_newlines():
    body = cleaned("<p></p><p> \r\n </p><br><br><br><br>Text.<p>\r\n<center></center><p>More.<br><br><br>")["body"]
    assert body == "Text.\n\nMore."


def test_inline_markup_does_not_split_a_paragraph():
    assert paras('<p>The <b>new</b> radar, <a href="/x.html">built in <i>Ohio</i></a>, works.') == \
        ["The new radar, built in Ohio, works."]


# --- clutter ------------------------------------------------------------------------------------------
AD_IFRAME = ('<center><iframe src="https://ads.spacemedianetwork.example/300x250.html" width="300" height="250">'
             "</iframe></center>")
AD_LABEL = ('<center><span class="AD">ADVERTISEMENT</span><br><ins class="adsbygoogle" data-ad-slot="2"></ins>'
            "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script></center>")
SPONSOR = ('<center><a href="https://www.spacewar.com/advertising.html"><img src="https://www.spacewar.com/sponsors/'
           'banner-1.jpg" alt="Sponsored"></a></center>')


@pytest.mark.parametrize("clutter, leftover", [
    (AD_IFRAME, "ads.spacemedianetwork"),
    (AD_LABEL, "ADVERTISEMENT"),
    ("<script>var x = 'Breaking: story text from a script';</script>", "Breaking"),
    ("<style>p { color: red }</style>", "color"),
    ('<ins class="adsbygoogle" data-ad-slot="3">Ad text</ins>', "Ad text"),
    (SPONSOR, "Sponsored"),
    ("<p>ADVERTISEMENT", "ADVERTISEMENT"),
    ("<p><i>Comment on this article using your Disqus, Facebook, Google or Twitter login.</i>", "Disqus"),
    ('<p><span class="RC"><a href="#c">Join the conversation below</a></span>', "conversation"),
    ('<p><span class="DON">Thanks for being here; We need your help. Support SpaceWar.com with a one-off or monthly '
     'donation: <a href="https://www.paypal.com/donate">Donate with PayPal</a> or credit card.</span>', "PayPal"),
    ("<p>SpaceWar.com relies on readers like you. Please make a small donation via PayPal to keep us going.", "PayPal"),
    ('<table border="1"><tr><td><b>Subscribe Free To Our Daily Newsletters</b><br><form><input name="email">'
     '<input type="submit" value="Subscribe"></form></td></tr></table>', "Newsletter"),
    ('<p><b>Related Links</b><br>', "Related Links"),
    ('<p><span class="BL"><a href="https://www.spacedaily.com/">Space News from SpaceDaily.com</a></span><br>'
     '<a href="https://www.spacedaily.com/reports/x_999.html">Moon lander lost</a><br>', "Moon lander"),
    ("<p>24/7 Energy News Coverage", "Energy News"),
    ('<p align="center"><span class="FOOT">The content herein, unless otherwise known to be public domain, are '
     "Copyright 1995-2025 - Space Media Network.</span>", "content herein"),
    ('<a href="/" class="NAV">Home</a><br><a href="/Missile_Defense.html" class="NAV">Missile Defense</a><br>',
     "Missile Defense"),
])
def test_clutter_never_reaches_the_body(clutter, leftover):
    body = cleaned(f"<p>\r\nBefore the clutter.\r\n{clutter}\r\n<p>\r\nAfter the clutter.")["body"]
    assert body == "Before the clutter.\n\nAfter the clutter."
    assert leftover.lower() not in body.lower()


def test_a_story_paragraph_about_donations_is_kept():
    text = "The United States announced a donation of two radars to Ukraine, the Pentagon said on Friday."
    assert paras(f"<p>{text}") == [text]


def test_spacer_sponsor_and_logo_images_are_not_images():
    item = cleaned('<p>Text.<img src="https://www.spacewar.com/images/black.jpg" width="100%" height="6"><br>'
                   '<img src="/images/white.jpg"><br>' + SPONSOR
                   + '<img src="/images/spacewar-logo.gif" alt="SpaceWar.com"><p>More.')
    assert item["images"] == [] and item["body"] == "Text.\n\nMore."


# --- images -----------------------------------------------------------------------------------------------
def test_body_images_get_absolute_urls_and_their_captions_never_appear_in_the_body():
    item = cleaned(
        '<table width="400" align="right"><tr><td><img src="/images-lg/radar-lg.jpg" width="400"><br>'
        '<span class="BDC">The radar at dawn &#8212; file photo.</span></td></tr></table>'
        "<p>\r\nFirst paragraph.\r\n"
        '<table width="100%"><tr><td align="center"><img src="https://www.spxdaily.com/images-hg/b-lg.jpg"><br>'
        '<span class="BDC">Second picture.</span></td></tr></table>'
        "<p>\r\nSecond paragraph.")
    assert item["images"] == [
        {"url": "https://www.spacewar.com/images-lg/radar-lg.jpg", "caption": "The radar at dawn \u2014 file photo."},
        {"url": "https://www.spxdaily.com/images-hg/b-lg.jpg", "caption": "Second picture."},
    ]
    assert item["body"] == "First paragraph.\n\nSecond paragraph."


def test_an_image_without_a_caption_has_a_null_caption():
    item = cleaned('<p>Text <img src="pics/x-lg.jpg"> more text.')
    assert item["images"] == [{"url": "https://www.spacewar.com/reports/pics/x-lg.jpg", "caption": None}]
    assert item["body"] == "Text more text."


# --- the other fields ---------------------------------------------------------------------------------------
def test_the_copyright_notice_goes_to_rights_whitespace_normalised():
    item = cleaned("<p>Text.", rights_html='<span class="COPY">Copyright 2024 United Press International, Inc.'
                                           "\r\n   All Rights Reserved.</span>")
    assert item["rights"] == "Copyright 2024 United Press International, Inc. All Rights Reserved."
    assert item["body"] == "Text."


def test_a_copyright_notice_left_in_the_body_is_moved_to_rights():
    notice = ("All rights reserved. Copyright Agence France-Presse. Sections of the information displayed on this "
              "page are protected by intellectual property rights owned by Agence France-Presse.")
    item = cleaned(f"<p>Text.<p>{notice}")
    assert item["body"] == "Text." and item["rights"] == notice


def test_no_rights_notice_means_null():
    assert cleaned("<p>Text.")["rights"] is None


def test_dateline_parts_become_fields_and_staff_bylines_are_null():
    item = cleaned("<p>Text.", dateline="by Staff Writers\nWashington DC (SPX) Jun 03, 2024")
    assert (item["published"], item["author"], item["location"], item["agency"]) == \
        ("2024-06-03", None, "Washington DC", "SPX")


def test_title_falls_back_to_og_title_then_to_the_html_title():
    assert cleaned("<p>x", title="  Headline\r\n with  spaces ")["title"] == "Headline with spaces"
    assert cleaned("<p>x", title="", og={"og:title": "From og", "html:title": "From title"})["title"] == "From og"
    assert cleaned("<p>x", title="", og={"html:title": "From title"})["title"] == "From title"


def test_fallback_metadata_fills_what_the_dateline_lacks():
    item = cleaned("<p>x", dateline="", extraction="fallback",
                   meta={"published": "2025-09-18", "author": "Staff Writers"})
    assert item["published"] == "2025-09-18" and item["author"] is None


def test_a_navigation_line_made_only_of_links_is_left_out():
    assert paras('<p>Story text with <a href="/x.html">a link</a> inside.<p><a href="/">home</a> | '
                 '<a href="/next.html">next</a>') == ["Story text with a link inside."]


def test_a_byline_line_above_the_story_becomes_the_author_not_a_paragraph():
    item = cleaned("<p>by Olena Kovalenko<p>Story text.", dateline="Kyiv (AFP) Jan 26, 2023")
    assert item["author"] == "Olena Kovalenko" and item["body"] == "Story text."
    assert cleaned("<p>Staff Writers<p>Story text.")["body"] == "Story text."


def test_a_layout_table_holding_an_image_and_the_story_keeps_the_story():
    item = cleaned('<table><tr><td><img src="/images-lg/a-lg.jpg"><br><span class="BDC">Caption A.</span>'
                   "<p>Story paragraph one.<p>Story paragraph two.</td>"
                   '<td><img src="/images-lg/b-lg.jpg"><span class="BDC">Caption B.</span></td></tr></table>')
    assert item["body"] == "Story paragraph one.\n\nStory paragraph two."
    assert [(i["url"].rsplit("/", 1)[1], i["caption"]) for i in item["images"]] == \
        [("a-lg.jpg", "Caption A."), ("b-lg.jpg", "Caption B.")]


