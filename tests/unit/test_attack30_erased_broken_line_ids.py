"""attack30: an erased person's line that is no JSON object is not hers when it names her by her record
id, or by her id as the owner of an order, though the same record as a JSON object is.

Her erasure suppresses her records' ids (``source#crm:contact:7``) and the ids her children name as
their owner (core/person_scope.py ``suppression_keys``), so that a record of hers holding no value the
erasure knew is still dropped. profilesync/erased_quarantine.py reads a JSON object's ``source``,
``object_type``, ``id`` and ``owner_id`` through ``draft_from_flat`` (line 52), so its source and owner
keys are checked; a broken line (a trailing comma, a truncated last line) is read for addresses and
phone numbers only (line 50): the draft it builds has no source, id or owner. Her broken line naming
her by her id, her name and street beside it (a record of hers kept by its tool without an email), is
written to the quarantine file after her erasure, and so is the broken line of her order naming her
customer record as its owner.

A broken line's id is usually its first field: reading it would also find the lines cut at their
first 500 characters whose address is past the cut (test_attack30_erased_broken_lines.py).

Fix idea: read a broken line's ``"source"``, ``"object_type"``, ``"id"``, ``"owner_id"`` and
``"owner_type"`` members (a regex over ``"name": value`` pairs, the string decoded as JSON, an
integer as its text) into the draft ``_keys`` builds, so that its source key and owner key are
checked as a JSON object's are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from core.normalise import NormaliseOptions
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack30-ids"


def _erased(key: str) -> Callable[[Quarantined], bool]:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(key), "source", "req-1", at)])
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _broken(text: str) -> Quarantined:
    return Quarantined(source="jsonl", source_id="line 3", reason="not valid JSON", raw={"line": text})


HER = '{"source": "crm", "id": "7", "first_name": "Ann", "last_name": "Lee", "street": "1 High Street"'
HER_ORDER = (
    '{"source": "shop", "object_type": "order", "id": "o1", "owner_id": "42", "owner_type": "customer"'
)


def test_control_her_record_as_a_json_object_is_hers_by_its_id() -> None:
    assert _erased("source#crm:contact:7")(
        Quarantined(
            source="crm",
            source_id="7",
            reason="no usable identifier",
            raw={
                "source": "crm",
                "id": "7",
                "first_name": "Ann",
                "last_name": "Lee",
                "street": "1 High Street",
            },
        )
    )


def test_control_her_order_as_a_json_object_is_hers_by_its_owner() -> None:
    assert _erased("source#shop:customer:42")(
        Quarantined(
            source="shop",
            source_id="o1",
            reason="a bad total",
            raw={
                "source": "shop",
                "object_type": "order",
                "id": "o1",
                "owner_id": "42",
                "owner_type": "customer",
            },
        )
    )


FIX = (
    "profilesync/erased_quarantine.py:50 builds a broken line's draft from its addresses and numbers "
    "only: read its source, object_type, id, owner_id and owner_type members too"
)


@pytest.mark.parametrize("end", [",}", ", "], ids=["trailing-comma", "truncated"])
def test_her_broken_line_is_hers_by_its_record_id(end: str) -> None:
    # GIVEN she was erased (her record crm:contact:7 suppressed)
    erased = _erased("source#crm:contact:7")
    # WHEN her line, which names her by id, name and street, is broken
    # THEN it is hers: dropped from the quarantine file
    assert erased(_broken(HER + end))


def test_her_orders_broken_line_is_hers_by_its_owner() -> None:
    erased = _erased("source#shop:customer:42")
    assert erased(_broken(HER_ORDER + ",}"))


def _erased_in_us(key: str) -> Callable[[Quarantined], bool]:
    """As ``_erased``, for a run whose default region is the US (``resolve --region US``)."""
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    store.suppress([SuppressionEntry(check.hash(key), "phone", "req-1", datetime(2026, 1, 1, tzinfo=UTC))])
    return erased_check(check, NormaliseOptions(default_region="US"))


HER_UK_PHONE = '{"source": "crm", "id": "7", "phone": "020 7946 0018", "country": "GB", "first_name": "Ann"'


def test_control_her_national_phone_with_her_country_in_a_json_object_is_hers() -> None:
    raw = {"source": "crm", "id": "7", "phone": "020 7946 0018", "country": "GB", "first_name": "Ann"}
    assert _erased_in_us("phone#+442079460018")(Quarantined(source="crm", source_id="7", reason="r", raw=raw))


def test_her_national_phone_with_her_country_in_a_broken_line_is_hers() -> None:
    # GIVEN she was erased by her British number, in a run whose default region is the US
    # WHEN her broken line writes it nationally beside her country
    # THEN it is hers, as the same record as a JSON object is
    assert _erased_in_us("phone#+442079460018")(_broken(HER_UK_PHONE + ",}"))
