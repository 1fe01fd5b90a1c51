"""Her records under another person's customer, found by the values normalisation refused in them.

The household case (attack12): her record joins a household member's customer by their shared phone
while her address, written whole in a value that is no address (``Zéphyrine Quillfeather <address>``),
is refused into the record's ``dropped`` values. Her erasure by that address finds no customer that
holds it, and the record stayed, her name and address in it. Such a record is found here by the keys
its refused values hold (core.quarantine.refused_values, as a quarantined record's ``subjects`` and
``SuppressionCheck.split`` read them), and judged by ``split``'s rule (core.suppression._scrubbed):

* hers (of a kind her value is in, it holds nothing else of its own): retired from that customer as a
  record deleted at its vendor is (core.retirement: the profile recomputed without it, the customer
  split if the records left no longer join); the erasure then deletes its tombstone, suppresses its
  record id and redacts it from that customer's history (core.privacy);
* the kept person's, naming her in a second value: written again without the refused values that
  name her (the profile is rebuilt with it, guarded by the customer's version; counted
  ``refused_scrubbed``), never deleted. A customer frozen by a large merge in flight is not written:
  the erasure answers ``retry`` (ConflictError) and the request sent again finds the record.

Finding them reads only the customers holding a record with refused values, which each store names
in one pass over its records without reading a customer (``customers_with_refused_values``: a SQL
``instr`` on SQLite, a Scan projecting the partition key on DynamoDB); a store without it is read
customer by customer. A store whose index of refused values is complete names them by key reads
instead (core.privacy_refused_index; docs/privacy.md, "The household case").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from core.errors import ConflictError
from core.governance.history_redaction import redact_histories
from core.ingest_settings import IngestSettings
from core.mailbox import mailbox_key
from core.person_scope import PersonScope
from core.ports import Changeset, CustomerState, Operation, ProfileStore, PutProfile, PutSource
from core.privacy_refused_index import REGION, customers_naming, forget_records
from core.privacy_request import PrivacyStores
from core.privacy_traces import _retired
from core.quarantine import refused_values
from core.retirement import retire_records
from core.schema import SourceDeletion, SourceRecord
from core.storage.refused_index import refused_index
from core.suppression import keyed_hash

#: Customers read at once while looking for records by their refused values.
_PAGE = 100


@dataclass
class RefusedHolders:
    """The records of other customers whose refused values name the person."""

    hers: dict[str, list[SourceRecord]] = field(default_factory=dict)
    """Records that are hers (``split``'s rule), by the customer holding them."""
    scrubbed: dict[str, list[str]] = field(default_factory=dict)
    """Records of another person naming her in a second refused value, by customer: kept without it."""

    def deletions(self, at: datetime) -> list[SourceDeletion]:
        """Her records as deletions dated ``at`` (or their own time, if later: never stale)."""
        return [
            SourceDeletion(
                source=r.source,
                object_type=r.object_type,
                source_id=r.source_id,
                deleted_at=max(at, r.updated_at),
            )
            for records in self.hers.values()
            for r in records
        ]


def _candidates(
    profiles: ProfileStore, skip: Collection[str], indexed: Iterable[str] | None
) -> Iterator[str]:
    """The customers to read: those the index of refused values names (``indexed``, when the store
    keeps a complete one: core.privacy_refused_index), else those holding a record with refused values
    where the store can name them (``customers_with_refused_values``: the three stores of this
    project, one pass over their records without reading a customer), else every live customer."""
    named = getattr(profiles, "customers_with_refused_values", None)
    if indexed is not None:
        ids: Iterable[str] = indexed
    else:
        ids = named() if named is not None else (p.customer_id for p in profiles.iter_profiles())
    return (cid for cid in ids if cid not in skip)


def _customers(
    profiles: ProfileStore, skip: Collection[str], indexed: Iterable[str] | None = None
) -> Iterator[CustomerState]:
    """The live customers among the candidates, read a page at a time."""
    page: list[str] = []
    for customer_id in _candidates(profiles, skip, indexed):
        page.append(customer_id)
        if len(page) == _PAGE:
            yield from _live(profiles.get_customers(page).values())
            page = []
    if page:
        yield from _live(profiles.get_customers(page).values())


def _live(states: Iterable[CustomerState]) -> Iterator[CustomerState]:
    """As ``iter_profiles`` names customers: one with a profile, not merged into another."""
    return (s for s in states if s.merged_into is None and s.profile is not None)


def _naming(keys: list[str], hers: Collection[str], mailboxes: Collection[str]) -> bool:
    return any(k in hers or mailbox_key(k) in mailboxes for k in keys)


def judge(
    record: SourceRecord, hers: Collection[str], mailboxes: Collection[str], region: str
) -> SourceRecord | bool | None:
    """Whether ``record`` names her in a refused value: False if not; None if it is hers
    (``split``'s rule); else the record without the refused values that name her."""
    from core.suppression import _scrubbed

    country = record.traits.get("country")
    refused = [refused_values(d.field, d.value, region, country) for d in record.dropped]
    hit = {k for ks in refused for k in ks if _naming([k], hers, mailboxes)}
    if not hit:
        return False
    return _scrubbed(record, refused, hit)


def refused_holders(
    profiles: ProfileStore,
    hers: Collection[str],
    mailboxes: Collection[str],
    region: str,
    skip: Collection[str] = (),
    hash_: Callable[[str], str] | None = None,
) -> RefusedHolders:
    """The records of customers other than ``skip`` whose refused values hold one of her identifier
    keys ``hers`` (``email#``/``phone#``) or a spelling of one of her ``mailboxes``. With ``hash_``
    (the keyed hash of the audit salt) the store's index of refused values names the customers to
    read when it is complete (core.privacy_refused_index), unless ``hers`` holds a phone and ``region``
    is not the index's (its entries read refused phones in ``REGION``); else every record is read once."""
    found = RefusedHolders()
    keys = {k for k in hers if k.startswith(("email#", "phone#"))}
    if not keys and not mailboxes:
        return found
    indexed = None
    if hash_ is not None and (region == REGION or not any(k.startswith("phone#") for k in keys)):
        hashes = {hash_(k) for k in (*keys, *mailboxes)}
        indexed = customers_naming(profiles, refused_index(profiles), hashes)
    for state in _customers(profiles, skip, indexed):
        for record in state.snapshots.values():
            if not record.dropped:
                continue
            verdict = judge(record, keys, mailboxes, region)
            if verdict is None:
                found.hers.setdefault(state.customer_id, []).append(record)
            elif verdict is not False:
                found.scrubbed.setdefault(state.customer_id, []).append(record.key)
    return found


def take_out_refused(
    scopes: Collection[PersonScope],
    stores: PrivacyStores,
    counts: Counter[str],
    settings: IngestSettings | None,
    region: str,
    at: datetime,
    salt: str = "",
) -> list[str]:
    """Retire her records found under other customers by their refused values (module docstring),
    after her suppression is written (so a copy pulled meanwhile is dropped) and redact them from
    those customers' histories. Returns their ``source#`` keys: the erasure deletes their tombstones
    and suppresses them."""
    hers = {k for s in scopes for k in s.suppression_keys()}
    mailboxes = {m for s in scopes for m in s.mailboxes}
    mailboxes |= {m for k in hers if (m := mailbox_key(k)) is not None}
    mine = {c for s in scopes for c in (s.customer_id, *s.absorbed) if c is not None}
    hash_ = partial(keyed_hash, salt) if salt else None
    found = refused_holders(stores.profiles, hers, mailboxes, region, skip=mine, hash_=hash_)
    if hash_ is not None:  # the index's entries naming her records (hers or retired now) go
        theirs = [r for s in scopes for p in (s, *s.splinters) if p.state for r in p.state.snapshots.values()]
        forget_records(refused_index(stores.profiles), theirs, REGION, hash_)
    for customer, keys in sorted(found.scrubbed.items()):
        if scrubbed := _scrub(stores.profiles, customer, keys, hers, mailboxes, region, settings):
            counts["refused_scrubbed"] += scrubbed
    deletions = found.deletions(at)
    if not deletions:
        _forget_under(stores.profiles, hash_, {*hers, *mailboxes})
        return []
    done = retire_records(deletions, stores.profiles, stores.erasure, settings)
    if hash_ is not None:
        forget_records(
            refused_index(stores.profiles), (r for rs in found.hers.values() for r in rs), REGION, hash_
        )
        _forget_under(stores.profiles, hash_, {*hers, *mailboxes})
    if done.retired:
        counts["refused_retired"] += done.retired
    names = [f"source#{d.key}" for d in deletions]
    history = stores.history if stores.history is not None else getattr(stores.profiles, "history", None)
    if history is not None:
        gone = partial(_retired, stores.profiles)
        redacted = redact_histories(history, stores.erasure, mine, names, gone=gone)
        if redacted.events:
            counts["history_redacted"] += redacted.events
    return names


def _forget_under(profiles: ProfileStore, hash_: Callable[[str], str] | None, keys: Iterable[str]) -> None:
    """Delete every index entry under the hashes of her ``keys``, once her records are retired and the
    others' written without her: what is left under them is stale (a record since changed, one whose
    commit failed), and keyed by her."""
    index = refused_index(profiles) if hash_ is not None else None
    if index is None or hash_ is None:
        return
    listed = index.records(sorted({hash_(k) for k in keys if k.startswith(("email#", "phone#", "mailbox#"))}))
    index.forget((h, r) for h, records in listed.items() for r in records)


def _scrub(
    profiles: ProfileStore,
    customer: str,
    keys: list[str],
    hers: Collection[str],
    mailboxes: Collection[str],
    region: str,
    settings: IngestSettings | None,
    attempts: int = 8,
) -> int:
    """Write the records ``keys`` of ``customer`` again without the refused values naming her, the
    profile rebuilt from them (a profile holds no refused value, but the write is conditional on the
    customer's version, so a record changed meanwhile is read and judged again). How many were."""
    from core.content_hash import record_hash
    from core.merge import build_profile, profile_hash  # lazily, as core.retirement_steps

    rules = (settings or IngestSettings()).rules
    for _ in range(attempts):
        state = profiles.get_customers([customer]).get(customer)
        if state is None or state.profile is None or state.merged_into:
            return 0  # gone, or merged away: the request sent again finds the record where it went
        if state.merging_into or state.absorbing:
            break  # a large merge in flight: the erasure answers retry; sent again, it is done
        records = dict(state.snapshots)
        ops: list[Operation] = []
        for key in keys:
            record = records.get(key)
            verdict = judge(record, hers, mailboxes, region) if record is not None else False
            if isinstance(verdict, SourceRecord):
                records[key] = verdict
                ops.append(PutSource(customer, verdict, record_hash(verdict)))
        if not ops:
            return 0
        profile = build_profile(customer, list(records.values()), rules, state.version + 1)
        ops.append(
            PutProfile(customer, profile, profile_hash(profile), state.owned, state.version, state.absorbing)
        )
        if not profiles.commit([Changeset(f"scrub:{customer}", tuple(ops))]):
            return len(ops) - 1
    raise ConflictError(
        "a record naming the erased person in a refused value could not be written without it: its "
        "customer kept changing; send the erasure again"
    )


__all__ = ["RefusedHolders", "judge", "refused_holders", "take_out_refused"]
