"""Pushing enriched profiles: batch upserts by email, per-record errors, custom properties created once."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx

from connectors._http import RetryPolicy
from connectors.hubspot import HubSpotConnector, HubSpotSandbox, contact_to_draft
from connectors.hubspot._connector import batch_outcomes
from core.connector import Payload
from profilesync.testing.specs import OpenApiSpec

from .conftest import CONTACTS_SPEC, SpecChecked, connect

UPSERT = "POST /crm/v3/objects/contacts/batch/upsert"
SETUP = (
    "GET /crm/v3/properties/contacts",
    "GET /crm/v3/properties/contacts/groups/profilesync",
    "POST /crm/v3/properties/contacts/groups",
    "POST /crm/v3/properties/contacts/batch/create",
)


def _payload(n: int, email: str | None = None, **traits: str) -> Payload:
    properties = {
        "profilesync_customer_id": f"cus_{n}",
        "profilesync_lifetime_value": traits.get("ltv", f"{n}.50"),
        "profilesync_lifetime_value_currency": "GBP",
        "profilesync_order_count": str(n % 7),
        "profilesync_average_order_value": "10.25",
        "profilesync_last_order_at": "2026-03-04",
        "profilesync_segment": "customer",
    }
    return Payload(
        f"cus_{n}", email or f"push{n}@example.com", {"idProperty": "email", "properties": properties}
    )


def test_payloads_are_upserted_in_batches_of_100_with_one_outcome_each(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN 250 payloads, the last for a contact HubSpot already holds
    contact = next(r for page in hubspot.pull(None) for r in page.records if r["properties"].get("email"))
    email = contact["properties"]["email"]
    checked.exchanges.clear()
    payloads = [_payload(n) for n in range(249)] + [_payload(999, email)]
    # WHEN pushed in one call
    outcomes = hubspot.push(payloads)
    # THEN HubSpot got three upserts of at most 100, and every payload has its outcome, in order
    upserts = [json.loads(r.content) for r, _ in checked.exchanges if f"{r.method} {r.url.path}" == UPSERT]
    assert [len(u["inputs"]) for u in upserts] == [100, 100, 50]
    assert [o.customer_id for o in outcomes] == [p.customer_id for p in payloads]
    assert all(o.ok and o.remote_id and o.remote_id.isdigit() for o in outcomes)
    # AND the existing contact was updated, not duplicated; the new ones were created
    assert outcomes[-1].remote_id == contact["id"]
    assert sandbox.pushed_traits("push7@example.com")["customer_id"] == "cus_7"
    assert sandbox.pushed_traits(email)["lifetime_value"] == "999.50"


def test_custom_properties_are_created_once_per_connector(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN an account without the profilesync properties
    # WHEN two pushes run on one connector
    hubspot.push([_payload(1)])
    hubspot.push([_payload(2)])
    # THEN the group and the seven properties were created before the first upsert, and never again
    assert checked.routes() == [*SETUP, UPSERT, UPSERT]
    created = json.loads(checked.exchanges[3][0].content)["inputs"]
    assert {p["groupName"] for p in created} == {"profilesync"}
    assert len(created) == 7
    # AND a new connector only checks (one GET) before pushing
    checked.exchanges.clear()
    with connect(sandbox, checked) as fresh:
        fresh.push([_payload(3)])
    assert checked.routes() == ["GET /crm/v3/properties/contacts", UPSERT]


def test_pushing_before_the_properties_exist_is_refused_by_hubspot(
    sandbox: HubSpotSandbox, checked: SpecChecked
) -> None:
    # GIVEN HubSpot's rule that an upsert naming an unknown property fails as a whole (a 400)
    body = {
        "inputs": [
            {"id": "a@example.com", "idProperty": "email", "properties": {"profilesync_segment": "vip"}}
        ]
    }
    with httpx.Client(transport=checked.transport(), base_url="https://api.hubapi.com") as client:
        response = client.post(
            "/crm/v3/objects/contacts/batch/upsert",
            json=body,
            headers={"Authorization": f"Bearer {sandbox.token}"},
        )
    # THEN the sandbox answers so too, naming the property
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"


def test_a_bad_record_fails_alone_with_hubspots_message(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN a batch with one email HubSpot rejects
    payloads = [_payload(1), _payload(2, "not an email"), _payload(3)]
    # WHEN pushed
    outcomes = hubspot.push(payloads)
    # THEN HubSpot answered 207 Multi-Status, and only that record failed, for good, with its message
    assert [response.status_code for _, response in checked.exchanges][-1] == 207
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].retryable is False
    assert "Email address not an email is invalid" in (outcomes[1].error or "")
    assert sandbox.holds("push3@example.com")


def test_a_whole_batch_rejection_naming_a_record_fails_that_record_and_resends_the_rest(
    sandbox: HubSpotSandbox,
) -> None:
    # GIVEN a HubSpot that rejects a whole batch with a 400 naming one input's email
    sent: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/batch/upsert"):
            ids = [i["id"] for i in json.loads(request.content)["inputs"]]
            sent.append(ids)
            if "push2@example.com" in ids:
                return httpx.Response(
                    400,
                    json={
                        "status": "error",
                        "message": "Property values were not valid: push2@example.com has a blocked domain",
                        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
                        "category": "VALIDATION_ERROR",
                    },
                )
        return sandbox.handle(request)

    settings = dataclasses.replace(
        sandbox.settings(transport=False),
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(sleep=lambda _: None),
    )
    # WHEN a batch of three is pushed
    with HubSpotConnector(settings) as hubspot:
        outcomes = hubspot.push([_payload(1), _payload(2), _payload(3)])
    # THEN the named record fails for good and the other two are sent again, once
    assert sent == [
        ["push1@example.com", "push2@example.com", "push3@example.com"],
        ["push1@example.com", "push3@example.com"],
    ]
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].retryable is False
    assert "blocked domain" in (outcomes[1].error or "")


def test_batch_answers_are_matched_to_inputs_and_classified() -> None:
    # GIVEN a 207 answer (valid per HubSpot's spec) with a validation error, a rate-limit error, a
    # success, and one input it does not mention
    answer: dict[str, Any] = {
        "status": "COMPLETE",
        "startedAt": "2026-11-20T12:00:00.000Z",
        "completedAt": "2026-11-20T12:00:01.000Z",
        "numErrors": 2,
        "results": [
            {
                "id": "901",
                "properties": {"email": "ok@example.com"},
                "createdAt": "2026-11-20T12:00:00.000Z",
                "updatedAt": "2026-11-20T12:00:00.000Z",
                "archived": False,
                "new": True,
            }
        ],
        "errors": [
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "12.x was not a valid number.",
                "context": {"ids": ["Bad@Example.com"]},
                "errors": [],
                "links": {},
            },
            {
                "status": "error",
                "category": "RATE_LIMITS",
                "message": "Too many writes to slow@example.com",
                "context": {},
                "errors": [],
                "links": {},
            },
        ],
    }
    OpenApiSpec.load(CONTACTS_SPEC).validate_response(
        "POST", "/crm/v3/objects/contacts/batch/upsert", 207, answer
    )
    batch = [
        _payload(1, "ok@example.com"),
        _payload(2, "bad@example.com"),
        _payload(3, "slow@example.com"),
        _payload(4, "lost@example.com"),
    ]
    # WHEN matched
    ok, bad, slow, lost = batch_outcomes(batch, answer)
    # THEN each input gets its own outcome, retryable only where sending again can help
    assert ok.ok
    assert ok.remote_id == "901"
    assert not bad.ok
    assert not bad.retryable
    assert bad.error == "HubSpot VALIDATION_ERROR: 12.x was not a valid number."
    assert not slow.ok
    assert slow.retryable
    assert not lost.ok
    assert lost.retryable


def test_two_payloads_for_one_email_never_share_a_batch(
    checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN two payloads matching the same contact (HubSpot refuses a batch naming an id twice)
    outcomes = hubspot.push([_payload(1, "same@example.com"), _payload(2), _payload(3, "Same@Example.com")])
    # THEN they went in separate upserts, and all succeeded
    upserts = [
        json.loads(r.content)["inputs"] for r, _ in checked.exchanges if r.url.path.endswith("/batch/upsert")
    ]
    assert [[i["id"] for i in u] for u in upserts] == [
        ["same@example.com", "push2@example.com"],
        ["Same@Example.com"],
    ]
    assert all(o.ok for o in outcomes)


def test_the_echo_of_a_push_maps_to_the_same_person(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull, then a push of new enriched traits to every contact with an email
    first = [r for p in hubspot.pull(None) for r in p.records]
    cursor = list(hubspot.pull(None))[-1].cursor
    emailed = [c for c in first if c["properties"].get("email")]
    hubspot.push([_payload(n, c["properties"]["email"]) for n, c in enumerate(emailed)])
    # WHEN the next incremental pull brings the pushed contacts back (their lastmodifieddate moved)
    echo = [r for p in hubspot.pull(cursor) for r in p.records]
    # THEN they map to exactly what they mapped to before, apart from the times
    assert {c["id"] for c in echo} == {c["id"] for c in emailed}

    def content(contact: dict[str, Any]) -> dict[str, Any]:
        draft = contact_to_draft(contact).model_dump(exclude={"raw", "updated_at"})
        if "email" in draft["consent"]:
            draft["consent"]["email"].pop("changed_at")
        return draft

    old = {c["id"]: content(c) for c in emailed}
    assert {c["id"]: content(c) for c in echo} == old
