"""revR23: a person-level record whose only evidence is an ``external_id`` that names nothing.

rob23 keeps a record holding the trait ``external_id`` without email or phone (Klaviyo's id of the
person in another system: core.normalise ``EXTERNAL_ID_TRAIT``). A value of spaces is dropped as a
trait, but one of invisible format characters (a zero-width space, a BOM: what a copy from a
spreadsheet leaves) was kept, and with it a profile of nobody. Red on main (5d6f051): kept.
"""

from __future__ import annotations

import pytest

from core.normalise import normalise_record
from core.schema import Quarantined, RecordDraft, SourceRecord


def _profile(external_id: object) -> RecordDraft:
    return RecordDraft(
        source="klaviyo",
        object_type="profile",
        source_id="01HQ",
        updated_at="2026-01-05T10:00:00Z",
        traits={"external_id": external_id},
    )


@pytest.mark.parametrize("external_id", ["\u200b", "\ufeff\u200b", "\u2060 \u200d"])
def test_an_invisible_external_id_keeps_no_one(external_id: str) -> None:
    outcome = normalise_record(_profile(external_id))
    assert isinstance(outcome, Quarantined)
    assert "no usable identifier" in outcome.reason


@pytest.mark.parametrize("external_id", ["shop-1042", 1042, "\u200bshop-7"])
def test_an_external_id_that_names_something_is_kept(external_id: object) -> None:
    assert isinstance(normalise_record(_profile(external_id)), SourceRecord)
