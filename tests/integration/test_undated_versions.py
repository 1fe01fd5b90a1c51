"""A stored version dated only by a bound (``SourceRecord.undated``) gives way to a version of other
content that comes after it, whatever its time, and to a tombstone (core.undated), on the three
stores; between two bounds, and against a dated stored version, time still orders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.schema import SourceRecord
from core.testing.records import T0, make_record
from tests.integration.test_privacy_stores import PrivacyStoreSet, stores  # noqa: F401 - the fixture

SETTINGS = IngestSettings(sleep=lambda _: None)
KEY = "source#stripe:contact:cus_1"


def _ann(day: int, city: str, undated: bool = False) -> SourceRecord:
    record = make_record("stripe", "cus_1", email="ann@example.com", day=day, traits={"city": city})
    return record.model_copy(update={"undated": True}) if undated else record


def _city(s: PrivacyStoreSet) -> str:
    (profile,) = list(s.profiles.iter_profiles())
    return str(profile.traits["city"].value)


def test_a_dated_version_replaces_a_stored_undated_one_dated_after_it(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN Ann's record stored undated at day 40 (a bound ahead of the vendor's clock)
    ingest([_ann(40, "Oslo", undated=True)], stores.profiles, SETTINGS)
    # WHEN a version of other content dated day 10 comes after it
    result = ingest([_ann(10, "Bergen")], stores.profiles, SETTINGS)
    # THEN it replaces it, with its own time
    assert (result.written, result.stale) == (1, 0)
    assert _city(stores) == "Bergen"
    assert stores.profiles.get_owners([KEY])[KEY].updated_at == T0 + timedelta(days=10)
    # AND a later version is ordered against that time as usual
    assert ingest([_ann(9, "Oslo")], stores.profiles, SETTINGS).stale == 1
    assert ingest([_ann(11, "Tromsø")], stores.profiles, SETTINGS).written == 1
    assert _city(stores) == "Tromsø"


@pytest.mark.parametrize("undated", [True, False], ids=["undated", "dated"])
def test_a_stored_version_keeps_its_time_order_against_a_bound_or_when_dated(
    stores: PrivacyStoreSet,  # noqa: F811
    undated: bool,
) -> None:
    # GIVEN Ann's record stored at day 40, undated or dated
    ingest([_ann(40, "Oslo", undated=undated)], stores.profiles, SETTINGS)
    # WHEN an undated version of other content dated day 10 comes, and (for the dated one) a dated one
    late = [_ann(10, "Bergen", undated=True)] + ([] if undated else [_ann(10, "Bergen")])
    results = [ingest([r], stores.profiles, SETTINGS) for r in late]
    # THEN each is stale: the stored version stays
    assert [r.stale for r in results] == [1] * len(late)
    assert _city(stores) == "Oslo"


def test_the_same_content_after_an_undated_version_moves_nothing(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN Ann's record stored undated at day 40
    ingest([_ann(40, "Oslo", undated=True)], stores.profiles, SETTINGS)
    # WHEN the same content comes dated day 10
    result = ingest([_ann(10, "Oslo")], stores.profiles, SETTINGS)
    # THEN it is unchanged: no write, the stored time stays
    assert (result.unchanged, result.written, result.touched) == (1, 0, 0)
    assert stores.profiles.get_owners([KEY])[KEY].updated_at == T0 + timedelta(days=40)


@pytest.mark.parametrize("first_undated", [True, False], ids=["undated-first", "dated-first"])
def test_within_one_call_the_version_after_an_undated_one_wins(
    stores: PrivacyStoreSet,  # noqa: F811
    first_undated: bool,
) -> None:
    # GIVEN one call holding two versions of Ann's record, an undated one at day 40 and a dated one
    # at day 10, in either order
    bound, dated = _ann(40, "Oslo", undated=True), _ann(10, "Bergen")
    # WHEN it is ingested
    ingest([bound, dated] if first_undated else [dated, bound], stores.profiles, SETTINGS)
    # THEN the dated one wins when it comes after; the bound's time wins when it comes after
    assert _city(stores) == ("Bergen" if first_undated else "Oslo")


@pytest.mark.parametrize("undated", [True, False], ids=["undated", "dated"])
def test_a_tombstone_retires_a_stored_undated_version_dated_after_it(
    stores: PrivacyStoreSet,  # noqa: F811
    undated: bool,
) -> None:
    # GIVEN Ann's record stored at day 40 (undated or dated) and Bo's beside it
    ingest([_ann(40, "Oslo", undated=undated)], stores.profiles, SETTINGS)
    ingest([make_record("crm", "2", email="bo@example.com")], stores.profiles, SETTINGS)
    # WHEN the vendor reports her deleted at day 10
    gone = SourceDeletion(
        source="stripe", object_type="contact", source_id="cus_1", deleted_at=T0 + timedelta(days=10)
    )
    result = retire_records([gone], stores.profiles, stores.erasure, SETTINGS)
    # THEN an undated version is retired (it was read before the deletion); a dated one is newer
    assert (result.retired, result.stale) == ((1, 0) if undated else (0, 1))
    held = {s.key for p in stores.profiles.iter_profiles() for s in p.sources}
    assert ("stripe:contact:cus_1" in held) is not undated
