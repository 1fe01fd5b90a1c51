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
pull) rebuilds the same payload and stops there. The push is core.sync_push (importable from here).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.connector import Connector
from core.erasure_epoch import forget_if_erased
from core.ports import (
    ProfileStore,
    QuarantineEntry,
    SyncState,
    SyncStateStore,
)
from core.raw_json import raw_json
from core.redaction import reason_kind
from core.schema import Quarantined, RecordDraft, SourceRecord
from core.suppression import SuppressionCheck, is_suppressed
from core.sync_push import PushReport, changed_profiles, push_profiles
from core.sync_push import last_pushed as last_pushed
from core.version_marks import marked_drafts

if TYPE_CHECKING:
    # Imported where a pull normalises and ingests: the pull and push functions import this module
    # but never do either (merge ingests), and the normalisers bring phonenumbers and pycountry, the
    # pipeline identity resolution: tens of ms of every cold start.
    from core.governance.quality import RunQuality
    from core.ingest_settings import IngestResult, IngestSettings
    from core.normalise import NormaliseOptions
    from core.privacy_store import ErasureStore
    from core.refresh_sweep import ListedKeys, SweepGuard, SweepReport
    from core.retirement import RetireResult
    from core.schema import SourceDeletion


logger = logging.getLogger("core.sync")


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
    unpaired_marks: int = 0
    """Records the pull marked to date their version that could not be paired with the draft mapped
    from them, left undated (core.version_marks.drafts_of)."""
    quality: RunQuality | None = None
    """Data quality of the run (core.governance.quality), kept in the SYNC# report."""
    retired: RetireResult | None = None
    """Records the vendor reported deleted and what became of them (core.retirement); None when
    the pull met no tombstone."""
    sweep: SweepReport | None = None
    """A completed full refresh's sweep of the stored records it did not list (core.refresh_sweep);
    None when the run was no such refresh."""

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
                **({"unpaired_marks": self.unpaired_marks} if self.unpaired_marks else {}),
                **({} if self.retired is None else {"retired": self.retired.as_dict()}),
                **({} if self.sweep is None else {"sweep": self.sweep.as_dict()}),
            },
            sort_keys=True,
        )


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
    sweep: SweepGuard | None = None,
) -> PullReport:
    """Pull ``connector`` into ``store`` and save its cursor after every durable page.

    ``cursor=SAVED`` (the default) continues from the stored cursor (a full refresh the first time);
    ``cursor=None`` forces a full refresh; any other string starts there. ``max_pages`` stops early
    (the cursor then points at the next page), which is how a Lambda keeps inside its time limit.
    ``suppression`` drops the records of erased people (counted in ``report.suppressed``).
    The records a connector reports deleted are retired after the page's other records are in
    (``retire_page``); ``erasure`` deletes a customer whose last record that was. A full refresh
    that walks every page (no error, not cut short by ``max_pages``) then retires the stored records
    of the types its connector lists completely (``ConnectorSpec.refresh_lists``) that it did not
    list, within ``sweep`` (core.refresh_sweep.SweepGuard; None: its defaults).
    """
    from core.governance.quality import resume_quality
    from core.isolation import ingest_isolating
    from core.normalise import is_future_dated, normalise_record, read_on_tool_clock
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
    listed = _listing(connector, report)
    started = datetime.now(UTC)
    for page in connector.pull(start):
        if settings.suppression is not None:  # an erasure elsewhere: no value of hers cached
            forget_if_erased(settings.suppression.store)
        drafts, unpaired = marked_drafts(connector, page)  # a marked version dated, whatever its to_records
        report.unpaired_marks += unpaired
        if listed is not None:
            listed.add_drafts(drafts)
        records: list[SourceRecord] = []
        bad: list[tuple[Quarantined, RecordDraft]] = []
        now = datetime.now(UTC)
        received = len(drafts)
        drafts, deletions = _tombstones(drafts, bad)
        read = read_on_tool_clock(options, page.read)  # (a record stamped ahead: by the tool's clock)
        for draft in drafts:
            outcome = normalise_record(draft, read) if read else normalise_record(draft)
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
            result, refused = ingest_isolating(records, store, replace(settings, epoch_checked=True))
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
    else:
        if listed is not None:  # every page read, no error: the refresh listed all there is
            sweep_unlisted(report, connector, listed, started, store, erasure, settings, state, sweep)
    if report.pages and report.as_json() != saved.report:
        # The last pages did not move the cursor (nothing new after it): the run's report still
        # counts them, for `profilesync status` and the data-quality baseline of the next run.
        state.put_sync_state(
            dataclasses.replace(saved, updated_at=datetime.now(UTC), report=report.as_json())
        )
    return report


def _listing(connector: Connector, report: PullReport) -> ListedKeys | None:
    """Where a full refresh marks the records it lists, or None when it sweeps nothing."""
    if not report.full_refresh or not getattr(connector.spec, "refresh_lists", None):
        return None
    from core.refresh_sweep import ListedKeys

    return ListedKeys()


def sweep_unlisted(
    report: PullReport,
    connector: Connector,
    listed: ListedKeys,
    started: datetime,
    store: ProfileStore,
    erasure: ErasureStore | None,
    settings: IngestSettings | None,
    state: SyncStateStore | None,
    guard: SweepGuard | None = None,
) -> None:
    """After a completed full refresh: retire the stored records it did not list (core.refresh_sweep)
    through ``retire_page``, unless ``guard`` refuses (the reason is in ``report.sweep.refused``)."""
    from core.refresh_sweep import SweepGuard, noted, plan_sweep, sweep_deletions

    name = connector.spec.name
    types = frozenset(connector.spec.refresh_lists)
    swept, missing = plan_sweep(store, name, types, listed, guard or SweepGuard())
    report.sweep = noted(swept, getattr(connector.spec, "refresh_unswept", ()))
    if swept.refused is not None:
        logger.warning("full refresh sweep refused: %s", swept.refused, extra={"connector": name})
        return
    for chunk in sweep_deletions(name, missing, started):
        retire_page(report, chunk, store, erasure, settings, state)
        swept.swept += len(chunk)


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
    from core.normalise import NormaliseOptions
    from core.quarantine import identifier_keys  # the normalisers: only when a page has bad records
    from core.quarantine_values import raw_value_keys

    default = (options or NormaliseOptions()).default_region

    def region(draft: RecordDraft) -> str:
        country = draft.traits.get("country")
        return country.upper() if isinstance(country, str) and len(country) == 2 else default

    # the mapped values, and every other value of the vendor's object (Stripe's shipping.phone, a
    # note naming her address): her erasure finds the entry by any of them (attack31p)
    keys = [
        list(dict.fromkeys([*identifier_keys(draft, options), *raw_value_keys(outcome.raw, region(draft))]))
        for outcome, draft in bad
    ]
    hit = suppression.suppressed_keys(k for ks in keys for k in ks) if suppression is not None else set()
    entries: list[QuarantineEntry] = []
    for (outcome, draft), record_keys in zip(bad, keys, strict=True):
        if is_suppressed(record_keys, hit):
            continue
        entries.append(
            QuarantineEntry(
                connector=connector,
                key=f"{outcome.source}:{draft.object_type}:{outcome.source_id}",  # her erasure asks for it
                reason=outcome.reason,
                raw=raw_json(outcome.raw, sort_keys=True),
                at=at,
                subjects=tuple(suppression.hash(k) for k in record_keys) if suppression is not None else (),
            )
        )
    return entries


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
