"""End to end: `scrapy crawl spacewar` on a cluttered replica it was never tuned on exports clean bodies, the further
stories apart, learns the site's boilerplate beside the WARC files, and a later run or a rebuild starts from it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.cleaning_quality import leaked
from tests.crawling import REPO, crawl
from tests.sites.replica.server import ReplicaServer

#: a clutter seed neither the development nor the held-out split holds: nobody looked at its pages
UNSEEN = 401
#: a clutter seed for the plain stress variant (every kind that may be a plain paragraph is one)
PLAIN = 402


def generated(site):
    """(expected item, (kind, clutter string) of its page) of every article rendered in the cluttered template."""
    expected = {e["url"]: e for e in site.expected_items()}
    return [(expected[a.url], site.clutter.plan(site, a).needles())
            for a in site.articles if a.layout == "legacy" and a.url in expected]


@pytest.fixture(scope="module")
def unseen(tmp_path_factory):
    with ReplicaServer(n_articles=80, faults=False, seed=7000 + UNSEEN, fixtures_dir=None, clutter_seed=UNSEEN,
                       multi_story=True) as server:
        result = crawl(tmp_path_factory.mktemp("unseen"), server.host_map())
        yield server.site, result


def test_an_unseen_cluttered_site_is_crawled_with_no_clutter_in_any_body_and_every_story_word_kept(unseen):
    site, result = unseen
    assert result.returncode == 0, result.log[-3000:]
    got = {item["url"]: item for item in result.items}
    pages = generated(site)
    assert len(pages) >= 75 and all(e["url"] in got for e, _ in pages)
    leaks = {e["url"]: leaked(got[e["url"]]["body"], e["body"], needles) for e, needles in pages}
    assert {u: dict(c) for u, c in leaks.items() if c} == {}
    assert [got[e["url"]]["body"] for e, _ in pages] == [e["body"] for e, _ in pages]
    # the repeated story paragraphs (an agency's closing sentence, a company's "about" line) are there
    repeats = [t for e, _ in pages for t in site.repeat_texts if t in e["body"].split("\n\n")]
    assert repeats and all(t in got[e["url"]]["body"] for e, _ in pages for t in site.repeat_texts
                           if t in e["body"].split("\n\n"))


def test_further_stories_are_exported_apart_exactly_and_their_rights_and_images_too(unseen):
    site, result = unseen
    got = {item["url"]: item for item in result.items}
    pages = generated(site)
    assert sum(len(e["related_stories"]) for e, _ in pages) >= 10
    for e, _ in pages:
        item = got[e["url"]]
        assert item["related_stories"] == e["related_stories"], e["url"]
        assert (item["rights"], item["images"]) == (e["rights"], e["images"]), e["url"]
    assert result.stats["cleaning/related_stories"] == sum(len(e["related_stories"]) for e, _ in pages)
    assert any(key.startswith("cleaning/removed/") for key in result.stats)


def test_scrapy_explain_names_the_reason_a_block_was_removed(unseen):
    site, result = unseen
    art = next(a for a in site.articles if a.layout == "legacy" and any(
        p.slot in ("top", "after_story", "end") and p.needles and p.kind not in ("rights", "network_block")
        for p in site.clutter.plan(site, a).pieces))
    piece = next(p for p in site.clutter.plan(site, art).pieces
                 if p.slot in ("top", "after_story", "end") and p.needles and p.kind not in ("rights", "network_block"))
    out = subprocess.run([sys.executable, "-m", "scrapy", "explain", art.url, "--warc", str(result.warc_dir)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"title: {art.title}" in out.stdout
    removed = out.stdout.split("\nremoved", 1)[1]
    assert any(n in removed for n in piece.needles), (piece.needles, removed)
    assert any(f"[{signal}]" in removed for signal in ("markup", "links", "position", "template", "credit",
                                                        "author-bio"))
    assert "learned template: spacewar.com" in out.stdout


def test_a_later_run_and_a_rebuild_start_from_what_the_first_crawl_learned(tmp_path):
    judged_on_arrival = {"CLEANING_LOOKAHEAD": "0"}  # so that only what was learned before can help
    warc = tmp_path / "warc"
    with ReplicaServer(n_articles=60, faults=False, seed=7000 + PLAIN, fixtures_dir=None, clutter_seed=PLAIN,
                       multi_story=True, plain_clutter=True) as server:
        pages = generated(server.site)
        first = crawl(tmp_path / "first", server.host_map(), settings={**judged_on_arrival, "WARC_DIR": str(warc)})
        second = crawl(tmp_path / "second", server.host_map(), settings={**judged_on_arrival, "WARC_DIR": str(warc)})
    learned = json.loads((warc / "boilerplate.json").read_text("utf-8"))["sites"]["spacewar.com"]
    assert learned["pages"] == len(first.items) + len(second.items) == 2 * (len(pages) + 1)  # + the redesign

    def leaks(result):
        got = {i["url"]: i for i in result.items}
        assert len(got) > 0.9 * len(pages)
        return {e["url"] for e, needles in pages if e["url"] in got and leaked(got[e["url"]]["body"], e["body"], needles)}

    assert first.returncode == second.returncode == 0
    # the first crawl met its site's plain template lines with nothing learned: its first pages keep some
    assert leaks(first)
    # the second started from the template the first saved: none
    assert leaks(second) == set()
    assert second.stats["cleaning/template/pages"] == learned["pages"]
    # a rebuild from the archive reads the template beside the WARC files, and leaves it as it was
    before = (warc / "boilerplate.json").read_bytes()
    rebuild = crawl(tmp_path / "rebuild", {}, args=["-a", f"from_warc={warc}"], settings=judged_on_arrival)
    assert rebuild.returncode == 0 and leaks(rebuild) == set()
    assert (warc / "boilerplate.json").read_bytes() == before
