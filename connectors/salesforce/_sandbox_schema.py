"""The Salesforce sandbox's org as data: its published limits, the sObjects' fields (which are
required, which read-only), record ids, and the wire form of values and error answers, shared by the
sandbox and its route modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import httpx

from connectors._sandbox import json_response
from core.errors import NormalisationError
from core.normalise import normalise_email

DAILY_LIMIT: Final = 100_000
MAX_BATCH: Final = 2000
MAX_COLLECTION: Final = 200
MAX_COMPOSITE: Final = 25
OPEN_LOCATORS: Final = 10
LOCATOR_IDLE: Final = timedelta(minutes=15)
_PREFIX: Final = {"Contact": "003", "Lead": "00Q", "Opportunity": "006", "CustomField": "00N", "Job": "750"}
_CHECKSUM: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COMMON: Final = ("Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Name")
SCHEMA: Final[dict[str, tuple[str, ...]]] = {
    "Contact": (
        *_COMMON,
        "Email",
        "Phone",
        "MobilePhone",
        "FirstName",
        "LastName",
        "Title",
        "MailingCity",
        "MailingState",
        "MailingPostalCode",
        "MailingCountry",
        "HasOptedOutOfEmail",
        "AccountId",
    ),
    "Lead": (
        *_COMMON,
        "Email",
        "Phone",
        "MobilePhone",
        "FirstName",
        "LastName",
        "Title",
        "Company",
        "City",
        "State",
        "PostalCode",
        "Country",
        "HasOptedOutOfEmail",
        "IsConverted",
        "ConvertedContactId",
        "ConvertedDate",
        "Status",
    ),
    "Opportunity": (
        *_COMMON,
        "Amount",
        "CloseDate",
        "StageName",
        "IsClosed",
        "IsWon",
        "ContactId",
        "AccountId",
    ),
}
_REQUIRED: Final = {
    "Contact": ("LastName",),
    "Lead": ("LastName", "Company"),
    "Opportunity": ("Name", "StageName", "CloseDate"),
}
_READ_ONLY: Final = frozenset(
    {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Name", "IsClosed", "IsWon"}
)
#: The object type of a record key (``contact:003...``) -> its sObject.
_SOBJECTS: Final = {"contact": "Contact", "lead": "Lead", "opportunity": "Opportunity"}


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id: 15 case-sensitive characters and the case-safe suffix."""
    body = ""
    for _ in range(12):
        n, digit = divmod(n, 62)
        body = _BASE62[digit] + body
    short = prefix + body
    suffix = ""
    for chunk in (short[0:5], short[5:10], short[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if c.isupper())
        suffix += _CHECKSUM[bits]
    return short + suffix


def stamp(at: datetime) -> str:
    """A datetime as the REST API writes it: ``2026-01-02T03:04:05.000+0000``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _errors(code: str, message: str, fields: Iterable[str] = ()) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": list(fields)}]


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    """Salesforce's error answer: a JSON array of ``{message, errorCode}``."""
    return json_response(status, _errors(code, message), headers)


def _canonical(email: str) -> str:
    try:
        return normalise_email(email)
    except NormalisationError:
        return email.strip().lower()


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


__all__ = [
    "DAILY_LIMIT",
    "LOCATOR_IDLE",
    "MAX_BATCH",
    "MAX_COLLECTION",
    "MAX_COMPOSITE",
    "OPEN_LOCATORS",
    "SCHEMA",
    "error",
    "sf_id",
    "stamp",
]
