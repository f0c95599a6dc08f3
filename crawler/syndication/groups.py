"""Which story an article belongs to: the rule that links syndicated copies, and the grouper that applies it.

A new article joins the group of the earlier article it is a copy of, else founds a group of its own,
whose id ("sg-" and 16 hex digits of the SHA-1 of the founding article's canonical URL) never changes:
an article found later, by another worker or another run, joins the existing group. An article seen
again (a correction, a later run) keeps its group.

Two articles are copies of one story when (all of):
- their agencies agree (or one is unknown) - a guard, never the rule;
- they were published at most MAX_DAYS apart;
- their bodies' word shingles (sketch.py) have a Jaccard resemblance of at least MIN_JACCARD, and one
  side adds at most MAX_NOVELTY of its text (MAX_NOVELTY_OTHER_DAY when published on different days:
  a next-day follow-up that repeats paragraphs of the story adds text of its own, a next-day
  repost does not).
The numbers were set on the replica's network (tests/sites/replica/syndication.py) and are measured
in bench/story_groups.py.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections import Counter
from dataclasses import dataclass
from datetime import date

from crawler.syndication.sketch import SKETCH_SIZE, bottom_k, overlap, pack, shingles, unpack

MIN_JACCARD = 0.3
MAX_NOVELTY = 0.35
MAX_NOVELTY_OTHER_DAY = 0.15
MAX_DAYS = 2
#: a posting list this long is a common shingle (a stock phrase, boilerplate): it makes no candidates, and the
#: stores stop growing it
COMMON = 16
#: candidates compared exactly per new article: those sharing at least MIN_SHARED of the article's informative
#: sketch hashes (those not common: COMMON), most shared first. A copy shares about 2J/(1+J) of
#: them (0.46 at the lowest Jaccard a copy may have); unrelated texts share few rare shingles.
CANDIDATES = 10
MIN_SHARED = 0.25


@dataclass
class Member:
    """One article as the store keeps it."""

    url: str
    group: str
    agency: str | None
    published: str | None  # YYYY-MM-DD
    shingles: bytes  # sketch.pack() of the body's shingle set


@dataclass
class Sketched:
    """An article body as the grouper compares it: its shingle hashes and their bottom-k sketch (sketch.py)."""

    hashes: frozenset[int] | None  # None: only `packed` (unpacked when a candidate needs comparing)
    sketch: list[int]
    packed: bytes | None = None  # sketch.pack(hashes), when it came packed


def sketch_of(body: str | None) -> tuple[bytes, list[int]]:
    """A body's shingles, packed (sketch.pack), and its sketch: what a worker process hands to `group_lines`, so
    the serial pass that groups a run's articles does not compute them."""
    ordered = sorted(shingles(body))  # pack's order; its first SKETCH_SIZE are bottom_k's sketch
    return array("I", ordered).tobytes(), ordered[:SKETCH_SIZE]


def group_id(url: str) -> str:
    return "sg-" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


def _days_apart(a: str | None, b: str | None) -> int | None:
    try:
        return abs((date.fromisoformat(a) - date.fromisoformat(b)).days) if a and b else None
    except ValueError:
        return None


def same_story(agency: str | None, published: str | None, body: frozenset[int], other: Member,
               other_body: frozenset[int]) -> float | None:
    """The Jaccard resemblance when the two are copies of one story (module docstring), else None."""
    if agency and other.agency and agency != other.agency:
        return None
    days = _days_apart(published, other.published)
    if days is not None and days > MAX_DAYS:
        return None
    ov = overlap(body, other_body)
    limit = MAX_NOVELTY_OTHER_DAY if days else MAX_NOVELTY
    return ov.jaccard if ov.jaccard >= MIN_JACCARD and ov.novelty <= limit else None


class StoryGrouper:
    """Gives each article its story group, against a store of the articles seen before (stores.py)."""

    def __init__(self, store):
        self.store = store

    def assign(self, url: str, body: str | None, agency: str | None = None, published: str | None = None,
               group: str | None = None) -> str:
        """The article's story group; the article is remembered, so later copies can join it. `group`: the
        group the article already has (an item that carries one), kept as it is."""
        hashes = shingles(body)
        return self.assign_sketched(url, Sketched(hashes, bottom_k(hashes)), agency, published, group)

    def assign_sketched(self, url: str, body: "Sketched", agency: str | None = None, published: str | None = None,
                        group: str | None = None) -> str:
        """`assign` for a body whose shingles and sketch were computed already (`sketch_of`, in a worker process)."""
        with self.store.locked():
            return self._assign(url, body.hashes, body.sketch, agency, published, group, body.packed)

    def _assign(self, url, hashes, sketch, agency, published, given, packed=None) -> str:
        lists = self.store.postings(sketch)
        common = frozenset(h for h, urls in zip(sketch, lists) if urls is None or len(urls) >= COMMON)
        known = self.store.member(url)
        if given:
            group = given
        elif known is not None:
            group = known.group
        else:
            group, best = group_id(url), 0.0
            if sketch:  # the body has shingles (a set's sketch is empty only when the set is)
                for other in self.store.members(_ranked(lists, url)):
                    if hashes is None:  # came packed: unpacked for the first candidate only
                        hashes = unpack(packed)
                    j = same_story(agency, published, hashes, other, unpack(other.shingles))
                    if j is not None and j > best:
                        group, best = other.group, j
        if packed is None:
            packed = pack(hashes)
        self.store.add(Member(url, group, agency, published, packed), sketch, common)
        return group


def _ranked(lists, exclude: str) -> list[str]:
    informative = [urls for urls in lists if urls is not None and len(urls) < COMMON]
    counts = Counter(url for urls in informative for url in urls)
    counts.pop(exclude, None)
    least = max(2, math.ceil(MIN_SHARED * len(informative)))
    ranked = sorted(((n, url) for url, n in counts.items() if n >= least), key=lambda nu: (-nu[0], nu[1]))
    return [url for _, url in ranked[:CANDIDATES]]


def assign_groups(items: list[dict], store=None) -> None:
    """Set `story_group` on each item (dicts) that has none, against the items that have one (kept as they
    are). Items are taken in capture order (fetched_at, then URL), so that the groups do not depend on the
    order the items come in; the first capture of a story founds its group. An in-memory store unless
    one is given."""
    from crawler.syndication.stores import MemoryStore

    grouper = StoryGrouper(store if store is not None else MemoryStore())
    ordered = sorted(items, key=lambda i: (not i.get("story_group"), i.get("fetched_at") or "", i.get("url") or ""))
    for item in ordered:
        item["story_group"] = grouper.assign(item["url"], item.get("body"), item.get("agency"),
                                             item.get("published"), item.get("story_group"))


def group_jsonl(path, start: int = 0) -> int:
    """`assign_groups` over the item lines of a JSON Lines file from byte offset `start` on (what one run wrote;
    the bytes before it are left as they are), rewritten beside the file, then renamed over it; lines keep
    their order. Returns the number of stories among those lines."""
    import json
    import os

    with open(path, "rb") as fh:
        fh.seek(start)
        items = [json.loads(line) for line in fh if line.strip()]
    assign_groups(items)
    tmp = f"{path}.grouping"
    with open(path, "rb") as src, open(tmp, "wb") as out:
        if start:
            _copy_prefix(src, out, start)
        for item in items:
            out.write((json.dumps(item, ensure_ascii=False) + "\n").encode("utf-8"))
    os.replace(tmp, path)
    return len({i["story_group"] for i in items})


@dataclass
class Story:
    """What `group_lines` needs of one item line: the fields the rule reads, the capture order's keys, and the body's
    packed shingles and sketch (`sketch_of`)."""

    url: str
    agency: str | None
    published: str | None
    fetched_at: str | None
    packed: bytes
    sketch: list[int]


#: what an exported item's line holds before its story group is set: the field, null (as json.dumps writes it).
#: Fields may follow it (captured_at, source: crawler/items.py EXPORT_FIELDS)
UNGROUPED = b', "story_group": null'
UNGROUPED_TEXT = UNGROUPED.decode()


def null_group_at(line) -> int:
    """Where the `null` of an item line's (str or bytes, as json.dumps wrote it) ungrouped story_group is, or -1.
    A raw `"` of a JSON text only opens or closes a string (one inside a string is escaped), so `UNGROUPED`
    followed by `,` or `}` is the key story_group of an object with the value null: the item's (the schema has
    no story_group elsewhere); the last one is taken."""
    marker = UNGROUPED if isinstance(line, bytes) else UNGROUPED_TEXT
    at = line.rfind(marker)
    if at < 0:
        return -1
    end = at + len(marker)
    return end - 4 if line[end:end + 1] in ((b",", b"}") if isinstance(line, bytes) else (",", "}")) else -1


def group_lines(path, start: int, stories: list[Story]) -> int | None:
    """`group_jsonl` for lines whose stories were sketched by the processes that wrote them: the item lines of the
    JSON Lines file from byte offset `start` on, one per entry of `stories` (in the same order), each holding
    `UNGROUPED` (`null_group_at`). The null becomes the group's id, as json.dumps writes it, without the lines
    being parsed or encoded again; the groups are assigned in capture order as `assign_groups` does. Returns the
    number of stories among those lines, or None (the file left as it was) when its lines do not match `stories`."""
    import json
    import os

    from crawler.syndication.stores import MemoryStore

    grouper = StoryGrouper(MemoryStore())
    groups: list[str] = [""] * len(stories)
    for i in sorted(range(len(stories)), key=lambda i: (stories[i].fetched_at or "", stories[i].url or "")):
        st = stories[i]
        groups[i] = grouper.assign_sketched(st.url, Sketched(None, st.sketch, st.packed), st.agency, st.published)
    tmp = f"{path}.grouping"
    with open(path, "rb") as src, open(tmp, "wb") as out:
        if start:
            _copy_prefix(src, out, start)
        src.seek(start)
        n = 0
        for line in src:
            line = line.rstrip(b"\n")
            if not line.strip():
                continue
            at = null_group_at(line) if n < len(stories) else -1
            if at < 0:
                n = -1
                break
            out.write(line[:at] + json.dumps(groups[n]).encode() + line[at + 4:] + b"\n")
            n += 1
    if n != len(stories):
        os.unlink(tmp)
        return None
    os.replace(tmp, path)
    return len(set(groups))


def _copy_prefix(src, out, size: int, block: int = 1 << 20) -> None:
    while size > 0:
        data = src.read(min(block, size))
        if not data:
            break
        out.write(data)
        size -= len(data)
