"""priv24: the index of refused values (core.privacy_refused_index) on the three stores.

Her record under a household member's customer, her address refused in it, is found by her erasure
through the index's entries (written by ``SuppressionCheck.split`` before the record is stored) by key
reads: no pass over the store's records, no customer read that the index does not name. A store
written before the index is read as before until ``backfill`` marks its index complete; her erasure
leaves no entry naming a record of hers.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest

from core.pipeline import IngestSettings, ingest
from core.privacy import identifier_for
from core.privacy_refused_index import backfill
from core.schema import DroppedValue, SourceRecord
from core.storage.refused_index import refused_index
from core.suppression import keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import HER, OLU
from tests.integration.store_port.test_privacy22_on_every_store import SALT, _erase, _erasure, _stored
from tests.integration.store_port.test_refused_candidates_on_every_store import _hers, _refused_elsewhere

HER_KEY = f"email#{HER}"


def _reads(kit: StoreKit) -> tuple[list[str], list[int], Any]:
    """The customers read, the passes over every record, and a patch recording both."""
    read: list[str] = []
    passes: list[int] = []
    inner, scan = kit.profiles.get_customers, kit.profiles.customers_with_refused_values

    def counting(ids: Any) -> Any:
        read.extend(ids)
        return inner(ids)

    def scanning() -> Any:
        passes.append(1)
        return scan()

    both = patch.multiple(kit.profiles, get_customers=counting, customers_with_refused_values=scanning)
    return read, passes, both


def _customer_of(kit: StoreKit, source_id: str) -> str:
    return next(p.customer_id for p in kit.profiles.iter_profiles() for r in p.sources if r.id == source_id)


def test_her_erasure_finds_her_refused_record_by_the_index_alone(kit: StoreKit) -> None:
    # GIVEN a store whose index is complete from the start, a stranger holding a refused value that
    # is not hers, and her record under the household's customer, her address refused in it
    index = refused_index(kit.profiles)
    assert index is not None
    backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))  # nothing stored: complete
    _stored(kit, _refused_elsewhere(), OLU, _hers())
    assert index.records([keyed_hash(SALT, HER_KEY)]) == {keyed_hash(SALT, HER_KEY): {"crm:contact:2"}}
    stranger = _customer_of(kit, "9")
    read, passes, counting = _reads(kit)
    # WHEN she is erased by her address
    with counting:
        _erase(kit, _erasure(kit), identifier_for(email=HER), "req-index")
    # THEN her record left the household's customer, found with no pass over the store's records and
    # without reading the stranger's customer; the entry naming her record is gone
    held = {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert "2" not in held
    assert OLU.source_id in held
    assert passes == []
    assert stranger not in read
    assert index.records([keyed_hash(SALT, HER_KEY)]) == {}


def test_a_store_written_before_the_index_is_read_whole_until_its_backfill(kit: StoreKit) -> None:
    # GIVEN records stored by a writer of before the index (no suppression check: no entries)
    ingest([_refused_elsewhere(), OLU, _hers()], kit.profiles, IngestSettings(sleep=lambda _: None))
    index = refused_index(kit.profiles)
    assert index is not None
    assert not index.complete()
    # WHEN the backfill runs THEN her record and the stranger's are indexed, and the index complete
    written = backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    assert written == 1  # hers (the stranger's refused phone holds no number)
    assert index.complete()
    stranger = _customer_of(kit, "9")
    read, passes, counting = _reads(kit)
    with counting:
        _erase(kit, _erasure(kit), identifier_for(email=HER), "req-backfilled")
    assert "2" not in {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert (passes, stranger in read) == ([], False)


def test_without_the_marker_her_erasure_reads_every_record_as_before(kit: StoreKit) -> None:
    # GIVEN her record stored by a writer of before the index: no entry, no marker
    ingest([OLU, _hers()], kit.profiles, IngestSettings(sleep=lambda _: None))
    # WHEN she is erased THEN the pass over the records finds her (an incomplete index is not read as
    # if it were whole: that would miss her)
    _erase(kit, _erasure(kit), identifier_for(email=HER), "req-before")
    assert "2" not in {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}


def _with_refused(record: SourceRecord, field: str, value: str) -> SourceRecord:
    return record.model_copy(update={"dropped": (DroppedValue(field=field, value=value, reason="refused"),)})


@pytest.mark.parametrize("named", ["address", "record id"])
def test_her_erasure_leaves_no_entry_naming_her_own_records(kit: StoreKit, named: str) -> None:
    # GIVEN her own record holding a refused value naming her friend's number (indexed under it)
    mine = _with_refused(make_record("crm", "5", email=HER), "phone", "Kim +1 202 555 0177 (mobile)")
    _stored(kit, mine)
    index = refused_index(kit.profiles)
    assert index is not None
    kim = keyed_hash(SALT, "phone#+12025550177")
    assert index.records([kim]) == {kim: {"crm:contact:5"}}
    # WHEN she is erased THEN no entry names her record any more
    identifier = identifier_for(email=HER) if named == "address" else identifier_for(source="crm:contact:5")
    _erase(kit, _erasure(kit), identifier, "req-own")
    assert index.records([kim]) == {}


def test_her_erasure_leaves_no_stale_entry_under_her_hashes(kit: StoreKit) -> None:
    # GIVEN her record under the household's customer, and an entry under her address's hash left by
    # a commit that failed (a record that was never stored) and one of a record pulled again since
    # without her address (the stranger's)
    index = refused_index(kit.profiles)
    assert index is not None
    backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    _stored(kit, _refused_elsewhere(), OLU, _hers())
    hers = keyed_hash(SALT, HER_KEY)
    index.put([(hers, "crm:contact:never-stored"), (hers, "shop:contact:9")])
    # WHEN she is erased THEN nothing is left under her hash
    _erase(kit, _erasure(kit), identifier_for(email=HER), "req-stale")
    assert index.records([hers]) == {}
    assert "2" not in {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
