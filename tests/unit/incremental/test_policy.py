"""The revisit policy (crawler/incremental/policy.py) and the run plan over a SQLite state (crawler/incremental/revisit.py),
with an injected clock: which URLs a run takes, when each falls due again."""

from __future__ import annotations

import pytest

from crawler.incremental.policy import (ARCHIVE, ARTICLE, ASSET, DAY, DEAD, FRONT, NEVER, RevisitPolicy, latest_publication,
                                        parse_date, spread)
from crawler.incremental.revisit import Revisits
from crawler.incremental.state import SqliteState

NOW = 1_800_000_000.0  # 2027-01-15
POLICY = RevisitPolicy()


def days(seconds: float) -> float:
    return seconds / DAY


# --- articles: young every run, then growing intervals up to the maximum, reset on change ------------
@pytest.mark.parametrize("age, interval", [(0, 0.0), (2.9, 0.0), (3, 6.0), (9, 18.0), (27, 54.0), (30, 60.0), (81, 60.0),
                                           (400, 60.0), (4000, 60.0)])
def test_article_interval_grows_with_its_age_up_to_the_maximum(age, interval):
    assert POLICY.article_interval(NOW, NOW - age * DAY, None) == interval


def test_a_change_found_makes_an_old_article_young_again():
    published = NOW - 900 * DAY
    assert POLICY.article_interval(NOW, published, None) == 60.0
    assert POLICY.article_interval(NOW, published, NOW - DAY) == 0.0  # changed yesterday: every run
    assert POLICY.article_interval(NOW, published, NOW - 10 * DAY) == 20.0  # quiet for 10 days since


def test_an_undated_article_counts_as_old_until_a_change_is_found():
    assert POLICY.article_interval(NOW, None, None) == 60.0  # at most 60 days; the sweep makes it 7
    assert POLICY.in_sweep(NOW, None)
    assert POLICY.next_due(OLD_URLS[0], ARTICLE, NOW, 60.0, None, published=None) == NOW + 6.5 * DAY
    assert POLICY.article_interval(NOW, None, NOW - DAY) == 0.0  # changed yesterday: every run
    assert POLICY.article_interval(NOW, None, NOW - 10 * DAY) == 20.0
    every_run = RevisitPolicy.from_settings({"REVISIT_ARTICLE_MAX_DAYS": "0"}.get)
    assert every_run.article_interval(NOW, None, None) == 0.0


def test_settings_change_the_numbers_and_reject_negative_ones():
    values = {"REVISIT_ARTICLE_MAX_DAYS": "90", "REVISIT_ARTICLE_YOUNG_DAYS": "1", "REVISIT_ARTICLE_FACTOR": "1"}
    p = RevisitPolicy.from_settings(values.get)
    assert p.article_interval(NOW, NOW - 400 * DAY, None) == 90.0
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
    # then the interval, less half a day (RUN_SLACK): the daily run 7 days later takes it, whatever its second
    assert POLICY.next_due(urls[0], ARTICLE, NOW, 7.0, NOW - DAY, published=NOW - 20 * DAY) == NOW + 6.5 * DAY
    assert POLICY.next_due(urls[0], ARTICLE, NOW, 7.0, NOW - DAY, published=NOW - 20 * DAY, slack=3600) \
        == NOW + 7 * DAY - 3600  # runs every 2 hours: an hour early
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


def test_a_run_refuses_only_what_it_fetched_itself_not_what_the_last_run_fetched_in_the_same_second(tmp_path):
    """A run that starts in the very second of the last run's last fetch (a short run, then another at once: the
    state's times are whole seconds) may fetch that URL again: robots.txt refused there closed the host to the whole
    run (exit 69, "robots.txt disallows the start pages"). What this run fetched it does not fetch again."""
    from crawler.incremental.state import utc_iso

    state = SqliteState(tmp_path / "state.sqlite")
    robots = "https://w/robots.txt"
    state.record_fetch(robots, utc_iso(int(NOW)), 200, "sha1:x")  # the last run, at NOW + 0.2 s
    state.schedule(robots, {"kind": FRONT, "next_due": NOW, "interval": 0.0})
    revisits = Revisits(state, POLICY, clock=Clock(NOW + 0.7))  # this run, 0.5 s later: the same second
    assert revisits.allowed(robots, state.get(robots))
    revisits.fetched(robots)
    assert not revisits.allowed(robots, state.get(robots))  # fetched by this run: not again


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
    # an interval of 60 days, but old: due on its day of the weekly sweep, within 7 days
    assert first.kind == ARTICLE and first.interval == 60.0 and NOW < first.next_due <= NOW + 7 * DAY
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


def test_a_run_with_every_run_leaves_the_schedule_of_the_runs_after_it_as_it_was(tmp_path):
    """REVISIT_EVERY_RUN takes every known row in its run; the rows it fetches keep the policy's schedule. Before,
    they were all given interval 0, so the next run without the switch revalidated every article again, and
    archive listings, static pages and dead links started their back-off over from a day."""
    every = RevisitPolicy.from_settings({"REVISIT_EVERY_RUN": "True"}.get)
    usual = RevisitPolicy()
    old = NOW - 900 * DAY
    for kind, kw in ((ASSET, {}), (ARTICLE, {"published": old}), (ARTICLE, {"published": NOW - 40 * DAY}),
                     (ARCHIVE, {"previous": 8.0}), (DEAD, {"previous": 4.0})):
        assert every.interval(kind, NOW, **kw) == usual.interval(kind, NOW, **kw) > 0, kind
    assert every.in_sweep(NOW, old) and every.max_days(ARTICLE) == usual.max_days(ARTICLE)
    state = SqliteState(tmp_path / "state.sqlite")
    url = "https://www.spacewar.com/reports/Old_999.html"
    state.schedule(url, {"kind": ARTICLE, "next_due": NOW - DAY, "interval": 7.0, "published": old})
    revisits = Revisits(state, every, clock=Clock(NOW))
    assert url in revisits.plan.taken
    revisits.reschedule(url, ARTICLE, state.get(url))
    row = state.get(url)
    assert row.next_due > NOW + 6 * DAY and row.swept_at == NOW  # in the weekly sweep, as a run without the switch


# --- the weekly sweep of old articles -------------------------------------------------------------------
OLD_URLS = [f"https://www.spacewar.com/reports/Old_story_number_{k}_999.html" for k in range(3500)]


def test_an_old_article_is_due_no_later_than_7_days_after_its_last_look():
    published = NOW - 500 * DAY
    for url in OLD_URLS[:50]:
        assert POLICY.in_sweep(NOW, published)
        # met by a first run or a later one, at any hour: 7 days later at the latest, less half a day (RUN_SLACK)
        assert POLICY.next_due(url, ARTICLE, NOW, 30.0, None, published=published) == NOW + 6.5 * DAY
        later = NOW + 9 * 3600
        assert POLICY.next_due(url, ARTICLE, later, 30.0, NOW, published=published) == later + 6.5 * DAY


def test_an_article_between_3_days_and_a_year_waits_up_to_30_days_and_joins_the_sweep_at_a_year():
    url = OLD_URLS[0]
    assert not POLICY.in_sweep(NOW, NOW - 200 * DAY)
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 200 * DAY) == NOW + 29.5 * DAY
    # 350 days old: a year old in 15 days, so due no later than that day; then it joins the sweep
    assert not POLICY.in_sweep(NOW, NOW - 350 * DAY)
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 350 * DAY) == NOW + 15 * DAY
    # 360 days old: a year old within the sweep's 7 days, so in the sweep already (a correction made on the
    # day it turns a year old is found within 7 days)
    assert POLICY.in_sweep(NOW, NOW - 360 * DAY)
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 360 * DAY) == NOW + 6.5 * DAY
    # an undated article counts as old; a young one (interval 0) is due at every run anyway
    assert POLICY.in_sweep(NOW, None)
    assert POLICY.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=None) == NOW + 6.5 * DAY
    assert POLICY.next_due(url, ARTICLE, NOW, 0.0, NOW - DAY, published=NOW - 500 * DAY) == NOW
    no_sweep = RevisitPolicy.from_settings({"REVISIT_ARTICLE_SWEEP_DAYS": "0"}.get)
    assert not no_sweep.in_sweep(NOW, None)
    assert no_sweep.next_due(url, ARTICLE, NOW, 30.0, NOW - DAY, published=NOW - 500 * DAY) == NOW + 29.5 * DAY


def test_the_sweep_quota_is_the_exact_share_of_the_time_since_the_last_run_that_swept():
    assert POLICY.sweep_quota(1500, DAY) == 215  # 214.3 rounded up: 6 runs of 215 and one of 210 make a week
    assert POLICY.sweep_quota(1400, DAY) == 200  # exact, no rounding up of a whole share
    assert POLICY.sweep_quota(1500, 2 * DAY) == 429  # a run skipped: the next takes two shares
    assert POLICY.sweep_quota(1500, DAY / 4) == 54  # a run every 6 hours: a quarter (53.6)
    assert POLICY.sweep_quota(1500, 60) == 0  # a run started again a minute after one takes none
    assert POLICY.sweep_quota(1500, 30 * DAY) == 1500  # never more than the sweep holds
    assert POLICY.sweep_quota(1500, None) == POLICY.sweep_quota(0, DAY) == POLICY.sweep_quota(10, -60) == 0
    assert RevisitPolicy(every_run=True).sweep_quota(1500, DAY) == 0


class Stats(dict):
    def set_value(self, key, value):
        self[key] = value


class SimulatedArchive:
    """Runs of the plan over a real SQLite state with an injected clock, as a crawl makes them: each run takes its
    plan and reschedules what it looked at (a killed run only the first `done` of it), then meets its new articles.
    `looks[url]`: the run starts at which the article was looked at."""

    def __init__(self, state, policy=POLICY):
        self.state, self.policy = state, policy
        self.published: dict[str, float | None] = {}
        self.looks: dict[str, list[float]] = {}
        self.runs: list[dict] = []

    def run(self, now: float, new=(), budget: int = 0, done: float = 1.0) -> dict:
        members = self.state.sweep()[0]
        stats = Stats()
        revisits = Revisits(self.state, self.policy, budget=budget, stats=stats, clock=Clock(now))
        plan = revisits.plan
        taken = list(plan.taken)
        for url in taken[:int(len(taken) * done)]:
            self.looks[url].append(now)
            revisits.reschedule(url, ARTICLE, self.state.get(url))
        for url, when in new:
            self.published[url] = when
            self.looks[url] = [now]
            revisits.reschedule(url, ARTICLE, None, published=when)
        self.state.commit()
        revisits.stopped()
        run = {"now": now, "slack": plan.run_slack, "taken": len(taken), "swept": stats["revisit/swept"],
               "members": members, "left": plan.left, "finished": done == 1.0}
        self.runs.append(run)
        return run


def test_the_sweep_takes_its_exact_share_each_run_and_each_old_article_within_7_days(tmp_path):
    """90 days of runs (08:00 +- 10 min) over 1,500 articles dated over two years (some undated) and 15 new ones a
    day, 1 of them dated years ago (found late, e.g. on an old archive listing): each run takes exactly its share
    of the sweep, and every article of the sweep is looked at again by the first finished run that starts 7 days
    (less the slack: half a day for daily runs) or more after its last look, with no budget binding - through runs
    skipped (days 20-21), 4 runs a day (days 30-32), a run killed halfway (day 40), a budget that binds (days
    50-52), articles turning a year old every day. Articles younger than 3 days are looked at by every run."""
    import random

    rng = random.Random(23)
    sim = SimulatedArchive(SqliteState(tmp_path / "state.sqlite", batch=5000))
    start = NOW - NOW % DAY + 8 * 3600
    for day in range(90):
        hours = [0, 6, 12, 18] if 30 <= day <= 32 else [] if day in (20, 21) else [0]
        for h in hours:
            now = start + day * DAY + h * 3600 + rng.uniform(-600, 600)
            if day == 0:
                new = [(f"https://w/a{k}", None if k % 100 == 0 else now - rng.uniform(3, 730) * DAY)
                       for k in range(1500)]
            else:
                new = [(f"https://w/d{day}h{h}n{k}", now - rng.uniform(1, 20) * 3600) for k in range(14)]
                new.append((f"https://w/d{day}h{h}old", now - rng.uniform(400, 4000) * DAY))
            run = sim.run(now, new, budget=150 if 50 <= day <= 52 else 0, done=0.5 if day == 40 else 1.0)
            if 8 <= day <= 19 or 60 <= day:  # daily runs a week after the first, or after any disturbance
                quota = POLICY.sweep_quota(run["members"], DAY)
                # no clumps: the share, give or take 4 (the runs' +- 10 minutes move it by up to 2; an article
                # turning a year old is taken on its due day; the hash of the version before spread 188-241
                # around 220)
                assert abs(run["swept"] - quota) <= 4, (day, run, quota)
            if 31 <= day <= 32:  # 4 runs a day: a quarter of the share each
                assert abs(run["swept"] - POLICY.sweep_quota(run["members"], DAY / 4)) <= 2, (day, h, run)
            if day == 30:  # the day the rhythm changes: the rows a daily run looked at fall due half a day early,
                # so one run of that day takes part of a daily share; never more than a daily share
                assert run["swept"] <= POLICY.sweep_quota(run["members"], DAY), (day, h, run)
            if 50 <= day <= 52:
                assert run["taken"] == 150 and run["left"] > 0  # the budget binds: the rest waits, reported
    # the bound: looked at again by the first finished run with nothing left due that starts 7 days less the slack
    # of the run that looked (half the time since the run before it, at most half a day) or more after
    complete = [r["now"] for r in sim.runs if r["finished"] and r["left"] == 0]
    slack = {r["now"]: r["slack"] for r in sim.runs}
    end = sim.runs[-1]["now"]
    late = []
    for url, looks in sim.looks.items():
        for k, look in enumerate(looks):
            if not POLICY.in_sweep(look, sim.published[url]):
                continue
            deadline = next((t for t in complete if t >= look + 7 * DAY - slack[look]), None)
            following = looks[k + 1] if k + 1 < len(looks) else end + 1
            if deadline is not None and following > deadline:
                late.append((url, look, following, deadline))
    assert late == [], late[:3]
    # in the plain daily stretch: an article older than a year on any day is looked at in one of 7 runs from it
    daily = [r["now"] for r in sim.runs if 1 <= (r["now"] - start) // DAY <= 19]
    for url, looks in sim.looks.items():
        published = sim.published[url]
        for i, t in enumerate(daily[:-6]):
            if t >= looks[0] and (published is None or t - published > 365 * DAY):
                assert any(daily[i] <= look <= daily[i + 6] for look in looks), (url, i)
    # young articles at every run
    for url, when in sim.published.items():
        for r in sim.runs:
            if when is not None and 0 < (r["now"] - when) / DAY < 3 and r["now"] > sim.looks[url][0]:
                assert r["now"] in sim.looks[url], (url, r)


def test_a_killed_run_leaves_its_unswept_share_to_the_next_run(tmp_path):
    sim = SimulatedArchive(SqliteState(tmp_path / "state.sqlite"))
    sim.run(NOW, [(u, NOW - 800 * DAY) for u in OLD_URLS[:700]])
    runs = [sim.run(NOW + day * DAY, done=0.5 if day == 3 else 1.0) for day in range(1, 8)]
    # day 3 took its 100 but looked at 50: day 4 takes those 50 first (least recently looked at), so the shares
    # run 50 behind until day 7, whose rows of day 0 are due (7 days since their look): it takes them all, 150
    assert [r["swept"] for r in runs] == [100] * 6 + [150]
    assert all(len(looks) == 2 for looks in sim.looks.values())  # each within its 7 days, the kill notwithstanding
    assert [sim.run(NOW + day * DAY)["swept"] for day in range(8, 15)] == [100] * 6 + [100]  # even again


def test_a_state_written_before_the_sweep_column_keeps_its_due_times_and_joins_the_sweep(tmp_path):
    """A state of the version before (kinds and due times, no swept_at) opens, its rows keep their due times,
    and each old article joins the sweep at its next look."""
    import sqlite3

    path = tmp_path / "before.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE pages (url TEXT PRIMARY KEY, fetched_at TEXT, status INTEGER, payload_digest TEXT,"
               " etag TEXT, last_modified TEXT, item_digest TEXT, exported_at TEXT, kind TEXT, next_due REAL,"
               " interval REAL, published REAL, changed_at REAL, changes INTEGER DEFAULT 0)")
    db.execute("CREATE INDEX pages_due ON pages (next_due)")
    for k, url in enumerate(OLD_URLS[:70]):  # the hash's sweep days of the version before: 10 a day
        db.execute("INSERT INTO pages (url, item_digest, kind, next_due, interval, published) VALUES (?,?,?,?,?,?)",
                   (url, "abc", ARTICLE, NOW + (k % 7) * DAY, 30.0, NOW - 900 * DAY))
    db.commit()
    db.close()
    sim = SimulatedArchive(SqliteState(path))
    sim.looks = {url: [] for url in OLD_URLS[:70]}
    sim.published = dict.fromkeys(OLD_URLS[:70], NOW - 900 * DAY)
    assert sim.state.sweep() == (0, None) and sim.state.get(OLD_URLS[0]).swept_at is None
    for day in range(14):
        run = sim.run(NOW + day * DAY + 60)
        assert run["taken"] == run["swept"] == 10, (day, run)  # the old due times, then the same share
    assert sim.state.sweep()[0] == 70
    assert all(len(looks) == 2 for looks in sim.looks.values())  # once a week


def test_an_interval_counts_in_runs_whatever_the_second_a_daily_run_starts(tmp_path):
    """A settling article's interval is twice its quiet age, a little over 6, 18, 54 days (it appeared an hour before
    the run that found it): daily runs at 03:00 give or take 2 minutes take it at the 3rd, 9th, 27th run after, not a
    day later by the luck of a few seconds (RUN_SLACK); then every 60 days."""
    import random

    rng = random.Random(7)
    state = SqliteState(tmp_path / "state.sqlite")
    url = "https://www.spacewar.com/reports/Settling_story_999.html"
    looks = []
    for day in range(150):
        now = NOW + day * DAY + rng.uniform(-120, 120)
        revisits = Revisits(state, POLICY, clock=Clock(now))
        if day == 0:
            revisits.reschedule(url, ARTICLE, None, published=now - 3600)
            looks.append(day)
        elif url in revisits.plan.taken:
            revisits.reschedule(url, ARTICLE, state.get(url))
            looks.append(day)
    assert looks == [0, 1, 2, 3, 9, 27, 81, 141]


def test_undated_articles_of_the_first_run_join_the_sweep_and_later_ones_are_young_first(tmp_path):
    """Articles without a date (the extraction found none): those a first, full crawl met are the archive's past and
    share the weekly sweep with the old ones (looked at once in 7 daily runs, not at every run); one found by a later
    run appeared by then, so it is looked at by every run of its first 3 days, as a dated new article, then settles."""
    sim = SimulatedArchive(SqliteState(tmp_path / "state.sqlite"))
    undated = [f"https://w/undated{k}" for k in range(700)]
    sim.run(NOW, [(u, None) for u in undated] + [(u, NOW - 800 * DAY) for u in OLD_URLS[:700]])
    assert sim.state.sweep()[0] == 1400
    late = "https://w/found-on-day-3"
    runs = [sim.run(NOW + day * DAY, [(late, None)] if day == 3 else ()) for day in range(1, 15)]
    # each daily run takes a seventh of the 1,400 (and the late one while it is young), not the 700 undated again
    assert [r["swept"] for r in runs] == [200] * 14
    assert [r["taken"] for r in runs] == [200, 200, 200, 201, 201, 201, 200, 200, 200, 200, 200, 201, 200, 200]
    assert all(len(sim.looks[u]) == 3 for u in undated)  # day 0, then once in each week
    assert [round((t - NOW) / DAY) for t in sim.looks[late]] == [3, 4, 5, 6, 12]  # young 3 days, then 3 x 2
    assert sim.state.get(late).published == NOW + 3 * DAY and sim.state.get(undated[0]).published is None


def test_a_run_whose_clock_went_back_still_fetches_the_front_pages(tmp_path):
    """The machine's clock set back a day after a run (NTP step, a VM restored, `faketime -1d` after `+3d`): the
    front pages the last run fetched are due at its start, a day in this run's future. They are due at every run
    (interval 0): the run fetches them, and so finds the new articles; before, it refused the home page and the feed
    as 'known and not due', archived nothing and exited 69 ('the site answered only with errors')."""
    state = SqliteState(tmp_path / "state.sqlite")
    state.schedule("https://w/", {"kind": FRONT, "next_due": NOW, "interval": 0.0})  # the last run started at NOW
    state.schedule("https://w/about.html", {"kind": "static", "next_due": NOW + DAY, "interval": 2.0})
    state.schedule("https://w/a", {"kind": ARTICLE, "next_due": NOW + 5 * DAY, "interval": 6.0})
    revisits = Revisits(state, POLICY, clock=Clock(NOW - DAY))  # this run: a day earlier by its clock
    assert revisits.allowed("https://w/", state.get("https://w/"))
    assert not revisits.allowed("https://w/about.html", state.get("https://w/about.html"))  # backs off: not due
    assert not revisits.allowed("https://w/a", state.get("https://w/a"))
    revisits.fetched("https://w/")
    assert not revisits.allowed("https://w/", state.get("https://w/"))  # once per run


def workers_of_a_first_crawl(state) -> None:
    """Two workers of one shared first crawl over `state` (started 20 s apart: the second finds rows the first
    wrote), then a run the next day; each meets an undated article. Asserts how each is scheduled."""
    a = Revisits(state, POLICY, clock=Clock(NOW))
    assert a.plan.first
    a.reschedule("https://w/undated-a", ARTICLE, None)
    state.commit()
    b = Revisits(state, POLICY, clock=Clock(NOW + 20))  # the second worker: the state is no longer empty
    b.plan  # read when its crawl starts  # noqa: B018
    b.reschedule("https://w/undated-b", ARTICLE, None)
    # both are the archive's past: in the weekly sweep (at most 7 days), not looked at by every run for 3 days
    for url in ("https://w/undated-a", "https://w/undated-b"):
        row = state.get(url)
        assert (row.published, row.interval) == (None, 60.0) and row.swept_at is not None, row
    assert b.plan.first
    a.stopped()  # the first worker leaves: the first crawl is over (b, still running, keeps its plan)
    b.stopped()
    later = Revisits(state, POLICY, clock=Clock(NOW + DAY))
    assert not later.plan.first
    later.reschedule("https://w/undated-later", ARTICLE, None)
    row = state.get("https://w/undated-later")
    assert (row.published, row.interval, row.swept_at) == (NOW + DAY, 0.0, None)  # appeared since: young


def test_every_worker_of_a_shared_first_crawl_counts_as_the_first(tmp_path):
    """In a shared first crawl (Redis: tests/e2e/test_revisit.py) a worker that starts seconds after the first finds
    the state no longer empty. It is still the first crawl: an undated article it finds is the archive's past (the
    weekly sweep), not one that appeared that day (every run for 3 days). Once a run of the first crawl has stopped,
    a new run is a later one."""
    workers_of_a_first_crawl(SqliteState(tmp_path / "state.sqlite"))


def test_the_run_after_a_first_crawl_killed_before_it_stopped_is_still_the_first_crawl(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    killed = Revisits(state, POLICY, clock=Clock(NOW))
    assert killed.plan.first
    killed.reschedule("https://w/a", ARTICLE, None, published=NOW - 900 * DAY)
    state.commit()  # kill -9: no spider_closed, the first crawl is not marked ended
    again = Revisits(state, POLICY, clock=Clock(NOW + 3600))
    assert again.plan.first
    again.stopped()
    assert not Revisits(state, POLICY, clock=Clock(NOW + DAY)).plan.first
    # a state of an earlier version (rows, no marks): later runs
    old = SqliteState(tmp_path / "old.sqlite")
    old.schedule("https://w/b", {"kind": ARTICLE, "next_due": NOW, "interval": 6.0})
    assert not Revisits(old, POLICY, clock=Clock(NOW)).plan.first


def a_lowered_maximum_holds_rows_scheduled_before(state) -> None:
    """Rows scheduled by a run at NOW under the default maximums (an article 100 days quiet: 60 days; an unchanged
    archive listing and a static page: 90; a dead link: 30), then runs with lower maximums: each row is due at its
    last fetch + the new maximum, not at the due time the old one gave."""
    from crawler.incremental.policy import STATIC
    from crawler.incremental.state import utc_iso

    rows = {"https://w/article": (ARTICLE, 60.0), "https://w/news/a-24a.html": (ARCHIVE, 90.0),
            "https://w/about.html": (STATIC, 90.0), "https://w/gone": (DEAD, 30.0)}
    for url, (kind, interval) in rows.items():
        state.record_fetch(url, utc_iso(NOW + 30), 200 if kind != DEAD else 404)
        state.schedule(url, {"kind": kind, "next_due": NOW + interval * DAY - DAY / 2, "interval": interval,
                             "published": NOW - 100 * DAY if kind == ARTICLE else None})
    state.commit()
    lower = RevisitPolicy(article_max_days=7, archive_max_days=14, dead_days=7)

    def plan(day, policy=lower):
        revisits = Revisits(state, policy, clock=Clock(NOW + day * DAY))
        p = revisits.plan
        return revisits, {*p.taken, *p.front}, p

    _, due, _ = plan(7, POLICY)
    assert not due  # the defaults: nothing due a week later
    _, due, _ = plan(6)
    assert not due
    revisits, due, p = plan(7)  # a weekly maximum: the article after 7 days
    assert due == {"https://w/article"} and p.left == 0
    assert revisits.allowed("https://w/gone", state.get("https://w/gone"))  # a dead link linked again: asked
    revisits.reschedule("https://w/article", ARTICLE, state.get("https://w/article"))
    assert state.get("https://w/article").interval == 7.0
    _, due, _ = plan(14)
    # the listings after 14 days; the article 7 days after its last look again
    assert due == {"https://w/news/a-24a.html", "https://w/about.html", "https://w/article"}


def test_a_lowered_maximum_holds_the_rows_an_earlier_run_scheduled_to_the_old_one(tmp_path):
    """`-s REVISIT_ARTICLE_MAX_DAYS=7` on a state whose articles were given 60 days: an article is due 7 days after
    its last fetch, not at its next look (up to 60 days later). The same for REVISIT_ARCHIVE_MAX_DAYS (archive
    listings, static pages) and REVISIT_DEAD_DAYS. The Redis state: tests/e2e/test_revisit.py."""
    a_lowered_maximum_holds_rows_scheduled_before(SqliteState(tmp_path / "state.sqlite"))
