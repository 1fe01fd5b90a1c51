"""attack18: her erasure landing inside a merge batch that holds her record, between the batch's
suppression check and its write of the refused-values index, on the three stores.

core/suppression.py ``SuppressionCheck.split`` reads the suppression entries of the batch's keys
(``_split``), then writes the index entries of the records it keeps (``index.put``), and the commit
comes after, guarded by her suppression (``guards``: the addresses written whole in the refused values
too). Her erasure deletes "the entries naming her records ... and then every entry left under her keys'
hashes" (docs/privacy.md, "the index of refused values"), and core/privacy_refused_index.py promises
"An entry that names a record of the erased person is deleted by her erasure: her records' ids are not
left in the table". An erasure that lands after the batch's read and before its ``put`` has nothing
to delete yet; the ``put`` then writes ``REFUSED#<her address's hash>`` / ``source#crm:contact:2``,
the commit is refused by her suppression (the batch, planned again, drops her record), and the entry
stays: her record's id, under the hash of her address, after her erasure answered complete. (The same
request sent again, answering ``not_found``, does delete it: every entry under her hashes goes. Nothing
says to send it again: the first answered ``"ok": true``.)

The same hole in the upgrade's backfill (``profilesync privacy index-refused``, core/privacy_refused_index.py
``backfill``): it reads a page of customers, then writes their records' entries; her erasure between
the two leaves the entry of her record, and the marker written after makes the index trusted.

Her record is the household case the index exists for (tests/integration/store_port/
test_priv24_refused_index_on_every_store.py): her address refused in a field (``Name <address>``),
the household's phone as its identifier.

Fixed (priv26, core/privacy_refused_stale.py): the round that drops her record as suppressed deletes
the entries an earlier round wrote for it (``after_suppressed``), and the backfill deletes again the
entries of a page's records no longer stored once it has written them (``put_while_stored``).
"""

from __future__ import annotations

from typing import Any

from core.privacy import identifier_for
from core.privacy_refused_index import backfill
from core.storage.refused_index import refused_index
from core.suppression import keyed_hash
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import HER, OLU
from tests.integration.store_port.test_privacy22_on_every_store import SALT, _erase, _erasure, _stored
from tests.integration.store_port.test_refused_candidates_on_every_store import _hers

HER_HASH = keyed_hash(SALT, f"email#{HER}")


def test_her_erasure_between_a_batchs_suppression_read_and_its_index_write_leaves_no_entry(
    kit: StoreKit,
) -> None:
    # GIVEN a store whose refused-values index is complete, the household's customer (Olu) stored
    assert kit.suppression is not None
    index = refused_index(kit.profiles)
    assert index is not None
    backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    _stored(kit, OLU)
    # AND her erasure made the moment the merge of a batch holding her record has read the
    # suppression entries of its keys (her address's hash among them) and found none
    erasures: list[Any] = []
    read = kit.suppression.suppressed

    def read_then_erase(hashes: Any) -> Any:
        found = read(hashes)
        if not erasures and HER_HASH in hashes and not found:
            erasures.append(None)  # the erasure's own reads pass through
            erasures[0] = _erase(kit, _erasure(kit), identifier_for(email=HER), "req-between")
        return found

    kit.suppression.suppressed = read_then_erase  # type: ignore[method-assign]
    try:
        # WHEN that batch (her record: the household's phone, her address refused) is merged
        _stored(kit, _hers())
    finally:
        del kit.suppression.suppressed
    # THEN her erasure answered, her record is stored nowhere, Olu's is kept ...
    assert [e.complete for e in erasures] == [True]
    held = {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert "2" not in held
    assert OLU.source_id in held
    # ... and no entry of the index is under her address's hash or names her record
    assert index.records([HER_HASH]) == {}


def test_her_erasure_during_the_refused_index_backfill_leaves_no_entry(kit: StoreKit) -> None:
    # GIVEN a store written before the index (no entry, no marker): Olu's customer holding her record
    # by the household's phone, her address refused in it
    from core.pipeline import IngestSettings, ingest

    ingest([OLU, _hers()], kit.profiles, IngestSettings(sleep=lambda _: None))
    index = refused_index(kit.profiles)
    assert index is not None
    assert not index.complete()
    # AND her erasure made the moment `profilesync privacy index-refused` (core's backfill) has read
    # the page of customers holding refused values
    erasures: list[Any] = []
    read = kit.profiles.get_customers

    def read_then_erase(ids: Any) -> Any:
        found = read(ids)
        if not erasures:
            erasures.append(None)  # the erasure's own reads pass through
            erasures[0] = _erase(kit, _erasure(kit), identifier_for(email=HER), "req-backfill")
        return found

    kit.profiles.get_customers = read_then_erase
    try:
        # WHEN the backfill runs
        backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    finally:
        del kit.profiles.get_customers
    # THEN her erasure answered and took her record from Olu's customer ...
    assert [e.complete for e in erasures] == [True]
    held = {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert "2" not in held
    assert OLU.source_id in held
    # ... the index is complete, and no entry is under her address's hash or names her record
    assert index.complete()
    assert index.records([HER_HASH]) == {}
