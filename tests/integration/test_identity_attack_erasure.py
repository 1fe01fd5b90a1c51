"""Attack: erasure with probabilistic identity leaves nothing of the person in the identity index.

Hana Sato is in two tools under two emails, joined by name, birth date and address alone (a fuzzy
link); a woman of her name at her address (another birth date) makes review items with her records;
a neighbour shares her postcode. After Hana is erased and every tool's records are imported again
(her tools still hold her), every stored item is read raw, in the embedded store and in DynamoDB
(moto): nothing may name her records, hold her birth date or emails, or list her under a
``BLOCK#`` index key (the hashed form of her name, birth date and address).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

import pytest

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_index import ReviewItem, block_item_key
from core.link_nodes import graph_node, index_keys
from core.link_review import decide
from core.linkage import default_model
from core.normalise import normalise_record
from core.privacy import erase_person
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from tests.integration.identity_attack_records import HANA as BASE
from tests.integration.identity_attack_records import Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import Stores, dynamodb_stores, sqlite_stores

SALT = "identity-attack-salt"
HANA = {**BASE, "city": "Manchester"}
HER = [
    flat("crm", "1", **HANA, email="hana.sato@corp.jp"),
    flat(
        "shop", "2", **{**HANA, "first_name": "HANA", "address": "8 Mill Ln"}, email="hanasato92@icloud.com"
    ),
]
NAMESAKE = flat("shop", "3", **{**HANA, "date_of_birth": "1990-02-14"}, email="hana.s@example.com")
NEIGHBOUR = flat(
    "mail",
    "4",
    first_name="Ken",
    last_name="Ito",
    date_of_birth="1960-01-02",
    address="9 Mill Lane",
    postcode="M4 5JD",
    email="ken@example.com",
)
#: The namesake later: married and moved (no blocking key in common with Hana any more).
MOVED = flat(
    "shop",
    "3",
    day=5,
    first_name="Anna",
    last_name="Brown",
    date_of_birth="1990-02-14",
    address="1 Quay Street",
    postcode="BS1 1AA",
    city="Bristol",
    email="hana.s@example.com",
)
#: What of Hana a stored item may not hold after her erasure (lower case: rows are compared so).
HER_VALUES = ("1992-11-30", "19921130", "hana.sato@corp.jp", "hanasato92", "crm:contact:1", "shop:contact:2")

STORES = pytest.mark.parametrize("stores_of", [sqlite_stores, dynamodb_stores], ids=["sqlite", "dynamodb"])


def _erase_hana(stores: Stores) -> None:
    erase_person(
        Identifier.assemble(kind="email", value="hana.sato@corp.jp"),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-hana",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        policy=IdentityPolicy(),
    )


def _import(stores: Stores, lines: list[Flat]) -> None:
    settings = replace(ingest_settings(), suppression=SuppressionCheck(stores.suppression, SALT))
    resolve_lines(lines, stores.profiles, settings=settings)


def _her_index_items(store: object) -> set[str]:
    """The BLOCK# items Hana's records are filed under (the hash of name, birth date, address keys:
    the store's own, DynamoDB's keyed with its salt)."""
    item_key = getattr(store, "block_pk", block_item_key)
    keys = set()
    for line in HER:
        record = normalise_record(draft_from_flat(dict(line)))
        assert isinstance(record, SourceRecord)
        keys |= {item_key(k) for k in index_keys(graph_node(record, IdentityPolicy()), default_model())}
    return keys


def _leftovers(stores: Stores) -> list[tuple[str, str, str]]:
    """Every stored item (the erasure's own hashed bookkeeping aside) holding something of Hana's."""
    bookkeeping = ("SUPPRESS#", "SUPPRESSION#", "AUDIT#", "PENDING#", "ERASURE#")
    return [
        (pk, sk, value)
        for pk, sk, rest in stores.rows()
        if not pk.startswith(bookkeeping)
        for value in HER_VALUES
        if value in f"{pk} {sk} {rest}".lower()
    ]


@STORES
def test_an_erased_fuzzy_linked_person_leaves_no_index_or_review_item_after_a_reimport(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana's two records joined by a fuzzy link, review items with a namesake at her address,
    and a neighbour WHEN she is erased and every record is imported again THEN no stored item holds
    her birth date, emails or record keys, her BLOCK# keys list nobody but the others' records, and
    the namesake and the neighbour are untouched."""
    with stores_of() as stores:
        _import(stores, [*HER, NAMESAKE, NEIGHBOUR])
        assert groups(stores.profiles) == {
            frozenset({"crm:1", "shop:2"}),
            frozenset({"shop:3"}),
            frozenset({"mail:4"}),
        }
        assert any(pk.startswith("REVIEW") for pk, _, _ in stores.rows())  # the namesake is a review item

        _erase_hana(stores)
        _import(stores, [*HER, NAMESAKE, NEIGHBOUR])

        assert groups(stores.profiles) == {frozenset({"shop:3"}), frozenset({"mail:4"})}
        assert _leftovers(stores) == []
        hers = _her_index_items(stores.profiles)
        assert hers & {pk for pk, _, _ in stores.rows()}  # the namesake's and neighbour's keys
        for pk, _, rest in stores.rows():
            if pk in hers:
                assert "shop:contact:3" in rest or "mail:contact:4" in rest, (pk, rest)


@STORES
def test_an_erasure_drops_the_review_items_of_a_namesake_who_has_since_moved(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana and review items with the namesake at her address WHEN the namesake marries and moves
    (another name, address and postcode: no blocking key shared with Hana) and Hana is then erased
    THEN no item names Hana's records."""
    with stores_of() as stores:
        _import(stores, [*HER, NAMESAKE, NEIGHBOUR])
        _import(stores, [MOVED])
        _erase_hana(stores)
        assert _leftovers(stores) == []


@STORES
def test_an_erasure_drops_a_decided_review_item_of_a_namesake_who_has_since_moved(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    """GIVEN Hana and the namesake at her address, a person's rejection of each of their pairs (kept:
    a decision outlives the pair's doubt), and the namesake then married and moved (no key shared with
    Hana any more) WHEN Hana is erased THEN no item names Hana's records: her review items are found
    through the list of review partners filed under her records."""
    with stores_of() as stores:
        _import(stores, [*HER, NAMESAKE, NEIGHBOUR])
        for item in stores.profiles.pending_reviews():
            decide(stores.profiles, item.pair_id, "rejected", by="ops", settings=ingest_settings())
        _import(stores, [MOVED])
        assert {item.status for item in _review_items(stores)} == {"rejected"}
        _erase_hana(stores)
        assert _leftovers(stores) == []
        assert _review_items(stores) == []


def _review_items(stores: Stores) -> list[ReviewItem]:
    pairs = [("crm:contact:1", "shop:contact:3"), ("shop:contact:2", "shop:contact:3")]
    return list(stores.profiles.get_reviews(pairs).values())


def _pending_pairs(stores: Stores) -> set[tuple[str, str]]:
    return {(item.a, item.b) for item in stores.profiles.pending_reviews()}


@STORES
def test_a_review_item_leaves_the_queue_when_the_pair_stops_being_a_candidate(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        _import(stores, [*HER, NAMESAKE, NEIGHBOUR])
        assert _pending_pairs(stores) == {
            ("crm:contact:1", "shop:contact:3"),
            ("shop:contact:2", "shop:contact:3"),
        }
        _import(stores, [MOVED])
        assert _pending_pairs(stores) == set()
