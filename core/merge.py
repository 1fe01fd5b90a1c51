"""Survivorship and computed traits: ``Profile = fold(rules, source records)``.

The profile is a pure function of the *set* of a customer's source records: every choice below
breaks ties on the source record's key, so neither arrival order nor duplicates change a value.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from operator import itemgetter, lt
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from core.identity import counts_toward_limits
from core.schema import (
    ComputedTraits,
    ConsentState,
    ConsentValue,
    Identifier,
    Order,
    OrderSummary,
    Profile,
    SourceRecord,
    SourceRef,
    TraitValue,
)

Strategy = Literal["most_recent", "source_priority", "first_seen"]


@dataclass(frozen=True)
class SurvivorshipRule:
    """How one trait picks its value when sources disagree.

    ``most_recent``: the non-empty value of the most recently updated record. ``source_priority``:
    the first source in ``priority`` that has a value (most recent among equals; sources not listed
    come last). ``first_seen``: the value of the oldest record (e.g. a signup channel).
    """

    strategy: Strategy = "most_recent"
    priority: tuple[str, ...] = ()


@dataclass(frozen=True)
class MergeRules:
    """Survivorship per trait, plus the thresholds of the computed segment."""

    default: SurvivorshipRule = SurvivorshipRule()
    per_trait: Mapping[str, SurvivorshipRule] = field(default_factory=lambda: MappingProxyType({}))
    vip_lifetime_value: Decimal = Decimal("1000")

    def rule_for(self, trait: str) -> SurvivorshipRule:
        return self.per_trait.get(trait, self.default)


DEFAULT_RULES = MergeRules()


#: A record with its key (``source:object_type:source_id``, a property that formats a string), so
#: that the key is worked out once per record and not once per comparison.
_Keyed = tuple[str, SourceRecord]
#: A trait's candidate value: the record's key, the record, the value.
_Candidate = tuple[str, SourceRecord, str]
#: What a winning trait or consent value is made into (a model, or a dict of its fields).
_V = TypeVar("_V")


def _with_keys(records: Iterable[SourceRecord]) -> list[_Keyed]:
    return [(record.key, record) for record in records]


def _pick(candidates: list[_Candidate], rule: SurvivorshipRule) -> _Candidate:
    if rule.strategy == "first_seen":
        return min(candidates, key=lambda c: (c[1].ordered_at, c[0]))
    if rule.strategy == "source_priority":
        rank = {name: i for i, name in enumerate(rule.priority)}
        return min(
            candidates,
            key=lambda c: (rank.get(c[1].source, len(rank)), -c[1].ordered_at.timestamp(), c[0]),
        )
    return max(candidates, key=lambda c: (c[1].ordered_at, c[0]))


def merge_traits(records: Iterable[SourceRecord], rules: MergeRules) -> dict[str, TraitValue]:
    """The winning value of every trait, with the source record and time that gave it."""
    return _merge_traits(_with_keys(records), rules)


def _merge_traits(records: list[_Keyed], rules: MergeRules) -> dict[str, TraitValue]:
    return _winning_traits(records, rules, TraitValue.assemble)


def _winning_traits(records: list[_Keyed], rules: MergeRules, make: Callable[..., _V]) -> dict[str, _V]:
    """``_merge_traits``, each winner made by ``make(value=, source=, updated_at=)``: a TraitValue, or
    (core.ingest_profile, which only serialises them) a plain dict of the same fields in order."""
    if len(records) == 1:
        # Half the profiles of a sync: every value is a lone candidate, so it wins (as below).
        key, record = records[0]
        at, traits = record.updated_at, record.traits
        return {
            name: make(value=traits[name], source=key, updated_at=at)
            for name in sorted(traits)
            if traits[name]
        }
    by_trait: dict[str, list[_Candidate]] = {}
    for key, record in records:
        for name, value in record.traits.items():
            if value:
                by_trait.setdefault(name, []).append((key, record, value))
    out: dict[str, _V] = {}
    for name in sorted(by_trait):
        candidates = by_trait[name]
        # A lone candidate wins under every rule; most traits of most profiles have one.
        key, record, value = (
            candidates[0] if len(candidates) == 1 else _pick(candidates, rules.rule_for(name))
        )
        out[name] = make(value=value, source=key, updated_at=record.updated_at)
    return out


def merge_consent(records: Iterable[SourceRecord]) -> dict[str, ConsentValue]:
    """Per channel, the most recent explicit change wins; on a tie, the opt-out wins."""
    return _merge_consent(_with_keys(records))


def _merge_consent(records: list[_Keyed]) -> dict[str, ConsentValue]:
    return _winning_consent(records, ConsentValue.assemble)


def _winning_consent(records: list[_Keyed], make: Callable[..., _V]) -> dict[str, _V]:
    """``_merge_consent``, each winner made by ``make(granted=, changed_at=, source=)`` (see
    ``_winning_traits``)."""
    best: dict[str, tuple[tuple[datetime, bool, str], ConsentState]] = {}
    for key, record in records:
        read_at = record.read_at  # a decision stamped ahead counts from when it was read, as a record
        for channel, state in record.consent.items():
            at = state.changed_at
            if read_at is not None and at > read_at:
                at = read_at
            # not granted sorts above granted on equal times: when in doubt, do not contact.
            rank = (at, not state.granted, key)
            current = best.get(channel)
            if current is None or rank > current[0]:
                best[channel] = (rank, state)
    out: dict[str, _V] = {}
    for channel in sorted(best):
        (_, _, key), state = best[channel]
        out[channel] = make(granted=state.granted, changed_at=state.changed_at, source=key)
    return out


def compute_traits(records: Iterable[SourceRecord], rules: MergeRules) -> ComputedTraits:
    """Lifetime value and average order value per currency, order count, first/last order, segment.

    Only paid orders count. An order is identified by its source and id, so the same order carried
    by two snapshots of one tool is counted once.
    """
    orders: dict[tuple[str, str], Order] = {}
    summaries: list[tuple[str, OrderSummary]] = []
    for record in records:
        if record.orders:  # most records carry none
            source = record.source
            for order in record.orders:
                orders.setdefault((source, order.id), order)
        if record.order_summary is not None:
            summaries.append((record.key, record.order_summary))
    if summaries:
        return _with_summaries(orders, sorted(summaries, key=itemgetter(0)), rules)
    if not orders:  # most customers: nothing to sort or sum
        return _NO_ORDERS
    # Sorted, so that the sums are added in the same order whatever the records' order.
    ordered: Iterable[Order] = orders.values() if len(orders) == 1 else [orders[k] for k in sorted(orders)]
    ltv: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    first: datetime | None = None
    last: datetime | None = None
    for order in ordered:
        if order.status != "paid":
            continue
        currency, at = order.currency, order.created_at
        if currency in ltv:
            ltv[currency] += order.total
            counts[currency] += 1
        else:
            ltv[currency] = _ZERO + order.total  # what sum() from Decimal(0) gives (e.g. -0 -> 0)
            counts[currency] = 1
        if first is None or at < first:
            first = at
        if last is None or at > last:
            last = at
    if first is None:
        return _NO_ORDERS
    return _computed(ltv, counts, first, last, rules)


def _computed(
    ltv: dict[str, Decimal],
    counts: dict[str, int],
    first: datetime | None,
    last: datetime | None,
    rules: MergeRules,
) -> ComputedTraits:
    """The computed traits of paid totals and counts per currency (every count above zero)."""
    paid_count = sum(counts.values())
    aov = {
        cur: (total / counts[cur]).quantize(_quantum(total), rounding=ROUND_HALF_EVEN)
        for cur, total in ltv.items()
    }
    if any(total >= rules.vip_lifetime_value for total in ltv.values()):
        segment = "vip"
    elif paid_count >= 2:
        segment = "repeat"
    else:
        segment = "customer"
    return ComputedTraits.assemble(
        lifetime_value=ltv if len(ltv) == 1 else dict(sorted(ltv.items())),
        order_count=paid_count,
        first_order_at=first,
        last_order_at=last,
        average_order_value=aov if len(aov) == 1 else dict(sorted(aov.items())),
        segment=segment,
    )


def _with_summaries(
    orders: Mapping[tuple[str, str], Order], summaries: list[tuple[str, OrderSummary]], rules: MergeRules
) -> ComputedTraits:
    """``compute_traits`` for customers with a record too large to hold its orders inline: the orders
    each such record summed up (``OrderSummary``) are added to the ones listed. Rare, so kept apart
    from the hot path above, which it equals when there is no summary."""
    ltv: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    moments: list[datetime] = []
    for key in sorted(orders):
        order = orders[key]
        if order.status == "paid":
            ltv[order.currency] = ltv.get(order.currency, _ZERO) + order.total
            counts[order.currency] = counts.get(order.currency, 0) + 1
            moments.append(order.created_at)
    for _, summary in summaries:
        for currency, total in sorted(summary.totals.items()):
            paid = summary.paid.get(currency, 0)
            if paid:
                ltv[currency] = ltv.get(currency, _ZERO) + total
                counts[currency] = counts.get(currency, 0) + paid
        moments.extend(at for at in (summary.first_paid_at, summary.last_paid_at) if at is not None)
    if not counts:
        return _NO_ORDERS
    return _computed(ltv, counts, min(moments), max(moments), rules)


_ZERO = Decimal(0)


def _quantum(total: Decimal) -> Decimal:
    """The quantum of an average: the total's own precision, at most whole units."""
    found = total.as_tuple().exponent
    exponent = min(found, 0) if isinstance(found, int) else 0
    quantum = _QUANTA.get(exponent)
    if quantum is None:
        quantum = _QUANTA[exponent] = Decimal(1).scaleb(exponent)
    return quantum


_QUANTA: dict[int, Decimal] = {}


_NO_ORDERS = ComputedTraits()


def build_profile(
    customer_id: str,
    records: Iterable[SourceRecord],
    rules: MergeRules = DEFAULT_RULES,
    version: int = 0,
) -> Profile:
    """Fold a customer's source records into its profile.

    Every input is an already validated model, so the output is put together with ``assemble``
    (no second validation): this function runs once per changed customer on the hot path.
    """
    snapshots = sorted(_with_keys(records), key=itemgetter(0))  # stable, as sorting by r.key was
    return Profile.assemble(
        customer_id=customer_id,
        identifiers=_identifiers(snapshots),
        traits=_merge_traits(snapshots, rules),
        computed=compute_traits([r for _, r in snapshots], rules),
        consent=_merge_consent(snapshots),
        sources=tuple(
            SourceRef.assemble(
                source=r.source, object_type=r.object_type, id=r.source_id, updated_at=r.updated_at
            )
            for _, r in snapshots
        ),
        version=version,
    )


def _identifiers(snapshots: list[_Keyed]) -> tuple[Identifier, ...]:
    """Every identifier of the records, once each, sorted by key."""
    if len(snapshots) == 1:
        # Half the profiles: a normalised record's identifiers are already unique and sorted.
        own = snapshots[0][1].identifiers
        keys = [ident.key for ident in own]
        if all(map(lt, keys, keys[1:])):
            return own
    identifiers: dict[str, Identifier] = {}
    for _, r in snapshots:
        for ident in r.identifiers:
            identifiers.setdefault(ident.key, ident)
    return tuple(identifiers[k] for k in sorted(identifiers))


def record_hash(record: SourceRecord) -> str:
    """Content hash of a normalised record, without its times (``updated_at``, ``read_at``, and
    ``undated``, which says what ``updated_at`` is): equal hashes
    mean the record says the same thing. A record that comes back with the same content and only a
    newer timestamp (the echo of a push: the vendor bumps its modification time) changes no profile. A consent
    decision whose time is the record's own ``updated_at`` (the default when the tool gives none)
    is hashed without that time, for the same reason.

    Worked out once per record and kept with it (``RECORD_HASH_MEMO``): ingest asks for it when it
    checks the record against the store and again when it moves a snapshot, and a record normalised
    in a worker process (``profilesync.parallel_normalise``) arrives with it already worked out."""
    memo: str | None = record.__dict__.get(RECORD_HASH_MEMO)
    if memo is not None:
        return memo
    at = record.updated_at
    defaulted = [channel for channel, state in record.consent.items() if state.changed_at == at]
    # The fields added for child objects are hashed only when they say something, so a person's record
    # hashes as it did before they existed, and a stored snapshot is not taken for changed.
    plain = record.level == "person" and record.owner is None and record.order_summary is None
    exclude: Any = _RECORD_HASH_EXCLUDE if plain else _RECORD_HASH_EXCLUDE_TIME
    if defaulted:
        exclude = dict.fromkeys(exclude, True)
        exclude["consent"] = {channel: {"changed_at"} for channel in defaulted}
    # The bytes of ``record.model_dump_json(exclude=...)``, without decoding them to ``str`` first.
    body = record.__pydantic_serializer__.to_json(record, exclude=exclude)
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    kept = record.__dict__
    kept[RECORD_HASH_MEMO] = digest
    kept[HASHED_BYTES_MEMO] = len(body)
    return digest


#: Where ``record_hash`` keeps a record's hash: an entry of the model's ``__dict__`` that is not a
#: field, like the memoised ``key`` (core.schema), so pydantic leaves it out of dumps and ``==``.
#: It travels with the record when the record is pickled; ``model_copy`` drops it.
RECORD_HASH_MEMO = "_record_hash"
#: Beside it (and beside a profile's ``profile_hash``): how many bytes were hashed, which the
#: in-memory store weighs the item by (core.storage.memory_sizes) without serialising it again.
HASHED_BYTES_MEMO = "_hashed_bytes"

# Read only (pydantic takes a set): what a person's record leaves out, and what any record does.
_RECORD_HASH_EXCLUDE: set[str] = {"updated_at", "read_at", "undated", "level", "owner", "order_summary"}
_RECORD_HASH_EXCLUDE_TIME: set[str] = {"updated_at", "read_at", "undated"}


def profile_hash(profile: Profile) -> str:
    """Content hash of a profile, ignoring its version and customer id.

    The bytes hashed are ``profile.model_dump_json(exclude={"version", "customer_id"}).encode()``:
    that method is this serializer call with the same (default) options, decoded to ``str``. They
    are kept for a while (``_RECENT_BODIES``), so that ``profile_json`` of the same profile, which
    the store writes next, need not serialise it a second time.
    """
    body = profile.__pydantic_serializer__.to_json(profile, exclude=_PROFILE_HASH_EXCLUDE)
    profile.__dict__[HASHED_BYTES_MEMO] = len(body)
    recent = _RECENT_BODIES
    with _RECENT_LOCK:
        recent[id(profile)] = (profile, body)
        if len(recent) > _RECENT_BODIES_KEPT:
            del recent[next(iter(recent))]  # the oldest: dicts keep insertion order
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def profile_json(profile: Profile) -> str:
    """``profile.model_dump_json()``, the profile as the stores keep it.

    A profile is serialised for its hash when it is planned (``profile_hash``, every field but the
    customer id and the version) and again when the store writes it, each about 10 µs. The text
    written is the hashed body with those two fields around it (the first and the last field of
    ``Profile``), so when the body is at hand this puts them around it instead of serialising again.
    Only for a customer id that JSON writes as it is (``cus_`` and base32, as every generated id);
    tests/unit/test_profile_json.py checks the text is ``model_dump_json``'s on arbitrary profiles.
    """
    with _RECENT_LOCK:
        kept = _RECENT_BODIES.pop(id(profile), None)
    customer_id = profile.customer_id
    if kept is None or kept[0] is not profile or not _PLAIN_ID.fullmatch(customer_id):
        return profile.model_dump_json()
    body = kept[1].decode()
    return f'{{"customer_id":"{customer_id}",{body[1:-1]},"version":{int(profile.version)}}}'


_PROFILE_HASH_EXCLUDE: set[str] = {"version", "customer_id"}  # read only (pydantic takes a set)
#: Bodies serialised by ``profile_hash``, by ``id()`` of their profile, which each entry keeps
#: alive (so the id cannot be reused while it is here): the profiles of one plan, whose changesets
#: the store writes next. Bounded: an older body is dropped, and its profile serialised again.
_RECENT_BODIES: dict[int, tuple[Profile, bytes]] = {}
_RECENT_BODIES_KEPT = 512
_RECENT_LOCK = threading.Lock()
#: Customer ids whose JSON string is the id itself between quotes (no escapes).
_PLAIN_ID = re.compile(r"[A-Za-z0-9_\-]+")


def newest(a: SourceRecord, b: SourceRecord) -> SourceRecord:
    """Of two snapshots of the same source record, the one that wins: latest, then larger hash.

    The hash tie-break makes the outcome independent of arrival order when two different versions
    carry the same timestamp.
    """
    a_at, b_at = a.ordered_at, b.ordered_at  # a version stamped ahead counts from when it was read
    if a_at != b_at:
        return a if a_at > b_at else b
    return a if record_hash(a) >= record_hash(b) else b


def identifier_holders(records: Iterable[SourceRecord]) -> dict[str, frozenset[str]]:
    """For each identifier key, the source keys of the people-level records carrying it (child
    objects such as orders never count as holders; see ``core.identity.counts_toward_limits``)."""
    holders: dict[str, set[str]] = {}
    for record in records:
        if not counts_toward_limits(record):
            continue
        for ident in record.identifiers:
            holders.setdefault(ident.key, set()).add(record.key)
    return {k: frozenset(v) for k, v in holders.items()}


__all__ = [
    "DEFAULT_RULES",
    "HASHED_BYTES_MEMO",
    "RECORD_HASH_MEMO",
    "Identifier",
    "MergeRules",
    "SurvivorshipRule",
    "build_profile",
    "compute_traits",
    "identifier_holders",
    "merge_consent",
    "merge_traits",
    "newest",
    "profile_hash",
    "profile_json",
    "record_hash",
]
