"""The HubSpot sandbox's routing: which part answers a request, by its path and method (the parts are
listed in ``_sandbox``'s docstring); a known path asked with another method is HubSpot's 405.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from connectors._sandbox import json_response

from . import _sandbox_archive as archived
from . import _sandbox_list as listing
from . import _sandbox_objects as objects
from . import _sandbox_properties as props
from . import _sandbox_search as search
from . import _sandbox_upsert as upsert
from ._connector import (
    CONTACTS_PATH,
    GDPR_DELETE_PATH,
    GROUPS_PATH,
    PROPERTIES_PATH,
    SEARCH_PATH,
    UPSERT_PATH,
)
from ._sandbox_properties import _READ_ONLY
from ._sandbox_wire import _not_found, _Request, hubspot_error

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox


def dispatch(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    """Answer one parsed request (under the sandbox lock) by its path and method."""
    method, path = request.method, request.path.rstrip("/")
    if path == CONTACTS_PATH:
        if method == "POST":
            return objects.create(sb, request, _READ_ONLY)
        return listing.list_contacts(sb, request) if method == "GET" else method_not_allowed()
    if path in (
        f"{CONTACTS_PATH}/batch/read",
        f"{CONTACTS_PATH}/batch/create",
        f"{CONTACTS_PATH}/batch/update",
    ):
        if method != "POST":
            return method_not_allowed()
        if path.endswith("/read"):
            return objects.batch_read(sb, request)
        write = objects.batch_create if path.endswith("/create") else objects.batch_update
        return write(sb, request, _READ_ONLY)
    if path == SEARCH_PATH:
        return search.search(sb, request) if method == "POST" else method_not_allowed()
    if path == UPSERT_PATH:
        return upsert.upsert(sb, request) if method == "POST" else method_not_allowed()
    if path == GDPR_DELETE_PATH:
        return upsert.gdpr_delete(sb, request) if method == "POST" else method_not_allowed()
    if path == f"{CONTACTS_PATH}/merge":
        # A documented literal path the sandbox does not implement (POST merges two contacts), never
        # a contact id: literal segments win over {contactId}, as OpenAPI matches them.
        return _not_found()
    if path.startswith(CONTACTS_PATH + "/") and path.count("/") == CONTACTS_PATH.count("/") + 1:
        if method == "PATCH":
            return objects.update(sb, request, path[len(CONTACTS_PATH) + 1 :], _READ_ONLY)
        if method == "DELETE":
            found = archived.archive(sb, path[len(CONTACTS_PATH) + 1 :], sb.clock.now())
            return httpx.Response(204) if found else _not_found()
        if method != "GET":
            return method_not_allowed()
        return listing.get_contact(sb, request, path[len(CONTACTS_PATH) + 1 :])
    if path == PROPERTIES_PATH:
        if method == "GET":
            return json_response(200, {"results": list(sb._properties.values())})
        return props.create_property(sb, request) if method == "POST" else method_not_allowed()
    if path == f"{PROPERTIES_PATH}/batch/create":
        return props.batch_create(sb, request) if method == "POST" else method_not_allowed()
    if path == GROUPS_PATH:
        if method == "GET":
            return json_response(200, {"results": list(sb._groups.values())})
        return props.create_group(sb, request) if method == "POST" else method_not_allowed()
    if path.startswith(GROUPS_PATH + "/"):
        group = sb._groups.get(path[len(GROUPS_PATH) + 1 :])
        if method != "GET":
            return method_not_allowed()
        return json_response(200, group) if group else _not_found()
    if path.startswith(PROPERTIES_PATH + "/") and path.count("/") == PROPERTIES_PATH.count("/") + 1:
        prop = sb._properties.get(path[len(PROPERTIES_PATH) + 1 :])
        if method != "GET":
            return method_not_allowed()
        return json_response(200, prop) if prop else _not_found()
    return _not_found()


def method_not_allowed() -> httpx.Response:
    return hubspot_error(405, "HTTP 405 Method Not Allowed", "VALIDATION_ERROR")
