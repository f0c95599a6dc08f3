"""The revisit policy (crawler/incremental/policy.py) and the run plan over a SQLite state (crawler/incremental/revisit.py),
with an injected clock: which URLs a run takes, when each falls due again."""

from __future__ import annotations

import pytest

from crawler.incremental.policy import (ARCHIVE, ARTICLE, ASSET, DAY, DEAD, FRONT, NEVER, RevisitPolicy, latest_publication,
                                        parse_date, spread, sweep_slot)
from crawler.incremental.revisit import Revisits
from crawler.incremental.state import SqliteState

NOW = 1_800_000_000.0  # 2027-01-15
POLICY = RevisitPolicy()


def days(seconds: float) -> float:
    return seconds / DAY


# --- articles: young every run, then growing intervals up to the maximum, reset on change ------------
@pytest.mark.parametrize("age, interval", [(0, 0.0), (2.9, 0.0), (3, 3.0), (6, 6.0), (12, 12.0), (24, 24.0), (48, 30.0),
                                           (400, 30.0), (4000, 30.0)])
def test_article_interval_grows_with_its_age_up_to_the_maximum(age, interval):
    assert POLICY.article_interval(NOW, NOW - age * DAY, None) == interval


def test_a_change_found_makes_an_old_article_young_again():
    published = NOW - 900 * DAY
    assert POLICY.article_interval(NOW, published, None) == 30.0
    assert POLICY.article_interval(NOW, published, NOW - DAY) == 0.0  # changed yesterday: every run
    assert POLICY.article_interval(NOW, published, NOW - 10 * DAY) == 10.0  # quiet for 10 days since


def test_an_undated_article_counts_from_now():
    assert POLICY.article_interval(NOW, None, None) == 0.0


def test_settings_change_the_numbers_and_reject_negative_ones():
    values = {"REVISIT_ARTICLE_MAX_DAYS": "60", "REVISIT_ARTICLE_YOUNG_DAYS": "1"}
    p = RevisitPolicy.from_settings(values.get)
    assert p.article_interval(NOW, NOW - 400 * DAY, None) == 60.0
    assert p.article_interval(NOW, NOW - 2 * DAY, None) == 2.0
    with pytest.raises(ValueError, match="REVISIT_BUDGET|REVISIT_ARCHIVE_MAX_DAYS"):
        RevisitPolicy.from_settings({"REVISIT_ARCHIVE_MAX_DAYS": "-1"}.get)
    every_run = RevisitPolicy.from_settings({"REVISIT_ARTICLE_MAX_DAYS": "0"}.get)
    assert every_run.article_interval(NOW, NOW - 4000 * DAY, None) == 0.0
    with pytest.raises(ValueError, match="REVISIT_ARTICLE_SWEEP_DAYS=3.5: must be a whole number"):
        RevisitPolicy.from_settings({"REVISIT_ARTICLE_SWEEP_DAYS": "3.5"}.get)


# --- archive listings: adaptive -----------------------------------------------------------------------
def test_archive_interval_backs_off_while_unchanged_and_drops_to_every_run_on_change():
    interval = POLICY.archive_interval(None, changed=False)
    assert interval == 30.0
    seen = []
    for _ in range(3):
        interval = POLICY.archive_interval(interval, changed=False)
        seen.append(interval)
    assert seen == [60.0, 90.0, 90.0]
    assert POLICY.archive_interval(90.0, changed=True) == 0.0
    assert POLICY.archive_interval(0.0, changed=False) == 1.0  # then it grows again from the minimum


def test_front_pages_every_run_assets_never_dead_links_backing_off_to_30_days():
    assert POLICY.interval(FRONT, NOW) == 0.0
    assert POLICY.interval(DEAD, NOW) == 1.0
    assert [POLICY.interval(DEAD, NOW, previous=p) for p in (1.0, 2.0, 16.0, 30.0)] == [2.0, 4.0, 30.0, 30.0]
    assert POLICY.interval(ASSET, NOW) == NEVER
    assert POLICY.next_due("https://x/a.jpg", ASSET, NOW, NEVER, None) == NEVER


def test_first_due_time_is_spread_over_the_interval_then_exact():
    urls = [f"https://www.spacewar.com/reports/a{k}.html" for k in range(2000)]
    firsts = [days(POLICY.next_due(u, ARTICLE, NOW, 7.0, None, published=NOW - 20 * DAY) - NOW) for u in urls]
    assert all(0 < d <= 7 for d in firsts)
    per_day = [sum(1 for d in firsts if k < d <= k + 1) for k in range(7)]
    assert min(per_day) > 2000 / 7 * 0.8, per_day  # no day gets the herd
    assert POLICY.next_due(urls[0], ARTICLE, NOW, 7.0, NOW - DAY, published=NOW - 20 * DAY) == NOW + 7 * DAY
    assert spread(urls[0]) == spread(urls[0])


def test_parse_date():
    assert parse_date("2027-01-15") == parse_date("2027-01-15T00:00:00Z")
    assert parse_date(None) is None and parse_date("someday") is None


def test_an_article_dated_without_a_time_of_day_stays_young_3_whole_days(tmp_path):
    """The site's datelines give a date, not a time: an article of Jan 15 may have appeared at 23:59, so its age
    counts from the end of that day, or from when the crawl first saw it if that was earlier."""
    assert latest_publication("2027-01-15") == parse_date("2027-01-16")
    assert latest_publication("2027-01-15T10:30:00Z") == parse_date("2027-01-15T10:30:00Z")
    assert latest_publication(None) is None
    state = SqliteState(tmp_path / "state.sqlite")
    midnight = NOW - NOW % DAY
    clock = Clock(midnight + 23 * 3600)  # seen first at 23:00 on its day
    revisits = Revisits(state, POLICY, clock=clock)
    url = "https://www.spacewar.com/reports/Late_story_999.html"
    revisits.reschedule(url, ARTICLE, None, published=latest_publication("2027-01-15"))
    assert state.get(url).published == midnight + 23 * 3600
    clock.t = midnight + 3 * DAY + 22 * 3600  # 2 days 23 hours after it was first seen: still young
    revisits = Revisits(state, POLICY, clock=clock)
    revisits.reschedule(url, ARTICLE, state.get(url), published=latest_publication("2027-01-15"))
    assert state.get(url).interval == 0.0 and state.get(url).published == midnight + 23 * 3600


# --- the run plan over a real SQLite state --------------------------------------------------------------
class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def test_plan_takes_due_rows_oldest_first_within_the_budget(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    for k in range(10):
        state.schedule(f"https://w/a{k}", {"kind": ARTICLE, "next_due": NOW - k * 3600, "interval": 1.0})
    state.schedule("https://w/late", {"kind": ARTICLE, "next_due": NOW - 3 * DAY, "interval": 1.0})
    state.schedule("https://w/future", {"kind": ARTICLE, "next_due": NOW + DAY, "interval": 1.0})
    state.schedule("https://w/", {"kind": FRONT, "next_due": NOW - 60, "interval": 0.0})
    state.schedule("https://w/logo.gif", {"kind": ASSET, "next_due": NEVER, "interval": NEVER})
    revisits = Revisits(state, POLICY, budget=4, clock=Clock(NOW))
    plan = revisits.plan
    assert list(plan.taken) == ["https://w/late", "https://w/a9", "https://w/a8", "https://w/a7"]
    assert plan.left == 7 and plan.overdue == 0
    assert list(plan.front) == ["https://w/"]
    assert revisits.allowed("https://w/a9", state.get("https://w/a9"))
    assert not revisits.allowed("https://w/a0", state.get("https://w/a0"))  # due, over the budget
    assert not revisits.allowed("https://w/future", state.get("https://w/future"))
    assert revisits.allowed("https://w/", state.get("https://w/"))
    assert revisits.allowed("https://w/new", None)
    assert revisits.start_urls()[0] == "https://w/"
    assert state.kinds() == {"article": 12, "asset": 1, "front": 1}


def test_overdue_counts_rows_left_that_were_due_more_than_a_day_ago(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    for k in range(5):
        state.schedule(f"https://w/old{k}", {"kind": ARCHIVE, "next_due": NOW - (2 + k) * DAY, "interval": 7.0})
    plan = Revisits(state, POLICY, budget=2, clock=Clock(NOW)).plan
    assert len(plan.taken) == 2 and plan.left == 3 and plan.overdue == 3


def test_reschedule_after_a_change_and_after_none(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    clock = Clock(NOW)
    revisits = Revisits(state, POLICY, clock=clock)
    url = "https://www.spacewar.com/reports/Old_story_999.html"
    revisits.reschedule(url, ARTICLE, None, published=NOW - 500 * DAY)
    first = state.get(url)
    # an interval of 30 days, but old: due on its day of the weekly sweep, within 7 days
    assert first.kind == ARTICLE and first.interval == 30.0 and NOW < first.next_due <= NOW + 7 * DAY
    clock.t = first.next_due
    revisits.reschedule(url, ARTICLE, first, changed=True)
    changed = state.get(url)
    assert changed.changes == 1 and changed.changed_at == clock.t and changed.interval == 0.0
    assert changed.next_due == clock.t  # due again at the next run
    assert changed.published == NOW - 500 * DAY  # its own date is kept


def test_an_older_state_file_gains_the_policy_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE pages (url TEXT PRIMARY KEY, fetched_at TEXT, status INTEGER, payload_digest TEXT,"
               " etag TEXT, last_modified TEXT, item_digest TEXT, exported_at TEXT)")
    db.execute("INSERT INTO pages (url, item_digest) VALUES ('https://w/a', 'abc')")
    db.commit()
    db.close()
    state = SqliteState(path)
    row = state.get("https://w/a")
    assert row.exported and row.next_due is None and row.kind is None
    # never scheduled: the policy treats it as new (fetched, then scheduled)
    assert Revisits(state, POLICY, clock=Clock(NOW)).allowed("https://w/a", row)


def test_the_policy_imports_nothing_of_scrapy():
    """The policy is pure (any clock, no I/O): the unit tests above and bench/revisit.py use it without a crawl."""
    import ast
    from pathlib import Path

    import crawler.incremental.policy as policy

    tree = ast.parse(Path(policy.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"scrapy", "twisted", "itemadapter"}, names


def test_rows_due_every_run_come_before_a_backlog(tmp_path):
    """A young article (interval 0) due since this morning goes before old rows due for days, whatever the budget."""
    state = SqliteState(tmp_path / "state.sqlite")
    for k in range(5):
        state.schedule(f"https://w/old{k}", {"kind": ARTICLE, "next_due": NOW - (5 + k) * DAY, "interval": 7.0})
    state.schedule("https://w/young", {"kind": ARTICLE, "next_due": NOW - 3600, "interval": 0.0})
    plan = Revisits(state, POLICY, budget=2, clock=Clock(NOW)).plan
    assert list(plan.taken) == ["https://w/young", "https://w/old4"]
    assert plan.left == 4


def test_the_documented_defaults_are_the_shipped_ones():
    """docs/scheduling.md's policy table and budget name each REVISIT_* setting with its default: the same as
    crawler/settings.py and as RevisitPolicy's own defaults."""
    import re
    from dataclasses import fields
    from pathlib import Path

    from crawler import settings

    doc = (Path(__file__).resolve().parents[3] / "docs" / "scheduling.md").read_text("utf-8")
    documented = dict(re.findall(r"`(REVISIT_[A-Z_]+)` \(([0-9.]+|True|False)\)", doc))
    policy = RevisitPolicy()
    for f in fields(RevisitPolicy):
        name = RevisitPolicy.SETTINGS[f.name]
        assert float(getattr(settings, name)) == float(getattr(policy, f.name)), name
        assert name in documented, f"{name} is not in docs/scheduling.md"
        assert str(documented[name]) == str(getattr(settings, name)), name
    assert documented["REVISIT_BUDGET"] == str(settings.REVISIT_BUDGET)


def test_every_run_takes_every_known_url_whatever_the_budget(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    for k in range(5):
        state.schedule(f"https://w/a{k}", {"kind": ARTICLE, "next_due": NOW - k * DAY, "interval": 7.0})
    every = RevisitPolicy.from_settings({"REVISIT_EVERY_RUN": "True"}.get)
    plan = Revisits(state, every, budget=2, clock=Clock(NOW)).plan
    assert len(plan.taken) == 5 and plan.left == 0
    assert every.interval(ASSET, NOW) == every.interval(ARTICLE, NOW, published=NOW - 900 * DAY) == 0.0


# --- the weekly sweep of old articles -------------------------------------------------------------------
OLD_URLS = [f"https://www.spacewar.com/reports/Old_story_number_{k}_999.html" for k in range(3500)]


def test_an_old_article_is_due_on_its_day_of_the_sweep_then_every_7_days():
    published = NOW - 500 * DAY
    for url in OLD_URLS[:200]:
        # met by a first run or a later one: its next sweep day
        first = POLICY.next_due(url, ARTICLE, NOW, 30.0, None, published=published)
        assert first == POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=published)
        assert NOW < first <= NOW + 7 * DAY and first % DAY == 0  # 00:00 of the day its URL picks
        assert int(first // DAY) % 7 == sweep_slot(url, 7)
        # fetched by the run of that day (whatever its hour), due again on the same day a week later
        assert POLICY.next_due(url, ARTICLE, first + 9 * 3600, 30.0, first, published=published) == first + 7 * DAY


def test_the_sweep_shares_old_articles_evenly_between_the_days_of_the_week():
    per_day = [0] * 7
    for url in OLD_URLS:
        per_day[sweep_slot(url, 7)] += 1
    assert max(per_day) - min(per_day) < 0.15 * len(OLD_URLS) / 7, per_day  # 500 each, give or take the hash


def test_an_article_between_3_days_and_a_year_waits_up_to_30_days_and_joins_the_sweep_at_a_year():
    url = OLD_URLS[0]
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 200 * DAY) == NOW + 30 * DAY
    # 360 days old: a year old in 5 days, so due no later than its sweep day after that
    due = POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 360 * DAY)
    assert NOW + 5 * DAY < due <= NOW + 12 * DAY and int(due // DAY) % 7 == sweep_slot(url, 7)
    # an undated article counts as old; a young one (interval 0) is due at every run anyway
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=None) <= NOW + 7 * DAY
    assert POLICY.next_due(url, ARTICLE, NOW, 0.0, NOW - DAY, published=NOW - 500 * DAY) == NOW
    no_sweep = RevisitPolicy.from_settings({"REVISIT_ARTICLE_SWEEP_DAYS": "0"}.get)
    assert no_sweep.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 500 * DAY) == NOW + 30 * DAY


def test_daily_runs_over_two_months_meet_the_targets_of_issue_23(tmp_path):
    """60 daily runs (08:00 +- 10 min) over a state of 1,500 articles dated over two years and 15 new ones a day,
    through the run plan and a real SQLite state: every article older than a year is looked at within any 7
    runs; every article younger than 3 days at every run; no run carries a clump of the sweep."""
    import random

    rng = random.Random(23)
    state = SqliteState(tmp_path / "state.sqlite", batch=5000)
    published = {}
    checks: dict[str, list[int]] = {}
    start = NOW - NOW % DAY + 8 * 3600
    taken_per_run = []
    for day in range(60):
        now = start + day * DAY + rng.uniform(-600, 600)
        revisits = Revisits(state, POLICY, budget=0, clock=Clock(now))
        plan = revisits.plan
        taken_per_run.append(len(plan.taken))
        for url in plan.taken:
            checks.setdefault(url, []).append(day)
            revisits.reschedule(url, ARTICLE, state.get(url))
        new = ([(f"https://w/a{k}", now - rng.uniform(3, 730) * DAY) for k in range(1500)] if day == 0 else
               [(f"https://w/d{day}n{k}", now - rng.uniform(1, 20) * 3600) for k in range(15)])
        for url, when in new:
            published[url] = when
            checks.setdefault(url, []).append(day)
            revisits.reschedule(url, ARTICLE, None, published=when)
        state.commit()
    late, young_missed = [], []
    for url, when in published.items():
        days_checked = set(checks[url])
        for day in range(60):
            age = (start + day * DAY - when) / DAY
            if age > 365 and day <= 53 and not days_checked & set(range(day, day + 7)):
                late.append((url, day))
            if 0 < age < 3 and day not in days_checked:
                young_missed.append((url, day))
    assert young_missed == [], young_missed[:5]
    assert late == [], [(u, d, checks[u], (start - published[u]) / DAY) for u, d in late[:3]]
    # the sweep: about a seventh of the old articles a run (the hash's share, give or take)
    for day in range(31, 60):
        now = start + day * DAY
        n_old = sum(1 for when in published.values() if now - when > 365 * DAY)
        swept = sum(1 for url, days_ in checks.items() if day in days_ and now - published[url] > 365 * DAY)
        assert 0.75 * n_old / 7 < swept < 1.25 * n_old / 7, (day, swept, n_old)
    # no clumps: no run takes much more than the runs of its week
    for day in range(34, 57):
        week = taken_per_run[day - 3:day + 4]
        assert taken_per_run[day] < 1.2 * sum(week) / 7, (day, week)
