"""attack30: a record whose only identity is a placeholder ``external_id`` is kept as a profile of
nobody.

A person-level record without email or phone is kept when its tool keeps it apart by an id in another
system (core/normalise/_identity.py ``has_external_id``, line 155: Klaviyo's ``external_id``).
attack23 found blank ids (spaces, format characters, Hangul fillers) kept such profiles of nobody;
the fix asks for one character that shows. The values integrations write when they have no id show:
a JavaScript integration's ``String(undefined)`` / ``String(null)`` / ``String({})`` (``undefined``,
``null``, ``[object Object]``), a Python one's ``str(None)`` / ``str(float("nan"))`` (``None``,
``nan``), a form's ``N/A`` or ``-``. Each such record, a subscriber who gave no address to that
tool, becomes a profile of its own with no identity: it joins nothing, is pushed nowhere, and counts
as a customer in every report. The national id rule already refuses such values
(``plausible_national_id``: "``n/a``, ``x`` are what a tool writes when the field is required and
unknown").

Fix idea: ``has_external_id`` refuses an id with no letter or digit, and the placeholder words
case-folded (``undefined``, ``null``, ``none``, ``nan``, ``n/a``, ``[object object]``).
"""

from __future__ import annotations

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.schema import Quarantined, SourceRecord


def _outcome(external_id: str) -> SourceRecord | Quarantined:
    """A Klaviyo profile with no email or phone, its first name and this ``external_id``."""
    return normalise_record(
        draft_from_flat(
            {
                "source": "klaviyo",
                "object_type": "profile",
                "id": "01HX4Z7K9Q",
                "external_id": external_id,
                "first_name": "Ann",
                "updated_at": "2026-01-05T10:00:00Z",
            }
        )
    )


@pytest.mark.parametrize("external_id", ["crm-48213", "7741"])
def test_control_a_real_external_id_keeps_the_record(external_id: str) -> None:
    assert isinstance(_outcome(external_id), SourceRecord)


def test_control_a_blank_external_id_is_quarantined() -> None:
    assert isinstance(_outcome("   "), Quarantined)


@pytest.mark.parametrize("external_id", ["undefined", "null", "[object Object]", "None", "nan", "N/A", "-"])
def test_a_placeholder_external_id_keeps_no_profile_of_nobody(external_id: str) -> None:
    # GIVEN a profile whose external id is what an integration writes for no id
    # WHEN normalised THEN it is quarantined (no usable identifier), as a blank id is
    assert isinstance(_outcome(external_id), Quarantined)
