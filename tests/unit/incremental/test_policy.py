"""The revisit policy (crawler/incremental/policy.py) and the run plan over a SQLite state (crawler/incremental/revisit.py),
with an injected clock: which URLs a run takes, when each falls due again."""

from __future__ import annotations

import pytest

from crawler.incremental.policy import ARCHIVE, ARTICLE, ASSET, DAY, FRONT, NEVER, RevisitPolicy, parse_date, spread
from crawler.incremental.revisit import Revisits
from crawler.incremental.state import SqliteState

NOW = 1_800_000_000.0  # 2027-01-15
POLICY = RevisitPolicy()


def days(seconds: float) -> float:
    return seconds / DAY


# --- articles: young every run, then growing intervals up to the maximum, reset on change ------------
@pytest.mark.parametrize("age, interval", [(0, 0.0), (2.9, 0.0), (3, 1.5), (4, 2.0), (8, 4.0), (14, 7.0), (400, 7.0),
                                           (4000, 7.0)])
def test_article_interval_grows_with_its_age_up_to_the_maximum(age, interval):
    assert POLICY.article_interval(NOW, NOW - age * DAY, None) == interval


def test_a_change_found_makes_an_old_article_young_again():
    published = NOW - 900 * DAY
    assert POLICY.article_interval(NOW, published, None) == 7.0
    assert POLICY.article_interval(NOW, published, NOW - DAY) == 0.0  # changed yesterday: every run
    assert POLICY.article_interval(NOW, published, NOW - 10 * DAY) == 5.0  # quiet for 10 days since


def test_an_undated_article_counts_from_now():
    assert POLICY.article_interval(NOW, None, None) == 0.0


def test_settings_change_the_numbers_and_reject_negative_ones():
    values = {"REVISIT_ARTICLE_MAX_DAYS": "30", "REVISIT_ARTICLE_YOUNG_DAYS": "1"}
    p = RevisitPolicy.from_settings(values.get)
    assert p.article_interval(NOW, NOW - 400 * DAY, None) == 30.0
    assert p.article_interval(NOW, NOW - 2 * DAY, None) == 1.0
    with pytest.raises(ValueError, match="REVISIT_BUDGET|REVISIT_ARCHIVE_MAX_DAYS"):
        RevisitPolicy.from_settings({"REVISIT_ARCHIVE_MAX_DAYS": "-1"}.get)
    every_run = RevisitPolicy.from_settings({"REVISIT_ARTICLE_MAX_DAYS": "0"}.get)
    assert every_run.article_interval(NOW, NOW - 4000 * DAY, None) == 0.0


# --- archive listings: adaptive -----------------------------------------------------------------------
def test_archive_interval_backs_off_while_unchanged_and_drops_to_every_run_on_change():
    interval = POLICY.archive_interval(None, changed=False)
    assert interval == 7.0
    seen = []
    for _ in range(6):
        interval = POLICY.archive_interval(interval, changed=False)
        seen.append(interval)
    assert seen == [14.0, 28.0, 56.0, 90.0, 90.0, 90.0]
    assert POLICY.archive_interval(90.0, changed=True) == 0.0
    assert POLICY.archive_interval(0.0, changed=False) == 1.0  # then it grows again from the minimum


def test_front_pages_every_run_assets_never():
    assert POLICY.interval(FRONT, NOW) == 0.0
    assert POLICY.interval(ASSET, NOW) == NEVER
    assert POLICY.next_due("https://x/a.jpg", ASSET, NOW, NEVER, None) == NEVER


def test_first_due_time_is_spread_over_the_interval_then_exact():
    urls = [f"https://www.spacewar.com/reports/a{k}.html" for k in range(2000)]
    firsts = [days(POLICY.next_due(u, ARTICLE, NOW, 7.0, None) - NOW) for u in urls]
    assert all(0 < d <= 7 for d in firsts)
    per_day = [sum(1 for d in firsts if k < d <= k + 1) for k in range(7)]
    assert min(per_day) > 2000 / 7 * 0.8, per_day  # no day gets the herd
    assert POLICY.next_due(urls[0], ARTICLE, NOW, 7.0, NOW - DAY) == NOW + 7 * DAY
    assert spread(urls[0]) == spread(urls[0])


def test_parse_date():
    assert parse_date("2027-01-15") == parse_date("2027-01-15T00:00:00Z")
    assert parse_date(None) is None and parse_date("someday") is None


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
    assert first.kind == ARTICLE and first.interval == 7.0 and NOW < first.next_due <= NOW + 7 * DAY
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
