"""The replica's clutter generator (tests/sites/replica/clutter.py, stories.py) and the cleaning evaluation built on it
(bench/cleaning_quality.py): deterministic per seed, every clutter kind on a seed's pages, in template-like
repetition within a site and variety across sites, expected items that match the rendered pages, pages
with further stories, story paragraphs that repeat, a default replica that is exactly what it was, and
scores that an oracle maxes out and a careless cleaner does not."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import pytest
from lxml import etree

from bench import cleaning_quality as cq
from bench.quality import decode_like_scrapy
from tests.sites.replica.clutter import DEV_SEEDS, HELDOUT_SEEDS, KIND_NAMES, KINDS, ClutterTemplate, describe_kinds
from tests.sites.replica.content import SECTIONS, ReplicaSite
from tests.sites.replica.pages import Renderer

N = 120  # pages per seed: enough for every kind and for template repetition to show
SEEDS = (DEV_SEEDS[0], DEV_SEEDS[1], HELDOUT_SEEDS[0])


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def sites():
    return {s: cq.site_for(s, N) for s in SEEDS}


def legacy(site):
    return [a for a in site.articles if a.layout == "legacy"][:N]


def page_text(site, renderer, art) -> str:
    page = renderer.render(art.path)
    root = etree.HTML(decode_like_scrapy(art.url, page.body, page.content_type))
    for el in root.iter("script", "style"):
        el.text = ""
    return norm(" ".join(root.itertext()))


# --- the default replica -------------------------------------------------------------------------------
def default_replica_digest() -> str:
    h = hashlib.sha256()
    for n, faults in ((40, True), (90, False)):
        site = ReplicaSite(n, faults=faults, fixtures_dir=None)
        renderer = Renderer(site)
        paths = ["/", "/spacewar.xml", *(s.path for s in SECTIONS), *(s.feed_path for s in SECTIONS),
                 *site.archives, *(a.path for a in site.articles)]
        for path in paths:
            page = renderer.render(path)
            h.update(f"{path} {page.status} {page.content_type}\n".encode())
            h.update(page.body)
        h.update(json.dumps(site.expected_items(), sort_keys=True, default=str).encode())
    return h.hexdigest()


#: default_replica_digest() of the replica before the clutter generator came in (commit 67034a9). If you
#: change the default replica on purpose, put the new digest here and say so in the commit message.
DEFAULT_DIGEST = "5c8dc9cd0526bd4464dd2feaa52a3deea90bda956d7aafbcfdd23981ee6959e4"


def test_the_default_replica_is_byte_for_byte_what_it_was():
    assert default_replica_digest() == DEFAULT_DIGEST


def test_without_the_options_there_is_no_clutter_template_and_no_related_stories():
    site = ReplicaSite(40, fixtures_dir=None)
    assert site.clutter is None and site.repeat_texts == set()
    assert all("related_stories" not in e for e in site.expected_items())
    cluttered = ReplicaSite(40, fixtures_dir=None, clutter_seed=3)
    assert all("related_stories" not in e for e in cluttered.expected_items())
    # the articles themselves (titles, dates, paths, agencies) do not depend on the clutter seed
    assert [(a.path, a.title, a.agency, a.when) for a in site.articles] == \
        [(a.path, a.title, a.agency, a.when) for a in cluttered.articles]


# --- determinism and variety ----------------------------------------------------------------------------
def test_the_generator_is_deterministic_per_seed():
    def snapshot(seed):
        site = cq.site_for(seed, 40)
        renderer = Renderer(site)
        return [renderer.render(a.path).body for a in site.articles], site.expected_items()

    assert snapshot(5) == snapshot(5)
    assert snapshot(5)[0] != snapshot(6)[0]


def test_seeds_pick_different_site_templates():
    templates = [ClutterTemplate(s) for s in DEV_SEEDS + HELDOUT_SEEDS]
    for kind in ("comments", "donation", "newsletter", "ad_label", "share_bar", "disclaimer"):
        wordings = {t.choices[kind].wording for t in templates}
        markups = {(t.choices[kind].inline, t.choices[kind].block) for t in templates}
        slots = {t.choices[kind].slot for t in templates}
        assert len(wordings) >= 3 and len(markups) >= 6 and len(slots) >= 2, kind
    assert len({t.image_markup for t in templates}) >= 3
    assert len({t.related_markup for t in templates}) >= 3


def test_every_kind_has_several_wordings_and_markups():
    for row in describe_kinds():
        assert row["wordings"] >= 2 and row["markups"] >= 3, row
    assert len(KINDS) >= 25


@pytest.mark.parametrize("seed", SEEDS)
def test_every_clutter_kind_appears_across_a_seeds_pages(sites, seed):
    site = sites[seed]
    seen = Counter()
    for art in legacy(site):
        seen.update(site.clutter.plan(site, art).kinds())
    assert set(KIND_NAMES) <= set(seen), set(KIND_NAMES) - set(seen)


@pytest.mark.parametrize("seed", SEEDS)
def test_clutter_repeats_across_a_sites_pages_like_template_text(sites, seed):
    """Most text kinds say the same thing on many pages (digits aside): a template's wording, not noise."""
    site = sites[seed]
    arts = legacy(site)
    by_kind: dict[str, Counter] = {}
    for art in arts:
        for piece in site.clutter.plan(site, art).pieces:
            for needle in set(piece.needles):
                by_kind.setdefault(piece.kind, Counter())[re.sub(r"\d+", "#", needle)] += 1
    recurring = {k for k, c in by_kind.items() if c.most_common(1)[0][1] >= 0.2 * len(arts)}
    assert len(recurring) >= 12, recurring
    for kind in ("footer", "network_block", "related_links"):
        assert kind in recurring


# --- expected items against the pages --------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_expected_items_match_the_rendered_pages(sites, seed):
    site = sites[seed]
    renderer = Renderer(site)
    for art in legacy(site):
        text = page_text(site, renderer, art)
        exp = art.expected()
        for para in exp["body"].split("\n\n"):
            assert norm(para) in text, (art.path, para)
        for img in exp["images"]:
            assert norm(img["caption"]) in text
        if exp["rights"]:
            assert norm(exp["rights"]) in text
        for story in exp["related_stories"]:
            assert norm(story["title"]) in text
            for para in story["body"].split("\n\n"):
                assert norm(para) in text
        plan = site.clutter.plan(site, art)
        for kind, needle in plan.needles():
            assert needle in text, (art.path, kind, needle)
        # no clutter string is part of the story (so a leak count cannot be a story sentence)
        body = norm(exp["body"])
        assert not [n for _, n in plan.needles() if len(n) > 25 and n in body]


def test_every_expected_article_item_has_the_exact_fields(sites):
    site = sites[SEEDS[0]]
    for exp in site.expected_items():
        assert set(exp) >= {"url", "title", "published", "author", "body", "images", "rights", "extraction"}
        assert isinstance(exp["related_stories"], list)


# --- pages with more than one story -----------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_a_share_of_pages_carries_further_stories_after_the_main_one(sites, seed):
    site = sites[seed]
    renderer = Renderer(site)
    arts = legacy(site)
    multi = [a for a in arts if a.related]
    assert 0.1 * len(arts) <= len(multi) <= 0.5 * len(arts)
    assert any(len(a.related) == 2 for a in multi)  # sometimes a third story
    for art in multi:
        text = page_text(site, renderer, art)
        last_main = norm(art.paragraphs()[-1])
        for story in art.related:
            exp = story.expected()
            assert set(exp) == {"title", "location", "agency", "published", "body"}
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", exp["published"])
            joined = f"{story.dateline()} - {story.paragraphs[0]}"
            assert norm(joined) in text
            assert re.match(r".+ \((AFP|UPI|SPX)\) [A-Z][a-z]{2} \d{2}, \d{4} - ", joined)
            # after the main story, headline first
            assert text.index(last_main) < text.index(norm(story.title)) < text.index(norm(joined))
            assert story.paragraphs[0] not in art.expected()["body"]


def test_further_stories_come_in_several_markups():
    html = []
    for seed in DEV_SEEDS + HELDOUT_SEEDS:
        site = cq.site_for(seed, 40)
        art = next(a for a in site.articles if a.related)
        body = Renderer(site).render(art.path).body.decode("latin-1")
        title = art.related[0].title.replace("\u2018", "&#8216;").replace("\u2019", "&#8217;")
        line = next(line for line in body.split("\r\n") if title in line)
        html.append(re.sub(re.escape(title), "T", line))
    assert len(set(html)) >= 4, html


# --- story text that repeats -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_some_story_paragraphs_repeat_across_articles_and_are_in_the_expected_bodies(sites, seed):
    site = sites[seed]
    arts = legacy(site)
    counts = Counter(t for a in arts for _, t in a.inserts)
    assert len(counts) >= 4 and site.repeat_texts >= set(counts)
    assert sum(1 for c in counts.values() if c >= 3) >= 3
    assert max(counts.values()) <= 0.5 * len(arts)
    for art in arts:
        paras = art.expected()["body"].split("\n\n")
        assert all(t in paras for _, t in art.inserts)


# --- the evaluation ------------------------------------------------------------------------------------------
class Oracle:
    """A cleaner that knows the answers: the evaluation must give it full marks."""

    def __init__(self, seed, n):
        self.items = {e["url"]: e for e in cq.site_for(seed, n).expected_items()}

    def __call__(self, html, url):
        return dict(self.items[url])


class Careless:
    """A cleaner that keeps every line of text after the dateline: it must score badly."""

    def __call__(self, html, url):
        root = etree.HTML(html)
        for el in root.iter("script", "style"):
            el.text = ""
        text = "\n\n".join(norm(t) for t in root.itertext() if norm(t))
        return {"body": text, "images": [], "rights": None}


def test_the_evaluation_gives_an_oracle_full_marks_and_a_careless_cleaner_none():
    seed, n = HELDOUT_SEEDS[0], 30
    good = cq.evaluate_seed(seed, n, factory=lambda: Oracle(seed, n), compare=False)
    assert good["f1_mean"] == 1.0 and good["leaks"] == 0 and good["story_recall"] == 1.0
    assert good["repeat_recall"] == 1.0 and good["rights_ok"] == 1.0 and good["images_ok"] == 1.0
    assert good["related_found"] == good["related_expected"] > 0 and good["related_f1"] == 1.0
    assert good["related_in_body"] == 0.0
    bad = cq.evaluate_seed(seed, n, factory=Careless, compare=False)
    assert bad["f1_mean"] < 0.8 and bad["leaks"] > 10 * n and bad["pages_with_leak"] == n
    assert bad["related_in_body"] == 1.0 and bad["story_recall"] == 1.0


def test_the_evaluation_feeds_one_learner_object_per_seed_in_crawl_order_with_a_warm_up():
    calls = []

    class Learner:
        def __init__(self):
            calls.append(("new",))

        def learn(self, html, url):
            calls.append(("learn", url))

        def __call__(self, html, url):
            calls.append(("clean", url))
            return {"body": "", "images": [], "rights": None}

        def finish(self):
            calls.append(("finish",))
            return {}

    row = cq.evaluate_seed(DEV_SEEDS[0], 15, factory=Learner, warmup=5, compare=False)
    urls = [p.url for p in cq.pages_for(DEV_SEEDS[0], 15)]
    assert calls[0] == ("new",) and calls[-1] == ("finish",)
    assert [c[1] for c in calls if c[0] == "learn"] == urls[:5]
    assert [c[1] for c in calls if c[0] == "clean"] == urls
    assert row["warmup"] == 5 and row["f1_mean"] == 0.0


def test_the_seed_split_is_disjoint_and_parsed_by_name():
    assert not set(DEV_SEEDS) & set(HELDOUT_SEEDS)
    assert cq.parse_seeds("dev") == list(DEV_SEEDS)
    assert cq.parse_seeds("heldout") == list(HELDOUT_SEEDS)
    assert cq.parse_seeds("1,2,1") == [1, 2]
    assert cq.split_of(HELDOUT_SEEDS[0]) == "held-out" and cq.split_of(999) == "other"


def test_the_benchmark_prints_a_markdown_table(capsys):
    assert cq.main(["--seeds", f"{DEV_SEEDS[0]},{DEV_SEEDS[1]}", "--pages", "12", "--no-compare"]) == 0
    out = capsys.readouterr().out
    assert "| split | seed | pages | body F1 mean |" in out and "**all dev**" in out
    assert "Leaked clutter strings by kind" in out


# --- the in-story variant (issue 24: tests/sites/replica/instory.py) ------------------------------------
@pytest.fixture(scope="module")
def instory_site():
    return cq.site_for(DEV_SEEDS[0], N, instory=True)


def test_the_in_story_variant_adds_its_kinds_and_leaves_the_ordinary_clutter_as_drawn(sites, instory_site):
    from tests.sites.replica.instory import CLUTTER_KINDS

    plain_site, site = sites[DEV_SEEDS[0]], instory_site
    pages, same = Counter(), 0
    for a, b in zip(legacy(plain_site), legacy(site)):
        if b.inserts == a.inserts:  # no story line inserted (those change the draws of the paragraphs' places)
            same += 1
            ordinary = [p for p in site.clutter.plan(site, b).pieces if p.kind not in CLUTTER_KINDS]
            assert ordinary == plain_site.clutter.plan(plain_site, a).pieces
        pages.update({p.kind for p in site.clutter.plan(site, b).pieces if p.kind in CLUTTER_KINDS})
    assert same >= N // 3 and set(pages) == set(CLUTTER_KINDS)
    assert pages["reader_call"] == 3 and all(pages[k] >= 10 for k in CLUTTER_KINDS if k != "reader_call")


def test_in_story_clutter_sits_between_the_story_paragraphs_in_their_markup(instory_site):
    site = instory_site
    repeat_pages, agencies, wordings, calls, promo_markups, in_further = 0, set(), set(), [], set(), 0
    for art in legacy(site):
        for p in site.clutter.plan(site, art).pieces:
            if p.kind == "repeat_line":
                assert p.slot in ("between", "story_between")
                if p.slot == "between":
                    repeat_pages += 1
                    agencies.add(art.agency)
                    assert 1 <= p.after < len(art.paragraphs())
                else:
                    in_further += 1
                wordings.add(p.needles)
            elif p.kind == "promo_line":
                promo_markups.add("small" if "<small>" in p.html else "link" if "<a " in p.html else "plain")
            elif p.kind in ("consent_line", "audio_label"):
                assert p.slot == "top" or (p.slot == "between" and p.after == 1)  # near the first paragraph
            elif p.kind == "reader_call":
                calls.append(p.needles)
            if p.kind in ("repeat_line", "consent_line", "audio_label", "reader_call"):  # the story's own markup
                assert "<small" not in p.html and "<a " not in p.html and 'class="' not in p.html
    n = len(legacy(site))
    assert 0.2 * n <= repeat_pages <= 0.45 * n and agencies == {"AFP", "SPX", "UPI", "Sputnik"}
    assert len(wordings) == 2 and in_further >= 3
    assert len(set(calls)) == len(calls) == 3  # each call to the reader on one page only
    assert promo_markups == {"plain", "small", "link"}


def test_story_lines_that_look_like_clutter_are_in_the_expected_bodies_and_on_the_pages(instory_site):
    from tests.sites.replica.instory import KEEP_KINDS

    site = instory_site
    renderer = Renderer(site)
    assert set(site.keep_texts) == set(KEEP_KINDS)
    closer_agencies: dict[str, set] = {}
    quote_runs: dict[str, list] = {}
    for art in legacy(site):
        body = art.expected()["body"].split("\n\n")
        text = page_text(site, renderer, art)
        for kind, texts in site.keep_texts.items():
            for t in texts & set(body):
                assert norm(t) in text
                if kind == "agency_closer":
                    closer_agencies.setdefault(t, set()).add(art.agency)
                if kind == "followup_quote":
                    quote_runs.setdefault(t, []).append((art.index, art.agency))
        for kind, needle in site.clutter.plan(site, art).needles():
            assert needle in text, (art.path, kind, needle)
    assert all(len(a) == 1 for a in closer_agencies.values())  # one agency's closing sentence
    for runs in quote_runs.values():  # a follow-up series: 3-4 articles of one agency (fewer at the archive's end)
        assert len(runs) <= 4 and len({agency for _, agency in runs}) == 1
    assert sum(len(runs) >= 3 for runs in quote_runs.values()) >= 2
    corrections = site.keep_texts["correction"]
    assert corrections and all(any(a.location in t for a in legacy(site)) for t in corrections)


def test_the_evaluation_reports_the_in_story_kinds_and_story_lines():
    seed, n = DEV_SEEDS[0], 40

    class InStoryOracle(Oracle):
        def __init__(self):
            self.items = {e["url"]: e for e in cq.site_for(seed, n, instory=True).expected_items()}

    good = cq.evaluate_seed(seed, n, factory=InStoryOracle, compare=False, instory=True)
    assert good["leaks"] == 0 and good["f1_mean"] == 1.0
    assert good["keeps_by_kind"] and all(k == t > 0 for k, t in good["keeps_by_kind"].values())
    assert good["pages_by_kind"]["repeat_line"][1] > 0
    bad = cq.evaluate_seed(seed, n, factory=Careless, compare=False, instory=True)
    assert bad["pages_by_kind"]["repeat_line"][0] == bad["pages_by_kind"]["repeat_line"][1] > 0
    assert "clutter: repeat_line" in cq.instory_table([bad])
