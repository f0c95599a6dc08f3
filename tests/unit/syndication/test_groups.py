"""Story groups (crawler/syndication/): which articles are copies of one story, and groups that stay put."""

from __future__ import annotations

import random

import pytest

from crawler.syndication.groups import StoryGrouper, assign_groups, group_id, group_jsonl
from crawler.syndication.stores import MemoryStore, SqliteStore
from tests.sites.replica.content import ReplicaSite


@pytest.fixture(scope="module")
def stories():
    """Wire stories of the replica's generator (no server): lists of paragraphs, with their agency and date."""
    site = ReplicaSite(60, faults=False, seed=4242, fixtures_dir=None)
    return [a for a in site.articles if a.layout == "legacy" and len(a.paragraphs()) >= 5]


def body(paragraphs) -> str:
    return "\n\n".join(paragraphs)


def group_of(grouper, url, paragraphs, agency="AFP", published="2026-11-20"):
    return grouper.assign(url, body(paragraphs), agency, published)


@pytest.mark.parametrize("change", ["reworded headline only", "last paragraph cut", "typo fixed", "update line",
                                    "cut and update"])
def test_a_repost_with_the_usual_differences_joins_the_story(stories, change):
    grouper = StoryGrouper(MemoryStore())
    for k, art in enumerate(stories[:12]):
        paras = art.paragraphs()
        first = group_of(grouper, f"https://www.spacewar.com/reports/a{k}.html", paras)
        copy = list(paras)
        if "cut" in change:
            copy.pop()
        if change == "typo fixed":
            word = max(copy[0].split(), key=len)
            copy[0] = copy[0].replace(word, word[:2] + word[3] + word[2] + word[4:], 1)
        if "update" in change:
            copy.append("Update: the ministry released revised figures on Wednesday evening.")
        assert group_of(grouper, f"https://www.spacedaily.com/reports/b{k}.html", copy) == first


def test_look_alikes_follow_ups_and_other_agencies_stay_apart(stories):
    grouper = StoryGrouper(MemoryStore())
    groups = set()
    for k, art in enumerate(stories[:10]):
        paras = art.paragraphs()
        groups.add(group_of(grouper, f"https://www.spacewar.com/reports/s{k}.html", paras))
        # the same place, agency and day, another dispatch (another article's text)
        other = stories[(k + 11) % len(stories)].paragraphs()
        groups.add(group_of(grouper, f"https://www.terradaily.com/reports/l{k}.html", other[:5]))
        # next day's follow-up: new paragraphs, two of the story's repeated
        follow = stories[(k + 23) % len(stories)].paragraphs()[:3]
        follow[1:1] = paras[1:3]
        groups.add(group_of(grouper, f"https://www.spacedaily.com/reports/f{k}.html", follow, published="2026-11-21"))
        # the same text under another agency's dateline is not taken for a copy (agency is a guard)
        groups.add(group_of(grouper, f"https://www.marsdaily.com/reports/u{k}.html", paras, agency="UPI"))
    assert len(groups) == 40


def test_a_copy_weeks_later_is_another_story(stories):
    grouper = StoryGrouper(MemoryStore())
    paras = stories[0].paragraphs()
    a = group_of(grouper, "https://www.spacewar.com/reports/a.html", paras, published="2026-11-01")
    assert group_of(grouper, "https://www.spacedaily.com/reports/a.html", paras, published="2026-11-02") == a
    assert group_of(grouper, "https://www.marsdaily.com/reports/a.html", paras, published="2026-11-20") != a


def test_groups_do_not_depend_on_the_order_items_come_in(stories):
    items = []
    for k, art in enumerate(stories[:15]):
        for site in ("spacewar", "spacedaily", "terradaily")[: 1 + k % 3]:
            paras = art.paragraphs()[: -1 if site == "terradaily" else None]
            items.append({"url": f"https://www.{site}.com/reports/{k}.html", "body": body(paras), "agency": "SPX",
                          "published": "2026-11-20", "fetched_at": f"2026-11-20T10:{k:02d}:{len(site):02d}Z"})
    runs = []
    for seed in range(3):
        batch = [dict(i) for i in items]
        random.Random(seed).shuffle(batch)
        assign_groups(batch)
        runs.append({i["url"]: i["story_group"] for i in batch})
    assert runs[0] == runs[1] == runs[2]
    # the first capture of each story founds its group: the spacewar copy, captured first
    assert runs[0]["https://www.spacedaily.com/reports/1.html"] == group_id("https://www.spacewar.com/reports/1.html")
    assert len(set(runs[0].values())) == 15


def test_a_copy_found_in_a_later_run_joins_the_group_kept_in_the_state(stories, tmp_path):
    state = tmp_path / "state.sqlite"
    paras = stories[3].paragraphs()
    store = SqliteStore(state)
    first = group_of(StoryGrouper(store), "https://www.spacewar.com/reports/x.html", paras)
    store.close()
    store = SqliteStore(state)  # the next run
    grouper = StoryGrouper(store)
    assert group_of(grouper, "https://www.energy-daily.com/reports/x.html", paras[:-1]) == first
    # a corrected article keeps its group, whatever its text became
    assert group_of(grouper, "https://www.spacewar.com/reports/x.html", ["Withdrawn."]) == first
    store.close()


def test_an_item_that_carries_a_group_keeps_it_and_copies_join_it(stories, tmp_path):
    paras = stories[5].paragraphs()
    items = [{"url": "https://www.spacewar.com/reports/old.html", "body": body(paras), "agency": "AFP",
              "published": "2026-11-20", "fetched_at": "2026-11-21T00:00:00Z", "story_group": "sg-0123456789abcdef"},
             {"url": "https://www.spacedaily.com/reports/new.html", "body": body(paras), "agency": "AFP",
              "published": "2026-11-20", "fetched_at": "2026-11-20T00:00:00Z", "story_group": None}]
    path = tmp_path / "items.jsonl"
    import json

    path.write_text("".join(json.dumps(i) + "\n" for i in items))
    assert group_jsonl(path) == 1
    got = [json.loads(line) for line in path.read_text().splitlines()]
    assert [i["url"] for i in got] == [i["url"] for i in items]  # the lines keep their order
    assert {i["story_group"] for i in got} == {"sg-0123456789abcdef"}


def test_lines_grouped_from_the_workers_sketches_are_the_bytes_of_a_parse_and_rewrite(stories, tmp_path):
    """reprocess's grouping (group_lines: sketches made by the workers, the group spliced into each exported item's
    line, in the fields' export order: story_group null, then the fields after it) writes what group_jsonl writes
    by parsing every line, after a prefix it leaves alone, and refuses lines that do not match its stories."""
    import json

    from crawler.items import EXPORT_FIELDS
    from crawler.syndication.groups import Story, group_lines, sketch_of

    assert EXPORT_FIELDS.index("story_group") < len(EXPORT_FIELDS) - 1  # fields follow it, as items are exported
    items = []
    for k, art in enumerate(stories[:8]):
        for site, day in (("spacewar", "21"), ("spacedaily", "20")):  # the copy captured first founds the group
            items.append({"url": f"https://www.{site}.com/reports/s{k}_\u00e9t\u00e9.html", "title": f"T\u00e9 {k}",
                          "body": body(art.paragraphs()), "agency": "AFP", "published": "2026-11-20",
                          "fetched_at": f"2026-11-{day}T00:00:0{k}Z", "story_group": None})
    items.append({"url": "https://www.spacewar.com/reports/empty.html", "body": "", "agency": None,
                  "published": None, "fetched_at": None, "story_group": None})
    items[0]["title"] = 'Quoted: , "story_group": null}'  # the marker inside a string is escaped: not the field
    for item in items:  # as exported: the fields after story_group too
        item.update({"captured_at": item["fetched_at"], "source": "live"})
    items = [{name: item[name] for name in EXPORT_FIELDS if name in item} for item in items]
    prefix = '{"url": "https://www.spacewar.com/reports/earlier.html"}\n'
    text = prefix + "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items)
    parsed, spliced = tmp_path / "parsed.jsonl", tmp_path / "spliced.jsonl"
    parsed.write_text(text, "utf-8")
    spliced.write_text(text, "utf-8")
    start = len(prefix.encode())
    sketches = [Story(i["url"], i["agency"], i["published"], i["fetched_at"], *sketch_of(i["body"])) for i in items]

    assert group_lines(spliced, start, sketches) == group_jsonl(parsed, start) == 9
    assert spliced.read_bytes() == parsed.read_bytes()
    assert spliced.read_text("utf-8").startswith(prefix)
    assert group_lines(spliced, start, sketches[:-1]) is None  # a line more than stories: left as it was
    assert spliced.read_bytes() == parsed.read_bytes()


def test_the_null_story_group_is_found_only_as_the_field():
    """null_group_at finds the item's story_group: null, with fields after it or not, never the same characters inside
    a string, nor a group already set."""
    import json

    from crawler.syndication.groups import null_group_at

    for item in ({"url": "u", "story_group": None}, {"url": "u", "story_group": None, "source": "live"},
                 {"title": 'a, "story_group": null}', "story_group": None, "captured_at": "x"}):
        line = json.dumps(item, ensure_ascii=False)
        at = null_group_at(line)
        assert json.loads(line[:at] + '"sg-1"' + line[at + 4:])["story_group"] == "sg-1"
        assert null_group_at(line.encode()) == at  # the same place in the bytes (ASCII before it here)
    for item in ({"url": "u"}, {"url": "u", "story_group": "sg-2"}, {"title": 'a, "story_group": null}'},
                 {"story_group": "x", "body": ', "story_group": null, '}):
        assert null_group_at(json.dumps(item)) == -1
