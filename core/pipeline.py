"""The ingest use case, readable top to bottom.

    records -> read owners of their identifier keys -> drop unchanged and stale records
            -> load the customers those keys belong to -> group records into components
            -> plan one changeset per component (new customer / attach / merge)
            -> commit all changesets; the ones that lost a race are re-read and re-planned
            -> split the customers whose records an update left without a shared identifier

Every write is planned from what was read, and every ownership change is conditional on it, so two
writers racing on the same person cannot both win: the loser re-resolves against the winner's state.
Merges too large for one atomic changeset run as idempotent steps (``complete_merge``) that any later
writer can finish if the first one crashed half-way.

The rounds of a call are core.ingest_rounds, the plan of one round core.ingest_plan, the changeset
of one component core.ingest_changeset, what follows a commit core.ingest_settle, merges in steps
core.merge_steps and splits core.split. ``IngestSettings``, ``IngestResult`` and
``ResolutionGaveUpError`` (core.ingest_settings) are re-exported here with ``ingest``: they are its
signature, which the CLI, the handlers and connectors' contract tests (profilesync.testing) call.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from core.erasure_epoch import forget_if_erased
from core.errors import ConflictError, RecordRejectedError
from core.ingest_markers import commit_ahead, forget_ahead
from core.ingest_parts import GrowParts
from core.ingest_plan import _Plan, _plan
from core.ingest_rounds import version_rounds
from core.ingest_settings import (
    IngestResult,
    IngestSettings,
    ResolutionGaveUpError,
    _back_off,
    carry_partial,
)
from core.ingest_settle import _settle
from core.link_changes import writing
from core.merge_steps import complete_merge
from core.ports import Changeset, ProfileStore
from core.schema import SourceRecord
from core.split import split_customer


def ingest(
    records: Iterable[SourceRecord], store: ProfileStore, settings: IngestSettings | None = None
) -> IngestResult:
    """Resolve and merge records into the store; safe to call again with the same records.

    Duplicates within the call collapse to the newest version of each source record; an undated
    version (core.undated) and another of the same record are applied one after the other, in
    rounds (``version_rounds``). Lost races are
    re-planned with jittered exponential backoff, up to ``settings.max_attempts`` rounds. An
    exception carries what was done before it (``core.ingest_settings.partial_of``): the records
    stored (or found unchanged) so far, counted, and the others, none of them stored.
    """
    progress = _Progress()
    settings = settings or IngestSettings()
    if settings.suppression is not None and not settings.epoch_checked:
        forget_if_erased(settings.suppression.store)  # an erasure elsewhere: caches emptied first
    try:
        with writing():  # its writes told from others' (core.link_changes: the re-check skipped)
            return _ingest(records, store, settings, progress)
    except Exception as error:
        if progress.total is not None:  # None: it failed before it counted the records
            carry_partial(error, progress.total, progress.unsettled + progress.later)
        raise


@dataclass
class _Progress:
    """How far an ``ingest`` got: ``total`` counts every record received but ``unsettled``."""

    total: IngestResult | None = None
    unsettled: list[SourceRecord] = field(default_factory=list)
    later: list[SourceRecord] = field(default_factory=list)  # the rounds not begun (version_rounds)


def _ingest(
    records: Iterable[SourceRecord], store: ProfileStore, settings: IngestSettings, progress: _Progress
) -> IngestResult:
    received, rounds, collapsed = version_rounds(records, store)
    kept = sum(map(len, rounds))
    total = progress.total = IngestResult(received=received, unchanged=received - kept)
    number = reruns = 0
    while number < len(rounds):
        progress.later = [r for after in rounds[number + 1 :] for r in after]
        rerun: set[str] = set()
        _ingest_round(rounds[number], store, settings, progress, total, collapsed, rerun)
        number += 1
        runs = {k: collapsed[k] for k in rerun}
        collapsed = {}  # a record's collapsed versions are its first round's
        if runs:
            # A collapsed record did nothing against an undated version stored since the rounds'
            # read (another writer's): its versions are applied again, in rounds on a fresh read.
            reruns = _lost_round(total, reruns, settings, f"{len(runs)} records' versions kept changing")
            collapsed = _rerun(rounds, number, runs, store, total)
    return total


def _rerun(
    rounds: list[list[SourceRecord]],
    number: int,
    runs: dict[str, list[SourceRecord]],
    store: ProfileStore,
    total: IngestResult,
) -> dict[str, list[SourceRecord]]:
    """Take the records of ``runs`` (by key, the dated versions ``version_rounds`` collapsed) out of
    ``rounds`` from ``number`` on and put them back in rounds planned again; the new collapsed runs."""
    again = [r for run in runs.values() for r in run]
    kept = len(runs)  # the collapsed versions, counted as kept and done now as nothing
    for pending in rounds[number:]:
        again.extend(r for r in pending if r.key in runs)
        kept += sum(r.key in runs for r in pending)
        pending[:] = [r for r in pending if r.key not in runs]
    _, more, collapsed = version_rounds(again, store)
    total.unchanged += kept - sum(map(len, more))
    for i, extra in enumerate(more):
        if number + i < len(rounds):
            rounds[number + i] = sorted(rounds[number + i] + extra, key=lambda r: r.key)
        else:
            rounds.append(extra)
    return collapsed


def _ingest_round(
    pending: list[SourceRecord],
    store: ProfileStore,
    settings: IngestSettings,
    progress: _Progress,
    total: IngestResult,
    collapsed: Mapping[str, object] = {},
    rerun: set[str] | None = None,
) -> None:
    """One round of ``version_rounds``: at most one version of each record, as one call would.
    ``collapsed`` and ``rerun``: core.ingest_plan._plan's."""
    attempt = 0
    filed: set[str] = set()  # the records a round filed in the identity index (core.link_plan)
    lost: set[str] = set()  # the records whose commit failed: a customer id they found is checked
    refused_merges: set[tuple[str, str]] = set()  # merges in steps refused once (planned again)
    # A customer's orders past one transaction, a part at a time from its profile item
    parts = GrowParts(store.max_items_per_commit) if settings.linkage is None else None
    while pending:
        progress.unsettled = pending
        rest: list[SourceRecord] = []  # pending besides the part planned (core.ingest_parts)
        try:
            plan = _part(parts, pending, store, settings, lost, collapsed.keys()) if parts else None
            if plan is None:
                if parts is not None:
                    parts.forget()
                plan = _plan(pending, store, settings, filed, lost, collapsed.keys(), rerun)
                assert plan is not None  # planned in full
            else:
                rest = parts.rest()  # type: ignore[union-attr]
        except ConflictError:
            # A read that could not be made consistent (a writer kept changing the customer).
            attempt += 1
            total.retries += 1
            if attempt >= settings.max_attempts:
                raise
            _back_off(settings, attempt)
            continue
        total.add(plan.result)
        progress.unsettled = [r for c in plan.changesets for r in plan.records_of[c.label]] + plan.deferred
        progress.unsettled += rest
        retouch: list[SourceRecord] = []
        if plan.touches:
            # A touch that lost its condition: the item changed since the read. Mostly a newer
            # version overtook it, but a deletion older than this version may have retired the
            # record (an undated one gives way to it): planned again on a fresh read (unchanged,
            # stale, or stored over the tombstone), counted then.
            lost_touches = {c.label for c in store.commit(plan.touches)}
            retouch = [r for r in pending if f"touch:{r.key}" in lost_touches]
            total.unchanged -= len(retouch)
            total.touched -= len(retouch)
        if plan.detaches:
            # Children re-assigned to another owner leave their old customer first; then all of the
            # plan's records are planned again (a lost race too: its re-read sees the winner).
            if store.commit(plan.detaches):
                attempt = _lost_round(
                    total,
                    attempt,
                    settings,
                    f"moving {len(plan.deferred)} records' children kept conflicting",
                )
            elif retouch:
                attempt = _lost_round(
                    total, attempt, settings, f"{len(retouch)} records' touches kept losing"
                )
            pending = plan.deferred + retouch
            continue
        if plan.pending_merges:
            try:
                for absorbed, survivor in plan.pending_merges:
                    try:
                        complete_merge(store, absorbed, survivor, settings)
                    except RecordRejectedError:
                        # Refused before its first step: planned on a read of a merge in flight that
                        # another writer took back since (core.merge_undo), planned again once; a
                        # merge planned again and refused again is the records' (quarantined).
                        if (absorbed, survivor) in refused_merges:
                            raise
                        refused_merges.add((absorbed, survivor))
                        raise ConflictError(f"merge of {absorbed} into {survivor} refused") from None
            except ResolutionGaveUpError:
                raise
            except ConflictError:
                attempt += 1
                total.retries += 1
                if attempt >= settings.max_attempts:
                    raise
                _back_off(settings, attempt)
            else:
                if retouch:
                    attempt = _lost_round(
                        total, attempt, settings, f"{len(retouch)} records' touches kept losing"
                    )
            # The state moved under every changeset of this plan: re-plan all of its records.
            pending = progress.unsettled + retouch
            continue
        refused: RecordRejectedError | None = None
        if plan.ahead:  # markers first, for a changeset too large with them (core.ingest_markers)
            commit_ahead(store, plan.changesets, plan.ahead)
        try:
            failed = store.commit(plan.changesets) if plan.changesets else []
        except RecordRejectedError as error:
            # The store names what it wrote before refusing (DynamoDB's commit is no transaction).
            failed = [c for c in plan.changesets if c.label not in error.written]
            refused = error
        if plan.ahead and failed:
            forget_ahead(store, failed, plan.ahead)  # those of a customer erased in between
        failed_labels = {c.label for c in failed}
        failed_records = [r for c in failed for r in plan.records_of[c.label]]
        lost.update(r.key for r in failed_records)
        pending = progress.unsettled = failed_records + plan.deferred + retouch + rest
        if rest and parts is not None:
            if failed or retouch:
                parts.forget()
            else:
                parts.took()
        written = [c for c in plan.changesets if c.label not in failed_labels]
        if settings.suppression is not None and written:
            # the refused-values index: entries again after the commit, those of replaced versions out
            from core.privacy_refused_stale import after_commit

            after_commit(
                store,
                settings.suppression,
                [r for c in written for r in plan.records_of[c.label]],
                plan.replaced,
            )
        _settle(store, plan, written, total, settings)
        _after_linked_commit(store, plan, total, settings, written)
        if refused is not None:
            raise refused  # core.isolation ingests the rest again, and quarantines the refused record
        if failed or retouch:
            # Only lost races (a commit's or a touch's) back off; deferred records of an oversized
            # component go on at once.
            attempt = _lost_round(total, attempt, settings, f"{len(pending)} records still conflicted")


def _part(
    parts: GrowParts,
    pending: list[SourceRecord],
    store: ProfileStore,
    settings: IngestSettings,
    lost: set[str],
    collapsed: Collection[str],
) -> _Plan | None:
    """The plan of the next part ``parts`` offers of ``pending`` (core.ingest_parts) by the add-only
    path, taking fewer records while its changeset is too large for a commit; or None."""
    while part := parts.part(pending, collapsed):
        oversize: list[int] = []
        plan = _plan(part, store, settings, None, lost, collapsed, None, oversize)
        if plan is not None:
            return plan
        if not (oversize and parts.shrink(len(part), oversize[0], store.max_items_per_commit)):
            parts.refused()
            return None
    return None


def _lost_round(total: IngestResult, attempt: int, settings: IngestSettings, what: str) -> int:
    """A round that lost a race: counted, and backed off (jittered) before the next, or given up
    (``ResolutionGaveUpError``) at ``settings.max_attempts``. Returns the attempts so far."""
    attempt += 1
    total.retries += 1
    if attempt >= settings.max_attempts:
        raise ResolutionGaveUpError(
            f"{what} after {attempt} attempts; "
            "retry the batch later (it is safe to ingest the same records again)"
        )
    _back_off(settings, attempt)
    return attempt


def _after_linked_commit(
    store: ProfileStore, plan: _Plan, total: IngestResult, settings: IngestSettings, written: list[Changeset]
) -> None:
    """What the link graph asks for beyond the changesets: review items for a person, splits of
    customers the batch separated without writing to them (a value's holders now conflict), and,
    last, the records another writer filed under the batch's keys since its read
    (core.link_recheck). The batch's records are stored by then: a re-check that keeps losing races
    is counted in ``unjoined`` (the customers it left apart), not raised."""
    if plan.reviews:
        from core.link_unfile import file_reviews  # the link graph's modules: a linked ingest's only

        # requeues the pairs decided on other versions, drops those an erasure since left without a record
        file_reviews(store, plan.reviews, plan.outdated)
    for cid in sorted(plan.resplit):
        try:
            total.split_customers += len(split_customer(store, cid, settings))
        except (ConflictError, ValueError):
            total.unsplit.append(cid)
    if plan.read_back and written:
        from core.link_recheck import join_filed_since

        records = {r.key for rs in plan.records_of.values() for r in rs} | {r.key for r in plan.deferred}
        customers = {plan.survivors[c.label] for c in written}
        try:
            joined = join_filed_since(
                store, plan.read_back, records, customers, settings, _back_off, plan.read_mark
            )
            total.merged_customers += len(joined)
        except ConflictError:
            total.unjoined.extend(sorted(customers))


__all__ = [
    "IngestResult",
    "IngestSettings",
    "ResolutionGaveUpError",
    "ingest",
    "version_rounds",
]
