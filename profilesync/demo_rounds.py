"""What a round of ``profilesync demo`` did (its pulls, merge, push and metrics, read from the
handlers' own return values and EMF metrics) and what the demo ends with (``DemoResult``: the live
profiles, the values and records quarantined or dropped, read from the table in one scan).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.schema import Profile, SourceRecord
from core.storage.dynamodb import LIVE_PROFILE_SCAN, is_live_profile
from core.storage.dynamodb_items import profile_of
from profilesync.demo_sandboxes import DEFAULT_TOOLS
from profilesync.local import LocalRuntime, PullResult, StageCounts

if TYPE_CHECKING:
    from profilesync.demo import Progress


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
                profiles.append(Profile.model_validate_json(profile_of(item)[0]))
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
