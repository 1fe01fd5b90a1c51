"""HubSpot contact <-> canonical shapes: pure functions, no I/O.

HubSpot returns every property value as a string (or null), timestamps as ISO 8601 with milliseconds
and ``Z``, record ids as numeric strings, and emails lower-cased. ``contact_to_draft`` maps only the
person's own fields: the ``profilesync_*`` properties that ``push`` writes are never read back, so the
echo of a push (which moves the contact's ``lastmodifieddate``) changes nothing downstream but times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import idna

from core.connector import Payload
from core.push import enriched_traits, primary_email
from core.schema import Profile, RecordDraft

SOURCE: Final = "hubspot"
OBJECT_TYPE: Final = "contact"

#: The property that stamps every change of a contact; incremental pulls filter and sort on it.
MODIFIED: Final = "lastmodifieddate"

#: Contact properties a pull asks for: the person's own fields only (see the module docstring).
#: Default contact properties: https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/guide
PULL_PROPERTIES: Final[tuple[str, ...]] = (
    "email",
    "hs_additional_emails",
    "firstname",
    "lastname",
    "phone",
    "mobilephone",
    "company",
    "jobtitle",
    "city",
    "state",
    "zip",
    "country",
    "hs_email_optout",
    "createdate",
    MODIFIED,
    "hs_object_id",
    # The ids of the contacts merged into this one (";"-separated; HubSpot's "Merged Contact IDs").
    # HubSpot's merge neither lists nor archives an absorbed id (a GET of it answers the merged
    # record), so this property is the only sign that it is gone: see ``merged_tombstones``.
    "hs_merged_object_ids",
)

#: HubSpot property -> canonical trait name.
TRAIT_PROPERTIES: Final[Mapping[str, str]] = {
    "firstname": "first_name",
    "lastname": "last_name",
    "country": "country",
    "city": "city",
    "state": "region",
    "zip": "postal_code",
    "company": "company",
    "jobtitle": "job_title",
}

PROPERTY_GROUP: Final = "profilesync"
PROPERTY_GROUP_LABEL: Final = "profilesync"


@dataclass(frozen=True, slots=True)
class CustomProperty:
    """One contact property profilesync writes; ``definition()`` is the properties API's PropertyCreate."""

    trait: str
    name: str
    label: str
    type: str
    field_type: str
    description: str

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": PROPERTY_GROUP,
            "description": self.description,
            "formField": False,
        }


#: One custom property per enriched trait (core.push.ENRICHED_TRAITS). Numbers are HubSpot ``number``
#: properties so lists and reports can filter on them; the date is a ``date`` property, whose values the
#: v3 API takes as ``YYYY-MM-DD`` (https://developers.hubspot.com/docs/guides/api/crm/properties).
#: The segment is free text: a new segment name must never make the upsert fail on an unknown option.
CUSTOM_PROPERTIES: Final[tuple[CustomProperty, ...]] = (
    CustomProperty(
        "customer_id",
        "profilesync_customer_id",
        "profilesync customer ID",
        "string",
        "text",
        "The stable customer ID profilesync gives this person across all tools.",
    ),
    CustomProperty(
        "lifetime_value",
        "profilesync_lifetime_value",
        "Lifetime value",
        "number",
        "number",
        "Sum of paid orders in the person's main currency (see Lifetime value currency).",
    ),
    CustomProperty(
        "lifetime_value_currency",
        "profilesync_lifetime_value_currency",
        "Lifetime value currency",
        "string",
        "text",
        "ISO 4217 code of the currency the lifetime value is in.",
    ),
    CustomProperty(
        "order_count",
        "profilesync_order_count",
        "Order count",
        "number",
        "number",
        "Number of paid orders across all shops.",
    ),
    CustomProperty(
        "average_order_value",
        "profilesync_average_order_value",
        "Average order value",
        "number",
        "number",
        "Average paid order value in the lifetime value currency.",
    ),
    CustomProperty(
        "last_order_at",
        "profilesync_last_order_at",
        "Last order date",
        "date",
        "date",
        "Date of the most recent paid order.",
    ),
    CustomProperty(
        "segment",
        "profilesync_segment",
        "Customer segment",
        "string",
        "text",
        "prospect, customer, repeat or vip, computed by profilesync from orders.",
    ),
)

PROPERTY_FOR_TRAIT: Final[Mapping[str, str]] = {p.trait: p.name for p in CUSTOM_PROPERTIES}


# --- time ------------------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def format_timestamp(at: datetime) -> str:
    """HubSpot's timestamp form: UTC, milliseconds, ``Z`` (``2026-01-05T10:00:00.123Z``)."""
    utc = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def timestamp_ms(value: Any) -> int | None:
    """Milliseconds since the epoch of a HubSpot timestamp (ISO 8601, or epoch milliseconds as text),
    or None when the value is not one. Search filters compare ``lastmodifieddate`` in milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _epoch_ms(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return _epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Integer arithmetic: a float timestamp can land one millisecond off.
    delta = parsed - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _epoch_ms(number: int) -> int:
    """Epoch time in milliseconds: numbers above 1e11 are milliseconds (HubSpot's), below it seconds
    (a contact re-serialised by a proxy), the rule ``core.normalise`` dates the record by: read as
    milliseconds, ``"1796472005"`` (2026 in seconds) was 1970 to the cursor, and came back every run."""
    return number if abs(number) > 100_000_000_000 else number * 1000


def modified_ms(contact: Mapping[str, Any]) -> int | None:
    """A contact's ``lastmodifieddate`` in milliseconds (falling back to ``updatedAt``), or None."""
    properties = contact.get("properties")
    value = properties.get(MODIFIED) if isinstance(properties, Mapping) else None
    found = timestamp_ms(value)
    return found if found is not None else timestamp_ms(contact.get("updatedAt"))


def contact_id(contact: Any) -> str:
    """The contact's record id as text ("" when missing)."""
    if not isinstance(contact, Mapping):
        return ""
    value = contact.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


# --- vendor -> canonical ------------------------------------------------------------------------------


def contact_to_draft(contact: Any) -> RecordDraft:
    """Map one HubSpot contact (``SimplePublicObject``) to a draft; never raises on bad data.

    Emails are ``email`` plus ``hs_additional_emails`` (semicolon-separated); phones are ``phone`` and
    ``mobilephone``. ``hs_email_optout`` ("Unsubscribed from all email") is an explicit opt-out, so it
    becomes ``consent.email = {granted: false}``; ``false`` or unset is no decision at all (HubSpot
    never records an opt-in there), so no consent is claimed for it. The opt-out's time is the contact's
    ``lastmodifieddate``: HubSpot keeps no separate timestamp for it outside the property history.
    """
    if not isinstance(contact, Mapping):
        return RecordDraft.not_an_object(SOURCE, OBJECT_TYPE, contact)
    data: Mapping[str, Any] = contact
    if data.get("archived") is True:
        # Listed with ``archived=true``: deleted (restorable for 90 days). A tombstone, dated when.
        return RecordDraft(
            source=SOURCE,
            object_type=OBJECT_TYPE,
            source_id=contact_id(data) or data.get("id"),
            updated_at=data.get("archivedAt"),
            deleted=True,
        )
    properties_raw = data.get("properties")
    properties: Mapping[str, Any] = properties_raw if isinstance(properties_raw, Mapping) else {}
    updated_at = properties.get(MODIFIED) or data.get("updatedAt")

    emails: list[Any] = []
    if properties.get("email") not in (None, ""):
        emails.append(properties.get("email"))
    additional = properties.get("hs_additional_emails")
    if isinstance(additional, str):
        emails.extend(part for part in additional.split(";") if part.strip())
    phones = [
        properties.get(name) for name in ("phone", "mobilephone") if properties.get(name) not in (None, "")
    ]
    traits = {
        trait: properties.get(name)
        for name, trait in TRAIT_PROPERTIES.items()
        if properties.get(name) not in (None, "")
    }
    consent: dict[str, Any] = {}
    optout = properties.get("hs_email_optout")
    if isinstance(optout, str) and optout.strip().lower() == "true":
        consent["email"] = {"granted": False, "changed_at": updated_at}
    return RecordDraft(
        source=SOURCE,
        object_type=OBJECT_TYPE,
        # An id that is neither text nor a number is passed on as found, for normalisation to refuse.
        source_id=contact_id(data) or data.get("id"),
        updated_at=updated_at,
        emails=emails,
        phones=phones,
        traits=traits,
        consent=consent,
        raw=dict(data),
    )


def merged_tombstones(contact: Any) -> list[RecordDraft]:
    """A tombstone for each contact merged into ``contact`` at HubSpot, dated at its last change.

    A merge today creates a record with a new id (older merges kept the primary's id); the ids it
    absorbed are no longer listed nor archived, and a ``GET`` of one answers the merged record
    (developers.hubspot.com/changelog/updated-merge-functionality-for-contacts-and-companies). Its
    ``hs_merged_object_ids`` names them. Dated at the merged record's ``lastmodifieddate`` (never
    before the merge, which changed it; ``createdate`` is the primary's own when it kept its id),
    so a stored version of an absorbed contact, older than the merge, is retired. The contact's own
    id (a primary that kept its id is named too) is not a tombstone."""
    if not isinstance(contact, Mapping) or contact.get("archived") is True:
        return []
    properties = contact.get("properties")
    if not isinstance(properties, Mapping):
        return []
    merged = properties.get("hs_merged_object_ids")
    own = contact_id(contact)
    when = properties.get(MODIFIED) or contact.get("updatedAt")
    if not isinstance(merged, str) or not own or when in (None, ""):
        return []
    absorbed = dict.fromkeys(part.strip() for part in merged.split(";"))
    return [
        RecordDraft(source=SOURCE, object_type=OBJECT_TYPE, source_id=gone, updated_at=when, deleted=True)
        for gone in absorbed
        if gone and gone != own and gone.isdigit()
    ]


# --- canonical -> vendor ------------------------------------------------------------------------------


def hubspot_email(email: str) -> str:
    """The email as HubSpot stores it: lower case, an internationalised domain in Unicode.

    Profiles hold emails normalised with IDNA (``x@xn--bcher-kva.example``); HubSpot keeps what was
    typed, lower-cased (``x@bücher.example``), and upserts and lookups by email compare that text, so the
    A-label form would create a second contact.
    """
    local, at, domain = email.strip().lower().rpartition("@")
    if not at or "xn--" not in domain:
        return email.strip().lower()
    try:
        return f"{local}@{idna.decode(domain)}"
    except (idna.IDNAError, UnicodeError):
        return email.strip().lower()


def payload_for(profile: Profile) -> Payload | None:
    """The push input for one profile: the enriched traits, for the contact HubSpot holds (its record id
    as ``remote_id``) or, for someone it does not hold, an upsert on the primary email.

    None when the profile has no email. Nothing volatile goes in the body, so equal profiles give equal
    hashes and an unchanged profile is never sent twice.
    """
    email = primary_email(profile)
    if email is None:
        return None
    properties = {PROPERTY_FOR_TRAIT[trait]: value for trait, value in enriched_traits(profile).items()}
    # The contact HubSpot holds for this person, the most recently changed if several: updated by its
    # record id, so a primary email HubSpot does not know never creates a second contact.
    held = sorted(
        (ref for ref in profile.sources if ref.source == SOURCE and ref.object_type == OBJECT_TYPE),
        key=lambda ref: (ref.updated_at, ref.id),
    )
    return Payload(
        customer_id=profile.customer_id,
        match_key=hubspot_email(email),
        body={"idProperty": "email", "properties": properties},
        remote_id=held[-1].id if held else None,
    )


def upsert_input(payload: Payload) -> dict[str, Any]:
    """One ``inputs[]`` entry of ``POST /crm/v3/objects/contacts/batch/upsert``."""
    properties = payload.body.get("properties")
    return {
        "id": payload.match_key,
        "idProperty": str(payload.body.get("idProperty") or "email"),
        "properties": {str(k): "" if v is None else str(v) for k, v in dict(properties or {}).items()},
    }


__all__ = [
    "CUSTOM_PROPERTIES",
    "MODIFIED",
    "OBJECT_TYPE",
    "PROPERTY_FOR_TRAIT",
    "PROPERTY_GROUP",
    "PULL_PROPERTIES",
    "SOURCE",
    "TRAIT_PROPERTIES",
    "CustomProperty",
    "contact_id",
    "contact_to_draft",
    "format_timestamp",
    "hubspot_email",
    "merged_tombstones",
    "modified_ms",
    "payload_for",
    "timestamp_ms",
    "upsert_input",
]
