"""Ingest with probabilistic identity: the customers are the components of the link graph, in any order.

The records come from a few personas built to make every kind of edge and refusal happen: people
found by name, birth date and address alone, Gmail addresses that differ by dots and ``+tags``, a
family sharing one inbox, a father and son of one name and address, a record holding nothing but a
name and an address. Every version of every record, shuffled and delivered in batches of any size,
must give the customers that one batch of the latest versions gives, and those must be the
components ``link_graph`` finds over the same records.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.link_scope import LinkageSettings
from core.linkage import link_graph
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.split import split_customer
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from tests.conftest import make_record

LINKED = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())

# name, birth date, street, postcode, emails, phones
PERSONAS: list[tuple[str, str, str, str, str, list[str], list[str]]] = [
    (
        "John",
        "Smith",
        "1980-05-17",
        "12 High Street",
        "LS1 4AP",
        ["john.smith@gmail.com", "j.smith@acme.com"],
        ["+442079460018"],
    ),
    ("Johnny", "Smith", "1980-05-17", "12 High St", "LS1 4AP", ["johnsmith+shop@gmail.com"], []),
    ("Sue", "Parker", "1977-09-21", "3 Elm Road", "BS1 4DJ", ["the.parkers@example.net"], ["+442079460101"]),
    ("Tom", "Parker", "1975-03-02", "3 Elm Road", "BS1 4DJ", ["the.parkers@example.net"], []),
    ("David", "Okafor", "1961-02-11", "27 Park Lane", "N1 9GU", ["d.okafor@mail.com"], ["+442079460222"]),
    ("David", "Okafor", "1999-10-23", "27 Park Lane", "N1 9GU", ["dokafor99@gmail.com"], []),
    ("Hana", "Sato", "1992-11-30", "8 Mill Lane", "M4 5JD", ["hana.sato@corp.jp"], ["+442079460333"]),
    ("Hana", "Sato", "1992-11-30", "40 Bridge St", "BS8 1TH", ["hanasato92@icloud.com"], []),
]
SOURCES = ["crm", "shop", "mail"]


@st.composite
def persona_record(draw: st.DrawFn, source: str, number: int, day: int) -> SourceRecord:
    first, last, dob, street, postcode, emails, phones = draw(st.sampled_from(PERSONAS))
    # each trait is present in four of five records, as tools fill them
    traits = {
        name: value
        for name, value in (
            ("first_name", first),
            ("last_name", last),
            ("date_of_birth", dob),
            ("address", street),
            ("postal_code", postcode),
        )
        if draw(st.integers(0, 9)) < 8
    }
    email = draw(st.lists(st.sampled_from(emails), max_size=1))
    phone = draw(st.lists(st.sampled_from(phones), max_size=1)) if phones else []
    return make_record(source, str(number), email=email, phone=phone, day=day, traits=traits)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[SourceRecord], list[SourceRecord]]:
    keys = draw(st.sets(st.tuples(st.sampled_from(SOURCES), st.integers(0, 4)), min_size=1, max_size=10))
    first = [
        draw(persona_record(source, number, day=draw(st.integers(0, 3)))) for source, number in sorted(keys)
    ]
    later = [
        draw(persona_record(r.source, int(r.source_id), day=10 + draw(st.integers(0, 3))))
        for r in first
        if draw(st.booleans())
    ]
    return first, later


def _groups(store: InMemoryProfileStore) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}


def _graph_groups(records: Sequence[SourceRecord], settings: IngestSettings) -> set[frozenset[str]]:
    assert settings.linkage is not None
    nodes = [graph_node(r, settings.policy) for r in records]
    limits = settings.linkage.limits(settings.policy)
    result = link_graph(nodes, settings.linkage.model, people_limits=limits)
    return {frozenset(c) for c in result.components}


def _deliver(store: InMemoryProfileStore, deliveries: list[SourceRecord], rng: random.Random) -> None:
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, 5)
        batch = deliveries[start : start + size]
        result = ingest(batch, store, LINKED)
        assert result.received == len(batch) == result.written + result.unchanged + result.stale
        assert result.unsplit == []
        start += size


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
def test_every_version_in_any_order_gives_the_components_of_the_link_graph(
    history: tuple[list[SourceRecord], list[SourceRecord]], seed: int
) -> None:
    """GIVEN records of people who share names, birth dates, addresses, Gmail mailboxes and a family
    inbox, and later versions that change them WHEN every version is delivered shuffled, in batches
    of any size THEN the customers are what one batch of the latest versions resolves to, and those
    are the link graph's components over the latest versions."""
    first, later = history
    latest = list(({r.key: r for r in first} | {r.key: r for r in later}).values())
    reference = InMemoryProfileStore()
    ingest(latest, reference, LINKED)
    rng = random.Random(seed)
    deliveries = first + later
    rng.shuffle(deliveries)
    store = InMemoryProfileStore()
    _deliver(store, deliveries, rng)
    assert _groups(store) == _groups(reference) == _graph_groups(latest, LINKED)
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def test_people_without_a_shared_identifier_are_one_customer_and_split_when_evidence_changes() -> None:
    # GIVEN Hana Sato in two tools: a work email in one, a private one in the other, same birth date
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=_hana())
    shop = make_record("shop", "2", email="hanasato92@icloud.com", traits=_hana(), day=1)
    store = InMemoryProfileStore()
    # WHEN they arrive one at a time
    ingest([crm], store, LINKED)
    result = ingest([shop], store, LINKED)
    # THEN one customer, joined by a fuzzy link
    assert result.fuzzy_links == 1
    assert _groups(store) == {frozenset({crm.key, shop.key})}
    # WHEN the shop record turns out to be someone else (another birth date and first name)
    other = make_record(
        "shop",
        "2",
        email="hanasato92@icloud.com",
        traits={**_hana(), "first_name": "Yuki", "date_of_birth": "2001-01-09"},
        day=2,
    )
    result = ingest([other], store, LINKED)
    # THEN the customer is split, as it is for an identifier that went away
    assert result.split_customers == 1
    assert _groups(store) == {frozenset({crm.key}), frozenset({shop.key})}


def _hana() -> dict[str, str]:
    return {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30", "postal_code": "M4 5JD"}


def test_gmail_dots_and_tags_join_while_the_stored_emails_stay_as_typed() -> None:
    a = make_record("crm", "1", email="john.smith@gmail.com", traits={"first_name": "John"})
    b = make_record("shop", "2", email="JohnSmith+shop@googlemail.com".lower(), day=1)
    store = InMemoryProfileStore()
    ingest([a], store, LINKED)
    ingest([b], store, LINKED)
    [profile] = store.iter_profiles()
    emails = {i.value for i in profile.identifiers if i.kind == "email"}
    assert emails == {"john.smith@gmail.com", "johnsmith+shop@googlemail.com"}


def test_a_family_inbox_joins_no_one_whatever_the_order() -> None:
    family = [
        make_record(
            "shop",
            "a",
            email="the.parkers@example.net",
            traits={"first_name": "Tom", "date_of_birth": "1975-03-02"},
        ),
        make_record(
            "shop",
            "b",
            email="the.parkers@example.net",
            traits={"first_name": "Sue", "date_of_birth": "1977-09-21"},
        ),
        make_record("mail", "c", email="the.parkers@example.net"),
    ]
    for order in ([0, 1, 2], [2, 0, 1], [2, 1, 0], [1, 2, 0]):
        store = InMemoryProfileStore()
        hits = []
        for i in order:
            hits += ingest([family[i]], store, LINKED).guardrail_hits
        assert _groups(store) == {frozenset({r.key}) for r in family}, order
        assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    assert any("conflicts" in h.reason for h in hits)


def test_one_person_in_nine_tools_is_one_profile_while_nine_colleagues_on_one_phone_are_nine() -> None:
    # GIVEN one person's records in nine tools on one phone (over the record limit of 5), and nine
    # colleagues on a switchboard
    person = [
        make_record(
            f"tool{n}", "1", phone="+442079460000", traits={"first_name": "Carla", "last_name": "Diaz"}
        )
        for n in range(9)
    ]
    colleagues = [
        make_record("crm", str(n), phone="+442079461111", traits={"first_name": name})
        for n, name in enumerate(["Alice", "Dev", "Wei", "Omar", "Lena", "Ivan", "Rosa", "Sven", "Yara"])
    ]
    store = InMemoryProfileStore()
    ingest(person + colleagues, store, LINKED)
    groups = _groups(store)
    assert frozenset(r.key for r in person) in groups
    assert {frozenset({r.key}) for r in colleagues} <= groups


def test_a_record_with_only_a_name_and_an_address_finds_its_person() -> None:
    crm = make_record(
        "crm",
        "1",
        email="d.okafor@mail.com",
        traits={
            "first_name": "David",
            "last_name": "Okafor",
            "date_of_birth": "1961-02-11",
            "address": "27 Park Lane",
            "postal_code": "N1 9GU",
        },
    )
    lead = make_record(
        "crm",
        "2",
        traits={
            "first_name": "David",
            "last_name": "Okafor",
            "date_of_birth": "1961-02-11",
            "address": "27 Park Lane",
            "postal_code": "N1 9GU",
        },
        day=1,
    )
    store = InMemoryProfileStore()
    ingest([crm], store, LINKED)
    ingest([lead], store, LINKED)
    assert _groups(store) == {frozenset({crm.key, lead.key})}


def test_a_chain_whose_ends_conflict_is_cut_at_its_weakest_link() -> None:
    # GIVEN A and C with different birth dates, and B (no birth date) matching both
    base = {"first_name": "Ann", "last_name": "Lee", "address": "4 Elm Rd", "postal_code": "BS1 4DJ"}
    a = make_record("crm", "a", traits={**base, "date_of_birth": "1985-02-03"})
    b = make_record("shop", "b", traits=base, email="ann.lee@example.com")
    c = make_record("mail", "c", traits={**base, "date_of_birth": "1990-07-21"})
    for order in ([a, b, c], [c, b, a], [b, a, c], [b, c, a]):
        store = InMemoryProfileStore()
        for record in order:
            ingest([record], store, LINKED)
        groups = _groups(store)
        # THEN A and C are never one customer, in any order
        assert not any({a.key, c.key} <= g for g in groups), order
        assert groups == _graph_groups([a, b, c], LINKED)


def test_split_customer_with_linkage_is_a_no_op_for_a_customer_that_holds_together() -> None:
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=_hana())
    shop = make_record("shop", "2", email="hanasato92@icloud.com", traits=_hana(), day=1)
    store = InMemoryProfileStore()
    ingest([crm, shop], store, LINKED)
    [profile] = store.iter_profiles()
    assert split_customer(store, profile.customer_id, LINKED) == []


def test_the_policy_limits_apply_in_people() -> None:
    policy = IdentityPolicy(max_records_per_identifier={"email": 2, "phone": 2})
    settings = IngestSettings(policy=policy, sleep=lambda _: None, linkage=LinkageSettings())
    # three nameless records on one email: three people, over the limit of two
    records = [make_record("crm", str(n), email="info@shop.example") for n in range(3)]
    store = InMemoryProfileStore()
    result = ingest(records, store, settings)
    assert len(_groups(store)) == 3
    assert {h.identifier_key for h in result.guardrail_hits} == {"email#info@shop.example"}


def test_the_decision_cache_answers_as_decide_and_sees_a_changed_record() -> None:
    # GIVEN two records of one person and a cache of two decisions at most
    from core.link_scope import DecisionCache
    from core.linkage import decide, default_model

    policy = IdentityPolicy()
    model = default_model()
    crm = graph_node(make_record("crm", "1", email="hana.sato@corp.jp", traits=_hana()), policy)
    shop = graph_node(make_record("shop", "2", email="hanasato92@icloud.com", traits=_hana()), policy)
    cache = DecisionCache(limit=2)
    # WHEN decided twice THEN the same decision as decide, the second time from the cache
    first = cache.decide([crm, shop], [(0, 1)], model)
    assert first == {(crm.key, shop.key): decide(crm.record, shop.record, model)}
    assert cache.decide([crm, shop], [(0, 1)], model) == first
    assert len(cache.known) == 1
    # WHEN the shop record changes (another person's birth date) THEN it is decided afresh
    other = graph_node(
        make_record("shop", "2", email="x@y.jp", traits={**_hana(), "date_of_birth": "2001-01-09"}), policy
    )
    again = cache.decide([crm, other], [(0, 1)], model)
    assert again[(crm.key, other.key)] == decide(crm.record, other.record, model)
    assert again[(crm.key, other.key)].outcome != first[(crm.key, shop.key)].outcome
    # AND the changed record's decision replaced the stale one rather than sit beside it
    assert len(cache.known) == 1
    # AND decisions past the limit: the cache starts afresh rather than grow
    third = graph_node(make_record("mail", "3", email="z@y.jp", traits=_hana()), policy)
    fourth = graph_node(make_record("mail", "4", email="w@y.jp", traits=_hana()), policy)
    cache.decide([crm, third], [(0, 1)], model)
    assert len(cache.known) == 2
    cache.decide([crm, fourth], [(0, 1)], model)
    assert len(cache.known) == 1
