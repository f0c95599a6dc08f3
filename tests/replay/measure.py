"""Replay figures of two scheduled runs of the replica, in pywb and in ReplayWeb.page, for every article.

    python -m tests.replay.measure OUT [--repo CHECKOUT] [--articles 40] [--json OUT/figures.json]

Crawls with CHECKOUT's code (default: this one; an older checkout gives the "before" figures) and
this checkout's replica and tools (tests/replay/tools.py), then prints:

* pywb over all WARC files of both runs: each article's latest capture (`/coll/mp_/<url>`) sorted into
  html (its latest text), html-older, json (an item record answered), 304 (an empty revisit) or
  error, and whether its Memento-Datetime is the date of its latest record; the images the items list
  (`id_`: 200 image/*); the home page's links by kind, with and without docs/pywb-rules.yaml;
* pywb over the run-2 WACZ alone: articles replayed with their latest text;
* ReplayWeb.page over each run's WACZ, offline: articles in the page list, replayed with their latest
  text, images shown, found by a word of their body, and the home page's links found, by kind.

A few minutes on two cores (ReplayWeb.page replays every article). Used for docs/replay.md's figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.parse
from collections import Counter, defaultdict
from pathlib import Path

import lxml.html

from tests.replay import tools
from tests.replay.crawls import records, save_manifest, two_runs
from tests.replay.pywb import fetch, memento_ts, pywb_server, warc_ts

RULES = Path(__file__).resolve().parents[2] / "docs" / "pywb-rules.yaml"
SITE_HOSTS = ("www.spacewar.com", "spacewar.com")


def words(text: str) -> str:
    return " ".join(text.split())


def text_of(body: bytes, headers=None) -> str:
    from w3lib.encoding import html_to_unicode

    _, html = html_to_unicode(headers.get("Content-Type") if headers else None, body)
    root = lxml.html.document_fromstring(html or "<html></html>")
    for el in root.iter("script", "style"):
        el.text = ""
    return words(root.text_content())


def shows(item: dict, text: str) -> bool:
    paras = [words(p) for p in item["body"].split("\n\n") if p.strip()]
    return paras[0] in text and paras[-1] in text


def link_kind(href: str, resolved: str) -> str:
    parts = urllib.parse.urlsplit(resolved)
    query = urllib.parse.parse_qs(parts.query)
    if parts.hostname not in SITE_HOSTS:
        return "off-site"
    if any(k.startswith("utm_") for k in query):
        return "utm_"
    if "ref" in query:
        return "?ref="
    if parts.hostname == "spacewar.com":
        return "bare host"
    if parts.scheme == "http":
        return "http://"
    if parts.fragment:
        return "fragment"
    if not href.startswith(("http://", "https://", "/")):
        return "relative"
    return "canonical" if href.startswith("https://") else "root-relative"


def home_links(home: str, html: str) -> list[tuple[str, str]]:
    """(absolute URL without fragment, kind) of each <a href> of the home page."""
    out = []
    for href in lxml.html.document_fromstring(html).xpath("//a/@href"):
        if href.startswith(("#", "mailto:", "javascript:")):
            continue
        resolved = urllib.parse.urljoin(home, href)
        out.append((resolved.split("#")[0], link_kind(href, resolved)))
    return out


def by_kind(rows) -> dict:
    out = defaultdict(lambda: [0, 0])
    for kind, ok in rows:
        out[kind][0] += 1
        out[kind][1] += bool(ok)
    return {k: f"{v[1]}/{v[0]}" for k, v in sorted(out.items())}


def pywb_figures(runs, sources, workdir: Path, rules: bool, links: bool = True) -> dict:
    latest = {}
    for _, h, _ in records(sources if all(p.suffix != ".wacz" for p in sources) else runs.all_warc_files()):
        latest[h.get_header("WARC-Target-URI")] = max(latest.get(h.get_header("WARC-Target-URI"), ""),
                                                      h.get_header("WARC-Date"))
    out = {}
    with pywb_server(sources, workdir, rules_file=RULES if rules else None) as base:
        kinds, stale = Counter(), 0
        for url in runs.expected:
            status, headers, body, _ = fetch(f"{base}/coll/mp_/{url}")
            ctype = headers.get_content_type() if headers else ""
            if status == 304:
                kind = "304"
            elif status == 200 and ctype == "application/json":
                kind = "json"
            elif status == 200 and ctype == "text/html":
                text = text_of(body, headers)
                kind = "html" if shows(runs.latest_item(url), text) else \
                    "html-older" if any(shows(i, text) for i in runs.items[url][:-1]) else "html-other"
            else:
                kind = f"error {status}"
            kinds[kind] += 1
            stale += kind.startswith("html") and memento_ts(headers) != warc_ts(latest.get(url, ""))
        out["articles"] = dict(kinds)
        out["memento_not_latest"] = stale
        images = {i["url"] for items in runs.items.values() for i in items[-1].get("images") or []}
        ok = 0
        for img in images:
            status, headers, body, _ = fetch(f"{base}/coll/id_/{img}")
            ok += status == 200 and headers.get_content_type().startswith("image/")
        out["images"] = f"{ok}/{len(images)}"
        if links:
            status, headers, body, _ = fetch(f"{base}/coll/id_/https://www.spacewar.com/")
            rows = []
            if status == 200:
                for target, kind in home_links("https://www.spacewar.com/", body.decode("latin-1")):
                    st, hd, bd, _ = fetch(f"{base}/coll/mp_/{target}")
                    rows.append((kind, st == 200 and bool(bd)))
            out["home_links_shown"] = f"{sum(ok for _, ok in rows)}/{len(rows)}"
            out["home_links_by_kind"] = by_kind(rows)
    return out


def rwp_figures(runs, run) -> dict:
    from tests.replay.rwp import ReplayWebPage, search_words, shown

    items = {url: runs.latest_item(url) for url in runs.expected if run.number == 2 or runs.items[url][0]}
    if run.number == 1:
        items = {url: runs.items[url][0] for url in runs.expected}
    out = {}
    with ReplayWebPage(run.wacz, tools.rwp_dir(), tools.chromium()) as rwp:
        entries = rwp.page_list()
        ts_of = {e["url"]: e["ts"] for e in entries}
        out["page_list"] = f"{sum(u in ts_of for u in items)}/{len(items)}"
        wanted = search_words(items)
        out["search"] = f"{sum(url in rwp.search(word) for url, word in wanted.items())}/{len(wanted)}"
        text_ok, img_ok, img_all = 0, 0, 0
        for url, item in items.items():
            data = rwp.replay(url, ts_of.get(url, ""))
            text_ok += shows(item, data["text"])
            for img in item.get("images") or []:
                img_all += 1
                img_ok += shown(data["images"], img["url"]) is not None
        out["text"] = f"{text_ok}/{len(items)}"
        out["images"] = f"{img_ok}/{img_all}"
        status, _, html = rwp.sw_fetch(f"w/{rwp.coll}/id_/https://www.spacewar.com/")
        rows = []
        if status == 200:
            home_ts = max((e["ts"] for e in entries if e["url"] == "https://www.spacewar.com/"), default="")
            stamps = [ts for url, ts in ts_of.items() if url == "https://www.spacewar.com/"]
            for target, kind in home_links("https://www.spacewar.com/", html):
                st, _, _ = rwp.sw_fetch(f"w/{rwp.coll}/{home_ts or (stamps[0] if stamps else '')}mp_/{target}")
                rows.append((kind, st != 404 and st < 500))
        out["home_links_found"] = f"{sum(ok for _, ok in rows)}/{len(rows)}" if rows else f"home page: {status}"
        out["home_links_by_kind"] = by_kind(rows)
        out["outside_requests"] = len(rwp.outside_requests())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--repo", help="the checkout whose crawler runs (default: this one)")
    ap.add_argument("--articles", type=int, default=40)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from tests.sites.replica.server import ReplicaServer

    with ReplicaServer(n_articles=args.articles, faults=True, slow_seconds=0.5) as server:
        runs = two_runs(Path(args.out), server, repo=Path(args.repo).resolve() if args.repo else None)
    save_manifest(runs)
    figures = {"articles": len(runs.expected), "stats": [
        {k: v for k, v in r.stats.items() if k.startswith(("incremental/", "wacz/", "requisites/", "warc/revisits"))}
        for r in runs.runs]}
    with tempfile.TemporaryDirectory(prefix="measure-") as tmp:
        figures["pywb_all_warcs"] = pywb_figures(runs, runs.all_warc_files(), Path(tmp) / "a", rules=False)
        figures["pywb_all_warcs_rules"] = pywb_figures(runs, runs.all_warc_files(), Path(tmp) / "b", rules=True)
        figures["pywb_run2_wacz"] = pywb_figures(runs, [runs.runs[1].wacz], Path(tmp) / "c", rules=False, links=False)
    for run in runs.runs:
        figures[f"rwp_run{run.number}_wacz"] = rwp_figures(runs, run) if run.wacz.is_file() else "no WACZ"
    text = json.dumps(figures, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
