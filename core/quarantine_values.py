"""Every value of a quarantined record's raw content read for the identifiers it may hold: what tells
whose record it was when its mapped fields do not (an address as a map's key, in a vCard, past a
thousand tags; a phone with a label or beside a second number in a column no connector maps, Stripe's
``shipping.phone``). Used by a pull's quarantine entries (core.sync: their ``subjects``) and by
``resolve``'s quarantine file (profilesync.erased_quarantine). Bounded: at most ``MOST_LITERALS``
values of at most ``MOST_LITERAL`` characters for the phone matcher, at most ``MOST_PHONE_TOKENS``
tokens to it; the address scan reads every string whole (it is linear)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from core.quarantine import _MOST_PHONE_TEXT, ADDRESS, _phones, value_keys, with_mailboxes

__all__ = [
    "MOST_LITERAL",
    "MOST_LITERALS",
    "MOST_PHONE_TOKENS",
    "NUMBER_TOKEN",
    "phone_tokens",
    "raw_value_keys",
    "raw_values",
    "values_keys",
]

#: The most phone tokens of one record given to the matcher (a record has a few dozen fields; the
#: matcher's cost per token is bounded by ``_MOST_PHONE_TEXT``), and the most literals read.
MOST_PHONE_TOKENS: Final = 256
MOST_LITERALS: Final = 1024
#: The longest literal read: an address (RFC 5321's 254) or a phone field, with room for a label.
MOST_LITERAL: Final = 320
#: A JSON number of 7 to 15 digits (a phone number a spreadsheet's export writes unquoted; pandas
#: writes a column with a gap as floats: ``442079460018.0``).
NUMBER_TOKEN: Final = re.compile(r"(?<![\w.+-])\+?\d{7,15}(?=(?:\.0+)?(?![\w.]))")


def raw_values(raw: object) -> list[str]:
    """A JSON object's string values and keys and its integers of 7 to 15 digits, nested ones too, at
    most ``MOST_LITERALS`` of at most ``MOST_LITERAL`` characters (a record has a few dozen), and
    the addresses written in every string of it, keys and long texts included, whatever their number
    (a contacts map keyed by address, a vCard or a list of former addresses in one column, her
    address after a thousand tags): the address scan is linear, only the phone matcher's reads are
    bounded."""
    found: dict[str, None] = {}
    addresses: dict[str, None] = {}
    stack = [raw]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if len(value) <= MOST_LITERAL and len(found) < MOST_LITERALS:
                found[value] = None
            elif "@" in value:
                addresses.update(dict.fromkeys(ADDRESS.findall(value)))
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            whole = isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
            text = str(int(value)) if whole else str(value)  # 442079460018.0 (pandas): a phone's digits
            if NUMBER_TOKEN.fullmatch(text) and len(found) < MOST_LITERALS:
                found[text] = None
        elif isinstance(value, dict):
            stack.extend(reversed([part for pair in value.items() for part in pair]))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return list({**found, **addresses})


def phone_tokens(literals: list[str]) -> list[str]:
    """Those of ``literals`` that may hold a phone number: with a digit, no longer than the phone
    matcher reads; at most ``MOST_PHONE_TOKENS``."""
    tokens = []
    for token in literals:
        if len(token) <= _MOST_PHONE_TEXT and any(c.isdigit() for c in token):
            tokens.append(token)
            if len(tokens) == MOST_PHONE_TOKENS:
                break
    return tokens


def raw_value_keys(raw: object, region: str) -> list[str]:
    """The email and phone keys (mailboxes included) every value of ``raw`` holds: each value as a
    refused record's values are read (``value_keys``), and a number with a label, or two in one
    value, by the matcher (``_phones``)."""
    return values_keys(raw_values(raw), region, matcher=True)


def values_keys(values: list[str], region: str, *, matcher: bool) -> list[str]:
    """The email and phone keys (mailboxes included) ``values`` hold, each read as a refused
    record's values are (``value_keys``); with ``matcher``, a number with a label, or two in one
    value, too (``_phones``, at most ``MOST_PHONE_TOKENS`` of them)."""
    found = {key for text in values for key in value_keys(text, region)}
    if matcher:
        found.update(f"phone#{p}" for token in phone_tokens(values) for p in _phones(token, region))
    return with_mailboxes(sorted(found))
