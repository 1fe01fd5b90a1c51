"""The HubSpot and Mailchimp sandboxes route requests as the vendors' published specs say.

GIVEN every path the vendor's OpenAPI document lists (HubSpot's contacts and properties; Mailchimp's
``/ping`` and ``/lists`` family), its placeholders filled with what the sandbox holds, WHEN each is
asked with each of GET, POST, PUT, PATCH and DELETE THEN
- what the sandbox serves (any answer but 404 and 405) is an operation the vendor documents: the
  sandbox never accepts a method the vendor does not have;
- a path it serves answers the methods it does not with 405 (not 404), in the vendor's error
  document where the spec has an operation to check it against;
- it serves at least the endpoints its docstring names (a routing table that lost them all would
  otherwise pass the first two).
Each path gets a fresh sandbox, so a DELETE cannot hide a GET of the same path.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from connectors._sandbox import VendorSandbox
from connectors.hubspot import HubSpotSandbox
from connectors.mailchimp import MailchimpSandbox
from profilesync.testing.specs import OpenApiSpec, SpecViolation

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PLACEHOLDER = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Vendor:
    specs: tuple[str, ...]
    #: which spec paths to ask (a prefix of the template), and the base path the server puts before them
    prefixes: tuple[str, ...]
    base: str
    make: Callable[[], VendorSandbox]
    client: Callable[[Any], httpx.Client]
    #: a placeholder's value in a fresh sandbox (anything not named: "1")
    values: Callable[[Any], dict[str, str]]
    #: (method, template) the sandbox's docstring says it serves
    served: frozenset[tuple[str, str]]


def _pairs(*lines: str) -> frozenset[tuple[str, str]]:
    """``"GET /path"`` lines as (method, template) pairs."""
    return frozenset((method, path) for method, _, path in (line.partition(" ") for line in lines))


def _hubspot_client(sandbox: HubSpotSandbox) -> httpx.Client:
    return httpx.Client(
        transport=sandbox.transport(),
        base_url="https://api.hubapi.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )


def _hubspot_values(sandbox: HubSpotSandbox) -> dict[str, str]:
    contact = sorted(sandbox.record_keys())[0].split(":", 1)[1]
    return {
        "objectType": "contacts",
        "contactId": contact,
        "groupName": "contactinformation",
        "propertyName": "email",
    }


def _mailchimp_client(sandbox: MailchimpSandbox) -> httpx.Client:
    key = base64.b64encode(f"anyone:{sandbox.token}".encode()).decode()
    return httpx.Client(
        transport=sandbox.transport(),
        base_url=f"https://{sandbox.dc}.api.mailchimp.com",
        headers={"Authorization": f"Basic {key}"},
    )


def _mailchimp_values(sandbox: MailchimpSandbox) -> dict[str, str]:
    return {"list_id": sandbox.list_id, "subscriber_hash": sorted(sandbox.members)[0]}


HUBSPOT = Vendor(
    specs=("hubspot-crm-contacts-v3.json.gz", "hubspot-crm-properties-v3.json.gz"),
    prefixes=("/crm/v3/objects/contacts", "/crm/v3/properties/{objectType}"),
    base="",
    make=lambda: HubSpotSandbox(
        people=3, seed=2, rate_limit_per_10s=10_000, search_requests_per_second=1_000
    ),
    client=_hubspot_client,
    values=_hubspot_values,
    served=_pairs(
        "GET /crm/v3/objects/contacts",
        "POST /crm/v3/objects/contacts",
        "POST /crm/v3/objects/contacts/search",
        "POST /crm/v3/objects/contacts/batch/upsert",
        "POST /crm/v3/objects/contacts/batch/read",
        "POST /crm/v3/objects/contacts/gdpr-delete",
        "GET /crm/v3/objects/contacts/{contactId}",
        "PATCH /crm/v3/objects/contacts/{contactId}",
        "DELETE /crm/v3/objects/contacts/{contactId}",
        "GET /crm/v3/properties/{objectType}",
        "POST /crm/v3/properties/{objectType}/batch/create",
        "GET /crm/v3/properties/{objectType}/groups",
        "GET /crm/v3/properties/{objectType}/{propertyName}",
    ),
)

MAILCHIMP = Vendor(
    specs=("mailchimp-marketing-3.0.55.json.gz",),
    prefixes=("/ping", "/lists"),
    base="/3.0",
    make=lambda: MailchimpSandbox(people=3, seed=2),
    client=_mailchimp_client,
    values=_mailchimp_values,
    served=_pairs(
        "GET /ping",
        "GET /lists",
        "GET /lists/{list_id}",
        "POST /lists/{list_id}",
        "GET /lists/{list_id}/members",
        "POST /lists/{list_id}/members",
        "GET /lists/{list_id}/members/{subscriber_hash}",
        "PUT /lists/{list_id}/members/{subscriber_hash}",
        "PATCH /lists/{list_id}/members/{subscriber_hash}",
        "DELETE /lists/{list_id}/members/{subscriber_hash}",
        "POST /lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent",
        "GET /lists/{list_id}/merge-fields",
        "POST /lists/{list_id}/merge-fields",
    ),
)


def _templates(vendor: Vendor) -> Iterator[tuple[OpenApiSpec, str]]:
    for name in vendor.specs:
        spec = OpenApiSpec.load(name)
        for template in spec.document["paths"]:
            if any(template == p or template.startswith(p + "/") for p in vendor.prefixes):
                yield spec, template


def _answers(vendor: Vendor, template: str) -> dict[str, httpx.Response]:
    """Each method's answer to ``template``, on a sandbox of its own."""
    sandbox: Any = vendor.make()
    values = vendor.values(sandbox)
    path = vendor.base + _PLACEHOLDER.sub(lambda m: values.get(m.group(1), "1"), template)
    answers = {}
    with vendor.client(sandbox) as client:
        for method in METHODS:  # DELETE last: nothing after it asks for what it removed
            body = None if method in ("GET", "DELETE") else {}
            answers[method] = client.request(method, path, json=body)
    return answers


@pytest.mark.parametrize("vendor", [HUBSPOT, MAILCHIMP], ids=["hubspot", "mailchimp"])
def test_the_sandbox_routes_only_what_the_vendor_documents(vendor: Vendor) -> None:
    served: set[tuple[str, str]] = set()
    problems: list[str] = []
    for spec, template in _templates(vendor):
        documented = {m.upper() for m in spec.document["paths"][template]}
        answers = _answers(vendor, template)
        here = {m for m, r in answers.items() if r.status_code not in (404, 405)}
        served |= {(m, template) for m in here}
        for method, response in answers.items():
            status = response.status_code
            if method in here and method not in documented:
                problems.append(
                    f"{method} {template}: served ({status}), but the vendor has no such operation"
                )
            if here and method not in here and status != 405:
                problems.append(f"{method} {template}: {status} on a path the sandbox serves (405 expected)")
            if status == 405 and method in documented:
                try:
                    spec.validate_httpx(response.request, response, check_request=False)
                except SpecViolation as violation:
                    problems.append(f"{method} {template}: the 405 is not the vendor's error: {violation}")
    assert problems == [], "\n".join(problems)
    assert vendor.served <= served, sorted(vendor.served - served)
