"""Mailchimp list members <-> canonical records and push payloads: pure functions, no I/O.

Pulling maps only what the person told Mailchimp (email, FNAME/LNAME, PHONE, the ADDRESS city,
state, zip and country as HubSpot's, Stripe's and Klaviyo's are, language, subscription status).
The merge fields profilesync pushes (``PS*``) are never read back, so the echo of a push (Mailchimp
moves ``last_changed`` when merge fields change) changes nothing downstream but timestamps.

A member's record is keyed by its ``contact_id`` (``mailchimp:member:<contact_id>``): the member
``id`` is the MD5 of the lower-cased address and changes with it (``PATCH .../members/{hash}`` with
a new ``email_address``), while "this ``contact_id`` is agnostic of contact's inclusion of an email
address" (the spec's ``contact_id``). Keyed by the id, a member who changed her address kept her old
record, and her old address, in her profile for good: Mailchimp lists the old id nowhere, so no pull
could report it gone. The member id stays in the trait ``mailchimp_member_id``: a push finds by it
the address the audience holds the person under. Records keyed by the member id before (an
existing deployment) are retired by the connector's next full walk (``former_key_tombstone``).

Statuses (https://mailchimp.com/developer/marketing/docs/fundamentals/#member-status):
``subscribed`` is an opt-in; ``unsubscribed`` and ``cleaned`` (hard bounce) are opt-outs;
``pending`` (double opt-in not yet confirmed), ``transactional`` and ``archived`` say nothing about
marketing consent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from core.connector import Payload
from core.push import email_consent, enriched_traits, primary_email, source_ids
from core.schema import Profile, RecordDraft

SOURCE: Final = "mailchimp"
OBJECT_TYPE: Final = "member"

#: The trait that carries the member's Mailchimp status into the profile, so ``from_profile`` knows
#: what the batch endpoint must be told for an existing member (it always sets a status).
STATUS_TRAIT: Final = "mailchimp_status"
#: The trait that carries the member id (the subscriber hash of the member's address): the push
#: pushes to the address the audience holds the person under, and records are keyed by contact_id.
MEMBER_ID_TRAIT: Final = "mailchimp_member_id"

Status = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"]
STATUSES: Final[frozenset[str]] = frozenset(
    {"subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"}
)


@dataclass(frozen=True, slots=True)
class MergeField:
    """A merge field profilesync creates in the audience for one enriched trait."""

    tag: str
    name: str
    type: Literal["text", "number", "date"]
    trait: str


#: Merge tags are at most 10 characters, upper case (https://mailchimp.com/developer/marketing/docs/merge-fields/).
#: ``PS`` marks them as profilesync's, so a person reading the audience knows where they come from.
MERGE_FIELDS: Final[tuple[MergeField, ...]] = (
    MergeField("PSCUSTID", "profilesync customer id", "text", "customer_id"),
    MergeField("PSLTV", "Lifetime value", "number", "lifetime_value"),
    MergeField("PSLTVCUR", "Lifetime value currency", "text", "lifetime_value_currency"),
    MergeField("PSORDERS", "Order count", "number", "order_count"),
    MergeField("PSAOV", "Average order value", "number", "average_order_value"),
    MergeField("PSLASTORD", "Last order date", "date", "last_order_at"),
    MergeField("PSSEGMENT", "Customer segment", "text", "segment"),
)
PUSHED_TAGS: Final[frozenset[str]] = frozenset(f.tag for f in MERGE_FIELDS)

#: The member fields a pull asks for (``fields=``): what the mapping reads, nothing more.
MEMBER_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "contact_id",
    "email_address",
    "status",
    "merge_fields",
    "language",
    "timestamp_signup",
    "timestamp_opt",
    "last_changed",
)


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased address
    (https://mailchimp.com/developer/marketing/docs/methods-parameters/#path-parameters)."""
    return hashlib.md5(email.strip().lower().encode("utf-8"), usedforsecurity=False).hexdigest()


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _stamp(value: Any) -> str:
    """A stamp as text: Mailchimp writes ISO 8601 text; a JSON integer (epoch time, from a proxy that
    re-serialises dates) is kept as its digits, which normalise reads as epoch time."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _first_text(*values: Any) -> str:
    return next((t for t in (_text(v) for v in values) if t), "")


def _record_id(raw: Mapping[str, Any]) -> Any:
    """The record's id: the member's ``contact_id``. One that is not text is passed on as found, for
    normalisation to refuse with the reason (a member without one is quarantined, never keyed by its
    address's hash again)."""
    return _text(raw.get("contact_id")) or raw.get("contact_id")


def member_to_draft(member: Mapping[str, Any]) -> RecordDraft:
    """Map one list member (as ``GET /lists/{list_id}/members`` returns it) to a draft, keyed by its
    ``contact_id`` (see the module docstring).

    Never raises on bad data: wrong types become absent values and ``normalise_record`` decides.
    The consent's ``changed_at`` is the opt-in time for a subscriber (``timestamp_opt``, else the
    signup time), and ``last_changed`` for an opt-out: the API exposes no unsubscribe time, so the
    opt-out is marked ``dated_by_record`` (ingest keeps the first version's time: core.consent_carry).
    """
    if not isinstance(member, Mapping):
        return RecordDraft.not_an_object(SOURCE, OBJECT_TYPE, member)
    raw = dict(member)
    if raw.get("status") == "archived":
        # Archived: removed from the audience by the business (see the connector's ``deletions``).
        return RecordDraft(
            source=SOURCE,
            object_type=OBJECT_TYPE,
            source_id=_record_id(raw),
            updated_at=_stamp(raw.get("last_changed")) or None,
            deleted=True,
        )
    merge = raw.get("merge_fields")
    merge = merge if isinstance(merge, Mapping) else {}
    # ADDRESS is an object when filled in and "" when not.
    address = merge.get("ADDRESS")
    address = address if isinstance(address, Mapping) else {}
    status = _text(raw.get("status"))
    last_changed = _stamp(raw.get("last_changed"))
    traits: dict[str, Any] = {
        "first_name": _text(merge.get("FNAME")),
        "last_name": _text(merge.get("LNAME")),
        "country": _text(address.get("country")),
        "city": _text(address.get("city")),
        "region": _text(address.get("state")),
        "postal_code": _text(address.get("zip")),
        "language": _text(raw.get("language")),
        STATUS_TRAIT: status if status in STATUSES else "",
        MEMBER_ID_TRAIT: _text(raw.get("id")),
    }
    consent: dict[str, Any] = {}
    if status == "subscribed":
        changed = _first_text(raw.get("timestamp_opt"), raw.get("timestamp_signup"), last_changed)
        consent["email"] = {"granted": True, "changed_at": changed}
    elif status in ("unsubscribed", "cleaned"):
        # no unsubscribe time: dated by the member's version, the first seen keeps it (core.consent_carry)
        consent["email"] = {"granted": False, "changed_at": last_changed, "dated_by_record": True}
    email = _text(raw.get("email_address"))
    phone = _text(merge.get("PHONE"))
    return RecordDraft(
        source=SOURCE,
        object_type=OBJECT_TYPE,
        source_id=_record_id(raw),
        updated_at=last_changed or None,
        emails=[email] if email else [],
        phones=[phone] if phone else [],
        traits={k: v for k, v in traits.items() if v},
        consent=consent,
        raw=raw,
    )


def former_key_tombstone(member: Any) -> RecordDraft | None:
    """The member's record under the key it had before records were keyed by ``contact_id``
    (``mailchimp:member:<member id>``), reported deleted as of ``last_changed``; None for an element
    that names no such key. Where no record of that key is stored, retiring it reads one item and
    writes nothing; where one is (a deployment from before), it leaves the profile the member's
    record under her contact id has just joined (records go in before a page's tombstones)."""
    if not isinstance(member, Mapping):
        return None
    member_id, contact_id = _text(member.get("id")), _text(member.get("contact_id"))
    changed = _text(member.get("last_changed"))
    if not member_id or not contact_id or member_id == contact_id or not changed:
        return None
    return RecordDraft(
        source=SOURCE, object_type=OBJECT_TYPE, source_id=member_id, updated_at=changed, deleted=True
    )


# --- push -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusPlan:
    """What the batch endpoint is told for one member: the status, and whether it may change the
    status of a member that already exists (``update_existing``)."""

    status: str
    update_existing: bool


def plan_status(consent: bool | None, known: str | None) -> StatusPlan | None:
    """Decide the status sent for a person, from their consent and the status Mailchimp last showed.

    The batch endpoint (``POST /lists/{list_id}``) has no ``status_if_new``: every member carries a
    ``status``, and ``update_existing: true`` applies it to existing members too
    (https://mailchimp.com/developer/marketing/api/lists/batch-subscribe-or-unsubscribe/). So:

    * an opt-out spreads: consent False sends ``unsubscribed`` (a cleaned address stays cleaned);
    * an opt-in never re-subscribes anyone Mailchimp holds as unsubscribed or cleaned: their status
      is sent back unchanged;
    * a member we know gets ``subscribed`` on consent True, else keeps the status it has;
    * someone Mailchimp does not hold (as far as the last pull knows) is sent with
      ``update_existing: false``, ``subscribed`` if consent is granted, else ``transactional``
      (kept out of campaigns); if they exist after all, Mailchimp answers ERROR_CONTACT_EXISTS and
      the connector looks their status up before updating them (see ``MailchimpConnector.push``);
    * a ``pending`` member with no consent decision is left alone (any status would re-send or cancel
      their confirmation email), and so is an ``archived`` one (pushing would bring them back).
    """
    if known == "archived":
        return None
    if known in ("unsubscribed", "cleaned"):
        return StatusPlan(known, True)
    if consent is False:
        return StatusPlan("unsubscribed", True)
    if known is None:
        return StatusPlan("subscribed" if consent else "transactional", False)
    if consent is True:
        return StatusPlan("subscribed", True)
    if known == "pending":
        return None
    return StatusPlan(known, True)


def consent_from_status(status: str) -> bool | None:
    """The consent a planned status stands for (inverse of ``plan_status`` for new members)."""
    return {"subscribed": True, "unsubscribed": False, "cleaned": False}.get(status)


def member_ids(profile: Profile) -> set[str]:
    """The member ids (subscriber hashes) the profile's records know: the ``mailchimp_member_id``
    trait (the newest member's), and the keys of records keyed by the member id before
    (``former_key_tombstone``; a contact id is no address's hash, so it matches none)."""
    trait = profile.traits.get(MEMBER_ID_TRAIT)
    return set(source_ids(profile, SOURCE, OBJECT_TYPE)) | ({trait.value} if trait is not None else set())


def known_status(profile: Profile, email: str) -> str | None:
    """The status Mailchimp showed for this person's member at the last pull, if it is unambiguous.

    The status trait is trusted only when the profile holds exactly one Mailchimp member and it is
    the one ``email`` addresses: with two members (two addresses) the trait may be the other's.
    """
    trait = profile.traits.get(STATUS_TRAIT)
    if trait is None or trait.value not in STATUSES or len(source_ids(profile, SOURCE, OBJECT_TYPE)) != 1:
        return None
    return trait.value if subscriber_hash(email) in member_ids(profile) else None


def merge_fields_for(profile: Profile) -> dict[str, str]:
    """The merge fields pushed for a profile: its names (FNAME, LNAME) and the enriched traits."""
    values = enriched_traits(profile)
    fields = {f.tag: values.get(f.trait, "") for f in MERGE_FIELDS}
    for tag, trait in (("FNAME", "first_name"), ("LNAME", "last_name")):
        found = profile.traits.get(trait)
        if found is not None and found.value:
            fields[tag] = found.value
    return fields


def profile_to_payload(profile: Profile) -> Payload | None:
    """The batch-subscribe member for a profile, or None (no email, or nothing to tell Mailchimp).

    ``body`` is ``{"member": <members[] item>, "update_existing": bool}``; nothing in it changes
    unless the profile does, so the payload hash skips unchanged profiles.
    """
    email = member_email(profile)
    if not email:
        return None
    plan = plan_status(email_consent(profile), known_status(profile, email))
    if plan is None:
        return None
    member = {"email_address": email, "status": plan.status, "merge_fields": merge_fields_for(profile)}
    held = subscriber_hash(email)
    return Payload(
        customer_id=profile.customer_id,
        match_key=email,
        body={"member": member, "update_existing": plan.update_existing},
        group="update" if plan.update_existing else "add",
        remote_id=held if held in member_ids(profile) else None,
    )


def member_email(profile: Profile) -> str | None:
    """The address to push a profile to: the primary email, unless the audience holds the person under
    another of their addresses (a member whose id is that address's hash): then that one, so a push
    never adds a second member for someone Mailchimp already has."""
    email = primary_email(profile)
    members = member_ids(profile)
    if not members or (email is not None and subscriber_hash(email) in members):
        return email
    held = sorted(
        i.value for i in profile.identifiers if i.kind == "email" and subscriber_hash(i.value) in members
    )
    return held[0] if held else email


__all__ = [
    "MEMBER_FIELDS",
    "MEMBER_ID_TRAIT",
    "MERGE_FIELDS",
    "OBJECT_TYPE",
    "PUSHED_TAGS",
    "SOURCE",
    "STATUSES",
    "STATUS_TRAIT",
    "MergeField",
    "StatusPlan",
    "consent_from_status",
    "former_key_tombstone",
    "known_status",
    "member_email",
    "member_ids",
    "member_to_draft",
    "merge_fields_for",
    "plan_status",
    "profile_to_payload",
    "subscriber_hash",
]
