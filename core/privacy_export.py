"""The export of one person (``{"action": "export"}``): everything held about them, from the scope an
erasure would delete (core.person_scope) and what lies outside the table (core.privacy_request)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.connector import Payload
from core.governance.history_names import IndexesHistoryNames, names_in_history, store_named_pks
from core.governance.person_record import PersonRecord, person_record
from core.ingest_settings import IngestSettings
from core.person_scope import PersonScope, find_scope, locate
from core.ports import CustomerState, ProfileStore, PushedState
from core.privacy_request import (
    PrivacyStores,
    StoredIds,
    as_stored,
    quarantined_of,
    record_matcher,
    refusal,
)
from core.privacy_store import ErasureStore, ItemKey, QuarantineItem
from core.quarantine_view import as_hers
from core.schema import Identifier, Profile, SourceRecord
from core.suppression import SuppressionEntry, keyed_hash

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
    stored_ids: StoredIds | None = None,
    spellings: Sequence[Identifier] = (),
) -> PersonExport | None:
    """Everything held about the person, or None when nothing is: no customer, no quarantined
    record, no dead letter and no suppression names the identifier.

    ``stores`` (with ``salt``) adds what lies outside the customer: quarantine, dead letters,
    suppression state. Without them (``erasure`` only, or nothing) the export holds the customer.
    ``identity``: the settings ingest resolves with (probabilistic when ``identity.linkage`` is
    set), for the explanation of why the customer's records are one customer. ``stored_ids``: each
    installed connector's ``ConnectorSpec.stored_id`` by tool name, so a record named by the vendor's
    other spelling of its id (a Shopify GID) is found. ``spellings``: other spellings a record may
    hold of the email named (core.privacy_request.stored_spellings): the customers holding them are
    exported as hers (core.person_scope.find_scope).
    """
    stores = stores or (PrivacyStores(profiles, erasure) if erasure is not None else None)
    identifier = as_stored(identifier, profiles, (), stored_ids or {})
    if stores is None:
        state = locate(profiles, identifier)
        if state is None:
            return None
        sources = tuple(sorted(state.snapshots.values(), key=lambda r: r.key))
        return PersonExport(
            state.customer_id, state.profile, sources, identity=_explained(profiles, state, identity)
        )
    scope = find_scope(
        identifier,
        profiles=profiles,
        erasure=stores.erasure,
        sync_state=stores.sync_state,
        spellings=spellings,
    )
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
        theirs = scope.finding_keys()
        # one naming someone else in the same value shows only what is hers (core.quarantine_view)
        quarantined = tuple(
            as_hers(q, theirs, region) for q in quarantined_of(stores, finding, theirs, region)
        )
        if stores.dead_letters is not None:
            wanted = _dead_letter_matcher(scope, salt, identity, region)
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
        sources=tuple(sorted(scope_records(scope), key=lambda r: r.key)),
        identifiers=tuple(scope.owned),
        pushed=pushed,
        quarantined=quarantined,
        dead_letters=dead,
        suppressed=suppressed,
        items=tuple(scope.table_items() + _named_items(history, scope) + [q.key for q in quarantined]),
        governance=governance,
        identity=_explained(profiles, state, identity) if state else None,
    )


def _dead_letter_matcher(
    scope: PersonScope, salt: str, identity: IngestSettings | None, region: str = "US"
) -> Callable[[SourceRecord], bool]:
    """Whether a dead letter is hers as her erasure judges it (core.privacy): by her identifiers and
    record ids, and, with probabilistic identity, by the fingerprints of her records (kept in memory
    here, never stored), so a record only the model links to her is exported as it is erased."""
    exact = record_matcher(scope, region)
    records = scope_records(scope)
    if identity is None or identity.linkage is None or not records:
        return exact
    from core.suppression_fuzzy import fingerprint_entries, fingerprint_matcher

    prints = fingerprint_entries(records, identity.policy, salt, "export", datetime.now(UTC))
    fuzzy = fingerprint_matcher(prints, salt, identity)
    return lambda record: exact(record) or fuzzy(record)


def _named_items(history: object, scope: PersonScope) -> list[ItemKey]:
    """The index items of her customers' histories (core.governance.history_names), which the
    erasure deletes with them."""
    if not isinstance(history, IndexesHistoryNames):
        return []
    # A store keys a name's items its own way (DynamoDB: by keyed hash, and during its upgrade under
    # the previous release's unkeyed hash too: core.storage.dynamodb_history).
    keys: list[ItemKey] = []
    for part in (scope, *scope.splinters):
        for customer in sorted(c for c in {part.customer_id, *part.absorbed} if c is not None):
            names = sorted(names_in_history(history, customer))
            keys += [ItemKey(pk, customer) for n in names for pk in store_named_pks(history, n)]
    return keys


def scope_records(scope: PersonScope) -> list[SourceRecord]:
    """The records of the person's customer and of her split-off customers (what her export lists and
    her erasure fingerprints)."""
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


__all__ = ["PersonExport", "PushedRecord", "export_person", "scope_records"]
