"""Which malformed records of a ``resolve --endpoint-url`` run belong to people erased from the table.

``resolve`` writes the records it cannot use to a quarantine file with their content, so that
someone can mend them. A malformed record of an erased person (a bad timestamp beside her address)
must not be written there: sync's pull drops such a record rather than keep it (core.sync's
``quarantine_entries``), and ``resolve`` into a table holding erasures does the same. A record is
hers when any identifier its raw values normalise to, its source id included, is suppressed
(``core.suppression``: the same rule, mailboxes included, that drops her well-formed records).

The raw content of a quarantined line is the flat JSON object (``connectors.jsonl``), for a record
the store refused the normalised record's dump (``core.isolation``), or for a line that is no JSON
object (a truncated last line) its text: there the addresses written in it are read.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.jsonl import draft_from_flat
from core.normalise import NormaliseOptions
from core.quarantine import ADDRESS, identifier_keys, record_keys
from core.schema import Quarantined
from core.suppression import SuppressionCheck, is_suppressed


def erased_check(check: SuppressionCheck, options: NormaliseOptions) -> Callable[[Quarantined], bool]:
    """A test of whether a quarantined record belongs to a person erased from ``check``'s store."""

    def erased(entry: Quarantined) -> bool:
        keys = _keys(entry.raw, options)
        return bool(keys) and is_suppressed(keys, check.suppressed_keys(keys))

    return erased


def _keys(raw: dict[str, object] | None, options: NormaliseOptions) -> list[str]:
    if not raw:
        return []
    if isinstance(raw.get("identifiers"), list):  # a record the store refused: its normalised dump
        return record_keys(raw)
    line = raw.get("line")
    if set(raw) == {"line"} and isinstance(line, str):  # a line that is no JSON object (connectors.jsonl)
        raw = {"email": ADDRESS.findall(line)}
    try:
        return identifier_keys(draft_from_flat(dict(raw)), options)
    except (ValueError, TypeError):  # values no draft can hold: nothing to read identifiers from
        return []


__all__ = ["erased_check"]
