"""End to end: `scrapy crawl network` on five sister sites that repost each other's wire stories links the copies.

The replica's network (tests/sites/replica/syndication.py) reposts a share of the wire stories on
one to three other sites, with a reworded headline, a cut last paragraph, a typo or an update line,
and puts look-alikes (same agency, place and day, other text) and next-day follow-ups (two of the
story's paragraphs repeated) beside them. Every copy must get its story's `story_group`, nothing else
may share it: in one crawl, across runs (STATE_PATH), across two workers (Redis), and in a rebuild.
"""

from __future__ import annotations

import collections
import itertools
import subprocess
import sys
import threading

import pytest

from tests.crawling import REPO, crawl, read_items
from tests.sites.replica.server import ReplicaServer

SISTERS = {"www.spacedaily.com": 40, "www.terradaily.com": 40, "www.energy-daily.com": 40, "www.marsdaily.com": 40}


def pairs(groups: dict[str, str]) -> set[frozenset]:
    by = collections.defaultdict(list)
    for url, group in groups.items():
        by[group].append(url)
    return {frozenset(p) for members in by.values() for p in itertools.combinations(sorted(members), 2)}


def scores(items: list[dict], expected: dict[str, str]) -> dict:
    got = {i["url"]: i["story_group"] for i in items}
    want = pairs({u: expected.get(u, u) for u in got})
    have = pairs(got)
    tp = len(want & have)
    precision = tp / len(have) if have else 1.0
    recall = tp / len(want) if want else 1.0
    return {"precision": precision, "recall": recall, "f1": 2 * precision * recall / ((precision + recall) or 1),
            "wrongly_merged": sorted(map(sorted, have - want))[:3], "missed": sorted(map(sorted, want - have))[:3]}


@pytest.fixture(scope="module")
def network():
    with ReplicaServer(n_articles=40, faults=False, seed=2700, sisters=SISTERS, syndication_seed=27) as server:
        yield server


@pytest.fixture(scope="module")
def network_crawl(network, tmp_path_factory):
    result = crawl(tmp_path_factory.mktemp("stories"), network.host_map(), spider="network", timeout=600)
    assert result.returncode == 0, result.log[-3000:]
    return result


def all_expected(network) -> list[dict]:
    return network.expected_items() + [i for www in SISTERS for i in network.sister_expected_items(www)]


def test_every_article_of_the_five_sites_once_with_exact_fields_and_its_story(network, network_crawl):
    items = network_crawl.items
    got = {i["url"]: i for i in items}
    assert len(got) == len(items)
    expected = all_expected(network)
    assert set(got) == {e["url"] for e in expected}
    mismatches = [(e["url"], k) for e in expected for k, v in e.items() if got[e["url"]].get(k) != v]
    assert not mismatches, mismatches[:5]
    s = scores(items, network.expected_story_groups())
    assert s["f1"] >= 0.98 and s["precision"] == 1.0, s
    copies = collections.Counter(i["story_group"] for i in items)
    assert max(copies.values()) >= 3  # stories on three sites or more were there to link
    assert network_crawl.stats.get("stories/joined", 0) == sum(n - 1 for n in copies.values())


def test_a_rebuild_from_the_archive_links_the_same_copies(network, network_crawl, tmp_path):
    out = tmp_path / "rebuilt.jsonl"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "reprocess", str(network_crawl.warc_dir), "-O", str(out),
                           "--processes", "2"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rebuilt = read_items(out)
    assert pairs({i["url"]: i["story_group"] for i in rebuilt}) == \
        pairs({i["url"]: i["story_group"] for i in network_crawl.items})


def test_copies_found_in_a_later_run_join_the_groups_kept_in_the_state(network, network_crawl, tmp_path):
    state = tmp_path / "state.sqlite"
    settings = {"STATE_PATH": str(state), "WARC_DIR": str(tmp_path / "warc")}
    first = crawl(tmp_path / "first", network.host_map(), spider="network", settings=settings,
                  args=["-a", "sites=spacewar,spacedaily"])
    second = crawl(tmp_path / "second", network.host_map(), spider="network", settings=settings)
    assert (first.returncode, second.returncode) == (0, 0), second.log[-3000:]
    earlier = {i["url"]: i["story_group"] for i in first.items}
    later = {i["url"]: i["story_group"] for i in second.items}
    assert later and not set(later) & set(earlier)  # the second run exports the other sites' articles only
    s = scores(first.items + second.items, network.expected_story_groups())
    assert s["f1"] >= 0.98 and s["precision"] == 1.0, s
    # a copy on a site crawled only in the second run carries the group its story got in the first run
    expected = network.expected_story_groups()
    joined = [u for u in later if any(expected.get(u) == expected.get(e) for e in earlier)]
    assert joined and all(later[u] in set(earlier.values()) for u in joined)


def test_two_workers_of_a_shared_crawl_link_copies_each_found(redis_url, redis, tmp_path):
    results = {}
    with ReplicaServer(n_articles=20, faults=False, seed=2701, sisters={"www.spacedaily.com": 20},
                       syndication_seed=11) as server:
        def worker(name):
            results[name] = crawl(tmp_path / name, server.host_map(), spider="network", timeout=300,
                                  args=["-a", "sites=spacewar,spacedaily"],
                                  settings={"REDIS_URL": redis_url, "WORKER_ID": name, "FRONTIER_IDLE_TIMEOUT": "10"})

        threads = [threading.Thread(target=worker, args=(name,)) for name in ("w1", "w2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expected = server.expected_story_groups()
    assert [r.returncode for r in results.values()] == [0, 0]
    items = [i for r in results.values() for i in r.items]
    s = scores(items, expected)
    assert s["f1"] == 1.0, s
    assert len(pairs({i["url"]: i["story_group"] for i in items})) >= 3
