"""Extraction speed and quality: ours (crawler.extract.regions.extract + crawler.extract.cleaning.clean) against
trafilatura, readability-lxml and jusText on the same article pages.

Pages: the site samples (tests/fixtures/samples/article-*.html), the hand-made fixture pages
(tests/fixtures/pages/*.html) whose expected JSON has a body, and articles of the replica
(fetched over HTTPS from an in-process ReplicaServer, decoded the way Scrapy decodes them)
with the replica's expected items. For every page and repeat, the four extractors run one
after another in a rotating order; the time of a page is the median of its repeats. Body F1
is the token F1 (bench.quality.token_f1) of each extractor's main text against the expected body.
Targets (issue 6): ours F1 >= 0.99 and at least 5x faster than trafilatura.

    python -m bench.extraction_speed --replica-articles 60 --repeats 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench import REPO, machine_info, median

FIXTURES = REPO / "tests" / "fixtures"


@dataclass
class Page:
    name: str  # e.g. "samples/article-afp", "replica/<path>"
    url: str
    html: str  # decoded text, as the spider hands it to the pipelines
    body: str  # expected body ("\n\n"-joined paragraphs)
    extraction: str | None = None  # expected "site-rules" / "fallback" when known


# --- the extractors: html, url -> main text -------------------------------------------------
def ours(html: str, url: str) -> str:
    from crawler.extract.extractor import article_from_page

    return article_from_page(html, url).body or ""


def trafilatura_text(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False, include_tables=False,
                               include_images=False, deduplicate=False) or ""


def readability_text(html: str, url: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(html, url=url).summary(html_partial=True)
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


def justext_text(html: str, url: str) -> str:
    import justext

    paragraphs = justext.justext(html.encode("utf-8"), justext.get_stoplist("English"), encoding="utf-8")
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


EXTRACTORS = {
    "ours": ours,
    "trafilatura": trafilatura_text,
    "readability-lxml": readability_text,
    "jusText": justext_text,
}


# --- the pages -------------------------------------------------------------------------------
def decode_like_scrapy(url: str, body: bytes, content_type: str | None = None) -> str:
    from scrapy.http import HtmlResponse

    headers = {"Content-Type": content_type} if content_type else {}
    return HtmlResponse(url=url, body=body, headers=headers).text


def fixture_pages() -> list[Page]:
    """Sample and fixture pages whose expected JSON holds a url and a body."""
    pages = []
    for folder in ("samples", "pages"):
        for html_path in sorted((FIXTURES / folder).glob("*.html")):
            expected_path = html_path.with_name(html_path.stem + ".expected.json")
            if not expected_path.exists():
                continue
            expected = json.loads(expected_path.read_text("utf-8"))
            if not isinstance(expected, dict) or not expected.get("body"):
                continue  # listing / empty pages: not articles
            url = expected.get("url") or f"https://www.spacewar.com/reports/{html_path.stem}.html"
            pages.append(Page(f"{folder}/{html_path.stem}", url, decode_like_scrapy(url, html_path.read_bytes()),
                              expected["body"], expected.get("extraction")))
    return pages


def replica_pages(n: int) -> list[Page]:
    """Up to n generated articles of the replica, with its expected items (samples/fixtures excluded)."""
    if n <= 0:
        return []
    from tests.sites.replica.server import ReplicaServer

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    fixture_urls = {p.url for p in fixture_pages()}
    pages = []
    with ReplicaServer(n_articles=max(n, 30), faults=False) as srv:
        expected = [e for e in srv.expected_items() if e.get("body") and e["url"] not in fixture_urls]
        conn = http.client.HTTPSConnection("127.0.0.1", srv.https_port, context=ctx, timeout=30)
        try:
            for item in expected[:n]:
                parts = urlsplit(item["url"])
                conn.request("GET", parts.path, headers={"Host": parts.netloc, "Accept-Encoding": "identity"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    continue
                html = decode_like_scrapy(item["url"], body, resp.getheader("Content-Type"))
                pages.append(Page("replica" + parts.path, item["url"], html, item["body"], item.get("extraction")))
        finally:
            conn.close()
    return pages


# --- the measurement ---------------------------------------------------------------------------
def run(replica_articles: int = 60, repeats: int = 5, *, extractors: dict | None = None, log=print) -> dict:
    from bench.quality import token_f1

    extractors = extractors or EXTRACTORS
    pages = fixture_pages() + replica_pages(replica_articles)
    names = list(extractors)
    # warm-up: imports, stoplists, lazily compiled rules
    for name in names:
        extractors[name](pages[0].html, pages[0].url)
    times: dict[str, dict[str, list[float]]] = {n: {p.name: [] for p in pages} for n in names}
    f1: dict[str, dict[str, float]] = {n: {} for n in names}
    errors: dict[str, int] = {n: 0 for n in names}
    turn = 0
    for r in range(repeats):
        for page in pages:
            order = names[turn % len(names):] + names[:turn % len(names)]  # interleaved, rotating
            turn += 1
            for name in order:
                t0 = time.perf_counter()
                try:
                    text = extractors[name](page.html, page.url)
                except Exception:  # a generic extractor failing on a page scores 0 there
                    text = ""
                    if r == 0:
                        errors[name] += 1
                times[name][page.name].append(time.perf_counter() - t0)
                if r == 0:
                    f1[name][page.name] = token_f1(text, page.body)
        log(f"  extraction repeat {r + 1}/{repeats} done ({len(pages)} pages x {len(names)} extractors)")
    per_page_ms = {n: {p: 1000 * median(ts) for p, ts in times[n].items()} for n in names}
    table = {}
    for n in names:
        ms = list(per_page_ms[n].values())
        scores = list(f1[n].values())
        table[n] = {
            "median_ms_per_page": round(median(ms), 3),
            "mean_ms_per_page": round(sum(ms) / len(ms), 3),
            "f1_median": round(median(scores), 4),
            "f1_mean": round(sum(scores) / len(scores), 4),
            "f1_min": round(min(scores), 4),
            "pages_f1_ge_0_99": sum(s >= 0.99 for s in scores),
            "errors": errors[n],
        }
    ours_ms = table["ours"]["mean_ms_per_page"] if "ours" in table else None
    for n in names:
        if ours_ms:
            # how many times slower than ours, over the whole page set
            table[n]["x_ours_time"] = round(table[n]["mean_ms_per_page"] / ours_ms, 1)
    worst = sorted(f1.get("ours", {}).items(), key=lambda kv: kv[1])[:5]
    groups = {}
    for p in pages:
        groups[p.name.split("/")[0]] = groups.get(p.name.split("/")[0], 0) + 1
    return {
        "pages": len(pages),
        "page_groups": groups,
        "repeats": repeats,
        "table": table,
        "speedup_vs_trafilatura": table.get("trafilatura", {}).get("x_ours_time"),
        "ours_worst_pages": [{"page": k, "f1": round(v, 4)} for k, v in worst],
        "ok": bool(pages) and errors.get("ours", 0) == 0,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replica-articles", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(json.dumps(machine_info()))
    result = run(args.replica_articles, args.repeats)
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
