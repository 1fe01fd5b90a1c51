"""attack30: a name an integration wrote for "no value" (``undefined``, ``null``) is read as a name,
title-cased, and wins the profile over the person's real name.

core/normalise/_names.py ``_normalise_name`` (line 67) refuses a name without letters (``-``), and keeps
every other, re-cased when it is all lower case. What integrations write into a name field they had no
value for has letters: JavaScript's ``String(undefined)``, ``String(null)`` and ``String({})``
(``undefined``, ``null``, ``[object Object]``, the "Hi undefined," of many a marketing email), Python's
``str(None)`` and ``str(float("nan"))`` (``None``, ``nan``). They become ``Undefined``, ``Null``,
``None``, ``Nan``: names. A Klaviyo profile written by such an integration, more recent than her CRM
contact, gives her merged profile the first and last name ``Undefined`` (``most_recent``), which push
then writes to every tool over "Ann Lee".

Fix idea: ``_normalise_name`` refuses the placeholder words (case-folded: ``undefined``, ``null``,
``none``, ``nan``, ``[object object]``, ``n/a``) as "a placeholder for no name", a dropped value like
``-``, so the real name survives.
"""

from __future__ import annotations

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore


def _record(source: str, object_type: str, first: str, last: str, at: str) -> SourceRecord:
    record = normalise_record(
        draft_from_flat(
            {
                "source": source,
                "object_type": object_type,
                "id": "1",
                "email": "ann@example.com",
                "first_name": first,
                "last_name": last,
                "updated_at": at,
            }
        )
    )
    assert isinstance(record, SourceRecord), record
    return record


def _merged_names(later_first: str, later_last: str) -> tuple[str | None, str | None]:
    """Her names in the profile of her CRM contact (Ann Lee) and a later Klaviyo profile's names."""
    store = InMemoryProfileStore()
    records = [
        _record("hubspot", "contact", "Ann", "Lee", "2026-01-05T10:00:00Z"),
        _record("klaviyo", "profile", later_first, later_last, "2026-02-01T10:00:00Z"),
    ]
    ingest(records, store, IngestSettings(sleep=lambda _: None))
    (profile,) = list(store.iter_profiles())
    first, last = profile.traits.get("first_name"), profile.traits.get("last_name")
    return (first.value if first else None, last.value if last else None)


def test_control_a_later_real_name_wins_and_a_dash_does_not() -> None:
    assert _merged_names("Anna", "Lee-Smith") == ("Anna", "Lee-Smith")
    assert _merged_names("-", "-") == ("Ann", "Lee")


def test_control_people_named_nan_or_null_keep_their_names() -> None:
    # the placeholders are matched as integrations write them: a person's own name in its own case stays
    assert _merged_names("Nan", "Null") == ("Nan", "Null")


@pytest.mark.parametrize("placeholder", ["undefined", "null", "[object Object]", "None", "nan"])
def test_a_placeholder_name_does_not_replace_her_name(placeholder: str) -> None:
    # GIVEN her CRM contact (Ann Lee) and a later Klaviyo profile an integration wrote with no names
    # WHEN both are merged THEN her profile keeps her name, as it does for "-"
    assert _merged_names(placeholder, placeholder) == ("Ann", "Lee")
