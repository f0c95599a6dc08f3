"""What a crawl state holds, for `scrapy state` (crawler/commands/state.py): known URLs by kind, due now, overdue,
and when the next ones fall due (per day for the next week, then later)."""

from __future__ import annotations

from crawler.incremental.policy import DAY, KINDS
from crawler.incremental.state import utc_iso


def overview(state, now: float) -> dict:
    """Counts from a state store (SqliteState or RedisState) at the time `now` (epoch seconds)."""
    known = state.kinds()
    due_times = state.due_times()
    kinds = [k for k in (*KINDS, *sorted(set(known) - set(KINDS))) if k in known]
    rows = {}
    for kind in kinds:
        times = [t for k, t in due_times if k == kind]
        rows[kind] = {
            "known": known[kind],
            "due_now": sum(1 for t in times if t <= now),
            "overdue": sum(1 for t in times if t <= now - DAY),
            "never": known[kind] - len(times) if kind != "unscheduled" else 0,
        }
    upcoming = [0] * 8  # within 1 day, 2 days, ... 7 days, later
    for _, t in due_times:
        if t > now:
            upcoming[min(7, int((t - now) // DAY))] += 1
    future = [t for _, t in due_times if t > now]
    return {
        "now": utc_iso(now), "known": sum(known.values()), "kinds": rows,
        "due_now": sum(r["due_now"] for r in rows.values()),
        "overdue": sum(r["overdue"] for r in rows.values()),
        "next_due": utc_iso(min(future)) if future else None,
        "falling_due": {**{f"day {k + 1}": n for k, n in enumerate(upcoming[:7])}, "later": upcoming[7]},
    }


def format_overview(o: dict, where: str) -> str:
    lines = [f"State {where} at {o['now']}: {o['known']} known URLs, {o['due_now']} due now, "
             f"{o['overdue']} overdue (due for more than a day)", "",
             f"{'kind':<12} {'known':>8} {'due now':>8} {'overdue':>8} {'never due':>9}"]
    for kind, r in o["kinds"].items():
        lines.append(f"{kind:<12} {r['known']:>8} {r['due_now']:>8} {r['overdue']:>8} {r['never']:>9}")
    lines += ["", f"next due: {o['next_due'] or 'none'}",
              "falling due within: " + ", ".join(f"{k}: {n}" for k, n in o["falling_due"].items())]
    return "\n".join(lines)
