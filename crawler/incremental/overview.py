"""What a crawl state holds, for `scrapy state` (crawler/commands/state.py): known URLs by kind, what is due at every
run, due now, overdue, and when the next ones fall due (per day for the next week, then later).

Rows due at every run (interval 0: front pages, young articles, archive pages found changed) are counted apart
(`every_run`): a run takes them all whatever their due time says (the start of the run that last fetched them), so
they are no backlog. `due_now` counts the other rows whose due time has come: what the next run will take (within
REVISIT_BUDGET). `overdue` counts the budgeted rows (archive listings, articles) among them due for more than a day:
what runs left (the budget bound, or no run came)."""

from __future__ import annotations

from crawler.incremental.policy import BUDGETED, DAY, KINDS
from crawler.incremental.state import utc_iso


def overview(state, now: float) -> dict:
    """Counts from a state store (SqliteState or RedisState) at the time `now` (epoch seconds)."""
    known = state.kinds()
    due_times = state.due_times()
    kinds = [k for k in (*KINDS, *sorted(set(known) - set(KINDS))) if k in known]
    rows = {}
    for kind in kinds:
        every_run = sum(1 for k, _, i in due_times if k == kind and i == 0)
        waiting = [t for k, t, i in due_times if k == kind and i != 0]
        rows[kind] = {
            "known": known[kind],
            "every_run": every_run,
            "due_now": sum(1 for t in waiting if t <= now),
            "overdue": sum(1 for t in waiting if t <= now - DAY) if kind in BUDGETED else 0,
            "never": known[kind] - every_run - len(waiting) if kind != "unscheduled" else 0,
        }
    future = [t for _, t, i in due_times if t > now and i != 0]
    upcoming = [0] * 8  # within 1 day, 2 days, ... 7 days, later
    for t in future:
        upcoming[min(7, int((t - now) // DAY))] += 1
    return {
        "now": utc_iso(now), "known": sum(known.values()), "kinds": rows,
        "every_run": sum(r["every_run"] for r in rows.values()),
        "due_now": sum(r["due_now"] for r in rows.values()),
        "overdue": sum(r["overdue"] for r in rows.values()),
        "next_due": utc_iso(min(future)) if future else None,
        "falling_due": {**{f"day {k + 1}": n for k, n in enumerate(upcoming[:7])}, "later": upcoming[7]},
    }


def format_overview(o: dict, where: str) -> str:
    lines = [f"State {where} at {o['now']}: {o['known']} known URLs, {o['every_run']} due at every run, "
             f"{o['due_now']} due now, {o['overdue']} overdue (archive listings and articles due for more than a day)",
             "", f"{'kind':<12} {'known':>8} {'every run':>9} {'due now':>8} {'overdue':>8} {'never due':>9}"]
    for kind, r in o["kinds"].items():
        lines.append(f"{kind:<12} {r['known']:>8} {r['every_run']:>9} {r['due_now']:>8} {r['overdue']:>8}"
                     f" {r['never']:>9}")
    lines += ["", f"next due: {o['next_due'] or 'none'}",
              "falling due within: " + ", ".join(f"{k}: {n}" for k, n in o["falling_due"].items())]
    return "\n".join(lines)
