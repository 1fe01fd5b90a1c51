"""attack23: ``resolve`` keeps an erased person's phone in its quarantine file when her line is not
valid JSON.

A line that is no JSON object (a hand-edited export's trailing comma, a truncated last line) is
quarantined with its text (``{"line": ...}``, connectors/jsonl). profilesync/erased_quarantine.py
decides whether it is an erased person's by the addresses written in it only (``ADDRESS.findall``):
the same line naming her by her phone, in E.164 even, is not hers, so after an erasure by phone her
line (her number and name) is written to the quarantine file of every run, while the same line with
her address is dropped. core/quarantine.py already finds the numbers written whole inside a value
(``refused_values("phone", ...)``) for a refused phone field.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.normalise import NormaliseOptions
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack23-lines"


def _erased(*keys: str) -> object:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(k), k.partition("#")[0], "req-1", at) for k in keys])
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _line(text: str) -> Quarantined:
    return Quarantined(source="jsonl", source_id="line 1", reason="not valid JSON", raw={"line": text})


def test_control_her_address_in_a_broken_line_is_hers() -> None:
    erased = _erased("email#ann@example.com")
    assert erased(_line('{"source": "crm", "id": "7", "email": "ann@example.com", "first_name": "Ann",}'))  # type: ignore[operator]


@pytest.mark.parametrize("phone", ["+442079460018", "+44 20 7946 0018", "020 7946 0018"])
def test_her_phone_in_a_broken_line_is_hers(phone: str) -> None:
    # GIVEN she was erased by her phone
    erased = _erased("phone#+442079460018")
    # WHEN a line of hers that is no JSON object (a trailing comma) names her by that phone
    line = _line(f'{{"source": "sms", "id": "7", "phone": "{phone}", "first_name": "Ann",}}')
    # THEN it is hers: dropped, not written to the quarantine file
    assert erased(line)  # type: ignore[operator]


def test_control_another_number_in_a_broken_line_is_not_hers() -> None:
    erased = _erased("phone#+442079460018")
    assert not erased(_line('{"source": "sms", "id": "8", "phone": "+442079460019", "first_name": "Bob",}'))  # type: ignore[operator]
