"""Survivorship: ``Profile = fold(rules, source records)``.

The profile is a pure function of the *set* of a customer's source records: every choice below
breaks ties on the source record's key, so neither arrival order nor duplicates change a value.
Its computed traits are summed in core.computed_traits, and content hashes (``record_hash``,
``profile_hash``, ``profile_json``) live in core.content_hash; this module re-exports both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import itemgetter, lt
from types import MappingProxyType
from typing import Literal, TypeVar

from core.computed_traits import compute_traits
from core.content_hash import HASHED_BYTES_MEMO, RECORD_HASH_MEMO, profile_hash, profile_json, record_hash
from core.identity_holders import limit_holder
from core.schema import (
    ConsentState,
    ConsentValue,
    Identifier,
    Profile,
    SourceRecord,
    SourceRef,
    TraitValue,
)
from core.time_bound import ordered_by_read

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

    def __post_init__(self) -> None:
        # A tuple of its own (a list given stays the caller's to change): rules do not change once
        # made, which core.grow_mark's fingerprint, cached per rules object, relies on.
        object.__setattr__(self, "priority", tuple(self.priority))


#: The lifetime value that makes a customer ``vip``, per ISO 4217 currency, in major units: about
#: 1,000 US dollars each, rounded (USD, EUR and GBP keep the 1,000 of before). Amounts of two
#: currencies are never compared, so each currency has its own; a currency not listed makes nobody
#: ``vip`` (set it in profilesync.yaml's ``segments`` section, docs/configuration.md).
VIP_LIFETIME_VALUE: Mapping[str, Decimal] = MappingProxyType(
    {
        code: Decimal(amount)
        for code, amount in {
            "AUD": "1500",
            "BRL": "5000",
            "CAD": "1500",
            "CHF": "1000",
            "CNY": "7000",
            "CZK": "25000",
            "DKK": "7000",
            "EUR": "1000",
            "GBP": "1000",
            "HKD": "8000",
            "HUF": "400000",
            "IDR": "16000000",
            "INR": "80000",
            "JPY": "150000",
            "KRW": "1500000",
            "MXN": "20000",
            "NOK": "10000",
            "NZD": "1500",
            "PLN": "4000",
            "SEK": "10000",
            "SGD": "1500",
            "USD": "1000",
            "ZAR": "20000",
        }.items()
    }
)
#: The key of a threshold for every currency without its own (``{"*": 1000}``: the one threshold
#: of before, which compares amounts of any currency with one number: a shop selling in one).
ANY_CURRENCY = "*"


@dataclass(frozen=True)
class MergeRules:
    """Survivorship per trait, plus the thresholds of the computed segment.

    ``vip_lifetime_value``: per currency, the lifetime value from which a customer is ``vip``
    (default ``VIP_LIFETIME_VALUE``); one number given is the threshold of every currency
    (``{"*": n}``), as it was before thresholds were per currency."""

    default: SurvivorshipRule = SurvivorshipRule()
    per_trait: Mapping[str, SurvivorshipRule] = field(default_factory=lambda: MappingProxyType({}))
    vip_lifetime_value: Mapping[str, Decimal] | Decimal = field(default_factory=lambda: VIP_LIFETIME_VALUE)

    def __post_init__(self) -> None:
        # A mapping of its own, read-only (a dict or a proxy over one given stays the caller's to
        # change): core.grow_mark caches the fingerprint of the rules per object.
        object.__setattr__(self, "per_trait", MappingProxyType(dict(self.per_trait)))
        vip = self.vip_lifetime_value
        given = {ANY_CURRENCY: vip} if isinstance(vip, Decimal | int | str) else dict(vip)
        object.__setattr__(
            self, "vip_lifetime_value", MappingProxyType({c: Decimal(given[c]) for c in sorted(given)})
        )

    def rule_for(self, trait: str) -> SurvivorshipRule:
        return self.per_trait.get(trait, self.default)

    def vip_threshold(self, currency: str) -> Decimal | None:
        """The lifetime value in ``currency`` from which a customer is ``vip``; None: never."""
        thresholds: Mapping[str, Decimal] = self.vip_lifetime_value  # type: ignore[assignment]  # made one
        return thresholds.get(currency, thresholds.get(ANY_CURRENCY))


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
        # a decision stamped ahead counts from just before the second it was read in, as a record
        # (SourceRecord.ordered_at)
        read_at = record.read_at
        for channel, state in record.consent.items():
            at = state.changed_at
            if read_at is not None and at > read_at:
                at = ordered_by_read(at, read_at)
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


def newest(a: SourceRecord, b: SourceRecord) -> SourceRecord:
    """Of two snapshots of the same source record, the one that wins: latest, then the later
    stamp, then larger hash (``core.content_run.key``).

    A version stamped ahead counts from when it was read (``SourceRecord.ordered_at``): two of one
    read share that time, and the later stamp is the newer. The hash tie-break makes the outcome
    independent of arrival order when two different versions carry the same timestamp.
    """
    a_at, b_at = a.ordered_at, b.ordered_at
    if a_at != b_at:
        return a if a_at > b_at else b
    if a.updated_at != b.updated_at:
        return a if a.updated_at > b.updated_at else b
    return a if record_hash(a) >= record_hash(b) else b


def identifier_holders(records: Iterable[SourceRecord]) -> dict[str, frozenset[str]]:
    """For each identifier key, the holders among the records carrying it, as
    ``core.identity.limit_holder`` names them (the person a record names in full, else a people-level
    record's source key or a guest child's phone; children with an owner count only as their own
    person, a converted lead holding her address)."""
    holders: dict[str, set[str]] = {}
    for record in records:
        holder = limit_holder(record)
        if holder is None:
            continue
        for ident in record.identifiers:
            holders.setdefault(ident.key, set()).add(holder)
    return {k: frozenset(v) for k, v in holders.items()}


__all__ = [
    "ANY_CURRENCY",
    "DEFAULT_RULES",
    "HASHED_BYTES_MEMO",
    "RECORD_HASH_MEMO",
    "VIP_LIFETIME_VALUE",
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
