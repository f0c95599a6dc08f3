"""bench/revisit_months.py: the revisit plan over months of simulated daily runs (no crawl)."""

from bench.revisit_months import simulate, summary


def test_the_months_simulation_counts_what_each_run_takes_by_age():
    rows = simulate(articles=700, per_day=5, days=120, span_days=730, settings={}, corrections=0)
    assert [r["day"] for r in rows] == list(range(1, 121))
    assert all(r["taken"] == r["young"] + r["settling"] + r["old"] and r["left_due"] == 0 for r in rows)
    # about half of the 700 are over a year old: the weekly sweep takes a seventh of them each day
    assert all(45 <= r["old"] <= 56 for r in rows[:10]), [r["old"] for r in rows[:10]]
    # the 5 new articles of the last 2 days are young at each run (from day 3 on)
    assert all(r["young"] == 10 for r in rows[3:])
    # the articles published since day 0 are looked at again as they settle: more settling looks after months
    early, late = summary(rows, 5, 20, 840)[0], summary(rows, 5, 20, 840)[-1]
    assert late["settling"] > early["settling"]


def test_a_longer_maximum_takes_fewer_settling_articles():
    default = simulate(articles=700, per_day=5, days=150, span_days=730, settings={}, corrections=0)
    longer = simulate(articles=700, per_day=5, days=150, span_days=730,
                      settings={"REVISIT_ARTICLE_MAX_DAYS": "180"}, corrections=0)
    settling = [sum(r["settling"] for r in rows[90:]) for rows in (default, longer)]
    assert settling[1] < settling[0] * 0.9, settling
    assert [r["young"] for r in default] == [r["young"] for r in longer]


def test_the_figures_of_docs_scheduling_are_the_simulation_s():
    """docs/scheduling.md, "After months": the mean requests a run in days 1-10, 91-180 and 181-365 at 3,000
    articles dated over two years and 15 new a day, as `python -m bench.revisit_months` gives them (within 5%)."""
    import re

    from tests.crawling import REPO

    text = (REPO / "docs" / "scheduling.md").read_text(encoding="utf-8")
    said = re.search(r"about (\d+) requests a run in the first 10 days, (\d+) in the fourth to sixth months"
                     r" and (\d+) in the second\s+half-year", text)
    assert said, "the After months paragraph of docs/scheduling.md changed: update this test"
    stretches = {s["days"]: s for s in summary(simulate(3000, 15, 365, 730, {}), 15, 20, 3140)}
    for figure, days in zip(map(int, said.groups()), ("1-10", "91-180", "181-365")):
        assert abs(stretches[days]["requests_mean"] - figure) <= figure * 0.05, (days, stretches[days], figure)
