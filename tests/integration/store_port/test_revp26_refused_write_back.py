"""revP26: a refused-index entry is never written back for a record erased (or retired) since.

core.privacy_refused_stale.after_commit deletes the entries of the version a commit replaced that the
new one does not give, then reads the records' ``source#`` items and writes back the entries of a
record "another writer stored since". It took a record that is not stored at all (owner None) as
such a record: when her record was erased between a writer's commit and that deletion, the entry
was written back after her erasure answered, her address's keyed hash beside her erased record's id
(core.privacy_refused_index: "her records' ids are not left in the table"). On the three stores.
"""

from __future__ import annotations

from core.privacy_refused_stale import after_commit
from core.schema import Identifier
from core.suppression import SuppressionCheck
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import OLU
from tests.integration.store_port.test_priv26_refused_stale_on_every_store import (
    HER_HASH,
    _entries,
    _without_the_value,
)
from tests.integration.store_port.test_privacy22_on_every_store import SALT, _erase, _erasure, _stored
from tests.integration.store_port.test_refused_candidates_on_every_store import _hers


def test_an_entry_of_a_record_erased_between_commit_and_clean_up_is_not_written_back(kit: StoreKit) -> None:
    # GIVEN her record stored with her address refused in it (its entry names it)...
    _stored(kit, OLU, _hers())
    assert _entries(kit) == {HER_HASH: {"crm:contact:2"}}
    # ...and a writer's commit of a version without the value, its clean-up not run yet (a writer
    # without the check commits it here: the entry stays, as it does until that clean-up)
    without = _without_the_value(day=2)
    _stored_unchecked(kit, without)
    assert _entries(kit) == {HER_HASH: {"crm:contact:2"}}
    # WHEN the record is erased (by its id) before the writer's clean-up runs
    report = _erase(kit, _erasure(kit), Identifier(kind="source", value="crm:contact:2"), "req-1")
    assert not kit.profiles.get_owners(["source#crm:contact:2"])
    assert report.found
    check = SuppressionCheck(kit.suppression, SALT)  # type: ignore[arg-type]
    after_commit(kit.profiles, check, [without], {"crm:contact:2": _hers()})
    # THEN no entry names her erased record
    assert _entries(kit) == {}


def _stored_unchecked(kit: StoreKit, *records: object) -> None:
    from core.pipeline import IngestSettings, ingest

    ingest(list(records), kit.profiles, IngestSettings(sleep=lambda _: None))  # type: ignore[arg-type]
