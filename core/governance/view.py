"""The one place where a role's policy filters what it reads. Pure.

``render(answer, grant)`` builds the answer document from what the role is granted, and only from
that: each part is added when, and as far as, the grant allows (an allowlist, never a copy with
things taken out), so a field nobody thought of is left out rather than shown. The same function
renders the profile, the source records, the orders, the history, the explanation and the read
audit, so a masked email is masked the same way everywhere.

It also says which fields it rendered (``View.fields``): ``traits.first_name``,
``identifiers.email:masked``, ``orders``, ``history``... what the read audit records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.governance.explain import Explanation
from core.governance.history import HistoryEvent, HistoryPage
from core.governance.masking import MASK, mask_identifier, mask_source_key
from core.governance.policy import Access, RoleGrant
from core.governance.reading import PersonPage, ReadRecord
from core.schema import (
    ComputedTraits,
    ConsentState,
    ConsentValue,
    DroppedValue,
    Order,
    OrderSummary,
    Profile,
    SourceRecord,
)

Document = dict[str, Any]


@dataclass(frozen=True)
class Answer:
    """What one request found, before any filtering: the parts its route reads."""

    customer_id: str
    person: PersonPage | None = None
    history: HistoryPage | None = None
    explanation: Explanation | None = None
    reads: Sequence[ReadRecord] | None = None


@dataclass(frozen=True)
class View:
    """The filtered answer and the fields it holds (for the read audit)."""

    document: Document
    fields: tuple[str, ...]


@dataclass
class _Fields:
    seen: set[str] = field(default_factory=set)

    def add(self, name: str, access: Access = "read") -> None:
        self.seen.add(f"{name}:masked" if access == "mask" else name)


def render(answer: Answer, grant: RoleGrant) -> View:
    """The document ``grant`` may read of ``answer``; see the module docstring."""
    fields = _Fields()
    doc: Document = {"customer_id": answer.customer_id}
    person = answer.person
    if person is not None:
        if person.followed:
            doc["merged_from"] = list(person.followed)
        if person.profile is not None:
            doc["profile"] = _profile(person.profile, grant, fields)
        if grant.orders:
            doc["orders"] = _all_orders(person.sources, fields)
            summaries = [
                {"source": r.source, **_order_summary(r.order_summary)}
                for r in person.sources
                if r.order_summary is not None
            ]
            if summaries:
                doc["order_summaries"] = summaries
        if grant.sources:
            doc["sources"] = [_source(r, grant, fields) for r in person.sources]
            fields.add("sources")
        if grant.needs_sources and person.next is not None:
            doc["next"] = person.next
    if answer.history is not None and grant.history:
        doc["history"] = {
            "events": [_event(e, grant) for e in answer.history.events],
            "next": answer.history.next,
        }
        fields.add("history")
    if answer.explanation is not None and grant.explain:
        doc["explain"] = _explanation(answer.explanation, grant)
        fields.add("explain")
    if answer.reads is not None and grant.reads:
        doc["reads"] = [_read(r) for r in answer.reads]
        fields.add("reads")
    return View(doc, tuple(sorted(fields.seen)))


# --- the profile ----------------------------------------------------------------------------------------


def _profile(profile: Profile, grant: RoleGrant, fields: _Fields) -> Document:
    doc: Document = {"customer_id": profile.customer_id, "version": profile.version}
    doc["identifiers"] = _identifiers(((i.kind, i.value) for i in profile.identifiers), grant, fields)
    traits: Document = {}
    for name in sorted(profile.traits):
        access = grant.trait_access(name)
        if access == "none":
            continue
        value = profile.traits[name]
        entry: Document = {"value": value.value if access == "read" else MASK}
        if access == "mask":
            entry["masked"] = True
        # Provenance names the source record (``hubspot:contact:123``): its id is a source id.
        entry["source"] = _source_key(value.source, grant, fields)
        entry["updated_at"] = value.updated_at.isoformat()
        traits[name] = entry
        fields.add(f"traits.{name}", access)
    doc["traits"] = traits
    doc["computed"] = _computed(profile.computed, grant, fields)
    doc["consent"] = _consent(profile.consent, grant, fields)
    refs = []
    source_access = grant.identifier_access("source")
    for ref in profile.sources:
        entry = {
            "source": ref.source,
            "object_type": ref.object_type,
            "updated_at": ref.updated_at.isoformat(),
        }
        if source_access != "none":
            entry["id"] = ref.id if source_access == "read" else MASK
            fields.add("identifiers.source", source_access)
        refs.append(entry)
    doc["sources"] = refs
    return doc


def _identifiers(pairs: Iterable[tuple[str, str]], grant: RoleGrant, fields: _Fields) -> list[Document]:
    out: list[Document] = []
    for kind, value in sorted(pairs):
        access = grant.identifier_access(kind)
        if access == "none":
            continue
        if access == "read":
            out.append({"kind": kind, "value": value})
        else:
            out.append({"kind": kind, "value": mask_identifier(kind, value), "masked": True})
        fields.add(f"identifiers.{kind}", access)
    return out


def _computed(computed: ComputedTraits, grant: RoleGrant, fields: _Fields) -> Document:
    doc: Document = {}
    for name in type(computed).model_fields:
        if not grant.computed_allowed(name):
            continue
        doc[name] = _json_value(getattr(computed, name))
        fields.add(f"computed.{name}")
    return doc


def _consent(
    consent: dict[str, ConsentValue] | dict[str, ConsentState], grant: RoleGrant, fields: _Fields
) -> Document:
    doc: Document = {}
    for channel in sorted(consent):
        if not grant.consent_allowed(channel):
            continue
        state = consent[channel]
        entry: Document = {"granted": state.granted, "changed_at": state.changed_at.isoformat()}
        if isinstance(state, ConsentValue):
            entry["source"] = _source_key(state.source, grant, fields)
        doc[channel] = entry
        fields.add(f"consent.{channel}")
    return doc


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in sorted(value.items())}
    return value


# --- source records and orders -------------------------------------------------------------------------


def _order(order: Order) -> Document:
    doc: Document = {
        "id": order.id,
        "total": format(order.total, "f"),
        "currency": order.currency,
        "created_at": order.created_at.isoformat(),
        "status": order.status,
    }
    if order.payment_refs:  # the payment it names: two tools' views of one purchase share it
        doc["payment_refs"] = list(order.payment_refs)
    return doc


def _order_summary(summary: OrderSummary) -> Document:
    """Orders beyond those a record keeps inline, summed up."""
    return {
        "orders": summary.orders,
        "paid": dict(sorted(summary.paid.items())),
        "totals": {c: format(t, "f") for c, t in sorted(summary.totals.items())},
        "first_paid_at": summary.first_paid_at.isoformat() if summary.first_paid_at else None,
        "last_paid_at": summary.last_paid_at.isoformat() if summary.last_paid_at else None,
    }


def _all_orders(records: Sequence[SourceRecord], fields: _Fields) -> list[Document]:
    out = [{"source": r.source, **_order(o)} for r in records for o in r.orders]
    if out:
        fields.add("orders")
    return sorted(out, key=lambda o: (o["created_at"], o["source"], o["id"]))


def _source(record: SourceRecord, grant: RoleGrant, fields: _Fields) -> Document:
    doc: Document = {
        "source": record.source,
        "object_type": record.object_type,
        "updated_at": record.updated_at.isoformat(),
    }
    source_access = grant.identifier_access("source")
    if source_access != "none":
        doc["source_id"] = record.source_id if source_access == "read" else MASK
        fields.add("identifiers.source", source_access)
    pairs = ((i.kind, i.value) for i in record.identifiers if i.kind != "source")
    doc["identifiers"] = _identifiers(pairs, grant, fields)
    traits: Document = {}
    for name in sorted(record.traits):
        access = grant.trait_access(name)
        if access != "none":
            traits[name] = record.traits[name] if access == "read" else MASK
            fields.add(f"traits.{name}", access)
    doc["traits"] = traits
    doc["consent"] = _consent(record.consent, grant, fields)
    doc["level"] = record.level
    if record.owner is not None:
        doc["owner"] = _source_key(record.owner, grant, fields)
    if grant.orders:
        doc["orders"] = [_order(o) for o in record.orders]
        if record.orders:
            fields.add("orders")
        if record.order_summary is not None:
            doc["order_summary"] = _order_summary(record.order_summary)
            fields.add("orders")
    dropped = [d for d in (_dropped(d, grant, fields) for d in record.dropped) if d is not None]
    if dropped:
        doc["dropped"] = dropped
    return doc


def _dropped(value: DroppedValue, grant: RoleGrant, fields: _Fields) -> Document | None:
    """A value normalisation left out, shown as far as the grant on its field allows. Its reason
    may quote the value, so a masked field shows only that a value was dropped."""
    name, access = _dropped_field(value.field, grant)
    if access == "none":
        return None
    fields.add(name, access)
    if access == "mask":
        return {"field": value.field, "masked": True}
    return {"field": value.field, "value": value.value, "reason": value.reason}


def _dropped_field(field_name: str, grant: RoleGrant) -> tuple[str, Access]:
    """The policy field a dropped value belongs to (``traits.city``, ``identifiers.email``...)."""
    head, dot, rest = field_name.partition(".")
    if field_name in ("email", "phone"):
        return f"identifiers.{field_name}", grant.identifier_access(field_name)
    if head == "traits":
        # A whole ``traits`` value that was not a mapping counts as every trait.
        trait = rest if dot else "*"
        return f"traits.{trait}", grant.trait_access(trait)
    if head == "consent":
        channel = rest if dot else "*"
        return f"consent.{channel}", "read" if grant.consent_allowed(channel) else "none"
    if field_name == "orders" or field_name.startswith("orders["):
        return "orders", "read" if grant.orders else "none"
    if field_name == "owner_id":
        # A child object's owner id is the vendor id of its owner: a source id.
        return "identifiers.source", grant.identifier_access("source")
    return field_name, "none"  # a field the policy does not know: nobody reads it here


# --- history, explanation, reads ----------------------------------------------------------------------


def _identifier_key(key: str, grant: RoleGrant) -> Document:
    kind, _, value = key.partition("#")
    access = grant.identifier_access(kind)
    if access == "read":
        return {"kind": kind, "value": value}
    if access == "mask":
        return {"kind": kind, "value": mask_identifier(kind, value), "masked": True}
    return {"kind": kind}


def _source_key(key: str, grant: RoleGrant, fields: _Fields | None = None) -> str:
    """A source record key as the role may see it: whole, with its id masked, or tool and type only."""
    access = grant.identifier_access("source")
    if fields is not None and access != "none":
        fields.add("identifiers.source", access)
    if access == "read":
        return key
    if access == "mask":
        return mask_source_key(key)
    source, _, rest = key.partition(":")
    return f"{source}:{rest.partition(':')[0]}"


def _event(event: HistoryEvent, grant: RoleGrant) -> Document:
    doc: Document = {
        "event_id": event.event_id,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "customer_id": event.customer_id,
        "actor": event.actor,
        "reason": event.reason,
        "customers": list(event.customers),
        "source_keys": [_source_key(k, grant) for k in event.source_keys],
        "identifiers": [_identifier_key(k, grant) for k in event.identifiers],
    }
    if event.inherited_from:
        doc["inherited_from"] = event.inherited_from
    return doc


def _explanation(explanation: Explanation, grant: RoleGrant) -> Document:
    # Records are named r1, r2, ... so that joins can point at them whatever the role may see of
    # their source ids.
    names = {node.key: f"r{i}" for i, node in enumerate(explanation.records, start=1)}
    source_access = grant.identifier_access("source")
    records = []
    for node in explanation.records:
        entry: Document = {
            "ref": names[node.key],
            "source": node.source,
            "object_type": node.object_type,
            "updated_at": node.updated_at.isoformat(),
        }
        if source_access != "none":
            entry["source_id"] = node.source_id if source_access == "read" else MASK
        records.append(entry)
    joins = [
        {
            **_identifier_key(join.identifier, grant),
            "records": [names[k] for k in join.records],
            "used": join.used,
            "reason": join.reason,
        }
        for join in explanation.joins
    ]
    links = []
    for link in explanation.links:
        entry = {"a": names[link.a], "b": names[link.b], "kind": link.kind, "reason": link.reason}
        if link.score is not None:
            entry["score"] = link.score
        if link.identifier is not None:
            entry["identifier"] = _identifier_key(link.identifier, grant)
        links.append(entry)
    return {
        "records": records,
        "joins": joins,
        "links": links,
        "groups": [[names[k] for k in group] for group in explanation.groups],
        "connected": explanation.connected,
    }


def _read(record: ReadRecord) -> Document:
    return {
        "at": record.at.isoformat(),
        "principal": record.principal,
        "role": record.role,
        "route": record.route,
        "lookup": record.lookup,
        "fields": list(record.fields),
    }


__all__ = ["Answer", "Document", "View", "render"]
