"""People's decisions in the link graph (core.linkage.graph ``link_graph``): an accepted pair is a
must-link edge, a rejected pair a cannot-link constraint on the fuzzy links.

A rejection keeps its two records apart whatever chain of fuzzy links would join them: the fuzzy
links are added strongest first, and the one that would put a rejected pair into one component is
refused (so the weakest link of each chain gives way, ties by record keys). Only links a person or
an identifier makes (accepted pairs, shared identifier values, source ids) join a rejected pair.
Hypothesis draws the graphs (fuzzy links with random weights, accepted and rejected pairs, shared
emails) and checks the rule, and that the components do not depend on the order of the nodes or of
the decisions.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.linkage import Decision, GraphNode, ReviewState, link_graph
from core.linkage.fields import LinkageRecord
from core.linkage.model import default_model
from core.linkage.scoring import PairScore

MODEL = default_model()
KEYS = [f"crm:contact:{i}" for i in range(6)]
Pair = tuple[str, str]


def _node(key: str, email: str | None = None) -> GraphNode:
    record = LinkageRecord(key, first_name="hana", last_name="sato")
    return GraphNode(record, links=(f"source#{key}",), values=(f"email#{email}",) if email else ())


def _link(a: str, b: str, weight: float) -> Decision:
    return Decision(a, b, "link", f"score {weight}", PairScore(a, b, weight, 0.99, ()))


def _must_components(n: int, accepted: set[Pair], emails: dict[str, str], keys: list[str]) -> dict[str, int]:
    """Record -> its component under the must-links alone (accepted pairs, shared emails)."""
    parent = {k: k for k in keys[:n]}

    def find(k: str) -> str:
        while parent[k] != k:
            k = parent[k]
        return k

    for a, b in accepted:
        parent[find(a)] = find(b)
    by_email: dict[str, list[str]] = {}
    for key, email in emails.items():
        by_email.setdefault(email, []).append(key)
    for holders in by_email.values():
        for other in holders[1:]:
            parent[find(other)] = find(holders[0])
    roots = sorted({find(k) for k in parent})
    return {k: roots.index(find(k)) for k in parent}


PAIRS = [(a, b) for i, a in enumerate(KEYS) for b in KEYS[i + 1 :]]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, dict[Pair, float], dict[Pair, str], dict[str, str]]:
    n = draw(st.integers(3, len(KEYS)))
    pairs = [p for p in PAIRS if p[1] in KEYS[:n]]
    links = draw(st.dictionaries(st.sampled_from(pairs), st.sampled_from([3.0, 5.0, 5.0, 8.0]), max_size=8))
    verdicts = draw(
        st.dictionaries(st.sampled_from(pairs), st.sampled_from(["accepted", "rejected"]), max_size=4)
    )
    emails = draw(
        st.dictionaries(st.sampled_from(KEYS[:n]), st.sampled_from(["a@x.org", "b@x.org"]), max_size=2)
    )
    return n, links, verdicts, emails


def _components(
    n: int, links: dict[Pair, float], verdicts: dict[Pair, str], emails: dict[str, str], order: list[int]
) -> list[tuple[str, ...]]:
    nodes = [_node(KEYS[i], emails.get(KEYS[i])) for i in order if i < n]
    decisions = {p: _link(*p, w) for p, w in links.items()}
    # The decisions in an order the permutation gives too (the graph reads a mapping: any order).
    ranked = sorted(verdicts.items(), key=lambda kv: order.index(KEYS.index(kv[0][0])))
    reviews = {p: ReviewState(v, "ops") for p, v in ranked}
    return link_graph(nodes, MODEL, decisions, reviews=reviews).components


@settings(max_examples=300, deadline=None)
@given(graphs(), st.permutations(range(len(KEYS))))
def test_a_rejected_pair_is_apart_unless_people_or_identifiers_join_it(
    drawn: tuple[int, dict[Pair, float], dict[Pair, str], dict[str, str]], order: list[int]
) -> None:
    """GIVEN fuzzy links, people's decisions and shared emails over namesakes WHEN the graph is built
    THEN each rejected pair is in two components unless accepted pairs and shared emails alone join
    it, each accepted pair is in one, and the components are the same in any order of the nodes."""
    n, links, verdicts, emails = drawn
    components = _components(n, links, verdicts, emails, list(range(len(KEYS))))
    assert components == _components(n, links, verdicts, emails, order)
    where = {key: i for i, component in enumerate(components) for key in component}
    accepted = {p for p, v in verdicts.items() if v == "accepted"}
    must = _must_components(n, accepted, emails, KEYS)
    for (a, b), verdict in verdicts.items():
        if verdict == "accepted":
            assert where[a] == where[b]
        elif must[a] != must[b]:
            assert where[a] != where[b], (a, b, components)


def test_the_weakest_link_of_a_chain_through_a_rejected_pair_gives_way() -> None:
    """GIVEN 0~1 (weight 8) and 1~2 (weight 5) linking, and 0~2 rejected THEN 1~2 gives way: {0, 1}, {2}."""
    a, b, c = KEYS[:3]
    links = {(a, b): 8.0, (b, c): 5.0}
    assert _components(3, links, {(a, c): "rejected"}, {}, [0, 1, 2]) == [(a, b), (c,)]
    links = {(a, b): 5.0, (b, c): 8.0}
    assert _components(3, links, {(a, c): "rejected"}, {}, [2, 1, 0]) == [(a,), (b, c)]


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_a_fuzzy_link_is_refused_as_rejected_only_when_it_would_join_a_rejected_pair(
    drawn: tuple[int, dict[Pair, float], dict[Pair, str], dict[str, str]],
) -> None:
    """GIVEN fuzzy links, people's decisions and shared emails over namesakes WHEN the graph is built
    THEN each link refused as ``rejected`` is a rejected pair, or its two records end in components
    holding a rejected pair between them (the components only grow after it: the link would have
    joined that pair); and every link not refused is an edge of the graph (the one before only
    checks the components, which link_graph computes from its nodes sorted by key)."""
    n, links, verdicts, emails = drawn
    nodes = [_node(KEYS[i], emails.get(KEYS[i])) for i in range(n)]
    reviews = {p: ReviewState(v, "ops") for p, v in verdicts.items()}
    result = link_graph(nodes, MODEL, {p: _link(*p, w) for p, w in links.items()}, reviews=reviews)
    where = {key: i for i, component in enumerate(result.components) for key in component}
    rejected = {p for p, v in verdicts.items() if v == "rejected"}
    across = {frozenset((where[a], where[b])) for a, b in rejected if where[a] != where[b]}
    refused = {(r.a, r.b): r.kind for r in result.refused}
    assert set(refused.values()) <= {"rejected", "cap"}, result.refused  # namesakes: no conflicts
    for (a, b), kind in refused.items():
        if kind == "rejected" and (a, b) not in rejected:
            assert frozenset((where[a], where[b])) in across, (a, b, result.components)
    # A link whose pair a shared email or an accept joins already is that edge, not a fuzzy one.
    edged = {(e.a, e.b): e.kind for e in result.edges}
    for pair in links:
        if pair in refused:
            assert pair not in edged or edged[pair] != "fuzzy", (pair, result.edges)
        else:
            assert pair in edged, (pair, result.refused, result.edges)
