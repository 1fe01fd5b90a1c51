"""What the matcher reads of a record, as the link index keeps it (core.link_index): the ``match``
attribute of a source record's identifier item (``match_document``) and its fields read back
(``fields_from_match``), so that candidates are compared without loading their customers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.schema import SourceRecord

__all__ = ["MatchFields", "fields_from_match", "match_document"]

_matched_traits: frozenset[str] | None = None


def _matched() -> frozenset[str]:
    """Every trait name a compared field is read from (core.normalise._identity.FIELD_ALIASES); read
    on first use, so that the stores importing this module do not import the normalisers."""
    global _matched_traits
    if _matched_traits is None:
        from core.normalise._identity import FIELD_ALIASES

        _matched_traits = frozenset(name for names in FIELD_ALIASES.values() for name in names)
    return _matched_traits


def match_document(record: SourceRecord) -> str:
    """What the matcher reads of a record, as the compact JSON the ``match`` attribute holds: the
    traits it compares, the emails and the phones (``fields_from_match`` reads it back).

    Kept in the record's ``__dict__`` (``model_copy`` drops it): ingest makes it for the candidate
    cache (core.link_scope) and again for the record's identifier item."""
    memo = record.__dict__.get("_match_document")
    if memo is not None:
        return str(memo)
    document = _match_document(record)
    record.__dict__["_match_document"] = document
    return document


def _match_document(record: SourceRecord) -> str:
    matched = _matched()
    traits = {name: value for name, value in record.traits.items() if name in matched}
    data: dict[str, Any] = {"t": traits}
    emails = [i.value for i in record.identifiers if i.kind == "email"]
    phones = [i.value for i in record.identifiers if i.kind == "phone"]
    if emails:
        data["e"] = emails
    if phones:
        data["p"] = phones
    if record.level != "person":
        data["c"] = record.owner or ""
    return _encode(data)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
"""``json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` with its encoder made
once, not per record (``dumps`` makes one for any option given)."""


@dataclass(frozen=True, slots=True)
class MatchFields:
    """A ``match`` attribute read back: traits, emails, phones, and for a child object its owner."""

    traits: dict[str, str]
    emails: list[str]
    phones: list[str]
    child: bool = False
    owner: str = ""


def fields_from_match(document: str) -> MatchFields:
    """The fields of a ``match`` attribute (``match_document``)."""
    data = json.loads(document)
    return MatchFields(
        dict(data.get("t", {})),
        list(data.get("e", [])),
        list(data.get("p", [])),
        "c" in data,
        str(data.get("c") or ""),
    )
