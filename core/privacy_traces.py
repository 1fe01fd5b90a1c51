"""What an erasure does beyond deleting the person's customer (``core.privacy``): suppress her
identifiers and record ids (core.suppression) and, with probabilistic identity, leave the fingerprints
of her records (core.suppression_fuzzy); take her out of other customers' histories and find the
tombstones of her retired records; plan the link graph around her records again (core.link_relink).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.governance.history_redaction import redact_histories
from core.ingest_settings import IngestSettings
from core.mailbox import mailbox_key
from core.person_scope import PersonScope
from core.ports import RETIRED_OWNER, ProfileStore, ReadsTombstones
from core.privacy_export import scope_records
from core.privacy_request import PrivacyStores
from core.suppression import SuppressionEntry, keyed_hash

if TYPE_CHECKING:
    from core.privacy_tools import ErasureReport


def _relink(profiles: ProfileStore, erased: Sequence[PersonScope], identity: IngestSettings) -> None:
    """Plan the link graph around the erased customers' records again (core.link_relink)."""
    from core.link_relink import relink_after_erasure  # the matcher's imports only where it is used

    gone = {r.key: r for s in erased if s.state is not None for r in s.state.snapshots.values()}
    relink_after_erasure(profiles, [gone[k] for k in sorted(gone)], identity)


def _redact_other_histories(scope: PersonScope, stores: PrivacyStores, report: ErasureReport) -> list[str]:
    """Take the person's records and identifiers out of the histories of other customers: those
    their own history names (a split leaves traces there: core.governance.history_redaction) and
    those the index of names leads to (core.governance.history_names); before their own history is
    deleted with the rest of their customer. Returns the tombstones of records of hers it found
    through the events that named her values (to delete, their ids to suppress)."""
    history = stores.history if stores.history is not None else getattr(stores.profiles, "history", None)
    if history is None:
        return []
    # Her identifiers: every value she held alone and every record id of hers (an event lists the
    # owner link that joined her order as ``source#shop:contact:...``), as her erasure suppresses them.
    identifiers = [k for k in scope.suppression_keys() if not k.startswith("mailbox#")]
    if mailbox_key(scope.request.key) in scope.mailboxes:  # the spelling the request named, too
        identifiers.append(scope.request.key)
    sources = {*scope.sources, *(k.removeprefix("source#") for k in identifiers if k.startswith("source#"))}
    mine = {c for c in (scope.customer_id, *scope.absorbed) if c is not None}
    redacted = redact_histories(
        history,
        stores.erasure,
        mine,
        [*(f"source#{k}" for k in sorted(sources)), *identifiers],
        gone=lambda keys: _retired(stores.profiles, keys),
    )
    if redacted.events:
        report.counts["history_redacted"] += redacted.events
    tombstones = _retired(stores.profiles, sorted(redacted.records))
    return sorted(tombstones)


def _retired(profiles: ProfileStore, keys: Collection[str]) -> set[str]:
    """The ``source#`` keys among ``keys`` that are tombstones of retired records."""
    if not keys or not isinstance(profiles, ReadsTombstones):
        return set()
    found = profiles.get_owners_and_tombstones(list(keys))
    return {k for k, o in found.items() if o.customer_id == RETIRED_OWNER}


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


def _fingerprint(
    stores: PrivacyStores,
    salt: str,
    scopes: Sequence[PersonScope],
    identity: IngestSettings | None,
    request_id: str,
    at: datetime,
) -> list[SuppressionEntry]:
    """With probabilistic identity, the fingerprints of the records of ``scopes`` and their split-off
    customers, left in suppression (core.suppression_fuzzy)."""
    if stores.suppression is None or identity is None or identity.linkage is None:
        return []
    from core.suppression_fuzzy import leave_fingerprints  # the matcher's imports only where used

    records = [r for s in scopes for r in scope_records(s)]
    return leave_fingerprints(stores.suppression, salt, records, identity, request_id, at)


def _kind(key: str) -> Any:
    kind = key.partition("#")[0]
    return "email" if kind == "mailbox" else kind  # a mailbox entry suppresses emails
