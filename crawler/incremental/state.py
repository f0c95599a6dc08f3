"""Incremental crawl state: what earlier runs fetched and exported, per canonical URL (SQLite or Redis).

One row per URL: when it was last fetched, its HTTP status and payload digest, and, for an
article that was exported, the digest of the exported item together with the ETag and
Last-Modified of the response that item came from (the validators a conditional request
may send next time). Fetch facts and export facts are written separately, so validators
are only ever those of an article that really reached the dataset: a page fetched but never
exported (dropped, or the crawl killed first) is never revalidated into "unchanged".

`STATE_PATH` picks the store: a file path is a SQLite database for one crawl process at a
time; `redis://...` (or just `redis`, meaning REDIS_URL) keeps the same rows in one Redis
hash so that the workers of a distributed crawl share them. Writes to SQLite are committed
in batches and on close: a killed crawl may forget its newest rows, which costs a
re-export next time, never a lost article.

Each row also carries the revisit policy's facts (crawler/incremental/policy.py): its `kind`
(front, static, archive, article, dead, asset), `next_due` (epoch seconds, the crawl's clock; inf: never),
the `interval` it was last given (days), the article's own date (`published`), when a change
was last found (`changed_at`) and how many were (`changes`), and for an article in the weekly sweep
the start of the run that last looked at it (`swept_at`; None: not in the sweep). `due()` lists the
rows due at a time, oldest-due first, from an index (SQLite) or a sorted set (Redis: `<key>:due`,
written in the same MULTI as the row), so a run's plan costs the same whatever the archive's size;
`sweep()` and `sweep_ahead()` give the sweep's size and its least recently looked at rows, from an
index (SQLite) or a sorted set (Redis: `<key>:sweep`, URL -> swept_at, in the same MULTI). `due()` also takes the
policy's maximum interval per kind (`caps`): a row given a longer one under an earlier setting is due at its last
fetch + the maximum, found by an index on (kind, interval) (SQLite) or a sorted set per kind (Redis:
`<key>:interval:<kind>`, URL -> interval, in the same MULTI).

Beside the rows, a few marks (name -> time, each written once): `first_crawl_began`, when a run's plan found the
state empty, and `first_crawl_ended`, when a run of that first crawl stopped (crawler/incremental/revisit.py: every
run in between, each worker of a shared first crawl included, is the first crawl). SQLite: the table `marks`; Redis:
the hash `<key>:marks`.

A state written before a column existed gains it when opened (SQLite: ALTER TABLE; Redis: a row without
the field reads as None, and the sorted set fills as rows are scheduled again): an article scheduled by an
earlier version keeps its due time and joins the sweep at its next look.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import sqlite3
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from crawler.config import ConfigError, InUse, require

logger = logging.getLogger(__name__)

#: Item fields whose change makes an article "changed" (not warc, fetched_at or extraction).
CONTENT_FIELDS = ("title", "published", "author", "location", "agency", "body", "images", "rights")


@dataclass
class PageState:
    url: str
    fetched_at: str | None = None  # ISO 8601 UTC of the last fetch (200 or 304)
    status: int | None = None
    payload_digest: str | None = None  # sha1 of the decoded body of the last 200
    etag: str | None = None  # validators of the response the exported item came from
    last_modified: str | None = None
    item_digest: str | None = None  # digest of the exported item's content fields
    exported_at: str | None = None
    kind: str | None = None  # revisit policy kind: front, static, archive, article, dead, asset
    next_due: float | None = None  # epoch seconds; None: never scheduled (a new page); inf: never again
    interval: float | None = None  # days, the last interval the policy gave
    published: float | None = None  # the article's own date (epoch seconds)
    changed_at: float | None = None  # when a change was last found (epoch seconds)
    changes: int = 0  # changes found since the first export
    swept_at: float | None = None  # in the weekly sweep: the start of the run that last looked at it

    @property
    def exported(self) -> bool:
        return self.item_digest is not None


def item_digest(item) -> str:
    """sha1 (hex) of an item's content fields; the same article text gives the same digest."""
    content = {name: item.get(name) for name in CONTENT_FIELDS}
    data = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(data.encode("utf-8")).hexdigest()


def utc_iso(t: float | None = None) -> str:
    """A time as the state writes it (fetched_at, exported_at; None: now): ISO 8601 UTC, whole seconds (two compare
    as strings; too coarse to tell this run's fetches from the last run's: crawler/incremental/revisit.py keeps
    those in memory)."""
    when = datetime.now(timezone.utc) if t is None else datetime.fromtimestamp(t, timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_time(text: str) -> float:
    """A time the state wrote (utc_iso) as epoch seconds."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def payload_digest(body: bytes) -> str:
    return "sha1:" + hashlib.sha1(body).hexdigest()


def is_redis_spec(spec: str) -> bool:
    return spec == "redis" or spec.startswith(("redis://", "rediss://", "unix://"))


#: what the policy writes when a row is scheduled
SCHEDULE_FIELDS = ("kind", "next_due", "interval", "published", "changed_at", "changes", "swept_at")
POLICY_COLUMNS = {"kind": "TEXT", "next_due": "REAL", "interval": "REAL", "published": "REAL",
                  "changed_at": "REAL", "changes": "INTEGER DEFAULT 0", "swept_at": "REAL"}


@dataclass
class DueRow:
    url: str
    kind: str
    next_due: float
    interval: float | None = None
    published: float | None = None
    swept_at: float | None = None


def due_order(row: DueRow):
    """The order of due rows: those due every run (interval 0) first, then oldest-due first."""
    return (1 if row.interval is None else row.interval) > 0, row.next_due, row.url


def _due_row(url: str, row: dict, due: float) -> DueRow:
    """A DueRow from a Redis row (its JSON fields) and its due time."""
    return DueRow(url, row.get("kind"), due, row.get("interval"), row.get("published"), row.get("swept_at"))


class NotAState(ConfigError):
    """STATE_PATH names a file that is not a crawl state (not SQLite, damaged, or an SQLite file of something else);
    the message names the setting, the file and the cause. It is left as it was."""

    def __init__(self, path, why: str):
        super().__init__(f"STATE_PATH={path}: not a crawl state ({why}): give the state file of earlier runs, "
                         f"or a new path")


class StateWriteFailed(OSError):
    """The state file could not be written (disk full, file system gone read-only, locked): names STATE_PATH."""


class SqliteState:
    """State rows in a SQLite file.

    A write that fails (sqlite3.OperationalError: disk full, I/O error, locked) while opening the file raises
    StateWriteFailed; later, it calls `on_write_failed(exc)` once when it is set (the crawl's add-on: it stops the
    crawl, exit status 74) and the later writes are dropped, else it raises StateWriteFailed.

    A crawl holds the file for its whole length (`hold=True`: an exclusive advisory lock on `<file>.lock` beside
    it, taken before the file is opened, released by the kernel even on kill -9), so a second crawl on the same
    state is refused at start-up (InUse);
    before, both ran, the second to write waited 30 s on SQLite's lock and stopped "the state write failed
    (database is locked); free space ..." (exit status 74), the other skipped as "not due" what the first had
    just fetched, and articles were exported by both. `scrapy state` reads it without holding it."""

    COLUMNS = [f.name for f in fields(PageState)]

    def __init__(self, path: Path | str, batch: int = 100, hold: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._held = self._hold() if hold else None
        try:
            self._open(batch)
        except BaseException:
            if self._held is not None:
                os.close(self._held)
            raise

    def _open(self, batch: int) -> None:
        path = self.path
        self.db = sqlite3.connect(str(self.path), timeout=30)
        try:
            # read before anything is written: a file that is not SQLite, or is damaged, or holds other tables,
            # is refused (NotAState) untouched, not given a WAL or a `pages` table
            tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise NotAState(path, str(exc)) from None
        if tables and "pages" not in tables:
            self.db.close()
            raise NotAState(path, f"an SQLite file with no table pages: {', '.join(sorted(tables))}")
        self.on_write_failed = None
        self.failed: BaseException | None = None
        try:
            self._create()
        except sqlite3.OperationalError as exc:
            self.db.close()
            raise StateWriteFailed(f"STATE_PATH at {self.path} cannot be written ({exc})") from None
        self.batch = batch
        self.pending = 0

    def _hold(self) -> int:
        """Hold the state for this crawl (see the class docstring): the lock's descriptor; InUse when another process
        holds it."""
        lock = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StateWriteFailed(f"STATE_PATH at {self.path} cannot be written ({lock}: {exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise InUse(f"STATE_PATH at {self.path} is in use by another crawl ({f'pid {holder}' if holder else lock}):"
                        f" one crawl per state at a time; run this one once it has ended") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _create(self) -> None:
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS pages (url TEXT PRIMARY KEY, fetched_at TEXT, status INTEGER,"
            " payload_digest TEXT, etag TEXT, last_modified TEXT, item_digest TEXT, exported_at TEXT)"
        )
        have = {row[1] for row in self.db.execute("PRAGMA table_info(pages)")}
        for name, decl in POLICY_COLUMNS.items():  # a state file of an earlier version gains the columns
            if name not in have:
                self.db.execute(f"ALTER TABLE pages ADD COLUMN {name} {decl}")
        self.db.execute("CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, at REAL)")
        self.db.execute("CREATE INDEX IF NOT EXISTS pages_due ON pages (next_due)")
        # for a lowered maximum (`due`'s caps); `+kind` in the due queries keeps them on pages_due
        self.db.execute("CREATE INDEX IF NOT EXISTS pages_interval ON pages (kind, interval)")
        self.db.execute("CREATE INDEX IF NOT EXISTS pages_sweep ON pages (swept_at) WHERE swept_at IS NOT NULL")
        self.db.commit()

    def _write_failed(self, exc: sqlite3.OperationalError) -> None:
        """A write failed: report it once (on_write_failed) and drop the writes from now on; without a
        handler, raise StateWriteFailed."""
        if self.failed is not None:
            return
        self.failed = exc
        if self.on_write_failed is None:
            raise StateWriteFailed(f"STATE_PATH at {self.path} cannot be written ({exc})") from None
        self.on_write_failed(exc)

    def get(self, url: str) -> PageState | None:
        row = self.db.execute(f"SELECT {', '.join(self.COLUMNS)} FROM pages WHERE url = ?", (url,)).fetchone()
        return PageState(*row) if row else None

    def _upsert(self, url: str, values: dict) -> None:
        if self.failed is not None:
            return
        names = list(values)
        try:
            self.db.execute(
                f"INSERT INTO pages (url, {', '.join(names)}) VALUES (?{', ?' * len(names)})"
                f" ON CONFLICT(url) DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in names)}",
                (url, *values.values()),
            )
        except sqlite3.OperationalError as exc:
            self._write_failed(exc)
            return
        self.pending += 1
        if self.pending >= self.batch:
            self.commit()

    def record_fetch(self, url: str, fetched_at: str, status: int, digest: str | None = None) -> None:
        values = {"fetched_at": fetched_at, "status": status}
        if digest is not None:
            values["payload_digest"] = digest
        self._upsert(url, values)

    def record_export(self, url: str, digest: str, exported_at: str,
                      etag: str | None, last_modified: str | None) -> None:
        self._upsert(url, {"item_digest": digest, "exported_at": exported_at,
                           "etag": etag, "last_modified": last_modified})

    def refresh_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """The exported content is unchanged but the server's validators moved on."""
        self._upsert(url, {"etag": etag, "last_modified": last_modified})

    def schedule(self, url: str, values: dict) -> None:
        """Write the policy's facts of a row (keys of SCHEDULE_FIELDS)."""
        self._upsert(url, values)

    def mark(self, name: str, at: float) -> None:
        """Write the mark `name` at the time `at`, unless it is written already (the first writer's time stays)."""
        if self.failed is not None:
            return
        try:
            self.db.execute("INSERT OR IGNORE INTO marks (name, at) VALUES (?, ?)", (name, at))
            self.db.commit()
        except sqlite3.OperationalError as exc:
            self._write_failed(exc)

    def marks(self) -> dict[str, float]:
        return dict(self.db.execute("SELECT name, at FROM marks"))

    def due(self, now: float, kinds=None, limit: int = 0, caps=None) -> list[DueRow]:
        """Rows due at `now` (of `kinds`), at most `limit` (0: all): first those due every run (interval 0: young
        articles, changed archive pages), then the others oldest-due first, so that a backlog over the budget
        never holds back what must be seen at every run. `caps` (kind -> (maximum days, lead seconds)): a row of
        that kind given an interval over the maximum is due at its last fetch + lead, if that is earlier."""
        sql = "SELECT url, kind, next_due, interval, published, swept_at FROM pages WHERE next_due <= ?"
        args: list = [now]
        if kinds:
            sql += f" AND +kind IN ({', '.join('?' * len(kinds))})"
            args += list(kinds)
        sql += " ORDER BY coalesce(interval, 1) > 0, next_due, url"
        if limit:
            sql += " LIMIT ?"
            args.append(limit)
        rows = [DueRow(*row) for row in self.db.execute(sql, args)]
        capped = list(self._capped(now, kinds, caps, limit))
        if capped:
            rows = sorted(rows + capped, key=due_order)
        return rows[:limit] if limit else rows

    def _capped(self, now: float, kinds, caps, limit: int = 0, count: bool = False):
        """The rows not due by their due time that `caps` makes due at `now` (DueRows at their capped due time:
        their last fetch + lead, earlier than their due time), least recently fetched first, at most `limit` of each
        kind (0: all); `count`: how many (ints). By the index on (kind, interval)."""
        for kind, (max_days, lead) in (caps or {}).items():
            if kinds and kind not in kinds:
                continue
            where = (" FROM pages WHERE kind = ? AND interval > ? AND next_due > ? AND fetched_at <= ?",
                     (kind, max_days, now, utc_iso(now - lead)))
            if count:
                yield self.db.execute("SELECT COUNT(*)" + where[0], where[1]).fetchone()[0]
                continue
            sql = "SELECT url, kind, interval, published, swept_at, fetched_at" + where[0] + " ORDER BY fetched_at, url"
            for url, k, interval, published, swept_at, fetched_at in self.db.execute(
                    sql + (f" LIMIT {int(limit)}" if limit else ""), where[1]):
                yield DueRow(url, k, iso_time(fetched_at) + lead, interval, published, swept_at)

    def sweep(self) -> tuple[int, float | None]:
        """(rows in the weekly sweep, the latest swept_at: the start of the last run that looked at one)."""
        n, latest = self.db.execute("SELECT COUNT(*), MAX(swept_at) FROM pages WHERE swept_at IS NOT NULL").fetchone()
        return n, latest

    def sweep_ahead(self, now: float, limit: int) -> list[DueRow]:
        """At most `limit` rows of the sweep that are not due at `now`, least recently looked at first."""
        if limit <= 0:
            return []
        rows = self.db.execute("SELECT url, kind, next_due, interval, published, swept_at FROM pages"
                               " WHERE swept_at IS NOT NULL AND next_due > ? ORDER BY swept_at, url LIMIT ?",
                               (now, limit))
        return [DueRow(*row) for row in rows]

    def count_due(self, now: float, kinds=None, caps=None) -> int:
        sql = "SELECT COUNT(*) FROM pages WHERE next_due <= ?"
        args: list = [now]
        if kinds:
            sql += f" AND +kind IN ({', '.join('?' * len(kinds))})"
            args += list(kinds)
        return self.db.execute(sql, args).fetchone()[0] + sum(self._capped(now, kinds, caps, count=True))

    def kinds(self) -> dict[str, int]:
        """Known rows by kind ("unscheduled": fetched but never given a due time)."""
        return {k or "unscheduled": n for k, n in
                self.db.execute("SELECT kind, COUNT(*) FROM pages GROUP BY kind ORDER BY kind")}

    def due_times(self, kinds=None) -> list[tuple[str, float, float | None]]:
        """(kind, next_due, interval) of every scheduled row that will fall due (not the never-again ones)."""
        return [(k, t, i) for k, t, i in self.db.execute(
            "SELECT kind, next_due, interval FROM pages WHERE next_due IS NOT NULL AND next_due < 9e999")
            if not kinds or k in kinds]

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]

    def exported_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM pages WHERE item_digest IS NOT NULL").fetchone()[0]

    def commit(self) -> None:
        if self.failed is None and self.db is not None:
            try:
                self.db.commit()
            except sqlite3.OperationalError as exc:
                self._write_failed(exc)
        self.pending = 0

    def close(self) -> None:
        if self.db is not None:
            try:
                self.commit()
            finally:
                self.db.close()
                self.db = None
        if self._held is not None:
            os.close(self._held)  # the lock goes with it
            self._held = None


def _unless_unreachable(default):
    """A RedisState method that, once its server stopped answering (redis-py's ConnectionError or TimeoutError),
    calls `on_unreachable(exc)` once and from then on answers `default` (a read: nothing known; a write: dropped),
    as the SQLite state drops its writes after a failed one: the crawl is stopped by then (crawler/incremental/
    addon.py), and what it read or wrote no longer counts. Not the rows the `scrapy state` command lists."""
    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            if self.unreachable is None:
                try:
                    return method(self, *args, **kwargs)
                except self.server_errors as exc:
                    if self.unreachable is None:  # (a guarded method may call another)
                        self.unreachable = exc
                        if self.on_unreachable is not None:
                            self.on_unreachable(exc)
            return default() if callable(default) else default
        return guarded
    return wrap


class RedisState:
    """The same rows as JSON values in one Redis hash (field: URL), shared by all workers.

    Each URL is handled by one worker at a time (the shared dupefilter sees to that), so the
    read-modify-write of a row needs no lock. A server gone mid-crawl: see `_unless_unreachable`.
    """

    #: the error of the first call its server did not answer, and whom to tell (the add-on)
    unreachable: BaseException | None = None
    on_unreachable = None

    def __init__(self, server, key: str):
        from redis.exceptions import ConnectionError, TimeoutError

        self.server_errors = (ConnectionError, TimeoutError)
        self.server = server
        self.key = key
        self.due_key = key + ":due"  # sorted set: URL -> next_due (rows that will fall due)
        self.sweep_key = key + ":sweep"  # sorted set: URL -> swept_at (rows in the weekly sweep)
        self.marks_key = key + ":marks"  # hash: mark name -> time

    @_unless_unreachable(None)
    def mark(self, name: str, at: float) -> None:
        """As SqliteState.mark: HSETNX, so that the first of two workers' times stays."""
        self.server.hsetnx(self.marks_key, name, repr(float(at)))

    def marks(self) -> dict[str, float]:
        return {(k.decode() if isinstance(k, bytes) else k): float(v)
                for k, v in self.server.hgetall(self.marks_key).items()}

    @_unless_unreachable(None)
    def get(self, url: str) -> PageState | None:
        raw = self.server.hget(self.key, url)
        return PageState(**json.loads(raw)) if raw else None

    def interval_key(self, kind: str) -> str:
        """Sorted set of the rows of `kind`: URL -> interval (days; rows given one over 0 and finite)."""
        return f"{self.key}:interval:{kind}"

    def _update(self, url: str, values: dict) -> None:
        state = self.get(url) or PageState(url)
        data = {**asdict(state), **values}
        row = json.dumps(data, separators=(",", ":"))
        if "next_due" not in values and "swept_at" not in values and "interval" not in values:
            self.server.hset(self.key, url, row)
            return
        pipe = self.server.pipeline(transaction=True)  # row, due time, interval and sweep together, or none
        pipe.hset(self.key, url, row)
        if "interval" in values or "kind" in values:
            if state.kind and state.kind != data["kind"]:
                pipe.zrem(self.interval_key(state.kind), url)
            interval = data["interval"]
            if data["kind"] and interval is not None and 0 < interval < float("inf"):
                pipe.zadd(self.interval_key(data["kind"]), {url: interval})
            elif data["kind"]:
                pipe.zrem(self.interval_key(data["kind"]), url)
        for name, zkey in (("next_due", self.due_key), ("swept_at", self.sweep_key)):
            if name not in values:
                continue
            score = values[name]
            if score is None or score == float("inf"):
                pipe.zrem(zkey, url)
            else:
                pipe.zadd(zkey, {url: score})
        pipe.execute()

    @_unless_unreachable(None)
    def schedule(self, url: str, values: dict) -> None:
        self._update(url, values)

    @_unless_unreachable(list)
    def due(self, now: float, kinds=None, limit: int = 0, caps=None) -> list[DueRow]:
        """As SqliteState.due: the sorted set gives the due URLs, their rows the kind and interval (read 500
        at a time); every-run rows first, then oldest-due first; `caps` from the sorted sets of intervals."""
        found = [_due_row(url, row, score) for url, score, row in self._members_rows(
            lambda at: self.server.zrangebyscore(self.due_key, "-inf", now, start=at, num=500, withscores=True))
            if not kinds or row.get("kind") in kinds]
        rows = found + list(self._capped(now, kinds, caps))
        rows.sort(key=due_order)
        return rows[:limit] if limit else rows

    def _capped(self, now: float, kinds, caps):
        """As SqliteState._capped: the URLs of each kind given an interval over its maximum (its sorted set of
        intervals, 500 at a time), their rows' due and fetch times."""
        for kind, (max_days, lead) in (caps or {}).items():
            if kinds and kind not in kinds:
                continue
            fetched_before = utc_iso(now - lead)
            over = self.interval_key(kind)
            for url, _, row in self._members_rows(lambda at: self.server.zrangebyscore(  # noqa: B023 - used at once
                    over, f"({max_days!r}", "+inf", start=at, num=500, withscores=True)):
                due, fetched_at = row.get("next_due"), row.get("fetched_at")
                if row.get("kind") == kind and due is not None and due > now and fetched_at \
                        and fetched_at <= fetched_before:
                    yield _due_row(url, row, min(due, iso_time(fetched_at) + lead))

    def _members_rows(self, chunk_at):
        """(URL, score, row) of a sorted set's members, 500 at a time: `chunk_at(offset)` gives (member, score) pairs
        from `offset`, and their rows (JSON fields; {} for one gone) are read in one HMGET per chunk."""
        offset = 0
        while True:
            chunk = chunk_at(offset)
            if not chunk:
                return
            offset += len(chunk)
            urls = [u.decode("utf-8") if isinstance(u, bytes) else u for u, _ in chunk]
            for url, (_, score), raw in zip(urls, chunk, self.server.hmget(self.key, urls)):
                yield url, score, (json.loads(raw) if raw else {})

    @_unless_unreachable((0, None))
    def sweep(self) -> tuple[int, float | None]:
        n = self.server.zcard(self.sweep_key)
        latest = self.server.zrevrange(self.sweep_key, 0, 0, withscores=True)
        return n, (latest[0][1] if latest else None)

    @_unless_unreachable(list)
    def sweep_ahead(self, now: float, limit: int) -> list[DueRow]:
        """As SqliteState.sweep_ahead: the sorted set in order of swept_at (then URL), the rows' due times read
        500 at a time."""
        out: list[DueRow] = []
        if limit <= 0:
            return out
        for url, _, row in self._members_rows(
                lambda at: self.server.zrange(self.sweep_key, at, at + 499, withscores=True)):
            due = row.get("next_due")
            if due is not None and due > now:
                out.append(_due_row(url, row, due))
                if len(out) >= limit:
                    break
        return out

    @_unless_unreachable(0)
    def count_due(self, now: float, kinds=None, caps=None) -> int:
        if not kinds and not caps:
            return self.server.zcount(self.due_key, "-inf", now)
        return len(self.due(now, kinds, caps=caps))

    def _rows(self):
        for _, raw in self.server.hscan_iter(self.key, count=1000):
            yield json.loads(raw)

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self._rows():
            k = row.get("kind") or "unscheduled"
            out[k] = out.get(k, 0) + 1
        return dict(sorted(out.items()))

    def due_times(self, kinds=None) -> list[tuple[str, float, float | None]]:
        return [(row.get("kind"), row["next_due"], row.get("interval")) for row in self._rows()
                if row.get("next_due") is not None and row["next_due"] != float("inf")
                and (not kinds or row.get("kind") in kinds)]

    @_unless_unreachable(None)
    def record_fetch(self, url, fetched_at, status, digest=None):
        values = {"fetched_at": fetched_at, "status": status}
        if digest is not None:
            values["payload_digest"] = digest
        self._update(url, values)

    @_unless_unreachable(None)
    def record_export(self, url, digest, exported_at, etag, last_modified):
        self._update(url, {"item_digest": digest, "exported_at": exported_at,
                           "etag": etag, "last_modified": last_modified})

    @_unless_unreachable(None)
    def refresh_validators(self, url, etag, last_modified):
        self._update(url, {"etag": etag, "last_modified": last_modified})

    def __len__(self) -> int:
        return self.server.hlen(self.key)

    def exported_count(self) -> int:
        return sum(1 for raw in self.server.hvals(self.key) if json.loads(raw).get("item_digest"))

    def commit(self) -> None:
        pass

    def close(self) -> None:
        pass


def open_state(spec: str, *, spider: str, redis_url: str | None = None, redis_key: str = "%(spider)s:state",
               hold: bool = False):
    """The state store named by a STATE_PATH value (see the module docstring); `hold`: a SQLite file held for this
    crawl (SqliteState)."""
    if is_redis_spec(spec):
        redis = require("redis", why=f"STATE_PATH={spec} is set", package="redis", extra="distributed")

        url = redis_url if spec == "redis" else spec
        if not url:
            raise ValueError("STATE_PATH=redis needs REDIS_URL")
        return RedisState(redis.Redis.from_url(url), redis_key % {"spider": spider})
    return SqliteState(spec, hold=hold)
