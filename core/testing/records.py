"""Normalised records built in one line, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.schema import ConsentState, Identifier, Order, SourceRecord

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
