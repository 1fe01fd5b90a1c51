"""Fuzzy suppression: a record that only a fuzzy link made an erased person's stays erased.

Suppression (core.suppression) holds an erased person's identifiers and record ids. With
probabilistic identity a record of hers may share none of them: her shop account under a private
address, joined to her CRM record by her name, birth date and address alone. Stored before her
erasure, it was erased with her; still in the ingest queue, in the dead-letter queue or not pulled
yet, it would come back as a new customer holding her name, birth date and address.

So an erasure with probabilistic identity leaves, beside the identifier entries, a **fingerprint**
of each of her stored records: ``fuzzy`` suppression entries, one per look-up key the record has,

* ``fuzzy#nd:<first name>:<last name>:<birth date>`` and
* ``fuzzy#na:<first name>:<last name>:<house number>:<street>``

(the fields as the matcher prepares them, core.linkage.fields: folded, ``HANA`` = ``Hana``, ``8 Mill
Ln`` = ``8 Mill Lane``), each stored as its keyed hash (HMAC-SHA256 with the suppression salt, as
every entry), never the value. The entry holds the keyed hashes of the record's compared fields,
its street and its birth year (its ``fingerprint``: each field's hash keyed with the entry's hash
too, so that two entries cannot be told to share a birth date), and whether she had an email and a
phone (hers are suppressed as identifiers).

Merge (``SuppressionCheck.split`` with the deployment's model) looks each incoming person record up
by its own look-up keys, in the same store read as its identifiers. On a hit it weighs the record
against each fingerprint with the model, knowing for each field whether the two values are equal
(the hashes match) or absent on either side, and for a birth date its level (the record's own dates
a day apart, day and month swapped or one digit off are hashed and compared, then the year); any
other field that differs counts at the level of it the model weighs least (another street rather
than a typo of hers), and a possible conflict of a veto field (another first name) as a conflict.
The record is dropped as suppressed when even that lower bound of the pair's score links, at or
above the model's ``link`` threshold: a record the model would have linked to her stored record,
never a namesake with another birth date (a veto: the matcher sends such a pair to review at most).

Limits: a record of hers whose name is spelt otherwise (a nickname, a typo, the names swapped), or
that holds neither her birth date nor her house and street, shares no look-up key with her
fingerprints and is stored; one that shares a key but differs from her where the model would read a
typo (a street or a postcode one letter off) is weighed as differing there, and stored unless the
rest links it. An entry holds the fingerprints of 600 to 900 records at most (DynamoDB's 400 KB
item): beyond, a record of hers under that key alone (no house and street) may be stored.

Two erased people with one look-up key (namesakes born the same day): the entry holds the
fingerprints of both, each tagged with her erasure (core.suppression_prints); a record is weighed
against each, and lifting one erasure removes its own fingerprints only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from core.identity import IdentityPolicy
from core.ingest_settings import IngestSettings
from core.link_nodes import graph_node
from core.linkage import LinkageModel, LinkageRecord, probability_from_weight
from core.linkage.comparisons import NULL
from core.linkage.conflicts import CONFLICT_LEVELS
from core.linkage.fields import _real_date
from core.linkage.scoring import _tf_weight
from core.schema import SourceRecord
from core.suppression import SuppressionEntry, SuppressionStore, keyed_hash
from core.suppression_prints import all_prints, fit

__all__ = ["FuzzyLookups", "fingerprint_entries", "fingerprint_matcher", "leave_fingerprints", "lookup_keys"]

#: Per compared field, its value as compared for equality (None: absent or no exact value).
_VALUES: Mapping[str, Callable[[LinkageRecord], str | None]] = {
    "first_name": lambda r: r.first_name,
    "last_name": lambda r: r.last_name,
    "date_of_birth": lambda r: r.date_of_birth,
    "address": lambda r: f"{r.house_number}:{r.street_key}" if r.house_number and r.street_key else None,
    "street": lambda r: r.street_key,
    "birth_year": lambda r: r.birth_year,
    "address_line2": lambda r: r.line2_key,
    "postal_code": lambda r: r.postal_code,
    "city": lambda r: r.city,
    "region": lambda r: r.region,
    "national_id": lambda r: r.national_id,
}
#: Fields whose presence matters without a value: an email or a phone (hers are suppressed as
#: identifiers, and a record holding one is dropped without a fingerprint).
_PRESENT: Mapping[str, Callable[[LinkageRecord], bool]] = {
    "email": lambda r: bool(r.email_keys),
    "phone": lambda r: bool(r.phones),
}


def lookup_keys(record: LinkageRecord) -> tuple[str, ...]:
    """The keys a fingerprint of ``record`` is filed under, and a record looked up by (see the
    module docstring): folded names with the birth date, and with the house number and street."""
    if not record.first_name or not record.last_name:
        return ()
    names = f"{record.first_name}:{record.last_name}"
    keys: list[str] = []
    if record.date_of_birth:
        keys.append(f"fuzzy#nd:{names}:{record.date_of_birth}")
    if record.house_number and record.street_key:
        keys.append(f"fuzzy#na:{names}:{record.house_number}:{record.street_key}")
    return tuple(keys)


def _field_hash(hash_: Callable[[str], str], entry: str, field: str, value: str) -> str:
    # Keyed with the entry's hash too: the same birth date hashes differently in every entry.
    return hash_(f"{entry}|{field}={value}")[:32]


def _fingerprint(hash_: Callable[[str], str], entry: str, record: LinkageRecord) -> dict[str, str]:
    found = {f: "" for f, present in _PRESENT.items() if present(record)}
    for field, value_of in _VALUES.items():
        value = value_of(record)
        if value is not None:
            found[field] = _field_hash(hash_, entry, field, value)
    return found


def fingerprint_entries(
    records: Iterable[SourceRecord], policy: IdentityPolicy, salt: str, erasure: str, at: datetime
) -> list[SuppressionEntry]:
    """The ``fuzzy`` entries an erasure of ``records`` leaves (their person records, prepared as
    the link graph prepares them): one per look-up key, holding the fingerprint of every record
    filed under it."""
    prints: dict[str, list[dict[str, str]]] = {}

    def hash_(key: str) -> str:
        return keyed_hash(salt, key)

    for record in records:
        node = graph_node(record, policy)
        if not node.person:
            continue
        for key in lookup_keys(node.record):
            entry = hash_(key)
            fingerprint = _fingerprint(hash_, entry, node.record)
            held = prints.setdefault(entry, [])
            if fingerprint not in held:
                held.append(fingerprint)
    return [
        SuppressionEntry(entry, "fuzzy", erasure, at, _fitting(held))
        for entry, held in sorted(prints.items())
    ]


def _fitting(held: list[dict[str, str]]) -> str:
    """The fingerprints of one entry as stored: those that fit ``MAX_PRINTS_CHARS``, in order."""
    return json.dumps(fit(sorted(held, key=sorted)), sort_keys=True)


def leave_fingerprints(
    store: SuppressionStore,
    salt: str,
    records: Iterable[SourceRecord],
    identity: IngestSettings,
    erasure: str,
    at: datetime,
) -> list[SuppressionEntry]:
    """Suppress the fingerprints of ``records`` (``fingerprint_entries``) when ``identity`` links by
    a model, and return them. An entry an earlier erasure left under the same look-up key (a
    namesake's) keeps hers and takes these beside, as this erasure's (core.suppression_prints):
    lifting either erasure lifts its own fingerprints only."""
    if identity.linkage is None or identity.linkage.model is None:
        return []  # no fuzzy link makes a record anybody's
    entries = fingerprint_entries(records, identity.policy, salt, erasure, at)
    if entries:
        store.suppress(entries)
    return entries


def fingerprint_matcher(
    entries: Sequence[SuppressionEntry], salt: str, identity: IngestSettings
) -> Callable[[SourceRecord], bool]:
    """Whether a record is one the fingerprints ``entries`` drop at merge (with ``identity``'s
    model): for the records of hers an erasure takes out of the dead-letter queue."""
    held = {e.hash: e for e in entries}
    model = identity.linkage.model if identity.linkage is not None else None
    # Each entry's fingerprints, read once for every record asked about (an entry of 1,000 records'
    # fingerprints was parsed and checked again for each of them: 1,000 records took seconds).
    read: dict[str, list[dict[str, str]]] = {}

    def matches(record: SourceRecord) -> bool:
        if model is None:
            return False
        lookups = FuzzyLookups([record], model, identity.policy, lambda key: keyed_hash(salt, key))
        return bool(lookups.linked(held.get, set(lookups.hashes) & set(held), read))

    return matches


class FuzzyLookups:
    """The look-up hashes of a batch's person records, and which of them link to a fingerprint."""

    def __init__(
        self,
        records: Sequence[SourceRecord],
        model: LinkageModel,
        policy: IdentityPolicy,
        hash_: Callable[[str], str],
    ) -> None:
        prepared = []
        for record in records:
            node = graph_node(record, policy)
            if node.person:
                prepared.append((record.key, node.record))
        self._fill(prepared, model, hash_)

    @classmethod
    def of_prepared(
        cls, prepared: Iterable[tuple[str, LinkageRecord]], model: LinkageModel, hash_: Callable[[str], str]
    ) -> FuzzyLookups:
        """The look-ups of records already prepared for matching (key, person record), as
        ``profilesync identity link`` reads them: every one of them is a person's."""
        lookups = cls.__new__(cls)
        lookups._fill(prepared, model, hash_)
        return lookups

    def _fill(
        self, prepared: Iterable[tuple[str, LinkageRecord]], model: LinkageModel, hash_: Callable[[str], str]
    ) -> None:
        self._model = model
        self._hash = hash_
        self._of: dict[str, tuple[LinkageRecord, tuple[str, ...]]] = {}
        for key, record in prepared:
            keys = lookup_keys(record)
            if keys:
                self._of[key] = (record, tuple(hash_(k) for k in keys))
        self.hashes = sorted({h for _, hashes in self._of.values() for h in hashes})

    def linked(
        self,
        entry: Callable[[str], SuppressionEntry | None],
        hit: set[str],
        prints: dict[str, list[dict[str, str]]] | None = None,
    ) -> set[str]:
        """The keys of the records the model would have linked to a fingerprint among ``hit``
        (``entry``: the store's reading of one entry; ``prints``: the fingerprints of the entries
        already read, by hash, filled in here: for a caller whose entries do not change between calls)."""
        prints = {} if prints is None else prints
        found: set[str] = set()
        for key, (record, hashes) in self._of.items():
            for h in hashes:
                if h not in hit:
                    continue
                if h not in prints:
                    stored = entry(h)
                    prints[h] = all_prints(stored) if stored is not None else []
                if any(self._links(record, h, p) for p in prints[h]):
                    found.add(key)
                    break
        return found

    def _links(self, record: LinkageRecord, entry: str, theirs: Mapping[str, str]) -> bool:
        """Whether the lower bound of the pair's decision (module docstring) is a link."""
        table = self._model.table()
        total = table.prior_weight
        review_weight: float | None = None
        for _, weights, tf_level, tf_value, ms, tf, unseen, review_level, comparison in table.entries:
            possible = _possible(comparison.name, len(weights), record, entry, theirs, self._hash)
            if comparison.name in self._model.vetoes and possible & CONFLICT_LEVELS[comparison.name]:
                return False  # another birth date, another first name: never linked, at most reviewed
            least = min(
                _weight(level, weights, record, tf_level, tf_value, ms, tf, unseen, table.tf_minimum)
                for level in possible
            )
            total += least
            if review_level in possible:
                review_weight = least
        threshold = self._model.thresholds.link
        if review_weight is not None and probability_from_weight(total - review_weight) < threshold:
            return False  # a level that asks for review (an email domain's typo) may be the real one
        return probability_from_weight(total) >= threshold


def _weight(
    level: int,
    weights: Sequence[float],
    record: LinkageRecord,
    tf_level: int,
    tf_value: Callable[[LinkageRecord], str | None] | None,
    ms: Sequence[float],
    tf: Mapping[str, float],
    unseen: float | None,
    floor: float,
) -> float:
    """A level's weight as core.linkage.scoring weighs it (an exact value's by how common it is)."""
    if level == NULL:
        return 0.0
    if level == tf_level and tf_value is not None and (tf or unseen is not None):
        adjusted = _tf_weight(ms[level], tf_value(record), tf, unseen, floor)
        if adjusted is not None:
            return adjusted
    return weights[level]


def _possible(
    name: str,
    count: int,
    record: LinkageRecord,
    entry: str,
    theirs: Mapping[str, str],
    hash_of: Callable[[str], str],
) -> frozenset[int]:
    """The levels the comparison ``name`` (of ``count`` levels) may give the record and the erased
    one, from what the fingerprint says of hers: exact when the hashes match, else any other level
    (an absent field: no evidence, or the few levels that read across fields)."""
    everything = frozenset(range(count))
    if name in _PRESENT:
        return everything if _PRESENT[name](record) and name in theirs else frozenset({NULL})
    if name == "address":
        return _address_levels(record, entry, theirs, hash_of)
    value_of = _VALUES.get(name)
    if value_of is None:
        return everything | {NULL}  # a comparison this module does not know: anything
    mine = value_of(record)
    held = theirs.get(name)
    if mine is not None and held:
        if _field_hash(hash_of, entry, name, mine) == held:
            return frozenset({0})
        if name == "date_of_birth":
            return frozenset({_birth_date_level(mine, entry, theirs, hash_of)})
        return everything - {0}
    if name == "date_of_birth":
        return frozenset({NULL, 2})  # a typed date that is no day may be one keystroke from hers
    return frozenset({NULL})


def _address_levels(
    record: LinkageRecord, entry: str, theirs: Mapping[str, str], hash_of: Callable[[str], str]
) -> frozenset[int]:
    # core.linkage.comparisons' ``_address``: the house and street (exact), the street with another
    # or no house number (close, street only), or another street; no street on a side: a line read
    # across fields (close, street only), or nothing.
    if record.street_key is None or not theirs.get("street"):
        return frozenset({NULL, 1, 2})
    house = _VALUES["address"](record)
    if house is not None and _field_hash(hash_of, entry, "address", house) == theirs.get("address"):
        return frozenset({0})
    if _field_hash(hash_of, entry, "street", record.street_key) == theirs["street"]:
        return frozenset({1, 2})
    return frozenset({1, 2, 3})


def _birth_date_level(mine: str, entry: str, theirs: Mapping[str, str], hash_of: Callable[[str], str]) -> int:
    """The level of two different birth dates (core.linkage.comparisons' ``_date_of_birth``), hers
    known by its hash: the record's dates that would be at each level are hashed and compared."""
    held = theirs["date_of_birth"]

    def among(dates: Iterable[str]) -> bool:
        return held in {_field_hash(hash_of, entry, "date_of_birth", d) for d in dates}

    near = {mine[:4] + mine[6:8] + mine[4:6]}  # day and month swapped
    day = _real_date(mine)
    if day is not None:
        near |= {(day + timedelta(days=d)).strftime("%Y%m%d") for d in (-1, 1)}
    if among(near):
        return 1
    slips = {mine[:i] + d + mine[i + 1 :] for i in range(len(mine)) for d in "0123456789"}
    slips |= {mine[:i] + mine[i + 1] + mine[i] + mine[i + 2 :] for i in range(len(mine) - 1)}
    if among(slips - {mine}):
        return 2
    return 3 if _field_hash(hash_of, entry, "birth_year", mine[:4]) == theirs.get("birth_year") else 4
