"""`scrapy state`'s counts (crawler/incremental/overview.py) over a state a healthy daily run just wrote: what is due
at every run is no backlog (the same in a Redis state: tests/e2e/test_revisit.py)."""

from __future__ import annotations

import pytest

from crawler.incremental.overview import format_overview, overview
from crawler.incremental.policy import ARCHIVE, ARTICLE, ASSET, DAY, FRONT, NEVER, STATIC
from crawler.incremental.state import SqliteState

RUN = 1_800_000_000.0  # the start of the last run


def last_run(state, backlog: bool = False) -> None:
    """What a daily run started at RUN writes: front pages and young articles due at every run (due time: the run's
    start), a changed archive page likewise, settling articles and an unchanged listing later, an image never;
    `backlog`: two articles and a static page the budget left, due for 2 days."""
    for k in range(3):
        state.schedule(f"https://w/section{k}", {"kind": FRONT, "next_due": RUN, "interval": 0.0})
        state.schedule(f"https://w/young{k}", {"kind": ARTICLE, "next_due": RUN, "interval": 0.0})
    state.schedule("https://w/news/a-26a.html", {"kind": ARCHIVE, "next_due": RUN, "interval": 0.0})
    state.schedule("https://w/news/a-25b.html", {"kind": ARCHIVE, "next_due": RUN + 4 * DAY, "interval": 8.0})
    state.schedule("https://w/settling", {"kind": ARTICLE, "next_due": RUN + 5.5 * DAY, "interval": 6.0})
    state.schedule("https://w/logo.gif", {"kind": ASSET, "next_due": NEVER, "interval": NEVER})
    if backlog:
        for k in range(2):
            state.schedule(f"https://w/left{k}", {"kind": ARTICLE, "next_due": RUN - 2 * DAY, "interval": 60.0})
        state.schedule("https://w/about.html", {"kind": STATIC, "next_due": RUN - 2 * DAY, "interval": 2.0})
    state.commit()


@pytest.fixture
def store(tmp_path):
    s = SqliteState(tmp_path / "state.sqlite")
    yield s
    s.close()


def test_right_after_a_healthy_run_nothing_is_due_and_a_day_later_nothing_is_overdue(store):
    last_run(store)
    after = overview(store, RUN + 600)  # the run just ended
    assert (after["every_run"], after["due_now"], after["overdue"]) == (7, 0, 0)
    assert after["kinds"][FRONT]["every_run"] == 3 and after["kinds"][ARTICLE]["every_run"] == 3
    assert after["kinds"][ARCHIVE] == {"known": 2, "every_run": 1, "due_now": 0, "overdue": 0, "never": 0}
    assert after["kinds"][ASSET]["never"] == 1
    assert sum(after["falling_due"].values()) == 2 and after["next_due"] == "2027-01-19T08:00:00Z"
    text = format_overview(after, "state.sqlite")
    assert "7 due at every run, 0 due now, 0 overdue" in text and "every run" in text.splitlines()[2]
    day = overview(store, RUN + DAY + 600)  # the next day, before its run: still no backlog
    assert (day["every_run"], day["due_now"], day["overdue"]) == (7, 0, 0)


def test_overdue_counts_the_archive_listings_and_articles_a_run_left_for_more_than_a_day(store):
    last_run(store, backlog=True)
    o = overview(store, RUN + 600)
    assert (o["due_now"], o["overdue"]) == (3, 2)  # the static page is due, not a budget's backlog
    assert o["kinds"][ARTICLE]["overdue"] == 2 and o["kinds"][STATIC] == {
        "known": 1, "every_run": 0, "due_now": 1, "overdue": 0, "never": 0}
