"""Blocking keys of a retired rule (core.linkage.blocking.RETIRED_RULES) on the three stores.

This version no longer files records under birth date + postcode (``bp:``). A store written by an
earlier version still lists its records there: those filings must go when the record they name is
replaced by a new version, and when she is erased (the privacy promise: nobody is found through an
erased person's birth date and postcode), while new records are never filed there.
"""

from __future__ import annotations

from core.link_index import BlockChange
from core.link_nodes import forget_records
from core.link_scope import LinkageSettings
from core.linkage.blocking import blocking_keys, retired_keys
from core.linkage.fields import from_source_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit


def _ann(postcode: str, day: int) -> SourceRecord:
    traits = {
        "first_name": "Ann",
        "last_name": "Lee",
        "date_of_birth": "1980-03-07",
        "postal_code": postcode,
        "city": "Leeds",
    }
    return make_record("crm", "1", email="ann@example.com", day=day, traits=traits)


def _listed(kit: StoreKit, key: str) -> frozenset[str]:
    state = kit.profiles.get_blocks([key]).get(key)
    return state.members if state is not None else frozenset()


def _filed_as_before_the_upgrade(kit: StoreKit, record: SourceRecord) -> str:
    (key,) = retired_keys(from_source_record(record))
    kit.profiles.update_blocks([BlockChange(key, frozenset({record.key}))])
    assert _listed(kit, key) == {record.key}
    return key


def test_records_are_no_longer_filed_under_a_retired_rule(kit: StoreKit) -> None:
    """GIVEN Ann with a birth date and a postcode WHEN ingested with fuzzy matching THEN she is filed
    under her blocking keys and not under the retired birth date + postcode key."""
    settings = IngestSettings(linkage=LinkageSettings(), sleep=lambda _: None)
    ann = _ann("LS1 4AP", 0)
    ingest([ann], kit.profiles, settings)
    (retired,) = retired_keys(from_source_record(ann))
    assert retired.startswith("bp:")
    assert retired not in blocking_keys(from_source_record(ann))
    assert _listed(kit, retired) == frozenset()
    assert all(_listed(kit, key) == {ann.key} for key in blocking_keys(from_source_record(ann)))


def test_a_new_version_leaves_the_retired_key_its_old_one_was_filed_under(kit: StoreKit) -> None:
    """GIVEN Ann stored and listed under her retired key, as an earlier version filed her, WHEN she
    moves (a new version, another postcode) THEN the old retired key no longer lists her, and her new
    version is filed under no retired key."""
    settings = IngestSettings(linkage=LinkageSettings(), sleep=lambda _: None)
    ingest([_ann("LS1 4AP", 0)], kit.profiles, settings)
    old = _filed_as_before_the_upgrade(kit, _ann("LS1 4AP", 0))
    moved = _ann("YO1 7HH", 1)
    ingest([moved], kit.profiles, settings)
    assert _listed(kit, old) == frozenset()
    (new,) = retired_keys(from_source_record(moved))
    assert new != old
    assert _listed(kit, new) == frozenset()


def test_an_unchanged_delivery_keeps_and_an_erasure_takes_the_retired_filing(kit: StoreKit) -> None:
    """GIVEN Ann stored and listed under her retired key WHEN the same version is delivered again THEN
    nothing is written for it; WHEN she is erased (the index part of every erasure) THEN no key of
    hers, retired or not, lists her."""
    settings = IngestSettings(linkage=LinkageSettings(), sleep=lambda _: None)
    ann = _ann("LS1 4AP", 0)
    ingest([ann], kit.profiles, settings)
    retired = _filed_as_before_the_upgrade(kit, ann)
    ingest([_ann("LS1 4AP", 0)], kit.profiles, settings)
    assert _listed(kit, retired) == {ann.key}
    forget_records(kit.profiles, [ann])
    assert _listed(kit, retired) == frozenset()
    assert all(_listed(kit, key) == frozenset() for key in blocking_keys(from_source_record(ann)))
