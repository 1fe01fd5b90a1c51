"""The HubSpot sandbox's basic and batch object endpoints for contacts (create, update, batch read,
create and update), as hubspot-api-client's ``basic_api`` and ``batch_api`` call them.

Behaviour, with where it comes from (the endpoints' entries in ``specs/hubspot-crm-contacts-v3.json.gz``
unless named):

* ``POST /crm/v3/objects/contacts`` answers 201 with the new ``SimplePublicObject``; an email another
  contact has is 409 ``CONFLICT`` "Contact already exists. Existing ID: <id>", as is a batch create
  naming one (the whole batch fails: HubSpot/hubspot-api-python#51 shows the answer).
* ``PATCH /crm/v3/objects/contacts/{id}`` (``idProperty=email`` to address by email) sets the given
  properties; an empty value clears one; 404 for an unknown contact.
* ``POST .../batch/read`` by id or by ``idProperty`` email: 200, or 207 Multi-Status with an
  ``OBJECT_NOT_FOUND`` error listing the ids it could not find.
* ``POST .../batch/update`` by record id only: an ``idProperty`` of ``email`` is refused as HubSpot
  refuses it ("Unable to perform update/upsert by non-unique 0-1 property", reported in
  HubSpot/hubspot-api-nodejs#548); unknown ids are 207 with ``OBJECT_NOT_FOUND`` errors, so an update
  never creates anyone.
* Batches take at most 100 inputs; unknown and read-only properties are 400 ``VALIDATION_ERROR`` with
  ``PROPERTY_DOESNT_EXIST`` / ``READ_ONLY_VALUE`` details, as batch upsert answers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_list as listing
from . import _sandbox_upsert as upsert
from ._mapping import format_timestamp
from ._sandbox_wire import (
    _invalid,
    _json_object,
    _ms_precision,
    _not_found,
    _RejectedError,
    _Request,
    hubspot_error,
)

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox, _Contact

BATCH_MAX: Final = 100
#: The properties a create or update answer shows besides those it was given (HubSpot's defaults).
DEFAULT_PROPERTIES: Final = (
    "createdate",
    "email",
    "firstname",
    "hs_object_id",
    "lastmodifieddate",
    "lastname",
)
_NOT_FOUND_MESSAGE: Final = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid."
)


def _now(sandbox: HubSpotSandbox) -> datetime:
    return _ms_precision(sandbox.clock.now())


def property_problems(sandbox: HubSpotSandbox, names: Iterable[str], read_only: frozenset[str]) -> None:
    """Raise HubSpot's 400 when a write names a property that does not exist or cannot be written."""
    wanted = sorted(set(names))
    problems = [
        (n, "PROPERTY_DOESNT_EXIST", f'Property "{n}" does not exist')
        for n in wanted
        if n not in sandbox._properties
    ]
    problems += [
        (n, "READ_ONLY_VALUE", f'"{n}" is a read only property; its value cannot be set.')
        for n in wanted
        if n in read_only
    ]
    if problems:
        raise _invalid(
            "Property values were not valid: " + "; ".join(text for _, _, text in problems),
            errors=[
                {"message": text, "code": code, "context": {"propertyName": [n]}}
                for n, code, text in problems
            ],
        )


def _text_properties(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _invalid("Invalid input JSON: properties must be an object")
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _conflict(existing: str) -> _RejectedError:
    return _RejectedError(hubspot_error(409, f"Contact already exists. Existing ID: {existing}", "CONFLICT"))


#: ``HubSpotSandbox._invalid_value`` checks an email before the values; a write that sets no email has
#: only its values checked, behind this well-formed stand-in.
_NO_EMAIL: Final = "no.email@example.com"


def _check_values(sandbox: HubSpotSandbox, email: str | None, properties: Mapping[str, str]) -> None:
    problem = upsert.invalid_value(sandbox, email or _NO_EMAIL, properties)
    if problem is not None:
        code, message = problem
        raise _invalid(message, errors=[{"message": message, "code": code}])


def _new_contact(sandbox: HubSpotSandbox, properties: dict[str, str], now: datetime) -> _Contact:
    values = {k: v for k, v in properties.items() if v != ""}
    if "email" in values:
        values["email"] = values["email"].strip().lower()  # HubSpot lower-cases emails
    return sandbox._insert(values, now, now)


def _apply(sandbox: HubSpotSandbox, contact: _Contact, properties: Mapping[str, str], now: datetime) -> None:
    """Set (or, with "", clear) ``properties`` on ``contact``; a change moves ``lastmodifieddate``."""
    changed = False
    for name, value in properties.items():
        if name == "email":
            changed |= _change_email(sandbox, contact, value.strip().lower())
        elif value == "":
            changed |= contact.properties.pop(name, None) is not None
        elif contact.properties.get(name) != value:
            contact.properties[name] = value
            changed = True
    if changed:
        contact.updated = max(now, contact.updated)
        sandbox._stamp(contact)
        sandbox._by_modified = None


def _change_email(sandbox: HubSpotSandbox, contact: _Contact, email: str) -> bool:
    current = contact.email()
    if email == (current or ""):
        return False
    owner = sandbox._by_email.get(email)
    if owner is not None and owner != contact.id:
        raise _conflict(owner)
    if current:
        sandbox._by_email.pop(current, None)
    if email:
        contact.properties["email"] = email
        sandbox._by_email[email] = contact.id
    else:
        contact.properties.pop("email", None)
    return True


def _find(sandbox: HubSpotSandbox, key: str, id_property: str | None) -> _Contact | None:
    if id_property == "email":
        record_id = sandbox._by_email.get(key.strip().lower())
        return sandbox._contacts.get(record_id) if record_id else None
    if id_property not in (None, "", "hs_object_id"):
        raise _invalid(f"{id_property!r} is not a unique property of contacts; use email or the record id")
    return sandbox._contacts.get(key.strip())


def _batch_answer(
    sandbox: HubSpotSandbox, started: datetime, results: list[dict[str, Any]], missing: list[str], ok: int
) -> httpx.Response:
    answer: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": format_timestamp(started),
        "completedAt": format_timestamp(_now(sandbox)),
    }
    if not missing:
        return json_response(ok, answer)
    answer["numErrors"] = 1
    answer["errors"] = [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": _NOT_FOUND_MESSAGE,
            "context": {"ids": missing},
            "errors": [],
            "links": {},
        }
    ]
    return json_response(207, answer)


def _inputs(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise _invalid("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > BATCH_MAX:
        raise _invalid(f"The batch input limit is {BATCH_MAX} inputs; got {len(inputs)}")
    return inputs


# --- basic_api ----------------------------------------------------------------------------------------


def create(sandbox: HubSpotSandbox, request: _Request, read_only: frozenset[str]) -> httpx.Response:
    """``POST /crm/v3/objects/contacts``: one new contact, 201."""
    properties = _text_properties(_json_object(request).get("properties"))
    property_problems(sandbox, properties, read_only)
    email = properties.get("email", "").strip().lower() or None
    _check_values(sandbox, email, properties)
    if email is not None and email in sandbox._by_email:
        raise _conflict(sandbox._by_email[email])
    contact = _new_contact(sandbox, properties, _now(sandbox))
    return json_response(201, listing.view(sandbox, contact, [*DEFAULT_PROPERTIES, *properties]))


def update(sandbox: HubSpotSandbox, request: _Request, key: str, read_only: frozenset[str]) -> httpx.Response:
    """``PATCH /crm/v3/objects/contacts/{id}``: set the given properties of one contact."""
    properties = _text_properties(_json_object(request).get("properties"))
    if not properties:
        raise _invalid("No properties found to update, please provide at least one.")
    contact = _find(sandbox, key, request.param("idProperty"))
    if contact is None:
        return _not_found()
    property_problems(sandbox, properties, read_only)
    _check_values(sandbox, properties.get("email"), properties)
    _apply(sandbox, contact, properties, _now(sandbox))
    return json_response(200, listing.view(sandbox, contact, [*DEFAULT_PROPERTIES, *properties]))


# --- batch_api ----------------------------------------------------------------------------------------


def batch_read(sandbox: HubSpotSandbox, request: _Request) -> httpx.Response:
    """``POST .../batch/read``: contacts by id (or by ``idProperty``), with the properties asked for."""
    started = _now(sandbox)
    body = _json_object(request)
    id_property = body.get("idProperty")
    names = body.get("properties") or []
    if not isinstance(names, list):
        raise _invalid("Invalid input JSON: properties must be a list of names")
    wanted = [str(n) for n in names] or list(DEFAULT_PROPERTIES)
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    seen: set[str] = set()
    for item in _inputs(body):
        key = str(item.get("id", ""))
        contact = _find(sandbox, key, id_property if isinstance(id_property, str) else None)
        if contact is None:
            missing.append(key)
        elif contact.id not in seen:
            seen.add(contact.id)
            results.append(listing.view(sandbox, contact, wanted))
    return _batch_answer(sandbox, started, results, missing, 200)


def batch_create(sandbox: HubSpotSandbox, request: _Request, read_only: frozenset[str]) -> httpx.Response:
    """``POST .../batch/create``: every input a new contact, or none (the whole batch fails)."""
    started = _now(sandbox)
    inputs = [_text_properties(item.get("properties")) for item in _inputs(_json_object(request))]
    property_problems(sandbox, (n for properties in inputs for n in properties), read_only)
    emails: list[str] = []
    for properties in inputs:
        email = properties.get("email", "").strip().lower()
        _check_values(sandbox, email or None, properties)
        if email and (email in sandbox._by_email or email in emails):
            raise _conflict(sandbox._by_email.get(email, "(this batch)"))
        emails.append(email)
    now = _now(sandbox)
    created = [_new_contact(sandbox, properties, now) for properties in inputs]
    results = [
        listing.view(sandbox, c, [*DEFAULT_PROPERTIES, *p]) for c, p in zip(created, inputs, strict=True)
    ]
    return _batch_answer(sandbox, started, results, [], 201)


def batch_update(sandbox: HubSpotSandbox, request: _Request, read_only: frozenset[str]) -> httpx.Response:
    """``POST .../batch/update``: contacts by record id; an id HubSpot does not hold is reported, never
    created."""
    started = _now(sandbox)
    inputs = _inputs(_json_object(request))
    for item in inputs:
        if item.get("idProperty") not in (None, "", "hs_object_id"):
            raise _invalid(
                f"Unable to perform update/upsert by non-unique 0-1 property {item.get('idProperty')}; "
                "batch update takes record ids (use batch upsert to match on email)"
            )
    ids = [str(item.get("id", "")).strip() for item in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _invalid(f"Duplicate IDs found in batch input: {duplicates}")
    changes = [_text_properties(item.get("properties")) for item in inputs]
    property_problems(sandbox, (n for properties in changes for n in properties), read_only)
    for properties in changes:
        _check_values(sandbox, properties.get("email"), properties)
    now = _now(sandbox)
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    for record_id, properties in zip(ids, changes, strict=True):
        contact = sandbox._contacts.get(record_id)
        if contact is None:
            missing.append(record_id)
            continue
        _apply(sandbox, contact, properties, now)
        results.append(listing.view(sandbox, contact, list(properties)))
    return _batch_answer(sandbox, started, results, missing, 200)


__all__ = [
    "BATCH_MAX",
    "DEFAULT_PROPERTIES",
    "batch_create",
    "batch_read",
    "batch_update",
    "create",
    "update",
]
