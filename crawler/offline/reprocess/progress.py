"""The progress of a reprocess: a bar with rate and ETA on a terminal, plain progress lines otherwise.

`Progress(total_bytes)` is told after each task how many bytes of WARC files it covered and how
many articles it made. On a terminal (stderr is a tty) it redraws one line at most every
`interval_tty` seconds: `[#####.....]  42%  1,234 articles  1,050 articles/s  12.0 MB/s  ETA 0:35`;
otherwise (a log file, a pipe, a scheduler) it writes a plain line every `interval` seconds
(`reprocess: 42% of 120.0 MB, 1234 articles, 1050 articles/s, ETA 35 s`), and nothing at all
for a run shorter than that.
"""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, total_bytes: int, stream=None, *, interval: float = 10.0, interval_tty: float = 0.2,
                 tty: bool | None = None, label: str = "reprocess"):
        self.total = max(1, total_bytes)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.interval = interval_tty if self.tty else interval
        self.label = label
        self.started = time.monotonic()
        self.last = self.started
        self.done_bytes = 0
        self.articles = 0
        self._drawn = False

    def update(self, nbytes: int, articles: int) -> None:
        self.done_bytes += nbytes
        self.articles += articles
        now = time.monotonic()
        if self.interval > 0 and now - self.last >= self.interval:
            self.last = now
            self._draw(now)

    def _figures(self, now: float) -> tuple[float, float, float, float]:
        elapsed = max(1e-9, now - self.started)
        share = min(1.0, self.done_bytes / self.total)
        eta = elapsed * (1 - share) / share if share > 0 else float("nan")
        return share, self.articles / elapsed, self.done_bytes / elapsed / 1e6, eta

    def _draw(self, now: float) -> None:
        share, rate, mbps, eta = self._figures(now)
        eta_text = _clock(eta) if eta == eta else "?"
        if self.tty:
            width = 30
            bar = "#" * int(width * share) + "." * (width - int(width * share))
            self.stream.write(f"\r[{bar}] {100 * share:3.0f}%  {self.articles:,} articles  {rate:,.0f} articles/s  "
                              f"{mbps:.1f} MB/s  ETA {eta_text}  ")
            self._drawn = True
        else:
            self.stream.write(f"{self.label}: {100 * share:.0f}% of {self.total / 1e6:.1f} MB, {self.articles} "
                              f"articles, {rate:.0f} articles/s, ETA {eta_text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._drawn:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
