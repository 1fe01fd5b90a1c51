"""Keep personal data out of logs, errors and run reports.

Three places used to carry it: URL paths (a vendor API addressed by email, ``GET /crm/v3/objects/
contacts/ann@example.com``, which the HTTP layer's retry warnings quoted), vendor error messages
(``Contact with email ann@example.com already exists``) and quarantine reasons (``dropped: email
'ann@' ...``), which were counted by their text into the ``SYNC#`` report and the pull's log line.

* ``redact_path`` keeps a path's shape and replaces every segment that can name a person or a record
  (one holding ``@``, ``%``, ``+`` or a digit, other than an API version) by ``{id}``, so a log line
  still says which route failed: ``/crm/v3/objects/contacts/{id}``.
* ``redact_personal`` replaces email addresses and phone-like digit runs in free text.
* ``reason_kind`` drops the quoted values from a normalisation reason, so reasons of one kind add up
  and nothing raw leaves the quarantine item (which holds the record itself, and is found and
  deleted by erasure).

Pure functions: no I/O, used by connectors._http, core.sync and the functions.
"""

from __future__ import annotations

import re
from typing import Final

#: What replaces a path segment that may identify a person or a record.
ID_PLACEHOLDER: Final = "{id}"
EMAIL_PLACEHOLDER: Final = "<email>"
NUMBER_PLACEHOLDER: Final = "<number>"
VALUE_PLACEHOLDER: Final = "'…'"

# Segments kept as they are: words (contacts, delete-permanent, graphql.json) and API versions
# (v3, 3.0, 2026-01, 2026-07-15). Anything else with a digit, ``@``, ``%`` or ``+`` is an id or a value.
_KEPT_SEGMENT = re.compile(
    r"[A-Za-z_][A-Za-z_.-]*|v\d{1,2}(?:\.\d{1,2})?|\d{1,2}\.\d{1,2}|\d{4}-\d{2}(?:-\d{2})?|\d{1,2}"
)
# An address as people and vendors write it, internationalised ones included (the local part and
# the domain may hold any non-space character but the delimiters around them in text and JSON).
_EMAIL = re.compile(r"[^\s\"'<>(),;:\[\]{}\\/]+(?:@|%40)[^\s\"'<>(),;:\[\]{}\\/]+\.[^\s\"'<>(),;:\[\]{}\\/]+")
# Seven or more digits, possibly with the separators phone numbers are written with.
_NUMBER = re.compile(r"\+?\d[\d ().-]{5,}\d")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Python reprs of strings, as normalisation reasons quote values: '...' or "..." with escapes.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def redact_path(path: str) -> str:
    """``path`` with every segment that may name a person or a record replaced by ``{id}``; the
    query string, which may hold an email filter, is dropped."""
    bare = path.split("?", 1)[0].split("#", 1)[0]
    return "/".join(
        segment if not segment or _KEPT_SEGMENT.fullmatch(segment) else ID_PLACEHOLDER
        for segment in bare.split("/")
    )


def _number(match: re.Match[str]) -> str:
    text = match.group()
    digits = sum(c.isdigit() for c in text)
    if digits < 7 or _ISO_DATE.search(text):
        return text  # a date, a time or a short count says nothing about a person
    return NUMBER_PLACEHOLDER


def redact_personal(text: str) -> str:
    """``text`` with email addresses and phone-like numbers (7 digits or more) replaced."""
    if not text:
        return text
    return _NUMBER.sub(_number, _EMAIL.sub(EMAIL_PLACEHOLDER, text))


def reason_kind(reason: str) -> str:
    """A quarantine reason without the values it quotes (and with any unquoted address or number
    redacted), for counting reasons in reports and logs."""
    return redact_personal(_QUOTED.sub(VALUE_PLACEHOLDER, reason))


__all__ = [
    "EMAIL_PLACEHOLDER",
    "ID_PLACEHOLDER",
    "NUMBER_PLACEHOLDER",
    "VALUE_PLACEHOLDER",
    "reason_kind",
    "redact_path",
    "redact_personal",
]
