"""Klaviyo, declared with the connector SDK: profiles in, enriched properties out, GDPR deletion.

Vendor facts, each from Klaviyo's OpenAPI document for revision 2026-07-15 (``specs/klaviyo-profiles-
2026-07-15.json.gz``, from klaviyo/openapi) unless a page is named:

* Auth ``Authorization: Klaviyo-API-Key <private key>`` and a mandatory ``revision`` header on every
  request (the spec's required header parameter).
* ``GET /api/profiles``: JSON:API, ``page[size]`` 1-100 (default 20), ``page[cursor]``, the next page's
  full URL at ``links.next``. ``sort`` accepts ``updated``. ``filter`` on ``updated`` allows only
  ``greater-than`` and ``less-than`` (``x-klaviyo-filters``), datetimes unquoted
  (https://developers.klaviyo.com/en/docs/filtering_), so the walk asks for ``greater-than(updated,
  w - 1 s)`` and the cursor drops the ids it already has on ``w``. Consent is only returned with
  ``additional-fields[profile]=subscriptions``: ``subscriptions.email.marketing.consent`` is
  ``SUBSCRIBED``, ``UNSUBSCRIBED`` or ``NEVER_SUBSCRIBED`` (the last says nothing). Beside it,
  ``suppression`` lists the profile's global suppressions (``HARD_BOUNCE``, ``INVALID_EMAIL``,
  ``SPAM_COMPLAINT``, ``UNSUBSCRIBE``, ``USER_SUPPRESSED``, each with its ``timestamp``): "Profiles that
  cannot receive emails, even if they have provided consent"
  (https://developers.klaviyo.com/en/reference/profiles). Any one reads as consent denied, whatever
  the status, as Mailchimp's ``cleaned``; a list suppression (``list_suppressions``) keeps her off one
  list only and changes nothing.
* Rate limits per account, fixed windows, burst per second and steady per minute: get profiles 75/s and
  750/m; bulk import jobs (create and get) 10/s and 150/m; a 429 carries ``Retry-After``, other answers
  ``RateLimit-Limit``/``-Remaining``/``-Reset`` (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling).
* Push: ``POST /api/profile-bulk-import-jobs``, up to 10,000 profiles and 5 MB per job, processed
  asynchronously (status ``queued``/``processing``/``complete``/``cancelled``; per-profile failures
  at ``/api/profile-bulk-import-jobs/{id}/import-errors``). A profile Klaviyo holds is matched on its
  ``id`` (``ProfileUpsertQueryResourceObject`` takes one), anyone else on email; the enriched traits
  go in custom ``properties`` prefixed ``profilesync_``.
* Erase: ``POST /api/data-privacy-deletion-jobs`` (202, asynchronous; 3/s and 60/m; scope
  ``data-privacy:write``; https://developers.klaviyo.com/en/reference/request_profile_deletion),
  for exactly one of ``email``, ``phone_number`` or the profile ``id``. Not in the bundled spec. It
  does not say whether anyone matched, so the profile is looked up first. Klaviyo keeps the contact
  information of deleted profiles as its own GDPR record (its Deleted Profiles page).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from connectors._http import ConnectorRequestError
from connectors.sdk import (
    ApiKeyAuth,
    ConsentMap,
    FieldMap,
    Incremental,
    NextUrlPaging,
    PushMap,
    RestConnectorSpec,
    RestContext,
    Stream,
    Window,
)
from core.connector import Credential, EraseOutcome, Payload, PushOutcome
from core.push import ENRICHED_TRAITS
from core.schema import Identifier, Profile

logger = logging.getLogger(__name__)

REVISION: Final = "2026-07-15"
CREDENTIAL: Final = "klaviyo_api_key"
PROFILES: Final = "/api/profiles"
IMPORT_JOBS: Final = "/api/profile-bulk-import-jobs"
DELETION_JOBS: Final = "/api/data-privacy-deletion-jobs"
JSON_API: Final = {"Content-Type": "application/vnd.api+json"}
PROPERTY_PREFIX: Final = "profilesync_"
#: A job is polled this many times (waits of 1, 2, 4, ... s, at most 16 s) before it is taken as
#: accepted: Klaviyo applies a queued job later, and sending it again would only queue a second one.
JOB_POLLS: Final = 8


def shape(profile: Profile, email: str, properties: dict[str, str]) -> Mapping[str, Any]:
    """One profile of a bulk import job, the enriched traits as properties: the profile Klaviyo holds
    for this person matched on its id (the most recently changed if several), so the import updates it
    and never creates another nor changes its email; someone Klaviyo does not hold matched on email."""
    held = sorted(
        (ref for ref in profile.sources if ref.source == "klaviyo" and ref.object_type == "profile"),
        key=lambda ref: (ref.updated_at, ref.id),
    )
    if held:
        return {"type": "profile", "id": held[-1].id, "attributes": {"properties": properties}}
    return {"type": "profile", "attributes": {"email": email, "properties": properties}}


def _job_key(item: Mapping[str, Any]) -> str:
    """What identifies a profile of a job: its id if it has one, else its email (lower case)."""
    attributes = item.get("attributes") or {}
    return str(item.get("id") or attributes.get("email") or item.get("email") or "").lower()


def _job_errors(context: RestContext, job_id: str) -> dict[str, str]:
    """Profile key (``_job_key``) -> what Klaviyo said about that profile, for a job with failures."""
    body = context.client("push").get_json(
        f"{IMPORT_JOBS}/{job_id}/import-errors", params={"page[size]": 100}
    )
    found: dict[str, str] = {}
    for error in (body or {}).get("data", []):
        attributes = error.get("attributes", {})
        payload = attributes.get("original_payload") or {}
        found[_job_key(payload)] = f"{attributes.get('title', '')}: {attributes.get('detail', '')}".strip(
            ": "
        )
    return found


def send(context: RestContext, payloads: Sequence[Payload]) -> list[PushOutcome]:
    """Create one bulk import job for the batch and wait (boundedly) for Klaviyo to process it."""
    client = context.client("push")
    job = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": [dict(p.body) for p in payloads]}},
        }
    }
    # An import is an upsert on email: sending the same job twice leaves the same profiles.
    created = client.post_json(IMPORT_JOBS, json=job, headers=JSON_API, idempotent=True)
    job_id = str(created["data"]["id"])
    attributes = created["data"]["attributes"]
    for poll in range(JOB_POLLS):
        if attributes["status"] in ("complete", "cancelled"):
            break
        context.retry.sleep(min(2.0**poll, 16.0))
        attributes = client.get_json(f"{IMPORT_JOBS}/{job_id}")["data"]["attributes"]
    status = attributes["status"]
    if status == "cancelled":
        error = f"Klaviyo cancelled bulk import job {job_id}"
        return [PushOutcome(p.customer_id, ok=False, error=error, retryable=True) for p in payloads]
    if status != "complete":
        logger.warning("klaviyo: bulk import job %s is still %s; taking it as accepted", job_id, status)
    failed = _job_errors(context, job_id) if attributes.get("failed_count") else {}
    return [
        PushOutcome(p.customer_id, ok=False, remote_id=job_id, error=failed[_job_key(p.body)])
        if _job_key(p.body) in failed
        else PushOutcome(p.customer_id, ok=True, remote_id=job_id)
        for p in payloads
    ]


_LOOKUP_FIELD: Final = {"email": "email", "phone": "phone_number"}
_PROFILE_ID: Final = "klaviyo:profile:"


def erase(context: RestContext, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
    """Request a GDPR deletion of each person Klaviyo holds: by profile id (``klaviyo:profile:<id>``,
    the exact profile; a 404 for it confirms it is gone), or by email or phone number (every
    profile with it, as Klaviyo's deletion job does). The profile is looked up first: the job's
    answer (202, no body) does not say whether anyone matched."""
    out: list[EraseOutcome] = []
    for identifier in identifiers:
        if identifier.kind == "source" and identifier.value.startswith(_PROFILE_ID):
            profile_id = identifier.value[len(_PROFILE_ID) :]
            try:
                context.client("pull").get_json(f"{PROFILES}/{quote(profile_id, safe='')}")
            except ConnectorRequestError as error:
                if error.status != 404:
                    raise
                out.append(EraseOutcome(identifier, found=False, detail="no such profile", absent=True))
                continue
            _request_deletion(context, {"type": "profile", "id": profile_id})
            out.append(EraseOutcome(identifier, found=True, detail="deletion job accepted"))
            continue
        field = _LOOKUP_FIELD.get(identifier.kind)
        if field is None or '"' in identifier.value:
            out.append(
                EraseOutcome(identifier, found=False, detail="Klaviyo erases by profile id, email or phone")
            )
            continue
        found = context.client("pull").get_json(
            PROFILES, params={"filter": f'equals({field},"{identifier.value}")', "page[size]": 1}
        )
        if not (found or {}).get("data"):
            out.append(EraseOutcome(identifier, found=False))
            continue
        _request_deletion(context, {"type": "profile", "attributes": {field: identifier.value}})
        out.append(EraseOutcome(identifier, found=True, detail="deletion job accepted"))
    return out


def _request_deletion(context: RestContext, profile: Mapping[str, Any]) -> None:
    job = {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": {"data": profile}}}}
    context.client("erase").post_json(DELETION_JOBS, json=job, headers=JSON_API, idempotent=True)


PROFILE_FIELDS = FieldMap(
    updated_at="attributes.updated",
    emails=("attributes.email",),
    phones=("attributes.phone_number",),
    traits={
        "first_name": "attributes.first_name",
        "last_name": "attributes.last_name",
        "company": "attributes.organization",
        "job_title": "attributes.title",
        "country": "attributes.location.country",
        "city": "attributes.location.city",
        "region": "attributes.location.region",
        "postal_code": "attributes.location.zip",
        # The customer's id in another system (often the shop's): kept as a trait, never matched on.
        # A profile holding only it is one person to Klaviyo, kept by its own profile id
        # (core.normalise: EXTERNAL_ID_TRAIT; docs/identity.md, "Records without email or phone").
        "external_id": "attributes.external_id",
    },
    consent=(
        ConsentMap(
            "attributes.subscriptions.email.marketing.consent",
            granted=frozenset({"SUBSCRIBED"}),
            denied=frozenset({"UNSUBSCRIBED"}),
            changed_at_path="attributes.subscriptions.email.marketing.consent_timestamp",
            # A global suppression (spam complaint, bounce, ...) blocks email whatever the consent.
            suppressed_path="attributes.subscriptions.email.marketing.suppression",
        ),
    ),
)

DECLARATION = RestConnectorSpec(
    name="klaviyo",
    kind="email",
    description=(
        "Klaviyo profiles (JSON:API, revision 2026-07-15) with email consent; pushes the enriched "
        "traits as custom properties through bulk import jobs; erases with data-privacy deletion jobs"
    ),
    base_url="https://a.klaviyo.com",
    auth=ApiKeyAuth(
        Credential(
            CREDENTIAL,
            "a Klaviyo private API key (pk_...) with profiles:read, profiles:write, lists:write "
            "and data-privacy:write",
        ),
        header="Authorization",
        prefix="Klaviyo-API-Key",
    ),
    headers={"revision": REVISION, "Accept": "application/vnd.api+json"},
    streams=(
        Stream(
            name="profiles",
            path=PROFILES,
            records_path="data",
            primary_key="id",
            object_type="profile",
            paging=NextUrlPaging("links.next"),
            page_size=100,
            page_size_param="page[size]",
            params={"sort": "updated", "additional-fields[profile]": "subscriptions"},
            incremental=Incremental("attributes.updated", {"filter": "greater-than(updated,{since})"}),
            fields=PROFILE_FIELDS,
        ),
    ),
    limits={
        "pull": (Window(75, 1.0), Window(750, 60.0)),
        "push": (Window(10, 1.0), Window(150, 60.0)),
        "erase": (Window(3, 1.0), Window(60, 60.0)),
    },
    push=PushMap(
        properties={f"{PROPERTY_PREFIX}{trait}": trait for trait in ENRICHED_TRAITS},
        shape=shape,
        send=send,
        batch_size=10_000,
        # Klaviyo bills by active profile and mails them: by default only people it holds are updated;
        # in upsert mode, people are created only with email marketing consent.
        mode="update",
        channel="email",
        holder_types=frozenset({"profile"}),
    ),
    erase=erase,
    rate_limit=(
        "per account: get profiles 75/s burst, 750/min steady; bulk import jobs 10/s, 150/min; "
        "deletion jobs 3/s, 60/min (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling)"
    ),
    deletions=(
        "not reported by an incremental pull: a profile deleted (a data privacy deletion job, or in the "
        "UI) is no longer listed by GET /api/profiles, and the API keeps no record or event of the "
        "deletion to pull (https://developers.klaviyo.com/en/reference/request_profile_deletion); a full "
        "refresh retires it (refresh_lists)"
    ),
    # A full refresh walks GET /api/profiles with no filter: every profile the account holds, whatever
    # its subscriptions or suppressions, so one it no longer lists was deleted (core.refresh_sweep).
    refresh_lists=frozenset({"profile"}),
)

__all__ = ["CREDENTIAL", "DECLARATION", "PROPERTY_PREFIX", "REVISION", "erase", "send", "shape"]
