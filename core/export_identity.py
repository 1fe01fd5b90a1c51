"""The identity field of a privacy export: the explanation of the person's customer, without the
other people in it.

``core.link_explain.customer_explanation`` is written for an operator (``profilesync explain``): a
pair in review or below the threshold names the other record (``shop:contact:2002``), and its
per-field levels say which of that record's values equal the person's (the same date of birth, the
same name). In an export handed to the data subject these are another person's data, until the
pair is decided (GDPR art. 15(4): a copy must not adversely affect the rights of others). Here a
record of another customer is named only as ``OTHER_RECORD``, wherever it stands (a list of
records, or the text of a reason: a refused link "would join crm:contact:1 and mail:contact:3"),
and a pair that reaches one keeps its outcome, kind and score but not what the matcher compared:
its per-field levels, its conflicts, and the reason's words for them ("but different dates of
birth", "email looks like a typo of the other").
"""

from __future__ import annotations

import re
from collections.abc import Set
from typing import Any, Final

#: What an export says in place of a record that is not the person's own.
OTHER_RECORD: Final = "another customer's record"
#: The parts of a pair's score that compare the other record's values with the person's.
_COMPARISONS: Final = ("fields", "review_fields", "conflicts")
#: A record key in a text (``tool:object type:id``, the id up to a space, or a ``:``/``,`` before
#: one): a word starting with a letter, so a time (``2026-01-01T00:00:00``) is not one.
_KEY: Final = re.compile(r"(?<!\S)[a-z][a-z0-9_.-]*:[a-z][a-z0-9_]*:\S*?(?=[:,]?(?:\s|$))")
#: The score a reason quotes (``score 0.9990``): all a reason of a crossing pair keeps.
_SCORE: Final = re.compile(r"score \d+\.\d+")


def for_the_subject(explanation: dict[str, Any], own: Set[str]) -> dict[str, Any]:
    """``explanation`` with every record outside ``own`` (the customer's record keys) replaced by
    ``OTHER_RECORD``, and the comparisons of the pairs that reach one left out."""
    return {key: _masked(value, own) for key, value in explanation.items()}


def _others(text: str, own: Set[str]) -> bool:
    return any(found.group(0) not in own for found in _KEY.finditer(text))


def _masked_text(text: str, own: Set[str]) -> str:
    return _KEY.sub(lambda found: found.group(0) if found.group(0) in own else OTHER_RECORD, text)


def _crossing_reason(text: str, own: Set[str]) -> str:
    """A crossing pair's reason without the comparison: its score, or the words before one (``shared
    email X``, a cap's, a reviewer's), with other records masked."""
    score = _SCORE.search(text)
    if score is not None:
        return score.group(0)
    return _masked_text(re.split(r",? but ", text, maxsplit=1)[0], own)


def _masked(value: Any, own: Set[str], crossing: bool = False) -> Any:
    """``value`` masked; ``crossing``: inside a pair that reaches another customer's record."""
    if isinstance(value, dict):
        records = value.get("records")
        reason = value.get("reason")
        crossing = (
            crossing
            or (isinstance(records, list) and any(isinstance(r, str) and r not in own for r in records))
            or (isinstance(reason, str) and _others(reason, own))
        )
        return {
            k: _crossing_reason(v, own)
            if crossing and k == "reason" and isinstance(v, str)
            else _masked(v, own, crossing)
            for k, v in value.items()
            if not (crossing and k in _COMPARISONS)
        }
    if isinstance(value, list):
        if value and all(isinstance(v, str) and ":" in v for v in value):  # a list of record keys
            return [v if v in own else OTHER_RECORD for v in value]
        return [_masked(v, own, crossing) for v in value]
    if isinstance(value, str):
        return _masked_text(value, own)
    return value


__all__ = ["OTHER_RECORD", "for_the_subject"]
