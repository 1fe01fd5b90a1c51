"""Suppression: an erased person stays erased.

An erasure leaves one suppression entry per identifier the erased customer held alone (an email or a
phone no other live customer holds) and one per source record id it held (``source#hubspot:contact:
123``). An entry is a keyed hash of the identifier key, HMAC-SHA256 with the audit salt (the same
hash as the audit records' ``subject_hash``), never the value, so the table cannot be searched for a
person by anyone without the salt. Entries never expire.

Every path checks them:

* pull drops a suppressed record before it is queued (so neither the ingest queue nor its
  dead-letter queue receives it) and counts it in the run's report; a quarantined record that
  normalises to a suppressed identifier is dropped too, not stored with its content;
* merge drops one before anything is stored (a record queued before the erasure, or a pull that
  raced it) and counts it in ``IngestResult.suppressed``; with probabilistic identity also a record
  the model would have linked to one of the erased person's records, judged from the fingerprint the
  erasure left of it (``fuzzy`` entries: core.suppression_fuzzy);
* push never sends a profile that holds a suppressed identifier (a record that raced the erasure).

The rule, ``is_suppressed``: a record is suppressed when any of its identifiers is, its source id
included; an email is suppressed when its mailbox is (core.mailbox: an erasure suppresses the
mailbox of an address the provider folds, so ``a.nn.smith+x@gmail.com`` is suppressed with
``annsmith@gmail.com``). A suppression is lifted only by an explicit, audited privacy request (the
person signed up again), which lifts every entry its erasure left (``SuppressionStore.lift``).

``SuppressionStore`` is the small port every store implements (in memory, DynamoDB); the parametrised
test ``tests/unit/test_suppression_store.py`` holds each implementation to the same behaviour.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from core import privacy_caches
from core.mailbox import folded_email_key, legacy_mailbox_key, mailbox_key
from core.schema import Profile, SourceRecord

if TYPE_CHECKING:
    from core.identity import IdentityPolicy
    from core.linkage import LinkageModel

SuppressedKind = Literal["email", "phone", "source", "fuzzy"]
"""What an entry suppresses: an identifier, a record id, or (``fuzzy``) a keyed fingerprint of an
erased person's name with her birth date or address (core.suppression_fuzzy)."""


def keyed_hash(salt: str, key: str) -> str:
    """HMAC-SHA256 of an identifier key (``email#ann@example.com``) with the audit salt, in hex: the
    same key gives the same hash, and without the salt it cannot be reversed or searched for."""
    return hmac.digest(salt.encode(), key.encode(), "sha256").hex()  # hmac.new's, in one C call


@dataclass(frozen=True, slots=True)
class SuppressionEntry:
    """One suppressed identifier: its keyed hash, what kind it was, and the erasure that left it."""

    hash: str
    kind: SuppressedKind
    erasure: str
    """The request id of the erasure; lifting one entry lifts every entry of that erasure."""
    at: datetime
    fingerprint: str = ""
    """For a ``fuzzy`` entry: the keyed hashes of the erased records' other fields, as
    core.suppression_fuzzy writes and reads them (no value, no name of a field's value)."""


class SuppressionStore(Protocol):
    """Where suppression entries are kept (core.storage.memory, core.storage.dynamodb_suppression)."""

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        """The ones among ``hashes`` that are suppressed."""
        ...

    def suppress(self, entries: Sequence[SuppressionEntry]) -> None:
        """Keep the entries (idempotent: an entry suppressed again belongs to the later erasure)."""
        ...

    def entry(self, hash_: str) -> SuppressionEntry | None:
        """The entry of one hash, or None when it is not suppressed (for exports and receipts)."""
        ...

    def lift(self, hash_: str) -> list[SuppressionEntry]:
        """Remove every entry of the erasure that left ``hash_`` (none if it is not suppressed), and
        return what was removed."""
        ...


class SuppressionCheck:
    """Checks records and profiles against a ``SuppressionStore``, hashing with ``salt``.

    Hashes are remembered per key (a run sees the same people again and again: echoes, pages that
    overlap), so each identifier is hashed once per process. The keys are identifiers in clear
    (``email#...``): the memory is a cache of personal values (core.privacy_caches), emptied by an
    erasure here and, through the erasure epoch, by one in another process.
    """

    def __init__(
        self,
        store: SuppressionStore,
        salt: str,
        *,
        memory: int = 200_000,
        region: str = "US",
        index_refused: bool = True,
    ) -> None:
        if not salt:
            raise ValueError("the audit salt is empty: suppression entries could be reversed without it")
        self.store = store
        self._salt = salt
        self._hashes: dict[str, str] = {}
        self._memory = memory
        self.region = region
        """The region a refused phone value's national number is read in (with the record's country),
        as normalisation's ``default_region`` (core.quarantine reads it so)."""
        self.index_refused = index_refused
        """Whether ``split`` writes the index entries of the records it keeps (core.privacy_refused_index):
        a check before records are stored does; one of a reader that stores nothing (pull) need not."""
        self.scrubbed = 0
        """How many records ``split`` kept with refused values naming a suppressed identifier taken out."""
        self.dropped_owners: dict[str, None] = {}
        """The record keys ``split`` dropped (at most ``memory``, the newest): a child naming one of
        them as its owner is dropped with it, in that batch or a later one (attack31p: her order
        whose owner, her shop account, an erasure by her address dropped, though it never saw the
        account's id)."""
        privacy_caches.remember(self)

    @property
    def known(self) -> dict[str, str]:
        """The hashes remembered, by identifier key (what ``cache_clear`` empties)."""
        return self._hashes

    def cache_clear(self) -> None:
        """Forget every hash remembered (core.privacy_caches.forget_personal_values)."""
        self._hashes.clear()

    def hash(self, key: str) -> str:
        """The keyed hash of one identifier key."""
        found = self._hashes.get(key)
        if found is None:
            if len(self._hashes) >= self._memory:
                self._hashes.clear()
            found = self._hashes[key] = keyed_hash(self._salt, key)
        return found

    def suppressed_keys(self, keys: Iterable[str], *, extra: Iterable[str] = ()) -> set[str]:
        """The identifier keys among ``keys`` that are suppressed (one store read for all of them):
        an email is suppressed too when its mailbox is (core.mailbox: every spelling the provider
        delivers to one mailbox). ``extra``: hashes read in the same store read, returned among the
        keys when suppressed (the fuzzy look-ups of core.suppression_fuzzy)."""
        by_hash: dict[str, list[str]] = {h: [h] for h in extra}
        for key in dict.fromkeys(keys):
            by_hash.setdefault(self.hash(key), []).append(key)
            # the legacy key: a mailbox erased before the upgrade that folds Proton's separators; the
            # folded address: a record normalised before the fold of fullwidth letters and invisible
            # characters, delivered after her erasure (a dead letter sent again)
            for other in (mailbox_key(key), legacy_mailbox_key(key), folded_email_key(key)):
                if other is not None:
                    by_hash.setdefault(self.hash(other), []).append(key)
        if not by_hash:
            return set()
        hit = self.store.suppressed(sorted(by_hash))
        return {key for h in hit for key in by_hash[h]}

    def guards(self, keys: Iterable[str], records: Iterable[SourceRecord] = ()) -> list[str]:
        """The hashes a commit creating the IDENT items of ``keys`` must find unsuppressed (see
        ``core.ports.Unsuppressed``): those of the emails and phones among them. Source ids are
        left out: an erasure suppresses only the ids of records it found stored, whose IDENT items
        the commit's other conditions already guard. An email's mailbox is guarded too. So are the
        addresses written whole in the refused email values of the ``records`` it writes (``split``
        drops a record naming an erased address so; an erasure between that check and the write
        would otherwise let it through, under a household's customer by its phone). A record's refused
        addresses are guarded within what its identifiers leave of ``MAX_IDENTIFIERS``: a commit
        stays inside one transaction (a contact with 101 emails, 61 of them dropped over the limit,
        made 122 conditions and was refused whole); ``split`` still reads every one."""
        guarded: set[str] = set()
        for key in [*keys, *(k for r in records for k in _refused_guarded(r, self.region))]:
            if key.startswith(("email#", "phone#")):
                guarded.add(self.hash(key))
                for other in (mailbox_key(key), legacy_mailbox_key(key), folded_email_key(key)):
                    if other is not None:
                        guarded.add(self.hash(other))
        return sorted(guarded)

    def split(
        self,
        records: Sequence[SourceRecord],
        model: LinkageModel | None = None,
        policy: IdentityPolicy | None = None,
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        """``records`` as (kept, suppressed), each in the order given. With a linkage ``model`` (and
        the ``policy`` ingest resolves with), a record that model would have linked to a record of
        an erased person is suppressed too (core.suppression_fuzzy: the erasure's fingerprints).

        The records kept that hold refused values are indexed by them before they are committed
        (core.privacy_refused_index: her erasure finds them by key reads)."""
        kept, dropped = self._split(records, model, policy)
        kept, dropped = self._without_children(kept, dropped)
        if self.index_refused and any(r.dropped for r in kept):
            from core.privacy_refused_index import REGION, entries_of
            from core.storage.refused_index import refused_index

            index = refused_index(self.store)
            if index is not None:
                index.put(entries_of(kept, REGION, self.hash))
        return kept, dropped

    def _without_children(
        self, kept: list[SourceRecord], dropped: list[SourceRecord]
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        """``kept`` less the children naming a dropped record (of this batch or an earlier one) as
        their owner, each added to ``dropped`` (kept's order kept): her order is hers as its owner is."""
        for record in kept:  # a version of it kept since is not hers: its children are not either
            self.dropped_owners.pop(record.key, None)
        for record in dropped:
            self.dropped_owners[record.key] = None
        if not self.dropped_owners:
            return kept, dropped
        while len(self.dropped_owners) > self._memory:
            del self.dropped_owners[next(iter(self.dropped_owners))]
        children = set()
        for record in kept:  # a child's owner link is one of its source identifiers
            if record.level == "child" and any(
                i.kind == "source" and i.value != record.key and i.value in self.dropped_owners
                for i in record.identifiers
            ):
                children.add(record.key)
                self.dropped_owners[record.key] = None
        if not children:
            return kept, dropped
        return [r for r in kept if r.key not in children], [*dropped, *(r for r in kept if r.key in children)]

    def _split(
        self,
        records: Sequence[SourceRecord],
        model: LinkageModel | None,
        policy: IdentityPolicy | None,
    ) -> tuple[list[SourceRecord], list[SourceRecord]]:
        if not records:
            return [], []
        fuzzy = None
        if model is not None and policy is not None:
            from core.suppression_fuzzy import FuzzyLookups  # the matcher's imports only when linking

            fuzzy = FuzzyLookups(records, model, policy, self.hash)
        refused_of = [_refused_by_value(r, self.region) for r in records]
        keys_of = [
            [*(i.key for i in r.identifiers), *(k for ks in refused for k in ks)]
            for r, refused in zip(records, refused_of, strict=True)
        ]
        hit = self.suppressed_keys((k for keys in keys_of for k in keys), extra=fuzzy.hashes if fuzzy else ())
        if not hit:
            return list(records), []
        linked = fuzzy.linked(self.store.entry, hit) if fuzzy is not None else set()
        kept: list[SourceRecord] = []
        dropped: list[SourceRecord] = []
        for record, keys, refused in zip(records, keys_of, refused_of, strict=True):
            if record.key in linked or is_suppressed((i.key for i in record.identifiers), hit):
                dropped.append(record)
            elif not is_suppressed(keys, hit):
                kept.append(record)
            else:  # named only in refused values: hers, or its owner's naming her in a second value
                scrubbed = _scrubbed(record, refused, hit)
                (dropped if scrubbed is None else kept).append(scrubbed or record)
                self.scrubbed += scrubbed is not None
        return kept, dropped

    def suppressed_customers(self, profiles: Sequence[Profile]) -> set[str]:
        """The customers among ``profiles`` whose profile holds a suppressed identifier."""
        keys_of = {p.customer_id: [i.key for i in p.identifiers] for p in profiles}
        hit = self.suppressed_keys(k for keys in keys_of.values() for k in keys)
        return {cid for cid, keys in keys_of.items() if is_suppressed(keys, hit)}


def _refused_keys(record: SourceRecord, region: str = "US") -> list[str]:
    """The email and phone keys written whole in the values normalisation refused (``Ann
    <ann@x.com>``, ``+44 20 7946 0018 (mobile)``: core.quarantine): a record whose field names an
    erased person is hers, though its identifiers (a household's phone) are someone else's."""
    return [k for keys in _refused_by_value(record, region) for k in keys]


def refused_keys(records: Iterable[SourceRecord], region: str = "US") -> list[str]:
    """The keys written whole in the refused values of ``records`` (``_refused_keys``), each once:
    what ``split`` looks up besides their identifiers."""
    return list(dict.fromkeys(k for r in records if r.dropped for k in _refused_keys(r, region)))


def _refused_guarded(record: SourceRecord, region: str) -> list[str]:
    """The refused-value keys of ``record`` a commit guards: the first ones, as many as its own
    emails and phones leave of ``MAX_IDENTIFIERS`` (the budget one transaction was sized for). A
    phone is read in ``region`` (and the record's country), as ``split`` reads it: read in the US
    alone, a GB national number gave no key, and the commit did not guard what split had dropped."""
    from core.normalise import MAX_IDENTIFIERS

    room = MAX_IDENTIFIERS - sum(1 for i in record.identifiers if i.kind in ("email", "phone"))
    if room <= 0 or not record.dropped:
        return []
    found = list(
        dict.fromkeys(k for k in _refused_keys(record, region) if k.startswith(("email#", "phone#")))
    )
    return found[:room]


def _refused_by_value(record: SourceRecord, region: str) -> list[list[str]]:
    """For each of ``record.dropped``, the keys core.quarantine's search finds written whole in it
    (a phone read in ``region`` and in the record's country, as the quarantine reads it). Usually none."""
    if not record.dropped:
        return []
    from core.quarantine import refused_values

    country = record.traits.get("country")
    return [refused_values(d.field, d.value, region, country) for d in record.dropped]


def _scrubbed(record: SourceRecord, refused: list[list[str]], hit: set[str]) -> SourceRecord | None:
    """``record`` (named by a suppressed identifier only in refused values) without those values, or
    None when it is hers: of a kind (email, phone) a value names her in, it holds no other value, an
    identifier of its own or another address or number in refused values, or it holds no identifier
    but its record id. Anne's contact with her own address naming Bob as her assistant in a second
    field stays Anne's when Bob is erased; a contact whose only address names her is hers."""
    own = [i.key for i in record.identifiers if i.kind != "source"]
    if not own:
        return None
    others = {k.partition("#")[0] for k in (*own, *(k for ks in refused for k in ks)) if k not in hit}
    naming = [bool(set(ks) & hit) for ks in refused]
    if any(hers and d.field not in others for d, hers in zip(record.dropped, naming, strict=True)):
        return None
    left = tuple(d for d, hers in zip(record.dropped, naming, strict=True) if not hers)
    return record.model_copy(update={"dropped": left})


def refused_hers(record: SourceRecord, theirs: Collection[str], region: str = "US") -> bool:
    """Whether ``record`` is the person's by the values normalisation refused, as ``split`` judges a
    record named by a suppressed key there: a value names one of her keys ``theirs`` (or its mailbox)
    and, of that kind of value, the record holds nothing else (``_scrubbed``). A search by her plain
    keys (her dead letters, core.privacy_request) reads them as merge's check reads her hashes."""
    refused = _refused_by_value(record, region)
    hit = {k for ks in refused for k in ks if k in theirs or mailbox_key(k) in theirs}
    return bool(hit) and _scrubbed(record, refused, hit) is None


def is_suppressed(keys: Iterable[str], suppressed: set[str]) -> bool:
    """Whether a record (or profile) holding the identifier ``keys`` is suppressed: any of them is."""
    return any(key in suppressed for key in keys)


__all__ = [
    "SuppressedKind",
    "SuppressionCheck",
    "SuppressionEntry",
    "SuppressionStore",
    "is_suppressed",
    "keyed_hash",
    "refused_hers",
    "refused_keys",
]
