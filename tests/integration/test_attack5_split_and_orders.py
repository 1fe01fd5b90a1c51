"""attack5: what the random programs (test_attack5_odd_orders.py) found about splits and orders,
as fixed examples on the in-memory, SQLite and DynamoDB (moto) stores.

* A split did not move the mailbox marker (``IDENT#mailbox#...`` / ``HOLDER#``) of a Gmail-style
  address to the customer split off with it: a request naming another spelling of the address
  found nobody, erased nothing and suppressed the whole mailbox, while her customer lived on.
* The redaction of other customers' histories left the person's record id where an event listed
  it as an identifier: the owner link that joined her order (``source#shop:contact:...``).
* An erasure missed a customer merged into hers when the record that founded it had left her
  customer since (split off again): its tombstone and its history, naming the record, stayed.
  The merge events of her history name it; the erasure reads them now.
* The redaction of a copy inherited from a third customer (a customer the erased one founded,
  merged into another) wrote the redacted event under the third customer and left the copy.
* An order pulled after its owner's record was retired took over the owner's tombstone as its
  link without the deletion's time, so a late copy of the owner's deleted version was stored again
  (and so did the link a retirement keeps for an order pulled before). The link keeps the
  tombstone's hash and time now, also when a merge hands it over (core.ingest_changeset).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from core.retirement import SourceDeletion, retire_records
from core.testing.records import T0
from tests.integration.test_attack5_odd_orders import POLICY, Program
from tests.integration.test_erasure_attacks import BOOKKEEPING, STORES, Stores


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _run(stores: Stores, steps: list[tuple[Any, ...]]) -> Program:
    program = Program(stores, fast=False)
    for step in steps:
        program.run(step)
        program.check()
    return program


def test_a_request_naming_another_spelling_finds_the_customer_split_off_with_the_address(
    stores: Stores,
) -> None:
    # GIVEN Ann's HubSpot contact and shop record on ann.home@gmail.com, one customer; the contact
    # then changes to her work address, so the shop record is split off with the Gmail address
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("put", [(("hubspot", "annx0"), {1}, 0, 0)]),
        ],
    )
    split_off = program.owners()["shop:contact:annx1"]
    assert split_off != program.owners()["hubspot:contact:annx0"]
    # WHEN Ann is erased as ann.home+shop@gmail.com (the same mailbox: Gmail drops dots and tags)
    program.run(("erase", "ann", 0, 1))
    # THEN the customer split off is found and erased (checked by the program: its records gone,
    # the mailbox suppressed, no item naming them), and a later sign-up on the mailbox is dropped
    assert "shop:contact:annx1" not in program.owners()
    program.check()
    program.run(("put", [(("mail", "annx2"), {0}, 0, 2)]))
    assert "mail:contact:annx2" not in program.owners()


@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])  # the in-memory store has no items to read
def test_an_erased_buyers_owner_link_leaves_the_history_of_the_customer_she_was_split_from(
    store: str,
) -> None:
    with STORES[store]() as stores:
        _the_buyer_erased(stores)


def _the_buyer_erased(stores: Stores) -> None:
    # GIVEN Ann's contact and shop record on one address, and then, in one batch, the contact on
    # another spelling and her order at the shop (whose owner is her shop record): split in two
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("put", [(("hubspot", "annx0"), {0}, 1, 1), (("shop", "anno0"), {0}, 0, 0)]),
        ],
    )
    # WHEN the person holding the shop record and the order is erased by its spelling
    program.run(("erase", "ann", 0, 0))
    # THEN no event of the contact's customer names her shop record, as a source or as the link
    left = [(pk, sk) for pk, sk, rest in stores.rows() if not pk.startswith(BOOKKEEPING) and "annx1" in rest]
    assert left == []
    program.check()


@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])  # the in-memory store has no items to read
def test_a_customer_merged_in_by_a_record_that_left_since_is_erased_with_the_survivor(store: str) -> None:
    # GIVEN Ann's contact and shop record on two spellings of her mailbox (two customers in exact
    # identity), then both changed in one batch to the other's spelling: the contact's customer is
    # merged into the shop record's, and the contact split off again (under a new id of its series)
    with STORES[store]() as stores:
        program = _run(
            stores,
            [
                ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 1)]),
                ("put", [(("hubspot", "annx0"), {0}, 0, 1), (("shop", "annx1"), {0}, 0, 0)]),
            ],
        )
        # WHEN Ann is erased by the address her shop record holds now
        program.run(("erase", "ann", 0, 0))
        # THEN the customer merged in (founded by the contact, which left it) goes too: no item
        # of it names her contact (the program's check reads every item)
        program.check()
        assert [(pk, sk) for pk, sk, rest in stores.rows() if "annx0" in f"{sk} {rest}"] == []


@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])  # the in-memory store has no items to read
def test_a_copy_inherited_from_a_third_customer_names_her_no_more(store: str) -> None:
    # GIVEN Ann's contact (its customer founded by it) merged into her shop record's customer by a
    # change of addresses in one batch, and split off again: the shop record's customer keeps a copy
    # of the contact's arrival, inherited from the customer the contact founded
    with STORES[store]() as stores:
        program = _run(
            stores,
            [
                ("put", [(("hubspot", "annx0"), {0, 1}, 0, 0), (("shop", "annx1"), {0}, 0, 1)]),
                ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {1}, 0, 0)]),
            ],
        )
        # WHEN the contact's person is erased by her address
        program.run(("erase", "ann", 0, 0))
        # THEN no history names the contact: the inherited copy was rewritten under the customer it
        # came from (a store writes an event under its own customer), and stayed where it was
        program.check()
        assert [(pk, sk) for pk, sk, rest in stores.rows() if "annx0" in f"{sk} {rest}"] == []


def test_a_late_copy_of_a_retired_owner_stays_retired_after_its_order_arrives(stores: Stores) -> None:
    # GIVEN Ann's shop record retired at the shop, then an order of hers naming it as its owner
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("retire", ("shop", "annx1")),
            ("put", [(("shop", "anno0"), {0}, 0, 0)]),
        ],
    )
    # WHEN the shop record's version from before the deletion arrives late
    late = program.model.sent[("shop", "annx1")][0]
    program.stores.ingest([late.source_record()], POLICY)
    # THEN it is stale: the record stays retired
    assert "shop:contact:annx1" not in program.owners()


def test_a_late_copy_of_an_owner_retired_under_its_order_stays_retired(stores: Stores) -> None:
    # GIVEN Ann's shop record and an order of hers naming it as its owner, then the record retired
    # at the shop: the order keeps the record's id as its owner link
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("put", [(("shop", "anno0"), {2}, 0, 0)]),
            ("retire", ("shop", "annx1")),
        ],
    )
    # WHEN the shop record's version from before the deletion arrives late
    program.run(("replay", ("shop", "annx1"), 0))
    # THEN it is stale: the record stays retired, the order stays with her contact
    program.check()
    assert "shop:contact:annx1" not in program.owners()


def test_a_late_copy_of_a_retired_owner_stays_retired_after_its_orders_customer_is_merged(
    stores: Stores,
) -> None:
    # GIVEN Ann's shop record retired, then an order naming it as its owner and her work address
    # (a customer of its own), then her contact taking the work address too: the order's customer
    # is merged into her contact's (the smaller id survives), the owner link handed over with it
    # by a batch that does not name it
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("retire", ("shop", "annx1")),
            ("put", [(("shop", "anno0"), {1}, 0, 0)]),
            ("put", [(("hubspot", "annx0"), {0, 1}, 0, 0)]),
        ],
    )
    owners = program.owners()
    assert owners["shop:order:anno0"] == owners["hubspot:contact:annx0"]
    # WHEN the shop record's version from before the deletion arrives late
    program.run(("replay", ("shop", "annx1"), 0))
    # THEN it is stale: the record stays retired
    program.check()
    assert "shop:contact:annx1" not in program.owners()


@pytest.mark.parametrize("order_first", [True, False], ids=["order-before-deletion", "order-after-deletion"])
def test_a_retired_owner_recreated_at_the_vendor_comes_back_to_its_orders(
    stores: Stores, order_first: bool
) -> None:
    # GIVEN Ann's shop record retired at the shop, and an order of hers naming it as its owner
    # (pulled before the deletion, or after it)
    order = ("put", [(("shop", "anno0"), {2}, 0, 0)])
    retire = ("retire", ("shop", "annx1"))
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            *((order, retire) if order_first else (retire, order)),
        ],
    )
    # WHEN the record is created again at the shop (the same id and content, a newer time)
    program.run(("put", [(("shop", "annx1"), {0}, 0, 0)]))
    # THEN it is stored again, with her contact and her order (the program checks the groups)
    program.check()
    owners = program.owners()
    assert owners["shop:contact:annx1"] == owners["shop:order:anno0"] == owners["hubspot:contact:annx0"]
    # AND its version from before the deletion, arriving late, is stale next to it
    program.run(("replay", ("shop", "annx1"), 0))
    program.check()


def test_a_second_deletion_of_an_owner_its_order_links_to_retires_nothing(stores: Stores) -> None:
    # GIVEN Ann's shop record retired at the shop, then an order naming it as its owner
    program = _run(
        stores,
        [
            ("put", [(("hubspot", "annx0"), {0}, 0, 0), (("shop", "annx1"), {0}, 0, 0)]),
            ("retire", ("shop", "annx1")),
            ("put", [(("shop", "anno0"), {0}, 0, 0)]),
        ],
    )
    before = program.owners()
    # WHEN the shop reports the deletion again (a page pulled twice)
    deletion = SourceDeletion(
        source="shop", object_type="contact", source_id="annx1", deleted_at=T0 + timedelta(days=9)
    )
    result = retire_records([deletion], program.stores.profiles, program.stores.erasure, program.settings)
    # THEN the record was retired already: nothing changes, the order stays with her contact
    assert (result.absent, result.retired, result.stale) == (1, 0, 0)
    assert program.owners() == before
    program.check()
