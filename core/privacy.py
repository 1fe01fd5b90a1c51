"""Erase or export one person, found by an email or a phone: the data-subject requests (GDPR).

    identifier -> the live customer that owns it (core.person_scope: exactly that customer)
      export: the profile, every source record, the identifiers, what was pushed where and when,
              quarantined records and dead letters of the person, and their suppression state
      erase:  1. suppress the identifiers the customer held alone and every source record id
                 (core.suppression), so that no pull, merge or push brings the person back
              2. ask every connected tool to erase the records of the person it holds (by id)
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
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core.connector import Connector, Payload
from core.errors import ConflictError
from core.governance.history import HistoryStore
from core.governance.history_redaction import redact_other_histories
from core.governance.person_record import PersonRecord, person_record
from core.governance.reading import ReadAudit
from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.mailbox import mailbox_key
from core.merge_steps import complete_merge
from core.normalise import normalise_email, normalise_phone
from core.person_scope import (
    PersonScope,
    find_scope,
    locate,
    plan_erasure,
    plan_scope,
    scope_of,
)
from core.ports import CustomerState, ProfileStore, PushedState, SyncStateStore
from core.privacy_store import (
    AuditRecord,
    DeadLetterQueue,
    DeleteItem,
    ErasureStep,
    ErasureStore,
    ItemKey,
    PendingErasure,
    QuarantineItem,
)
from core.quarantine import legacy_identifier_keys
from core.schema import Identifier, Profile, SourceRecord, source_identifier
from core.scope_tombstones import retired_tombstones
from core.suppression import SuppressionEntry, SuppressionStore, keyed_hash
from core.tool_erasure import ToolResult, erase_in_tool

#: How long DynamoDB point-in-time recovery keeps the table's earlier states (its maximum window).
BACKUP_RETENTION_DAYS = 35
#: How long the ingest queue keeps a message (template.yaml); suppression drops it at merge anyway.
INGEST_RETENTION_DAYS = 4
#: After this many rounds of asking, a tool that still has not confirmed raises the alarm.
ERASE_ATTEMPTS_BEFORE_ALARM = 5
#: The outcome of an erase or export request naming an email or phone several people hold (a
#: family inbox, a household phone: core.person_scope): nobody is erased, nothing is handed over.
AMBIGUOUS = "ambiguous"


def refusal(identifier: Identifier, action: str, source: str = '"source"') -> str:
    """The message of an ``ambiguous`` refusal: what was refused and how to name the person instead
    (``source``: how the request names a record id; ``--source`` on the command line). Never repeats
    the value."""
    done = "erased" if action == "erase" else "exported"
    what = {"email": "email address", "phone": "phone"}.get(identifier.kind, "identifier")
    return (
        f"the {what} given is held by more than one person, so nothing was {done}: name the person "
        f"by an email or phone only they hold, or by the id of one of their records ({source} "
        "<tool>:<object type>:<id>, such as hubspot:contact:123)"
    )


# --- finding the person -------------------------------------------------------------------------------


def identifier_for(
    *, email: str | None = None, phone: str | None = None, region: str = "US", source: str | None = None
) -> Identifier:
    """The normalised identifier a request names; exactly one of ``email``, ``phone`` and ``source``
    (the id of one of the person's records, ``<tool>:<object type>:<id>`` as the export lists them).

    Raises ValueError (a NormalisationError for a malformed value) whose message never repeats the
    value, so it can be logged and returned.
    """
    if sum(v is not None for v in (email, phone, source)) != 1:
        raise ValueError("give exactly one of email, phone or source")
    if email is not None:
        return Identifier(kind="email", value=normalise_email(email))
    if source is not None:
        return source_identifier(source)
    assert phone is not None
    return Identifier(kind="phone", value=normalise_phone(phone, region))


def subject_hash(salt: str, identifier: Identifier) -> str:
    """A keyed hash (HMAC-SHA256) of the identifier: the same person gives the same hash, so a later
    request can be matched to an audit record, but the hash cannot be reversed without the salt.
    Suppression entries use the same hash (core.suppression.keyed_hash)."""
    return keyed_hash(salt, identifier.key)


# --- the stores a request works with ---------------------------------------------------------------


@dataclass
class PrivacyStores:
    """What a privacy request reads and writes. ``suppression`` None leaves suppression out (only
    for stores that have none); ``dead_letters`` None when there is no dead-letter queue to search."""

    profiles: ProfileStore
    erasure: ErasureStore
    sync_state: SyncStateStore | None = None
    suppression: SuppressionStore | None = None
    dead_letters: DeadLetterQueue | None = None
    quarantine_of: Sequence[str] = ()
    """The connectors whose quarantine is searched."""
    history: HistoryStore | None = None
    """The customers' histories, for the export (None: the profile store's own, if it keeps one)."""
    reads: ReadAudit | None = None
    """The read audit, for the export's "who looked at this person in the last 90 days"."""


# --- export ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushedRecord:
    """What one tool last received for the person: the payload's hash, when, its id there, and the
    payload itself when it is still what the profile gives (``payload_of``)."""

    destination: str
    payload_hash: str
    remote_id: str | None
    at: datetime | None
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PersonExport:
    """Everything stored about one person (see the module docstring); ``items`` are the keys of
    every table item an erasure of the person would delete."""

    customer_id: str | None
    profile: Profile | None
    sources: tuple[SourceRecord, ...]
    identifiers: tuple[str, ...] = ()
    pushed: tuple[PushedRecord, ...] = ()
    quarantined: tuple[QuarantineItem, ...] = ()
    dead_letters: tuple[SourceRecord, ...] = ()
    suppressed: Mapping[str, SuppressionEntry | None] = field(default_factory=dict)
    """Each identifier of the person -> its suppression entry, or None when it is not suppressed."""
    items: tuple[ItemKey, ...] = ()
    governance: PersonRecord = field(default_factory=PersonRecord)
    """The customer's history, and who read their profile in the last 90 days (the read audit)."""
    ambiguous: bool = False
    """The identifier is held by several people: nothing of anyone is exported."""
    refusal: str = ""
    """When ``ambiguous``: why nothing was exported, and how to name the person instead."""
    identity: Mapping[str, Any] | None = None
    """Why the customer's records are one customer: the link graph with each edge's reason and what
    was refused (core.link_explain.customer_explanation); None when no customer was found."""


def export_person(
    profiles: ProfileStore,
    identifier: Identifier,
    *,
    erasure: ErasureStore | None = None,
    stores: PrivacyStores | None = None,
    salt: str = "",
    payload_of: Callable[[str, Profile], Payload | None] | None = None,
    region: str = "US",
    identity: IngestSettings | None = None,
) -> PersonExport | None:
    """Everything held about the person, or None when nothing is: no customer, no quarantined
    record, no dead letter and no suppression names the identifier.

    ``stores`` (with ``salt``) adds what lies outside the customer: quarantine, dead letters,
    suppression state. Without them (``erasure`` only, or nothing) the export holds the customer.
    ``identity``: the settings ingest resolves with (probabilistic when ``identity.linkage`` is
    set), for the explanation of why the customer's records are one customer.
    """
    stores = stores or (PrivacyStores(profiles, erasure) if erasure is not None else None)
    if stores is None:
        state = locate(profiles, identifier)
        if state is None:
            return None
        sources = tuple(sorted(state.snapshots.values(), key=lambda r: r.key))
        return PersonExport(
            state.customer_id, state.profile, sources, identity=_explained(profiles, state, identity)
        )
    scope = find_scope(identifier, profiles=profiles, erasure=stores.erasure, sync_state=stores.sync_state)
    if scope.ambiguous:
        # A family inbox names several people: its owner's data is not the asker's (see erase).
        return PersonExport(
            customer_id=None, profile=None, sources=(), ambiguous=True, refusal=refusal(identifier, "export")
        )
    state = scope.state
    pushed = tuple(_pushed_record(p, state.profile if state else None, payload_of) for p in scope.pushed)
    quarantined: tuple[QuarantineItem, ...] = ()
    dead: tuple[SourceRecord, ...] = ()
    suppressed: dict[str, SuppressionEntry | None] = {}
    if salt:
        finding = {keyed_hash(salt, k) for k in scope.finding_keys()}
        quarantined = tuple(_quarantined(stores, finding, scope.finding_keys(), region))
        if stores.dead_letters is not None:
            wanted = _record_matcher(scope)
            dead = tuple(r for r in stores.dead_letters.records() if wanted(r))
        if stores.suppression is not None:
            for key in sorted(
                {scope.request.key, *scope.exclusive, *scope.shared, *scope.suppression_keys()}
            ):
                suppressed[key] = stores.suppression.entry(keyed_hash(salt, key))
    if not scope.found and not quarantined and not dead and not any(suppressed.values()):
        return None
    # The history is kept by the profile store (PutHistory) unless another store is named.
    history = stores.history if stores.history is not None else getattr(profiles, "history", None)
    governance = person_record(scope.customer_id, history, stores.reads, now=datetime.now(UTC))
    return PersonExport(
        customer_id=scope.customer_id,
        profile=state.profile if state else None,
        sources=tuple(sorted(_records(scope), key=lambda r: r.key)),
        identifiers=tuple(scope.owned),
        pushed=pushed,
        quarantined=quarantined,
        dead_letters=dead,
        suppressed=suppressed,
        items=tuple(scope.table_items() + [q.key for q in quarantined]),
        governance=governance,
        identity=_explained(profiles, state, identity) if state else None,
    )


def _records(scope: PersonScope) -> list[SourceRecord]:
    """The records of the person's customer and of her split-off customers."""
    return [r for s in (scope, *scope.splinters) if s.state is not None for r in s.state.snapshots.values()]


def _explained(
    profiles: ProfileStore, state: CustomerState, identity: IngestSettings | None
) -> dict[str, Any]:
    from core.export_identity import for_the_subject
    from core.link_explain import customer_explanation

    # The export is handed to the person: the other records of pairs in review are someone else's.
    return for_the_subject(customer_explanation(profiles, state, identity), set(state.snapshots))


def _pushed_record(
    pushed: PushedState, profile: Profile | None, payload_of: Callable[[str, Profile], Payload | None] | None
) -> PushedRecord:
    body: Mapping[str, Any] | None = None
    if profile is not None and payload_of is not None:
        try:
            payload = payload_of(pushed.destination, profile)
        except Exception:  # a tool that cannot be built still has its push record exported
            payload = None
        if payload is not None and payload.hash == pushed.payload_hash:
            body = dict(payload.body)
    return PushedRecord(pushed.destination, pushed.payload_hash, pushed.remote_id, pushed.at, body)


def _quarantined(
    stores: PrivacyStores, hashes: set[str], keys: set[str], region: str
) -> list[QuarantineItem]:
    """The person's quarantined records: by the keyed hashes stored with them, or (items stored
    before hashes were) by the keys their raw values normalise to. Never by searching text."""
    found: list[QuarantineItem] = []
    for connector in stores.quarantine_of:
        for item in stores.erasure.quarantined_items(connector):
            if item.subjects is not None:
                if item.subjects & hashes:
                    found.append(item)
            elif legacy_identifier_keys(item.raw, region) & keys:
                found.append(item)
    return found


def _record_matcher(scope: PersonScope) -> Callable[[SourceRecord], bool]:
    sources = set(scope.sources)
    keys = scope.finding_keys()

    def matches(record: SourceRecord) -> bool:
        return record.key in sources or any(i.key in keys for i in record.identifiers)

    return matches


# --- erasure -----------------------------------------------------------------------------------------


@dataclass
class ErasureReport:
    """What one erase request did. ``counts`` holds deleted items by kind (and ``suppressed``);
    ``tools`` each tool's answer; ``kept`` what remains by policy, and until when."""

    found: bool
    outcome: str
    counts: Counter[str] = field(default_factory=Counter)
    tools: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    retries: int = 0
    kept: list[dict[str, str]] = field(default_factory=list)
    pending: bool = False
    refusal: str = ""
    """When ``ambiguous``: why nobody was erased, and how to name the person instead."""

    @property
    def complete(self) -> bool:
        return self.outcome != AMBIGUOUS and not any(v.startswith("failed") for v in self.tools.values())


def ask_tools(
    scope: PersonScope,
    tools: Mapping[str, Connector],
    unavailable: Mapping[str, str] | None = None,
) -> dict[str, ToolResult]:
    """Ask every tool to erase what it holds of the person; one tool failing does not stop the others."""
    results: dict[str, ToolResult] = {}
    for name in sorted({*tools, *(unavailable or {})}):
        connector = tools.get(name)
        targets = scope.tool_targets(name, connector)
        extras = scope.pushed_addresses(name, connector)
        result = erase_in_tool(name, connector, targets, held=scope.found, extras=extras)
        if connector is None and result.status == "failed":
            result = ToolResult(
                name, "failed", (unavailable or {}).get(name, "unavailable"), 0, result.remaining
            )
        results[name] = result
    return results


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
) -> ErasureReport:
    """Erase the person everywhere and write the audit record; see the module docstring for the order.

    ``identity``: the settings ingest resolves with (the deployment's model when
    ``identity.linkage`` is set, and its policy unless ``policy`` is given): the link graph around
    the erased records is planned again with them, as after a retirement (core.link_relink).
    ``unavailable`` names the tools that should have been asked but could not be built (missing
    credentials, say) with the error type; they fail if the person has records there. The
    quarantines of the connectors in ``quarantine_of`` are searched by identifier. Raises
    ConflictError if the customer kept changing for ``max_attempts`` rounds (the audit record then
    says ``retry``, and sending the request again finishes the job).
    """
    stores = PrivacyStores(profiles, erasure, sync_state, suppression, dead_letters, quarantine_of)
    policy = policy or (identity.policy if identity is not None else IdentityPolicy())
    started = now()
    scope = find_scope(identifier, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy)
    report = ErasureReport(found=scope.found, outcome="")
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
    suppressed = _suppress(stores, salt, scope.suppression_keys(), request_id, started)

    results = ask_tools(scope, tools, unavailable)
    report.tools = {name: r.label for name, r in results.items()}
    error: ConflictError | None = None
    scopes = [scope]
    target = scope
    if not scope.found:
        # A merge that checked the suppression just before it was written creates the person while
        # the tools are asked (nothing guards a customer that did not exist): read once more.
        target = find_scope(
            identifier, profiles=profiles, erasure=erasure, sync_state=sync_state, policy=policy
        )
        report.found = target.found
        if target.found:
            scopes.append(target)
    if target.found:
        # The person's customer, then her split-off customers (core.scope_splinters), each whole.
        for erased in (target, *target.splinters):
            _redact_other_histories(erased, stores, report)
            try:
                scopes += _erase_customer(erased, stores, report, policy, max_attempts, sleep)
            except ConflictError as exc:
                error = error or exc
        if error is None and identity is not None:
            _relink(profiles, [target, *target.splinters, *scopes[1:]], identity)
    # Record ids a racing merge brought in are suppressed too (step 1 could not know them).
    later = sorted({k for s in scopes[1:] for k in s.suppression_keys()} - set(scope.suppression_keys()))
    suppressed += _suppress(stores, salt, later, request_id, started)
    report.counts["suppressed"] += suppressed

    finding = set().union(*(s.finding_keys() for s in scopes))
    hashes = {keyed_hash(salt, k) for k in finding}
    found = _quarantined(stores, hashes, finding, region)
    for start in range(0, len(found), erasure.max_items_per_step):
        erasure.apply(tuple(DeleteItem(q.key) for q in found[start : start + erasure.max_items_per_step]))
    report.counts["quarantined"] += len(found)
    if dead_letters is not None:
        matchers = [_record_matcher(s) for s in scopes]
        report.counts["dead_letter_records"] += dead_letters.remove(lambda r: any(m(r) for m in matchers))

    failed = {name: r.remaining for name, r in results.items() if not r.done and r.remaining}
    subject = subject_hash(salt, identifier)
    if failed:
        erasure.put_pending(
            PendingErasure(request_id, subject, started, failed, scope.found, 1, requested_by)
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


def _relink(profiles: ProfileStore, erased: Sequence[PersonScope], identity: IngestSettings) -> None:
    """Plan the link graph around the erased customers' records again (core.link_relink)."""
    from core.link_relink import relink_after_erasure  # the matcher's imports only where it is used

    gone = {r.key: r for s in erased if s.state is not None for r in s.state.snapshots.values()}
    relink_after_erasure(profiles, [gone[k] for k in sorted(gone)], identity)


def _redact_other_histories(scope: PersonScope, stores: PrivacyStores, report: ErasureReport) -> None:
    """Take the person's records and identifiers out of the histories of the customers their own
    history names (a split leaves traces there: core.governance.history_redaction); before their
    own history is deleted with the rest of their customer."""
    history = stores.history if stores.history is not None else getattr(stores.profiles, "history", None)
    if history is None or scope.customer_id is None:
        return
    redacted = redact_other_histories(
        history, stores.erasure, scope.customer_id, sources=scope.sources, identifiers=scope.exclusive
    )
    if redacted:
        report.counts["history_redacted"] += redacted


def _suppress(stores: PrivacyStores, salt: str, keys: Sequence[str], request_id: str, at: datetime) -> int:
    """Suppress ``keys``; how many are suppressed now. An entry an earlier erasure left stays that
    erasure's: were it taken over, lifting it (the person signed up again) would lift only what the
    later request named, and leave the earlier erasure's other entries (their phone, their record
    ids) suppressing the person for good."""
    if stores.suppression is None or not keys:
        return 0
    hashes = {keyed_hash(salt, key): key for key in sorted(set(keys))}
    already = stores.suppression.suppressed(sorted(hashes))
    entries = [
        SuppressionEntry(hash_, _kind(key), request_id, at)
        for hash_, key in hashes.items()
        if hash_ not in already
    ]
    if entries:
        stores.suppression.suppress(entries)
    return len(hashes)


def _kind(key: str) -> Any:
    kind = key.partition("#")[0]
    return "email" if kind == "mailbox" else kind  # a mailbox entry suppresses emails


def kept_by_policy(at: datetime, *, suppressed: int, pending: bool) -> list[dict[str, str]]:
    """What an erasure leaves by policy, why, and until when: the receipt's ``kept``."""
    kept = [
        {
            "what": "audit record",
            "holds": "a keyed hash of the identifier, who asked, when, counts and each tool's outcome",
            "why": "accountability for the request (GDPR art. 5(2)); it holds no personal data",
            "until": "kept with the table; the privacy role can neither change nor delete it",
        },
        {
            "what": f"suppression entries ({suppressed})",
            "holds": "keyed hashes of the identifiers the person held alone and of their record ids",
            "why": "so that no tool's next pull, and no push, brings the person back",
            "until": "until lifted by an explicit, audited request (the person signed up again)",
        },
        {
            "what": "point-in-time backups of the table",
            "holds": "the table as it was before the erasure",
            "why": "disaster recovery; restores are done by operators and must re-run erasures",
            "until": (at + timedelta(days=BACKUP_RETENTION_DAYS)).isoformat(),
        },
        {
            "what": "ingest queue messages in flight",
            "holds": "records pulled before the erasure and not yet merged",
            "why": "they are dropped at merge by the suppression entries, never stored",
            "until": (at + timedelta(days=INGEST_RETENTION_DAYS)).isoformat(),
        },
    ]
    if pending:
        kept.append(
            {
                "what": "pending tool erasures",
                "holds": "the ids of the person's records in the tools that have not confirmed",
                "why": 'to ask those tools again ({"action": "erase-retry"})',
                "until": "until every tool confirms",
            }
        )
    return kept


def _erase_customer(
    scope: PersonScope,
    stores: PrivacyStores,
    report: ErasureReport,
    policy: IdentityPolicy,
    max_attempts: int,
    sleep: Callable[[float], None],
) -> list[PersonScope]:
    """Delete the customer's items in guarded steps until nothing is left; return the scopes read
    again after a lost race (they may hold record ids a concurrent merge brought)."""
    profiles, erasure = stores.profiles, stores.erasure
    settings = IngestSettings(sleep=sleep)
    customer = scope.customer_id
    assert customer is not None
    current: PersonScope | None = scope
    later: list[PersonScope] = []
    for attempt in range(max_attempts):
        try:
            if current is None:
                state = profiles.get_customers([customer]).get(customer)
                if state is not None and state.merged_into:
                    customer = state.merged_into  # merged away meanwhile: the survivor is the person now
                    continue
                if state is not None and (state.merging_into or state.absorbing):
                    # A large merge is in flight: finish it (idempotent) and erase what it leaves.
                    if state.merging_into:
                        complete_merge(profiles, customer, state.merging_into, settings)
                    for absorbed in sorted(state.absorbing):
                        complete_merge(profiles, absorbed, customer, settings)
                    continue
                if state is None:
                    items = erasure.customer_items(customer)
                    if not items:
                        return later
                    # Its history goes last: the tombstones of its retired records are still found.
                    tombstones = retired_tombstones(profiles, [customer])
                    current = PersonScope(scope.request, customer, None, items=items, tombstones=tombstones)
                else:
                    current = scope_of(
                        scope.request,
                        state,
                        profiles=profiles,
                        erasure=erasure,
                        sync_state=stores.sync_state,
                        policy=policy,
                        splinters=False,  # the caller erases those of the first read
                    )
                    later.append(current)
            if not current.items:
                return later
            if current.state is not None:
                _forget_in_index(profiles, current.state.snapshots.values(), policy)
            for step in plan_scope(current, erasure.max_items_per_step):
                erasure.apply(step)
                report.steps += 1
                for delete in step:
                    report.counts[delete.key.kind] += 1
            # Read once more: an item written while the steps ran is found and deleted too.
            current = None
        except ConflictError:
            report.retries += 1
            current = None
            sleep(random.uniform(0, 0.02 * 2**attempt))
    raise ConflictError(
        f"customer {customer} kept changing while it was erased; send the request again to finish"
    )


def _forget_in_index(profiles: ProfileStore, records: Iterable[SourceRecord], policy: IdentityPolicy) -> None:
    """Take the records out of the identity index (BLOCK# memberships, REVIEW# pairs) before their
    items go: nobody is found through an erased person's name or address. A no-op on a store
    without the index; idempotent, so a retried erasure does it again harmlessly."""
    from core.link_index import LinkIndex

    if isinstance(profiles, LinkIndex):
        from core.link_nodes import forget_records  # the matcher's imports only where it is used

        forget_records(profiles, records, policy)


# --- asking the tools again --------------------------------------------------------------------------


@dataclass
class RetryReport:
    """What one ``retry_erasures`` run did."""

    pending: int = 0
    completed: int = 0
    still_failing: int = 0
    alarming: int = 0
    """Erasures asked ``ERASE_ATTEMPTS_BEFORE_ALARM`` times or more that still failed."""
    tools: dict[str, Counter[str]] = field(default_factory=dict)


def retry_erasures(
    erasure: ErasureStore,
    tools: Mapping[str, Connector],
    *,
    unavailable: Mapping[str, str] | None = None,
    invocation: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetryReport:
    """Ask each tool again for what it has not confirmed, for every pending erasure; an erasure all
    of whose tools have now answered is audited (``erase-retry``, outcome ``erased``) and forgotten."""
    report = RetryReport()
    for pending in erasure.pending_erasures():
        report.pending += 1
        remaining: dict[str, tuple[str, ...]] = {}
        answers: dict[str, str] = {}
        for name, keys in sorted(pending.tools.items()):
            targets = [Identifier.from_key(k) for k in keys]
            result = erase_in_tool(name, tools.get(name), targets, held=pending.held)
            if tools.get(name) is None and result.status == "failed":
                result = ToolResult(name, "failed", (unavailable or {}).get(name, "unavailable"), 0, keys)
            answers[name] = result.label
            report.tools.setdefault(name, Counter())[result.label] += 1
            if not result.done:
                remaining[name] = result.remaining or keys
        if not remaining:
            erasure.delete_pending(pending.request_id)
            report.completed += 1
            erasure.put_audit(
                AuditRecord(
                    action="erase-retry",
                    request_id=pending.request_id,
                    at=now(),
                    subject_hash=pending.subject_hash,
                    outcome="erased",
                    counts={"attempts": pending.attempts + 1},
                    tools=answers,
                    requested_by=pending.requested_by,
                    invocation=invocation,
                )
            )
            continue
        attempts = pending.attempts + 1
        erasure.put_pending(
            PendingErasure(
                pending.request_id,
                pending.subject_hash,
                pending.created_at,
                remaining,
                pending.held,
                attempts,
                pending.requested_by,
            )
        )
        report.still_failing += 1
        if attempts >= ERASE_ATTEMPTS_BEFORE_ALARM:
            report.alarming += 1
    return report


# --- lifting a suppression ---------------------------------------------------------------------------


def lift_suppression(
    identifier: Identifier,
    *,
    suppression: SuppressionStore,
    erasure: ErasureStore,
    salt: str,
    request_id: str,
    requested_by: str,
    invocation: str = "",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Lift the suppression of a person who signed up again: every entry the erasure of
    ``identifier`` left (their other identifiers and record ids too). Audited; returns how many."""
    subject = subject_hash(salt, identifier)
    lifted = suppression.lift(subject)
    mailbox = mailbox_key(identifier.key)
    if not lifted and mailbox is not None:
        # Erased under another spelling of the address: its mailbox entry leads to that erasure.
        lifted = suppression.lift(keyed_hash(salt, mailbox))
    erasure.put_audit(
        AuditRecord(
            action="unsuppress",
            request_id=request_id,
            at=now(),
            subject_hash=subject,
            outcome="lifted" if lifted else "not_suppressed",
            counts={"lifted": len(lifted)},
            requested_by=requested_by,
            invocation=invocation,
        )
    )
    return len(lifted)


__all__ = [
    "AMBIGUOUS",
    "BACKUP_RETENTION_DAYS",
    "ERASE_ATTEMPTS_BEFORE_ALARM",
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
    "subject_hash",
]
