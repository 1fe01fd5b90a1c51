"""The HubSpot sandbox's archived contacts: what deleting a contact does there.

``DELETE /crm/v3/objects/contacts/{id}`` answers 204 and archives the contact: it leaves every list
and search, and ``GET /crm/v3/objects/contacts?archived=true`` lists it (ordered by id, paged by
``after`` like the live list) with ``archived: true`` and ``archivedAt``; it can be restored within
90 days, with its id (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/
delete-contact). A GDPR delete is another thing: the contact is gone for good (``_gdpr_delete``).
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from connectors._sandbox import json_response

from . import _sandbox_list as listing
from ._mapping import format_timestamp

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox, _Contact


def archive(sb: HubSpotSandbox, record_id: str, at: datetime) -> bool:
    """Archive a live contact at ``at`` (the caller holds the lock); False when there is none."""
    contact = sb._contacts.pop(record_id, None)
    if contact is None:
        return False
    sb._sorted_ids = sb._by_modified = None
    email = contact.email()
    if email and sb._by_email.get(email) == record_id:
        del sb._by_email[email]
    sb._archived[record_id] = (contact, at)
    return True


def restore(sb: HubSpotSandbox, record_id: str, at: datetime) -> None:
    """Restore an archived contact (HubSpot's "restore deleted records"): same id, modified ``at``."""
    contact, _ = sb._archived.pop(record_id)
    contact.updated = at
    sb._stamp(contact)
    sb._contacts[record_id] = contact
    sb._sorted_ids = sb._by_modified = None
    email = contact.email()
    if email:
        sb._by_email[email] = record_id


def view(sb: HubSpotSandbox, contact: _Contact, archived_at: datetime, names: list[str]) -> dict[str, Any]:
    """An archived contact as the list answers it: as a live one, archived and dated."""
    return {**listing.view(sb, contact, names), "archived": True, "archivedAt": format_timestamp(archived_at)}


def archived_list(
    sb: HubSpotSandbox, limit: int, after: int, names: list[str], origin: str
) -> httpx.Response:
    """``GET /crm/v3/objects/contacts?archived=true``: the archived contacts, ordered by id."""
    ordered = sorted(int(i) for i in sb._archived)
    start = bisect.bisect_left(ordered, after)
    chosen = ordered[start : start + limit]
    body: dict[str, Any] = {"results": [view(sb, *sb._archived[str(i)], names) for i in chosen]}
    if start + limit < len(ordered):
        token = str(ordered[start + limit])
        link = f"{origin}/crm/v3/objects/contacts?archived=true&after={token}"
        body["paging"] = {"next": {"after": token, "link": link}}
    return json_response(200, body)


__all__ = ["archive", "archived_list", "restore", "view"]
