"""priv26: an entry of the index of refused values goes when its record no longer holds the value.

Her address refused in a record under a household member's customer (``Zéphyrine Quillfeather
<address>``) is indexed under her address's keyed hash beside the record's key (core.privacy_refused_
index). When that record is pulled again without the value, or retired at its vendor, the entry is
deleted (core.privacy_refused_stale): the table keeps no keyed hash of her address beside a record that
no longer holds it. A record pulled again *with* the value keeps its entry, and so does one pulled
again while another writer's version stored since still holds it. On the three stores.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.privacy_refused_stale import after_commit
from core.retirement import retire_records
from core.schema import DroppedValue, SourceDeletion, SourceRecord
from core.storage.refused_index import refused_index
from core.suppression import SuppressionCheck, keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import HER, HOUSEHOLD, OLU
from tests.integration.store_port.test_privacy22_on_every_store import SALT, _erasure, _stored
from tests.integration.store_port.test_refused_candidates_on_every_store import _hers

HER_HASH = keyed_hash(SALT, f"email#{HER}")
T0 = "2026-03-01T00:00:00Z"


def _entries(kit: StoreKit) -> dict[str, set[str]]:
    index = refused_index(kit.profiles)
    assert index is not None
    return index.records([HER_HASH])


def _without_the_value(day: int) -> SourceRecord:
    """Her record at the household's tool, pulled again: the refused value is gone from it."""
    return make_record("crm", "2", phone=HOUSEHOLD, traits={"first_name": "Zéphyrine"}, day=day)


def test_a_record_pulled_again_without_the_value_loses_its_entry(kit: StoreKit) -> None:
    # GIVEN her record stored with her address refused in it: its entry names it
    _stored(kit, OLU, _hers())
    assert _entries(kit) == {HER_HASH: {"crm:contact:2"}}
    # WHEN it is pulled again without that value
    _stored(kit, _without_the_value(day=2))
    # THEN the entry is gone; the record and the household's customer stay
    assert _entries(kit) == {}
    assert kit.profiles.get_owners(["source#crm:contact:2"])


def test_a_record_pulled_again_with_the_value_keeps_its_entry(kit: StoreKit) -> None:
    _stored(kit, OLU, _hers())
    again = _hers().model_copy(
        update={"traits": {"first_name": "Zephyrine"}, "updated_at": datetime(2026, 1, 5, tzinfo=UTC)}
    )
    _stored(kit, again)
    assert _entries(kit) == {HER_HASH: {"crm:contact:2"}}


def test_a_record_pulled_again_with_another_refused_value_keeps_only_the_new_one(kit: StoreKit) -> None:
    _stored(kit, OLU, _hers())
    other = "pat@example.org"
    refused = DroppedValue(field="email", value=f"Pat <{other}>", reason="not an email")
    _stored(kit, _without_the_value(day=2).model_copy(update={"dropped": (refused,)}))
    other_hash = keyed_hash(SALT, f"email#{other}")
    index = refused_index(kit.profiles)
    assert index is not None
    assert index.records([HER_HASH, other_hash]) == {other_hash: {"crm:contact:2"}}


def test_a_record_retired_at_its_vendor_loses_its_entry(kit: StoreKit) -> None:
    _stored(kit, OLU, _hers())
    check = SuppressionCheck(kit.suppression, SALT) if kit.suppression is not None else None
    deletion = SourceDeletion(
        source="crm", object_type="contact", source_id="2", deleted_at=datetime(2026, 2, 1, tzinfo=UTC)
    )
    # WHEN her record is deleted at the household's tool and retired here
    result = retire_records(
        [deletion], kit.profiles, _erasure(kit), IngestSettings(suppression=check, sleep=lambda _: None)
    )
    # THEN its entry goes with it; the household's customer stays
    assert result.retired == 1
    assert _entries(kit) == {}
    assert kit.profiles.get_owners([f"source#{OLU.key}"])


def test_an_entry_a_version_stored_since_needs_is_written_back(kit: StoreKit) -> None:
    # GIVEN her record stored with the value, and a writer that committed a version without it...
    _stored(kit, OLU, _hers())
    check = SuppressionCheck(kit.suppression, SALT)  # type: ignore[arg-type]
    without = _without_the_value(day=2)
    # ...WHEN it removes the entries of the version it replaced, while the stored version is (again) one
    # holding the value (another writer's commit since: here the version first stored)
    deleted = after_commit(kit.profiles, check, [without], {"crm:contact:2": _hers()})
    # THEN the entry it deleted is written back: the stored record holds the value
    assert deleted == 0
    assert _entries(kit) == {HER_HASH: {"crm:contact:2"}}


def _order(status: str, hours: int, refused: bool) -> SourceRecord:
    """An order of a buyer at a shop (a child with its owner link); ``refused``: its email field names
    her address inside a name (refused: no address)."""
    flat: dict[str, object] = {
        "source": "shop",
        "id": "o1",
        "object_type": "order",
        "owner_id": "c1",
        "updated_at": f"2026-03-01T{hours:02}:00:00Z",
        "orders": [{"id": "o1", "total": "10.00", "currency": "EUR", "status": status, "created_at": T0}],
    }
    found = normalise_record(draft_from_flat(flat))
    assert isinstance(found, SourceRecord)
    dropped = (DroppedValue(field="email", value=f"Zéphyrine <{HER}>", reason="not an email"),)
    return found.model_copy(update={"dropped": dropped}) if refused else found


def test_an_order_pulled_again_without_the_value_by_the_add_only_path_loses_its_entry(kit: StoreKit) -> None:
    # GIVEN a buyer and her order, pulled again (the add-only path may plan a batch of it from its
    # customer's profile item from then on), the last time with an email field naming her address
    # inside a name (refused, indexed)
    _stored(kit, make_record("shop", "c1", email="buyer@example.org"), _order("paid", 1, refused=False))
    _stored(kit, _order("paid", 2, refused=False))
    _stored(kit, _order("paid", 3, refused=True))
    assert _entries(kit) == {HER_HASH: {"shop:order:o1"}}
    # WHEN the order alone is pulled again without that value
    _stored(kit, _order("paid", 4, refused=False))
    # THEN its entry is gone (before, the add-only path planned it without reading what it replaced
    # held, and the entry stayed)
    assert _entries(kit) == {}
