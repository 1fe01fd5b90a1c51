"""The sync use cases: pull a connector into the store, and push changed profiles back out.

``pull_into_store`` walks ``connector.pull(cursor)`` page by page: it maps each page, normalises it,
ingests the good records, quarantines the bad ones with their reasons, and only then saves the page's
cursor. A run cut short anywhere resumes from the last saved cursor and loses nothing; a page replayed
after a crash is harmless because ingest is idempotent.

``push_profiles`` asks the connector what it would send for each profile, keeps the people the push
may reach (those the tool holds; in ``upsert`` mode also those whose consent allows creating them:
``core.push_policy``), skips those whose payload hash equals the one last pushed there, pushes the
rest in the vendor's batch size, retries the per-record failures that can succeed, and remembers
the new hashes. A second push of the same
profiles therefore makes no call at all, and an echo (the pushed change coming back on the next
pull) rebuilds the same payload and stops there.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.connector import Connector, Payload, PushMode, PushOutcome
from core.ports import (
    RETIRED_HASH,
    CustomerState,
    ProfileItem,
    ProfileStore,
    PushedState,
    QuarantineEntry,
    ReadsProfiles,
    SyncState,
    SyncStateStore,
)
from core.push_policy import decide, push_mode_of
from core.redaction import reason_kind
from core.schema import Profile, Quarantined, RecordDraft, SourceRecord
from core.suppression import SuppressionCheck, is_suppressed

if TYPE_CHECKING:
    # Imported where a pull normalises and ingests: the pull and push functions import this module
    # but never do either (merge ingests), and the normalisers bring phonenumbers and pycountry, the
    # pipeline identity resolution: tens of ms of every cold start.
    from core.governance.quality import RunQuality
    from core.ingest_settings import IngestResult, IngestSettings
    from core.normalise import NormaliseOptions
    from core.privacy_store import ErasureStore
    from core.retirement import RetireResult
    from core.schema import SourceDeletion


def _no_ingest() -> IngestResult:
    from core.ingest_settings import IngestResult

    return IngestResult()


#: ``pull_into_store(cursor=SAVED)`` resumes from the stored cursor; None forces a full refresh.
SAVED = "__saved__"


@dataclass
class PullReport:
    """What one pull did. ``pulled = normalised + quarantined + suppressed_quarantined`` plus the
    deletions the tool reported (``retired.received``); the ingest
    counts say what changed. ``quarantine_reasons`` counts reasons by kind, without the values they
    quote (core.redaction.reason_kind): the report is kept in the ``SYNC#`` item and logged."""

    connector: str
    pages: int = 0
    pulled: int = 0
    normalised: int = 0
    quarantined: int = 0
    suppressed_quarantined: int = 0
    """Malformed records of erased people: dropped, not quarantined (core.suppression)."""
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    ingest: IngestResult = field(default_factory=_no_ingest)
    cursor_before: str | None = None
    cursor_after: str | None = None
    full_refresh: bool = False
    future_dated: int = 0
    """Records kept with ``updated_at`` read as now (too far in the future: a clock ahead)."""
    quality: RunQuality | None = None
    """Data quality of the run (core.governance.quality), kept in the SYNC# report."""
    retired: RetireResult | None = None
    """Records the vendor reported deleted and what became of them (core.retirement); None when
    the pull met no tombstone."""

    @property
    def suppressed(self) -> int:
        """Records of erased people this pull met and dropped (quarantined or not)."""
        return self.suppressed_quarantined + self.ingest.suppressed

    def as_json(self) -> str:
        quality = {} if self.quality is None else {"quality": self.quality.as_dict()}
        return json.dumps(
            {
                "connector": self.connector,
                "pages": self.pages,
                "pulled": self.pulled,
                "normalised": self.normalised,
                "quarantined": self.quarantined,
                "quarantine_reasons": dict(self.quarantine_reasons.most_common(10)),
                "suppressed": self.suppressed,
                "written": self.ingest.written,
                "unchanged": self.ingest.unchanged,
                "stale": self.ingest.stale,
                "new_customers": self.ingest.new_customers,
                "merged_customers": self.ingest.merged_customers,
                "full_refresh": self.full_refresh,
                "future_dated": self.future_dated,
                **quality,
                **({} if self.retired is None else {"retired": self.retired.as_dict()}),
            },
            sort_keys=True,
        )


@dataclass
class PushReport:
    """What one push did: ``considered = no_payload + skipped_by_mode + skipped_by_consent +
    skipped_retired + skipped_unchanged + suppressed + sent``, and ``pushed = created + updated``.

    ``created`` counts people pushed whom the tool did not hold (as far as profilesync knew);
    ``skipped_by_mode`` the people an ``update`` push left out because the tool does not hold them,
    ``skipped_by_consent`` those an ``upsert`` push left out because their consent does not allow the
    tool's channel (``core.push_policy``)."""

    destination: str
    considered: int = 0
    no_payload: int = 0
    skipped_unchanged: int = 0
    sent: int = 0
    pushed: int = 0
    calls: int = 0
    retried: int = 0
    failed: list[PushOutcome] = field(default_factory=list)
    mode: PushMode = "upsert"
    created: int = 0
    updated: int = 0
    skipped_by_mode: int = 0
    skipped_by_consent: int = 0
    skipped_retired: int = 0
    """People whose record the tool deleted (core.retirement): not created there again."""
    suppressed: int = 0
    """People erased while the push ran (their profile was read before): found suppressed just
    before their batch was sent, and not sent; counted in ``considered``, not in ``sent``."""


def pull_into_store(
    connector: Connector,
    store: ProfileStore,
    state: SyncStateStore,
    *,
    cursor: str | None = SAVED,
    options: NormaliseOptions | None = None,
    settings: IngestSettings | None = None,
    progress: Callable[[PullReport], None] | None = None,
    max_pages: int | None = None,
    suppression: SuppressionCheck | None = None,
    erasure: ErasureStore | None = None,
) -> PullReport:
    """Pull ``connector`` into ``store`` and save its cursor after every durable page.

    ``cursor=SAVED`` (the default) continues from the stored cursor (a full refresh the first time);
    ``cursor=None`` forces a full refresh; any other string starts there. ``max_pages`` stops early
    (the cursor then points at the next page), which is how a Lambda keeps inside its time limit.
    ``suppression`` drops the records of erased people (counted in ``report.suppressed``).
    The records a connector reports deleted are retired after the page's other records are in
    (``retire_page``); ``erasure`` deletes a customer whose last record that was.
    """
    from core.governance.quality import resume_quality
    from core.isolation import ingest_isolating
    from core.normalise import is_future_dated, normalise_record
    from core.quarantine import refused_entries

    name = connector.spec.name
    saved = state.get_sync_state(name)
    start = saved.cursor if cursor == SAVED else cursor
    report = PullReport(name, cursor_before=start, cursor_after=start, full_refresh=start is None)
    run_id = f"{name}-{uuid.uuid4().hex[:12]}"
    quality = report.quality = resume_quality(name, run_id, saved.report)
    from core.ingest_settings import IngestSettings

    settings = settings or IngestSettings()
    if settings.actor == IngestSettings.actor:  # the changes of this pull are this run's in the history
        settings = replace(settings, actor=f"run:{name}:{run_id}")
    if suppression is not None:
        settings = replace(settings, suppression=suppression)
    for page in connector.pull(start):
        drafts = connector.to_records(page)
        records: list[SourceRecord] = []
        bad: list[tuple[Quarantined, RecordDraft]] = []
        now = datetime.now(UTC)
        received = len(drafts)
        drafts, deletions = _tombstones(drafts, bad)
        for draft in drafts:
            outcome = normalise_record(draft, options) if options else normalise_record(draft)
            if isinstance(outcome, Quarantined):
                bad.append((outcome, draft))
            else:
                records.append(outcome)
                report.future_dated += int(is_future_dated(outcome))
        entries = quarantine_entries(name, bad, now, suppression, options)
        for entry in entries:
            report.quarantine_reasons[reason_kind(entry.reason)] += 1
        if entries:
            state.put_quarantined(entries)  # durable before the cursor moves past them
        kept, stored = records, []
        if records:
            # A record the store refuses is quarantined alone; the rest of the page is written.
            result, refused = ingest_isolating(records, store, settings)
            report.ingest.add(result)
            quality.observe_refusals(result.guardrail_hits)
            if refused:
                stored = refused_entries(name, refused, now, suppression)
                state.put_quarantined(stored)
                for entry in stored:
                    report.quarantine_reasons[reason_kind(entry.reason)] += 1
                report.normalised -= len(stored)
                report.quarantined += len(stored)
                gone = {(q.source, q.source_id) for q in refused}
                kept = [r for r in records if (r.source, r.source_id) not in gone]
        quality.observe(received - len(deletions), kept, (e.reason for e in [*entries, *stored]))
        if deletions:
            retire_page(report, deletions, store, erasure, settings, state)
        report.pages += 1
        report.pulled += received
        report.normalised += len(records)
        report.quarantined += len(entries)
        report.suppressed_quarantined += len(bad) - len(entries)
        if page.cursor is not None and page.cursor != report.cursor_after:
            saved = state.put_sync_state(
                SyncState(name, page.cursor, saved.version, datetime.now(UTC), report.as_json())
            )
            report.cursor_after = page.cursor
        if progress is not None:
            progress(report)
        if max_pages is not None and report.pages >= max_pages:
            break
    if report.pages and report.as_json() != saved.report:
        # The last pages did not move the cursor (nothing new after it): the run's report still
        # counts them, for `profilesync status` and the data-quality baseline of the next run.
        state.put_sync_state(
            dataclasses.replace(saved, updated_at=datetime.now(UTC), report=report.as_json())
        )
    return report


def _tombstones(
    drafts: list[RecordDraft], bad: list[tuple[Quarantined, RecordDraft]]
) -> tuple[list[RecordDraft], list[SourceDeletion]]:
    """The page's drafts without its tombstones, and the deletions these name; a tombstone that
    names no record is added to ``bad`` (quarantined with the page's other bad drafts)."""
    if not any(getattr(d, "deleted", False) for d in drafts):
        return drafts, []
    from core.retirement import split_tombstones

    kept, deletions, unusable = split_tombstones(drafts)
    bad.extend(unusable)
    return kept, deletions


def retire_page(
    report: PullReport,
    deletions: Sequence[SourceDeletion],
    store: ProfileStore,
    erasure: ErasureStore | None,
    settings: IngestSettings | None,
    state: SyncStateStore | None = None,
) -> None:
    """The pull's hook for deletions: retire the page's deleted records (core.retirement) and count
    them in ``report.retired``; the customers they changed are pushed like those the ingest changed
    (never created again at the tool that deleted them: ``state`` keeps that mark).
    Without an erasure store (a caller that passed none) they are counted as ``ignored``."""
    from core.retirement import RetireResult, retire_records

    if report.retired is None:
        report.retired = RetireResult()
    if erasure is None:
        report.retired.received += len(deletions)
        report.retired.ignored += len(deletions)
        return
    result = retire_records(deletions, store, erasure, settings, pushed=state)
    report.retired.add(result)
    report.ingest.customers |= result.customers


def quarantine_entries(
    connector: str,
    bad: Sequence[tuple[Quarantined, RecordDraft]],
    at: datetime,
    suppression: SuppressionCheck | None,
    options: NormaliseOptions | None = None,
) -> list[QuarantineEntry]:
    """The quarantine entries of a page's malformed records, each with the keyed hashes of the
    identifiers its raw values normalise to (core.quarantine), so an erasure finds it by identifier.
    A record of an erased person (one of those identifiers is suppressed) is left out: it is dropped,
    not kept with its content. Without ``suppression`` (no salt) the entries carry no hashes."""
    if not bad:
        return []
    from core.quarantine import identifier_keys  # the normalisers: only when a page has bad records

    keys = [identifier_keys(draft, options) for _, draft in bad]
    hit = suppression.suppressed_keys(k for ks in keys for k in ks) if suppression is not None else set()
    entries: list[QuarantineEntry] = []
    for (outcome, _), record_keys in zip(bad, keys, strict=True):
        if is_suppressed(record_keys, hit):
            continue
        entries.append(
            QuarantineEntry(
                connector=connector,
                key=f"{outcome.source}:{outcome.source_id}",
                reason=outcome.reason,
                raw=json.dumps(outcome.raw, default=str, sort_keys=True),
                at=at,
                subjects=tuple(suppression.hash(k) for k in record_keys) if suppression is not None else (),
            )
        )
    return entries


def changed_profiles(store: ProfileStore, customer_ids: Iterable[str]) -> list[Profile]:
    """The live profiles of these customers (a merged-away customer gives its survivor's profile)."""
    todo = set(customer_ids)
    found: dict[str, Profile] = {}
    seen: set[str] = set()
    while todo:
        seen |= todo
        items: Iterable[ProfileItem | CustomerState]
        if isinstance(store, ReadsProfiles):
            items = store.get_profiles(sorted(todo)).values()
        else:
            items = store.get_customers(sorted(todo)).values()
        todo = set()
        for item in items:
            if item.merged_into:
                todo.add(item.merged_into)
            elif item.profile is not None:
                found[item.customer_id] = item.profile
        todo -= seen
    return [found[cid] for cid in sorted(found)]


def push_profiles(
    connector: Connector,
    profiles: Iterable[Profile],
    state: SyncStateStore,
    *,
    mode: str | None = None,
    max_rounds: int = 3,
    progress: Callable[[PushReport], None] | None = None,
    suppression: SuppressionCheck | None = None,
) -> PushReport:
    """Push the profiles whose payload for this connector changed since the last push.

    ``mode`` is the instance's push mode (``update`` or ``upsert``; None: the connector's default).
    Who may be pushed is decided before anything is sent (``core.push_policy``): people the tool holds,
    and in ``upsert`` mode people it does not hold whose consent allows its channel. Retryable
    per-record failures are sent again (up to ``max_rounds`` rounds, in full batches); the rest are
    reported in ``failed`` and their hashes are not saved, so the next run tries again.
    ``suppression``: each batch is checked against it just before it is sent, so a person erased
    while the push runs (a push to a rate-limited tool takes minutes) is not sent after her erasure
    (counted in ``report.suppressed``); the caller leaves out those suppressed before the push.
    """
    destination = connector.spec.name
    rules = connector.spec.push_rules
    report = PushReport(destination, mode=push_mode_of(connector.spec, mode))
    # 1. What the tool should hold for each profile.
    planned: list[tuple[Profile, Payload]] = []
    profile_of: dict[str, Profile] = {}
    for profile in profiles:
        report.considered += 1
        payload = connector.from_profile(profile)
        if payload is None:
            report.no_payload += 1
        else:
            planned.append((profile, payload))
            profile_of[payload.customer_id] = profile
    last = state.get_pushed(destination, [p.customer_id for _, p in planned])
    # 2. Who may be pushed: the people the tool holds, and those the mode and their consent let it create.
    payloads: list[Payload] = []
    creating: set[str] = set()
    for profile, payload in planned:
        pushed = last.get(payload.customer_id)
        decision = decide(profile, destination, rules, report.mode, pushed)
        if decision == "skipped_by_mode":
            report.skipped_by_mode += 1
            continue
        if decision == "skipped_by_consent":
            report.skipped_by_consent += 1
            continue
        if decision == "skipped_retired":
            report.skipped_retired += 1
            continue
        if pushed is not None and pushed.payload_hash == RETIRED_HASH:
            pushed = None  # the person is back at the tool: the retired mark is no push of ours
        if decision == "create":
            creating.add(payload.customer_id)
        if payload.remote_id is None and pushed is not None and pushed.remote_id:
            payload = dataclasses.replace(payload, remote_id=pushed.remote_id)
        payloads.append(payload)
    # 3. Only what changed since the last push.
    todo = [p for p in payloads if (prev := last.get(p.customer_id)) is None or prev.payload_hash != p.hash]
    report.skipped_unchanged = len(payloads) - len(todo)
    report.sent = len(todo)
    size = max(1, connector.spec.push_batch_size)
    for round_number in range(max_rounds):
        retry: list[Payload] = []
        for batch in _batches(todo, size):
            if suppression is not None:
                batch = _not_erased(batch, profile_of, suppression, report)
                if not batch:
                    continue
            outcomes = connector.push(batch)
            report.calls += 1
            if len(outcomes) != len(batch):
                raise RuntimeError(
                    f"{destination}.push returned {len(outcomes)} outcomes for {len(batch)} payloads; "
                    "a connector must return one outcome per payload, in order"
                )
            done: list[PushedState] = []
            at = datetime.now(UTC)
            for payload, outcome in zip(batch, outcomes, strict=True):
                if outcome.ok:
                    done.append(
                        PushedState(payload.customer_id, destination, payload.hash, outcome.remote_id, at)
                    )
                    if payload.customer_id in creating:
                        report.created += 1
                    else:
                        report.updated += 1
                elif outcome.retryable and round_number + 1 < max_rounds:
                    retry.append(payload)
                else:
                    report.failed.append(outcome)
            state.put_pushed(done)
            report.pushed += len(done)
            if progress is not None:
                progress(report)
        if not retry:
            break
        report.retried += len(retry)
        todo = retry
    return report


def _not_erased(
    batch: list[Payload], profile_of: Mapping[str, Profile], suppression: SuppressionCheck, report: PushReport
) -> list[Payload]:
    """The batch without the people erased since their profiles were read (a batch may be minutes
    after the first): read just before it is sent, so an erasure that asked the tool to delete a
    person is not undone by a push that creates her again."""
    blocked = suppression.suppressed_customers([profile_of[p.customer_id] for p in batch])
    if not blocked:
        return batch
    report.suppressed += len(blocked)
    report.sent -= len(blocked)
    return [p for p in batch if p.customer_id not in blocked]


def _batches(payloads: Sequence[Payload], size: int) -> Iterator[list[Payload]]:
    """Full batches of ``size``, each holding one ``group`` only (in first-seen group order)."""
    groups: dict[str, list[Payload]] = {}
    for payload in payloads:
        groups.setdefault(payload.group, []).append(payload)
    for members in groups.values():
        for start in range(0, len(members), size):
            yield members[start : start + size]


def last_pushed(state: SyncStateStore, destination: str, payloads: Sequence[Payload]) -> dict[str, str]:
    """The hash last pushed to ``destination`` for each payload's customer (for reports and tests)."""
    got = state.get_pushed(destination, [p.customer_id for p in payloads])
    return {cid: s.payload_hash for cid, s in got.items()}


__all__ = [
    "SAVED",
    "PullReport",
    "PushReport",
    "changed_profiles",
    "last_pushed",
    "pull_into_store",
    "push_profiles",
    "quarantine_entries",
]
