"""Dataset build: merge the JSON Lines of many runs and workers into one de-duplicated dataset.

    python -m crawler.offline.dataset build OUTDIR INPUT [INPUT ...]

INPUT is a JSON Lines file or a directory searched (recursively) for *.jsonl, leaving out a dataset's own
JSON Lines (OUTDIR's articles.jsonl and stories.jsonl, and those beside an earlier build's manifest.json: rows
of a dataset, not items; an INPUT naming one of OUTDIR's is a usage error, exit status 2). One article per
canonical URL is kept: its latest capture (by captured_at, else fetched_at: a backfill's capture
from an archive counts at its capture time, not when it was fetched; a later input line wins a
tie), with four history columns: versions (distinct contents seen: title + body + images),
history_count (distinct captures seen), first_seen and last_seen (capture times). Lines that are not JSON or fail
the item schema are skipped, logged and counted; they never stop the build.

OUTDIR gets articles.jsonl, articles.parquet, stories.jsonl (one row per story: the syndicated copies of
one story across the network's sites, by `story_group`) and manifest.json (see docs/dataset.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from crawler import __version__
from crawler.config import ConfigError, require
from crawler.findfiles import find_files
from crawler.itemschema import SCHEMA_VERSION, validate
from crawler.items import EXPORT_FIELDS
from crawler.reporting.outcome import CONFIG_ERROR, NO_INPUT
from crawler.syndication.groups import assign_groups

logger = logging.getLogger(__name__)

#: Bad lines logged one by one (and kept as examples in the manifest) before only counting.
MAX_REPORTED_BAD_LINES = 20
PARQUET_ROW_GROUP = 10_000


#: the JSON Lines files a build writes into OUTDIR (beside articles.parquet and MANIFEST)
OUTPUT_JSONL = ("articles.jsonl", "stories.jsonl")
MANIFEST = "manifest.json"


# --- reading ----------------------------------------------------------------------------
def is_dataset_output(path: Path, outdir: Path | None = None) -> bool:
    """Whether the JSON Lines file `path` is a dataset build's own output (never items): articles.jsonl or
    stories.jsonl in `outdir`, or beside the manifest of an earlier build."""
    if path.name not in OUTPUT_JSONL:
        return False
    if outdir is not None and path.parent.resolve() == Path(outdir).resolve():
        return True
    try:
        manifest = json.loads((path.parent / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and str(manifest.get("generator", "")).startswith("spacewar-archiver")


def find_inputs(inputs: Iterable[Path], outdir: Path | None = None, left_out: list[Path] | None = None) -> list[Path]:
    """JSON Lines files named by INPUT arguments: files as given, directories searched for *.jsonl but a dataset's
    own outputs (`is_dataset_output`; appended to `left_out`); each file once, in a stable order (arguments in
    order, files sorted within a directory)."""
    def wanted(path: Path) -> bool:
        if not path.name.endswith(".jsonl"):
            return False
        if is_dataset_output(path, outdir):
            if left_out is not None:
                left_out.append(path)
            return False
        return True

    return find_files(inputs, wanted, "no such input file or directory: {path}")[0]


def output_among_inputs(outdir: Path, inputs: Iterable[Path]) -> str | None:
    """Why the build may not run, when an INPUT file is one of the JSON Lines it writes into OUTDIR (it would read
    the file it replaces); None when none is."""
    for path in map(Path, inputs):
        if path.is_file() and path.name in OUTPUT_JSONL and path.parent.resolve() == Path(outdir).resolve():
            return (f"{path} is one of the dataset's outputs: building would replace it with what it reads; "
                    f"give another output directory")
    return None


@dataclass
class BadLine:
    path: str
    line: int
    reason: str  # "not_utf8", "malformed_json", "not_an_object", "schema_invalid"
    detail: str


class BadLines:
    """Counts skipped lines by reason; logs and keeps only the first few, so a bad file costs no memory."""

    def __init__(self, keep: int = MAX_REPORTED_BAD_LINES):
        self.keep = keep
        self.by_reason: Counter[str] = Counter()
        self.examples: list[BadLine] = []

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def add(self, path: Path, line: int, reason: str, detail: str) -> None:
        self.by_reason[reason] += 1
        if len(self.examples) < self.keep:
            self.examples.append(BadLine(str(path), line, reason, detail))
            logger.warning("%s:%d: skipped (%s): %s", path, line, reason, detail)
        elif self.total == self.keep + 1:
            logger.warning("more bad lines: only counting them from now on")


def read_items(path: Path, bad: BadLines) -> Iterator[dict]:
    """Each valid item of one JSON Lines file, streamed; bad lines are reported to `bad`."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad.add(path, number, "not_utf8", str(exc))
                continue
            try:
                item = json.loads(text)
            except json.JSONDecodeError as exc:
                bad.add(path, number, "malformed_json", f"{exc.msg} (column {exc.colno})")
                continue
            if not isinstance(item, dict):
                bad.add(path, number, "not_an_object", f"a JSON {type(item).__name__}")
                continue
            errors = validate(item)
            if errors:
                bad.add(path, number, "schema_invalid", "; ".join(errors[:3]))
                continue
            yield item


# --- merging ----------------------------------------------------------------------------
def parse_time(value: str) -> datetime:
    """fetched_at (ISO 8601 UTC, 'Z' or '+00:00', optional fraction) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def content_key(item: dict) -> str:
    """What makes two captures of an article different versions: title, body and images."""
    data = json.dumps([item.get("title"), item.get("body"), item.get("images")], sort_keys=True,
                      ensure_ascii=False)
    return hashlib.sha1(data.encode("utf-8")).hexdigest()


def capture_key(item: dict) -> str:
    """One capture, however many input files repeat it: its WARC record, else its fetch time + content."""
    warc = item.get("warc") or {}
    return warc.get("record_id") or f"{item['fetched_at']}|{content_key(item)}"


def captured(item: dict) -> datetime:
    """When an item's page was captured: captured_at (schema 1.3.0), else fetched_at (the same for a live crawl)."""
    return parse_time(item.get("captured_at") or item["fetched_at"])


@dataclass
class ArticleHistory:
    """The latest capture of one URL and what is known of its history."""

    item: dict
    fetched: datetime
    first: datetime
    last: datetime
    contents: set[str] = field(default_factory=set)
    captures: set[str] = field(default_factory=set)

    @classmethod
    def first_capture(cls, item: dict) -> "ArticleHistory":
        when = captured(item)
        return cls(item, when, when, when, {content_key(item)}, {capture_key(item)})

    def add(self, item: dict) -> None:
        when = captured(item)
        self.contents.add(content_key(item))
        self.captures.add(capture_key(item))
        self.first = min(self.first, when)
        self.last = max(self.last, when)
        if when >= self.fetched:  # latest wins; on a tie, the line read later
            self.item, self.fetched = item, when

    def row(self) -> dict:
        out = {name: self.item.get(name) for name in EXPORT_FIELDS}
        out["versions"] = len(self.contents)
        out["history_count"] = len(self.captures)
        out["first_seen"] = _iso(self.first)
        out["last_seen"] = _iso(self.last)
        return out


def _iso(when: datetime) -> str:
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += f".{when.microsecond:06d}"
    return text + "Z"


# --- writing ----------------------------------------------------------------------------
def parquet_schema():
    """The Parquet file's explicit schema: JSON Lines fields with native types where they help."""
    import pyarrow as pa

    utc = pa.timestamp("us", tz="UTC")
    return pa.schema([
        pa.field("url", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("published", pa.date32(), nullable=False),
        pa.field("author", pa.string()),
        pa.field("location", pa.string()),
        pa.field("agency", pa.string()),
        pa.field("body", pa.string(), nullable=False),
        pa.field("related_stories", pa.list_(pa.struct([pa.field(name, pa.string()) for name in
                                                        ("title", "location", "agency", "published", "body")]))),
        pa.field("images", pa.list_(pa.struct([pa.field("url", pa.string()), pa.field("caption", pa.string())]))),
        pa.field("rights", pa.string()),
        pa.field("extraction", pa.string(), nullable=False),
        pa.field("warc", pa.struct([pa.field("filename", pa.string()), pa.field("record_id", pa.string()),
                                    pa.field("offset", pa.int64())])),
        pa.field("site", pa.string(), nullable=False),
        pa.field("fetched_at", utc, nullable=False),
        pa.field("story_group", pa.string()),
        pa.field("captured_at", utc),
        pa.field("source", pa.string()),
        pa.field("versions", pa.int32(), nullable=False),
        pa.field("history_count", pa.int32(), nullable=False),
        pa.field("first_seen", utc, nullable=False),
        pa.field("last_seen", utc, nullable=False),
    ], metadata={"schema_version": SCHEMA_VERSION, "generator": f"spacewar-archiver {__version__}"})


def _parquet_row(row: dict) -> dict:
    out = dict(row)
    out["published"] = datetime.strptime(row["published"], "%Y-%m-%d").date()
    for name in ("fetched_at", "first_seen", "last_seen"):
        out[name] = parse_time(row[name])
    out["captured_at"] = parse_time(row["captured_at"]) if row.get("captured_at") else None
    out["images"] = [{"url": i.get("url"), "caption": i.get("caption")} for i in row["images"] or []]
    return out


def write_jsonl(rows: list[dict], path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def write_parquet(rows: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for start in range(0, len(rows), PARQUET_ROW_GROUP):
            chunk = [_parquet_row(r) for r in rows[start:start + PARQUET_ROW_GROUP]]
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
        if not rows:
            writer.write_table(schema.empty_table())
    tmp.replace(path)


def _file_facts(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"path": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


# --- the build ----------------------------------------------------------------------------
class NoItems(Exception):
    """The inputs hold no item line at all (no JSON Lines file, or none valid): one line saying what was found."""


def build(inputs: list[Path], outdir: Path, archives: list[dict] | None = None, *, require_items: bool = False) -> dict:
    """Merge the JSON Lines INPUTS (files or directories) into OUTDIR; return the manifest. `archives`: when the
    lines were made from archives (`scrapy reprocess --dataset`: its own temporary JSON Lines), the input
    archives (`{"path", ...}` each), which the manifest lists as its inputs instead. `require_items`: NoItems,
    before anything is written (an existing dataset in OUTDIR stays as it was), when no valid item line was
    read."""
    started = time.monotonic()
    built_at = datetime.now(timezone.utc).replace(microsecond=0)
    files = find_inputs(inputs, outdir)
    articles: dict[str, ArticleHistory] = {}
    bad = BadLines()
    valid = 0
    warc_files: set[str] = set()
    per_file = []
    for path in files:
        bad_before, valid_before = bad.total, valid
        for item in read_items(path, bad):
            valid += 1
            if item.get("warc"):
                warc_files.add(item["warc"]["filename"])
            current = articles.get(item["url"])
            if current is None:
                articles[item["url"]] = ArticleHistory.first_capture(item)
            else:
                current.add(item)
        per_file.append({"path": str(path), "valid_lines": valid - valid_before,
                         "bad_lines": bad.total - bad_before})

    if require_items and not valid:
        named = ", ".join(map(str, inputs))
        what = (f"{bad.total} lines none of which is an item ({', '.join(sorted(bad.by_reason))})" if bad.total
                else "all empty")
        if files and all(Path(p).is_file() for p in inputs):  # the files themselves
            found = f"{named}: {what}"
        else:
            found = f"{named} holds {len(files)} JSON Lines files, {what}" if files else f"{named} holds no *.jsonl file"
        raise NoItems(f"no item to build a dataset from: {found}; "
                      f"expected JSON Lines of items (a crawl's -O output, or `scrapy reprocess -O`)")
    rows = [a.row() for a in articles.values()]
    rows.sort(key=lambda r: (r["published"], r["url"]))
    if any(not r.get("story_group") for r in rows):  # items of schema < 1.2.0 (or of other tools) get one here
        assign_groups(rows)
    stories = story_rows(rows)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    jsonl_path, parquet_path = outdir / "articles.jsonl", outdir / "articles.parquet"
    write_jsonl(rows, jsonl_path)
    write_parquet(rows, parquet_path)
    write_jsonl(stories, outdir / "stories.jsonl")

    published = [r["published"] for r in rows]
    manifest = {
        "generator": f"spacewar-archiver {__version__}",
        "schema_version": SCHEMA_VERSION,
        "built_at": _iso(built_at),
        "build_seconds": None,  # set last
        "inputs": ({"files": len(files), "list": per_file} if archives is None
                   else {"files": len(archives), "archives": archives}),
        "lines": {
            "read": valid + bad.total,  # blank lines are not counted
            "valid": valid,
            "skipped": bad.total,
            "skipped_by_reason": dict(sorted(bad.by_reason.items())),
            "skipped_examples": [vars(b) for b in bad.examples],
        },
        "articles": len(rows),
        "stories": len(stories),
        "stories_on_several_sites": sum(1 for st in stories if len(st["sites"]) > 1),
        "duplicates_collapsed": valid - len(rows),
        "articles_with_several_versions": sum(1 for r in rows if r["versions"] > 1),
        "published": {"first": min(published, default=None), "last": max(published, default=None)},
        "fetched": {"first": _iso(min(a.first for a in articles.values())) if articles else None,
                    "last": _iso(max(a.last for a in articles.values())) if articles else None},
        "by_site": _counts(r["site"] for r in rows),
        "by_agency": _counts(r["agency"] for r in rows),
        "by_extraction": _counts(r["extraction"] for r in rows),
        "by_year": _counts(r["published"][:4] for r in rows),
        "source_warc_files": sorted(warc_files),
        "outputs": {"jsonl": _file_facts(jsonl_path), "parquet": _file_facts(parquet_path),
                    "stories": _file_facts(outdir / "stories.jsonl")},
    }
    manifest["build_seconds"] = round(time.monotonic() - started, 3)
    tmp = outdir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(outdir / "manifest.json")
    return manifest


def story_rows(rows: list[dict]) -> list[dict]:
    """One row per story_group: the first copy's title, date and agency, and every site and URL that ran it
    (copies in order of publication, then URL), stories in order of their first publication."""
    by_group: dict[str, list[dict]] = {}
    for row in rows:
        by_group.setdefault(row["story_group"], []).append(row)
    out = []
    for group, copies in by_group.items():
        copies.sort(key=lambda r: (r["published"], r["fetched_at"] or "", r["url"]))
        first = copies[0]
        out.append({"story_group": group, "title": first["title"], "published": first["published"],
                    "agency": first.get("agency"), "copies": len(copies),
                    "sites": sorted({r.get("site") for r in copies if r.get("site")}),
                    "urls": [r["url"] for r in copies]})
    out.sort(key=lambda st: (st["published"], st["story_group"]))
    return out


def _counts(values: Iterable) -> dict[str, int]:
    """Counts by value, most frequent first; null counted as "(none)"."""
    counts = Counter("(none)" if v is None else str(v) for v in values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# --- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.offline.dataset", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="merge JSON Lines of many runs into OUTDIR (JSONL, Parquet, manifest)")
    p_build.add_argument("outdir", type=Path, help="output directory (created if missing)")
    p_build.add_argument("inputs", type=Path, nargs="+", metavar="INPUT",
                         help="JSON Lines file, or directory searched recursively for *.jsonl")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s", stream=sys.stderr)
    try:
        require("pyarrow.parquet", why="the dataset build writes Parquet", package="pyarrow", extra="dataset")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CONFIG_ERROR
    clash = output_among_inputs(args.outdir, args.inputs)
    if clash:
        parser.error(clash)
    left_out: list[Path] = []
    try:
        files = find_inputs(args.inputs, args.outdir, left_out)
    except FileNotFoundError as exc:
        parser.error(str(exc))
    named = ", ".join(map(str, args.inputs))
    besides = f" (besides {len(left_out)} of a dataset's own outputs, left out)" if left_out else ""
    if not files:
        logger.warning("no *.jsonl files in %s%s: no dataset built, %s left as it was (exit status %d)",
                       named, besides, args.outdir, NO_INPUT)
        return NO_INPUT
    shown = ", ".join(str(p) for p in files[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    left_out.sort()
    skipped = (f" (left out, a dataset's own outputs: {', '.join(str(p) for p in left_out[:3])}"
               f"{f' and {len(left_out) - 3} more' if len(left_out) > 3 else ''})" if left_out else "")
    print(f"dataset: reading {len(files)} JSON Lines file(s) from {named}: {shown}{skipped}")
    if not any(p.stat().st_size for p in files):
        logger.warning("the %d JSON Lines file(s) in %s are all empty: no dataset built, %s left as it was "
                       "(exit status %d)", len(files), named, args.outdir, NO_INPUT)
        return NO_INPUT
    try:
        manifest = build(args.inputs, args.outdir, require_items=True)
    except NoItems as exc:
        print(f"error: {exc} (exit status {NO_INPUT})", file=sys.stderr)
        return NO_INPUT
    lines = manifest["lines"]
    print(f"dataset: {manifest['articles']} articles from {lines['valid']} valid lines in "
          f"{manifest['inputs']['files']} files ({manifest['duplicates_collapsed']} duplicates collapsed, "
          f"{lines['skipped']} bad lines skipped) in {manifest['build_seconds']:.2f}s -> {args.outdir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
