"""``normalise_record``: a connector's ``RecordDraft`` becomes a ``SourceRecord`` or ``Quarantined``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from core.errors import NormalisationError
from core.schema import (
    ConsentState,
    Identifier,
    Quarantined,
    RecordDraft,
    SourceRecord,
)

from ._email import normalise_email
from ._limits import _CACHE_SIZE
from ._money import _orders
from ._names import _traits
from ._phone import normalise_phone
from ._time import normalise_timestamp
from ._values import _Collector, _is_blank, _raw_of, _reason, _short, _text_id


@dataclass(frozen=True)
class NormaliseOptions:
    """How ``normalise_record`` reads values that are ambiguous without context.

    ``default_region`` is the ISO 3166-1 alpha-2 region a phone number without an international
    prefix is read in (a connector for a UK shop sets "GB").
    """

    default_region: str = "US"


_DEFAULT_OPTIONS: Final = NormaliseOptions()


def _identifiers(
    values: object, kind: str, normalise: Callable[[Any], str], collector: _Collector
) -> list[str]:
    """Normalise a list of emails or phones, dropping bad ones and duplicates (order kept)."""
    found: dict[str, None] = {}
    items = values if isinstance(values, list | tuple) else [values]
    for raw in items:
        if _is_blank(raw):
            continue
        try:
            text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
            found.setdefault(normalise(text), None)
        except Exception as exc:
            collector.drop(kind, raw, _reason(exc))
    return list(found)


def _consent(consent: object, updated_at: datetime, collector: _Collector) -> dict[str, ConsentState]:
    result: dict[str, ConsentState] = {}
    if not isinstance(consent, Mapping):
        if not _is_blank(consent):
            collector.drop("consent", consent, "consent must be a mapping of channel to decision")
        return result
    for raw_channel, value in consent.items():
        channel = (raw_channel if isinstance(raw_channel, str) else _short(raw_channel)).strip().lower()
        field = f"consent.{channel}"
        if not channel:
            collector.drop("consent", value, "empty channel name")
            continue
        try:
            if isinstance(value, bool):
                state = ConsentState.assemble(granted=value, changed_at=updated_at)
            elif isinstance(value, Mapping):
                granted = value.get("granted")
                if not isinstance(granted, bool):
                    raise NormalisationError(field, "granted must be true or false")
                changed: Any = value.get("changed_at")
                changed_at = updated_at if _is_blank(changed) else normalise_timestamp(changed)
                state = ConsentState.assemble(granted=granted, changed_at=changed_at)
            else:
                raise NormalisationError(field, "must be true/false or {granted, changed_at}")
        except Exception as exc:
            collector.drop(field, value, _reason(exc))
            continue
        result[channel] = state
    return result


def normalise_record(
    draft: RecordDraft, options: NormaliseOptions = _DEFAULT_OPTIONS
) -> SourceRecord | Quarantined:
    """Normalise a connector's draft into a ``SourceRecord``, or quarantine it with a reason.

    Each value goes through its normaliser; a value that fails is left out and listed in
    ``dropped`` with the reason, and the record goes on. The record itself is quarantined only if
    it has no source or source id, no valid ``updated_at``, or no valid email and no valid phone
    (the reason then lists what was dropped). Identifiers are the emails, the E.164 phones and
    the record's own ``source:object_type:source_id``, deduplicated and sorted. ``None`` and blank
    values are treated as absent, not dropped. This function never raises: whatever the draft
    holds, the result is exactly one of the two types.
    """
    source = source_id = ""
    try:
        source = _text_id(getattr(draft, "source", None))
        source_id = _text_id(getattr(draft, "source_id", None))
        return _normalise_record(draft, options, source, source_id)
    except Exception as exc:  # the last guard: a bug here must quarantine, not stop a sync
        return Quarantined(
            source=source,
            source_id=source_id,
            reason=f"unexpected error while normalising: {type(exc).__name__}: {_short(str(exc), 120)}",
            raw=_raw_of(draft),
        )


def _normalise_record(
    draft: RecordDraft, options: NormaliseOptions, source: str, source_id: str
) -> SourceRecord | Quarantined:
    def quarantine(reason: str) -> Quarantined:
        return Quarantined(source=source, source_id=source_id, reason=reason, raw=_raw_of(draft))

    if not source:
        return quarantine("missing source")
    if not source_id:
        return quarantine("missing source id")
    object_type = _text_id(draft.object_type) or "contact"

    try:
        raw_updated_at: Any = draft.updated_at  # the draft field is Any: anything may arrive
        updated_at = normalise_timestamp(raw_updated_at)
    except Exception as exc:
        return quarantine(f"updated_at missing or invalid: {_reason(exc)}")

    collector = _Collector()
    region = options.default_region
    emails = _identifiers(draft.emails, "email", normalise_email, collector)
    phones = _identifiers(draft.phones, "phone", lambda v: normalise_phone(v, region), collector)
    if not emails and not phones:
        reason = "no usable identifier (no valid email or phone)"
        if collector.dropped:
            details = ", ".join(
                f"{d.field} {_short(d.value, 60)!r}: {d.reason}"
                for d in collector.dropped
                if d.field in ("email", "phone")
            )
            reason = f"{reason}; dropped: {details}"
        return quarantine(reason)

    traits = _traits(draft.traits, collector)
    consent = _consent(draft.consent, updated_at, collector)
    orders = _orders(draft.orders, collector)

    # Every value below is normalised to its field's exact type, so the models are assembled, not
    # validated a second time (tests/unit/test_performance_equivalence.py checks both agree).
    identifiers = [_email_identifier(email) for email in emails]
    identifiers += [_phone_identifier(phone) for phone in phones]
    identifiers.append(Identifier.assemble(kind="source", value=f"{source}:{object_type}:{source_id}"))
    identifiers.sort(key=lambda ident: (ident.kind, ident.value))

    return SourceRecord.assemble(
        source=source,
        object_type=object_type,
        source_id=source_id,
        updated_at=updated_at,
        identifiers=tuple(identifiers),
        traits=traits,
        consent=consent,
        orders=orders,
        dropped=tuple(collector.dropped),
    )


# One frozen Identifier per email or phone, shared by the records that carry it (a person's records
# in several tools): fewer objects to build and for the garbage collector to walk. One cache per kind,
# so that the key is the value itself (a cache keyed on several arguments keeps a tuple per entry).


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _email_identifier(value: str) -> Identifier:
    return Identifier.assemble(kind="email", value=value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _phone_identifier(value: str) -> Identifier:
    return Identifier.assemble(kind="phone", value=value)


def count_outcomes(results: Iterable[SourceRecord | Quarantined]) -> tuple[int, int]:
    """Return ``(normalised, quarantined)``: how many results are records and how many are not."""
    normalised = quarantined = 0
    for result in results:
        if isinstance(result, Quarantined):
            quarantined += 1
        else:
            normalised += 1
    return normalised, quarantined
