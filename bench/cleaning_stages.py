"""Where a page's cleaning time goes: CPU time per stage of read_page and judge, median per page, on the cluttered replica's held-out pages.

bench/cleaning_quality.py gives one wall-clock figure per page; this splits it into the stages of
`read_page` (crawler/extract/extractor.py: parse, metadata, site rules, dateline, images, clutter the
rules name, blocks, the lines after the story, flags) and of judging with the learned template. It uses
CPU time (`time.process_time`), which other jobs on the machine disturb less than wall-clock time; run
it in two trees one after the other, several times, and compare the ratios:

    python -m bench.cleaning_stages                    # in this tree
    (cd /path/to/worktree-of-REV && python -m bench.cleaning_stages)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.cleaning_quality import pages_for


def _timed(times: dict, name: str, fn, *args):
    t0 = time.process_time()
    result = fn(*args)
    times.setdefault(name, []).append(time.process_time() - t0)
    return result


def reading_stages(pages, rounds: int = 3) -> dict[str, list[float]]:
    """{stage: seconds per page} for the stages of read_page, in their order (see crawler/extract/cleaning.read)."""
    from crawler.extract import blocks, cleaning, page as pagemod, regions
    from crawler.extract.rules import RULES, compile_rules

    cr = compile_rules(RULES)
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for p in pages:
            root = _timed(times, "parse", pagemod.parse, p.html)
            og = _timed(times, "metadata", pagemod.metadata, root)
            raw = _timed(times, "site rules", regions._site_rules, root, og, RULES)
            fields = _timed(times, "dateline", cleaning.parse_dateline, raw["dateline"])
            author = blocks.author_pattern(fields["author"])
            frag = raw["body"]
            _timed(times, "images", cleaning.take_images, frag, p.url, cr)
            _timed(times, "clutter the rules name", cleaning.remove_clutter, frag, cr, [])
            found = _timed(times, "blocks", lambda: blocks.join_cut(blocks.segment(frag, blocks.ZONE_BODY, author),
                                                                     author))
            if raw.get("after") is not None:
                _timed(times, "lines after the story", blocks.outside_lines, raw["after"], author)
            dominant = cleaning.dominant_style(found)
            _timed(times, "flags", cleaning.block_flags, found, dominant, fields["agency"], fields["author"], cr)
    return times


def judging_stages(pages, rounds: int = 3) -> dict[str, list[float]]:
    """{stage: seconds per page} for counting a page in the template and judging it with what it learned."""
    from crawler.extract.cleaning import judge
    from crawler.extract.extractor import read_page
    from crawler.extract.stream import StreamCleaner

    readings = [read_page(p.html, p.url) for p in pages]
    times: dict[str, list[float]] = {}
    for round_no in range(rounds):
        stream = StreamCleaner(lookahead=0)
        for r in readings:
            keys = _timed(times, "template keys", r.observed_keys)
            tails = _timed(times, "template tails", r.tails)
            _timed(times, "template count", stream.store.site(r.site).observe, f"{r.url}#{round_no}", r.agency, keys,
                   tails)
        for r in readings:
            _timed(times, "judge", judge, r, stream.store.sites[r.site])
    return times


def main(argv=None) -> int:
    from tests.sites.replica.clutter import HELDOUT_SEEDS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=120, help="pages per held-out seed (default 120)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    by_seed = [pages_for(seed, args.pages) for seed in HELDOUT_SEEDS]
    rows = []
    for stages in (reading_stages, judging_stages):
        for name, values in stages([p for pages in by_seed for p in pages], args.rounds).items():
            rows.append((name, 1000 * statistics.median(values), 1000 * statistics.mean(values)))
    print(f"{sum(map(len, by_seed))} held-out pages, {args.rounds} rounds, CPU ms per page\n")
    print("| stage | median | mean |\n|---|---|---|")
    for name, median, mean in rows:
        print(f"| {name} | {median:.3f} | {mean:.3f} |")
    print(f"| all stages (sum of means) | | {sum(mean for _, _, mean in rows):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
