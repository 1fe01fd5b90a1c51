"""The Mailchimp sandbox's account-level reads: ``GET /ping``, ``GET /lists`` and the audience object.

The audience (``GET /lists/{list_id}``, ``lists.get_list`` in mailchimp-marketing) carries the keys of
Mailchimp's "Subscriber List" (``specs/mailchimp-marketing-3.0.55.json.gz``) and of its current
reference (https://mailchimp.com/developer/marketing/api/lists/get-list-info/): contact, permission
reminder, campaign defaults, subscribe URLs, visibility, double opt-in, and ``stats`` counted from the
members the sandbox holds (``total_contacts`` only with ``include_total_contacts=true``, as documented).
No campaign is ever sent from a sandbox, so the campaign figures and rates are zero and the
"since send" counts equal the totals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_wire as wire

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox

HEALTH: Final = {"health_status": "Everything's Chimpy!"}
NAME: Final = "profilesync sandbox audience"
CREATED: Final = "2025-01-01T00:00:00+00:00"


def ping() -> httpx.Response:
    """``GET /ping``: Mailchimp's health check."""
    return json_response(200, HEALTH)


def _stats(sandbox: MailchimpSandbox, include_total: bool) -> dict[str, Any]:
    members = list(sandbox.members.values())
    by_status = {
        s: [m for m in members if m["status"] == s] for s in ("subscribed", "unsubscribed", "cleaned")
    }
    subscribed, unsubscribed, cleaned = (len(by_status[s]) for s in ("subscribed", "unsubscribed", "cleaned"))
    stats: dict[str, Any] = {
        "member_count": subscribed,
        "unsubscribe_count": unsubscribed,
        "cleaned_count": cleaned,
        "member_count_since_send": subscribed,
        "unsubscribe_count_since_send": unsubscribed,
        "cleaned_count_since_send": cleaned,
        "campaign_count": 0,
        "campaign_last_sent": "",
        "merge_field_count": len(sandbox.merge_fields),
        "avg_sub_rate": 0,
        "avg_unsub_rate": 0,
        "target_sub_rate": 0,
        "open_rate": 0,
        "click_rate": 0,
        "last_sub_date": max(
            (m["timestamp_opt"] for m in by_status["subscribed"] if m["timestamp_opt"]), default=""
        ),
        "last_unsub_date": max((m["last_changed"] for m in by_status["unsubscribed"]), default=""),
    }
    if include_total:
        stats["total_contacts"] = len(members)
    return stats


def audience(sandbox: MailchimpSandbox, host: str, *, include_total: bool = False) -> dict[str, Any]:
    """The audience object (call under ``sandbox.lock``)."""
    return {
        "id": sandbox.list_id,
        "web_id": 1,
        "name": NAME,
        "contact": {
            "company": "profilesync sandbox",
            "address1": "1 Sandbox Street",
            "address2": "",
            "city": "Leeds",
            "state": "",
            "zip": "LS1 1AA",
            "country": "GB",
            "phone": "",
        },
        "permission_reminder": "You signed up for news from the profilesync sandbox.",
        "use_archive_bar": True,
        "campaign_defaults": {
            "from_name": "profilesync sandbox",
            "from_email": "sandbox@example.com",
            "subject": "",
            "language": "en",
        },
        "notify_on_subscribe": "",
        "notify_on_unsubscribe": "",
        "date_created": CREATED,
        "list_rating": 3,
        "email_type_option": False,
        "subscribe_url_short": "http://eepurl.com/sandbox",
        "subscribe_url_long": f"https://{host}/subscribe?u=sandbox&id={sandbox.list_id}",
        "beamer_address": f"{sandbox.dc}-{sandbox.list_id}@inbound.mailchimp.com",
        "visibility": "prv",
        "double_optin": False,
        "has_welcome": False,
        "marketing_permissions": False,
        "modules": [],
        "stats": _stats(sandbox, include_total),
        "_links": [],
    }


def get_list(sandbox: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    """``GET /lists/{list_id}``."""
    params = request.url.params
    with sandbox.lock:
        body = audience(
            sandbox, request.url.host, include_total=params.get("include_total_contacts") == "true"
        )
    return json_response(200, wire.shape(body, params))


def get_lists(sandbox: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    """``GET /lists``: the account's audiences (one here)."""
    params = request.url.params
    with sandbox.lock:
        found = [
            audience(sandbox, request.url.host, include_total=params.get("include_total_contacts") == "true")
        ]
    body = {
        "lists": found,
        "total_items": len(found),
        "constraints": {"may_create": False, "max_instances": 1, "current_total_instances": 1},
        "_links": [],
    }
    return json_response(200, wire.shape(body, params))


__all__ = ["HEALTH", "audience", "get_list", "get_lists", "ping"]
