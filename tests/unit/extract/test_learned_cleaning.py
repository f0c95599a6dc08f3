"""Cleaning that holds on clutter nobody listed: structure first, then what the site's pages have in common;
story text that repeats (an agency's closing sentence) kept; further stories split off; every removal explained."""

from __future__ import annotations

import json
import random

import pytest

from crawler.extract.boilerplate import (
    FORMAT, MIN_PAGES, BoilerplateStore, SiteTemplate, store_location,
)
from crawler.extract.cleaning import judge
from crawler.extract.extractor import article_from_page, read_page
from crawler.extract.stream import StreamCleaner
from tests.crawling import FIXTURES

SITE = "https://www.spacewar.com"

#: story sentences, so that every synthetic page has story text of its own
_SUBJECTS = ("The ministry", "Navy officials", "Analysts in Brussels", "The contractor", "A NATO spokeswoman",
             "Lawmakers in Washington", "The space command", "Officials in Seoul")
_CLAIMS = ("the radar network could track targets at twice the range", "the launch had been delayed again",
           "a second batch of satellites had reached orbit", "the treaty talks would resume in autumn",
           "the interceptor programme would enter production", "drone attacks had intensified overnight")


def story(rng: random.Random, n: int) -> list[str]:
    return [f"{rng.choice(_SUBJECTS)} said on {rng.choice(('Monday', 'Tuesday', 'Friday'))} that "
            f"{rng.choice(_CLAIMS)}, in remarks number {rng.randint(1, 10**6)}." for _ in range(n)]


def page(title: str, paragraphs: list[str], *, agency: str = "AFP", after: str = "", top: str = "",
         extra_html: str = "") -> str:
    """An article page in the network's table template, paragraphs as open <p>."""
    body = "\r\n".join(f"<p>{p}" for p in paragraphs)
    return (f"<html><head><title>{title}</title></head><body><table><tr><td>\r\n"
            f"<!--body-2-incontainer.php-->\r\n<h1>{title}<br></h1>\r\n"
            f'<span class="BHS">Washington ({agency}) May 30, 2024</span>\r\n{top}{body}\r\n{extra_html}'
            f"<!--RELATED LINKS-->\r\n<p><b>Related Links</b><br><a href='/x.html'>More</a><br>\r\n{after}"
            "</td></tr></table></body></html>")


def url(k: int) -> str:
    return f"{SITE}/reports/Story_{k}_999.html"


def crawl(pages: list[tuple[str, str]], lookahead: int = 60, store: BoilerplateStore | None = None) -> dict:
    """{url: Cleaned} of pages judged as the extraction stage judges them (in this order)."""
    stream = StreamCleaner(store, lookahead)
    out = {}
    for u, html in pages:
        for token, cleaned in stream.push(u, read_page(html, u)):
            out[token] = cleaned
    for token, cleaned in stream.flush():
        out[token] = cleaned
    return out


# --- structure --------------------------------------------------------------------------------------
REWORDED = [
    ('<p><i>Readers\u2019 views (12) <a href="#talk">Add yours</a></i>', "markup"),
    ('<table width="100%" bgcolor="#F2F2F2"><tr><td><b>Keep us online</b><br>Our coverage costs money; '
     'please chip in.<br><a href="/support/">Give once</a></td></tr></table>', "markup"),
    ('<center><font size="1">Story continues below</font></center>', "markup"),
    ('<div class="sh-bar"><a href="/s?fb">Facebook</a> | <a href="/s?x">X</a> | <a href="/s?m">Email</a></div>',
     "links"),
    ("<p>Reading time: 4 minutes", "position"),
    # a call to the reader with a link in it (the reader signal looks at lines whose links are less than half)
    ('<p>Follow us for the latest headlines. <a href="https://x.example/sw">@SpaceWarNews</a>', "reader"),
]


@pytest.mark.parametrize("clutter, signal", REWORDED)
def test_clutter_in_wordings_nobody_listed_is_removed_by_its_structure_on_the_first_page(clutter, signal):
    rng = random.Random(1)
    paras = story(rng, 4)
    html = page("Radar story", paras, after="", extra_html=clutter)
    cleaned = judge(read_page(html, url(1)))  # no template at all: structure alone
    assert cleaned.article.body == "\n\n".join(paras)
    assert [r.signal for r in cleaned.removed if r.signal not in ("tag", "class")] == [signal]
    assert all(r.reason for r in cleaned.removed)


def test_a_quoted_passage_in_italics_inside_the_story_is_kept():
    rng = random.Random(2)
    paras = story(rng, 4)
    quote = ("This is a long passage that the story quotes from a ministry statement, set in italics by the "
             "editors, and it is part of what the article says.")
    html = page("Quote story", paras[:2] + [f"<i>{quote}</i>"] + paras[2:])
    assert judge(read_page(html, url(2))).article.body == "\n\n".join(paras[:2] + [quote] + paras[2:])


def test_a_credit_line_after_an_image_is_neither_caption_nor_story():
    rng = random.Random(3)
    paras = story(rng, 3)
    image = ('<table width="400" align="right"><tr><td><img src="/images-lg/radar-lg.jpg" width="400" height="267">'
             "<br><i>The radar at dawn, seen from the coast.</i></td></tr></table>\r\n<p><small>Photo: AFP/File</small>")
    html = page("Image story", paras).replace("<p>" + paras[0], image + "\r\n<p>" + paras[0])
    a = article_from_page(html, url(3))
    assert a.images == [{"url": f"{SITE}/images-lg/radar-lg.jpg", "caption": "The radar at dawn, seen from the coast."}]
    assert a.body == "\n\n".join(paras)


def test_the_agencys_notice_before_the_end_marker_in_a_new_wording_goes_to_rights():
    rng = random.Random(4)
    paras = story(rng, 3)
    notice = "Copyright Agence France-Presse, 2024. No part of this dispatch may be reproduced without permission."
    a = article_from_page(page("Notice story", paras + [notice]), url(4))
    assert a.body == "\n\n".join(paras) and a.rights == notice
    # a network credit with a copyright sign names no agency: not the rights
    b = article_from_page(page("Credit story", paras, agency="UPI", after="<p>\u00a9 2024 Space Media Network"), url(5))
    assert b.rights is None


def test_the_seed_storys_sixteen_paragraphs_stay_exact():
    name = "kharkiv-2024-05-30"
    expected = json.loads((FIXTURES / "pages" / f"{name}.expected.json").read_text("utf-8"))
    from bench.quality import decode_like_scrapy

    html = decode_like_scrapy(expected["url"], (FIXTURES / "pages" / f"{name}.html").read_bytes())
    a = article_from_page(html, expected["url"])
    assert a.body == expected["body"] and len(a.body.split("\n\n")) == 16
    assert a.rights == expected["rights"] and a.related_stories == []


# --- the learned template -------------------------------------------------------------------------------
def site_pages(n: int, seed: int, *, line: str | None, line_share: float, closing: str | None = None,
               closing_share: float = 0.0, closing_agency: str | None = None, switch: tuple[int, str] | None = None,
               agencies: tuple[str, ...] = ("AFP", "UPI", "SPX")):
    """n pages with stories of their own; `line` (plain, story-styled: structure cannot tell it) after the story
    on `line_share` of them (reworded to switch[1] from page switch[0] on); `closing` as the story's own last
    paragraph on `closing_share` of the pages (of `closing_agency`'s pages only, when given)."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        agency = agencies[k % len(agencies)]
        paras = story(rng, rng.randint(3, 6))
        if closing and (closing_agency in (None, agency)) and rng.random() < closing_share:
            paras.append(closing)
        tail = []
        if line and rng.random() < line_share:
            tail.append(switch[1] if switch and k >= switch[0] else line)
        out.append((url(k), page(f"Story {k}", paras + tail, agency=agency), paras))
    return out


def test_a_plain_template_line_is_removed_on_every_page_even_the_first():
    pages = site_pages(90, 5, line="Comments are closed for this story.", line_share=0.7)
    got = crawl([(u, h) for u, h, _ in pages])
    assert [got[u].article.body for u, _, _ in pages] == ["\n\n".join(p) for _, _, p in pages]
    reasons = {r.reason for u, _, _ in pages for r in got[u].removed if r.signal == "template"}
    assert reasons and all("of the site's pages" in r for r in reasons)


def test_judged_on_arrival_with_nothing_learned_the_first_pages_keep_it():
    # what the look-ahead is for: the same site, each page judged as it arrives
    pages = site_pages(90, 5, line="Comments are closed for this story.", line_share=0.7)
    got = crawl([(u, h) for u, h, _ in pages], lookahead=0)
    leaked = [k for k, (u, _, p) in enumerate(pages) if got[u].article.body != "\n\n".join(p)]
    assert leaked and leaked[0] < 5 and max(leaked) < 30


def test_a_repeated_closing_sentence_is_kept():
    # a stock closing line on 38% of all stories, often their last paragraph, exactly where the template line sits
    closing = "No further details were given."
    pages = site_pages(120, 6, line="Comments are closed for this story.", line_share=0.7, closing=closing,
                       closing_share=0.38)
    got = crawl([(u, h) for u, h, _ in pages])
    assert len([u for u, _, p in pages if p[-1] == closing]) > 30
    assert [got[u].article.body for u, _, _ in pages] == ["\n\n".join(p) for _, _, p in pages]


def test_a_closing_sentence_on_four_of_the_first_seven_pages_is_kept_when_they_are_judged_then():
    # a crawl's first pages judged early (the idle release at a pause of the crawl): 4 of 7 is a rate of 57% on
    # very few pages, which a story's closing sentence reaches by chance; a template line on all 7 goes
    closing, line = "No further details were given.", "Comments are closed for this story."
    rng = random.Random(11)
    pages = []
    for k in range(7):
        paras = story(rng, 3) + ([closing] if k in (0, 2, 3, 5) else [])
        pages.append((url(k), page(f"Story {k}", paras + [line]), paras))
    got = crawl([(u, h) for u, h, _ in pages], lookahead=30)  # all 7 held, then judged at once (flush)
    assert [got[u].article.body for u, _, _ in pages] == ["\n\n".join(p) for _, _, p in pages]
    assert all(any(r.text == line and r.signal == "template" for r in got[u].removed) for u, _, _ in pages)


def test_an_agencys_closing_sentence_is_kept_even_on_a_site_of_mostly_that_agency():
    # on 70% of the AFP stories of a site that is 80% AFP: more than half of all its pages, but never on the
    # other agency's stories, which a template line would be on
    closing = "AFP was not able to independently verify the claims."
    pages = site_pages(120, 6, line="Comments are closed for this story.", line_share=0.7, closing=closing,
                       closing_share=0.7, closing_agency="AFP", agencies=("AFP", "AFP", "AFP", "AFP", "UPI"))
    got = crawl([(u, h) for u, h, _ in pages])
    assert len([u for u, _, p in pages if p[-1] == closing]) > 0.5 * len(pages)
    assert [got[u].article.body for u, _, _ in pages] == ["\n\n".join(p) for _, _, p in pages]


def test_a_line_reworded_mid_crawl_is_removed_from_its_first_page_on():
    pages = site_pages(100, 7, line="Comments are closed for this story.", line_share=0.75,
                       switch=(50, "Log in with Facebook, Google or X to join the conversation below."))
    got = crawl([(u, h) for u, h, _ in pages])
    assert [got[u].article.body for u, _, _ in pages] == ["\n\n".join(p) for _, _, p in pages]


def test_what_a_crawl_learned_is_saved_atomically_and_a_later_crawl_starts_from_it(tmp_path):
    pages = site_pages(60, 8, line="Comments are closed for this story.", line_share=0.7)
    path = tmp_path / "warc" / "boilerplate.json"
    store = BoilerplateStore(path)
    crawl([(u, h) for u, h, _ in pages], store=store)
    store.save()
    assert json.loads(path.read_text("utf-8"))["format"] == FORMAT
    assert not list(path.parent.glob("*.tmp"))
    again = BoilerplateStore.load(path)
    assert again.sites["spacewar.com"].pages == 60
    # a later page, judged on arrival, is clean from the start
    later = site_pages(5, 9, line="Comments are closed for this story.", line_share=1.0)
    got = crawl([(u.replace("Story_", "Later_"), h) for u, h, _ in later], lookahead=0, store=again)
    assert [got[u.replace("Story_", "Later_")].article.body for u, _, _ in later] == \
        ["\n\n".join(p) for _, _, p in later]


def test_a_damaged_template_file_is_set_aside_and_learning_starts_again(tmp_path, caplog):
    path = tmp_path / "boilerplate.json"
    path.write_text("{not json", "utf-8")
    with caplog.at_level("WARNING"):
        store = BoilerplateStore.load(path)
    assert store.sites == {} and "learning starts afresh" in caplog.text


def test_a_page_seen_twice_counts_once():
    template = SiteTemplate()
    assert template.observe(url(1), "AFP", {"a line": False})
    assert not template.observe(url(1), "AFP", {"a line": False})
    assert template.pages == 1 and template.blocks["a line"][0] == 1


def test_keys_seen_on_one_page_only_are_forgotten_and_never_written():
    from crawler.extract.boilerplate import PRUNE_AFTER

    template = SiteTemplate()
    n = 3 * PRUNE_AFTER
    for k in range(n):
        template.observe(url(k), "AFP", {f"story text {k}": False, "template line": False})
    assert "template line" in template.blocks
    assert "story text 1" not in template.blocks  # seen once, long ago
    assert f"story text {n - 1}" in template.blocks  # seen once, just now: may still recur
    assert set(template.to_json()["blocks"]) == {"template line"}


def test_where_the_template_lives():
    assert store_location("/x/b.json", "/w", None) == (__import__("pathlib").Path("/x/b.json"), True)
    path, writable = store_location(None, "/w", None)
    assert str(path) == "/w/boilerplate.json" and writable
    path, writable = store_location(None, "/w", "/archive/crawl-1.warc.gz")
    assert str(path) == "/archive/boilerplate.json" and not writable
    assert store_location(None, None, None) == (None, False)


def test_the_stream_holds_at_most_its_look_ahead_and_releases_in_order():
    pages = site_pages(30, 10, line=None, line_share=0)
    stream = StreamCleaner(lookahead=5, max_bytes=10**9, warmup=0)
    released = []
    for u, h, _ in pages:
        released += [t for t, _ in stream.push(u, read_page(h, u), len(h))]
        assert stream.held <= 5
    released += [t for t, _ in stream.flush()]
    assert released == [u for u, _, _ in pages] and stream.held_max == 5
    small = StreamCleaner(lookahead=5, max_bytes=2 * len(pages[0][1]), warmup=0)
    for u, h, _ in pages:
        small.push(u, read_page(h, u), len(h))
        assert small.held <= 2


def test_a_first_crawls_first_pages_wait_for_the_warm_up_then_the_look_ahead_alone():
    pages = site_pages(60, 11, line=None, line_share=0)
    stream = StreamCleaner(lookahead=5, warmup=20)
    released = []
    for k, (u, h, _) in enumerate(pages):
        out = [t for t, _ in stream.push(u, read_page(h, u))]
        if k < 19:
            assert out == []  # the site's template has fewer than 20 pages: nothing is judged yet
        elif k == 19:
            assert out == [u for u, _, _ in pages[:15]]  # the 20th page counted: all but the look-ahead's 5
        else:
            assert len(out) == 1  # from then on, the look-ahead alone
        released += out
    released += [t for t, _ in stream.flush()]
    assert released == [u for u, _, _ in pages] and stream.held_max == 19
    # a template learned by an earlier crawl has its warm-up: the look-ahead alone from the first page
    again = StreamCleaner(stream.store, lookahead=5, warmup=20)
    for u, h, _ in pages[:10]:
        again.push(u.replace("Story_", "Later_"), read_page(h, u.replace("Story_", "Later_")))
        assert again.held <= 5
    # and the warm-up never holds more than its own number of pages, nor past the bytes' bound
    other = StreamCleaner(lookahead=5, warmup=20, max_bytes=3 * min(len(h) for _, h, _ in pages))
    for u, h, _ in pages:
        other.push(u, read_page(h, u), len(h))
        assert other.held <= 3


def test_min_pages_guards_the_rate():
    template = SiteTemplate()
    for k in range(MIN_PAGES - 1):
        template.observe(url(k), "AFP", {"line": False})
    assert not template.evidence("line").template(0.1, story_like=False)
    template.observe(url(99), "AFP", {"line": False})
    assert template.evidence("line").template(0.1, story_like=False)


# --- further stories ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("markup", ["b", "plain", "font-b", "span", "strong", "h3", "b-br"])
@pytest.mark.parametrize("style", ["open", "closed", "br"])
def test_further_stories_become_related_stories_in_every_markup(markup, style):
    from datetime import datetime

    from tests.sites.replica.pages import _para_lines, related_story_lines
    from tests.sites.replica.stories import RelatedStory

    rng = random.Random(f"{markup}{style}")
    main = story(rng, 4)
    further = [RelatedStory("Seoul tracks missile launch", "Seoul", "AFP", datetime(2024, 5, 31), tuple(story(rng, 3)),
                            dated=False),
               RelatedStory("Tokyo boosts defence budget", "Tokyo", "UPI", datetime(2024, 5, 29), tuple(story(rng, 2)),
                            dated=True)]
    lines = [line for p in main for line in _para_lines(p, style)]
    for s in further:
        lines += related_story_lines(s, markup, "rs", style)
    html = page("Main story", []).replace("<!--RELATED LINKS-->", "\r\n".join(lines) + "\r\n<!--RELATED LINKS-->")
    a = article_from_page(html, url(11))
    assert a.body == "\n\n".join(main)
    assert a.related_stories == [s.expected() for s in further]


@pytest.mark.parametrize("style", ["open", "closed", "br"])
def test_a_paragraph_cut_by_an_ad_inside_it_stays_one_paragraph(style):
    from tests.sites.replica.pages import _para_lines, _para_with_inside

    rng = random.Random(12)
    paras = story(rng, 4)
    paras[1] = paras[1].rstrip(".") + ". The contractor said the tests would continue next year."
    ad = '<div id="map7"></div><script>loadMap("map7");</script><noscript>Turn on JavaScript to see the map.</noscript>'
    lines = []
    for k, p in enumerate(paras):
        lines += _para_with_inside(p, [ad], style) if k == 1 else _para_lines(p, style)
        if k == 2:  # a closed box (an appeal, its ad below it) is not a paragraph cut in two
            lines.append('<p><b><b>Support us:</b> every contribution helps.</b></p>'
                         '<div align="center"><ins class="adsbygoogle"></ins></div>')
    html = page("Cut story", []).replace("<!--RELATED LINKS-->", "\r\n".join(lines) + "\r\n<!--RELATED LINKS-->")
    assert article_from_page(html, url(13)).body == "\n\n".join(paras)


def test_a_line_keys_the_same_in_the_story_region_and_after_it():
    # what makes a template line seen after the story count for the same line inside it
    line = '<p><b>We need you.</b>  Readers like you can close the gap. <a href="/patreon/">Become a patron</a>'
    rng = random.Random(14)
    reading = read_page(page("Key story", story(rng, 3), extra_html=line, after=line.replace("<p>", "<p>\r\n")),
                        url(14))
    inside = [b.key for b in reading.blocks if "close the gap" in b.text]
    assert inside and inside[0] in reading.outside


def test_keys_made_for_a_whole_page_at_once_are_the_keys_made_one_by_one():
    from crawler.extract.blocks import KEY_CHARS, author_pattern, block_key, block_keys

    author = author_pattern("John Smith")
    texts = ["On 12 March 2024, John Smith said: \u2018We\u2019re ready.\u2019", "March on, Smithson",
             "Caf\u00e9 \u2014 d\u00e9j\u00e0 vu", "a\x00b", "", "x " * 200, "\u039f\u0394\u039f\u03a3 2", "  SEPT. 3  "]
    keys = block_keys(texts, author)
    assert keys == [block_key(t, author) for t in texts]
    assert keys[:4] == ["on 0 m 0 a a said were ready", "march on smithson", "caf dj vu", "a b"]
    assert keys[4] == "" and len(keys[5]) == KEY_CHARS and keys[7] == "m 0"
    assert block_keys([], author) == []


def test_the_author_is_masked_as_whole_words_only():
    from crawler.extract.blocks import author_pattern

    assert author_pattern("Ann Smith").sub("a", "ann anne smiths smith, xann") == "a anne smiths a, xann"
    assert author_pattern("Al") is None
