"""Shared fixtures: records built in one line, and the moto environment set before boto3 loads."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.schema import ConsentState, Identifier, Order, SourceRecord

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)

MakeRecord = Callable[..., SourceRecord]


def make_record(
    source: str,
    source_id: str,
    *,
    email: str | list[str] | None = None,
    phone: str | list[str] | None = None,
    day: int = 0,
    traits: dict[str, str] | None = None,
    orders: list[Order] | None = None,
    consent: dict[str, ConsentState] | None = None,
) -> SourceRecord:
    """A normalised record; ``day`` offsets ``updated_at`` from 2026-01-01."""
    emails = [email] if isinstance(email, str) else email or []
    phones = [phone] if isinstance(phone, str) else phone or []
    idents = [Identifier(kind="source", value=f"{source}:contact:{source_id}")]
    idents += [Identifier(kind="email", value=e) for e in emails]
    idents += [Identifier(kind="phone", value=p) for p in phones]
    return SourceRecord(
        source=source,
        object_type="contact",
        source_id=source_id,
        updated_at=T0 + timedelta(days=day),
        identifiers=tuple(sorted(idents, key=lambda i: (i.kind, i.value))),
        traits=traits or {},
        orders=tuple(orders or ()),
        consent=consent or {},
    )


@pytest.fixture
def record() -> MakeRecord:
    return make_record
