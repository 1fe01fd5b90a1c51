"""Erase or export one person, found by an email, a phone or a record id: the data-subject requests
(GDPR).

    identifier -> the live customer that owns it (core.person_scope: exactly that customer; nobody
                  when several people hold it, ``ambiguous``)
      export: the profile, every source record, the identifiers, what was pushed where and when,
              quarantined records and dead letters of the person, and their suppression state
      erase:  1. suppress the identifiers the customer held alone and every source record id
                 (core.suppression), so that no pull, merge or push brings the person back
              2. ask every connected tool to erase the records of the person it holds (by id),
                 her quarantined records' ids included (core.privacy_quarantine; found before
                 anything is deleted, their ids suppressed in step 1)
              3. delete every item of the customer (PROFILE, SOURCE#, PUSHED#), the IDENT items it
                 owns, its holder markers and the tombstones of customers merged into it, in guarded
                 steps; with probabilistic identity, plan the link graph around her records again
                 (core.link_relink); then the person's quarantined records and dead letters, found
                 by identifier
              4. leave an audit record that holds no personal data, and a receipt of what is kept

Suppression comes first: a pull, merge or push running meanwhile sees it. The deletes are
conditional: the PROFILE item only at the version that was read, an IDENT item only while this
customer still owns it. A merge that changes the customer meanwhile makes a step fail; the customer
is then read again (by its id: its identifiers may already be gone) and the rest is planned anew,
so a concurrent merge is neither corrupted nor leaves data behind, and any record id it brought is
suppressed too. A request repeated after a crash finishes the job. What a tool did not confirm is
kept as a pending erasure and asked again by ``retry_erasures`` (``{"action": "erase-retry"}``).

A suppression is lifted only by ``lift_suppression`` (``{"action": "unsuppress"}``), for a person
who signed up again; it is audited like the erasure.

This module erases; asking the tools and the report of an erase are core.privacy_tools, deleting
one customer in guarded steps core.privacy_customer, suppressing the person and clearing her traces
outside her customer core.privacy_traces, the receipt of what is kept core.privacy_receipt, the
export core.privacy_export, asking again and lifting core.privacy_retry, what every request starts
from (the identifier, its hash, the stores, the refusal) core.privacy_request. Their names are
exported from here too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial

from core.connector import Connector
from core.errors import ConflictError
from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.person_scope import PersonScope, find_scope, locate, plan_erasure
from core.ports import RETIRED_OWNER, ProfileStore, SyncStateStore
from core.privacy_caches import forgetting
from core.privacy_customer import _erase_customer, settle_merges
from core.privacy_export import PersonExport, PushedRecord, export_person
from core.privacy_orphans import delete_orphans, find_orphaned
from core.privacy_quarantine import held_by_others, quarantined_targets
from core.privacy_receipt import BACKUP_RETENTION_DAYS, INGEST_RETENTION_DAYS, kept_by_policy
from core.privacy_refused import take_out_refused
from core.privacy_request import (
    AMBIGUOUS,
    PrivacyStores,
    StoredIds,
    as_stored,
    identifier_for,
    quarantined_of,
    record_matcher,
    refusal,
    stored_ids_of,
    stored_spelling,
    stored_spellings,
    subject_hash,
)
from core.privacy_retry import ERASE_ATTEMPTS_BEFORE_ALARM, RetryReport, lift_suppression, retry_erasures
from core.privacy_store import (
    AuditRecord,
    DeadLetterQueue,
    DeleteItem,
    ErasureStep,
    ErasureStore,
    ItemKey,
    PendingErasure,
    QuarantineItem,
    apply_in_steps,
)
from core.privacy_tools import ErasureReport, ask_tools, held_at
from core.privacy_traces import _fingerprint, _redact_other_histories, _relink, _retired, _suppress
from core.quarantine_view import names_others, without_her
from core.schema import Identifier
from core.suppression import SuppressionStore, keyed_hash

# --- erasure -----------------------------------------------------------------------------------------


def _find_person(
    identifier: Identifier,
    profiles: ProfileStore,
    find: Callable[[], PersonScope],
    sleep: Callable[[float], None],
) -> PersonScope:
    """``find()`` (``find_scope`` of the request), on a store at rest for her: the large merge in
    flight of the customer found is finished (or taken back: core.merge_undo) and the person located
    again, and so is she when the owner of what the request names changed while she was located
    (that merge taken back by another writer between the read of the owner and of its customer: the
    customer read is her namesake's)."""
    for _ in range(3):
        owner = profiles.get_owners([identifier.key]).get(identifier.key)
        scope = find()
        if settle_merges(profiles, scope, sleep):
            continue
        after = profiles.get_owners([identifier.key]).get(identifier.key)
        if (owner and owner.customer_id) == (after and after.customer_id):
            break
    else:
        scope = find()
    return scope


@forgetting
def erase_person(
    identifier: Identifier,
    *,
    profiles: ProfileStore,
    erasure: ErasureStore,
    tools: Mapping[str, Connector],
    salt: str,
    request_id: str,
    unavailable: Mapping[str, str] | None = None,
    quarantine_of: Sequence[str] = (),
    sync_state: SyncStateStore | None = None,
    suppression: SuppressionStore | None = None,
    dead_letters: DeadLetterQueue | None = None,
    requested_by: str = "",
    invocation: str = "",
    policy: IdentityPolicy | None = None,
    region: str = "US",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_attempts: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    identity: IngestSettings | None = None,
    stored_ids: StoredIds | None = None,
    spellings: Sequence[Identifier] = (),
) -> ErasureReport:
    """Erase the person everywhere and write the audit record; see the module docstring for the order.

    ``stored_ids``: each installed connector's ``ConnectorSpec.stored_id`` by tool name (the asked
    ``tools``' own are added), so a record named by the vendor's other spelling of its id is found.
    ``identity``: the settings ingest resolves with (the deployment's model when
    ``identity.linkage`` is set, and its policy unless ``policy`` is given): the link graph around
    the erased records is planned again with them, as after a retirement (core.link_relink).
    Last, whatever happened, the process's caches of personal values are emptied
    (core.privacy_caches).
    ``spellings``: the other spellings of the email named that a record may hold
    (``stored_spellings``: the key of before the upgrade that folds it); each one's customer is hers.
    ``unavailable`` names the tools that should have been asked but could not be built (missing
    credentials, say) with the error type; they fail if the person has records there. The
    quarantines of the connectors in ``quarantine_of`` are searched by identifier. Raises
    ConflictError if the customer kept changing for ``max_attempts`` rounds (the audit record then
    says ``retry``, and sending the request again finishes the job).
    """
    stores = PrivacyStores(profiles, erasure, sync_state, suppression, dead_letters, quarantine_of)
    spelt = {**(stored_ids or {}), **stored_ids_of(t.spec for t in tools.values())}
    identifier = as_stored(identifier, profiles, {*tools, *(unavailable or {})}, spelt)
    policy = policy or (identity.policy if identity is not None else IdentityPolicy())
    started = now()
    # ``spellings``: the other spellings of her address a record may hold (core.person_scope)
    find = partial(find_scope, identifier, profiles=profiles, erasure=erasure, sync_state=sync_state)
    find = partial(find, policy=policy, spellings=spellings)
    scope = _find_person(identifier, profiles, find, sleep)
    orphan_gone = False  # found frozen into a customer that is gone, and left with nothing of her
    orphans: list[tuple[str, str]] = []  # those of them left with no record: deleted once suppressed
    if not scope.found and not scope.ambiguous:
        scope, orphan_gone, orphans = find_orphaned(identifier, stores, policy, sleep) or (scope, False, [])
    report = ErasureReport(found=scope.found or orphan_gone, outcome="")
    if scope.ambiguous:
        # A family inbox or a household phone names several people: its owner is whoever got it
        # first, not necessarily the person who asked. Nobody is erased; the person is named again
        # by a value only they hold, or a record id. Likewise a spelling of a mailbox several
        # customers hold other spellings of: each is named by the spelling it holds.
        report.outcome = AMBIGUOUS
        report.refusal = refusal(identifier, "erase")
        erasure.put_audit(
            AuditRecord(
                action="erase",
                request_id=request_id,
                at=started,
                subject_hash=subject_hash(salt, identifier),
                outcome=AMBIGUOUS,
                requested_by=requested_by,
                invocation=invocation,
            )
        )
        return report
    # Her quarantined records' tools are asked for them too, and their record ids suppressed: found
    # before anything is deleted, so that a request sent again after a kill finds them again.
    finding = scope.finding_keys()
    early = quarantined_of(stores, {keyed_hash(salt, k) for k in finding}, finding, region)
    named = {**dict.fromkeys(unavailable or {}), **tools}
    shared = held_by_others(profiles, finding, region)
    kept, unasked = quarantined_targets(early, salt, named, scope.sources, shared)
    if unasked:  # its tool not known, its id not confirmed, or it holds another customer's value too
        report.counts["quarantined_not_asked"] += unasked
    kept_keys = [i.key for ids in kept.values() for i in ids]
    suppressed = _suppress(stores, salt, [*scope.suppression_keys(), *kept_keys], request_id, started)
    prints = _fingerprint(stores, salt, [scope], identity, request_id, started)
    delete_orphans(stores, orphans)

    results = ask_tools(scope, tools, unavailable, kept)
    report.tools = {name: r.label for name, r in results.items()}
    error: ConflictError | None = None
    scopes = [scope]
    target = scope
    if not scope.found:
        # A merge that checked the suppression just before it was written creates the person while
        # the tools are asked (nothing guards a customer that did not exist): read once more.
        target = find()
        report.found = target.found or orphan_gone
        if target.found:
            scopes.append(target)
    retired: list[str] = []
    """Records of hers found gone through the histories that named her values (their tombstones
    deleted below, their ids suppressed)."""
    if target.found:
        # The person's customer, then her split-off customers (core.scope_splinters), each whole.
        for erased in (target, *target.splinters):
            retired += _redact_other_histories(erased, stores, report)
            try:
                scopes += _erase_customer(erased, stores, report, policy, max_attempts, sleep)
            except ConflictError as exc:
                error = error or exc
        if error is None and identity is not None:
            _relink(profiles, [target, *target.splinters, *scopes[1:]], identity)
    else:
        # Nobody holds what the request names: the histories that name it lose it (a value held by
        # a customer split off and retired since, core.governance.history_names), and so do the
        # stale markers of customers that held it once (core.scope_holders.stale_markers).
        retired += _redact_other_histories(target, stores, report)
        for start in range(0, len(target.holder_items), erasure.max_items_per_step):
            erasure.apply(
                tuple(DeleteItem(k) for k in target.holder_items[start : start + erasure.max_items_per_step])
            )
            report.counts["holder"] += len(target.holder_items[start : start + erasure.max_items_per_step])
    # Her records under other customers, found by her values refused in them (the household case).
    try:
        retired += take_out_refused(scopes, stores, report.counts, identity, region, now(), salt)
    except ConflictError as exc:  # a customer holding her record kept changing: sent again, done
        error = error or exc
    # A record id nobody holds, of a record retired at its vendor: its tombstone names it in clear.
    # It is suppressed (above, or below for one found now), so a late copy of it is dropped.
    tombstones = sorted(_retired(profiles, {*(target.tombstones if not target.found else ()), *retired}))
    for start in range(0, len(tombstones), erasure.max_items_per_step):
        keys = tombstones[start : start + erasure.max_items_per_step]
        step = tuple(DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=RETIRED_OWNER) for k in keys)
        try:
            erasure.apply(step)
            report.counts["ident"] += len(step)
        except ConflictError as exc:  # the record came back meanwhile: the request is sent again
            error = error or exc
    # Record ids a racing merge brought in are suppressed too (step 1 could not know them).
    later = sorted(
        {*retired, *(k for s in scopes[1:] for k in s.suppression_keys())}
        - {*scope.suppression_keys(), *kept_keys}
    )
    suppressed += _suppress(stores, salt, later, request_id, started)
    prints += _fingerprint(stores, salt, scopes[1:], identity, request_id, started)
    if fingerprinted := len({e.hash for e in prints if e.erasure == request_id}):
        report.counts["fingerprinted"] += fingerprinted  # this erasure's (an earlier one's stay its)
    report.counts["suppressed"] += suppressed

    finding = set().union(*(s.finding_keys() for s in scopes))
    hashes = {keyed_hash(salt, k) for k in finding}
    found = quarantined_of(stores, hashes, finding, region)
    apply_in_steps(erasure, [DeleteItem(q.key) for q in found])
    report.counts["quarantined"] += len(found)
    if sync_state is not None and (others := [q for q in found if names_others(q, finding, region)]):
        # someone else's record naming her in a value with them: written again without her
        sync_state.put_quarantined([without_her(q, finding, hashes) for q in others])
        report.counts["quarantined_kept_without_her"] += len(others)
    if dead_letters is not None:
        matchers = [record_matcher(s, region) for s in scopes]
        if prints and identity is not None:
            from core.suppression_fuzzy import fingerprint_matcher

            matchers.append(fingerprint_matcher(prints, salt, identity))  # hers by a fuzzy link only
        report.counts["dead_letter_records"] += dead_letters.remove(lambda r: any(m(r) for m in matchers))
        # Records the queue could not judge (nothing identifying reads in them) stay there: the
        # answer says so, never a silent ok (core.storage.sqs_dead_letters).
        if unreadable := getattr(dead_letters, "unreadable", 0):
            report.counts["dead_letter_unreadable"] += unreadable
        # Messages another reader held while the queue was read: not seen, may be hers (the same).
        if in_flight := getattr(dead_letters, "in_flight", 0):
            report.counts["dead_letter_in_flight"] += in_flight

    failed = {name: r.remaining for name, r in results.items() if not r.done and r.remaining}
    subject = subject_hash(salt, identifier)
    if failed:
        held = scope.found or bool(scope.sources)
        unheld = tuple(sorted(t for t in failed if not held_at(scope, t))) if held else ()
        erasure.put_pending(
            PendingErasure(request_id, subject, started, failed, held, 1, requested_by, unheld)
        )
        report.pending = True
    if error is not None:
        report.outcome = "retry"
    elif not report.complete:
        report.outcome = "incomplete"
    else:
        report.outcome = "erased" if report.found else "not_found"
    report.kept = kept_by_policy(started, suppressed=suppressed, pending=report.pending)
    erasure.put_audit(
        AuditRecord(
            action="erase",
            request_id=request_id,
            at=started,
            subject_hash=subject,
            outcome=report.outcome,
            counts=dict(report.counts),
            tools=dict(report.tools),
            requested_by=requested_by,
            invocation=invocation,
        )
    )
    if error is not None:
        raise error
    return report


__all__ = [
    "AMBIGUOUS",
    "BACKUP_RETENTION_DAYS",
    "ERASE_ATTEMPTS_BEFORE_ALARM",
    "INGEST_RETENTION_DAYS",
    "AuditRecord",
    "DeleteItem",
    "ErasureReport",
    "ErasureStep",
    "ErasureStore",
    "ItemKey",
    "PendingErasure",
    "PersonExport",
    "PrivacyStores",
    "PushedRecord",
    "QuarantineItem",
    "RetryReport",
    "ask_tools",
    "erase_person",
    "export_person",
    "identifier_for",
    "kept_by_policy",
    "lift_suppression",
    "locate",
    "plan_erasure",
    "refusal",
    "retry_erasures",
    "stored_spelling",
    "stored_spellings",
    "subject_hash",
]
