"""What core.ingest_grow keeps between batches of a growing customer, and finds in its profile
without a walk over it: each batch of a customer with thousands of orders would otherwise parse its
profile again (about 12 µs an order) and walk its identifiers and sources several times in Python.

``KEPT`` holds the profiles core.ingest_grow planned, by customer id, version and content hash
(``profile_hash``: the whole body but those two), so a kept profile is the one a read of that
version and hash would parse, whoever wrote it; with the usable identifier keys under the policy it
was planned with, and the source keys of its records by source and object type. Bounded, and only
ever an optimisation: a miss parses and walks the profile.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic_core import to_json

from core.identity import IdentityPolicy
from core.schema import Identifier, Profile, SourceRef

__all__ = [
    "KEPT",
    "Kept",
    "KeptProfiles",
    "has_identifier",
    "insert_identifiers",
    "insert_refs",
    "ref_of",
    "walked",
]


@dataclass(frozen=True, slots=True)
class Kept:
    profile: Profile
    usable: frozenset[str]
    """The profile's identifier keys the policy does not block."""
    policy: IdentityPolicy
    by_type: Mapping[tuple[str, str], tuple[str, ...]]
    """The profile's source keys by (source, object type)."""
    identifier_parts: list[bytes]
    """The JSON of each of the profile's identifiers, in order (``body`` joins them)."""
    source_parts: list[bytes]
    """The JSON of each of the profile's source references, in order."""


class KeptProfiles:
    """A small LRU of ``Kept`` by (customer id, version, profile hash)."""

    def __init__(self, size: int = 64) -> None:
        self._lock = threading.Lock()
        self._size = size
        self.kept: OrderedDict[tuple[str, int, str], Kept] = OrderedDict()
        """Read only: public so that tests/unit/test_privacy_caches.py measures it (a cache of
        people's values it could not see would pass its check emptied or not)."""

    def get(
        self, customer_id: str, version: int, profile_hash: str | None, policy: IdentityPolicy
    ) -> Kept | None:
        if profile_hash is None:
            return None
        with self._lock:
            kept = self.kept.get((customer_id, version, profile_hash))
        return kept if kept is not None and (kept.policy is policy or kept.policy == policy) else None

    def put(self, customer_id: str, version: int, profile_hash: str, kept: Kept) -> None:
        with self._lock:
            self.kept[(customer_id, version, profile_hash)] = kept
            self.kept.move_to_end((customer_id, version, profile_hash))
            while len(self.kept) > self._size:
                self.kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self.kept.clear()


KEPT = KeptProfiles()


def walked(profile: Profile, policy: IdentityPolicy) -> Kept:
    """``Kept`` of a profile read from the store (one walk over it)."""
    by_type: dict[tuple[str, str], list[str]] = {}
    for ref in profile.sources:
        by_type.setdefault((ref.source, ref.object_type), []).append(ref.key)
    usable = frozenset(i.key for i in profile.identifiers if not policy.is_blocked(i))
    by_type_keys = {t: tuple(keys) for t, keys in by_type.items()}
    idents = [to_json(i) for i in profile.identifiers]
    return Kept(profile, usable, policy, by_type_keys, idents, [to_json(ref) for ref in profile.sources])


def grown_parts(
    parts: list[bytes], final: Sequence[Identifier | SourceRef], added: set[str], replaced: set[str]
) -> list[bytes]:
    """``parts`` (the JSON of each element of a profile's identifiers or sources, in key order) for
    ``final``, the same sequence with the elements of ``added`` inserted and those of ``replaced``
    replaced (``insert_identifiers``, ``insert_refs``): each serialised at its place, in key order,
    so every place before the one at hand is already final."""
    out = list(parts)
    for key in sorted(added | replaced):
        at = bisect_left(final, key, key=_element_key)
        if key in added:
            out.insert(at, to_json(final[at]))
        else:
            out[at] = to_json(final[at])
    return out


def _element_key(element: Identifier | SourceRef) -> str:
    return element.key


def body(profile: Profile, identifier_parts: list[bytes], source_parts: list[bytes]) -> bytes:
    """The bytes ``profile_hash`` serialises for ``profile`` (every field but the customer id and the
    version, in field order, as pydantic writes them), from the JSON of its identifiers and
    sources kept: the rest is a few small values."""
    return b"".join(
        (
            b'{"identifiers":[',
            b",".join(identifier_parts),
            b'],"traits":',
            to_json(profile.traits),
            b',"computed":',
            to_json(profile.computed),
            b',"consent":',
            to_json(profile.consent),
            b',"sources":[',
            b",".join(source_parts),
            b"]}",
        )
    )


def _ref_key(ref: SourceRef) -> str:
    return ref.key


def _ident_key(ident: Identifier) -> str:
    return ident.key


def ref_of(sources: Sequence[SourceRef], key: str) -> SourceRef | None:
    """The source reference of ``key`` in a profile's ``sources`` (sorted by key), by bisection."""
    at = bisect_left(sources, key, key=_ref_key)
    return sources[at] if at < len(sources) and sources[at].key == key else None


def has_identifier(identifiers: Sequence[Identifier], key: str) -> bool:
    """Whether a profile's ``identifiers`` (sorted by key) hold ``key``, by bisection."""
    at = bisect_left(identifiers, key, key=_ident_key)
    return at < len(identifiers) and identifiers[at].key == key


def insert_refs(sources: Sequence[SourceRef], added: Sequence[SourceRef]) -> tuple[SourceRef, ...]:
    """``sources`` with each of ``added`` in key order, replacing the one of the same key."""
    out = list(sources)
    for ref in added:
        key = ref.key
        at = bisect_left(out, key, key=_ref_key)
        if at < len(out) and out[at].key == key:
            out[at] = ref
        else:
            out.insert(at, ref)
    return tuple(out)


def insert_identifiers(
    identifiers: Sequence[Identifier], added: Sequence[Identifier]
) -> tuple[Identifier, ...]:
    """``identifiers`` with each of ``added`` whose key they lack, in key order (a held key keeps
    the identifier held: one key is one kind and value)."""
    out = list(identifiers)
    for ident in added:
        key = ident.key
        at = bisect_left(out, key, key=_ident_key)
        if at == len(out) or out[at].key != key:
            out.insert(at, ident)
    return tuple(out)
