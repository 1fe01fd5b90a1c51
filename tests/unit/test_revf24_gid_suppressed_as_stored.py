"""revF24: a privacy erase naming a Shopify customer by its GID, while profilesync holds nothing of
her yet (not pulled since she signed up) and Shopify is not among the tools asked (``erase: false``),
suppresses the key her record will be stored under (``shopify:customer:<number>``, the connector's
``ConnectorSpec.stored_id``). ``as_stored`` kept the GID as written when no tool was asked, so the
suppression named a key no record carries and her next pull brought her in, erased."""

from __future__ import annotations

from connectors.shopify._mapping import stored_id
from core.schema import Identifier, SourceRecord
from core.testing.records import make_record
from tests.unit.test_erasure import World


def test_an_erase_by_gid_of_a_person_not_held_suppresses_her_stored_key() -> None:
    world = World.empty()
    world.ingest([make_record("crm", "1", email="bob@example.com")])
    # GIVEN her erase, named by her customer's GID, before any pull brought her in; Shopify not asked
    gid = Identifier(kind="source", value="shopify:customer:gid://shopify/Customer/191167")
    world.erase(gid, stored_ids={"shopify": stored_id})
    # WHEN the next pull brings her customer, stored under its number
    record = replace_customer(make_record("shopify", "191167", email="ann@example.com"))
    again = world.ingest([record])
    # THEN it is suppressed: nothing of hers is stored
    assert again.suppressed == 1, again
    assert "email#ann@example.com" not in world.profiles.ident_owners()


def replace_customer(record: SourceRecord) -> SourceRecord:
    """The record as Shopify's connector writes a customer (object type ``customer``)."""
    ids = tuple(
        Identifier(kind="source", value="shopify:customer:191167") if i.kind == "source" else i
        for i in record.identifiers
    )
    return record.model_copy(update={"object_type": "customer", "identifiers": ids})
