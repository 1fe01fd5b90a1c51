"""Progress lines: live on a terminal, a log line every interval without one, nothing when quiet."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import pytest

from core.connector import PushOutcome
from core.sync import PullReport, PushReport
from profilesync.progress import Progress, count_lines, format_duration
from profilesync.syncrun import Progress as SyncProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_on_a_terminal_one_line_is_rewritten_with_rate_and_eta_at_most_every_refresh() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("resolve", total=1000, stream=stream, live=True, refresh=0.5, clock=clock)
    # WHEN 200 of 1,000 records are done after 2 s, then more within the refresh time
    clock.now += 2
    progress.update(200, "3 quarantined")
    progress.update(210)
    clock.now += 0.1
    progress.update(220)
    # THEN one line was drawn, with the share, the rate and the time left at that rate
    assert stream.getvalue() == "\rresolve: 200/1,000 records (20%) · 100 records/s · ETA 8s · 3 quarantined"
    # WHEN the refresh time has passed THEN the line is redrawn in place, a shorter one wiping the longer
    clock.now += 0.5
    progress.update(500)
    last = stream.getvalue().split("\r")[-1]
    assert last.startswith("resolve: 500/1,000 records (50%) · 192 records/s · ETA 3s")
    assert len(last) >= len("resolve: 200/1,000 records (20%) · 100 records/s · ETA 8s · 3 quarantined")
    # WHEN it finishes THEN the final state is drawn and the line ended
    clock.now += 2
    progress.finish(1000, "")
    assert stream.getvalue().endswith("resolve: 1,000/1,000 records (100%) · 217 records/s · in 5s\n")


def test_without_a_terminal_a_line_is_logged_every_interval_and_at_the_end() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress("pull hubspot", stream=stream, live=False, interval=10, clock=clock)
    # WHEN updates come every second for 25 s
    for second in range(1, 26):
        clock.now += 1
        progress.update(second * 100, f"page {second}")
    progress.finish()
    # THEN one line at 10 s, one at 20 s, and the final one: no carriage returns, no flood
    assert stream.getvalue().splitlines() == [
        "pull hubspot: 1,000 records · 100 records/s · page 10",
        "pull hubspot: 2,000 records · 100 records/s · page 20",
        "pull hubspot: 2,500 records · 100 records/s · page 25",
    ]


def test_a_short_run_without_a_terminal_and_a_quiet_run_log_nothing() -> None:
    for live, quiet in ((False, False), (True, True), (False, True)):
        stream, clock = io.StringIO(), Clock()
        progress = Progress("resolve", total=10, stream=stream, live=live, quiet=quiet, clock=clock)
        clock.now += 3
        progress.update(10)
        progress.finish()
        assert stream.getvalue() == ""


def test_a_sync_shows_its_pull_then_its_push_with_the_push_total() -> None:
    stream = io.StringIO()
    progress = SyncProgress(stream, live=True)
    # WHEN a pull reports its pages, then a push its batches (one payload failed)
    progress.pull(PullReport("hubspot", pages=2, pulled=150))
    progress.done()
    push = PushReport("hubspot", sent=40, pushed=10)
    push.failed.append(PushOutcome("cus_1", ok=False, error="rejected"))
    progress.push(push)
    progress.done()
    # THEN each has its line: the pull open-ended, the push out of the profiles it sends
    lines = stream.getvalue().replace("\r", "\n").splitlines()
    assert any(line.startswith("pull hubspot: 150 records") and "page 2" in line for line in lines)
    assert any(line.startswith("push hubspot: 10/40 profiles (25%)") and "1 failed" in line for line in lines)
    assert stream.getvalue().endswith("\n")


def test_durations_read_as_people_write_them() -> None:
    assert [format_duration(s) for s in (0, 4.6, 59, 60, 153, 3599, 3600, 3840, 90000)] == [
        "0s",
        "5s",
        "59s",
        "1m 00s",
        "2m 33s",
        "59m 59s",
        "1h 00m",
        "1h 04m",
        "25h 00m",
    ]


def test_lines_are_counted_with_or_without_a_final_newline(tmp_path: Path) -> None:
    cases = {"": 0, "a\n": 1, "a\nb": 2, "a\n\nb\n": 3, "x" * 3_000_000 + "\n" + "y": 2}
    for text, expected in cases.items():
        path = tmp_path / "f.jsonl"
        path.write_text(text, encoding="utf-8")
        assert count_lines(path, chunk=1 << 16) == expected


def test_the_rate_shown_is_that_of_the_last_window_so_a_slower_run_shows_a_later_eta() -> None:
    stream, clock = io.StringIO(), Clock()
    progress = Progress(
        "resolve", total=10_000, stream=stream, live=False, interval=10, window=30, clock=clock
    )
    done = 0
    # WHEN a run goes at 100 records/s for a minute, then at 20 records/s for a minute
    for rate in [100] * 60 + [20] * 60:
        clock.now += 1
        done += rate
        progress.update(done)
    # THEN the last line shows the recent 20 records/s, and an ETA at that rate
    last = stream.getvalue().splitlines()[-1]
    assert " · 20 records/s · " in last
    assert last.endswith(f"ETA {format_duration((10_000 - done) / 20)}")


@pytest.mark.skipif(os.name != "posix", reason="a pseudo-terminal")
def test_on_a_narrow_terminal_the_line_is_cut_to_its_width_so_rewriting_it_leaves_no_rows() -> None:
    import fcntl
    import select
    import termios

    # GIVEN a terminal 40 columns wide (a pseudo-terminal; a sync's line is about 90 characters)
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    clock = Clock()
    with open(follower, "w", encoding="utf-8", closefd=True) as terminal:
        progress = Progress("pull hubspot", stream=terminal, refresh=0.2, clock=clock)
        assert progress.live
        # WHEN the line is drawn a few times and finished
        for page in range(1, 6):
            clock.now += 1
            progress.update(page * 100, f"page {page} · {page * 99:,} written · {page:,} quarantined")
        progress.finish()
        terminal.flush()
        chunks = []
        while select.select([leader], [], [], 0.5)[0]:
            chunks.append(os.read(leader, 65536))
        drawn = b"".join(chunks).decode("utf-8")
    os.close(leader)
    # THEN no drawing of it is wider than the terminal: "\r" rewrites the whole line each time
    rows = [row for row in drawn.replace("\r\n", "\n").replace("\n", "\r").split("\r") if row.strip()]
    assert len(rows) == 6
    assert max(len(row.rstrip()) for row in rows) < 40
    assert rows[-1].startswith("pull hubspot: 500 records")
