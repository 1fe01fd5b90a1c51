"""Which malformed records of a ``resolve --endpoint-url`` run belong to people erased from the table.

``resolve`` writes the records it cannot use to a quarantine file with their content, so that
someone can mend them. A malformed record of an erased person (a bad timestamp beside her address)
must not be written there: sync's pull drops such a record rather than keep it (core.sync's
``quarantine_entries``), and ``resolve`` into a table holding erasures does the same. A record is
hers when any identifier its raw values normalise to, its source id included, is suppressed
(``core.suppression``: the same rule, mailboxes included, that drops her well-formed records).

The raw content of a quarantined line is the flat JSON object (``connectors.jsonl``), for a record
the store refused the normalised record's dump (``core.isolation``), or for a line that is no JSON
object (a truncated last line) its text: there the addresses written in it are read, and the
numbers written in its string literals (each ``"..."`` token, decoded as JSON) as a refused phone
field's are (``core.quarantine.refused_values``). The cost stays bounded: a token longer than the
phone matcher reads (``core.quarantine``'s ``_MOST_PHONE_TEXT``) or without a digit is not read, and a
line gives at most ``_MOST_PHONE_TOKENS`` distinct tokens to the matcher.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

from connectors.jsonl import draft_from_flat
from core.normalise import NormaliseOptions
from core.quarantine import _MOST_PHONE_TEXT, ADDRESS, identifier_keys, record_keys
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
        raw = {"email": ADDRESS.findall(line), "phone": _phone_tokens(line)}
    try:
        return identifier_keys(draft_from_flat(dict(raw)), options)
    except (ValueError, TypeError):  # values no draft can hold: nothing to read identifiers from
        return []


#: A JSON string literal, escapes included (every one, whatever its length, so that a long value's
#: closing quote is never read as the start of the next literal).
_STRING_TOKEN: Final = re.compile(r'"((?:[^"\\]|\\.)*)"')
#: The most string literals of one broken line read for phone numbers (a line of a record has a few
#: dozen fields; the matcher's cost per token is bounded by ``_MOST_PHONE_TEXT``).
_MOST_PHONE_TOKENS: Final = 256


def _phone_tokens(line: str) -> list[str]:
    """The string literals of a line that is no JSON object that may hold a phone number: decoded,
    with a digit, no longer than the phone matcher reads."""
    found: dict[str, None] = {}
    for match in _STRING_TOKEN.finditer(line):
        if len(match[1]) > 6 * _MOST_PHONE_TEXT:  # longer than the most escapes could make short
            continue
        try:
            token = json.loads(match[0])
        except ValueError:  # a bad escape: the literal as written
            token = match[1]
        if isinstance(token, str) and len(token) <= _MOST_PHONE_TEXT and any(c.isdigit() for c in token):
            found[token] = None
            if len(found) == _MOST_PHONE_TOKENS:
                break
    return list(found)


__all__ = ["erased_check"]
