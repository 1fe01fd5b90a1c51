"""Progress of long work on stderr: a live line on a terminal, a log line every so often elsewhere.

On a terminal the line is rewritten in place at most every ``refresh`` seconds::

    resolve: 412,000/1,000,000 records (41%) · 3,850 records/s · ETA 2m 33s · 8,210 quarantined

Without a terminal (a CI log, a cron mail, ``2> file``) the same text goes out as one line every
``interval`` seconds, and once more at the end, so a long run is never silent and a log is never
flooded (a run shorter than ``interval`` logs nothing). ``quiet`` silences both. The rate is the
rate of the last 30 seconds; the ETA is shown when the total is known (``resolve`` counts the input's
lines first; ``sync``'s push knows how many profiles it sends).
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

__all__ = ["Progress", "count_lines", "format_duration"]


class Progress:
    """One task's progress: call ``update`` as often as you like, ``finish`` once at the end."""

    def __init__(
        self,
        label: str,
        *,
        unit: str = "records",
        total: int | None = None,
        stream: TextIO | None = None,
        quiet: bool = False,
        live: bool | None = None,
        interval: float = 10.0,
        refresh: float = 0.2,
        window: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.unit = unit
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.live = _isatty(self.stream) if live is None else live
        self.interval = interval
        self.refresh = refresh
        self._clock = clock
        self._start = clock()
        self._shown_at: float | None = None
        self._width = 0
        self.window = window
        self._samples: deque[tuple[float, int]] = deque([(self._start, 0)])
        self.done = 0
        self.detail = ""

    def update(self, done: int, detail: str = "") -> None:
        """``done`` units so far, and a short note for the end of the line (what was found, say)."""
        self.done, self.detail = done, detail
        if self.quiet:
            return
        now = self._clock()
        samples = self._samples
        if now - samples[-1][0] >= 1.0:  # one sample a second is enough for the recent rate
            samples.append((now, done))
            while len(samples) > 2 and now - samples[1][0] >= self.window:
                samples.popleft()
        wait = self.refresh if self.live else self.interval
        if self._shown_at is not None and now - self._shown_at < wait:
            return
        if self._shown_at is None and not self.live and now - self._start < wait:
            return  # without a terminal, the first line comes after ``interval``
        self._show(now)

    def finish(self, done: int | None = None, detail: str | None = None) -> None:
        """Show the final state. On a terminal the line is ended, so what follows starts afresh;
        without one, the final line is logged only after earlier ones (a short run stays quiet)."""
        if done is not None:
            self.done = done
        if detail is not None:
            self.detail = detail
        if self.quiet or (not self.live and self._shown_at is None):
            return
        self._show(self._clock())
        if self.live:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        """The progress text: done (of total), rate, ETA, detail."""
        now = now if now is not None else self._clock()
        elapsed = max(1e-9, now - self._start)
        if self.total and self.done >= self.total:
            rate = self.done / elapsed  # the end: the run's own average
        else:
            # The rate of the last ``window`` seconds: a run that slows down (or speeds up) shows it,
            # and its ETA follows.
            since, then = self._samples[0]
            rate = (self.done - then) / max(1e-9, now - since)
        parts = [f"{self.label}: {self.done:,}"]
        if self.total:
            share = min(1.0, self.done / self.total)
            parts[0] += f"/{self.total:,} {self.unit} ({share:.0%})"
        else:
            parts[0] += f" {self.unit}"
        parts.append(f"{rate:,.0f} {self.unit}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {format_duration((self.total - self.done) / rate)}")
        elif self.total and self.done >= self.total:
            parts.append(f"in {format_duration(elapsed)}")
        if self.detail:
            parts.append(self.detail)
        return " · ".join(parts)

    def _show(self, now: float) -> None:
        text = self.line(now)
        if self.live:
            # A line wider than the terminal wraps, and "\r" then rewrites only its last row: every
            # refresh would leave a row behind. The line is cut to the terminal's width instead.
            text = text[: max(10, _columns(self.stream) - 1)]
            pad = max(0, self._width - len(text))  # wipe what a longer previous line left
            self.stream.write(f"\r{text}{' ' * pad}")
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self._shown_at = now


def format_duration(seconds: float) -> str:
    """``45s``, ``2m 33s``, ``1h 04m``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def count_lines(path: Path, chunk: int = 1 << 20) -> int:
    """The number of lines of a file, read in binary chunks (about 1 s per GB): the total of a
    progress bar over a JSON-lines file. A last line without a newline counts."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _columns(stream: TextIO) -> int:
    """The width of the terminal ``stream`` writes to (80 when it cannot tell)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):  # not a terminal, or a stream with no file
        return 80


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
