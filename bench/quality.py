"""Extraction quality table: for every fixture article, body token F1 against the expected body, paragraphs
found / expected, and time per page (ours and trafilatura, median over repeats).

Pages: tests/fixtures/samples/article-*.html and tests/fixtures/pages/*.html that have an expected
JSON with a body, decoded from their bytes the way Scrapy decodes them. `token_f1` is the score the
other benchmarks and tests/unit/extract/test_quality.py use.

    python -m bench.quality [--repeats 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.extraction_speed import trafilatura_text  # the same call the extraction benchmark times

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str | None) -> list[str]:
    """Lower-cased word tokens of a text (punctuation and whitespace ignored)."""
    return _TOKEN.findall((text or "").lower())


def token_f1(pred: str | None, gold: str | None) -> float:
    """F1 of the bag of word tokens of `pred` against `gold`: 1.0 identical words, 0.0 nothing in common."""
    p, g = Counter(tokens(pred)), Counter(tokens(gold))
    if not p and not g:
        return 1.0
    if not p or not g:
        return 0.0
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


@dataclass
class FixturePage:
    name: str  # "samples/article-afp", "pages/kharkiv-2024-05-30"
    path: Path
    url: str
    html: str  # decoded as Scrapy decodes the bytes
    expected: dict


def decode_like_scrapy(url: str, body: bytes, content_type: str | None = None) -> str:
    from scrapy.http import HtmlResponse

    headers = {"Content-Type": content_type} if content_type else {}
    return HtmlResponse(url=url, body=body, headers=headers).text


def fixture_pages(*, articles_only: bool = True) -> list[FixturePage]:
    """Fixture pages with their expected JSON; with articles_only, those whose expectation has a body."""
    pages = []
    for folder, pattern in (("samples", "article-*.html"), ("pages", "*.html")):
        for path in sorted((FIXTURES / folder).glob(pattern)):
            exp_path = path.with_name(path.stem + ".expected.json")
            if not exp_path.exists():
                continue
            expected = json.loads(exp_path.read_text("utf-8"))
            if articles_only and not expected.get("body"):
                continue
            url = expected.get("url") or f"https://www.spacewar.com/reports/{path.stem}.html"
            pages.append(FixturePage(f"{folder}/{path.stem}", path, url,
                                     decode_like_scrapy(url, path.read_bytes()), expected))
    return pages


def ours(html: str, url: str) -> dict:
    from crawler.extract.extractor import article_from_page

    return article_from_page(html, url).fields()


def _median_ms(fn, html: str, url: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(html, url)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def run(repeats: int = 20, *, compare: bool = True) -> list[dict]:
    """One row per fixture article: page, extraction, f1, paragraphs, expected_paragraphs, ms, trafilatura_ms."""
    rows = []
    pages = fixture_pages()
    if pages:  # warm-up: imports, compiled rules
        ours(pages[0].html, pages[0].url)
        if compare:
            trafilatura_text(pages[0].html, pages[0].url)
    for page in pages:
        item = ours(page.html, page.url)
        gold = page.expected["body"]
        row = {
            "page": page.name,
            "extraction": item["extraction"],
            "f1": round(token_f1(item["body"], gold), 4),
            "paragraphs": len(item["body"].split("\n\n")) if item["body"] else 0,
            "expected_paragraphs": len(gold.split("\n\n")),
            "ms": round(_median_ms(ours, page.html, page.url, repeats), 3),
        }
        if compare:
            row["trafilatura_ms"] = round(_median_ms(trafilatura_text, page.html, page.url, max(3, repeats // 4)), 3)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    compare = any("trafilatura_ms" in r for r in rows)
    head = ["page", "method", "F1", "paragraphs", "ms/page"] + (["trafilatura ms", "x faster"] if compare else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["page"], r["extraction"], f"{r['f1']:.4f}", f"{r['paragraphs']}/{r['expected_paragraphs']}",
                 f"{r['ms']:.2f}"]
        if compare:
            cells += [f"{r['trafilatura_ms']:.2f}", f"{r['trafilatura_ms'] / r['ms']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if rows:
        ms = statistics.median(r["ms"] for r in rows)
        summary = f"median {ms:.2f} ms/page over {len(rows)} pages; min F1 {min(r['f1'] for r in rows):.4f}"
        if compare:
            site = [r for r in rows if r["extraction"] == "site-rules"]
            if site:
                ratio = statistics.median(r["trafilatura_ms"] / r["ms"] for r in site)
                summary += f"; site-rules pages {ratio:.1f}x faster than trafilatura (median)"
        lines += ["", summary]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per page (the median is shown)")
    ap.add_argument("--no-compare", action="store_true", help="do not time trafilatura")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = ap.parse_args(argv)
    rows = run(args.repeats, compare=not args.no_compare)
    print(json.dumps(rows, indent=1) if args.json else table(rows))
    return 0 if rows and all(r["f1"] >= 0.99 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
