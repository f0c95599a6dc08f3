"""Scheduled daily runs with the revisit policy against the replica growing by simulated day (issue 23).

200 articles at day 0 (dated over 800 days), 5 new ones and 3 corrections a day (2 to articles of the last 3 days, 1 to an
article older than a year), 7 simulated days: day d's run is the documented command under
`faketime -f +{d}d` (politeness off), with one STATE_PATH and WARC_DIR (bench/revisit.py runs them;
`python -m bench.revisit --articles 3000 --days 10` is the same at the issue's size). Then:
every article exported at least once; each correction to a recent article exported by the run of
its day; each correction to an old article within 7 runs; each run exits 0; each later run costs a
fraction of the first; `scrapy state` tells what is due; the dataset built from all runs holds
each article once, in its latest version.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.crawling import REPO

pytestmark = pytest.mark.skipif(subprocess.run(["which", "faketime"], capture_output=True).returncode != 0,
                                reason="faketime (Debian package) is not installed")

DAYS = 7


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    from bench.revisit import simulate

    outdir = tmp_path_factory.mktemp("revisit")
    rows, site = simulate(outdir, 200, DAYS, 5, timeout=300, span_days=800)  # a third older than a year
    return {"rows": rows, "site": site, "outdir": outdir}


def test_every_run_exits_0_and_every_article_is_exported(week):
    from bench.revisit import check

    rows = week["rows"]
    assert [r["exit"] for r in rows] == [0] * (DAYS + 1)
    result = check(rows, week["site"])
    assert result["never_exported"] == []
    assert rows[0]["new"] == 200
    assert [r["new"] for r in rows[1:]] == [5] * DAYS  # each day's articles, on their day


def test_corrections_are_exported_in_time(week):
    from bench.revisit import check

    site = week["site"]
    assert len(site.corrections) == 3 * DAYS
    result = check(week["rows"], site)
    assert result["young_corrections_late"] == []  # by the run of the day they were made
    assert result["old_corrections_late"] == []  # within 7 runs


def test_later_runs_cost_a_fraction_of_the_first(week):
    rows = week["rows"]
    first = rows[0]["requests"]
    # At 200 articles a run's fixed part (17 front pages, robots.txt, the new articles and their images)
    # is ~10% of a first run by itself; at 3,000 the same policy costs ~10% in all (bench/RESULTS.md).
    assert all(r["requests"] <= 0.3 * first for r in rows[1:]), [r["requests"] for r in rows]
    # nothing waits: the due ones fit the default budget
    assert all(r["left_due"] == 0 and r["overdue"] == 0 for r in rows)
    # the last log line says it at a glance, and so does the run report
    last = rows[-1]["last_log_line"]
    assert "Crawl outcome: finished:" in last and "; incremental: 5 new, " in last and " left due" in last
    assert last.endswith("(exit status 0)")
    report = sorted((week["outdir"] / "reports").glob("*-report.md"))[-1]  # the last day's (dated by the clock)
    assert "| Incremental | 5 new, " in report.read_text("utf-8")


def test_a_later_run_asks_what_the_targets_need_and_little_else(week):
    """From the server's log of each run (bench.revisit.breakdown): no URL asked twice in a run; the old articles
    a seventh at a time (the weekly sweep); the young ones at every run; closed archive listings rarely."""
    from bench.revisit import breakdown

    site = week["site"]
    kinds = breakdown(week["rows"], site)
    assert all(k["repeated"] == 0 for k in kinds), [k["repeated"] for k in kinds]
    # Scrapy's count of requests is the server's
    assert sum(k["requests"] for k in kinds) == sum(r["requests"] for r in week["rows"])
    n_old = sum(1 for a in site.articles if (site.clock(DAYS) - a.when).days > 365)
    for k in kinds[2:]:  # after the first run's spread
        assert k["old_rechecks"] <= 2 * n_old / 7 + 3, k
        assert k["archive_closed"] <= 3, k
    # the static pages (about, privacy, advertising: no article links, the same every day) after 1, 2, 4 days
    assert [k["static"] for k in kinds] == [3, 3, 3, 0, 3, 0, 0, 0], [k["static"] for k in kinds]
    assert all(k["other"] == 0 for k in kinds), kinds
    for k in kinds[3:]:  # once the archive's own newest articles are older than 3 days
        assert k["young_rechecks"] == 10, k  # the 5 articles of each of the 2 days before (today's are new)
    assert sum(k["old_rechecks"] for k in kinds[1:]) <= (DAYS / 7 + 0.5) * n_old  # each once a week, not more


def test_scrapy_state_tells_what_is_due(week):
    """`scrapy state` on the clock of the last run (faketime, as the run had) and a day after it: a healthy daily
    schedule leaves nothing due now and nothing overdue; what is due at every run (front pages, young articles,
    changed archive pages) is counted on its own line, not as a backlog."""
    state = week["outdir"] / "state.sqlite"

    def scrapy_state(days: float) -> dict:
        proc = subprocess.run(["faketime", "-f", f"+{days}d", sys.executable, "-m", "scrapy", "state", str(state),
                               "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    o = scrapy_state(DAYS)  # right after the last run, by its clock
    site = week["site"]
    assert o["kinds"]["article"]["known"] == len(site.articles)
    assert o["kinds"]["front"]["known"] >= 1 + 5 + 6  # home, sections, feeds
    assert o["kinds"]["static"]["known"] == 3  # about, privacy, advertising
    assert o["kinds"]["archive"]["known"] == len(site.archives)
    assert o["due_now"] == o["overdue"] == 0, o  # the last run took everything that was due
    # due at every run: the front pages and the articles of the last 3 days (5 a day)
    assert o["kinds"]["front"]["every_run"] == o["kinds"]["front"]["known"]
    assert o["kinds"]["article"]["every_run"] >= 10 and o["every_run"] >= o["kinds"]["front"]["known"] + 10
    assert sum(o["falling_due"].values()) > 0
    o1 = scrapy_state(DAYS + 1)  # the next day, before its run: due now what that run will take, nothing overdue
    assert o1["overdue"] == 0 and o1["due_now"] > 0 and o1["every_run"] == o["every_run"], o1
    # 61 days after the last run every article is due again (60 days at most, REVISIT_ARTICLE_MAX_DAYS, or at every
    # run), and some overdue
    o61 = scrapy_state(DAYS + 61)
    articles = o61["kinds"]["article"]
    assert articles["due_now"] + articles["every_run"] == len(site.articles) and o61["overdue"] > 0


def test_dataset_of_all_runs_holds_each_article_once_in_its_latest_version(week, tmp_path):
    out = tmp_path / "dataset"
    proc = subprocess.run([sys.executable, "-m", "crawler.offline.dataset", "build", str(out),
                           str(week["outdir"] / "items")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (out / "articles.jsonl").read_text("utf-8").splitlines()]
    by_url = {r["url"]: r for r in rows}
    assert len(by_url) == len(rows) == len(week["site"].articles)
    expected = {e["url"]: e for e in week["site"].expected_items()}
    corrected = {url for _, url, _ in week["site"].corrections}
    found = {url for url in corrected if by_url[url]["body"] == expected[url]["body"]}
    # the old ones corrected in the last days may not have been revisited yet (within 7 runs)
    recent = {url for day, url, _ in week["site"].corrections
              if (week["site"].clock(day) - week["site"].by_path["/" + url.split("/", 3)[3]].when).days <= 3
              or day + 6 <= DAYS}
    assert recent <= found


def test_dead_links_and_moved_articles_are_not_asked_at_every_run(replica, tmp_path):
    """The replica's withdrawn story (404, linked from the home page), its removed briefing (404, linked from a
    section page) and an article's old address (301, also on the home page) are asked by a first run with
    STATE_PATH; the next run, the same day, asks none of them (kind `dead`, due the next day), though the same
    pages link to them again."""
    from tests.crawling import crawl

    site = replica.site
    dead = {site.withdrawn, site.dead_link, *site.redirects}
    asked = []
    for run in range(2):
        before = len(replica.log)
        result = crawl(tmp_path / f"run{run}", replica.host_map(), settings={"STATE_PATH": str(tmp_path / "state.sqlite")})
        assert result.returncode == 0
        asked.append({e.path.split("?")[0] for e in replica.log[before:] if e.host == "www.spacewar.com"})
    assert dead <= asked[0]
    assert "/" in asked[1] and not dead & asked[1]


def test_the_policy_in_a_redis_state(redis_url, redis, tmp_path):
    """The same policy with the state in Redis (the store of distributed workers): rows and due times in one
    transaction, the due ones found again by the next run, the others left alone."""
    from bench.revisit import check, simulate

    rows, site = simulate(tmp_path, 60, 2, 3, state=redis_url, timeout=180, span_days=600)
    assert [r["exit"] for r in rows] == [0, 0, 0]
    assert [r["new"] for r in rows] == [60, 3, 3]
    result = check(rows, site)
    assert result["never_exported"] == [] and result["young_corrections_late"] == []
    due = redis.zcard("spacewar:state:due")
    assert due > 0 and redis.hlen("spacewar:state") > due  # page requisites are never due
    assert rows[2]["requests"] < 0.5 * rows[0]["requests"]
    proc = subprocess.run([sys.executable, "-m", "scrapy", "state", "redis", "-s", f"REDIS_URL={redis_url}",
                           "--json"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["kinds"]["article"]["known"] == len(site.articles)


def test_scrapy_state_counts_a_redis_state_as_a_sqlite_one(redis, tmp_path):
    """The overview of `scrapy state` from a Redis state: rows due at every run apart, no backlog right after a run."""
    from crawler.incremental.overview import overview
    from crawler.incremental.state import RedisState, SqliteState
    from tests.unit.incremental.test_overview import RUN, last_run

    red, sqlite = RedisState(redis, "spacewar:state"), SqliteState(tmp_path / "state.sqlite")
    for store in (red, sqlite):
        last_run(store, backlog=True)
    for now in (RUN + 600, RUN + 86400 + 600):
        o = overview(red, now)
        assert o == overview(sqlite, now) and (o["every_run"], o["due_now"], o["overdue"]) == (7, 3, 2)


def test_every_worker_of_a_shared_first_crawl_over_a_redis_state_counts_as_the_first(redis):
    """Two workers' plans over one Redis state (as tests/unit/incremental/test_policy.py over SQLite): the worker that
    starts seconds after the first is the first crawl too; a run after the first crawl stopped is a later one."""
    from crawler.incremental.state import RedisState
    from tests.unit.incremental.test_policy import workers_of_a_first_crawl

    workers_of_a_first_crawl(RedisState(redis, "spacewar:state"))
    assert redis.hlen("spacewar:state:marks") == 2


def test_a_lowered_maximum_holds_the_rows_of_a_redis_state_scheduled_to_the_old_one(redis):
    """As tests/unit/incremental/test_policy.py over SQLite: `-s REVISIT_ARTICLE_MAX_DAYS=7` on a Redis state."""
    from crawler.incremental.state import RedisState
    from tests.unit.incremental.test_policy import a_lowered_maximum_holds_rows_scheduled_before

    a_lowered_maximum_holds_rows_scheduled_before(RedisState(redis, "spacewar:state"))


def test_both_stores_plan_the_same_sweep_and_a_redis_state_of_the_version_before_joins_it(redis, tmp_path):
    """The weekly sweep in SQLite and in Redis: the same runs take the same URLs in the same order (due ones, then
    the sweep's share ahead, least recently looked at first). A Redis state written before the sweep (rows
    without swept_at, no `<key>:sweep` set) keeps its due times: each old article joins the sweep at its next look,
    and the runs take no more than the due rows meanwhile."""
    import json as json_

    from crawler.incremental.policy import ARTICLE, DAY, RevisitPolicy
    from crawler.incremental.revisit import Revisits
    from crawler.incremental.state import RedisState, SqliteState

    now0 = 1_800_000_000.0
    policy = RevisitPolicy()

    class Clock:
        def __init__(self, t):
            self.t = t

        def __call__(self):
            return self.t

    def run(state, now, new=()):
        revisits = Revisits(state, policy, clock=Clock(now))
        taken = list(revisits.plan.taken)
        for url in taken:
            revisits.reschedule(url, ARTICLE, state.get(url))
        for url, when in new:
            revisits.reschedule(url, ARTICLE, None, published=when)
        state.commit()
        revisits.stopped()
        return taken

    sqlite, red = SqliteState(tmp_path / "state.sqlite"), RedisState(redis, "spacewar:state")
    first = [(f"https://w/a{k:03d}", now0 - (100 + 7 * k) * DAY) for k in range(140)]  # 88 of them old
    plans = [(run(sqlite, now0, first), run(red, now0, first))]
    for day in range(1, 16):
        new = [(f"https://w/d{day}", now0 + (day - 2) * DAY), (f"https://w/d{day}old", now0 - 900 * DAY)]
        plans.append((run(sqlite, now0 + day * DAY, new), run(red, now0 + day * DAY, new)))
    assert all(a == b for a, b in plans), [(k, a, b) for k, (a, b) in enumerate(plans) if a != b][:1]
    assert red.sweep() == sqlite.sweep() and red.sweep()[0] >= 88
    assert len(plans[1][0]) >= 13  # the sweep's share ahead of time: ceil(88 / 7)
    assert redis.zcard("spacewar:state:sweep") == red.sweep()[0]

    # a Redis state of the version before: rows with due times by the sweep day its hash picked, no sweep set
    redis.flushdb()
    for k in range(70):
        row = {"url": f"https://w/o{k}", "item_digest": "abc", "kind": ARTICLE, "next_due": now0 + (k % 7) * DAY,
               "interval": 30.0, "published": now0 - 900 * DAY, "changed_at": None, "changes": 0}
        redis.hset("spacewar:state", row["url"], json_.dumps(row))
        redis.zadd("spacewar:state:due", {row["url"]: row["next_due"]})
    before = RedisState(redis, "spacewar:state")
    assert before.sweep() == (0, None) and before.get("https://w/o0").swept_at is None
    taken = [run(before, now0 + day * DAY + 60) for day in range(14)]
    assert [len(t) for t in taken] == [10] * 14  # the due times of the version before, then the same share
    assert before.sweep()[0] == 70 and redis.zcard("spacewar:state:sweep") == 70


def test_a_run_killed_with_sigkill_loses_nothing(tmp_path):
    """kill -9 in the middle of a first run: the next run fetches what the killed one had not scheduled
    (never-scheduled rows are new), so every article is exported, and the state is whole again."""
    import os
    import signal
    import time

    from bench.revisit import day_command, run_day
    from tests.sites.replica.growth import GrowingServer, GrowingSite

    site = GrowingSite(120, days=1, per_day=3, span_days=400)
    state = tmp_path / "state.sqlite"
    with GrowingServer(site, record=False) as server:
        # a session of its own: faketime runs the crawl as its child, and kill -9 must reach the crawl
        proc = subprocess.Popen(day_command(tmp_path, server, 0, state), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            items = sum(len(p.read_text("utf-8").splitlines()) for p in (tmp_path / "items").glob("*.jsonl")) \
                if (tmp_path / "items").is_dir() else 0
            if items >= 30:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        time.sleep(0.5)  # the crawl, faketime's child, is gone too (its group was killed)
        killed = [json.loads(line) for p in (tmp_path / "items").glob("*.jsonl")
                  for line in p.read_text("utf-8").splitlines() if line.strip().endswith("}")]
        again = run_day(tmp_path, server, 0, state)
    assert 30 <= len(killed) < len(site.articles)  # killed in the middle
    assert again["exit"] == 0 and again["new"] >= len(site.articles) - len(killed)
    exported = {i["url"] for i in killed} | {i["url"] for i in again["items"]}
    assert exported == {a.url for a in site.articles}
    proc = subprocess.run([sys.executable, "-m", "scrapy", "state", str(state), "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout)["kinds"]["article"]["known"] == len(site.articles)
