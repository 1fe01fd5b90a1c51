"""Masks: what a role that may know a value exists (``mask`` in the policy) sees instead of it. Pure.

A mask keeps what helps to recognise which value is meant (the domain of an email, the last four
digits of a phone, the tool of a source id) and drops what would identify the person. A short value
keeps nothing of its own: showing the first letter of a two-letter local part is showing half of it.
"""

from __future__ import annotations

MASK = "***"
#: A local part shorter than this shows none of its letters.
EMAIL_LOCAL_SHOWN_FROM = 3
#: A phone with fewer digits than this shows none of them (its last four would be most of it).
PHONE_DIGITS_SHOWN_FROM = 8
PHONE_DIGITS_SHOWN = 4


def mask_email(value: str) -> str:
    """``ann.lee@example.com`` -> ``a***@example.com``; the domain stays, the local part goes."""
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return MASK
    first = local[0] if len(local) >= EMAIL_LOCAL_SHOWN_FROM else ""
    return f"{first}{MASK}@{domain}"


def mask_phone(value: str) -> str:
    """``+442079460018`` -> ``***0018``: the last four digits only."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) < PHONE_DIGITS_SHOWN_FROM:
        return MASK
    return MASK + "".join(digits[-PHONE_DIGITS_SHOWN:])


def mask_source_key(value: str) -> str:
    """``hubspot:contact:123`` -> ``hubspot:contact:***``: which tool and object, not which id."""
    source, _, rest = value.partition(":")
    object_type, sep, _ = rest.partition(":")
    return f"{source}:{object_type}:{MASK}" if sep else MASK


def mask_identifier(kind: str, value: str) -> str:
    """The mask of an identifier value of ``kind`` (email, phone, source)."""
    if kind == "email":
        return mask_email(value)
    if kind == "phone":
        return mask_phone(value)
    if kind == "source":
        return mask_source_key(value)
    return MASK


__all__ = ["MASK", "mask_email", "mask_identifier", "mask_phone", "mask_source_key"]
