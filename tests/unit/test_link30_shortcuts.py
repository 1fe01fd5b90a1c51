"""Issue 13's throughput, round 30: each shortcut gives what the code it replaced gave.

- A record's graph node (``core.link_nodes._graph_node``) reads its identifiers in one pass and asks
  the blocklist once per value: the same node as the five passes and two blocklist tests before
  (``_graph_node_reference``), on hypothesis-made records (emails and phones blocklisted or not, in
  any order, one mailbox under two spellings, a national id, people and child objects).
- A record's places in its blocks (``filing_orders``) are worked out once per order (the two address
  rules share one): the same places as ``order_string`` under each key's own shape.
- ``link_graph`` sorts only the source keys and values two records hold (or the index knows
  overloaded): the same graph as every one sorted, including a value one record holds that the
  index calls overloaded (its holder is refused, as before).
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.link_nodes import _graph_node
from core.linkage import GraphNode, blocking_keys, default_model, email_match_key, link_graph, linkage_record
from core.linkage.block_order import block_shape, filing_orders, order_string
from core.linkage.graph import make_node
from core.schema import Identifier, SourceRecord

POLICY = IdentityPolicy(blocked_values=frozenset({"noreply@shop.example", "+441111111111"}))

_EMAILS = ["ann.lee@gmail.com", "annlee@googlemail.com", "noreply@shop.example", "bob@work.example"]
_PHONES = ["+447700900123", "+441111111111", "+447700900456"]
_TRAITS = {
    "first_name": st.sampled_from(["Ann", "Bob", "Ann-Marie"]),
    "last_name": st.sampled_from(["Lee", "O'Neil"]),
    "date_of_birth": st.sampled_from(["1980-03-07", "1975-12-31"]),
    "postal_code": st.sampled_from(["SW1A 1AA", "LS1 4AP"]),
    "address": st.sampled_from(["12 High Street", "4 Park Lane"]),
    "city": st.sampled_from(["London", "Leeds"]),
    "national_id": st.sampled_from(["QQ123456C", "000000000"]),
}


def _graph_node_reference(record: SourceRecord, policy: IdentityPolicy) -> GraphNode:
    """``_graph_node`` as it was before round 30."""
    usable = [i for i in record.identifiers if i.kind != "source" and not policy.is_blocked(i)]
    prepared = linkage_record(
        record.key,
        record.traits,
        [i.value for i in usable if i.kind == "email"],
        [i.value for i in usable if i.kind == "phone"],
    )
    values: list[str] = []
    for ident in usable:
        if ident.kind == "source" or policy.is_blocked(ident):
            continue
        values.append(f"email#{email_match_key(ident.value)}" if ident.kind == "email" else ident.key)
    if prepared.national_id:
        values.append(f"national_id#{prepared.national_id}")
    person = record.level == "person"
    return make_node(
        prepared,
        person,
        tuple(i.key for i in record.identifiers if i.kind == "source"),
        tuple(dict.fromkeys(values)),
        blocking_keys(prepared) if person else (),
    )


@st.composite
def _records(draw: st.DrawFn) -> SourceRecord:
    identifiers = draw(
        st.lists(
            st.one_of(
                st.sampled_from(_EMAILS).map(lambda v: Identifier(kind="email", value=v)),
                st.sampled_from(_PHONES).map(lambda v: Identifier(kind="phone", value=v)),
                st.sampled_from(["crm:contact:9", "shop:customer:4"]).map(
                    lambda v: Identifier(kind="source", value=v)
                ),
            ),
            max_size=6,
            unique_by=lambda i: (i.kind, i.value),
        )
    )
    traits = draw(st.fixed_dictionaries({}, optional=_TRAITS))
    child = draw(st.booleans())
    return SourceRecord(
        source="shop",
        object_type="order" if child else "customer",
        source_id="7",
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        identifiers=tuple(identifiers),
        traits=traits,
        level="child" if child else "person",
        owner="shop:customer:4" if child else None,
    )


@settings(max_examples=300, deadline=None)
@given(_records())
@example(
    # One mailbox under two spellings and a blocklisted email between them, phones first: the values
    # keep the identifiers' order, each once, without the blocklisted one.
    SourceRecord(
        source="shop",
        object_type="customer",
        source_id="7",
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        identifiers=(
            Identifier(kind="phone", value="+447700900123"),
            Identifier(kind="email", value="ann.lee@gmail.com"),
            Identifier(kind="email", value="noreply@shop.example"),
            Identifier(kind="source", value="crm:contact:9"),
            Identifier(kind="email", value="annlee@googlemail.com"),
            Identifier(kind="phone", value="+441111111111"),
        ),
        traits={"first_name": "Ann", "national_id": "QQ123456C"},
    )
)
def test_a_records_node_is_the_one_the_five_passes_made(record: SourceRecord) -> None:
    # GIVEN a record; WHEN its graph node is made in one pass; THEN it is the node made before
    assert _graph_node(record, POLICY) == _graph_node_reference(record, POLICY)
    assert _graph_node(record, POLICY).blocks == _graph_node_reference(record, POLICY).blocks


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({}, optional=_TRAITS))
def test_a_records_places_are_its_order_string_under_each_keys_shape(traits: dict[str, str]) -> None:
    # GIVEN a record's blocking keys (the address rules' among them, which share an order)
    record = linkage_record("crm:contact:1", traits, ["ann.lee@gmail.com"], [])
    keys = blocking_keys(record)
    # WHEN its places are filed; THEN each is its order string under that key's own shape
    assert filing_orders(record, keys) == {key: order_string(record, block_shape(key)) for key in keys}


def test_a_value_one_record_holds_that_the_index_calls_overloaded_is_still_refused() -> None:
    # GIVEN two records sharing an email, and a phone only one of them holds that the index knows is
    # held by too many records
    ann = linkage_record(
        "crm:1", {"first_name": "Ann", "last_name": "Lee"}, ["ann@x.example"], ["+447700900123"]
    )
    her = linkage_record("shop:2", {"first_name": "Ann", "last_name": "Lee"}, ["ann@x.example"], [])
    nodes = [
        GraphNode(ann, values=("email#ann@x.example", "phone#+447700900123"), links=("source#crm:1",)),
        GraphNode(her, values=("email#ann@x.example",), links=("source#shop:2",)),
    ]
    # WHEN the graph is built
    result = link_graph(nodes, default_model(), {}, overloaded_values={"phone#+447700900123"})
    # THEN the shared email joins them and the lone overloaded phone is refused to its holder
    assert result.components == [("crm:1", "shop:2")]
    assert [(key, value) for key, value, _ in result.hits] == [("crm:1", "phone#+447700900123")]
    assert [(e.a, e.b, e.kind) for e in result.edges] == [("crm:1", "shop:2", "identifier")]
