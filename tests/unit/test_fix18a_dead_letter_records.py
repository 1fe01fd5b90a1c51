"""fix18a: what identifies a dead-lettered record ``SourceRecord`` does not read
(core.storage.sqs_dead_letters.readable_part), so that an erasure can judge it."""

from __future__ import annotations

from typing import Any

import pytest

from core.storage.sqs_dead_letters import readable_part

HER = "ottoline.vasquez-reyes@example.com"


def _keys(raw: Any) -> list[str] | None:
    part = readable_part(raw)
    return None if part is None else sorted(i.key for i in part.identifiers)


def test_a_record_of_another_shape_is_known_by_its_source_key_and_identifiers() -> None:
    # GIVEN a record another pull version wrote: a trait as a number, its identifiers as dumped
    raw = {
        "source": "crm",
        "object_type": "contact",
        "source_id": "1",
        "updated_at": "not a time",
        "identifiers": [{"kind": "email", "value": HER}, {"kind": "fax", "value": "x"}],
        "traits": {"lifetime_value": 1250.5, "first_name": "Ottoline"},
    }
    # WHEN its readable part is taken
    part = readable_part(raw)
    # THEN it keeps its key, the identifiers that read (the unknown kind left out) and its text traits
    assert part is not None
    assert part.key == "crm:contact:1"
    assert sorted(i.key for i in part.identifiers) == ["email#" + HER, "source#crm:contact:1"]
    assert part.traits == {"first_name": "Ottoline"}


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        ({"dropped": [{"value": f"Ottoline <{HER.upper()}>"}]}, ["email#" + HER]),
        ({"notes": f"mailto:{HER}?subject=hi", "id": 7}, ["email#" + HER]),
        ({"traits": {"tier": 3}}, None),
        (["a", "list"], None),
        ("text", None),
    ],
    ids=["refused-value", "address-in-text", "nothing-identifying", "a-list", "a-string"],
)
def test_an_address_written_anywhere_in_it_is_read_and_nothing_identifying_gives_none(
    raw: Any, keys: list[str] | None
) -> None:
    assert _keys(raw) == keys
