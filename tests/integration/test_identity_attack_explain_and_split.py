"""Attack: the explanation of a probabilistic customer matches its records, and a record whose
evidence changes leaves.

``identity_explanation`` (core/link_explain.py) is compared with the customer's stored records: every
edge it shows must hold on those records (a shared email is held by both, a fuzzy link's score is
what ``decide`` gives the two records now), and its edges must connect every record of the customer
(a join without an edge is a join nobody can account for). Splits are checked against a fresh
resolve of the latest versions.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from core.link_explain import identity_explanation
from core.linkage import decide, email_match_key, from_source_record
from core.pipeline import IngestSettings
from core.schema import SourceRecord
from core.storage.sqlite import SQLiteProfileStore
from tests.integration.identity_attack_records import (
    HANA,
    Flat,
    flat,
    groups,
    ingest_settings,
    latest,
    resolve_lines,
    sqlite_store,
)
from tests.integration.test_identity_attack_order import histories


def _connected(records: set[str], edges: list[Mapping[str, Any]]) -> bool:
    parent = {r: r for r in records}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for edge in edges:
        a, b = edge["records"]
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    return len({find(r) for r in records}) <= 1


def _edge_problems(
    edge: Mapping[str, Any], records: Mapping[str, SourceRecord], settings: IngestSettings
) -> list[str]:
    """What of ``edge`` the two stored records do not bear out (empty: it holds)."""
    a, b = (records.get(k) for k in edge["records"])
    if a is None or b is None:
        return [f"{edge['records']}: the edge names a record the store does not hold"]
    kind, reason = edge["kind"], str(edge["reason"])
    if kind == "identifier":
        value = reason.split(" ")[-1]
        held = [
            {
                email_match_key(i.value) if i.kind == "email" else i.value
                for i in r.identifiers
                if i.kind != "source"
            }
            for r in (a, b)
        ]
        if not any(value in h for h in held) or not (held[0] & held[1]):
            return [f"{edge['records']}: {reason!r} is not a value both records hold ({held})"]
        return []
    if kind == "fuzzy":
        assert settings.linkage is not None
        assert settings.linkage.model is not None
        decision = decide(from_source_record(a), from_source_record(b), settings.linkage.model)
        if decision.outcome != "link":
            return [f"{edge['records']}: shown as a fuzzy link, but the records now decide {decision.reason}"]
        shown = edge["score"]["probability"]
        if decision.score is None or abs(decision.score.probability - shown) > 1e-6:
            return [f"{edge['records']}: shown with score {shown}, the records score {decision.score}"]
        return []
    return []


def _explanation_problems(store: SQLiteProfileStore, settings: IngestSettings) -> list[str]:
    problems: list[str] = []
    profiles = list(store.iter_profiles())
    states = store.get_customers([p.customer_id for p in profiles])
    every: dict[str, SourceRecord] = {}
    for state in states.values():
        every.update(state.snapshots)
    for state in states.values():
        explained = identity_explanation(store, state, settings)
        own = set(state.snapshots)
        if explained["records"] != sorted(own):
            problems.append(f"{state.customer_id}: explains {explained['records']}, holds {sorted(own)}")
        for edge in explained["edges"]:
            problems += _edge_problems(edge, every, settings)
        if not _connected(own, explained["edges"]):
            problems.append(
                f"{state.customer_id}: records {sorted(own)} joined without edges {explained['edges']}"
            )
    return problems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_every_edge_explained_holds_on_the_records_and_every_join_has_one(
    history: tuple[list[Flat], int],
) -> None:
    """GIVEN every version of records of people typed with slips across tools, delivered shuffled in
    batches of 7 WHEN each customer is explained THEN each edge's shared value is held by both its
    records, each fuzzy edge is a link ``decide`` still makes at the score shown, and the edges
    connect all of the customer's records."""
    versions, seed = history
    random.Random(seed).shuffle(versions)
    store = sqlite_store()
    settings = ingest_settings()
    resolve_lines(versions, store, batch_size=7, settings=settings)
    assert _explanation_problems(store, settings) == []


@pytest.mark.parametrize("batch_size", [1, 500])
def test_a_record_whose_birth_date_is_corrected_leaves_and_takes_nothing_along(batch_size: int) -> None:
    """GIVEN Hana in three tools joined by name, birth date and address (one without a birth date)
    WHEN the shop corrects its record to another woman's first name and birth date THEN the shop
    record is a customer of its own, the other two stay one, and neither profile keeps the
    other's name or birth date; the explanation of each accounts for what is left."""
    lines = [
        flat("crm", "1", **HANA, email="hana.sato@corp.jp"),
        flat("shop", "2", **HANA, email="hanasato92@icloud.com"),
        flat("mail", "3", **{k: v for k, v in HANA.items() if k != "date_of_birth"}, email="h.s@example.org"),
    ]
    store = sqlite_store()
    settings = ingest_settings()
    resolve_lines(lines, store, batch_size=batch_size, settings=settings)
    assert groups(store) == {frozenset({"crm:1", "shop:2", "mail:3"})}

    corrected = flat(
        "shop",
        "2",
        day=3,
        **{**HANA, "first_name": "Yuki", "date_of_birth": "2001-01-09"},
        email="hanasato92@icloud.com",
    )
    resolve_lines([corrected], store, batch_size=batch_size, settings=settings)

    assert groups(store) == {frozenset({"crm:1", "mail:3"}), frozenset({"shop:2"})}
    for profile in store.iter_profiles():
        traits = {name: str(t.value) for name, t in profile.traits.items()}
        holds_shop = any(s.id == "2" for s in profile.sources)
        assert (traits.get("first_name", "").lower() == "yuki") == holds_shop, traits
        assert (traits.get("date_of_birth") == "2001-01-09") == holds_shop, traits
    assert _explanation_problems(store, settings) == []


@pytest.mark.parametrize("batch_size", [1, 500])
def test_a_bridge_record_corrected_away_splits_the_two_it_joined(batch_size: int) -> None:
    """GIVEN Hana's CRM record and her shop record sharing no identifier and not linking directly
    (the shop record has another address and no birth date), both joined through a newsletter record
    holding the shop's email and the CRM's name, birth date and address WHEN the newsletter record is
    corrected to someone else THEN three customers: nothing joins the other two any more; the result
    is what a fresh resolve of the latest versions gives."""
    lines = [
        flat("crm", "1", **HANA, email="hana.sato@corp.jp"),
        flat(
            "shop",
            "2",
            first_name="Hana",
            last_name="Sato",
            address="40 Bridge St",
            postcode="BS8 1TH",
            email="hanasato92@icloud.com",
        ),
        flat("mail", "3", **HANA, email="hanasato92@icloud.com"),
    ]
    store = sqlite_store()
    settings = ingest_settings()
    resolve_lines(lines, store, batch_size=batch_size, settings=settings)
    assert groups(store) == {frozenset({"crm:1", "shop:2", "mail:3"})}

    corrected = flat(
        "mail",
        "3",
        day=2,
        first_name="Ken",
        last_name="Ito",
        date_of_birth="1960-01-02",
        address="9 Mill Lane",
        postcode="M4 5JD",
        email="ken@example.com",
    )
    resolve_lines([corrected], store, batch_size=batch_size, settings=settings)

    fresh = sqlite_store()
    resolve_lines(latest([*lines, corrected]), fresh, batch_size=500)
    assert (
        groups(store) == groups(fresh) == {frozenset({"crm:1"}), frozenset({"shop:2"}), frozenset({"mail:3"})}
    )
    assert _explanation_problems(store, settings) == []
