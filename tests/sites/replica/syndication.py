"""Syndicated copies across the replica's network, with look-alikes and follow-ups, and the expected story groups.

The network's sites repost the same wire stories: `syndicate(sites, seed)` turns some articles of
the sites (ReplicaSite objects, keyed by www host) into copies of a story of another site, each with
the differences reposts have: a reworded headline, the last paragraph cut, a typo made, an
"Update:" line added, or none. It also makes the stories a grouping must keep apart:
- look-alikes: another dispatch of the same agency, from the same place, on the same day;
- follow-ups: a dispatch of the same agency and place on the next day that repeats two paragraphs
  of the story.
Copies keep their own URL, section and byline. It returns each article's story: a copy's is its
source's, every other article's is its own; `expected_groups()` turns that into the groups a
correct `story_group` gives. Only fault-free legacy articles with a /reports/ URL take part, so the
URL shapes, the faults and the fixture pages are as without syndication.
"""

from __future__ import annotations

import random
from datetime import timedelta

WIRE = ("AFP", "UPI", "SPX")
_UPDATES = (
    "Update: the ministry confirmed the figures in a written statement later in the day.",
    "Update: this report was amended with the latest figures released by the defence office.",
    "Update: officials gave a revised timetable after this story was first published.",
)


def _eligible(site) -> list:
    raw = getattr(site, "raw_pages", {})
    return [a for a in site.articles
            if a.layout == "legacy" and a.fault is None and a.path.startswith("/reports/") and a.path not in raw]


def _reworded(title: str, rng: random.Random) -> str:
    return rng.choice((f"{title}: report", f"Officials say {title[0].lower()}{title[1:]}", f"{title} - sources"))


def _typo(paragraph: str, rng: random.Random) -> tuple[str, str] | None:
    words = [w for w in paragraph.split() if w.isalpha() and len(w) >= 6]
    if not words:
        return None
    word = rng.choice(words)
    k = rng.randrange(1, len(word) - 2)
    return word, word[:k] + word[k + 1] + word[k] + word[k + 2:]


def _same_day(when, rng: random.Random):
    later = when + timedelta(minutes=rng.randint(5, 180))
    return later if later.date() == when.date() else when - timedelta(minutes=rng.randint(5, 60))


def syndicate(sites: dict, seed: int, share: float = 0.15) -> dict[tuple[str, str], tuple[str, str]]:
    """Make copies, look-alikes and follow-ups in `sites` ({www host: ReplicaSite}); returns
    {(host, path): (host, path) of its story's source} for every article of the sites."""
    rng = random.Random(f"syndication:{seed}")
    hosts = sorted(sites)
    pool = {h: [a for a in _eligible(sites[h]) if a.agency in WIRE] for h in hosts}
    for h in hosts:
        rng.shuffle(pool[h])
    story = {(h, a.path): (h, a.path) for h in hosts for a in sites[h].articles}
    used: set[tuple[str, str]] = set()

    def take(host, agency):
        for a in pool[host]:
            if (host, a.path) not in used and a.agency == agency:
                used.add((host, a.path))
                return a
        return None

    n_sources = max(2, int(share * sum(len(v) for v in pool.values())))
    sources = [(h, a) for h in hosts for a in pool[h]]
    rng.shuffle(sources)
    made = 0
    for host, src in sources:
        if made >= n_sources:
            break
        if (host, src.path) in used:
            continue
        used.add((host, src.path))
        others = [h for h in hosts if h != host]
        rng.shuffle(others)
        copies = 0
        for other in others[: rng.choice((1, 1, 2, 3))]:
            dst = take(other, src.agency)
            if dst is None:
                continue
            dst.seed, dst.charset, dst.n_images = src.seed, src.charset, src.n_images
            dst.location, dst.dateline_style = src.location, src.dateline_style
            dst.when = _same_day(src.when, rng)
            dst.title = _reworded(src.title, rng) if rng.random() < 0.6 else src.title
            kind = rng.choice(("cut", "typo", "update", "cut+update", "none"))
            dst.cut_last = "cut" in kind
            if "typo" in kind:
                typo = _typo(src.paragraphs()[0], rng)
                dst.rewrites = (typo,) if typo else ()
            if "update" in kind:
                dst.edits = [rng.choice(_UPDATES)]
            story[(other, dst.path)] = (host, src.path)
            copies += 1
        if not copies:
            continue
        made += 1
        # a look-alike (same agency, place and day, other text) and a next-day follow-up for some stories
        if rng.random() < 0.5:
            look = take(rng.choice(hosts), src.agency)
            if look is not None:
                look.location, look.when = src.location, _same_day(src.when, rng)
        if rng.random() < 0.5:
            follow = take(rng.choice(hosts), src.agency)
            if follow is not None:
                follow.location = src.location
                follow.when = src.when + timedelta(days=1, minutes=rng.randint(0, 300))
                repeated = rng.sample(src.paragraphs()[:4], 2)
                follow.inserts = ((1, repeated[0]), (3, repeated[1]))
    for site in sites.values():
        site.version += 1
    return story


def expected_groups(story: dict[tuple[str, str], tuple[str, str]]) -> dict[str, str]:
    """{article URL: its story's key} for a `syndicate` result (https://HOST/PATH)."""
    return {f"https://{h}{p}": f"https://{sh}{sp}" for (h, p), (sh, sp) in story.items()}
