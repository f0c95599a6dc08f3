"""Story groups: how well syndicated copies are linked on the replica's network, and what the grouping costs.

Quality: for each seed, a network of five sites (tests/sites/replica/syndication.py: reposts with a
reworded headline, a cut last paragraph, a typo or an update line; look-alikes and next-day
follow-ups beside them) is grouped from its expected items (the extraction is exact on the
replica, so this isolates the grouping), in capture order; pairwise precision, recall and F1 against
the replica's stories, the look-alikes and follow-ups merged, and the margins: the lowest Jaccard
resemblance and the highest novelty among copies, the closest pair that is not a copy.
Cost: one `scrapy crawl network` of such a network; the story-group stage's CPU (its stat
stories/cpu_seconds) against the crawl process's whole CPU, per page, with the groups in memory and in
SQLite beside STATE_PATH.

    python -m bench.story_groups --seeds 101-120 --articles 40 --crawl-articles 100
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import resource
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench import REPO, machine_info
from crawler.syndication.groups import MAX_DAYS, assign_groups
from crawler.syndication.sketch import overlap, shingles
from tests.crawling import FAST, crawl_command
from tests.sites.replica.server import ReplicaServer

SISTER_HOSTS = ("www.spacedaily.com", "www.terradaily.com", "www.energy-daily.com", "www.marsdaily.com")


def network(seed: int, articles: int) -> ReplicaServer:
    return ReplicaServer(n_articles=articles, faults=False, seed=9000 + seed,
                         sisters={h: articles for h in SISTER_HOSTS}, syndication_seed=seed)


def _pairs(groups: dict[str, str]) -> set[frozenset]:
    by = collections.defaultdict(list)
    for url, group in groups.items():
        by[group].append(url)
    return {frozenset(p) for members in by.values() for p in itertools.combinations(sorted(members), 2)}


def quality(seeds: list[int], articles: int) -> dict:
    tp = fp = fn = 0
    copies, others = [], []
    stories = multi = 0
    for seed in seeds:
        srv = network(seed, articles)
        items = [dict(i) for i in srv.expected_items()]
        for host in SISTER_HOSTS:
            items += [dict(i) for i in srv.sister_expected_items(host)]
        for k, item in enumerate(items):  # capture order: the order the sites list them in
            item["fetched_at"] = f"2026-12-01T00:00:00.{k:06d}Z"
        expected = srv.expected_story_groups()
        want_groups = {i["url"]: expected.get(i["url"], i["url"]) for i in items}
        assign_groups(items)
        want, have = _pairs(want_groups), _pairs({i["url"]: i["story_group"] for i in items})
        tp, fp, fn = tp + len(want & have), fp + len(have - want), fn + len(want - have)
        sizes = collections.Counter(want_groups.values())
        stories += len(sizes)
        multi += sum(1 for n in sizes.values() if n > 1)
        sets = {i["url"]: shingles(i["body"]) for i in items}
        for a, b in itertools.combinations(items, 2):
            if a.get("agency") != b.get("agency"):
                continue
            days = abs((date.fromisoformat(a["published"]) - date.fromisoformat(b["published"])).days)
            if days > MAX_DAYS:
                continue
            ov = overlap(sets[a["url"]], sets[b["url"]])
            (copies if want_groups[a["url"]] == want_groups[b["url"]] else others).append(
                (round(ov.jaccard, 3), round(ov.novelty, 3), days))
    precision, recall = tp / ((tp + fp) or 1), tp / ((tp + fn) or 1)
    return {"seeds": f"{seeds[0]}-{seeds[-1]}", "networks": len(seeds), "articles_per_site": articles,
            "stories": stories, "stories_on_several_sites": multi, "copy_pairs": tp + fn,
            "precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / ((precision + recall) or 1), 4), "wrongly_linked_pairs": fp,
            "missed_pairs": fn,
            "copies_lowest_jaccard": min(c[0] for c in copies), "copies_highest_novelty": max(c[1] for c in copies),
            "not_copies_same_day_highest_jaccard": max((o[0] for o in others if o[2] == 0), default=None),
            "not_copies_other_day_lowest_novelty": min((o[1] for o in others if o[2] > 0), default=None)}


def cost(articles: int, state: bool) -> dict:
    """One crawl of the network; `state`: with STATE_PATH (the groups in SQLite), else in memory."""
    with network(1, articles) as srv, tempfile.TemporaryDirectory(prefix="bench-stories-") as tmp:
        out = Path(tmp)
        settings = dict(FAST, **({"STATE_PATH": str(out / "state.sqlite")} if state else {}))
        cmd = crawl_command(out, srv, items=out / "items.jsonl", spider="network", settings=settings)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, timeout=3600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            sys.exit(f"the crawl failed (exit {proc.returncode}): {proc.stdout[-2000:]!r}")
        stats = json.loads((out / "stats.json").read_text())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    pages = stats.get("warc/pages_archived", 0)
    grouping = stats.get("stories/cpu_seconds", 0.0)
    return {"store": "SQLite (STATE_PATH)" if state else "memory", "sites": 5, "articles_per_site": articles,
            "pages_archived": pages,
            "articles": stats.get("articles/exported", 0), "crawl_cpu_s": round(cpu, 2),
            "crawl_cpu_ms_per_page": round(1000 * cpu / pages, 2) if pages else None,
            "grouping_cpu_s": round(grouping, 3),
            "grouping_ms_per_article": round(1000 * grouping / max(1, stats.get("articles/exported", 0)), 3),
            "grouping_share_of_crawl_cpu": round(grouping / cpu, 4) if cpu else None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="101-120", help="networks to group, e.g. 101-120 (held out from tests)")
    parser.add_argument("--articles", type=int, default=40, help="articles per site for the quality networks")
    parser.add_argument("--crawl-articles", type=int, default=100, help="articles per site for the crawl (0: none)")
    args = parser.parse_args(argv)
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    result = {"machine": machine_info(), "quality": quality(seeds, args.articles)}
    if args.crawl_articles:
        result["cost"] = [cost(args.crawl_articles, state) for state in (False, True)]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
