"""One reprocess run: inputs and template, the two passes on an engine, the output, the summary and the exit status.

    run(Options(paths=["output/warc"], output="items.jsonl"))  ->  (summary dict, exit status)

1. The WARC files of the PATH arguments (crawler/offline/reprocess/tasks.py), cut into (file, byte
   range) tasks.
2. The learned template: `template`, else the first boilerplate.json beside the inputs (a
   directory's own, or the one beside a file: where the crawl writes WARC_DIR/boilerplate.json).
   It is only read: every process judges with the same template, so 1 and N processes give the
   same bytes. Without one, structure and the site rules decide alone (logged as a WARNING).
3. First pass (index.py): every record's WARC headers, into a SQLite file in `tmp_dir`; the
   selection.
4. Second pass (pages.py): the selected records into items, the tasks' results written in task
   order (file, then offset) as JSON Lines to `output` (`append`: added to it, as `-o` does), or
   into the dataset build (crawler/offline/dataset.py: articles.jsonl, .parquet and manifest.json
   in `dataset`).
5. The summary (`SUMMARY_KEYS`), logged and, with `summary`, written as JSON.

Damaged WARC files are read as far as they can be: each damage is logged with its file and offset
and listed (`damaged`). An error in the extraction of a record is logged at ERROR with its
traceback and counted (`extraction_errors`); `errors` is the sum of both. The exit status: 0 when an article was made; 74 (EX_IOERR) when
no record could be read at all; 69 (EX_UNAVAILABLE) when records were read but no article came of
them; 78 (EX_CONFIG) for a configuration error (a missing extra), with one line that names it.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from crawler.config import ConfigError, require
from crawler.extract.boilerplate import FILE_NAME
from crawler.offline.reprocess import index, listing, pages, reader
from crawler.offline.reprocess.progress import Progress
from crawler.offline.reprocess.tasks import ListedTask, Task, listed_tasks, split
from crawler.reporting.outcome import NO_INPUT, NOTHING_ARCHIVED, OK, WARC_WRITE_FAILED
from crawler.site.profiles import choose
from crawler.syndication.groups import StoryGrouper, group_jsonl, group_lines
from crawler.syndication.stores import MemoryStore
from crawler.warc.inputs import EXTRACTS_ARE, NoInput, extract_kind, find, open_inputs

logger = logging.getLogger("crawler.reprocess")

NOTHING_READ = WARC_WRITE_FAILED  # 74, EX_IOERR: the input could not be read
NO_ARTICLE = NOTHING_ARCHIVED  # 69, EX_UNAVAILABLE
ENGINES = ("local", "ray")
#: input files listed one by one in the summary's lines (all of them in --summary's JSON)
MAX_FILE_LINES = 20
#: keys every summary has (the benchmarks read them)
SUMMARY_KEYS = ("records", "captures", "selected", "articles", "non_articles", "fallbacks", "errors",
                "extraction_errors", "damaged", "files",
                "unresolved_revisits", "seconds", "articles_per_second", "processes", "engine", "reader", "template",
                "inputs", "output", "driver_peak_rss_mib", "workers_peak_rss_mib", "exit_status")


@dataclass
class Options:
    paths: list[str]
    output: str | None = None  # JSON Lines file ("-": stdout)
    append: bool = False
    dataset: str | None = None  # the dataset build's output directory instead
    processes: int = 0  # 0: every core
    engine: str = "local"
    all_captures: bool = False
    template: str | None = None
    summary: str | None = None
    progress_interval: float = 10.0
    tmp_dir: str | None = None
    task_size: int | None = None  # bytes per task (None: tasks.task_size decides)
    sites: str | None = None  # the sites kept (`--sites spacewar,spacedaily`; None: every site of the network)
    index: list[str] | None = None  # CDXJ index files of the inputs (`--index`): listed files' first pass reads
    # only the records the index lists on the sites (crawler/offline/reprocess/listing.py)


def default_processes() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def processes_for(tasks: list, processes: int, engine: str) -> int:
    """The processes the local engine runs: no more than the byte-range tasks, as a process without a task has
    nothing to do. An input of one task (at most tasks.MIN_TASK_BYTES, 1 MiB: a small crawl's WARC file) runs in
    this process, without a pool: forking it and handing the results back cost about 0.03 s, a tenth of such a
    run after Scrapy's start (bench/RESULTS.md, issue 29). Ray's CPUs are its own."""
    if engine != "local":
        return processes
    return max(1, min(processes, len(tasks)))


def find_template(paths) -> Path | None:
    """The first boilerplate.json beside the inputs (a directory's own, or the one in a file's directory)."""
    for entry in map(Path, paths):
        candidate = (entry if entry.is_dir() else entry.parent) / FILE_NAME
        if candidate.is_file():
            return candidate
    return None


def engine_of(name: str):
    """The engine module: local (no extra), or ray (ConfigError when Ray is not installed)."""
    if name == "local":
        from crawler.offline.reprocess import local

        return local
    if name == "ray":
        from crawler.offline.reprocess import ray_engine

        ray_engine._ray()  # ConfigError now, before any work, when Ray is missing
        return ray_engine
    raise ConfigError(f"--engine {name}: the engines are {', '.join(ENGINES)}")


def _rss_mib(who) -> float:
    """The peak resident set of this process (RUSAGE_SELF) or of its largest reaped child, in MiB.

    For this process, /proc's VmHWM where there is one: Linux carries ru_maxrss over fork and exec,
    so a command started by a large parent (a benchmark holding items) would report the parent's
    peak as its own."""
    if who == resource.RUSAGE_SELF:
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


class _Output:
    """Where the JSON lines go: a file, stdout, or a temporary file for the dataset build. `-O FILE` is written
    beside FILE and renamed over it only when the run succeeds (`commit`): a run that fails, or reads nothing,
    leaves an existing FILE as it was. `-o FILE` appends to it."""

    def __init__(self, opts: Options):
        self.dataset_tmp = None
        self.final = None
        if opts.dataset:
            self.dataset_tmp = Path(tempfile.mkdtemp(prefix="reprocess-dataset-", dir=opts.tmp_dir))
            self.path = self.dataset_tmp / "items.jsonl"
            self.fh = open(self.path, "w", encoding="utf-8")
        elif opts.output in (None, "-"):
            self.path = None
            self.fh = sys.stdout
        else:
            self.path = Path(opts.output)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if opts.append:
                self.fh = open(self.path, "a", encoding="utf-8")
            else:
                self.final = self.path
                fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
                self.path = Path(tmp)
                self.fh = open(fd, "w", encoding="utf-8")
        #: where this run's lines start (-o appends after what the file held)
        self.start = self.fh.tell() if self.path is not None else 0

    def write(self, lines: list[str]) -> None:
        if lines:
            self.fh.write("\n".join(lines))
            self.fh.write("\n")

    def close(self) -> None:
        if self.fh is not sys.stdout:
            self.fh.close()
        else:
            self.fh.flush()

    def commit(self) -> None:
        """The file written beside -O's FILE replaces it."""
        if self.final is not None:
            self.path.replace(self.final)
            self.path = self.final
            self.final = None

    def discard(self) -> None:
        """A run that did not succeed: the file written beside -O's FILE goes, FILE stays as it was."""
        if self.fh is not sys.stdout and not self.fh.closed:
            self.fh.close()
        if self.final is not None:
            self.path.unlink(missing_ok=True)
            self.final = None


def _per_file(inputs) -> list[dict]:
    """The per-input-file summary rows, one per source (a WACZ's members each), then one per refused file."""
    rows = [{"file": src.origin, "records": 0, "captures": 0, "selected": 0, "articles": 0,
             "skipped": Counter(), "damaged": 0, "note": src.note} for src in inputs.sources]
    for path, why in inputs.refused:
        rows.append({"file": path, "records": 0, "captures": 0, "selected": 0, "articles": 0,
                     "skipped": Counter(), "damaged": 0, "note": "", "refused": why})
    return rows


def damaged_places(row: dict) -> str:
    """An input file's damage, in the words of its per-file line ("" for none)."""
    n = row["damaged"]
    return f"{n} damaged place{'' if n == 1 else 's'}" if n else ""


def file_line(row: dict) -> str:
    """An input file's line in the summary: why it gave nothing, else what it gave; and its damage, if any."""
    said = row["gave_nothing"] or (
        f"{row['articles']} articles of {row['records']} records, {row['captures']} captures"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in row["skipped"].items()) + ")" if row["skipped"] else ""))
    damage = damaged_places(row)
    return said if not damage or damage in said else f"{said}, {damage}"


def gave_nothing(row: dict) -> str | None:
    """Why an input file gave no article, in words (None when it gave some)."""
    if row["articles"]:
        return None
    if row.get("refused"):
        return f"not read: {row['refused']}"
    if not row["records"]:
        return "no WARC record could be read" + (f" ({damaged_places(row)})" if row["damaged"] else
                                                 " (no whole record header in it: cut short or corrupt)")
    extract = extract_kind(row["file"])
    if extract is not None and not row["captures"]:  # Common Crawl's WAT or WET file, given by name
        return (f"a {extract[0]} file, {row['records']} records: {extract[1]} extracts of captures, not captures: "
                "give the warc/ file")
    if not row["captures"]:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(row["skipped"].items()))
        return f"{row['records']} records, but no response of the sites asked for" + (f" ({skipped})" if skipped
                                                                                       else "")
    reasons = ", ".join(f"{k}: {v}" for k, v in row["skipped"].most_common(4))
    # the captures no reason above accounts for: the selection passed them over for a later capture of the same
    # article (in this file or another), or they are not a 2xx answer (a 404, a 503, a redirect)
    passed_over = row["captures"] - row["selected"] - sum(row["skipped"].get(k, 0) for k in (
        "truncated", "unresolved_revisits", "not_text"))
    if passed_over > 0:
        reasons += ("; " if reasons else "") + f"{passed_over} not selected: a later capture of the same page, " \
                                               "or not a 2xx answer"
    return f"{row['captures']} captures, no article ({reasons or 'none selected'})"


def _listed(opts: Options, sources) -> dict:
    """{file_no: listing.Listed} of the files --index lists (each logged); a file with unreadable lines of its
    own in the index is read whole."""
    if not opts.index:
        return {}
    listed = listing.load(opts.index, sources, opts.sites)
    used = set().union(*(entry.indexes for entry in listed.values()))
    for path in dict.fromkeys(map(str, opts.index)):
        if path not in used:  # said, not silently ignored: the run reads every file whole
            logger.warning("--index %s lists none of the input files (no CDXJ line `SURT timestamp {json}` whose "
                           "\"filename\" is one of theirs: another archive's index, or another format, such as the "
                           "11-field CDX of wget --warc-cdx)", path)
    for file_no, entry in sorted(listed.items()):
        if entry.bad:
            logger.warning("%s: %d lines of the index %s that name it cannot be read: the file is read whole",
                           sources[file_no].origin, entry.bad, entry.index)
            del listed[file_no]
            continue
        logger.info("%s: read through the index %s (%d lines, %d of the sites asked for)", sources[file_no].origin,
                    entry.index, entry.lines, len(entry.on_site))
    unlisted = len(sources) - len(listed)
    if unlisted:
        logger.info("%d input files not listed by --index: read whole", unlisted)
    return listed


def _first_pass_tasks(tasks, sources, listed: dict, sites: str | None) -> list:
    """The first pass's tasks: a file that an index lists (listing.py) as ListedTasks, the others' byte ranges."""
    first = []
    for file_no, src in enumerate(sources):
        if file_no in listed:
            first += listed_tasks(len(first), file_no, src, listed[file_no], sites, listing.OFFSETS_PER_TASK)
        else:
            first += [replace(t, index=len(first) + k) for k, t in enumerate(t for t in tasks if t.file_no == file_no)]
    return first


def _chained(results, tasks: list):
    """The first pass's results in task order, each byte-range task's checked against the reading of the range
    before it in the same file: that reading parsed on past its range's end to the next record (ScanResult.next),
    and this task must have started at that very record (ScanResult.first: the boundary it searched for,
    crawler/warc/members.py). Where they differ (a false boundary: a gzip member or version line inside another
    record's payload), the range is read again here from where the reading before it got to, so no record is
    lost or read twice, whatever the cut."""
    chain = None  # (file_no, offset): where the last byte-range task's reading found the next record
    for res in results:
        task = tasks[res.task]
        if not isinstance(task, Task):
            yield res
            continue
        if chain is not None and chain[0] == task.file_no:
            expected = chain[1]
            if expected >= task.end:  # a record of a range before reaches over this one: none starts in it
                if res.first is not None and res.first < task.end:
                    logger.info("%s: no record starts in [%d, %d) (the record before goes on to %d): the "
                                "boundary found at %d is not one, its records are dropped", task.path, task.start,
                                task.end, expected, res.first)
                    res = index.ScanResult(res.task)
                res.next = expected
            elif res.first != expected:
                logger.info("%s: the reading of [%d, %d) started at %s, but the record before ends at %d: "
                            "read again from there", task.path, task.start, task.end, res.first, expected)
                res = index.scan(replace(task, start=expected, at_record=True))
        chain = (task.file_no, res.next) if res.next is not None else None
        yield res


def _add_scan(res, file_no: int, idx, files: list[dict], summary: dict) -> None:
    """One first-pass task's result into the capture index, the file's row and the summary."""
    idx.add(res.rows)
    row = files[file_no]
    row["records"] += res.records
    row["captures"] += len(res.rows)
    row["skipped"].update(res.skipped)
    summary["records"] += res.records
    summary["non_articles"].update(res.skipped)
    for path, offset, what in res.damage:
        logger.warning("Damaged WARC file %s at offset %d (%s): the records from there to the next "
                       "readable one are skipped", path, offset, what)
        summary["damaged"].append({"file": path, "offset": offset, "what": what})
        row["damaged"] += 1


def _page_tasks(tasks, idx, names, sources, template_path, sites, sketch: bool, progress):
    """The second pass's tasks: a byte range's selected records (`pages.PageTask`), drawn as the pool asks for
    them. A range that holds none (most of a Common Crawl file's) goes to no worker: its bytes are counted done."""
    for t in tasks:
        entries = idx.entries(t, names)
        if not entries:
            progress.update(t.size, 0)
            continue
        yield pages.PageTask(t.index, t.path, entries, template_path, t.size, t.file_no, sources[t.file_no].name,
                             sources[t.file_no].base, sites, sketch=sketch)


def _grouped(line: str, grouper: StoryGrouper) -> str:
    """An item line with its story group, for output streamed to stdout (grouped in the order written)."""
    item = json.loads(line)
    item["story_group"] = grouper.assign(item["url"], item.get("body"), item.get("agency"), item.get("published"))
    return json.dumps(item, ensure_ascii=False)


def output_among_inputs(output: str | None, paths) -> str | None:
    """Why the output FILE (-O/-o) may not be written, when it is one of the archive files the run reads (or a
    PATH given): written, it would replace that file, or append to it, with JSON lines. None when it is not."""
    if not output or output == "-":
        return None
    target = Path(output).resolve()
    try:
        files, _ = find([p for p in paths if Path(p).exists()])
    except FileNotFoundError:
        files = []
    for path in [*files, *map(Path, paths)]:
        if path.resolve() == target:
            return (f"{path} is one of the inputs: writing the items to it would replace the archive; "
                    f"give another output file")
    return None


def run(opts: Options) -> tuple[dict, int]:
    """The run (see the module docstring): (summary, exit status). ConfigError for a configuration error,
    FileNotFoundError for a PATH that does not exist, NoInput when the paths hold nothing readable."""
    started = time.monotonic()
    processes = opts.processes or default_processes()
    engine = engine_of(opts.engine)
    if opts.dataset:
        require("pyarrow.parquet", why="--dataset writes Parquet", package="pyarrow", extra="dataset")
    if opts.sites:
        try:
            choose(opts.sites)
        except ValueError as exc:
            raise ConfigError(f"--sites {opts.sites}: {exc}") from None
    inputs = open_inputs(opts.paths, opts.tmp_dir)  # NoInput: the caller exits NO_INPUT with its one line
    with inputs:
        return _run(opts, inputs, processes, engine, started)


def _run(opts: Options, inputs, processes: int, engine, started: float) -> tuple[dict, int]:
    sources = inputs.sources
    names = [s.path for s in sources]
    total = sum(s.size for s in sources)
    for path, why in inputs.refused:
        logger.warning("Not read: %s: %s", path, why)
    if inputs.extracts:
        logger.warning("%s", extracts_line(len(inputs.extracts)).strip())
    for src in sources:
        if src.note:
            logger.warning("%s: %s", src.origin, src.note)
    template = Path(opts.template) if opts.template else find_template(opts.paths)
    if template is not None and not template.is_file():
        raise ConfigError(f"--template {template}: no such file")
    if template is None:
        logger.warning("No learned template (%s) beside %s: structure and the site rules alone decide; items can "
                       "differ from the crawl's where its template removed a block", FILE_NAME, ", ".join(opts.paths))
    else:
        logger.info("Learned template: %s (read only)", template)
    tasks = split(sources, processes, opts.task_size, opts.sites)
    processes = processes_for(tasks, processes, opts.engine)
    logger.info("Reprocessing %d archive files (%d WARC sources, %.1f MB) with %d process(es), engine %s, reader %s%s%s",
                len(inputs.files), len(sources), total / 1e6, processes, opts.engine, reader.READER,
                ", every capture" if opts.all_captures else "", f", sites {opts.sites}" if opts.sites else "")
    listed = _listed(opts, sources)
    summary = {"records": 0, "captures": 0, "selected": 0, "articles": 0, "non_articles": Counter(),
               "fallbacks": 0, "errors": 0, "extraction_errors": 0, "damaged": []}
    files = _per_file(inputs)
    template_path = str(template) if template is not None else None
    pages.warm(template_path, opts.sites)  # loaded once here, so that forked workers start warm
    idx = index.CaptureIndex(opts.tmp_dir)
    out = None
    status = None
    with engine.engine(processes) as workers:
        try:
            # --- first pass: the captures ---------------------------------------------------------------
            progress = Progress(total, interval=opts.progress_interval, label="reprocess: indexing")
            first = _first_pass_tasks(tasks, sources, listed, opts.sites)
            held: dict[int, list] = {}  # with --index: every file's results, added in file order once all are in
            for res in _chained(workers.map_ordered(index.scan, first), first):
                task = first[res.task]
                if listed:
                    held.setdefault(task.file_no, []).append(res)
                else:
                    _add_scan(res, task.file_no, idx, files, summary)
                progress.update(task.size, 0)
            whole = []  # files whose index is not theirs: read whole
            for file_no, results in held.items():
                wrong = next((r.mismatch for r in results if r.mismatch), None)
                if wrong is not None:
                    logger.warning("The index %s is not the index of %s (%s): the file is read whole",
                                   listed[file_no].index, sources[file_no].origin, wrong)
                    files[file_no]["note"] = f"not read through {listed[file_no].index}: {wrong}"
                    whole += [t for t in tasks if t.file_no == file_no]
                    held[file_no] = []
                else:
                    files[file_no]["note"] = (f"read through the index {listed[file_no].index}: "
                                              f"{len(listed[file_no].on_site)} of its {listed[file_no].lines} lines "
                                              "on the sites asked for")
            whole = [replace(t, index=k) for k, t in enumerate(whole)]
            for res in _chained(workers.map_ordered(index.scan, whole), whole):
                held[whole[res.task].file_no].append(res)
            for file_no in sorted(held):
                for res in held[file_no]:
                    _add_scan(res, file_no, idx, files, summary)
            progress.close()
            summary["captures"] = idx.captures
            left_out = idx.select(opts.all_captures)
            summary["selected"] = idx.selected()
            for file_no, n in idx.selected_by_file().items():
                files[file_no]["selected"] = n
            for file_no, counts in idx.left_out.items():
                files[file_no]["skipped"].update(counts)
            summary["unresolved_revisits"] = left_out["unresolved_revisits"]
            for reason in ("not_text", "truncated"):
                if left_out[reason]:
                    summary["non_articles"][reason] += left_out[reason]
            if left_out["unresolved_revisits"]:
                logger.warning("%d revisit records whose original is not in the inputs: not reprocessed",
                               left_out["unresolved_revisits"])

            # --- second pass: the items --------------------------------------------------------------------
            out = _Output(opts)
            to_file = out.path is not None  # grouped after the pass: the workers sketch each item's body
            progress = Progress(total, interval=opts.progress_interval)
            page_tasks = _page_tasks(tasks, idx, names, sources, template_path, opts.sites, to_file, progress)
            stories: list | None = [] if to_file else None
            streamed = StoryGrouper(MemoryStore()) if out.path is None else None
            for res in workers.map_ordered(pages.run_task, page_tasks):
                out.write(res.lines if streamed is None else [_grouped(line, streamed) for line in res.lines])
                if stories is not None:
                    if res.stories is None:  # an item that had a story_group: group_jsonl parses the lines
                        stories = None
                    else:
                        stories.extend(res.stories)
                row = files[res.file_no]
                row["articles"] += res.articles
                row["skipped"].update(res.non_articles)
                summary["articles"] += res.articles
                summary["fallbacks"] += res.fallbacks
                summary["non_articles"].update(res.non_articles)
                for path, offset, trace in res.errors:
                    summary["extraction_errors"] += 1
                    row["skipped"]["error"] += 1
                    logger.error("Reprocessing failed on the record at offset %d of %s (a bug, not the page's "
                                 "fault):\n%s", offset, path, trace.rstrip())
                progress.update(res.size, res.articles)
            progress.close()
            out.close()
            status = NOTHING_READ if summary["records"] == 0 else NO_ARTICLE if summary["articles"] == 0 else OK
            if out.path is not None and status == OK:  # story groups over what this run wrote, in capture order
                # (crawler/syndication/), before -O's rename; the bodies' sketches came from the workers
                grouped = group_lines(out.path, out.start, stories) if stories is not None else None
                summary["stories"] = grouped if grouped is not None else group_jsonl(out.path, out.start)
            if status == OK:
                out.commit()
            if opts.dataset and status == OK:
                from crawler.offline.dataset import build

                archives = [{"path": row["file"], **({"refused": row["refused"]} if row.get("refused") else {})}
                            for row in files]
                manifest = build([out.path], Path(opts.dataset), archives=archives)
                summary["dataset"] = {"dir": str(opts.dataset), "articles": manifest["articles"]}
        finally:
            idx.close()
            if out is not None:
                out.discard()
                if out.dataset_tmp is not None:
                    shutil.rmtree(out.dataset_tmp, ignore_errors=True)

    seconds = time.monotonic() - started
    summary["errors"] = summary["extraction_errors"] + len(summary["damaged"])
    summary.update({
        "non_articles": dict(sorted(summary["non_articles"].items())),
        "seconds": round(seconds, 3),
        "articles_per_second": round(summary["articles"] / seconds, 1) if seconds > 0 else None,
        "processes": processes, "engine": opts.engine, "reader": reader.READER,
        "template": str(template) if template is not None else None,
        "inputs": {"files": len(inputs.files), "sources": len(sources), "bytes": total,
                   "refused": len(inputs.refused), "extracts_left_out": len(inputs.extracts)},
        "files": [{**row, "skipped": dict(sorted(row["skipped"].items())), "gave_nothing": gave_nothing(row)}
                  for row in files],
        "output": str(opts.dataset or opts.output or "-"),
        "driver_peak_rss_mib": _rss_mib(resource.RUSAGE_SELF),
        "workers_peak_rss_mib": _rss_mib(resource.RUSAGE_CHILDREN),
    })
    summary["exit_status"] = status
    return summary, status


def summary_lines(summary: dict) -> list[str]:
    """The summary in words, a line each."""
    non = summary["non_articles"]
    lines = [
        f"Reprocess: {summary['articles']} articles from {summary['records']} WARC records in "
        f"{summary['inputs']['files']} archive files ({summary['inputs']['bytes'] / 1e6:.1f} MB) in {summary['seconds']:.1f} s, "
        f"{summary['articles_per_second'] or 0:.0f} articles/s ({summary['processes']} process(es), engine "
        f"{summary['engine']})",
        f"  captures: {summary['captures']} response and revisit records, {summary['selected']} selected"
        + (f", {summary['unresolved_revisits']} revisits unresolved" if summary.get("unresolved_revisits") else ""),
        f"  non-articles: {sum(non.values())}" + (" (" + ", ".join(f"{k}: {v}" for k, v in non.items()) + ")"
                                                  if non else ""),
        f"  fallbacks: {summary['fallbacks']}   errors: {summary['errors']} ({summary['extraction_errors']} in "
        f"extraction, {len(summary['damaged'])} damaged places in WARC files)"
        + "".join(f"\n    {d['file']} at offset {d['offset']}: {d['what']}" for d in summary["damaged"][:10]),
        f"  template: {summary['template'] or 'none'}   output: {summary['output']}   driver peak RSS "
        f"{summary['driver_peak_rss_mib']} MiB",
    ]
    if summary["inputs"].get("extracts_left_out"):
        lines.append(extracts_line(summary["inputs"]["extracts_left_out"]))
    if len(summary["files"]) > 1 or any(row["gave_nothing"] for row in summary["files"]):
        lines.append("  per file:")
        for row in summary["files"][:MAX_FILE_LINES]:
            lines.append(f"    {row['file']}: {file_line(row)}")
        if len(summary["files"]) > MAX_FILE_LINES:
            lines.append(f"    ... and {len(summary['files']) - MAX_FILE_LINES} more files (--summary FILE lists them)")
    lines.append(f"Reprocess outcome: exit status {summary['exit_status']}")
    return lines


def extracts_line(n: int) -> str:
    """The summary's line on the WAT and WET files a directory held, left out (crawler/warc/inputs.py)."""
    return f"  left out: {n} WAT/WET files ({EXTRACTS_ARE})"


def write_summary(summary: dict, path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8")
    tmp.replace(path)


def no_input_status() -> int:
    return NO_INPUT
