"""A scope builds its link graph again only when what the graph reads changed.

``Scope._link`` returns the last graph when the records, the decisions, the people's reviews, the
overloaded values and the people limits are the ones it was built from (a round of ingest that only
loaded the customers of records the scope already held). Each input changed on its own must give a
new graph, and every graph ingest reuses must be the one ``link_graph`` builds afresh.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest

from core import link_scope
from core.link_scope import LinkageSettings, Scope
from core.linkage import ReviewState, link_graph
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore
from core.testing.records import make_record
from tests.unit.test_link_reach import _customers, _delivered, _graph_customers, _ingest_in_batches, _records

ANN = {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-03-04", "postal_code": "LS1 4AP"}
BOB = {"first_name": "Bob", "last_name": "Hart", "date_of_birth": "1971-11-20", "postal_code": "BS1 4DJ"}


def _scope() -> Scope:
    return Scope(InMemoryProfileStore(), IngestSettings(linkage=LinkageSettings()))


def _together(scope: Scope, a: str, b: str) -> bool:
    return any(a in c and b in c for c in scope.graph().components)


def test_an_accepted_review_changes_the_graph_built_over_the_same_records() -> None:
    """GIVEN two strangers in a scope, graphed apart WHEN a person's acceptance of the pair is read
    THEN the next graph joins them (the reviews are part of what the graph is built from)."""
    scope = _scope()
    a, b = make_record("crm", "1", traits=ANN), make_record("shop", "2", traits=BOB)
    scope.add_batch([a, b])
    assert not _together(scope, a.key, b.key)
    pair = (a.key, b.key) if a.key < b.key else (b.key, a.key)
    scope.reviews[pair] = ReviewState("accepted", "ops")
    assert _together(scope, a.key, b.key)


def test_a_value_found_overloaded_changes_the_graph_built_over_the_same_records() -> None:
    """GIVEN two strangers sharing one email, joined WHEN the index reports the email overloaded
    THEN the next graph no longer joins them on it."""
    scope = _scope()
    a = make_record("crm", "1", email="desk@example.org", traits=ANN)
    b = make_record("shop", "2", email="desk@example.org", traits={"first_name": "Ann"})
    scope.add_batch([a, b])
    assert _together(scope, a.key, b.key)
    scope.overloaded_values.add("email#desk@example.org")
    assert not _together(scope, a.key, b.key)


def test_a_record_replaced_in_the_scope_changes_the_graph() -> None:
    """GIVEN a person and a nameless record of another email (no blocking key: no pair to decide),
    apart WHEN the nameless record is replaced by a version holding her email THEN the next graph
    joins them on it (the decisions are the same: the nodes themselves are compared)."""
    scope = _scope()
    a = make_record("crm", "1", email="ann@example.org", traits=ANN)
    scope.add_batch([a, make_record("shop", "2", email="someone@example.org")])
    b = make_record("shop", "2", email="ann@example.org", day=1)
    assert not _together(scope, a.key, b.key)
    scope.add_batch([b])
    assert not scope.decisions
    assert _together(scope, a.key, b.key)


def test_a_changed_decision_changes_the_graph_built_over_the_same_records() -> None:
    """GIVEN the same person in two sources, joined on a fuzzy decision WHEN the scope's decision on
    the pair becomes ``no_link`` (a new model's, say) THEN the next graph keeps them apart; and
    WHEN it is the link again THEN they are joined again (the decisions are compared by value)."""
    scope = _scope()
    a = make_record("crm", "1", email="ann@example.org", traits=ANN)
    b = make_record("shop", "2", email="lee.ann@example.org", traits=ANN)
    scope.add_batch([a, b])
    assert _together(scope, a.key, b.key)
    pair = (a.key, b.key) if a.key < b.key else (b.key, a.key)
    linked = scope.decisions[pair]
    assert linked.outcome == "link"
    scope.decisions[pair] = replace(linked, outcome="no_link", reason="refused")
    assert not _together(scope, a.key, b.key)
    scope.decisions[pair] = linked
    assert _together(scope, a.key, b.key)


@pytest.fixture
def reuse_checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every graph a scope returns is compared with ``link_graph`` built afresh from its inputs.
    Returns one entry per graph reused."""
    reused: list[int] = []
    original = Scope._link

    def checked(self: Scope, nodes: Any, decisions: Any = None) -> Any:
        last = self._last_graph
        got = original(self, nodes, decisions)
        if last is not None and got is last[1]:
            reused.append(len(nodes))
        decided = (self.decisions if decisions is None else decisions) if self.model is not None else None
        fresh = link_graph(
            nodes,
            self.model,
            decided,
            people_limits=self.linkage.limits(self.policy),
            overloaded_values=self.overloaded_values,
            reviews=self.reviews,
        )
        assert got == fresh
        return got

    monkeypatch.setattr(link_scope.Scope, "_link", checked)
    return reused


@pytest.mark.parametrize("seed", [5, 6])
def test_every_graph_reused_in_shuffled_batches_is_the_one_built_afresh(
    seed: int, reuse_checked: list[int]
) -> None:
    """GIVEN 200 varied people with older versions of a fifth of their records, shuffled WHEN
    ingested in batches of random sizes THEN every graph a round reuses equals the one ``link_graph``
    builds from that round's inputs, graphs are reused, and the customers are those of the whole
    graph over the latest versions."""
    rng = random.Random(seed)
    latest = _records(200, seed)
    store, settings = _ingest_in_batches(_delivered(latest, rng), rng, [1, 7, 40, 100])
    assert len(reuse_checked) > 5, "no graph was reused"
    assert _customers(store) == _graph_customers(latest, settings)
