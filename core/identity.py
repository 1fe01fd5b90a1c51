"""Identity resolution: which records belong to one person, and which customer they join.

Pure functions. The store tells us who owns each identifier key today; ``group_records`` unions the
records of a batch with each other (shared keys) and with the customers that own their keys, so
A~B by email and B~C by phone end in one component, whatever order they arrive in. Each component
becomes one plan: a new customer, an attach to one customer, or a merge of several.

Guardrails keep junk identifiers from gluing strangers together: a blocklist of values and glob
patterns (``noreply@*``), and a limit per identifier kind on how many source records may share one
value before it stops being used to match (a shared office phone, ``info@company.com``).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from core.schema import Identifier, SourceRecord

DEFAULT_BLOCKED_VALUES: frozenset[str] = frozenset(
    {
        "test@example.com",
        "test@test.com",
        "email@email.com",
        "a@a.com",
        "example@example.com",
        "+10000000000",
        "+11111111111",
        "+15555555555",
    }
)
DEFAULT_BLOCKED_PATTERNS: tuple[str, ...] = (
    "noreply@*",
    "no-reply@*",
    "no_reply@*",
    "donotreply@*",
    "do-not-reply@*",
    "mailer-daemon@*",
    "postmaster@*",
    "null@*",
    "none@*",
    "unknown@*",
    "*@localhost",
    "*@invalid",
)

#: How many source records may share one identifier value before it is no longer used to match.
#: A person is in a handful of tools, each holding one record of them; more holders than this means
#: the value is shared by several people (a family inbox, an office switchboard).
DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType({"email": 8, "phone": 5})


@dataclass(frozen=True)
class IdentityPolicy:
    """The guardrails of identity resolution; every field has a sensible default."""

    blocked_values: frozenset[str] = DEFAULT_BLOCKED_VALUES
    blocked_patterns: tuple[str, ...] = DEFAULT_BLOCKED_PATTERNS
    max_records_per_identifier: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)

    def is_blocked(self, identifier: Identifier) -> bool:
        """True when the value is blocklisted; source ids are never blocked."""
        if identifier.kind == "source":
            return False
        return _blocked(identifier.value, self.blocked_values, self.blocked_patterns)

    def limit_for(self, kind: str) -> int | None:
        return None if kind == "source" else self.max_records_per_identifier.get(kind)


@lru_cache(maxsize=65536)
def _blocked(value: str, values: frozenset[str], patterns: tuple[str, ...]) -> bool:
    return value in values or any(fnmatch.fnmatchcase(value, p) for p in patterns)


def customer_id_for(source_key: str) -> str:
    """A stable, deterministic customer id for the customer a source record founds.

    Deterministic so that a replayed batch, or a retry after a crash, founds the same customer
    instead of a twin. 96 bits of BLAKE2b: collisions are not a practical concern.
    """
    digest = hashlib.blake2b(source_key.encode(), digest_size=12).digest()
    return "cus_" + base64.b32encode(digest).decode().lower().rstrip("=")


@dataclass(frozen=True, slots=True)
class GuardrailHit:
    """An identifier that was not used to match one record, and why."""

    record_key: str
    identifier_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class Component:
    """Records of a batch that belong together, and the existing customers they join.

    ``customers`` empty: a new customer; one: attach; several: merge into ``survivor``.
    """

    records: tuple[SourceRecord, ...]
    customers: frozenset[str]

    @property
    def survivor(self) -> str:
        """The customer id that remains: the smallest existing id, deterministic whatever the order."""
        if self.customers:
            return min(self.customers)
        return customer_id_for(min(r.key for r in self.records))

    @property
    def absorbed(self) -> frozenset[str]:
        return self.customers - {self.survivor}


def matching_keys(record: SourceRecord, policy: IdentityPolicy) -> tuple[list[str], list[GuardrailHit]]:
    """The identifier keys of one record that may be used to match, and the blocked ones."""
    keys: list[str] = []
    hits: list[GuardrailHit] = []
    for ident in record.identifiers:
        if policy.is_blocked(ident):
            hits.append(GuardrailHit(record.key, ident.key, "blocklisted value"))
        else:
            keys.append(ident.key)
    return keys, hits


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, node: str) -> str:
        parent = self.parent.setdefault(node, node)
        if parent != node:
            root = self.find(parent)
            self.parent[node] = root
            return root
        return node

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Smaller root wins so the structure (and its iteration) is order-independent.
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def group_records(
    records: Sequence[SourceRecord],
    owner_of: Mapping[str, str],
    existing_holders: Mapping[str, frozenset[str]],
    policy: IdentityPolicy,
) -> tuple[list[Component], list[GuardrailHit]]:
    """Group a batch into components: records sharing a usable key, and the customers owning them.

    ``owner_of`` maps identifier keys to their live owner; ``existing_holders`` maps keys to the
    source keys already holding them in the store (from the loaded customers' snapshots). A key whose
    holders would exceed its kind's limit is not used to match any record of this batch that does
    not already hold it, and each such record gets a ``GuardrailHit``.
    """
    hits: list[GuardrailHit] = []
    usable: dict[str, list[str]] = {}
    batch_holders: dict[str, set[str]] = {}
    for record in records:
        keys, blocked = matching_keys(record, policy)
        hits.extend(blocked)
        usable[record.key] = keys
        for key in keys:
            batch_holders.setdefault(key, set()).add(record.key)

    overloaded: set[str] = set()
    for key, holders in batch_holders.items():
        limit = policy.limit_for(key.partition("#")[0])
        if limit is not None and len(holders | existing_holders.get(key, frozenset())) > limit:
            overloaded.add(key)

    uf = _UnionFind()
    for record in records:
        node = "R" + record.key
        uf.find(node)
        for key in usable[record.key]:
            if key in overloaded and record.key not in existing_holders.get(key, frozenset()):
                hits.append(
                    GuardrailHit(
                        record.key,
                        key,
                        f"shared by more than {policy.limit_for(key.partition('#')[0])} records",
                    )
                )
                continue
            uf.union(node, "K" + key)
            owner = owner_of.get(key)
            if owner is not None:
                uf.union(node, "C" + owner)

    by_root: dict[str, tuple[list[SourceRecord], set[str]]] = {}
    for record in records:
        by_root.setdefault(uf.find("R" + record.key), ([], set()))[0].append(record)
    for node in list(uf.parent):
        if node.startswith("C"):
            root = uf.find(node)
            if root in by_root:
                by_root[root][1].add(node[1:])
    components = [
        Component(tuple(sorted(recs, key=lambda r: r.key)), frozenset(custs))
        for recs, custs in by_root.values()
    ]
    components.sort(key=lambda c: c.records[0].key)
    return components, hits


def live_owner(customer_id: str, merged_into: Mapping[str, str]) -> str:
    """Follow ``merged_into`` pointers to the customer that is live now (cycles cannot form)."""
    seen: set[str] = set()
    while customer_id in merged_into and customer_id not in seen:
        seen.add(customer_id)
        customer_id = merged_into[customer_id]
    return customer_id


def identifier_keys(records: Iterable[SourceRecord]) -> set[str]:
    """Every identifier key the records carry."""
    return {ident.key for record in records for ident in record.identifiers}
