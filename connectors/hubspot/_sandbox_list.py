"""The HubSpot sandbox's contact list and get (by record id or ``idProperty=email``), and the view of a
contact every answer gives: the properties asked for, an unset one as null, as HubSpot answers it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_archive as archived
from . import _sandbox_objects as objects
from ._connector import CONTACTS_PATH
from ._mapping import format_timestamp
from ._sandbox_wire import (
    _int_param,
    _names,
    _not_found,
    _origin,
    _Request,
)

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox, _Contact

LIST_MAX: Final = 100
LIST_DEFAULT: Final = 10
_ALWAYS_RETURNED: Final = ("createdate", "hs_object_id", "lastmodifieddate")


# --- contacts: list, get --------------------------------------------------------------------------
def view(sb: HubSpotSandbox, contact: _Contact, names: Iterable[str]) -> dict[str, Any]:
    wanted = dict.fromkeys([*names, *_ALWAYS_RETURNED])
    return {
        "id": contact.id,
        # A property asked for and unset is there, as null, as HubSpot answers it.
        "properties": {n: contact.properties.get(n) or None for n in sorted(wanted)},
        "createdAt": format_timestamp(contact.created),
        "updatedAt": format_timestamp(contact.updated),
        "archived": False,
    }


def list_contacts(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    limit = min(LIST_MAX, _int_param(request, "limit", LIST_DEFAULT, minimum=1))
    after = _int_param(request, "after", 0, minimum=0)
    names = _names(request) or list(objects.DEFAULT_PROPERTIES)
    if (request.param("archived") or "").lower() == "true":  # the SDK sends "True"
        return archived.archived_list(sb, limit, after, names, _origin(request))
    ordered = _ordered_ids(
        sb,
    )
    start = bisect.bisect_left(ordered, after)
    page = [sb._contacts[str(i)] for i in ordered[start : start + limit]]
    body: dict[str, Any] = {"results": [view(sb, c, names) for c in page]}
    if start + limit < len(ordered):
        token = str(ordered[start + limit])
        body["paging"] = {
            "next": {"after": token, "link": f"{_origin(request)}{CONTACTS_PATH}?after={token}"}
        }
    return json_response(200, body)


def _ordered_ids(sb: HubSpotSandbox) -> list[int]:
    if sb._sorted_ids is None:
        sb._sorted_ids = sorted(int(i) for i in sb._contacts)
    return sb._sorted_ids


def get_contact(sb: HubSpotSandbox, request: _Request, key: str) -> httpx.Response:
    if request.param("idProperty") == "email":
        record_id = sb._by_email.get(key.strip().lower())
        contact = sb._contacts.get(record_id) if record_id else None
    else:
        contact = sb._contacts.get(key)
    if contact is None:
        return _not_found()
    return json_response(200, view(sb, contact, _names(request) or objects.DEFAULT_PROPERTIES))
