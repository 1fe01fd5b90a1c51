"""Declared field mappings applied: vendor record -> draft, profile -> payload. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors._http import value_at
from core.connector import Payload
from core.push import enriched_traits, primary_email
from core.schema import Profile, RecordDraft

from ._declaration import ConsentMap, FieldMap, PushMap, Stream


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment is not None else None


def _suppressed_at(rule: ConsentMap, record: Mapping[str, Any], changed: Any) -> Any:
    """When the channel was blocked: the latest of its suppressions' timestamps and the status's
    change (a denial read from a record is never older than the grant it overrides); None when the
    record holds no suppression."""
    found = value_at(record, rule.suppressed_path) if rule.suppressed_path else None
    if not isinstance(found, list) or not found:
        return None
    stamps = [s.get("timestamp") for s in found if isinstance(s, Mapping)] + [changed]
    dated = [(moment, stamp) for stamp in stamps if (moment := _moment(stamp)) is not None]
    return max(dated)[1] if dated else changed


def _consent(fields: FieldMap, record: Mapping[str, Any], updated: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rule in fields.consent:
        status = _text(value_at(record, rule.status_path))
        changed = value_at(record, rule.changed_at_path) if rule.changed_at_path else None
        blocked = _suppressed_at(rule, record, changed)
        if blocked is not None:
            out[rule.channel] = {"granted": False, "changed_at": blocked or updated}
        elif status in rule.granted or status in rule.denied:
            out[rule.channel] = {"granted": status in rule.granted, "changed_at": changed or updated}
    return out


def _orders(fields: FieldMap, record: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = fields.orders
    if spec is None:
        return []
    found = value_at(record, spec.path)
    if not isinstance(found, list):
        return []
    orders: list[Any] = []
    for item in found:
        if not isinstance(item, Mapping):
            orders.append(item)  # normalisation drops it with the reason
            continue
        status = _text(value_at(item, spec.status))
        orders.append(
            {
                "id": _text(value_at(item, spec.id)),
                "total": value_at(item, spec.total),
                "currency": value_at(item, spec.currency),
                "created_at": value_at(item, spec.created_at),
                "status": spec.statuses.get(status, status),
            }
        )
    return orders


def _id(value: Any) -> Any:
    """An id as text when it is a string or an integer; anything else as found, for normalisation to
    refuse with the reason (a list or an object is no id)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _owner_id(fields: FieldMap, record: Mapping[str, Any]) -> Any:
    """The owner's id of a child record (Stripe's ``customer``, or the ``id`` of an expanded one)."""
    if fields.owner is None:
        return None
    found = value_at(record, fields.owner.id_path)
    if isinstance(found, Mapping):
        found = found.get("id")
    return _id(found) if found not in ("", None) else None


def record_to_draft(source: str, stream: Stream, record: Mapping[str, Any]) -> RecordDraft:
    """Map one vendor record with its stream's ``FieldMap``. Never raises on bad data: a value of the
    wrong type becomes absent, and ``normalise_record`` decides what is usable; an element that is
    not an object becomes a draft normalisation quarantines with that reason."""
    if not isinstance(record, Mapping):
        return RecordDraft.not_an_object(source, stream.object_type, record)
    raw = dict(record)
    fields = stream.fields
    try:
        updated = value_at(raw, fields.updated_at)
        emails = [t for t in (_text(value_at(raw, p)) for p in fields.emails) if t]
        phones = [t for t in (_text(value_at(raw, p)) for p in fields.phones) if t]
        traits = {name: t for name, path in fields.traits.items() if (t := _text(value_at(raw, path)))}
        return RecordDraft(
            source=source,
            object_type=stream.object_type,
            source_id=_id(value_at(raw, stream.primary_key)),
            updated_at=updated if updated not in ("", None) else None,
            emails=emails,
            phones=phones,
            traits=traits,
            consent=_consent(fields, raw, updated),
            orders=_orders(fields, raw),
            owner_type=fields.owner.object_type if fields.owner is not None else None,
            owner_id=_owner_id(fields, raw),
            raw=raw,
        )
    except Exception as error:  # a shape no mapping foresaw: quarantined, the page goes on
        return RecordDraft(
            source=source,
            object_type=stream.object_type,
            problem=f"could not be mapped: {type(error).__name__}: {str(error)[:200]}",
            raw=raw,
        )


def profile_to_payload(source: str, push: PushMap, profile: Profile) -> Payload | None:
    """The payload for one profile: its primary email as the match key, the declared properties taken
    from the enriched traits, shaped by ``push.shape``. None without an email. Whether the person may be
    pushed at all (the mode, their consent) is ``core.push_policy``'s to decide, not the mapping's."""
    email = primary_email(profile)
    if not email:
        return None
    traits = enriched_traits(profile)
    properties = {name: traits.get(trait, "") for name, trait in push.properties.items()}
    # The record this tool holds for the person (the most recently changed if several): ``send``
    # updates it by id, so a primary email the tool spells otherwise never creates a second record.
    held = sorted(
        (
            ref
            for ref in profile.sources
            if ref.source == source and (not push.holder_types or ref.object_type in push.holder_types)
        ),
        key=lambda ref: (ref.updated_at, ref.id),
    )
    return Payload(
        customer_id=profile.customer_id,
        match_key=email,
        body=push.shape(profile, email, properties),
        remote_id=held[-1].id if held else None,
    )


__all__ = ["profile_to_payload", "record_to_draft"]
