"""explain: which identifiers join which records, why, and whether they still join up."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from core.governance.explain import Link, explain
from core.identity import IdentityPolicy
from core.schema import Identifier
from core.testing.records import make_record


def test_a_shared_email_joins_two_records_and_says_so() -> None:
    a = make_record("hubspot", "1", email="ann@example.com", phone="+442079460018")
    b = make_record("shopify", "2", email="ann@example.com")
    found = explain("cus_x", [b, a])
    assert [r.key for r in found.records] == ["hubspot:contact:1", "shopify:contact:2"]
    [join] = found.joins
    assert (join.identifier, join.records, join.used, join.reason) == (
        "email#ann@example.com",
        ("hubspot:contact:1", "shopify:contact:2"),
        True,
        "shared email",
    )
    assert found.connected
    assert found.groups == (("hubspot:contact:1", "shopify:contact:2"),)


def test_a_blocklisted_value_is_shown_but_joins_nothing() -> None:
    # GIVEN two records that share only a blocklisted address (as after an update removed the real one)
    a = make_record("hubspot", "1", email="noreply@shop.example")
    b = make_record("shopify", "2", email="noreply@shop.example", phone="+442079460018")
    found = explain("cus_x", [a, b])
    # THEN the join is listed as not used, and the records no longer form one group
    [join] = found.joins
    assert not join.used
    assert "blocklisted" in join.reason
    assert not found.connected
    assert len(found.groups) == 2


def test_a_value_shared_beyond_its_limit_says_it_matches_nothing_new() -> None:
    records = [make_record("crm", str(i), phone="+442079460018") for i in range(3)]
    found = explain("cus_x", records, policy=IdentityPolicy(max_records_per_identifier={"phone": 2}))
    assert "more than the limit of 2" in found.joins[0].reason
    assert found.connected


def test_links_from_elsewhere_join_groups_and_links_to_strangers_are_dropped() -> None:
    a = make_record("hubspot", "1", email="ann@example.com")
    b = make_record("shopify", "2", phone="+442079460018")
    assert not explain("cus_x", [a, b]).connected
    links = [
        Link(a.key, b.key, "fuzzy", "names and birth dates agree", 0.97),
        Link(a.key, "x:y:z", "fuzzy", "n"),
    ]
    found = explain("cus_x", [a, b], links=links)
    assert found.connected
    assert [lk.b for lk in found.links] == [b.key]


@given(seed=st.integers(0, 10_000), n=st.integers(1, 6))
def test_the_explanation_does_not_depend_on_the_order_records_come_in(seed: int, n: int) -> None:
    rng = random.Random(seed)
    emails = ["a@example.com", "b@example.com", "noreply@example.com"]
    records = [make_record("crm", str(i), email=rng.sample(emails, rng.randint(1, 2))) for i in range(n)]
    shuffled = records[:]
    rng.shuffle(shuffled)
    assert explain("cus_x", records) == explain("cus_x", shuffled)


def test_a_child_object_joins_its_owner_by_the_owners_id() -> None:
    # GIVEN a Shopify customer and one of its orders, which names the customer by id
    owner = make_record("shopify", "7", email="ann@example.com")
    order = make_record("shopify", "o1").model_copy(
        update={
            "object_type": "order",
            "identifiers": (Identifier(kind="source", value="shopify:contact:7"),),
            "level": "child",
            "owner": "shopify:contact:7",
        }
    )
    found = explain("cus_x", [owner, order])
    # THEN the owner's id is the join, and says so
    [join] = found.joins
    assert join.identifier == "source#shopify:contact:7"
    assert join.reason.startswith("owner id")
    assert found.connected


def test_only_people_count_towards_a_limit() -> None:
    # GIVEN one person's email on her record and on six of her orders, with a limit of two holders
    person = make_record("shop", "p", email="ann@example.com")
    orders = [
        make_record("shop", f"o{i}", email="ann@example.com").model_copy(update={"level": "child"})
        for i in range(6)
    ]
    found = explain(
        "cus_x", [person, *orders], policy=IdentityPolicy(max_records_per_identifier={"email": 2})
    )
    # THEN the email is an ordinary join: one person holds it
    assert found.joins[0].reason == "shared email"
