"""``normalise_record``: a connector's ``RecordDraft`` becomes a ``SourceRecord`` or ``Quarantined``.

The record's identifiers (emails, phones read in its country, its source key and a child's owner link)
are worked out here; its options and the future-time mark in ``_options``, its consent in ``_consent``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import NormalisationError
from core.schema import (
    CHILD_OBJECT_TYPES,
    Identifier,
    Quarantined,
    RecordDraft,
    RecordLevel,
    SourceRecord,
    assemble_model,
    source_key,
)
from core.time_bound import read_before

from ._consent import _consent
from ._email import normalise_email
from ._identity import has_external_id, has_other_identity
from ._limits import _CACHE_SIZE, MAX_IDENTIFIERS, MAX_KEY_BYTES
from ._money import _orders
from ._names import _traits
from ._options import _DEFAULT_OPTIONS, NormaliseOptions, _future_reason
from ._options import is_future_dated as is_future_dated
from ._phone import _is_phone_region, _region_reader, normalise_phone
from ._time import normalise_timestamp, utc_now
from ._values import (
    _Collector,
    _id_problem,
    _is_blank,
    _printable,
    _raw_of,
    _reason,
    _short,
    _surrogate,
    _text_id,
)


def _identifiers(
    values: object, kind: str, normalise: Callable[[Any], str], collector: _Collector, room: int
) -> list[str]:
    """Normalise a list of emails or phones, dropping bad ones and duplicates (order kept), and
    every one past the first ``room`` (a record is stored with all its identifiers in one
    transaction, see ``MAX_IDENTIFIERS``)."""
    if type(values) is list and len(values) < 2 and room > 0:
        # One value, or none (what nearly every record holds): _identifiers_general's outcome
        # without its steps. None is blank; a text not blank is read as it is.
        if not values:
            return []
        raw = values[0]
        if raw is None:
            return []
        if type(raw) is str and raw and not raw[0].isspace():  # not blank (strip's whitespace is isspace's)
            try:
                return [normalise(raw)]
            except Exception as exc:
                collector.drop(kind, raw, _reason(exc))
                return []
    return _identifiers_general(values, kind, normalise, collector, room)


def _identifiers_general(
    values: object, kind: str, normalise: Callable[[Any], str], collector: _Collector, room: int
) -> list[str]:
    """``_identifiers`` of any values, one by one."""
    found: dict[str, None] = {}
    items = values if isinstance(values, list | tuple) else [values]
    for raw in items:
        if _is_blank(raw):
            continue
        if len(found) >= room:
            collector.drop(
                kind,
                raw,
                f"more than {MAX_IDENTIFIERS} emails and phones in one record; the first ones are kept",
            )
            continue
        try:
            text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
            found.setdefault(normalise(text), None)
        except Exception as exc:
            collector.drop(kind, raw, _reason(exc))
    return list(found)


def normalise_record(
    draft: RecordDraft, options: NormaliseOptions = _DEFAULT_OPTIONS
) -> SourceRecord | Quarantined:
    """Normalise a connector's draft into a ``SourceRecord``, or quarantine it with a reason.

    Each value goes through its normaliser; a value that fails is left out and listed in
    ``dropped`` with the reason, and the record goes on. The record itself is quarantined only if
    it has no source or source id (ids are strings or integers, and the record key must fit a
    stored key), no valid ``updated_at``, or no identifier: no valid email or phone and, for a
    child object (an order), no owner id. The reason then lists what was dropped. Identifiers are
    the emails and E.164 phones (phones read in the record's own country when it names one), the
    record's own ``source:object_type:source_id`` and a child's owner link, deduplicated and
    sorted; a child with an owner id joins by that link alone (unless ``same_person_as_owner``: then
    by its emails and phones too). Every part is bounded so that the
    record fits one stored item and one transaction (see ``core.normalise._limits``): the first
    ``MAX_IDENTIFIERS`` emails and phones are kept, traits over their budget are left out, orders
    beyond the newest ``MAX_INLINE_ORDERS`` are summed up. A time too far in the future is read as
    now (see ``NormaliseOptions``). ``None`` and blank values are treated as absent, not dropped.
    This function never raises: whatever the draft holds, the result is exactly one of the two types.
    """
    source = source_id = ""
    try:
        source = _text_id(getattr(draft, "source", None))
        source_id = _text_id(getattr(draft, "source_id", None))
        return _normalise_record(draft, options, source, source_id)
    except Exception as exc:  # the last guard: a bug here must quarantine, not stop a sync
        return Quarantined(
            source=_short(source),
            source_id=_short(source_id),
            reason=f"unexpected error while normalising: {type(exc).__name__}: {_short(str(exc), 120)}",
            raw=_raw_of(draft),
        )


#: How far past a floored ``Date`` (``NormaliseOptions.now_floored``) its second runs.
_WITHIN_THE_SECOND = timedelta(seconds=1, microseconds=-1)


def _normalise_record(
    draft: RecordDraft, options: NormaliseOptions, source: str, source_id: str
) -> SourceRecord | Quarantined:
    def quarantine(reason: str) -> Quarantined:
        return Quarantined(
            source=_short(source), source_id=_short(source_id), reason=reason, raw=_raw_of(draft)
        )

    if draft.problem is not None:
        return quarantine(_printable(str(draft.problem)))
    problem = _id_problem(draft.source, "source") or _id_problem(draft.source_id, "source id")
    if problem is not None:
        return quarantine(problem)
    object_type = _text_id(draft.object_type) or "contact"
    key = source_key(source, object_type, source_id)
    if (bad := _surrogate(object_type)) is not None:
        return quarantine(f"object type holds invalid Unicode (a lone surrogate, {bad})")
    if len(key) * 4 > MAX_KEY_BYTES and (size := len(key.encode())) > MAX_KEY_BYTES:
        return quarantine(
            f"record key is {size:,} bytes, over the {MAX_KEY_BYTES:,} a stored key holds "
            "(source, object type and id together); the id is too long to be one"
        )

    try:
        raw_updated_at: Any = draft.updated_at  # the draft field is Any: anything may arrive
        updated_at = normalise_timestamp(raw_updated_at)
    except Exception as exc:
        return quarantine(f"updated_at missing or invalid: {_reason(exc)}")

    collector = _Collector()
    now: datetime = options.now or utc_now().astimezone(UTC)
    latest = now + options.max_future_skew
    if updated_at > latest:
        # (the stamped second in one spelling: the note is hashed, and one version comes as Stripe's
        # epoch seconds or as a pull's datetime with its sub-second mark, connectors.cursor_seconds)
        stamped = updated_at.replace(microsecond=0).isoformat()
        collector.drop("updated_at", stamped, _future_reason(options.max_future_skew, "the time it was read"))
        updated_at = read_before(now)  # no later than the read: just before its second (core.time_bound)

    level: RecordLevel = (
        "child" if draft.owner_type is not None or object_type in CHILD_OBJECT_TYPES else "person"
    )
    owner = _owner(draft, source, level, collector)
    traits = _traits(draft.traits, collector)
    emails: list[str] = []
    phones: list[str] = []
    # A child with an owner id joins by it alone (its email may be a gift's), unless the owner is
    # its own person (a converted lead and its contact): then her own address names her too.
    if owner is None or draft.same_person_as_owner is True:
        emails = _identifiers(draft.emails, "email", normalise_email, collector, MAX_IDENTIFIERS)
        read_phone = _phone_reader(traits.get("country"), options.default_region)
        phones = _identifiers(draft.phones, "phone", read_phone, collector, MAX_IDENTIFIERS - len(emails))
        # A person named with a birth date or a full address is kept: the matcher finds them by
        # those (core.linkage). A child object needs an email, a phone or its owner's id.
        # (or one its tool keeps apart by an id in another system, which never joins: _identity)
        if (
            owner is None
            and not emails
            and not phones
            and (level == "child" or not (has_external_id(traits) or has_other_identity(traits)))
        ):
            reason = "no usable identifier (no valid email or phone"
            reason += ", and no owner id)" if level == "child" else ")"
            if collector.dropped:
                details = ", ".join(
                    f"{d.field} {_short(d.value, 60)!r}: {d.reason}"
                    for d in collector.dropped[:10]
                    if d.field in ("email", "phone", "owner_id")
                )
                if details:
                    reason = f"{reason}; dropped: {details}"
            return quarantine(reason)

    consent = _consent(draft.consent, updated_at, latest, options.max_future_skew, collector)
    # Within the skew a stamped time is kept; the read time beside it orders the record and its
    # consent decisions (SourceRecord.ordered_at), so a change read later is not taken for older.
    read_at = None
    # (a tool's Date floored to its second: the read was somewhere in it, ``NormaliseOptions.now_floored``)
    ahead = now + _WITHIN_THE_SECOND if options.now_floored else now
    if updated_at > ahead or (consent and any(state.changed_at > ahead for state in consent.values())):
        read_at = now
    orders, summary = _orders(draft.orders, collector)

    # Every value below is normalised to its field's exact type, so the models are assembled, not
    # validated a second time (tests/unit/test_performance_equivalence.py checks both agree).
    # Sorted by kind, then value: "email" < "phone" < "source", so each kind's values sorted in turn.
    # One email and one phone at most (nearly every record) need no sort.
    # Without a comprehension for one value or none (a comprehension is a function call).
    if len(emails) < 2:
        identifiers = [_email_identifier(emails[0])] if emails else []
    else:
        identifiers = [_email_identifier(email) for email in sorted(emails)]
    if len(phones) == 1:
        identifiers.append(_phone_identifier(phones[0]))
    elif phones:
        identifiers += [_phone_identifier(phone) for phone in sorted(phones)]
    if owner is None:
        identifiers.append(assemble_model(Identifier, {"kind": "source", "value": key}))
    else:
        identifiers += [
            assemble_model(Identifier, {"kind": "source", "value": value}) for value in sorted((key, owner))
        ]

    # SourceRecord.assemble, without gathering its keyword arguments into a dict first
    return assemble_model(
        SourceRecord,
        {
            "source": source,
            "object_type": object_type,
            "source_id": source_id,
            "updated_at": updated_at,
            "identifiers": tuple(identifiers),
            "traits": traits,
            "consent": consent,
            "orders": orders,
            "dropped": collector.listed(),
            "level": level,
            "owner": owner,
            "order_summary": summary,
            "read_at": read_at,
            "undated": draft.undated,
        },
    )


def _owner(draft: RecordDraft, source: str, level: RecordLevel, collector: _Collector) -> str | None:
    """A child's owner as a source key (``shopify:customer:123``), or None: no owner id given, or one
    that cannot be an id (dropped with the reason; the child then joins by its email or phone)."""
    if level != "child" or _is_blank(draft.owner_id):
        return None
    owner_type = _text_id(draft.owner_type)
    problem = _id_problem(draft.owner_id, "owner id")
    if problem is None and not owner_type:
        problem = "an owner id needs the owner's object type (owner_type)"
    if problem is None and _surrogate(owner_type) is not None:
        problem = "owner type holds invalid Unicode"
    owner = f"{source}:{owner_type}:{_text_id(draft.owner_id)}"
    if problem is None and len(owner.encode()) > MAX_KEY_BYTES:
        problem = f"owner key longer than {MAX_KEY_BYTES:,} bytes"
    if problem is not None:
        collector.drop("owner_id", draft.owner_id, problem)
        return None
    return owner


def _phone_reader(country: str | None, default: str) -> Callable[[Any], str]:
    """How the record's phones are read: a national number in the record's own country first (a UK
    record's "020 7946 0018"), then, if it is no valid number there, in the configured default
    region (a number kept from a move abroad). International numbers are the same either way."""
    if not isinstance(default, str):
        return lambda value: normalise_phone(value, default)  # which refuses the region
    if country is None or country == default or not _is_phone_region(country):
        return _region_reader(default)
    return _reader_in_country(country, default)


@functools.lru_cache(maxsize=1024)
def _reader_in_country(country: str, default: str) -> Callable[[Any], str]:
    """``_phone_reader`` of a record in ``country``, which is not ``default``: built once a pair."""
    first, then = _region_reader(country), _region_reader(default)

    def read(value: Any) -> str:
        try:
            return first(value)
        except NormalisationError as error:
            try:
                return then(value)
            except NormalisationError:
                raise error from None

    return read


# One frozen Identifier per email or phone, shared by the records that carry it (a person's records
# in several tools): fewer objects to build and for the garbage collector to walk. One cache per kind,
# so that the key is the value itself (a cache keyed on several arguments keeps a tuple per entry).


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _email_identifier(value: str) -> Identifier:
    return assemble_model(Identifier, {"kind": "email", "value": value})


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _phone_identifier(value: str) -> Identifier:
    return assemble_model(Identifier, {"kind": "phone", "value": value})


def count_outcomes(results: Iterable[SourceRecord | Quarantined]) -> tuple[int, int]:
    """Return ``(normalised, quarantined)``: how many results are records and how many are not."""
    normalised = quarantined = 0
    for result in results:
        if isinstance(result, Quarantined):
            quarantined += 1
        else:
            normalised += 1
    return normalised, quarantined
