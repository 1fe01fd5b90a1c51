"""The fast paths of the core hot path give exactly what the straightforward code gives.

Each test pins one optimisation to a slow reference: the code as it was before it was made fast
(copied here), or the library call it stands in for. See bench/core_throughput.py for why they exist.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import (
    DEFAULT_BLOCKED_PATTERNS,
    Component,
    GuardrailHit,
    IdentityPolicy,
    _pattern_matcher,
    customer_id_for,
    group_records,
    live_owner,
    matching_keys,
)
from core.merge import (
    DEFAULT_RULES,
    MergeRules,
    SurvivorshipRule,
    build_profile,
    compute_traits,
    merge_consent,
    merge_traits,
    profile_hash,
    record_hash,
)
from core.normalise import NormaliseOptions, normalise_record
from core.schema import (
    ComputedTraits,
    ConsentState,
    ConsentValue,
    Identifier,
    Order,
    Profile,
    RecordDraft,
    SourceRecord,
    SourceRef,
    TraitValue,
)
from core.testing.records import T0, make_record
from tests.hypothesis_profiles import examples
from tests.unit.test_normalise import drafts

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: The property that folds profiles: fewer examples in ci.
BUILDING = settings(SETTINGS, max_examples=examples(ci=50, deep=200))
#: The properties that normalise a whole draft, or group a whole batch twice: fewer in ci.
WHOLE = settings(SETTINGS, max_examples=examples(ci=80, deep=200))

# --------------------------------------------------------------------------------------------------
# Hashes are stored in DynamoDB: their values must not change by accident. (The record hash left
# out ``updated_at`` deliberately in 0.x, so that echoes of pushes change nothing: every stored
# record is rewritten once, on its next delivery, after that upgrade.)
# --------------------------------------------------------------------------------------------------


def test_record_and_profile_hashes_keep_their_stored_values() -> None:
    """GIVEN fixed records WHEN hashed THEN the values computed before the hot path was optimised."""
    draft = RecordDraft(
        source="shop",
        source_id="42",
        updated_at="2026-01-05T10:00:00+01:00",
        emails=["  Ann.Lee@Bücher.example "],
        phones=["020 7946 0018"],
        traits={"First Name": "ANN-MARIE O'NEIL", "country": "United Kingdom", "city": " Leeds "},
        consent={"email": True, "sms": {"granted": False, "changed_at": "2025-12-01T00:00:00Z"}},
        orders=[
            {"id": "o1", "total": "1,299.5", "currency": "gbp", "created_at": "2025-11-01T12:00:00Z"},
            {"id": "o2", "total": 10, "currency": "JPY", "created_at": 1735689600, "status": "refunded"},
        ],
    )
    record = normalise_record(draft, NormaliseOptions(default_region="GB"))
    other = normalise_record(
        RecordDraft(
            source="crm",
            source_id="7",
            updated_at="2026-02-01T00:00:00Z",
            emails=["ann.lee@xn--bcher-kva.example"],
            traits={"first_name": "Annie", "job title": "CTO"},
            consent={"email": False},
        )
    )
    assert isinstance(record, SourceRecord)
    assert isinstance(other, SourceRecord)
    assert record_hash(record) == "3c4869bf6775b567365c733014f0c65f"
    # the same record with only a newer modification time (an echo) hashes the same
    echo = normalise_record(
        draft.model_copy(update={"updated_at": "2026-03-01T00:00:00Z"}), NormaliseOptions(default_region="GB")
    )
    assert isinstance(echo, SourceRecord)
    assert echo.updated_at != record.updated_at
    assert record_hash(echo) == record_hash(record)
    assert record_hash(other) == "854491a7278e1edad6f8a644b0c0711c"
    assert (
        profile_hash(build_profile("cus_x", [record, other], version=3)) == "6ab807a192692bd42dd88e0e133964a5"
    )


# --------------------------------------------------------------------------------------------------
# Records are assembled without a second validation: they equal validated ones, types and all
# --------------------------------------------------------------------------------------------------


def _same_structure(a: Any, b: Any) -> bool:
    """Equal values of exactly the same types, all the way down (``==`` alone ignores types)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, SourceRecord | Identifier | Order | ConsentState):
        fields = type(a).model_fields.keys()
        # Beyond the fields, an instance may hold only its memoised key (core.schema_base._MemoKey).
        return (
            a.model_fields_set == b.model_fields_set
            and a.__dict__.keys() - fields <= {"key"} >= b.__dict__.keys() - fields
            and fields <= a.__dict__.keys()
            and fields <= b.__dict__.keys()
            and all(_same_structure(a.__dict__[k], b.__dict__[k]) for k in fields)
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same_structure(a[k], b[k]) for k in a)
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same_structure(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and str(a) == str(b)  # str(): Decimal("1.50") == Decimal("1.5")


@WHOLE
@given(draft=drafts())
def test_normalised_records_are_what_validation_would_build(draft: RecordDraft) -> None:
    """GIVEN any draft WHEN normalised THEN the assembled record equals its full re-validation."""
    result = normalise_record(draft)
    if not isinstance(result, SourceRecord):
        return
    validated = SourceRecord.model_validate(_every_field(result))
    assert result == validated
    assert _same_structure(result, validated)
    assert result.model_dump_json() == validated.model_dump_json()
    assert record_hash(result) == record_hash(validated)


def test_a_str_subclass_from_a_foreign_str_becomes_a_plain_str() -> None:
    """GIVEN an int whose __str__ returns a str subclass WHEN normalised THEN plain strings, as
    validation would have made them."""

    class Shouty(str):
        pass

    class Odd(int):
        def __str__(self) -> str:
            return Shouty("77")

    draft = RecordDraft(
        source="crm", source_id="1", updated_at=T0, emails=["a@b.com"], traits={"score": Odd(77)}
    )
    draft = draft.model_copy(update={"source_id": Odd(5)})
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert type(record.source_id) is str
    assert type(record.traits["score"]) is str
    assert _same_structure(record, SourceRecord.model_validate(_every_field(record)))


def _every_field(record: SourceRecord) -> dict[str, object]:
    """``model_dump`` with ``undated``, each order's ``payment_refs`` and each consent decision's
    ``dated_by_record``, ``contrary_at`` and ``run_at`` too (left out when False or empty: snapshots
    are as before them), so that validation sets every field, as assembly does."""
    dumped = record.model_dump()
    orders = [
        {**o, "payment_refs": list(r.payment_refs)}
        for o, r in zip(dumped["orders"], record.orders, strict=True)
    ]
    consent = {
        channel: {
            **dumped["consent"][channel],
            "dated_by_record": state.dated_by_record,
            "contrary_at": state.contrary_at,
            "run_at": state.run_at,
        }
        for channel, state in record.consent.items()
    }
    return {**dumped, "orders": orders, "consent": consent, "undated": record.undated}


def test_assembled_models_share_one_fields_set_that_model_copy_leaves_alone() -> None:
    """GIVEN assembled models WHEN copied with an update THEN the shared fields set is unchanged."""
    a = TraitValue.assemble(value="x", source="crm:contact:1", updated_at=T0)
    b = TraitValue.assemble(value="y", source="crm:contact:2", updated_at=T0)
    assert a.model_fields_set == b.model_fields_set == set(TraitValue.model_fields)
    copied = a.model_copy(update={"value": "z"})
    assert copied.value == "z"
    assert a.model_fields_set == b.model_fields_set == set(TraitValue.model_fields)
    assert a == TraitValue(value="x", source="crm:contact:1", updated_at=T0)


# --------------------------------------------------------------------------------------------------
# Blocklist: one compiled alternation instead of one fnmatch per pattern
# --------------------------------------------------------------------------------------------------

glob_text = st.text(alphabet="ab@.*?[]!-^\\()|+{}$n", max_size=8)


@SETTINGS
@given(patterns=st.lists(glob_text, max_size=5).map(tuple), values=st.lists(glob_text, max_size=6))
def test_pattern_matcher_is_any_fnmatchcase(patterns: tuple[str, ...], values: list[str]) -> None:
    """GIVEN glob patterns and values WHEN matched THEN the same answer as any(fnmatchcase)."""
    for value in values:
        expected = any(fnmatch.fnmatchcase(value, p) for p in patterns)
        assert _pattern_matcher(patterns)(value) == expected


@SETTINGS
@given(local=st.sampled_from(["noreply", "no-reply", "ann", "null", "nullx", "postmaster", "x"]))
def test_default_blocklist_matches_like_fnmatch(local: str) -> None:
    for domain in ("example.com", "localhost", "invalid", "x.invalid"):
        value = f"{local}@{domain}"
        expected = any(fnmatch.fnmatchcase(value, p) for p in DEFAULT_BLOCKED_PATTERNS)
        assert IdentityPolicy().is_blocked(Identifier(kind="email", value=value)) == expected


@SETTINGS
@given(
    patterns=st.lists(glob_text, max_size=5).map(tuple),
    blocked=st.frozensets(glob_text, max_size=3),
    values=st.lists(st.tuples(st.sampled_from(["email", "phone", "source"]), glob_text), max_size=6),
)
def test_is_blocked_once_is_is_blocked(
    patterns: tuple[str, ...], blocked: frozenset[str], values: list[tuple[str, str]]
) -> None:
    """GIVEN a policy and identifiers, asked twice (a kept answer, then a new one) WHEN asked
    without the per-value cache THEN the same answer as is_blocked, which any(fnmatchcase) gives."""
    policy = IdentityPolicy(blocked_values=blocked, blocked_patterns=patterns)
    for kind, value in values * 2:
        ident = Identifier(kind=kind, value=value)  # type: ignore[arg-type]
        expected = kind != "source" and (
            value in blocked or any(fnmatch.fnmatchcase(value, p) for p in patterns)
        )
        assert policy.is_blocked_once(ident) == policy.is_blocked(ident) == expected


def test_live_owner_follows_chains_and_returns_unmerged_ids_as_they_are() -> None:
    merged_into = {"cus_a": "cus_b", "cus_b": "cus_c"}
    assert live_owner("cus_a", merged_into) == "cus_c"
    assert live_owner("cus_x", merged_into) == "cus_x"
    assert live_owner("cus_a", {"cus_a": "cus_b", "cus_b": "cus_a"}) in {"cus_a", "cus_b"}


# --------------------------------------------------------------------------------------------------
# group_records: union-find over ints, compared with the union-find over prefixed strings it replaced
# --------------------------------------------------------------------------------------------------


class _ReferenceUnionFind:
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
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _reference_group_records(
    records: Sequence[SourceRecord],
    owner_of: Mapping[str, str],
    existing_holders: Mapping[str, frozenset[str]],
    policy: IdentityPolicy,
) -> tuple[list[Component], list[GuardrailHit]]:
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
    uf = _ReferenceUnionFind()
    for record in records:
        node = "R" + record.key
        uf.find(node)
        for key in usable[record.key]:
            # A record uses a key its stored version holds in the key's owner; with owners known, a
            # record not stored (its source key owned by nobody) uses none (fix19b: holders are
            # people, so another record of one name may be the stored holder)
            source_owner = owner_of.get(f"source#{record.key}")
            uses = (
                record.key in existing_holders.get(key, frozenset())
                and (not owner_of or source_owner is not None)
                and source_owner == owner_of.get(key)
            )
            if key in overloaded and not uses:
                limit = policy.limit_for(key.partition("#")[0])
                hits.append(GuardrailHit(record.key, key, f"shared by more than {limit} records"))
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


EMAILS = ["a@x.com", "b@x.com", "c@x.com", "noreply@x.com", "test@example.com"]
PHONES = ["+442079460001", "+442079460002", "+15555555555"]


@st.composite
def batches(
    draw: st.DrawFn,
) -> tuple[list[SourceRecord], dict[str, str], dict[str, frozenset[str]], IdentityPolicy]:
    records = [
        make_record(
            draw(st.sampled_from(["crm", "shop"])),
            str(draw(st.integers(0, 6))),  # repeats: two records with one key, as the public API allows
            email=draw(st.lists(st.sampled_from(EMAILS), max_size=3, unique=True)),
            phone=draw(st.lists(st.sampled_from(PHONES), max_size=2, unique=True)),
            day=draw(st.integers(0, 2)),
        )
        for _ in range(draw(st.integers(0, 10)))
    ]
    keys = [f"email#{e}" for e in EMAILS] + [f"phone#{p}" for p in PHONES] + ["source#crm:contact:1"]
    owner_of = draw(st.dictionaries(st.sampled_from(keys), st.sampled_from(["cus_a", "cus_b", "cus_c"])))
    holders = draw(
        st.dictionaries(
            st.sampled_from(keys),
            st.frozensets(
                st.sampled_from(["crm:contact:1", "shop:contact:2", "email:contact:9"]), max_size=3
            ),
        )
    )
    limits = draw(st.fixed_dictionaries({"email": st.integers(0, 4), "phone": st.integers(0, 3)}))
    return records, owner_of, holders, IdentityPolicy(max_records_per_identifier=limits)


@WHOLE
@given(batch=batches())
def test_group_records_equals_the_string_union_find(
    batch: tuple[list[SourceRecord], dict[str, str], dict[str, frozenset[str]], IdentityPolicy],
) -> None:
    """GIVEN any batch, owners, holders and limits WHEN grouped THEN components and hits as before."""
    records, owner_of, holders, policy = batch
    components, hits = group_records(records, owner_of, holders, policy)
    expected_components, expected_hits = _reference_group_records(records, owner_of, holders, policy)
    assert components == expected_components
    assert [(c.survivor, c.absorbed) for c in components] == [
        (c.survivor, c.absorbed) for c in expected_components
    ]
    assert hits == expected_hits


def test_customer_id_is_still_the_unpadded_lower_case_base32_of_blake2b() -> None:
    import base64
    import hashlib

    # Every 5-bit group and both ends of the 100-bit number are exercised by a few thousand keys.
    keys = ["crm:contact:1", "", "shop:customer:é✓", *(f"hubspot:contact:{i}" for i in range(5000))]
    for key in keys:
        digest = hashlib.blake2b(key.encode(), digest_size=12).digest()
        assert customer_id_for(key) == "cus_" + base64.b32encode(digest).decode().lower().rstrip("=")


# --------------------------------------------------------------------------------------------------
# build_profile: keys worked out once, lone candidates not compared; same profile as before
# --------------------------------------------------------------------------------------------------


def _reference_pick(
    candidates: list[tuple[SourceRecord, str]], rule: SurvivorshipRule
) -> tuple[SourceRecord, str]:
    if rule.strategy == "first_seen":
        return min(candidates, key=lambda c: (c[0].updated_at, c[0].key))
    if rule.strategy == "source_priority":
        rank = {name: i for i, name in enumerate(rule.priority)}
        return min(
            candidates,
            key=lambda c: (rank.get(c[0].source, len(rank)), -c[0].updated_at.timestamp(), c[0].key),
        )
    return max(candidates, key=lambda c: (c[0].updated_at, c[0].key))


def _reference_merge_traits(records: Iterable[SourceRecord], rules: MergeRules) -> dict[str, TraitValue]:
    by_trait: dict[str, list[tuple[SourceRecord, str]]] = {}
    for record in records:
        for name, value in record.traits.items():
            if value:
                by_trait.setdefault(name, []).append((record, value))
    out: dict[str, TraitValue] = {}
    for name in sorted(by_trait):
        record, value = _reference_pick(by_trait[name], rules.rule_for(name))
        out[name] = TraitValue(value=value, source=record.key, updated_at=record.updated_at)
    return out


def _reference_merge_consent(records: Iterable[SourceRecord]) -> dict[str, ConsentValue]:
    best: dict[str, tuple[tuple[datetime, bool, str], ConsentValue]] = {}
    for record in records:
        for channel, state in record.consent.items():
            rank = (state.changed_at, not state.granted, record.key)
            current = best.get(channel)
            if current is None or rank > current[0]:
                value = ConsentValue(granted=state.granted, changed_at=state.changed_at, source=record.key)
                best[channel] = (rank, value)
    return {channel: best[channel][1] for channel in sorted(best)}


def _reference_build_profile(
    customer_id: str, records: Iterable[SourceRecord], rules: MergeRules, version: int
) -> Profile:
    snapshots = sorted(records, key=lambda r: r.key)
    identifiers: dict[str, Identifier] = {}
    for r in snapshots:
        for ident in r.identifiers:
            identifiers.setdefault(ident.key, ident)
    return Profile(
        customer_id=customer_id,
        identifiers=tuple(identifiers[k] for k in sorted(identifiers)),
        traits=_reference_merge_traits(snapshots, rules),
        computed=compute_traits(snapshots, rules),
        consent=_reference_merge_consent(snapshots),
        sources=tuple(
            SourceRef(source=r.source, object_type=r.object_type, id=r.source_id, updated_at=r.updated_at)
            for r in snapshots
        ),
        version=version,
    )


RULES = [
    DEFAULT_RULES,
    MergeRules(
        per_trait=MappingProxyType(
            {
                "city": SurvivorshipRule("source_priority", ("shop", "crm")),
                "first_name": SurvivorshipRule("first_seen"),
            }
        )
    ),
    MergeRules(default=SurvivorshipRule("first_seen")),
]


@st.composite
def customers(draw: st.DrawFn) -> list[SourceRecord]:
    out = []
    for n in range(draw(st.integers(1, 5))):
        day = draw(st.integers(0, 3))
        orders = [
            Order(
                id=f"o{draw(st.integers(0, 3))}",
                total=draw(st.sampled_from([Decimal("12.50"), Decimal("1000.00"), Decimal("0.99")])),
                currency=draw(st.sampled_from(["GBP", "EUR", "JPY"])),
                created_at=T0 + timedelta(days=draw(st.integers(0, 9))),
                status=draw(st.sampled_from(["paid", "paid", "refunded"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        ]
        consent = draw(
            st.dictionaries(
                st.sampled_from(["email", "sms"]),
                st.builds(
                    ConsentState,
                    granted=st.booleans(),
                    changed_at=st.sampled_from(
                        [T0, T0 + timedelta(days=1), datetime(2026, 1, 1, 1, tzinfo=UTC)]
                    ),
                ),
                max_size=2,
            )
        )
        traits = draw(
            st.dictionaries(
                st.sampled_from(["city", "first_name", "country"]),
                st.sampled_from(["", "Leeds", "Ann", "GB"]),
            )
        )
        out.append(
            make_record(
                draw(st.sampled_from(["crm", "shop", "email"])),
                str(n),
                email=draw(st.lists(st.sampled_from(EMAILS[:3]), max_size=2, unique=True)),
                phone=draw(st.lists(st.sampled_from(PHONES[:2]), max_size=1)),
                day=day,
                traits=traits,
                orders=list({o.id: o for o in orders}.values()),
                consent=consent,
            )
        )
    return out


@BUILDING
@given(records=customers(), rules=st.sampled_from(RULES), version=st.integers(0, 3))
def test_build_profile_equals_the_reference_fold(
    records: list[SourceRecord], rules: MergeRules, version: int
) -> None:
    """GIVEN any customer's records and rules WHEN folded THEN the profile the slow fold gives."""
    profile = build_profile("cus_x", records, rules, version)
    expected = _reference_build_profile("cus_x", records, rules, version)
    assert profile == expected
    assert profile.model_dump_json() == expected.model_dump_json()
    assert profile_hash(profile) == profile_hash(expected)
    assert merge_traits(records, rules) == _reference_merge_traits(records, rules)
    assert merge_consent(records) == _reference_merge_consent(records)
    assert type(profile.computed) is ComputedTraits
