"""Cleaning quality on the cluttered replica: seeded sites whose clutter we did not write the rules for.

For every seed, a replica site with that clutter seed (tests/sites/replica/clutter.py: one site template per
seed, its own wordings, markup and places for 27 clutter kinds, story paragraphs that legitimately
repeat across articles, and pages that carry further stories) is generated; its article pages are
rendered, decoded as Scrapy decodes them and fed, in crawl order (newest first), to the cleaner under
test. The default cleaner is the crawl's (`crawl`): each page read (`read_page`), counted in the site's
learned template and judged once CLEANING_LOOKAHEAD more pages were counted, exactly as
pipelines/extract.py does; `page` is `article_from_page(html, url)` alone (structure and the site
rules, nothing learned). `--plain` uses the replica's plain stress variant (docs/clutter-replica.md).

Per seed it reports:

* body F1 (bench.quality.token_f1) against the expected body, mean and min over the pages, and the
  mean over the pages with one story only (clutter alone, without the further stories' text);
* story recall: the share of the expected body's word tokens found in the body (all pages pooled),
  and the share of the **repeated story paragraphs** (stories.py: text that recurs across the site's
  articles and must be kept) found whole in the body;
* leaks: clutter strings that reached a body. The generator knows every visible string it put on a
  page (PagePlan.needles); a string counts as leaked when it occurs in the body more often than in
  the expected body (word-bounded, whitespace-normalised). Also the number of pages with a leak;
* further stories: when the cleaner's fields carry `related_stories`, how many were found and their
  body F1; in any case, the share of the further stories' paragraphs that leaked into `body`;
* rights and image captions exact (share of pages);
* ms per page (median over the pages, one timed call each; for the crawl's cleaner, the page's reading plus its
  own verdict, wherever the look-ahead or the warm-up put it), and trafilatura's F1 and ms on the same
  pages in the same run (`bench.extraction_speed.trafilatura_text`).

Seeds: tests/sites/replica/clutter.py defines DEV_SEEDS and HELDOUT_SEEDS. Tune the cleaning against the
development seeds only; held-out seeds are for the report (bench/RESULTS.md) and are never looked at
page by page while tuning. `--seeds dev`, `--seeds heldout`, `--seeds all` or a list (`1,2,3`).

A cleaner that learns from the site (issue 14) is measured the same way: `--cleaner module:factory`
names a callable that returns one object per seed, kept across that seed's pages:

    obj(html, url) -> fields            # called for every page, in crawl order
    obj.learn(html, url)                # optional: used for the warm-up pages instead of obj(...)
    obj.finish() -> {url: fields}       # optional: revised fields at the end of the crawl (a second look)

`--warmup N` feeds the first N pages (`all`: every page) to the object before the measured pass, which
then covers every page; `--warmup 0` (the default) measures each page when it arrives.

    python -m bench.cleaning_quality --seeds 1,2,3
    python -m bench.cleaning_quality --seeds all --pages 120          # the table in bench/RESULTS.md
    python -m bench.cleaning_quality --seeds heldout --plain --cleaner page --no-compare
    python -m bench.cleaning_quality --seeds dev --cleaner mymod:make --warmup 40
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.quality import decode_like_scrapy, token_f1, tokens

#: site seed of the replica for a clutter seed (the stories differ from seed to seed too)
SITE_SEED_BASE = 7000


def _split_seeds():
    from tests.sites.replica.clutter import DEV_SEEDS, HELDOUT_SEEDS

    return DEV_SEEDS, HELDOUT_SEEDS


def split_of(seed: int) -> str:
    dev, held = _split_seeds()
    return "dev" if seed in dev else "held-out" if seed in held else "other"


def parse_seeds(text: str) -> list[int]:
    dev, held = _split_seeds()
    out: list[int] = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part == "dev":
            out += dev
        elif part in ("heldout", "held-out"):
            out += held
        elif part == "all":
            out += dev + held
        else:
            out.append(int(part))
    return list(dict.fromkeys(out))


# --- the pages ---------------------------------------------------------------------------------------
@dataclass
class GenPage:
    url: str
    html: str
    expected: dict
    needles: list[tuple[str, str]]  # (kind, visible string)
    repeats: list[str]  # repeated story paragraphs on this page
    related: list[dict]  # expected further stories
    keeps: list = field(default_factory=list)  # (kind, text): story lines that look like clutter (--instory)
    kinds: frozenset = frozenset()  # the clutter kinds the page carries


def site_for(seed: int, n_articles: int, plain: bool = False, instory: bool = False):
    from tests.sites.replica.content import ReplicaSite

    return ReplicaSite(max(12, n_articles + 1), faults=False, seed=SITE_SEED_BASE + seed, clutter_seed=seed,
                       multi_story=True, fixtures_dir=None, plain_clutter=plain, instory=instory)


def pages_for(seed: int, n_pages: int, plain: bool = False, instory: bool = False) -> list[GenPage]:
    """The first `n_pages` article pages in the site's template of the seed's site, newest first (`plain`:
    the stress variant, every kind that may be plain paragraphs made plain paragraphs; `instory`: the
    in-story variant, tests/sites/replica/instory.py)."""
    from tests.sites.replica.pages import Renderer

    site = site_for(seed, n_pages, plain, instory)
    keep_kind = {text: kind for kind, texts in site.keep_texts.items() for text in texts}
    renderer = Renderer(site, cache_size=4)
    out = []
    for art in site.articles:
        if art.layout != "legacy":
            continue  # the one modern-layout page: the generic fallback, not the template's cleaning
        page = renderer.render(art.path)
        exp = art.expected()
        plan = site.clutter.plan(site, art)
        paras = set(exp["body"].split("\n\n"))
        out.append(GenPage(art.url, decode_like_scrapy(art.url, page.body, page.content_type), exp, plan.needles(),
                           [t for _, t in art.inserts if t in paras and t not in keep_kind],
                           exp.get("related_stories", []),
                           [(keep_kind[t], t) for _, t in art.inserts if t in keep_kind],
                           frozenset(p.kind for p in plan.pieces if p.needles)))
        if len(out) >= n_pages:
            break
    return out


# --- the cleaners --------------------------------------------------------------------------------------
class CurrentCleaning:
    """One page at a time, nothing learned: article_from_page (structure and the site rules alone)."""

    def __init__(self):
        from crawler.extract.extractor import article_from_page

        self._extract = article_from_page

    def __call__(self, html: str, url: str) -> dict:
        return self._extract(html, url).fields()


class CrawlCleaning:
    """The cleaning as the crawl runs it (pipelines/extract.py): each page read (read_page), counted in the
    site's learned template in crawl order, and judged once `lookahead` more pages were counted and the site's
    template has counted `hold_first` pages (CLEANING_WARMUP; crawler/extract/stream.py); the pages still held
    at the end are judged then. `__call__` returns
    placeholder fields, `finish()` the verdicts; a warm-up page (`learn`) is counted, not judged."""

    lookahead = None  # None: the crawl's default (CLEANING_LOOKAHEAD)
    hold_first = None  # None: the crawl's default (CLEANING_WARMUP)

    def __init__(self):
        from crawler.extract.extractor import read_page
        from crawler.extract.stream import LOOKAHEAD, WARMUP, StreamCleaner

        self._read = read_page
        self.stream = StreamCleaner(lookahead=LOOKAHEAD if self.lookahead is None else self.lookahead,
                                    warmup=WARMUP if self.hold_first is None else self.hold_first)
        self.verdicts: dict[str, dict] = {}
        #: {url: ms} of each page's reading plus its own verdict (a push judges other pages than its own)
        self.ms: dict[str, float] = {}
        judge = self.stream._judge

        def timed(token, reading, rules=None):
            t0 = time.perf_counter()
            out = judge(token, reading, rules)
            self.ms[token] = self.ms.get(token, 0.0) + 1000 * (time.perf_counter() - t0)
            return out

        self.stream._judge = timed

    def learn(self, html: str, url: str) -> None:
        reading = self._read(html, url)
        self.stream.store.site(reading.site).observe(reading.url, reading.agency, reading.observed_keys(),
                                                              reading.tails())

    def __call__(self, html: str, url: str) -> dict:
        t0 = time.perf_counter()
        reading = self._read(html, url)
        self.ms[url] = self.ms.get(url, 0.0) + 1000 * (time.perf_counter() - t0)
        for token, cleaned in self.stream.push(url, reading):
            self.verdicts[token] = cleaned.article.fields()
        return {}

    def finish(self) -> dict:
        for token, cleaned in self.stream.flush():
            self.verdicts[token] = cleaned.article.fields()
        return self.verdicts


def lookahead_cleaning(n: int | None, hold_first: int | None = None):
    """A CrawlCleaning factory with a look-ahead of `n` pages and a warm-up of `hold_first` (None: the defaults)."""
    return type(f"CrawlCleaning{n}_{hold_first}", (CrawlCleaning,), {"lookahead": n, "hold_first": hold_first})


def load_factory(spec: str | None, lookahead: int | None = None, hold_first: int | None = None):
    if not spec or spec == "crawl":
        return CrawlCleaning if lookahead is None and hold_first is None else lookahead_cleaning(lookahead, hold_first)
    if spec in ("current", "page"):
        return CurrentCleaning
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "make")


# --- scoring -------------------------------------------------------------------------------------------
def norm(text: str | None) -> str:
    return " ".join((text or "").split())


_PATTERNS: dict[str, re.Pattern] = {}


def occurrences(needle: str, text: str) -> int:
    pat = _PATTERNS.get(needle)
    if pat is None:
        pat = _PATTERNS[needle] = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
    return len(pat.findall(text))


def leaked(body: str, gold: str, needles: list[tuple[str, str]]) -> Counter:
    """kind -> number of clutter strings found in `body` more often than in the expected body."""
    b, g = norm(body), norm(gold)
    out: Counter = Counter()
    seen = set()
    for kind, needle in needles:
        if needle in seen:
            continue
        seen.add(needle)
        extra = occurrences(needle, b) - occurrences(needle, g)
        if extra > 0:
            out[kind] += extra
    return out


def recall_tokens(pred: str, gold: str) -> tuple[int, int]:
    p, g = Counter(tokens(pred)), Counter(tokens(gold))
    return sum((p & g).values()), sum(g.values())


@dataclass
class PageScore:
    f1: float
    kept: int
    gold: int
    repeats_kept: int
    repeats: int
    leaks: Counter
    related_expected: int
    related_found: int
    related_f1: float | None
    related_paras_in_body: int
    related_paras: int
    rights_ok: bool
    images_ok: bool
    ms: float
    error: str | None = None
    traf_f1: float | None = None
    traf_ms: float | None = None
    keeps_kept: Counter = field(default_factory=Counter)  # kind -> story lines kept (--instory)
    keeps: Counter = field(default_factory=Counter)  # kind -> story lines on the page
    kinds: frozenset = frozenset()  # clutter kinds on the page


def score(page: GenPage, fields: dict | None, ms: float, error: str | None = None) -> PageScore:
    exp = page.expected
    gold = exp["body"]
    body = (fields or {}).get("body") or ""
    nb = norm(body)
    kept, total = recall_tokens(body, gold)
    rel_paras = [q for r in page.related for q in r["body"].split("\n\n")]
    got_related = (fields or {}).get("related_stories")
    related_f1 = None
    if got_related is not None and (page.related or got_related):
        related_f1 = token_f1(" ".join(r.get("body") or "" for r in got_related),
                              " ".join(r["body"] for r in page.related))
    images = [(i.get("url"), i.get("caption")) for i in (fields or {}).get("images") or []]
    return PageScore(
        f1=token_f1(body, gold) if fields is not None else 0.0, kept=kept, gold=total,
        repeats_kept=sum(1 for t in page.repeats if norm(t) in nb), repeats=len(page.repeats),
        leaks=leaked(body, gold, page.needles) if fields is not None else Counter(),
        related_expected=len(page.related), related_found=len(got_related or ()), related_f1=related_f1,
        related_paras_in_body=sum(1 for q in rel_paras if norm(q) in nb), related_paras=len(rel_paras),
        rights_ok=fields is not None and norm(fields.get("rights")) == norm(exp["rights"]),
        images_ok=fields is not None and images == [(i["url"], i["caption"]) for i in exp["images"]],
        ms=ms, error=error,
        keeps_kept=Counter(kind for kind, t in page.keeps if norm(t) in nb), keeps=Counter(k for k, _ in page.keeps),
        kinds=page.kinds,
    )


def _timed(fn, *args):
    t0 = time.perf_counter()
    try:
        return fn(*args), 1000 * (time.perf_counter() - t0), None
    except Exception as exc:  # NotAnArticle, or a bug of the cleaner under test: the page scores 0
        return None, 1000 * (time.perf_counter() - t0), f"{type(exc).__name__}: {exc}"[:200]


def evaluate_seed(seed: int, n_pages: int = 120, *, factory=CurrentCleaning, warmup: int | str = 0,
                  compare: bool = True, plain: bool = False, instory: bool = False) -> dict:
    pages = pages_for(seed, n_pages, plain, instory)
    cleaner = factory()
    n_warm = len(pages) if warmup == "all" else min(int(warmup), len(pages))
    for page in pages[:n_warm]:
        (getattr(cleaner, "learn", None) or cleaner)(page.html, page.url)
    results = []
    for page in pages:
        fields, ms, err = _timed(cleaner, page.html, page.url)
        results.append((page, fields, ms, err))
    revised = cleaner.finish() if hasattr(cleaner, "finish") else {}
    own_ms = getattr(cleaner, "ms", {})  # a cleaner that judges pages later times each page's own work
    scores = []
    for page, fields, ms, err in results:
        ms = own_ms.get(page.url, ms)
        s = score(page, revised.get(page.url, fields) if revised else fields, ms, err)
        if compare:
            from bench.extraction_speed import trafilatura_text

            text, tms, _ = _timed(trafilatura_text, page.html, page.url)
            s.traf_f1, s.traf_ms = token_f1(text or "", page.expected["body"]), tms
        scores.append(s)
    return summarise(seed, scores, warmup=n_warm)


def summarise(seed, scores: list[PageScore], *, warmup: int = 0) -> dict:
    leaks: Counter = Counter()
    for s in scores:
        leaks.update(s.leaks)
    related = [s for s in scores if s.related_expected]
    rel_f1 = [s.related_f1 for s in scores if s.related_f1 is not None]
    row = {
        "seed": seed, "split": split_of(seed) if isinstance(seed, int) else seed, "pages": len(scores),
        "warmup": warmup,
        "multi_story_pages": len(related),
        "f1_mean": statistics.fmean(s.f1 for s in scores) if scores else float("nan"),
        "f1_min": min((s.f1 for s in scores), default=float("nan")),
        "f1_single_story": (statistics.fmean(s.f1 for s in scores if not s.related_expected)
                            if any(not s.related_expected for s in scores) else float("nan")),
        "story_recall": sum(s.kept for s in scores) / max(1, sum(s.gold for s in scores)),
        "repeat_recall": (sum(s.repeats_kept for s in scores) / sum(s.repeats for s in scores)
                          if any(s.repeats for s in scores) else float("nan")),
        "repeats": sum(s.repeats for s in scores),
        "leaks": sum(leaks.values()),
        "pages_with_leak": sum(1 for s in scores if s.leaks),
        "leaks_by_kind": dict(leaks.most_common()),
        "related_expected": sum(s.related_expected for s in scores),
        "related_found": sum(s.related_found for s in scores),
        "related_f1": statistics.fmean(rel_f1) if rel_f1 else None,
        "related_in_body": (sum(s.related_paras_in_body for s in scores) / sum(s.related_paras for s in scores)
                            if any(s.related_paras for s in scores) else float("nan")),
        "rights_ok": sum(s.rights_ok for s in scores) / max(1, len(scores)),
        "images_ok": sum(s.images_ok for s in scores) / max(1, len(scores)),
        "errors": sum(1 for s in scores if s.error),
        "ms": statistics.median(s.ms for s in scores) if scores else float("nan"),
    }
    traf = [s for s in scores if s.traf_ms is not None]
    if traf:
        row["traf_f1_mean"] = statistics.fmean(s.traf_f1 for s in traf)
        row["traf_ms"] = statistics.median(s.traf_ms for s in traf)
    kept, total, carried, leaky = Counter(), Counter(), Counter(), Counter()
    for s in scores:
        kept.update(s.keeps_kept)
        total.update(s.keeps)
        carried.update(s.kinds)
        leaky.update(s.leaks.keys())
    row["keeps_by_kind"] = {k: [kept[k], total[k]] for k in sorted(total)}
    row["pages_by_kind"] = {k: [leaky[k], carried[k]] for k in sorted(carried)}  # [pages with a leak, pages]
    row["_scores"] = scores
    return row


def pooled(name: str, rows: list[dict]) -> dict:
    """One row over several seeds' pages (means and medians over all their pages, counts summed)."""
    scores = [s for r in rows for s in r["_scores"]]
    out = summarise(name, scores, warmup=rows[0]["warmup"] if rows else 0)
    out["split"] = name
    return out


# --- the table -------------------------------------------------------------------------------------------
def _f(x, digits=4) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "-"
    return f"{x:.{digits}f}"


def table(rows: list[dict], *, compare: bool = True) -> str:
    has_related_field = any(r["related_found"] for r in rows)
    head = ["split", "seed", "pages", "body F1 mean", "F1 min", "F1 one-story pages", "story recall",
            "repeated-paragraph recall",
            "leaked strings", "pages with a leak",
            "further stories found / expected" if has_related_field else "further-story paragraphs in body",
            "rights exact", "captions exact", "ms/page"]
    if compare:
        head += ["trafilatura F1", "trafilatura ms/page"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        bold = r["seed"] in ("dev", "held-out", "all") or not isinstance(r["seed"], int)
        seed = f"**all {r['seed']}**" if bold else str(r["seed"])
        related = (f"{r['related_found']}/{r['related_expected']} (F1 {_f(r['related_f1'], 3)})"
                   if has_related_field else f"{_f(r['related_in_body'], 3)} of {r['related_expected']} stories")
        cells = [r["split"], seed, str(r["pages"]), _f(r["f1_mean"]), _f(r["f1_min"]), _f(r["f1_single_story"]),
                 _f(r["story_recall"]),
                 f"{_f(r['repeat_recall'], 3)} ({r['repeats']})", str(r["leaks"]),
                 f"{r['pages_with_leak']}/{r['pages']}", related, _f(r["rights_ok"], 3), _f(r["images_ok"], 3),
                 _f(r["ms"], 2)]
        if compare:
            cells += [_f(r.get("traf_f1_mean")), _f(r.get("traf_ms"), 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kinds_table(rows: list[dict]) -> str:
    groups = [r for r in rows if not isinstance(r["seed"], int)] or rows
    kinds = Counter()
    for r in groups:
        kinds.update(r["leaks_by_kind"])
    if not kinds:
        return "No clutter string reached a body."
    head = ["clutter kind"] + [f"{r['split']} leaks" for r in groups]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind, _ in kinds.most_common():
        lines.append("| " + " | ".join([kind] + [str(r["leaks_by_kind"].get(kind, 0)) for r in groups]) + " |")
    return "\n".join(lines)


def instory_table(rows: list[dict]) -> str:
    """Per clutter kind of the in-story variant, pages with a leak of pages carrying it, and per kind of story
    line that looks like clutter, the share kept; one column per pooled row (per seed row if none)."""
    from tests.sites.replica.instory import CLUTTER_KINDS, KEEP_KINDS

    groups = [r for r in rows if not isinstance(r["seed"], int)] or rows
    head = ["in-story kind"] + [str(r["split"] if not isinstance(r["seed"], int) else r["seed"]) for r in groups]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind in CLUTTER_KINDS:
        cells = []
        for r in groups:
            leak, n = r["pages_by_kind"].get(kind, [0, 0])
            cells.append(f"{leak} leaked / {n} pages ({r['leaks_by_kind'].get(kind, 0)} strings)")
        lines.append("| " + " | ".join([f"clutter: {kind}"] + cells) + " |")
    for kind in KEEP_KINDS:
        cells = []
        for r in groups:
            k, n = r["keeps_by_kind"].get(kind, [0, 0])
            cells.append(f"{k}/{n} kept")
        lines.append("| " + " | ".join([f"story: {kind}"] + cells) + " |")
    return "\n".join(lines)


def run(seeds: list[int], n_pages: int = 120, *, cleaner: str | None = None, warmup: int | str = 0,
        compare: bool = True, lookahead: int | None = None, plain: bool = False,
        instory: bool = False, hold_first: int | None = None) -> list[dict]:
    """Rows per seed, then one pooled row per split present (dev, held-out, other)."""
    factory = load_factory(cleaner, lookahead, hold_first)
    # warm-up of imports and compiled rules, outside the timings
    warm = pages_for(seeds[0], 1)[0] if seeds else None
    if warm is not None:
        CurrentCleaning()(warm.html, warm.url)
        if compare:
            from bench.extraction_speed import trafilatura_text

            trafilatura_text(warm.html, warm.url)
    rows = [evaluate_seed(s, n_pages, factory=factory, warmup=warmup, compare=compare, plain=plain,
                          instory=instory) for s in seeds]
    out = list(rows)
    for split in ("dev", "held-out", "other"):
        group = [r for r in rows if r["split"] == split]
        if len(group) > 1:
            out.append(pooled(split, group))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="all", help="dev, heldout, all, or a list such as 1,2,3 (default all)")
    ap.add_argument("--pages", type=int, default=120, help="article pages per seed (default 120)")
    ap.add_argument("--cleaner", default=None, help="crawl (default: the crawl's cleaning, learned template and "
                                                     "look-ahead), page (article_from_page, nothing learned), or "
                                                     "module:factory of a cleaner under test")
    ap.add_argument("--lookahead", type=int, default=None, help="pages counted before a page is judged (crawl "
                                                                "cleaner; default: CLEANING_LOOKAHEAD's)")
    ap.add_argument("--hold-first", type=int, default=None, help="a page is judged once its site's template "
                                                                 "counted this many pages (crawl cleaner; "
                                                                 "default: CLEANING_WARMUP's)")
    ap.add_argument("--warmup", default="0", help="pages fed to the cleaner before the measured pass, or 'all'")
    ap.add_argument("--no-compare", action="store_true", help="do not run trafilatura")
    ap.add_argument("--plain", action="store_true", help="the stress variant of the replica: every clutter kind "
                                                         "that may be plain paragraphs is (structure cannot "
                                                         "tell it from the story; only the learned template can)")
    ap.add_argument("--instory", action="store_true", help="the in-story variant (issue 24): clutter between the "
                                                           "story's paragraphs in their markup, and story lines "
                                                           "that look like clutter (tests/sites/replica/instory.py)")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    warmup = args.warmup if args.warmup == "all" else int(args.warmup)
    t0 = time.perf_counter()
    rows = run(seeds, args.pages, cleaner=args.cleaner, warmup=warmup, compare=not args.no_compare,
               lookahead=args.lookahead, plain=args.plain, instory=args.instory, hold_first=args.hold_first)
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "_scores"} for r in rows], indent=1))
        return 0
    cmd = "python -m bench.cleaning_quality " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: `{cmd.strip()}` ({len(seeds)} seeds, {args.pages} pages each, "
          f"cleaner {args.cleaner or 'crawl'}"
          f"{'' if args.lookahead is None else f' (look-ahead {args.lookahead})'}"
          f"{'' if args.hold_first is None else f' (held until {args.hold_first} pages)'}, warm-up {warmup}"
          f"{', plain stress variant' if args.plain else ''}{', in-story variant' if args.instory else ''}; "
          f"{time.perf_counter() - t0:.0f} s)\n")
    print(table(rows, compare=not args.no_compare))
    print("\nLeaked clutter strings by kind:\n")
    print(kinds_table(rows))
    if args.instory:
        print("\nIn-story variant, by kind:\n")
        print(instory_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
