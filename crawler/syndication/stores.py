"""Where the story groups live: in memory (one run), SQLite (beside the incremental state), or Redis (workers).

Each store keeps, per article URL, its Member (group, agency, date, shingle set) and an inverted index
from sketch hash to URLs, so that the candidates of a new article are found by a few look-ups, whatever
the archive's size. The three stores give the same answers; only persistence and sharing differ:
- MemoryStore: the run's own articles (no STATE_PATH);
- SqliteStore: tables in a file beside STATE_PATH's (or in JOBDIR), committed every second (or every 200
  articles) and on close (WAL, synchronous=NORMAL: a commit survives kill -9 of the crawl); a kill -9
  forgets at most the last second's articles: a copy of one of them found later founds a group of
  its own, nothing is lost from the dataset;
- RedisStore: two hashes under a prefix, shared by the workers of a distributed crawl; `locked()` makes a
  worker's look-up-and-add atomic with respect to the others. Without STATE_PATH they last as long as the
  shared frontier: the last worker out deletes them with it (pipelines/storygroup.py).
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

from crawler.syndication.groups import COMMON, Member


class MemoryStore:
    def __init__(self):
        self._members: dict[str, Member] = {}
        self._postings: dict[int, set[str]] = {}

    def member(self, url: str) -> Member | None:
        return self._members.get(url)

    def postings(self, sketch: list[int]) -> list[list[str] | None]:
        empty = ()
        return [self._postings.get(h, empty) for h in sketch]

    def members(self, urls: list[str]) -> list[Member]:
        return [self._members[u] for u in urls if u in self._members]

    def add(self, member: Member, sketch: list[int], common: frozenset[int] = frozenset()) -> None:
        self._members[member.url] = member
        for h in sketch:
            urls = self._postings.setdefault(h, [])
            if len(urls) < COMMON and member.url not in urls:
                urls.append(member.url)

    def locked(self):
        return nullcontext()

    def close(self) -> None:
        pass


class SqliteStore:
    def __init__(self, path: Path | str, batch: int = 200, every: float = 1.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS story_members (url TEXT PRIMARY KEY, grp TEXT NOT NULL,"
                        " agency TEXT, published TEXT, shingles BLOB NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS story_postings (h INTEGER NOT NULL, url TEXT NOT NULL,"
                        " PRIMARY KEY (h, url)) WITHOUT ROWID")
        self.db.commit()
        self.batch, self.every = batch, every
        self._pending, self._committed = 0, time.monotonic()

    def member(self, url: str) -> Member | None:
        row = self.db.execute("SELECT url, grp, agency, published, shingles FROM story_members WHERE url = ?",
                              (url,)).fetchone()
        return Member(*row) if row else None

    def postings(self, sketch: list[int]) -> list[list[str] | None]:
        if not sketch:
            return []
        marks = ",".join("?" * len(sketch))
        found: dict[int, list[str]] = {}
        for h, url in self.db.execute(f"SELECT h, url FROM story_postings WHERE h IN ({marks})", sketch):
            found.setdefault(h, []).append(url)
        return [found.get(h, []) for h in sketch]

    def members(self, urls: list[str]) -> list[Member]:
        return [m for m in (self.member(u) for u in urls) if m is not None]

    def add(self, member: Member, sketch: list[int], common: frozenset[int] = frozenset()) -> None:
        self.db.execute("INSERT OR REPLACE INTO story_members VALUES (?, ?, ?, ?, ?)",
                        (member.url, member.group, member.agency, member.published, member.shingles))
        # a common shingle's list stops growing (COMMON): the grouper passes the ones it has just seen
        self.db.executemany("INSERT OR IGNORE INTO story_postings VALUES (?, ?)",
                            [(h, member.url) for h in sketch if h not in common])
        self._pending += 1
        if self._pending >= self.batch or time.monotonic() - self._committed >= self.every:
            self.db.commit()
            self._pending, self._committed = 0, time.monotonic()

    def locked(self):
        return nullcontext()

    def commit(self) -> None:
        self.db.commit()
        self._pending, self._committed = 0, time.monotonic()

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.db.close()


class RedisStore:
    """Two hashes: members (`PREFIX:members`, URL -> group, agency, date and shingles) and posting lists
    (`PREFIX:postings`, sketch hash -> the URLs, space-separated). Lists are read and extended under the
    store's lock (`locked()`), which the grouper holds for each article's look-up and add."""

    def __init__(self, client, prefix: str):
        self.r = client
        self.prefix = prefix
        self._members_key = f"{prefix}:members"
        self._postings_key = f"{prefix}:postings"
        self._lists: dict[int, list[str]] = {}  # the lists read by the last postings() call

    def clear(self) -> None:
        """Delete every key the store wrote (the lock deletes itself)."""
        self.r.delete(self._members_key, self._postings_key)

    def _decode(self, url: str, raw) -> Member | None:
        if raw is None:
            return None
        head, _, shingles = raw.partition(b"\n")
        group, agency, published = json.loads(head)
        return Member(url, group, agency, published, shingles)

    def member(self, url: str) -> Member | None:
        return self._decode(url, self.r.hget(self._members_key, url))

    def postings(self, sketch: list[int]) -> list[list[str] | None]:
        raw = self.r.hmget(self._postings_key, sketch) if sketch else []
        lists = [value.decode().split(" ") if value else [] for value in raw]
        self._lists = dict(zip(sketch, lists))
        return lists

    def members(self, urls: list[str]) -> list[Member]:
        if not urls:
            return []
        return [m for m in (self._decode(u, raw) for u, raw in zip(urls, self.r.hmget(self._members_key, urls)))
                if m is not None]

    def add(self, member: Member, sketch: list[int], common: frozenset[int] = frozenset()) -> None:
        head = json.dumps([member.group, member.agency, member.published]).encode()
        grown = {}
        for h in sketch:
            urls = self._lists.get(h)
            if urls is None:  # not read by postings() just before: read it now
                value = self.r.hget(self._postings_key, h)
                urls = value.decode().split(" ") if value else []
            if h not in common and member.url not in urls:
                grown[h] = " ".join(urls + [member.url])
        pipe = self.r.pipeline(transaction=True)
        pipe.hset(self._members_key, member.url, head + b"\n" + member.shingles)
        if grown:
            pipe.hset(self._postings_key, mapping=grown)
        pipe.execute()
        self._lists = {}

    @contextmanager
    def locked(self):
        with self.r.lock(f"{self.prefix}:lock", timeout=30, blocking_timeout=60):
            yield

    def close(self) -> None:
        pass
