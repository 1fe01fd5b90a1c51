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
line gives at most ``MOST_PHONE_TOKENS`` distinct tokens to the matcher.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Final

from connectors.jsonl import BEYOND, draft_from_flat
from connectors.jsonl.members import top_members
from core.normalise import NormaliseOptions
from core.quarantine import (
    ADDRESS,
    identifier_keys,
    record_keys,
)
from core.quarantine_addresses import json_unescaped
from core.quarantine_values import (
    MOST_LITERAL,
    MOST_LITERALS,
    MOST_PHONE_TOKENS,
    NUMBER_TOKEN,
    phone_tokens,
    raw_value_keys,
    values_keys,
)
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
    keys: dict[str, None] = {}
    if isinstance(raw.get("identifiers"), list):  # a record the store refused: its normalised dump,
        keys.update(dict.fromkeys(record_keys(raw)))  # or a flat line with a column of that name
    line = raw.get("line")
    broken = line if isinstance(line, str) and set(raw) <= {"line", BEYOND} else None  # no JSON object
    literals = _literals(broken) if broken is not None else []
    flat = _line_fields(broken, literals, raw.get(BEYOND)) if broken is not None else dict(raw)
    # values no draft can hold (ValueError, TypeError): nothing to read identifiers from
    with contextlib.suppress(ValueError, TypeError):
        keys.update(dict.fromkeys(identifier_keys(draft_from_flat(flat), options)))
    # every value, whatever its column or nesting (attack30: ``Email``, ``mobile``, ``{"value": ...}``,
    # a full-width or URL-encoded address), read as a refused record's values are; a JSON object's
    # by the phone matcher too (a broken line's literals were, as its phone field: ``_line_fields``)
    country = flat.get("country")
    region = country.upper() if isinstance(country, str) and len(country) == 2 else options.default_region
    found = (
        values_keys(literals, region, matcher=False) if broken is not None else raw_value_keys(raw, region)
    )
    keys.update(dict.fromkeys(found))
    return list(keys)


def _line_fields(line: str, literals: list[str], beyond: object) -> dict[str, object]:
    """The fields a broken line's identifiers are read from: its id, owner and country members, the
    addresses written in it (in its text and in its string literals decoded, so
    ``ann\\u0040example.com`` is hers), the phone numbers in its literals and its numbers, and those
    connectors.jsonl found past the head it kept (``BEYOND``)."""
    emails = dict.fromkeys(ADDRESS.findall(line))
    if "\\" in line:  # an escape after her address (a vCard's ``\\r\\n``) ends it, as decoded
        emails.update(dict.fromkeys(ADDRESS.findall(json_unescaped(line))))
    for token in literals:
        if "@" in token:
            emails.update(dict.fromkeys(ADDRESS.findall(token)))
    phones = dict.fromkeys(_phone_tokens(line, literals))
    for number in NUMBER_TOKEN.finditer(line):
        phones[number[0]] = None
        if len(phones) >= 2 * MOST_PHONE_TOKENS:
            break
    if isinstance(beyond, dict):
        emails.update(dict.fromkeys(v for v in beyond.get("email", ()) if isinstance(v, str)))
        phones.update(dict.fromkeys(v for v in beyond.get("phone", ()) if isinstance(v, str)))
    # the record's id, owner and country at the line's top level, wherever connectors.jsonl found them
    members = beyond.get("members") if isinstance(beyond, dict) else None
    found = members if isinstance(members, dict) else top_members(line)
    return {**found, "email": list(emails), "phone": list(phones)}


#: A JSON string literal, escapes included (every one, whatever its length, so that a long value's
#: closing quote is never read as the start of the next literal).
_STRING_TOKEN: Final = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _phone_tokens(line: str, literals: list[str] | None = None) -> list[str]:
    """The string literals of a line that is no JSON object that may hold a phone number."""
    return phone_tokens(_literals(line) if literals is None else literals)


def _literals(line: str) -> list[str]:
    """A line's distinct string literals, decoded (a bad escape: the literal as written), of at most
    the length an address or a phone field has (escapes counted six times)."""
    found: dict[str, None] = {}
    for match in _STRING_TOKEN.finditer(line):
        if len(match[1]) > 6 * MOST_LITERAL:  # longer than the most escapes could make short
            continue
        try:
            token = json.loads(match[0])
        except ValueError:
            token = match[1]
        if isinstance(token, str) and len(token) <= MOST_LITERAL:
            found[token] = None
            if len(found) == MOST_LITERALS:
                break
    return list(found)


__all__ = ["erased_check"]
