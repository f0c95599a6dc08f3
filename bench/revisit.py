"""Scheduled archival over simulated days: what each daily run of `scrapy crawl spacewar -s STATE_PATH=...` costs.

    python -m bench.revisit --articles 3000 --days 10 --per-day 15 --out /tmp/revisit
    python -m bench.revisit --articles 3000 --span-days 7000      # the same 3,000 dated over 19 years
    python -m bench.revisit --synthetic 30000           # the state alone, at 30,000 rows (no crawl)

The site is the replica growing by simulated day (tests/sites/replica/growth.py: `--per-day` new
articles a day, 2 corrections a day to articles of the last 3 days and 1 to an article older than a
year), served in this process. Day d's run is the documented command (default settings, politeness
off so that the benchmark is quick) under `faketime -f +{d}d`, with one STATE_PATH, one WARC_DIR and
its own dated JSON Lines file. Per run: exit status, requests (Scrapy's downloader/request_count),
the incremental counts, wall time, peak RSS of the crawl's process, the state's size per known URL,
and the run time at the shipped politeness computed from the requests: DOWNLOAD_DELAY (0.5 s) per
request to the busiest host, a lower bound (AutoThrottle only slows it down).
The completeness checks (every article exported, corrections found in time) are those of
tests/e2e/test_revisit.py, on the same rows. Then each run's requests by kind (`breakdown`, from the
server's log): robots.txt, front pages, static pages (about, privacy, advertising), archive listings (the
newest of a section, the closed ones), new articles, their requisites, known articles by age (young < 3 days,
mid up to a year, old), 404s, redirects, and URLs asked twice in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import REPO
from bench.crawl_throughput import run_sampled

#: the shipped DOWNLOAD_DELAY (crawler/settings.py): seconds between two requests to one host
SHIPPED_DELAY = 0.5
FAST = {"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0", "PROGRESS_INTERVAL": "0", "LOG_LEVEL": "INFO"}


def day_command(outdir: Path, server, day: int, state_path: Path | str, settings: dict | None = None) -> list[str]:
    """The documented scheduled command, run `day` simulated days later (faketime)."""
    opts = dict(FAST, HOST_MAP=json.dumps(server.host_map()), WARC_DIR=str(outdir / "warc"),
                STATE_PATH=str(state_path), DEFAULT_FEED=str(outdir / "items" / f"day{day:02d}-%(time)s.jsonl"),
                STATS_FILE=str(outdir / f"day{day:02d}.stats.json"), LOG_FILE=str(outdir / f"day{day:02d}.log"),
                REPORT_DIR=str(outdir / "reports"))
    opts.update(settings or {})
    cmd = ["faketime", "-f", f"+{day}d", sys.executable, "-m", "scrapy", "crawl", "spacewar"]
    for key, value in opts.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def state_size(state_path: Path) -> tuple[int, int]:
    """(bytes on disk of the SQLite state with its WAL, rows)."""
    import sqlite3

    size = sum(p.stat().st_size for p in state_path.parent.glob(state_path.name + "*"))
    with sqlite3.connect(str(state_path)) as db:
        rows = db.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
    return size, rows


def run_day(outdir: Path, server, day: int, state_path: Path | str, settings: dict | None = None,
            timeout: float = 1800) -> dict:
    """Move the site to `day`, run that day's crawl; one row of the per-day table (items included)."""
    corrections = server.set_day(day)
    server.requests_by_host.clear()
    server.requests_log.clear()
    started = time.perf_counter()
    proc, peak_kb = run_sampled(day_command(outdir, server, day, state_path, settings), REPO,
                                outdir / f"day{day:02d}.stdio", timeout=timeout, sample_every=0.2)
    wall = time.perf_counter() - started
    stats_path = outdir / f"day{day:02d}.stats.json"
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    per_host = dict(server.requests_by_host)
    items = []
    for path in sorted((outdir / "items").glob(f"day{day:02d}-*.jsonl")):
        items += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    size, rows = state_size(state_path) if isinstance(state_path, Path) and state_path.exists() else (0, 0)
    log = outdir / f"day{day:02d}.log"
    return {
        "day": day, "exit": proc.returncode, "requests": stats.get("downloader/request_count", 0),
        "articles_on_site": len(server.site.articles),
        **{k: stats.get(f"incremental/{k}", 0) for k in ("new", "changed", "unchanged")},
        **{k: stats.get(f"revisit/{k}", 0) for k in ("revalidated", "left_due", "overdue")},
        "wall_s": round(wall, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
        "polite_minutes": round(max(per_host.values(), default=0) * SHIPPED_DELAY / 60, 1),
        "state_rows": rows, "state_bytes_per_url": round(size / rows) if rows else 0,
        "last_log_line": (log.read_text("utf-8", "replace").rstrip().splitlines() or [""])[-1] if log.exists()
        else "", "corrections": corrections, "items": items, "log": list(server.requests_log),
        "archive_pages": {path: page_no for path, (_, page_no) in server.site.archives.items()},
    }


#: the kinds of request of a run, in the order of the breakdown table
REQUEST_KINDS = ("robots", "fronts", "static", "archive_newest", "archive_closed", "new_articles", "young_rechecks",
                 "mid_rechecks", "old_rechecks", "requisites", "not_found", "redirects", "other", "repeated")


def breakdown(rows: list[dict], site) -> list[dict]:
    """Each run's requests by kind (REQUEST_KINDS), from the server's log: robots.txt; home, sections and
    feeds; the static pages; the newest archive listing of a section and the closed ones; articles never fetched before
    (new), and known ones by their age at the run (young < 3 days, mid up to a year, old beyond); page
    requisites; 404s; redirects; anything else; and requests of a URL already asked in the same run."""
    from tests.sites.replica.content import SECTIONS, STATIC_PAGES

    fronts = {"/", "/index.html", "/spacewar.xml"} | {s.path for s in SECTIONS} | {s.feed_path for s in SECTIONS}
    by_path = {a.path: a for a in site.all_articles}
    seen: set[str] = set()
    out = []
    for row in rows:
        day = row["day"]
        now = site.clock(day)
        counts = dict.fromkeys(REQUEST_KINDS, 0)
        asked: set[tuple[str, str]] = set()
        fetched = set()
        for host, path, status, _ in row.get("log", []):
            if (host, path) in asked:
                counts["repeated"] += 1
            asked.add((host, path))
            art = by_path.get(path) if host == "www.spacewar.com" else None
            if path == "/robots.txt":
                kind = "robots"
            elif 300 <= status < 400 and status != 304:
                kind = "redirects"
            elif status == 404:
                kind = "not_found"
            elif host != "www.spacewar.com" or path.startswith(("/images", "/sponsors/", "/css/")):
                kind = "requisites"
            elif art is not None:
                age = (now - art.when).total_seconds() / 86400
                kind = ("new_articles" if path not in seen else "young_rechecks" if age < 3
                        else "mid_rechecks" if age <= 365 else "old_rechecks")
                fetched.add(path)
            elif path in row["archive_pages"]:
                kind = "archive_newest" if row["archive_pages"][path] == 1 else "archive_closed"
            elif path in fronts:
                kind = "fronts"
            elif path in STATIC_PAGES:
                kind = "static"
            else:
                kind = "other"
            counts[kind] += 1
        seen |= fetched
        out.append({"day": day, "requests": len(row.get("log", [])), **counts})
    return out


def simulate(outdir: Path, n_articles: int, days: int, per_day: int, settings: dict | None = None,
             young: int = 2, old: int = 1, timeout: float = 1800, state: str | None = None,
             span_days: float | None = None) -> tuple[list[dict], object]:
    """Days 0..`days` of scheduled runs against a growing replica: (the rows, the site). `state`: a STATE_PATH
    other than <outdir>/state.sqlite (a redis:// URL); `span_days`: the archive's dates cover that many days."""
    from tests.sites.replica.growth import GrowingServer, GrowingSite

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    site = GrowingSite(n_articles, days=days, per_day=per_day, young=young, old=old, span_days=span_days)
    rows = []
    with GrowingServer(site, record=False) as server:  # no exchange log: 30,000 articles' bytes would not fit
        for day in range(days + 1):
            rows.append(run_day(outdir, server, day, state or outdir / "state.sqlite", settings, timeout))
            print(table([rows[-1]], header=day == 0), flush=True)
    return rows, site


def check(rows: list[dict], site) -> dict:
    """The completeness targets on the runs' rows: what is missing or late (empty lists: met)."""
    exported: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        for item in row["items"]:
            exported.setdefault(item["url"], []).append((row["day"], item.get("body") or ""))
    published = {a.url for a in site.articles}
    never = sorted(published - set(exported))
    late_young, late_old = [], []
    last_day = rows[-1]["day"]
    for day, url, text in site.corrections:
        found = [d for d, body in exported.get(url, []) if text in body]
        first = min(found) if found else None
        art = site.by_path.get("/" + url.split("/", 3)[3])
        age_days = (site.clock(day) - art.when).total_seconds() / 86400
        if age_days <= 3 and first != day:
            late_young.append((day, url, first))
        elif age_days > 365 and day + 6 <= last_day and (first is None or first > day + 6):
            late_old.append((day, url, first))
    return {"never_exported": never, "young_corrections_late": late_young, "old_corrections_late": late_old}


def markdown_table(cols, rows: list[dict], header: bool = True) -> str:
    """The `cols` of `rows` as a Markdown table (`header`: with its head row and rule)."""
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)] if header else []
    out += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def table(rows: list[dict], header: bool = True) -> str:
    cols = ("day", "exit", "articles_on_site", "requests", "new", "changed", "unchanged", "revalidated",
            "left_due", "overdue", "polite_minutes", "wall_s", "peak_rss_mb", "state_bytes_per_url")
    return markdown_table(cols, rows, header)


def breakdown_table(kinds: list[dict]) -> str:
    return markdown_table(("day", "requests", *REQUEST_KINDS), kinds)


def synthetic_state(n: int, path: Path, settings: dict | None = None) -> dict:
    """The state alone at n article rows (SQLite), scheduled by the default policy: bytes per URL, the time of a run's
    plan (by the policy of `settings`: e.g. a lower REVISIT_ARTICLE_MAX_DAYS), of a row lookup."""
    import random

    from crawler.incremental.policy import ARTICLE, DAY, RevisitPolicy
    from crawler.incremental.revisit import Revisits
    from crawler.incremental.state import SqliteState, utc_iso

    if path.exists():
        path.unlink()
    state = SqliteState(path, batch=5000)
    rng = random.Random(1)
    now = time.time()
    revisits = Revisits(state, RevisitPolicy(), budget=1000, clock=lambda: now)
    started = time.perf_counter()
    urls = []
    for k in range(n):
        url = f"https://www.spacewar.com/reports/Synthetic_article_number_{k}_of_the_archive_999.html"
        urls.append(url)
        published = now - rng.uniform(0, 20 * 365) * DAY
        state.record_fetch(url, utc_iso(now - 3 * DAY), 200, "sha1:" + "%040x" % rng.getrandbits(160))
        state.record_export(url, "%040x" % rng.getrandbits(160), "2026-12-07T00:00:00Z", '"%016x"' % k,
                            "Mon, 07 Dec 2026 00:00:00 GMT")
        revisits.reschedule(url, ARTICLE, None, published=published, now=now - 3 * DAY)
    state.commit()
    fill = time.perf_counter() - started
    size, rows = state_size(path)
    started = time.perf_counter()
    plan = Revisits(state, RevisitPolicy.from_settings((settings or {}).get), budget=1000, clock=lambda: now).plan
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    for url in rng.sample(urls, 2000):
        state.get(url)
    lookup_ms = (time.perf_counter() - started) / 2000 * 1000
    state.close()
    return {"rows": rows, "bytes_per_url": round(size / rows), "fill_s": round(fill, 1),
            "plan_s": round(plan_s, 3), "planned": len(plan.taken), "left_due": plan.left,
            "lookup_ms": round(lookup_ms, 3)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.revisit", description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--per-day", type=int, default=15)
    ap.add_argument("--span-days", type=float, default=None,
                    help="the archive's dates cover this many days (default: the replica's spacing, ~2 years at 3,000)")
    ap.add_argument("--out", default="/tmp/bench-revisit")
    ap.add_argument("--synthetic", type=int, default=0, help="only fill a state of this many rows and time it")
    ap.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                    help="a crawl setting for every run (e.g. REVISIT_ARTICLE_MAX_DAYS=10)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.synthetic:
        settings = dict(s.split("=", 1) for s in args.settings)
        print(json.dumps(synthetic_state(args.synthetic, out / "synthetic.sqlite", settings), indent=1))
        return 0
    settings = dict(s.split("=", 1) for s in args.settings)
    rows, site = simulate(out / "runs", args.articles, args.days, args.per_day, settings, span_days=args.span_days)
    first = rows[0]["requests"] or 1
    print(table(rows))
    n_old = sum(1 for a in site.articles if (site.clock(args.days) - a.when).total_seconds() > 365 * 86400)
    print(f"articles older than a year by the last day: {n_old} of {len(site.articles)}")
    print("requests of each later run / first run:",
          ", ".join(f"{r['requests'] / first:.1%}" for r in rows[1:]))
    kinds = breakdown(rows, site)
    print(breakdown_table(kinds))
    result = check(rows, site)
    print(json.dumps({k: len(v) for k, v in result.items()}), json.dumps(result)[:2000])
    (out / "rows.json").write_text(json.dumps([{k: v for k, v in r.items() if k not in ("items", "log")}
                                               for r in rows], indent=1, default=str))
    (out / "breakdown.json").write_text(json.dumps(kinds, indent=1))
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(REPO))
    sys.exit(main())
