"""What a daily run revalidates after months of scheduled runs: the revisit plan alone, over a year of simulated days.

    python -m bench.revisit_months --articles 3000 --per-day 15 --days 365
    python -m bench.revisit_months --span-days 7000 -s REVISIT_ARTICLE_MAX_DAYS=180

bench/revisit.py crawls the replica for 10 simulated days: it shows the first days after a full crawl, when
the articles published since are at most 10 days old. A schedule runs for months, and every article published
meanwhile is then looked at again at 3, 9, 27 and 81 days quiet and every 60 days until it is a year old and
joins the weekly sweep. This benchmark runs the crawl's own plan (crawler/incremental/revisit.py, the policy of
crawler/incremental/policy.py) over a real SQLite state with an injected clock, one run a day at 08:00, no
crawl: `--articles` dated evenly over `--span-days` before day 0 (met by the first run), `--per-day` new ones each
day (met by that day's run), and `--corrections` a day found among the articles the run looked at (a change
resets an article's quiet age). Per run it counts the articles the plan takes, by age (young < 3 days, settling
up to a year, old beyond), and adds what every run fetches besides (`--fixed`: front pages, feeds, robots.txt and
the newest listings; the day's new articles) to give the run's requests without page requisites, as a share of a
first run of `--articles` + `--first-extra` requests.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

DAY = 86400.0


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def simulate(articles: int, per_day: int, days: int, span_days: float, settings: dict, corrections: int = 3,
             seed: int = 23, state_dir: str | None = None) -> list[dict]:
    """One row per daily run (day 1..days): the articles the plan took, by age, and the sweep's share."""
    from crawler.incremental.policy import ARTICLE, RevisitPolicy
    from crawler.incremental.revisit import Revisits
    from crawler.incremental.state import SqliteState

    rng = random.Random(seed)
    policy = RevisitPolicy.from_settings(settings.get)
    budget = int(settings.get("REVISIT_BUDGET", 1000))
    with tempfile.TemporaryDirectory(dir=state_dir) as tmp:
        state = SqliteState(Path(tmp) / "state.sqlite", batch=10_000)
        start = 1_800_000_000.0 // DAY * DAY + 8 * 3600
        published: dict[str, float] = {}
        rows = []
        for day in range(days + 1):
            now = start + day * DAY
            revisits = Revisits(state, policy, budget=budget, clock=Clock(now))
            taken = list(revisits.plan.taken)
            ages = {"young": 0, "settling": 0, "old": 0}
            changed = set(rng.sample(taken, min(corrections, len(taken)))) if taken else set()
            for url in taken:
                age = (now - published[url]) / DAY
                ages["young" if age < 3 else "settling" if age <= 365 else "old"] += 1
                revisits.reschedule(url, ARTICLE, state.get(url), changed=url in changed)
            if day == 0:
                new = [(f"https://www.spacewar.com/reports/a{k}_999.html", now - (k + 0.5) * span_days * DAY / articles)
                       for k in range(articles)]
            else:
                new = [(f"https://www.spacewar.com/reports/d{day}n{k}_999.html", now - rng.uniform(1, 7) * 3600)
                       for k in range(per_day)]
            for url, when in new:
                published[url] = when
                revisits.reschedule(url, ARTICLE, None, published=when)
            state.commit()
            revisits.stopped()
            if day:
                rows.append({"day": day, "taken": len(taken), **ages, "left_due": revisits.plan.left})
        state.close()
    return rows


def summary(rows: list[dict], per_day: int, fixed: int, first: int) -> list[dict]:
    """Per stretch of days: the mean and the highest run (articles taken, by age; requests; % of the first run)."""
    stretches = [(1, 10), (11, 30), (31, 90), (91, 180), (181, 365), (366, 730)]
    out = []
    for lo, hi in stretches:
        part = [r for r in rows if lo <= r["day"] <= hi]
        if not part:
            continue
        requests = [r["taken"] + per_day + fixed for r in part]
        out.append({"days": f"{lo}-{min(hi, part[-1]['day'])}",
                    **{k: round(sum(r[k] for r in part) / len(part)) for k in ("young", "settling", "old")},
                    "requests_mean": round(sum(requests) / len(requests)), "requests_max": max(requests),
                    "pct_mean": f"{sum(requests) / len(requests) / first:.1%}",
                    "pct_max": f"{max(requests) / first:.1%}"})
    return out


def table(out: list[dict]) -> str:
    from bench.revisit import markdown_table

    return markdown_table(("days", "young", "settling", "old", "requests_mean", "requests_max", "pct_mean",
                           "pct_max"), out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.revisit_months", description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--per-day", type=int, default=15)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--span-days", type=float, default=730,
                    help="the first run's articles are dated over this many days")
    ap.add_argument("--corrections", type=int, default=3, help="changes found a day among the articles looked at")
    ap.add_argument("--fixed", type=int, default=20,
                    help="requests of every run besides articles (front pages, feeds, robots.txt, newest listings)")
    ap.add_argument("--first-extra", type=int, default=140,
                    help="the first run's requests besides its articles, page requisites left out (listings, fronts)")
    ap.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args(argv)
    settings = dict(s.split("=", 1) for s in args.settings)
    rows = simulate(args.articles, args.per_day, args.days, args.span_days, settings, args.corrections)
    first = args.articles + args.first_extra
    print(f"{args.articles} articles dated over {args.span_days:g} days, {args.per_day} new a day,"
          f" {args.days} daily runs;"
          f" settings {settings or 'default'}; a first run of {first} requests (no page requisites)")
    print(table(summary(rows, args.per_day, args.fixed, first)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
