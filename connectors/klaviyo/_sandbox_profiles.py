"""The Klaviyo sandbox's single-profile writes and sparse fieldsets, as klaviyo-api calls them.

From Klaviyo's OpenAPI document (revision 2026-07-15, ``specs/klaviyo-profiles-2026-07-15.json.gz``)
and https://developers.klaviyo.com/en/reference/profiles_api_overview:

* ``POST /api/profiles`` (``create_profile``): 201 with the new profile; a profile needs an email,
  a phone number or an external id; one that another profile already has is 409
  ``duplicate_profile`` with that profile's id in ``meta.duplicate_profile_id``.
* ``PATCH /api/profiles/{id}`` (``update_profile``): the attributes given are set, ``location`` and
  custom ``properties`` merged key by key; 404 for an unknown id, so an update never creates.
* ``POST /api/profile-import`` (``create_or_update_profile``): matched on ``id``, else email, phone
  number or external id; 200 when it updated a profile, 201 when it created one.
* ``fields[profile]=email,location.city`` (sparse fieldsets, https://developers.klaviyo.com/en/docs/
  sparse_fieldsets) keeps only those attributes, on reads and on these writes' answers.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC
from typing import TYPE_CHECKING, Any, Final

import httpx

if TYPE_CHECKING:
    from ._sandbox import KlaviyoSandbox

IDENTIFIERS: Final = ("email", "phone_number", "external_id")
TEXT_ATTRIBUTES: Final = frozenset(
    {*IDENTIFIERS, "first_name", "last_name", "organization", "locale", "title", "image"}
)
LOCATION_KEYS: Final = frozenset(
    {"address1", "address2", "city", "country", "latitude", "longitude", "region", "zip", "timezone", "ip"}
)
WRITABLE: Final = frozenset({*TEXT_ATTRIBUTES, "location", "properties"})
#: Attributes Klaviyo accepts on writes and keeps elsewhere (or not at all); accepted, not stored here.
IGNORED: Final = frozenset({"anonymous_id", "_kx"})
_PHONE: Final = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _RefusedError(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _invalid(sandbox: KlaviyoSandbox, detail: str, pointer: str = "/data/attributes") -> _RefusedError:
    response = sandbox.error(400, "invalid", "Invalid input.", detail)
    body = json.loads(response.content)
    body["errors"][0]["source"] = {"pointer": pointer}
    return _RefusedError(sandbox.document(400, body))


def _duplicate(sandbox: KlaviyoSandbox, profile_id: str) -> _RefusedError:
    error = {
        "id": str(uuid.uuid4()),
        "status": 409,
        "code": "duplicate_profile",
        "title": "Conflict.",
        "detail": "A profile already exists with one of these identifiers.",
        "source": {"pointer": "/data/attributes"},
        "meta": {"duplicate_profile_id": profile_id},
    }
    return _RefusedError(sandbox.document(409, {"errors": [error]}))


def sparse(resource: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
    """``resource`` with only the attributes ``fields[profile]`` names (dotted for nested ones)."""
    wanted = [f.strip() for f in params.get("fields[profile]", "").split(",") if f.strip()]
    if not wanted:
        return resource
    kept: dict[str, Any] = {}
    attributes = resource["attributes"]
    for path in wanted:
        head, _, rest = path.partition(".")
        if head not in attributes:
            continue
        if not rest:
            kept[head] = attributes[head]
        elif isinstance(attributes[head], dict) and rest in attributes[head]:
            kept.setdefault(head, {})[rest] = attributes[head][rest]
    return {**resource, "attributes": kept}


def unknown_fields(params: httpx.QueryParams, known: frozenset[str]) -> str | None:
    """The first ``fields[profile]`` entry that names no profile attribute, or None."""
    text = str(params.get("fields[profile]", ""))
    for path in (f.strip() for f in text.split(",") if f.strip()):
        if path.partition(".")[0] not in known:
            return path
    return None


def _data(sandbox: KlaviyoSandbox, request: httpx.Request) -> dict[str, Any]:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        raise _invalid(sandbox, "The request body is not valid JSON.", "/data") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != "profile":
        raise _invalid(sandbox, "The payload must be a JSON:API document of type 'profile'.", "/data")
    attributes = data.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise _invalid(sandbox, "attributes must be an object.")
    return data


def _clean(sandbox: KlaviyoSandbox, attributes: dict[str, Any]) -> dict[str, Any]:
    """The writable attributes, checked: identifiers well formed, nothing unknown."""
    unknown = sorted(set(attributes) - WRITABLE - IGNORED)
    if unknown:
        raise _invalid(sandbox, f"'{unknown[0]}' is not a valid field for the resource 'profile'.")
    clean = {k: v for k, v in attributes.items() if k in WRITABLE}
    email = clean.get("email")
    if email is not None:
        if not isinstance(email, str) or not _EMAIL.match(email.strip()):
            raise _invalid(sandbox, "Invalid email address", "/data/attributes/email")
        clean["email"] = email.strip().lower()  # Klaviyo keeps addresses trimmed and lower-cased
    phone = clean.get("phone_number")
    if phone is not None and (not isinstance(phone, str) or not _PHONE.match(phone)):
        raise _invalid(
            sandbox,
            "Invalid phone number format (Example of a valid format: +12345678901)",
            "/data/attributes/phone_number",
        )
    for name in ("location", "properties"):
        if name in clean and not isinstance(clean[name], dict):
            raise _invalid(sandbox, f"{name} must be an object.", f"/data/attributes/{name}")
    if set(clean.get("location") or {}) - LOCATION_KEYS:
        bad = sorted(set(clean["location"]) - LOCATION_KEYS)[0]
        raise _invalid(sandbox, f"'{bad}' is not a valid field of location.", "/data/attributes/location")
    return clean


def _owner(sandbox: KlaviyoSandbox, attributes: dict[str, Any], other_than: str | None = None) -> str | None:
    """The id of a profile (other than ``other_than``) that already has one of these identifiers."""
    for field in IDENTIFIERS:
        value = attributes.get(field)
        if value:
            for found in sandbox._find(field, str(value)):
                if found["id"] != other_than:
                    return str(found["id"])
    return None


def _apply(sandbox: KlaviyoSandbox, profile: dict[str, Any], attributes: dict[str, Any]) -> None:
    for name in TEXT_ATTRIBUTES & set(attributes):
        profile[name] = attributes[name]
    profile["location"] = {**profile["location"], **(attributes.get("location") or {})}
    profile["properties"] = {**profile["properties"], **(attributes.get("properties") or {})}
    profile["updated"] = _stamp(sandbox)


def _stamp(sandbox: KlaviyoSandbox) -> str:
    """Now, as Klaviyo writes a timestamp: ``2022-11-08T00:00:00+00:00``."""
    return sandbox.clock.now().astimezone(UTC).replace(microsecond=0).isoformat()


def _create(sandbox: KlaviyoSandbox, attributes: dict[str, Any]) -> dict[str, Any]:
    if not any(attributes.get(f) for f in IDENTIFIERS):
        raise _invalid(sandbox, "A profile needs at least one of email, phone_number or external_id.")
    profile = sandbox._add({}, sandbox.clock.now(), consent=None)
    _apply(sandbox, profile, attributes)
    profile["created"] = profile["updated"]
    return profile


def _answer(
    sandbox: KlaviyoSandbox, request: httpx.Request, profile: dict[str, Any], status: int
) -> httpx.Response:
    base = f"{request.url.scheme}://{request.url.netloc.decode()}"
    extra = {e.strip() for e in request.url.params.get("additional-fields[profile]", "").split(",")}
    resource = sparse(
        sandbox._resource(profile, base, subscriptions="subscriptions" in extra), request.url.params
    )
    return sandbox.document(status, {"data": resource, "links": resource["links"]})


def create(sandbox: KlaviyoSandbox, request: httpx.Request) -> httpx.Response:
    """``POST /api/profiles``."""
    try:
        attributes = _clean(sandbox, _data(sandbox, request).get("attributes") or {})
        with sandbox.lock:
            owner = _owner(sandbox, attributes)
            if owner is not None:
                raise _duplicate(sandbox, owner)
            return _answer(sandbox, request, _create(sandbox, attributes), 201)
    except _RefusedError as refused:
        return refused.response


def update(sandbox: KlaviyoSandbox, request: httpx.Request, profile_id: str) -> httpx.Response:
    """``PATCH /api/profiles/{id}``."""
    try:
        data = _data(sandbox, request)
        if data.get("id") != profile_id:
            raise _invalid(sandbox, "The id in the body must be the id in the URL.", "/data/id")
        attributes = _clean(sandbox, data.get("attributes") or {})
        with sandbox.lock:
            profile = sandbox.profiles.get(profile_id)
            if profile is None:
                return sandbox.error(
                    404, "not_found", "Not found.", f"A profile with id {profile_id} does not exist."
                )
            owner = _owner(sandbox, attributes, other_than=profile_id)
            if owner is not None:
                raise _duplicate(sandbox, owner)
            _apply(sandbox, profile, attributes)
            return _answer(sandbox, request, profile, 200)
    except _RefusedError as refused:
        return refused.response


def import_profile(sandbox: KlaviyoSandbox, request: httpx.Request) -> httpx.Response:
    """``POST /api/profile-import``: update the profile these identifiers find, else create one."""
    try:
        data = _data(sandbox, request)
        attributes = _clean(sandbox, data.get("attributes") or {})
        with sandbox.lock:
            found: dict[str, Any] | None = None
            if data.get("id"):
                found = sandbox.profiles.get(str(data["id"]))
                if found is None:
                    return sandbox.error(
                        404, "not_found", "Not found.", f"A profile with id {data['id']} does not exist."
                    )
            for field in IDENTIFIERS:
                if found is None and attributes.get(field):
                    matches = sandbox._find(field, str(attributes[field]))
                    found = matches[0] if matches else None
            if found is None:
                return _answer(sandbox, request, _create(sandbox, attributes), 201)
            owner = _owner(sandbox, attributes, other_than=found["id"])
            if owner is not None:
                raise _duplicate(sandbox, owner)
            _apply(sandbox, found, attributes)
            return _answer(sandbox, request, found, 200)
    except _RefusedError as refused:
        return refused.response


__all__ = ["IDENTIFIERS", "create", "import_profile", "sparse", "unknown_fields", "update"]
