"""The identity field of a privacy export: the explanation of the person's customer, without the
other people in it.

``core.link_explain.customer_explanation`` is written for an operator (``profilesync explain``): a
pair in review or below the threshold names the other record (``shop:contact:2002``), and its
per-field levels say which of that record's values equal the person's (the same date of birth, the
same name). In an export handed to the data subject these are another person's data, until the
pair is decided (GDPR art. 15(4): a copy must not adversely affect the rights of others). Here a
record of another customer is named only as ``OTHER_RECORD``, and a pair that reaches one keeps its
outcome, reason and score but not the per-field comparison.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any, Final

#: What an export says in place of a record that is not the person's own.
OTHER_RECORD: Final = "another customer's record"
#: The parts of a pair's score that compare the other record's values with the person's.
_COMPARISONS: Final = ("fields", "review_fields")


def for_the_subject(explanation: dict[str, Any], own: Set[str]) -> dict[str, Any]:
    """``explanation`` with every record outside ``own`` (the customer's record keys) replaced by
    ``OTHER_RECORD``, and the field comparisons of the pairs that reach one left out."""
    return {key: _masked(value, own) for key, value in explanation.items()}


def _masked(value: Any, own: Set[str], crossing: bool = False) -> Any:
    """``value`` masked; ``crossing``: inside a pair that reaches another customer's record."""
    if isinstance(value, dict):
        records = value.get("records")
        crossing = crossing or (
            isinstance(records, list) and any(isinstance(r, str) and r not in own for r in records)
        )
        return {
            k: _masked(v, own, crossing) for k, v in value.items() if not (crossing and k in _COMPARISONS)
        }
    if isinstance(value, list):
        if value and all(isinstance(v, str) and ":" in v for v in value):  # a list of record keys
            return [v if v in own else OTHER_RECORD for v in value]
        return [_masked(v, own, crossing) for v in value]
    return value


__all__ = ["OTHER_RECORD", "for_the_subject"]
