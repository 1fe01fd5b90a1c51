"""``profilesync demo``: the whole data path on one machine, through the deployed handlers.

Seeds the HubSpot, Mailchimp and Shopify sandboxes from one population (the same people, with the
variation real exports have, in one, two or three of the tools), then runs, in ``LocalRuntime``:

* round 1: the schedule's pull of each connector -> merge from the ingest queue -> push from the
  table's stream, until everything has settled;
* a change in the tools: a few percent of each tool's records edited, and some new people added;
* round 2: the same, incrementally from the saved cursors.

It prints what each round did (from the handlers' own return values and EMF metrics), writes
``profiles.jsonl`` (one merged profile per line) and ``report.html`` (self-contained pictures).

Pushing enriched traits back changes each tool's modified time, so round 2's pull also brings back
the records round 1 pushed to (the echo, docs/architecture.md): they rebuild the same payloads and
are not pushed again. The summary separates them from the records that really changed.

Where each part lives: the tools and their sandboxes in ``demo_sandboxes``, a round and the results
in ``demo_rounds``, the printed summary in ``demo_summary``.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from profilesync.demo_rounds import (
    DemoResult,
    RoundReport,
    _dropped_values,
    _identity_picture,
    _read_table,
    _reason_class,
    _run_round,
)
from profilesync.demo_sandboxes import (
    CONNECTORS,
    DEFAULT_TOOLS,
    FAST_LIMITS_NOTE,
    FAST_OPTIONS,
    LABELS,
    SHOPIFY_RATE_SCALE,
    change_tools,
    demo_tools,
    label,
    make_sandboxes,
)
from profilesync.demo_summary import summary_lines
from profilesync.local import LocalRuntime


# --- progress ------------------------------------------------------------------------------------------
class Progress:
    """One line per stage on stderr; on a terminal the line is rewritten in place while it runs."""

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self.stage = ""
        self.started = time.monotonic()
        self._last = 0.0

    def begin(self, stage: str) -> None:
        self.stage = stage
        self.started = time.monotonic()
        self.update("")

    def update(self, text: str) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if text and now - self._last < 0.1:
            return
        self._last = now
        self.stream.write(f"\r\033[K  {self.stage:<28} {text}")
        self.stream.flush()

    def end(self, text: str) -> None:
        elapsed = time.monotonic() - self.started
        line = f"  {self.stage:<28} {text} ({elapsed:.1f} s)"
        self.stream.write(f"\r\033[K{line}\n" if self.live else f"{line}\n")
        self.stream.flush()

    def runtime_hook(self) -> Callable[[str, str], None]:
        return lambda _stage, text: self.update(text)


def run_demo(
    *,
    people: int = 3000,
    seed: int = 7,
    out_dir: Path = Path("out"),
    touch_share: float = 0.03,
    new_share: float = 0.02,
    published_limits: bool = False,
    progress: Progress | None = None,
    after_round: Callable[[RoundReport, LocalRuntime], None] | None = None,
    tools: Sequence[str] = DEFAULT_TOOLS,
) -> DemoResult:
    """Run both rounds and write ``profiles.jsonl`` and ``report.html`` into ``out_dir``.

    ``after_round`` is called with each round's report while the runtime is still up (tests read
    the table there). ``tools`` names the connectors whose sandboxes take part (``demo_tools()``)."""
    from profilesync.report import write_report
    from profilesync.resolve import profile_line

    progress = progress or Progress()
    started = time.monotonic()
    notes = [] if published_limits else [FAST_LIMITS_NOTE]
    progress.begin("seed the sandboxes")
    sandboxes = make_sandboxes(people, seed, published_limits=published_limits, tools=tools)
    chosen = tuple(sandboxes)
    progress.end(", ".join(f"{label(n)} {len(sandboxes[n].record_keys()):,} records" for n in chosen))
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "demo-handlers.log"
    # Requests are neither validated on the client side nor signed (LocalRuntime: moto checks
    # neither); the tests of these handlers run them with both.
    with LocalRuntime(
        sandboxes, log_path=log_path, seed=seed, progress=progress.runtime_hook(), client_checks=False
    ) as rt:
        first = _run_round(rt, "round 1", progress)
        if after_round is not None:
            after_round(first, rt)
        changed = change_tools(
            sandboxes, share=touch_share, new_people=max(1, int(people * new_share)), seed=seed
        )
        second = _run_round(rt, "round 2", progress, count_profiles=False)
        second.changed_in_tools = changed
        if after_round is not None:
            after_round(second, rt)
        progress.begin("read the results")
        live, sources = _read_table(rt)
        second.profiles = len(live)
        profiles = sorted((p for p in live if p.sources), key=lambda p: p.customer_id)
        quarantine: dict[str, Counter[str]] = {}
        for name in chosen:
            quarantine[name] = Counter(
                _reason_class(e.reason) for e in rt.wiring.sync_state.quarantined(name)
            )
        dropped, records = _dropped_values(sources, chosen)
        identity = _identity_picture(rt, profiles, sources)
        dead_letters = rt.queue_depth(rt.dlq_url)
        progress.end(f"{len(profiles):,} profiles")
    if dead_letters:
        notes.append(f"{dead_letters:,} ingest messages are in the dead-letter queue (see {log_path})")
    profiles_path = out_dir / "profiles.jsonl"
    with profiles_path.open("w", encoding="utf-8") as handle:
        for profile in profiles:
            handle.write(json.dumps(profile_line(profile), ensure_ascii=False) + "\n")
    result = DemoResult(
        people=people,
        seed=seed,
        rounds=[first, second],
        profiles=profiles,
        quarantine=quarantine,
        dropped=dropped,
        records=records,
        profiles_path=profiles_path,
        report_path=out_dir / "report.html",
        log_path=log_path,
        sandboxes=sandboxes,
        seconds=0.0,
        notes=notes,
        tools=chosen,
        identity=identity,
    )
    write_report(result, result.report_path, generated=datetime.now(UTC))
    result.seconds = time.monotonic() - started
    return result


__all__ = [
    "CONNECTORS",
    "DEFAULT_TOOLS",
    "FAST_LIMITS_NOTE",
    "FAST_OPTIONS",
    "LABELS",
    "SHOPIFY_RATE_SCALE",
    "DemoResult",
    "Progress",
    "RoundReport",
    "change_tools",
    "demo_tools",
    "label",
    "make_sandboxes",
    "run_demo",
    "summary_lines",
]
