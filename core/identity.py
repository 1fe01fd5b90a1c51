"""Identity resolution: which records belong to one person, and which customer they join.

Pure functions. The store tells us who owns each identifier key today; ``group_records`` unions the
records of a batch with each other (shared keys) and with the customers that own their keys, so
A~B by email and B~C by phone end in one component, whatever order they arrive in. Each component
becomes one plan: a new customer, an attach to one customer, or a merge of several.

Guardrails keep junk identifiers from gluing strangers together: a blocklist of values and glob
patterns (``noreply@*``), and a limit per identifier kind on how many people may share one value
before it stops being used to match (a shared office phone, ``info@company.com``); who counts as one
person is ``core.identity_holders.limit_holder``'s to say.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from core.identity_holders import counts_toward_limits, limit_holder
from core.privacy_caches import remember
from core.schema import Identifier, SourceRecord

DEFAULT_BLOCKED_VALUES: frozenset[str] = frozenset(
    {
        "test@example.com",
        "test@test.com",
        "email@email.com",
        "a@a.com",
        "example@example.com",
        # "no email" placeholders forms and checkouts write for everyone without one (see below)
        "na@na.com",
        "no@email.com",
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
    # What software writes where an address is required and the person gave none, the same for
    # everyone: noemail@noemail.com, noemail@<the shop's domain>, no-email@example.com,
    # nomail@nomail.com (registration and guest-import fallbacks, web-to-lead forms). A real mailbox
    # of that name only loses matching by it, never a record; strangers joined by it are worse.
    "noemail@*",
    "no-email@*",
    "no_email@*",
    "no.email@*",
    "nomail@*",
    "*@noemail.com",
    "*@localhost",
    # The reserved .invalid TLD (RFC 2606, RFC 6761 section 6.4: never a mailbox) and any domain under
    # it: WordPress's privacy eraser (wp_privacy_anonymize_data, what WooCommerce's writes on every
    # erased person's orders) writes deleted@site.invalid for everyone, in every shop.
    "*@invalid",
    "*@*.invalid",
)

#: How many people (``limit_holder``: records that name one person in full count once) may share one
#: identifier value before it is no longer used to match. More holders than this means the value is
#: shared by many people (an office switchboard, a shop's own address on strangers' guest orders).
DEFAULT_LIMITS: Mapping[str, int] = MappingProxyType({"email": 8, "phone": 5})


@dataclass(frozen=True)
class IdentityPolicy:
    """The guardrails of identity resolution; every field has a sensible default."""

    blocked_values: frozenset[str] = DEFAULT_BLOCKED_VALUES
    blocked_patterns: tuple[str, ...] = DEFAULT_BLOCKED_PATTERNS
    max_records_per_identifier: Mapping[str, int] = field(default_factory=lambda: DEFAULT_LIMITS)

    def __post_init__(self) -> None:
        # Looked up once per policy, not on each of the dozen calls per record: finding the cached
        # matcher hashed the whole pattern tuple every time.
        matches = _pattern_matcher(self.blocked_patterns)
        object.__setattr__(self, "_matches_pattern", matches)
        object.__setattr__(self, "_matches_pattern_once", getattr(matches, "__wrapped__", matches))

    def is_blocked(self, identifier: Identifier) -> bool:
        """True when the value is blocklisted; source ids are never blocked."""
        if identifier.kind == "source":
            return False
        value = identifier.value
        return value in self.blocked_values or self._matches_pattern(value)

    def is_blocked_once(self, identifier: Identifier) -> bool:
        """``is_blocked``, without keeping the answer in the per-value cache: for a caller that asks
        once per value and keeps the answers itself (core.batch_ingest's split of a batch). The
        cache pays when a value is asked again (the planner asks about each several times: a kept
        answer costs 0.1 to 0.15 µs, a match 0.4 to 0.5), not for values seen once: there a miss
        costs more than the match (``is_blocked`` of 100,000 new values 2.2 to 3.9 µs a value,
        this 0.9 to 1.3), and a resolve's values are distinct and outnumber the cache."""
        if identifier.kind == "source":
            return False
        value = identifier.value
        return value in self.blocked_values or self._matches_pattern_once(value)

    _matches_pattern: Callable[[str], bool] = field(init=False, repr=False, compare=False)
    _matches_pattern_once: Callable[[str], bool] = field(init=False, repr=False, compare=False)

    def limit_for(self, kind: str) -> int | None:
        return None if kind == "source" else self.max_records_per_identifier.get(kind)


@lru_cache(maxsize=16)
def _pattern_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a value matches any of the glob patterns: same answer as ``any(fnmatchcase(...))``.

    ``fnmatchcase`` is ``re.match(fnmatch.translate(pattern))``: one compiled alternation of all the
    patterns does the same in one match, where every value seen for the first time (most of them,
    in a sync) used to run one match per pattern. The answers are cached per value; the cache is
    per pattern tuple so that its key is the value alone (a key of several arguments is a tuple
    kept per entry, and a frozenset in it made the garbage collector walk every one of them).
    """
    if not patterns:
        return lambda _value: False
    match = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns)).match

    @lru_cache(maxsize=65536)
    def matches(value: str) -> bool:
        return match(value) is not None

    return remember(matches)  # emptied on an erasure (core.privacy_caches)


def customer_id_for(source_key: str) -> str:
    """A stable, deterministic customer id for the customer a source record founds.

    Deterministic so that a replayed batch, or a retry after a crash, founds the same customer
    instead of a twin. 96 bits of BLAKE2b: collisions are not a practical concern.
    """
    # The digest in lower-case RFC 4648 base32 without padding, as
    # ``base64.b32encode(digest).decode().lower().rstrip("=")`` spells it (the ids in stores depend
    # on it): 96 bits and 4 zero bits of padding are 20 characters, two per 10-bit chunk.
    n = int.from_bytes(hashlib.blake2b(source_key.encode(), digest_size=12).digest(), "big") << 4
    return "cus_" + "".join([_BASE32_PAIRS[(n >> shift) & 1023] for shift in _TEN_BIT_SHIFTS])


_BASE32_PAIRS: tuple[str, ...] = tuple(
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
)
_TEN_BIT_SHIFTS: tuple[int, ...] = tuple(range(90, -1, -10))


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
    """Union-find over small ints (one per record, identifier key and customer of a batch)."""

    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: list[int] = []

    def add(self) -> int:
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def find(self, node: int) -> int:
        parent = self.parent
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:  # path compression
            parent[node], node = root, parent[node]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # Which root wins does not show in the result (components are sorted by record key);
            # the smaller number wins, so that the structure is the same whatever the order.
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
    holders (``limit_holder``: the people records name, else their source keys) already holding them
    in the store (from the loaded customers' snapshots). A key whose holders would exceed its kind's
    limit is not used to match
    any record of this batch that does not already use it (hold it in the customer that owns it),
    and each such record gets a ``GuardrailHit``. Holders are counted by ``limit_holder``: a child
    object with an owner never holds (it joins its owner through the owner's ``source#`` key), but a child
    of its own person (a converted lead, the one child with an owner that keeps an email or a phone) holds
    its address as her; one
    without (a guest order) joins by email or phone like anyone and holds as the person it names, so
    ``existing_holders`` must name holders the same way (``core.merge.identifier_holders``).
    """
    if len(records) == 1 and not owner_of and not existing_holders:
        alone = _alone(records[0], policy)
        if alone is not None:
            return alone
    hits: list[GuardrailHit] = []
    record_keys = [record.key for record in records]
    # Keyed by record key, so that two records with one key (not possible from ingest, which
    # keeps the newest) share one node and the later one's keys, as they always have.
    usable: dict[str, list[str]] = {}
    holder_of: dict[str, str | None] = {}
    batch_holders: dict[str, set[str]] = {}
    for record, record_key in zip(records, record_keys, strict=True):
        keys, blocked = matching_keys(record, policy)
        hits.extend(blocked)
        usable[record_key] = keys
        # Only keys with a limit can be overloaded: the holder is looked up for records holding one
        limited = [key for key in keys if policy.limit_for(key.partition("#")[0]) is not None]
        if not limited:
            continue
        holder = holder_of[record_key] = limit_holder(record)
        if holder is None:
            continue
        for key in limited:
            batch_holders.setdefault(key, set()).add(holder)

    overloaded: set[str] = set()
    for key, holders in batch_holders.items():
        limit = policy.limit_for(key.partition("#")[0])
        if limit is None:
            continue
        existing = existing_holders.get(key, _NO_HOLDERS)
        # The union is never larger than both sets together: only build it when that could matter.
        if len(holders) + len(existing) > limit and len(holders | existing) > limit:
            overloaded.add(key)

    # Records, identifier keys and customers are three namespaces of nodes (their strings could
    # coincide), numbered in order of first sight.
    uf = _UnionFind()
    record_node: dict[str, int] = {}
    key_node: dict[str, int] = {}
    customer_node: dict[str, int] = {}
    for record_key in record_keys:
        node = record_node.get(record_key)
        if node is None:
            node = record_node[record_key] = uf.add()
        for key in usable[record_key]:
            if key in overloaded and not _uses(
                holder_of.get(record_key), record_key, key, owner_of, existing_holders
            ):
                hits.append(
                    GuardrailHit(
                        record_key,
                        key,
                        f"shared by more than {policy.limit_for(key.partition('#')[0])} records",
                    )
                )
                continue
            other = key_node.get(key)
            if other is None:
                other = key_node[key] = uf.add()
            uf.union(node, other)
            owner = owner_of.get(key)
            if owner is not None:
                other = customer_node.get(owner)
                if other is None:
                    other = customer_node[owner] = uf.add()
                uf.union(node, other)

    by_root: dict[int, list[SourceRecord]] = {}
    for record, record_key in zip(records, record_keys, strict=True):
        root = uf.find(record_node[record_key])
        if root in by_root:
            by_root[root].append(record)
        else:
            by_root[root] = [record]
    customers_of: dict[int, set[str]] = {}
    for customer, node in customer_node.items():
        # A customer node is only ever joined to a record node, so its root is some record's.
        customers_of.setdefault(uf.find(node), set()).add(customer)
    components = [
        Component(
            tuple(_sorted_by_key(recs)),
            frozenset(customers_of[root]) if root in customers_of else _NO_CUSTOMERS,
        )
        for root, recs in by_root.items()
    ]
    components.sort(key=lambda c: c.records[0].key)
    return components, hits


def _alone(record: SourceRecord, policy: IdentityPolicy) -> tuple[list[Component], list[GuardrailHit]] | None:
    """``group_records`` of one record and nothing stored (most new customers of a batch, in
    core.batch_ingest): one new customer and the record's blocked keys, or None when a limit below
    one would refuse the record its own key (the general path writes that hit)."""
    keys, hits = matching_keys(record, policy)
    if counts_toward_limits(record):
        for key in keys:
            limit = policy.limit_for(key.partition("#")[0])
            if limit is not None and limit < 1:
                return None
    return [Component((record,), _NO_CUSTOMERS)], hits


def _uses(
    holder: str | None,
    record_key: str,
    key: str,
    owner_of: Mapping[str, str],
    existing_holders: Mapping[str, frozenset[str]],
) -> bool:
    """Whether a stored version of the record already uses ``key`` to match: it holds it (as
    ``holder``, its ``limit_holder``), and its customer is the key's owner. A holder the guardrail
    kept apart (its customer holds the key without owning it) does not: exempting it let its next
    version join the owner, past the limit. With no owners known (``record_groups`` on one
    customer's records) every holder uses its keys."""
    if holder is None or holder not in existing_holders.get(key, _NO_HOLDERS):
        return False
    if not owner_of:
        return True
    # Holders are people (``limit_holder``): another record of the holder's name may hold the key, so
    # the record itself must be stored (its ``source#`` key owned), in the key's owner.
    customer = owner_of.get(f"source#{record_key}")
    return customer is not None and customer == owner_of.get(key)


_NO_CUSTOMERS: frozenset[str] = frozenset()  # shared by the components of new customers
_NO_HOLDERS: frozenset[str] = frozenset()


def _sorted_by_key(records: list[SourceRecord]) -> list[SourceRecord]:
    if len(records) == 1:  # nearly every component of a sync: one record, attaching or new
        return records
    return sorted(records, key=lambda r: r.key)


def live_owner(customer_id: str, merged_into: Mapping[str, str]) -> str:
    """Follow ``merged_into`` pointers to the customer that is live now (cycles cannot form)."""
    if customer_id not in merged_into:  # nearly always: called for every identifier key of a batch
        return customer_id
    seen: set[str] = set()
    while customer_id in merged_into and customer_id not in seen:
        seen.add(customer_id)
        customer_id = merged_into[customer_id]
    return customer_id


def identifier_keys(records: Iterable[SourceRecord]) -> set[str]:
    """Every identifier key the records carry."""
    return {ident.key for record in records for ident in record.identifiers}
