"""Reprocess's progress: a bar with rate and ETA on a terminal, plain lines elsewhere, nothing for a run shorter than the interval."""

from __future__ import annotations

import io

from crawler.offline.reprocess.progress import Progress


def test_on_a_terminal_a_bar_with_rate_and_eta_is_redrawn_on_one_line():
    out = io.StringIO()
    p = Progress(1000, out, tty=True, interval_tty=1e-9)
    p.update(250, 10)
    p.update(250, 10)
    p.close()
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1
    assert "[###############...............]  50%" in text and "articles/s" in text and "ETA" in text


def test_elsewhere_plain_lines_at_the_interval():
    out = io.StringIO()
    p = Progress(2_000_000, out, tty=False, interval=0)  # 0: no line at all
    p.update(1_000_000, 5)
    p.close()
    assert out.getvalue() == ""
    p = Progress(2_000_000, out, tty=False, interval=1e-9)
    p.update(1_000_000, 5)
    p.close()
    line = out.getvalue()
    assert line.startswith("reprocess: 50% of 2.0 MB, 5 articles, ") and "ETA" in line and "\r" not in line


def test_a_short_run_writes_nothing():
    out = io.StringIO()
    p = Progress(100, out, tty=False, interval=10)
    p.update(100, 1)
    p.close()
    assert out.getvalue() == ""
