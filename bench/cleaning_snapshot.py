"""Same outputs before and after a change to the cleaning: a snapshot of everything it produces on the cluttered replica, and a comparison with it.

A speed change to crawler/extract/ must not change what the cleaning decides. The quality benchmark
(bench/cleaning_quality.py) would miss a change that keeps the scores: a removal counted under
another signal, another reason, a key or a flag that differs and shows only on another site. This
tool records, for every page of the replica's seeds (development and held-out, ordinary and plain
stress variant), what the crawl's cleaning makes of it:

* the article's fields and every removal (signal, reason, text, story), judged in crawl order with
  look-ahead 30 and 5 (crawler/extract/stream.py) and alone (no template);
* the reading itself (`read_page`): each Block, the flags, the keys the template counts, the
  dominant style, the lines it skips and the lines after the story.

Run `write` in the tree before the change and `compare` in the tree after it (a worktree of the old
revision, say); `compare` prints the first differences and exits 1 if there are any. Both runs need
the same PYTHONHASHSEED (the tool refuses to run without one), so that a difference is the code's.
A revision older than this tool needs a copy of it in its tree:

    git worktree add /tmp/before HEAD        # or REV, then: cp bench/cleaning_snapshot.py /tmp/before/bench/
    (cd /tmp/before && PYTHONHASHSEED=0 python -m bench.cleaning_snapshot write /tmp/cleaning.json)
    PYTHONHASHSEED=0 python -m bench.cleaning_snapshot compare /tmp/cleaning.json

The snapshot (about 60 MB of JSON for the default 120 pages per seed) is a generated file: keep it out
of the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.cleaning_quality import pages_for

#: the look-aheads the pages are judged with (the crawl's default, and a short one)
LOOKAHEADS = (30, 5)


def _verdict(cleaned) -> list:
    return [cleaned.article.fields(), [(r.signal, r.reason, r.text, r.story) for r in cleaned.removed]]


def snapshot(n_pages: int = 120) -> dict:
    """{"<plain>/<seed>/<look-ahead>": {url or "alone:" / "reading:" + url: outputs}} (see the docstring)."""
    from crawler.extract.cleaning import judge
    from crawler.extract.extractor import read_page
    from crawler.extract.stream import StreamCleaner
    from tests.sites.replica.clutter import DEV_SEEDS, HELDOUT_SEEDS

    out: dict = {}
    for plain in (False, True):
        for seed in (*DEV_SEEDS, *HELDOUT_SEEDS):
            pages = pages_for(seed, n_pages, plain=plain)
            for lookahead in LOOKAHEADS:
                stream = StreamCleaner(lookahead=lookahead)
                found: dict = {}
                for page in pages:
                    reading = read_page(page.html, page.url)
                    if lookahead == LOOKAHEADS[0]:  # what does not depend on the look-ahead, once
                        found["alone:" + page.url] = _verdict(judge(reading, None))
                        found["reading:" + page.url] = [
                            reading.observed_keys(), reading.flags, reading.dominant, sorted(reading.skip),
                            reading.outside, [list(b) for b in reading.blocks]]
                    for url, cleaned in stream.push(page.url, reading):
                        found[url] = _verdict(cleaned)
                for url, cleaned in stream.flush():
                    found[url] = _verdict(cleaned)
                out[f"{plain}/{seed}/{lookahead}"] = found
    # through JSON both ways, so that what is compared is what the file holds (tuples become lists)
    return json.loads(json.dumps(out, sort_keys=True, default=str))


def differences(before: dict, after: dict) -> list[str]:
    """One line per output that differs (or is missing), in a stable order."""
    lines = []
    for run in sorted(before.keys() | after.keys()):
        old, new = before.get(run, {}), after.get(run, {})
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                lines.append(f"{run} {key}\n  before: {str(old.get(key))[:400]}\n  after:  {str(new.get(key))[:400]}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("write", "compare"))
    parser.add_argument("path")
    parser.add_argument("--pages", type=int, default=120, help="pages per seed and variant (default 120)")
    args = parser.parse_args(argv)
    if os.environ.get("PYTHONHASHSEED") in (None, "", "random"):
        print("Set PYTHONHASHSEED (e.g. PYTHONHASHSEED=0) for both runs: set order must not differ between them",
              file=sys.stderr)
        return 2
    outputs = snapshot(args.pages)
    if args.action == "write":
        with open(args.path, "w", encoding="utf-8") as fh:
            json.dump(outputs, fh, sort_keys=True)
        print(f"{sum(len(v) for v in outputs.values())} outputs written to {args.path}")
        return 0
    with open(args.path, encoding="utf-8") as fh:
        before = json.load(fh)
    found = differences(before, outputs)
    for line in found[:10]:
        print(line)
    print(f"{len(found)} of {sum(len(v) for v in before.values())} outputs differ")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
