"""attack6: FEBRL's people, shuffled, split into random batches, with late versions and an erasure.

Hypothesis draws a neighbourhood of FEBRL's synthetic people (Christen's generator: typos, nicknames,
swapped fields, replaced birth dates and names; a person has up to nine records), taken in the order
of a drawn field (surname, postcode, birth date or street) so that its records share blocking keys,
and later versions of some records: a name or birth date replaced by another person's (a record that
leaves its person, or a correction that brings it back), a move to another's address, an older
version that must lose. Every version is delivered shuffled in batches of a drawn size, under the
shipped model or the same model without vetoes (what training on FEBRL3 and FEBRL4 gives:
docs/identity.md), into the in-memory, SQLite and (fewer, smaller) DynamoDB stores. Then:

1. the customers are the components of the link graph over the latest versions (``link_graph``),
   and the customers and pending review pairs are those of one batch of them on a fresh store;
2. one customer is erased (by a record id, with the settings ingest uses) in both stores, and every
   version is delivered again: the customers and the review queue still agree with the fresh store
   given the same records, none of the erased records comes back, and no review item names one.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.link_scope import LinkageSettings
from core.linkage import LinkageModel, link_graph
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.febrl_records import febrl, person
from tests.integration.identity_attack_records import Flat, groups, latest, product_linkage, resolve_lines
from tests.integration.test_erasure_attacks import SALT, Stores, dynamodb_stores, memory_stores, sqlite_stores
from tests.integration.test_link_graph_interleaved import _same as same_customers
from tests.integration.test_link_graph_interleaved import _same_queue as same_queue

#: Examples a run tries (``ATTACK6_EXAMPLES=300`` to hunt; 12 take about 2 s in memory, 3 s on SQLite).
EXAMPLES = int(os.environ.get("ATTACK6_EXAMPLES", "12"))
ORDERS = ("last_name", "postal_code", "date_of_birth", "street")


def _model(vetoes: bool) -> LinkageModel:
    shipped = product_linkage().model
    assert shipped is not None
    return shipped if vetoes else shipped.model_copy(update={"vetoes": ()})


def _settings(stores: Stores, model: LinkageModel) -> IngestSettings:
    return IngestSettings(
        sleep=lambda _: None,
        linkage=LinkageSettings(model=model, model_name="attack6"),
        suppression=SuppressionCheck(stores.suppression, SALT),
    )


def _key(line: Flat) -> str:
    return f"{line['source']}:contact:{line['id']}"


def _short(key: str) -> str:
    return key.replace(":contact:", ":")


@cache
def _ranked(name: str, order: str) -> list[str]:
    """The data set's people, ordered by the field's smallest value among their records."""
    first_of: dict[str, tuple[str, str]] = {}
    for line in febrl(name):
        p = person(line)
        first_of[p] = min(first_of.get(p, ("~", p)), (str(line.get(order, "")), p))
    return sorted(first_of, key=lambda p: first_of[p])


@st.composite
def neighbourhoods(draw: st.DrawFn, most: int) -> list[Flat]:
    """Every version of the records of up to ``most`` people of one neighbourhood of a FEBRL set."""
    name = draw(st.sampled_from(["febrl1", "febrl2", "febrl3", "febrl4"]), label="data set")
    lines = febrl(name)
    ranked = _ranked(name, draw(st.sampled_from(ORDERS), label="ordered by"))
    count = draw(st.integers(2, most), label="people")
    start = draw(st.integers(0, len(ranked) - count), label="from")
    chosen = set(ranked[start : start + count])
    records = [dict(line) for line in lines if person(line) in chosen]
    donors = [dict(line) for line in lines[:400]]  # another person's values to take
    versions: list[Flat] = []
    for record in records:
        versions.append(record)
        for day in range(1, draw(st.integers(0, 2), label="later versions") + 1):
            change = draw(st.sampled_from(["first_name", "date_of_birth", "last_name", "moves", "older"]))
            donor = draw(st.sampled_from(donors))
            version = dict(versions[-1])
            if change == "moves":
                for part in ("house_number", "street", "address_line2", "city", "postal_code", "region"):
                    version.pop(part, None)
                    if part in donor:
                        version[part] = donor[part]
            elif change == "older":
                version = dict(record)
                version[draw(st.sampled_from(["first_name", "date_of_birth"]))] = donor.get("first_name")
                version["updated_at"] = "2025-06-01T00:00:00Z"
                versions.append(version)
                continue
            elif donor.get(change):
                version[change] = donor[change]
            else:
                version.pop(change, None)
            version["updated_at"] = f"2026-01-{1 + day:02d}T00:00:00Z"
            versions.append(version)
    return versions


def _graph_groups(lines: list[Flat], model: LinkageModel) -> set[frozenset[str]]:
    policy = IdentityPolicy()
    nodes = []
    for line in lines:
        record = normalise_record(draft_from_flat(dict(line)))
        assert isinstance(record, SourceRecord)
        nodes.append(graph_node(record, policy))
    result = link_graph(nodes, model, people_limits=LinkageSettings(model=model).limits(policy))
    return {frozenset(_short(key) for key in component) for component in result.components}


def _deliver(stores: Stores, lines: list[Flat], batch: int, model: LinkageModel) -> None:
    for start in range(0, len(lines), batch):
        resolve_lines(
            lines[start : start + batch], stores.profiles, batch_size=batch, settings=_settings(stores, model)
        )


def _same(got: Stores, ref: Stores, when: str) -> None:
    same_customers(got, ref, when)
    same_queue(got, ref, when)


def _orders(
    stores_of: Callable[[], AbstractContextManager[Stores]],
    versions: list[Flat],
    data: st.DataObject,
    reference: Callable[[], AbstractContextManager[Stores]],
) -> None:
    model = _model(data.draw(st.booleans(), label="vetoes"))
    batch = data.draw(st.sampled_from([1, 3, 10, 50, 500]), label="batch")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    shuffled = list(versions)
    random.Random(seed).shuffle(shuffled)
    final = latest(versions)
    with reference() as ref, stores_of() as got:
        resolve_lines(final, ref.profiles, batch_size=500, settings=_settings(ref, model))
        _deliver(got, shuffled, batch, model)
        assert groups(got.profiles) == _graph_groups(final, model)
        _same(got, ref, "after the deliveries")

        # An erasure of one drawn customer, by a record id, as the privacy function makes it.
        key = data.draw(st.sampled_from(sorted(_key(line) for line in final)), label="erased")
        owner = got.profiles.get_owners([f"source#{key}"]).get(f"source#{key}")
        assert owner is not None
        erased = set(got.profiles.get_customers([owner.customer_id])[owner.customer_id].snapshots)
        for stores in (ref, got):
            report = stores.erase(
                Identifier.assemble(kind="source", value=key),
                "req",
                IdentityPolicy(),
                _settings(stores, model),
            )
            assert report.outcome == "erased", report
        _same(got, ref, "after the erasure")
        random.Random(seed + 1).shuffle(shuffled)
        resolve_lines(final, ref.profiles, batch_size=500, settings=_settings(ref, model))
        _deliver(got, shuffled, batch, model)
        _same(got, ref, "after the erasure and a delivery of every version")
        left = {key for customer in groups(got.profiles) for key in customer}
        assert not left & {_short(k) for k in erased}
        keys = sorted({_key(line) for line in final})
        pairs = sorted({(a, b) if a < b else (b, a) for a in erased for b in keys if a != b})
        assert not got.profiles.get_reviews(pairs)


@pytest.mark.slow
@pytest.mark.parametrize("stores_of", [memory_stores, sqlite_stores], ids=["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=neighbourhoods(most=40), data=st.data())
def test_febrl_people_in_any_order_and_batches_are_the_link_graphs_components_before_and_after_an_erasure(
    stores_of: Callable[[], AbstractContextManager[Stores]], versions: list[Flat], data: st.DataObject
) -> None:
    _orders(stores_of, versions, data, reference=stores_of)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(versions=neighbourhoods(most=10), data=st.data())
def test_the_same_on_dynamodb(versions: list[Flat], data: st.DataObject) -> None:
    _orders(dynamodb_stores, versions, data, reference=memory_stores)
