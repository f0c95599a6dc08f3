"""Clutter inside the story, in the story's own markup (issue 24): a line that recurs across agencies' pages is
template wherever it stands, a call to the reader goes even on one page, and story text that looks like
clutter (corrections, update lines, an agency's closing sentence, a quote reused by follow-ups) stays, with
the reason `scrapy explain` shows."""

from __future__ import annotations

import random

from crawler.extract.address import reader_address, story_names
from crawler.extract.boilerplate import (
    RATE_SPREAD, SPREAD_ABSENT_EXPECTED, SPREAD_PAGES, STOCK_SHARE, STOCK_TAIL, TAIL_CAP, BoilerplateStore, SiteTemplate,
)
from crawler.extract.cleaning import READER, TEMPLATE, judge
from crawler.extract.extractor import read_page
from tests.unit.extract.test_learned_cleaning import crawl, page, story, url

AGENCIES = ("AFP", "AFP", "AFP", "AFP", "SPX", "SPX", "SPX", "UPI", "UPI", "Sputnik")


STORY = ("Officials in Seoul said on Monday that the launch from Sohae had been delayed.",
         "The Kestrel programme is run by the air force from Colorado Springs.")


def ask(line: str):
    """reader_address of a line standing on a page with STORY's paragraphs."""
    found = story_names(STORY + (line,))
    return reader_address(line, lambda: found)


# --- who a line speaks to ------------------------------------------------------------------------------

def test_calls_to_the_reader_are_told_by_person_and_mood_not_by_wording():
    for line in ("Seen something we did not report? Write to the desk.",  # first person plural (the site)
                 "Reading on means you accept the cookies this site sets.",  # second person
                 "Rate this report in one click.",  # imperative, no pronoun at all
                 "Listen to this report (6 min)"):
        verdict = ask(line)
        assert verdict is not None and verdict[0], line


def test_story_text_in_the_first_or_second_person_stays():
    quoted = ask("\u201cWe will not let you down,\u201d the general told crews.")
    assert quoted == (False, "speaks to the reader (second person), but in quotation marks (a speaker's words)")
    named = ask("Residents near Sohae, expect the sirens at noon, you are told.")
    assert named is not None and not named[0] and "Sohae" in named[1]
    long = ask("Our correspondent " + "waited " * 25 + "for news.")
    assert long is not None and not long[0] and "words long" in long[1]
    for line in ("Update: officials in Seoul confirmed the delay late on Tuesday.",
                 "Correction: an earlier draft gave the wrong launch site; the rocket left from Sohae.",
                 "Officials in Seoul said the launch had been delayed."):
        assert ask(line) is None, line


# --- repetition across agencies ------------------------------------------------------------------------
def template_of(pages: int, key_pages, *, tail=(5, 50), agencies=AGENCIES) -> SiteTemplate:
    """A template of `pages` pages where the key "line" stands on the pages `key_pages` selects (by index),
    `tail` sentences after it."""
    t = SiteTemplate()
    for k in range(pages):
        agency = agencies[k % len(agencies)]
        keys = {f"story {k}": False}
        if key_pages(k, agency):
            keys["line"] = False
        t.observe(url(k), agency, keys, {"line": tail})
    return t


def test_a_line_on_a_third_of_every_agencys_pages_is_template_wherever_it_stands():
    ev = template_of(60, lambda k, a: k % 3 == 0).evidence("line")
    assert ev.df >= SPREAD_PAGES and ev.agencies == 4 and ev.spread(story_like=True)


def test_one_agencys_line_and_a_stock_closing_sentence_are_not_template_by_repetition():
    afp_only = template_of(60, lambda k, a: a == "AFP" and k % 2 == 0).evidence("line")
    assert afp_only.agencies == 1 and not afp_only.spread(story_like=True)
    # on a third of every agency's pages, but always last or second-last in its story
    closer = template_of(60, lambda k, a: k % 3 == 0, tail=(1, 12)).evidence("line")
    assert closer.stock_closing() and not closer.spread(story_like=True)
    assert closer.tail <= STOCK_TAIL * closer.df and closer.share <= STOCK_SHARE * closer.df
    # a label that is not a sentence is not a closing sentence: repetition decides
    assert closer.spread(story_like=False)


def test_a_line_missing_from_an_agency_whose_pages_should_have_carried_it_is_those_agencies_text():
    # on a third of the pages of AFP, UPI and Sputnik; never on SPX's 18 pages (at its rate, on 4 of them)
    ev = template_of(60, lambda k, a: a != "SPX" and k % 3 == 0).evidence("line")
    assert ev.agencies == 3 and ev.rate * 18 >= SPREAD_ABSENT_EXPECTED
    assert ev.missing and not ev.spread(story_like=True)
    # the same line on SPX's pages too is the template's
    assert template_of(60, lambda k, a: k % 3 == 0).evidence("line").spread(story_like=True)


def test_a_label_that_recurs_across_agencies_is_template_at_a_rate_too_low_for_a_sentence():
    # on 5 of 80 pages (AFP, SPX and UPI): too rare for a story-like sentence to be told from chance, but a
    # nameless label (not a sentence) that several agencies' pages carry is the template's
    ev = template_of(80, lambda k, a: k % 17 == 0).evidence("line")
    assert ev.agencies == 3 and ev.low < RATE_SPREAD and not ev.missing
    assert ev.spread(story_like=False) and not ev.spread(story_like=True)


def test_a_call_to_the_reader_with_a_link_in_it_goes_on_a_single_page():
    rng = random.Random(7)
    paras = story(rng, 5)
    appeal = ('<p><b>Keep us going</b> Enjoyed this piece? Chip in and help us keep the lights on. '
              '<a href="/give/">Chip in</a>')
    html = page("Radar story", paras[:2] + [appeal[3:]] + paras[2:])
    cleaned = judge(read_page(html, url(1)))
    assert cleaned.article.body == "\n\n".join(paras)
    assert [r.signal for r in cleaned.removed if "Chip in" in r.text] == [READER]


def test_the_template_file_keeps_where_lines_stand_and_reads_the_older_entries(tmp_path):
    store = BoilerplateStore(tmp_path / "b.json")
    store.sites["spacewar.com"] = template_of(12, lambda k, a: True, tail=(1, 20))
    store.save()
    again = BoilerplateStore.load(tmp_path / "b.json").sites["spacewar.com"]
    assert again.blocks["line"] == store.sites["spacewar.com"].blocks["line"]
    assert again.blocks["line"][5:] == (12, 240)
    # each page's agency is logged: an agency's pages within a span are counted, not estimated
    assert [again.pages_in_span(a, 0, 9) for a in ("AFP", "SPX", "UPI", "Sputnik")] == [4, 3, 2, 1]
    assert again.pages_in_span("SPX", 4, 6) == 3 and again.pages_in_span("AFP", 4, 6) == 0
    no_log = SiteTemplate.from_json({"pages": 10, "agency_pages": {"AFP": 4, "SPX": 6}, "blocks": {}})
    assert no_log.pages_in_span("SPX", 0, 4) == 3.0  # estimated from its share of all pages
    old = SiteTemplate.from_json({"pages": 9, "agency_pages": {"AFP": 9},
                                  "blocks": {"line": [9, 0, 0, 8, {"AFP": 9}]}})
    assert old.blocks["line"][5:] == (9 * TAIL_CAP, 900)  # read as mid-story: no stock closing sentence
    assert not old.evidence("line").stock_closing()


# --- whole pages, judged as the crawl judges them ---------------------------------------------------------
MID = "Coverage of this region is refreshed through the day as wires arrive."
CLOSER = "There was no word on casualties."
AFP_CLOSER = "AFP reporters at the scene could not confirm the account."


def site_pages(n: int = 60):
    """(url, html, paragraphs) of a site whose template puts MID mid-story on a third of every agency's
    pages; CLOSER ends a fifth of all stories (second to last), AFP_CLOSER a third of AFP's."""
    rng = random.Random(24)
    out = []
    for k in range(n):
        agency = AGENCIES[k % len(AGENCIES)]
        paras = story(rng, rng.randint(5, 9))
        expected = list(paras)
        if k % 5 == 1:
            paras.insert(len(paras) - 1, CLOSER)
            expected.insert(len(expected) - 1, CLOSER)
        if agency == "AFP" and k % 3 == 0:
            paras.append(AFP_CLOSER)
            expected.append(AFP_CLOSER)
        if k % 3 == 0:
            paras.insert(rng.randint(2, 3), MID)
        out.append((url(k), page(f"Story {k}", paras, agency=agency), expected))
    return out


def test_a_mid_story_template_line_goes_and_closing_sentences_stay():
    pages = site_pages()
    judged = crawl([(u, html) for u, html, _ in pages], lookahead=30)
    for u, html, expected in pages:
        cleaned = judged[u]
        assert cleaned.article.body == "\n\n".join(expected), u
        if MID in html:
            why = [r for r in cleaned.removed if r.text == MID]
            assert why and why[0].signal == TEMPLATE and "agencies" in why[0].reason
    kept = {note.text: note.reason for c in judged.values() for note in c.kept}
    assert "one agency" in kept[AFP_CLOSER] and "stock closing sentence" in kept[CLOSER]


def test_the_same_line_inside_a_further_story_goes_too():
    store = BoilerplateStore()
    for u, h, _ in site_pages():  # the site's template, learned from its pages
        r = read_page(h, u)
        store.site(r.site).observe(r.url, r.agency, r.observed_keys(), r.tails())
    rng = random.Random(5)
    main, further = story(rng, 4), story(rng, 4)
    html = page("Story with a second one", main + ["<b>Second headline here</b>",
                                                   f"Kyiv (AFP) May 30, 2024 - {further[0]}", further[1], MID,
                                                   *further[2:]])
    cleaned = judge(read_page(html, url(999)), store.sites["spacewar.com"])
    assert cleaned.article.body == "\n\n".join(main)
    [related] = cleaned.article.related_stories
    assert related["body"] == "\n\n".join(further)
    assert [r.story for r in cleaned.removed if r.text == MID] == [1]


def test_a_call_to_the_reader_goes_on_the_one_page_that_has_it_and_the_stories_lines_stay():
    rng = random.Random(7)
    paras = story(rng, 5)
    call = "Was this report useful to you? Tell us in two lines."
    correction = "Correction: this story earlier gave the wrong date for the Seoul briefing."
    update = "Update: the ministry in Seoul confirmed the delay on Tuesday."
    html = page("Radar story", [update] + paras[:3] + [call] + paras[3:] + [correction])
    cleaned = judge(read_page(html, url(1)))  # no template: one page only
    assert cleaned.article.body == "\n\n".join([update] + paras + [correction])
    [removal] = [r for r in cleaned.removed if r.text == call]
    assert removal.signal == READER and "second person" in removal.reason
