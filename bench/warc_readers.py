"""WARC readers on our own files: FastWARC (fastwarc.warc.ArchiveIterator) against warcio.

    python -m bench.warc_readers --articles 1500 --rounds 5 [--workdir DIR] [--dir WARC_DIR]

The files are a real crawl of the replica (bench/archive_gen.py's source crawl, kept in WORKDIR),
or bench/archive_gen.py's generated archive of --articles when that is more than the source, or
the WARC files of --dir. Each file is read as stored (.warc.gz, one gzip member per record) and
decompressed (.warc, written once into a temporary directory), in two tasks:

* full scan: every record, its WARC headers, HTTP headers parsed where there are any, the
  payload read to its end (warcio: raw_stream; FastWARC: reader, auto_decode="none");
* responses only: the response records, as a reprocessor reads them (FastWARC filters by
  record_types; warcio iterates all and skips the others).

Rounds are interleaved (every reader and variant once per round, the order rotating) and the
best round of each is kept: records/s, MB/s of the bytes as stored (and of the uncompressed
bytes), the ratio FastWARC/warcio. A check compares what the readers return, record by record
(count, type, record id, target URI, the payload's SHA-1), with FastWARC's options at their
defaults, with verify_digests=True and with auto_decode="all", and names every record FastWARC
drops or reads differently.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import machine_info

READERS = ("warcio", "fastwarc")
TASKS = ("full", "responses")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- the readers -------------------------------------------------------------------------------
def scan_warcio(paths: list[Path], responses_only: bool) -> tuple[int, int]:
    """(records, payload bytes) read with warcio."""
    from warcio.archiveiterator import ArchiveIterator

    records = payload = 0
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if responses_only and rec.rec_type != "response":
                    continue
                rec.rec_headers.get_header("WARC-Target-URI")
                if rec.http_headers is not None:
                    rec.http_headers.get_statuscode()
                payload += len(rec.raw_stream.read())
                records += 1
    return records, payload


def scan_fastwarc(paths: list[Path], responses_only: bool) -> tuple[int, int]:
    """(records, payload bytes) read with FastWARC."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    types = WarcRecordType.response if responses_only else WarcRecordType.any_type
    records = payload = 0
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, record_types=types, parse_http=True, auto_decode="none"):
                rec.headers.get("WARC-Target-URI")
                if rec.http_headers is not None:
                    rec.http_headers.status_code
                payload += len(rec.reader.read())
                records += 1
    return records, payload


SCANS = {"warcio": scan_warcio, "fastwarc": scan_fastwarc}


# --- what each reader returns, record by record -------------------------------------------------
def listing_warcio(paths: list[Path], decode: bool = False) -> list[tuple]:
    """(file, type, record id, target URI, SHA-1 of the payload) of every record, with warcio
    (decode: content_stream(), transfer- and content-codings removed; else raw_stream)."""
    from warcio.archiveiterator import ArchiveIterator

    out = []
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                data = rec.content_stream().read() if decode and rec.http_headers is not None else rec.raw_stream.read()
                out.append((path.name, rec.rec_type, rec.rec_headers.get_header("WARC-Record-ID"),
                            rec.rec_headers.get_header("WARC-Target-URI"), hashlib.sha1(data).hexdigest()))
    return out


def listing_fastwarc(paths: list[Path], **options) -> list[tuple]:
    from fastwarc.warc import ArchiveIterator

    options.setdefault("parse_http", True)
    out, errors = [], []
    for path in paths:
        with open(path, "rb") as fh:
            try:
                for rec in ArchiveIterator(fh, **options):
                    data = rec.reader.read()
                    out.append((path.name, str(rec.record_type).split(".")[-1], rec.record_id,
                                rec.headers.get("WARC-Target-URI"), hashlib.sha1(data).hexdigest()))
            except Exception as exc:  # noqa: BLE001 - what the reader does is the finding
                errors.append(f"{path.name}: {exc!r} after {len(out)} records")
    listing_fastwarc.errors = errors
    return out


def digest_check_fastwarc(paths: list[Path]) -> dict:
    """FastWARC's own digest checks on every record: how many blocks and payloads verify."""
    from fastwarc.warc import ArchiveIterator

    out = {"records": 0, "block_ok": 0, "block_bad": [], "block_missing": 0,
           "payload_ok": 0, "payload_bad": [], "payload_missing": 0}
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh, parse_http=False):
                out["records"] += 1
                has_payload = "WARC-Payload-Digest" in rec.headers
                if "WARC-Block-Digest" not in rec.headers:
                    out["block_missing"] += 1
                elif rec.verify_block_digest(consume=False):
                    out["block_ok"] += 1
                else:
                    out["block_bad"].append((path.name, str(rec.record_type).split(".")[-1], rec.record_id))
                if not has_payload:
                    out["payload_missing"] += 1
                    continue
                rec.parse_http(auto_decode="none")
                if rec.verify_payload_digest(consume=True):
                    out["payload_ok"] += 1
                else:
                    te = rec.http_headers.get("Transfer-Encoding") if rec.http_headers else None
                    out["payload_bad"].append((path.name, str(rec.record_type).split(".")[-1], rec.record_id,
                                               rec.headers.get("WARC-Target-URI"), te))
    for key in ("block_bad", "payload_bad"):
        out[f"{key}_count"] = len(out[key])
        out[key] = out[key][:5]
    return out


def _diff(reference: list[tuple], other: list[tuple], payload: bool = True) -> dict:
    """What `other` drops, adds or reads differently, by record id (payload SHA-1 compared when asked)."""
    errors = list(getattr(listing_fastwarc, "errors", []))
    listing_fastwarc.errors = []
    ref = {r[2]: r for r in reference}
    oth = {r[2]: r for r in other}
    dropped = [ref[k][:4] for k in ref if k not in oth]
    added = [oth[k][:4] for k in oth if k not in ref]
    differ = [ref[k][:4] for k in ref if k in oth and (ref[k][3] != oth[k][3] or (payload and ref[k][4] != oth[k][4]))]
    types = sorted({(ref[k][1], oth[k][1]) for k in ref if k in oth})
    # the last record read, when the reader stopped early (everything after it dropped)
    order = [r[2] for r in reference]
    last = None
    if other and dropped and other[-1][2] in ref:
        at = order.index(other[-1][2])
        if {d[2] for d in dropped} == set(order[at + 1:]):
            last = other[-1][:4]
    return {"records": len(other), "reference": len(reference), "dropped": len(dropped), "added": len(added),
            "errors": errors, "last_read_before_stop": last,
            "payload_or_uri_differs": len(differ), "dropped_examples": dropped[:5],
            "differs_examples": differ[:5], "dropped_types": sorted({d[1] for d in dropped}),
            "type_names": types}


def compare(paths: list[Path]) -> dict:
    """FastWARC against warcio on the same files, record by record, under several options."""
    ref_raw = listing_warcio(paths)
    ref_decoded = listing_warcio(paths, decode=True)
    out = {"warcio_records": len(ref_raw)}
    out["defaults"] = _diff(ref_raw, listing_fastwarc(paths))
    out["auto_decode_none"] = _diff(ref_raw, listing_fastwarc(paths, auto_decode="none"))
    out["verify_digests"] = _diff(ref_raw, listing_fastwarc(paths, auto_decode="none", verify_digests=True))
    out["auto_decode_all"] = _diff(ref_decoded, listing_fastwarc(paths, auto_decode="all"))
    out["auto_decode_content"] = _diff(ref_decoded, listing_fastwarc(paths, auto_decode="content"), payload=False)
    out["auto_decode_transfer"] = _diff(ref_raw, listing_fastwarc(paths, auto_decode="transfer"), payload=False)
    out["responses_only"] = _diff([r for r in ref_raw if r[1] == "response"],
                                  listing_fastwarc(paths, auto_decode="none", record_types=_response_type()))
    out["digests"] = digest_check_fastwarc(paths)
    return out


def _response_type():
    from fastwarc.warc import WarcRecordType

    return WarcRecordType.response


# --- files ---------------------------------------------------------------------------------------
def decompressed(paths: list[Path], into: Path) -> list[Path]:
    """The same files, gzip removed (.warc), written once into `into`."""
    into.mkdir(parents=True, exist_ok=True)
    out = []
    for path in paths:
        target = into / path.name[: -len(".gz")]
        if not target.exists():
            with gzip.open(path, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        out.append(target)
    return out


def run(paths: list[Path], rounds: int = 5, *, log=log, check: bool = True, tmp: Path | None = None) -> dict:
    """Both readers on `paths` (.warc.gz) and their decompressed copies, interleaved, best of `rounds`."""
    own = None
    if tmp is None:
        own = tempfile.TemporaryDirectory(prefix="bench-readers-")
        tmp = Path(own.name)
    try:
        plain = decompressed(paths, Path(tmp) / "plain")
        files = {"gzip": paths, "none": plain}
        sizes = {k: sum(p.stat().st_size for p in v) for k, v in files.items()}
        variants = [(reader, task, comp) for comp in files for task in TASKS for reader in READERS]
        best: dict[tuple, float] = {}
        counts: dict[tuple, tuple[int, int]] = {}
        for i in range(rounds):
            order = variants[i % len(variants):] + variants[:i % len(variants)]
            for reader, task, comp in order:
                t0 = time.perf_counter()
                n, payload = SCANS[reader](files[comp], task == "responses")
                dt = time.perf_counter() - t0
                key = (reader, task, comp)
                best[key] = min(best.get(key, dt), dt)
                counts[key] = (n, payload)
            log(f"  readers round {i + 1}/{rounds}: " + ", ".join(
                f"{r}/{t}/{c} {best[(r, t, c)]:.3f}s" for r, t, c in variants))
        rows = []
        for comp in files:
            for task in TASKS:
                row = {"compression": comp, "task": task}
                for reader in READERS:
                    key = (reader, task, comp)
                    n, payload = counts[key]
                    row[reader] = {"seconds": round(best[key], 4), "records": n, "payload_bytes": payload,
                                   "records_per_s": round(n / best[key]), "mb_per_s": round(sizes[comp] / best[key] / 1e6, 1),
                                   "uncompressed_mb_per_s": round(sizes["none"] / best[key] / 1e6, 1)}
                row["ratio"] = round(best[("warcio", task, comp)] / best[("fastwarc", task, comp)], 2)
                row["counts_agree"] = counts[("warcio", task, comp)] == counts[("fastwarc", task, comp)]
                rows.append(row)
        out = {"ok": all(r["counts_agree"] for r in rows), "files": len(paths), "rounds": rounds,
               "bytes_gzip": sizes["gzip"], "bytes_uncompressed": sizes["none"], "rows": rows}
        if check:
            out["check"] = {"gzip": compare(paths), "none": compare(plain)}
        return out
    finally:
        if own is not None:
            own.cleanup()


def check_summary(check: dict) -> list[str]:
    """One line per FastWARC option that drops, adds or misreads records (against warcio)."""
    lines = []
    for comp, c in check.items():
        for option, d in c.items():
            if not isinstance(d, dict) or "dropped" not in d:
                continue
            if d["dropped"] or d["added"] or d["payload_or_uri_differs"] or d["errors"]:
                lines.append(f"- {'.warc.gz' if comp == 'gzip' else '.warc'}, {option}: FastWARC returned "
                             f"{d['records']} of warcio's {d['reference']} records (dropped {d['dropped']}: "
                             f"{', '.join(d['dropped_types'])}; payload or URI differs {d['payload_or_uri_differs']}); "
                             f"errors {d['errors'] or 'none'}" + (f"; it stopped after {d['last_read_before_stop'][1]} "
                             f"{d['last_read_before_stop'][3]}" if d["last_read_before_stop"] else ""))
            else:
                lines.append(f"- {'.warc.gz' if comp == 'gzip' else '.warc'}, {option}: same {d['records']} records")
        dg = c.get("digests")
        if dg:
            lines.append(f"- {'.warc.gz' if comp == 'gzip' else '.warc'}, FastWARC digest checks: block "
                         f"{dg['block_ok']} ok, {dg['block_bad_count']} bad, {dg['block_missing']} without one; payload "
                         f"{dg['payload_ok']} ok, {dg['payload_bad_count']} bad, {dg['payload_missing']} without one")
    return lines


def versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("warcio", "fastwarc")}


def render(res: dict, command: str) -> str:
    lines = [f"Command: `{command}` ({res['files']} WARC files, {res['bytes_gzip'] / 1e6:.1f} MB as stored, "
             f"{res['bytes_uncompressed'] / 1e6:.1f} MB uncompressed; best of {res['rounds']} interleaved rounds; "
             f"{', '.join(f'{k} {v}' for k, v in res.get('versions', {}).items())}).\n",
             "| files | task | records | warcio records/s | warcio MB/s | FastWARC records/s | FastWARC MB/s | "
             "FastWARC/warcio | counts agree |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        w, f = r["warcio"], r["fastwarc"]
        lines.append(f"| {'.warc.gz' if r['compression'] == 'gzip' else '.warc'} | {r['task']} | {w['records']} | "
                     f"{w['records_per_s']:,} | {w['mb_per_s']} | {f['records_per_s']:,} | {f['mb_per_s']} | "
                     f"**{r['ratio']}x** | {'yes' if r['counts_agree'] else 'NO'} |")
    lines.append("\nMB/s are of the bytes as stored (compressed for .warc.gz).")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--source-articles", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workdir", type=Path, help="keep the source crawl and the archives here (reused)")
    ap.add_argument("--dir", type=Path, help="read these WARC files instead")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    own = None
    if args.dir:
        paths = sorted(args.dir.glob("*.warc.gz"))
    else:
        from bench import archive_gen

        workdir = args.workdir
        if workdir is None:
            own = tempfile.TemporaryDirectory(prefix="bench-readers-src-")
            workdir = Path(own.name)
        man = archive_gen.archive(args.articles, args.source_articles, workdir)
        paths = sorted(Path(man["dir"]).glob("*.warc.gz"))
    try:
        res = run(paths, args.rounds)
        res["versions"] = versions()
        res["machine"] = machine_info()
        cmd = "python -m bench.warc_readers " + " ".join(argv if argv is not None else sys.argv[1:])
        print(render(res, cmd.strip()))
        print("\n".join(check_summary(res["check"])))
        if args.json:
            args.json.write_text(json.dumps(res, indent=1, default=str))
        return 0 if res["ok"] else 1
    finally:
        if own is not None:
            own.cleanup()


if __name__ == "__main__":
    raise SystemExit(main())
