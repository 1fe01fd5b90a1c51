"""Identity resolution: grouping, transitivity, guardrails, deterministic ids."""

from __future__ import annotations

from core.identity import IdentityPolicy, customer_id_for, group_records
from core.schema import Identifier
from tests.conftest import make_record


def test_transitive_links_form_one_component() -> None:
    # GIVEN A~B by email and B~C by phone, nothing stored yet
    a = make_record("crm", "1", email="ann@example.com")
    b = make_record("shop", "2", email="ann@example.com", phone="+442079460018")
    c = make_record("email", "3", phone="+442079460018")
    # WHEN the batch is grouped, in either order
    forward, _ = group_records([a, b, c], {}, {}, IdentityPolicy())
    backward, _ = group_records([c, a, b], {}, {}, IdentityPolicy())
    # THEN one new customer holds all three, and the grouping does not depend on order
    assert len(forward) == 1
    assert {r.key for r in forward[0].records} == {a.key, b.key, c.key}
    assert forward == backward
    assert forward[0].survivor == customer_id_for("crm:contact:1")


def test_records_join_the_customers_owning_their_keys_and_merge_picks_smallest_id() -> None:
    # GIVEN two existing customers owning an email and a phone
    owners = {"email#ann@example.com": "cus_b", "phone#+442079460018": "cus_a"}
    bridge = make_record("shop", "9", email="ann@example.com", phone="+442079460018")
    # WHEN a record carrying both arrives
    [component], _ = group_records([bridge], owners, {}, IdentityPolicy())
    # THEN it merges both customers into the smallest id
    assert component.customers == {"cus_a", "cus_b"}
    assert component.survivor == "cus_a"
    assert component.absorbed == {"cus_b"}


def test_blocklisted_values_are_never_used_to_match() -> None:
    # GIVEN two strangers who both typed a no-reply address
    a = make_record("crm", "1", email="noreply@shop.example")
    b = make_record("crm", "2", email="noreply@shop.example")
    # WHEN grouped
    components, hits = group_records([a, b], {}, {}, IdentityPolicy())
    # THEN they stay apart and both uses are reported
    assert len(components) == 2
    assert {(h.record_key, h.reason) for h in hits} == {
        (a.key, "blocklisted value"),
        (b.key, "blocklisted value"),
    }
    assert IdentityPolicy().is_blocked(Identifier(kind="email", value="test@example.com"))
    assert not IdentityPolicy().is_blocked(Identifier(kind="email", value="ann@example.com"))


def test_an_identifier_shared_by_more_records_than_its_limit_is_not_used() -> None:
    # GIVEN an office switchboard number on 4 records, with a phone limit of 3
    policy = IdentityPolicy(max_records_per_identifier={"email": 8, "phone": 3})
    records = [make_record("crm", str(i), phone="+442079460000") for i in range(4)]
    # WHEN grouped
    components, hits = group_records(records, {}, {}, policy)
    # THEN nobody is merged through it, and each use is reported with the reason
    assert len(components) == 4
    assert len(hits) == 4
    assert all("shared by more than 3 records" in h.reason for h in hits)
    # AND at the limit it is still used
    components, hits = group_records(records[:3], {}, {}, policy)
    assert len(components) == 1
    assert not hits


def test_limit_counts_records_already_stored() -> None:
    # GIVEN a phone already held by 3 stored records of customer cus_a (limit 3)
    policy = IdentityPolicy(max_records_per_identifier={"phone": 3})
    holders = {"phone#+442079460000": frozenset({"crm:contact:1", "crm:contact:2", "crm:contact:3"})}
    owners = {"phone#+442079460000": "cus_a"}
    newcomer = make_record("crm", "4", phone="+442079460000")
    # WHEN a fourth record with that phone arrives
    [component], hits = group_records([newcomer], owners, holders, policy)
    # THEN it founds its own customer instead of joining cus_a
    assert component.customers == frozenset()
    assert [h.identifier_key for h in hits] == ["phone#+442079460000"]


def test_customer_id_is_deterministic_and_distinct() -> None:
    assert customer_id_for("crm:contact:1") == customer_id_for("crm:contact:1")
    assert customer_id_for("crm:contact:1") != customer_id_for("crm:contact:2")
    assert customer_id_for("crm:contact:1").startswith("cus_")
