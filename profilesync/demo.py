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
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from core.schema import Profile, SourceRecord
from core.storage.dynamodb import LIVE_PROFILE_SCAN, is_live_profile
from profilesync.local import LocalRuntime, PullResult, StageCounts

#: The tools the demo runs unless ``--tools`` names others (any registered connector with a sandbox).
DEFAULT_TOOLS = ("hubspot", "mailchimp", "shopify")
CONNECTORS = DEFAULT_TOOLS
LABELS = {
    "hubspot": "HubSpot",
    "mailchimp": "Mailchimp",
    "shopify": "Shopify",
    "klaviyo": "Klaviyo",
    "stripe": "Stripe",
    "salesforce": "Salesforce",
    "woocommerce": "WooCommerce",
}
#: Sandbox options that run a tool at its vendor's higher published plan, so that a few thousand people
#: take seconds rather than minutes of rate-limit waits (``--published-limits`` leaves them out).
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "hubspot": {"rate_limit_per_10s": 190},
    "shopify": {"rate_scale": 50.0},
}


def label(name: str) -> str:
    """How the demo names a tool: its label, or its connector name capitalised."""
    return LABELS.get(name, name.capitalize())


def demo_tools() -> list[str]:
    """Every registered connector whose plugin ships a sandbox: what ``--tools`` may name. A sandbox
    factory takes ``people`` and ``seed`` and seeds itself from ``population(people, seed)``, so the
    same people overlap across whichever tools are chosen."""
    from profilesync.registry import all_plugins

    return sorted(p.spec.name for p in all_plugins() if p.sandbox is not None)


#: The limits the demo's sandboxes run at unless ``published_limits``: the vendors' higher published
#: plans, so that a few thousand people take seconds rather than minutes of waiting for rate limits.
FAST_LIMITS_NOTE = (
    "rate limits raised for the demo: the HubSpot sandbox allows 190 requests per 10 s (the "
    "Professional plan's limit) and the Shopify sandbox restores 5,000 query-cost points per second "
    "(50x the Standard plan's 100); --published-limits runs at the entry plans' limits"
)
SHOPIFY_RATE_SCALE = FAST_OPTIONS["shopify"]["rate_scale"]


def make_sandboxes(
    people: int, seed: int, *, published_limits: bool = False, tools: Sequence[str] = DEFAULT_TOOLS
) -> dict[str, Any]:
    """The chosen tools' sandboxes, each seeded from ``population(people, seed)``: the same people
    overlap. Built by each connector's own plugin, so any registered connector with a sandbox fits."""
    from core.errors import ConnectorConfigError
    from profilesync.registry import get

    sandboxes: dict[str, Any] = {}
    for name in dict.fromkeys(tools):
        plugin = get(name)
        if plugin.sandbox is None:
            raise ConnectorConfigError(
                f"connector {name!r} ships no sandbox, so the demo cannot run it; tools with a sandbox: "
                f"{', '.join(demo_tools())}"
            )
        options = {} if published_limits else FAST_OPTIONS.get(name, {})
        sandboxes[name] = plugin.sandbox(people=people, seed=seed, **options)
    return sandboxes


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


# --- what a round did -------------------------------------------------------------------------------------
@dataclass
class RoundReport:
    name: str
    pulls: dict[str, PullResult] = field(default_factory=dict)
    merge: StageCounts = field(default_factory=StageCounts)
    push: StageCounts = field(default_factory=StageCounts)
    metrics: Counter[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=Counter)
    profiles: int = 0
    changed_in_tools: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per connector, the data quality of this round's pull, as its SYNC# report keeps it."""

    def metric(self, name: str, **dimensions: str) -> int:
        wanted = set(dimensions.items())
        return int(sum(v for (n, dims), v in self.metrics.items() if n == name and wanted <= set(dims)))

    @property
    def pulled(self) -> int:
        return sum(p.pulled for p in self.pulls.values())

    @property
    def queued(self) -> int:
        return sum(p.queued for p in self.pulls.values())

    @property
    def quarantined(self) -> int:
        return sum(p.quarantined for p in self.pulls.values())

    def pushed(self, destination: str | None = None) -> int:
        if destination is None:
            return self.metric("ProfilesPushed")
        return self.metric("ProfilesPushed", destination=destination)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pulled": {n: p.pulled for n, p in self.pulls.items()},
            "quarantined": {n: p.quarantined for n, p in self.pulls.items()},
            "written": self.metric("RecordsMerged"),
            "unchanged": self.metric("RecordsUnchanged"),
            "new_customers": self.metric("NewCustomers"),
            "merges": self.metric("Merges"),
            "pushed": {n: self.pushed(n) for n in self.pulls},
            "skipped_unchanged": {n: self.metric("PushSkippedUnchanged", destination=n) for n in self.pulls},
            "created": {n: self.metric("PushCreated", destination=n) for n in self.pulls},
            "updated": {n: self.metric("PushUpdated", destination=n) for n in self.pulls},
            "skipped_by_mode": {n: self.metric("PushSkippedByMode", destination=n) for n in self.pulls},
            "skipped_by_consent": {n: self.metric("PushSkippedByConsent", destination=n) for n in self.pulls},
            "profiles": self.profiles,
            "changed_in_tools": dict(self.changed_in_tools),
            "seconds": round(self.seconds, 2),
        }


@dataclass
class DemoResult:
    people: int
    seed: int
    rounds: list[RoundReport]
    profiles: list[Profile]
    quarantine: dict[str, Counter[str]]
    dropped: dict[str, Counter[str]]
    records: dict[str, int]
    """Normalised source records held per connector at the end (after round 2)."""
    profiles_path: Path
    report_path: Path
    log_path: Path
    sandboxes: dict[str, Any]
    seconds: float
    notes: list[str]
    tools: tuple[str, ...] = DEFAULT_TOOLS
    identity: Any = None
    """The report's identity section (profilesync.report_identity.IdentityPicture), or None."""


def _run_round(
    rt: LocalRuntime, name: str, progress: Progress, *, count_profiles: bool = True
) -> RoundReport:
    started = time.monotonic()
    before = rt.metrics.snapshot()
    report = RoundReport(name)
    for connector in rt.sandboxes:
        progress.begin(f"{name}: pull {connector}")
        result = rt.pull(connector)
        report.pulls[connector] = result
        saved = rt.wiring.sync_state.get_sync_state(connector).report
        report.quality[connector] = json.loads(saved).get("quality", {}) if saved else {}
        progress.end(
            f"{result.pulled:,} records in {result.pages:,} pages -> {result.messages:,} messages, "
            f"{result.quarantined:,} quarantined"
        )
    progress.begin(f"{name}: merge")
    merged = rt.drain_queue()
    progress.end(f"{merged.messages:,} messages in {merged.invocations:,} invocations")
    progress.begin(f"{name}: push")
    pushed = rt.drain_stream()
    progress.end(
        f"{pushed.stream_records - pushed.filtered_out:,} profile changes of {pushed.stream_records:,} "
        f"stream records in {pushed.invocations:,} invocations"
    )
    progress.begin(f"{name}: settle")
    more_merged, more_pushed = rt.settle()
    progress.end("queue empty, stream drained")
    for total, part in ((merged, more_merged), (pushed, more_pushed)):
        for key in total.__dataclass_fields__:
            if key != "dead_lettered":
                setattr(total, key, getattr(total, key) + getattr(part, key))
    merged.dead_lettered = more_merged.dead_lettered
    report.merge, report.push = merged, pushed
    report.metrics = rt.metrics.snapshot()
    report.metrics.subtract(before)
    if count_profiles:  # the last round's count comes from the final read of the table
        report.profiles = _count_profiles(rt)
    report.seconds = time.monotonic() - started
    return report


def _count_profiles(rt: LocalRuntime) -> int:
    count = 0
    kwargs: dict[str, Any] = {"TableName": rt.table_name, **LIVE_PROFILE_SCAN, "Select": "COUNT"}
    while True:
        page = rt.dynamodb.scan(**kwargs)
        count += int(page.get("Count", 0))
        if "LastEvaluatedKey" not in page:
            return count
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def change_tools(sandboxes: Mapping[str, Any], *, share: float, new_people: int, seed: int) -> dict[str, int]:
    """Edit ``share`` of each tool's records and add ``new_people`` to each; return changes per tool."""
    rng = random.Random(f"demo-changes:{seed}")
    changed: dict[str, int] = {}
    for name, sandbox in sandboxes.items():
        keys = sorted(sandbox.record_keys())
        picked = set(rng.sample(keys, max(1, int(len(keys) * share)))) if keys else set()
        sandbox.touch(picked)
        added = sandbox.add_records(new_people)
        changed[name] = len(picked) + len(added)
    return changed


def _identity_picture(rt: LocalRuntime, profiles: list[Profile], sources: list[SourceRecord]) -> Any:
    """One customer's identity graph and the match scores, for the report (profilesync.report_identity)."""
    from functions._identity import identity_settings
    from profilesync.report_identity import identity_picture

    return identity_picture(rt.wiring.profiles, profiles, sources, identity_settings())


def _read_table(rt: LocalRuntime) -> tuple[list[Profile], list[SourceRecord]]:
    """One scan of the table: the live profiles (``is_live_profile``, as ``_count_profiles`` counts
    them) and every stored source record."""
    profiles: list[Profile] = []
    sources: list[SourceRecord] = []
    kwargs: dict[str, Any] = {
        "TableName": rt.table_name,
        "FilterExpression": "SK = :p OR begins_with(SK, :s)",
        "ExpressionAttributeValues": {":p": {"S": "PROFILE"}, ":s": {"S": "SOURCE#"}},
    }
    while True:
        page = rt.dynamodb.scan(**kwargs)
        for item in page.get("Items", []):
            if is_live_profile(item):
                profiles.append(Profile.model_validate_json(item["data"]["S"]))
            elif item["SK"]["S"].startswith("SOURCE#"):
                sources.append(SourceRecord.model_validate_json(item["data"]["S"]))
        if "LastEvaluatedKey" not in page:
            return profiles, sources
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _dropped_values(
    sources: list[SourceRecord], tools: Sequence[str] = DEFAULT_TOOLS
) -> tuple[dict[str, Counter[str]], dict[str, int]]:
    """Values left out of stored records, by source and ``field: reason``; and records per source."""
    dropped: dict[str, Counter[str]] = {name: Counter() for name in tools}
    records: Counter[str] = Counter()
    for record in sources:
        records[record.source] += 1
        for value in record.dropped:
            dropped.setdefault(record.source, Counter())[f"{value.field}: {_reason_class(value.reason)}"] += 1
    return dropped, dict(records)


def _reason_class(reason: str) -> str:
    """A reason without the value it quotes, so that reasons of the same kind add up."""
    head = reason.split(";", 1)[0]
    return head.split(" '", 1)[0].strip()


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


# --- the summary ---------------------------------------------------------------------------------------
def _row(title: str, values: Mapping[str, int], tools: Sequence[str], total: bool = True) -> str:
    cells = "".join(f"{values.get(n, 0):>12,}" for n in tools)
    end = f"{sum(values.get(n, 0) for n in tools):>12,}" if total else ""
    return f"  {title:<30}{cells}{end}"


def summary_lines(result: DemoResult) -> list[str]:
    """What the demo prints when it is done."""
    first, second = result.rounds
    tools = result.tools
    header = f"  {'':<30}" + "".join(f"{label(n):>12}" for n in tools) + f"{'total':>12}"
    names = [label(n) for n in tools]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    lines = [
        f"profilesync demo: {result.people:,} people (seed {result.seed}) in the {listed} sandboxes,",
        "  through functions.pull, functions.merge and functions.push on an embedded AWS built from "
        "template.yaml",
    ]
    lines.extend(f"  note: {note}" for note in result.notes)
    for report in (first, second):
        title = (
            "round 1: full pull" if report is first else "round 2: incremental, after changes in the tools"
        )
        lines += ["", f"{title} ({report.seconds:.1f} s)", header]
        if report is second:
            lines.append(_row("changed in the tools", report.changed_in_tools, tools))
        lines.append(_row("records pulled", {n: p.pulled for n, p in report.pulls.items()}, tools))
        if report is second:
            echo = {n: max(0, p.pulled - report.changed_in_tools.get(n, 0)) for n, p in report.pulls.items()}
            lines.append(_row("  of which echoes of pushes", echo, tools))
        lines.append(_row("quarantined", {n: p.quarantined for n, p in report.pulls.items()}, tools))
        lines.append(_row("profiles pushed", {n: report.pushed(n) for n in tools}, tools))
        for caption, metric in (
            ("  of which updated", "PushUpdated"),
            ("  of which created", "PushCreated"),
            ("  push skipped (unchanged)", "PushSkippedUnchanged"),
            ("  push skipped (mode: not held)", "PushSkippedByMode"),
            ("  push skipped (no consent)", "PushSkippedByConsent"),
        ):
            lines.append(_row(caption, {n: report.metric(metric, destination=n) for n in tools}, tools))
        lines.append(
            f"  merge: {report.merge.messages:,} messages, {report.metric('RecordsMerged'):,} records "
            f"written, {report.metric('RecordsUnchanged'):,} unchanged; "
            f"{report.metric('NewCustomers'):,} new customers, {report.metric('Merges'):,} merges"
        )
        lines.append(
            f"  profiles: {report.profiles:,}; duplicates collapsed: {report.queued:,} records -> "
            f"{report.profiles:,} profiles"
            if report is first
            else f"  profiles: {report.profiles:,}"
        )
    records = sum(result.records.values())
    lines += [
        "",
        f"profiles: {len(result.profiles):,} from {records:,} source records: "
        f"{records - len(result.profiles):,} duplicates collapsed",
    ]
    reasons: Counter[str] = Counter()
    for name, counts in result.quarantine.items():
        for reason, count in counts.items():
            reasons[f"{name}: {reason}"] += count
    if reasons:
        lines.append(f"quarantined: {sum(reasons.values()):,} records; top reasons:")
        lines.extend(f"  {count:>6,}  {reason}" for reason, count in reasons.most_common(5))
    lines += [
        f"wrote {len(result.profiles):,} profiles to {result.profiles_path}",
        f"wrote {result.report_path}; handler logs and metrics in {result.log_path}",
        f"done in {result.seconds:.1f} s",
    ]
    return lines


__all__ = [
    "CONNECTORS",
    "DEFAULT_TOOLS",
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
